"""Fixtures shared by the tests: the data sets, the two estimators, small models.

Tests that take more than about 2 s each are marked ``slow``: CI runs them all,
``pytest -m "not slow"`` skips them for a quick run.

Every test keeps the exact data its tolerances were calibrated on: ``moons`` is
the most common set (150 rows, noise 0.08); ``make_moons_std(n, noise)`` gives
the other sizes, each made once per session. The arrays are shared across
tests, so they are read-only: a test that needs to change one takes a copy.
"""

from functools import cache

import numpy as np
import pytest
from sklearn.datasets import make_moons
from sklearn.preprocessing import StandardScaler

from sklearn_dsm import DenoisingAutoencoder, ScoreMatchingEBM
from sklearn_dsm._objectives import corrupt, dsm_objective


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "slow: takes more than about 2 s; deselect with -m 'not slow'",
    )


@cache
def _moons_std(n_samples, noise):
    X, _ = make_moons(n_samples, noise=noise, random_state=0)
    X = StandardScaler().fit_transform(X)
    X.setflags(write=False)
    return X


@pytest.fixture(scope="session")
def make_moons_std():
    """``make_moons_std(n, noise)``: StandardScaler-ed ``make_moons(n,
    noise=noise, random_state=0)``, read-only, made once per session."""
    return _moons_std


@pytest.fixture(scope="session")
def moons(make_moons_std):
    """150 rows of two moons, noise 0.08, standardised: the usual data."""
    return make_moons_std(150, 0.08)


@pytest.fixture(params=[DenoisingAutoencoder, ScoreMatchingEBM], ids=["dae", "ebm"])
def Estimator(request):
    """Each estimator class in turn: for behaviour both share."""
    return request.param


@pytest.fixture(scope="session")
def small():
    """``small(Estimator, **params)``: a small model that fits in a blink.

    Defaults: ``n_components=8, sigma=0.3, n_corruptions=3, random_state=0``,
    ``whiten=False`` (the model in the input's coordinates, where the tests
    check its closed forms; test_scaling.py checks the whitened ones), and for
    the EBM a cheap log Z (``n_ais_chains=32, n_ais_steps=200``) and the
    noisy criterion ``objective="dsm"`` that the autoencoder fits too, so that
    the two faces fit one objective here (the EBM's own default, ``"ism"`` on
    the clean rows, is checked by test_defaults.py and test_common.py).
    ``activation="sigmoid"`` for every estimator: the paper's model, which is
    a density whatever its weights, so that the density oracles here apply to
    the autoencoder too (test_activations.py runs the ReLU, the
    autoencoder's default, through the same closed forms).
    ``fast_ais=False`` keeps the EBM's own AIS defaults (256 chains, 250
    steps), which some tests' tolerances were calibrated on.
    """

    def make(Estimator, *, fast_ais=True, **params):
        defaults = dict(
            n_components=8,
            activation="sigmoid",
            sigma=0.3,
            n_corruptions=3,
            random_state=0,
            whiten=False,
        )
        if fast_ais and Estimator is ScoreMatchingEBM:
            defaults.update(n_ais_chains=32, n_ais_steps=200)
        if Estimator is ScoreMatchingEBM:
            defaults.update(objective="dsm")
        return Estimator(**{**defaults, **params})

    return make


@pytest.fixture(scope="session")
def adam_dae():
    """``adam_dae(**params)``: a DenoisingAutoencoder trained by minibatch Adam.

    Defaults: 8 sigmoid units (so that every objective, ``"ism"`` included,
    applies), ``sigma=0.3``, ``alpha=0.1``, objective ``"dsm"``,
    learning rate 0.01, batches of 64, 4 corruptions, ``random_state=0``, and
    no stopping on a stalled loss (``n_iter_no_change=10**6``).
    """

    def make(**params):
        defaults = dict(
            n_components=8,
            activation="sigmoid",
            sigma=0.3,
            alpha=0.1,
            objective="dsm",
            solver="adam",
            learning_rate_init=0.01,
            batch_size=64,
            n_corruptions=4,
            n_iter_no_change=10**6,
            random_state=0,
        )
        return DenoisingAutoencoder(**{**defaults, **params})

    return make


@pytest.fixture(scope="session")
def expected_objective():
    """``expected_objective(est, X, sigma=0.3, alpha=0.1)``: J_DSM plus the
    penalty with the expectation over the noise taken by 200 fresh draws per
    row, the same draws for every model compared (how Adam, which sees fresh
    noise, is measured against L-BFGS, which sees fixed copies)."""

    def value(est, X, sigma=0.3, alpha=0.1, n_draws=200):
        X_noisy = corrupt(X, sigma, n_draws, np.random.RandomState(123))
        W = est.components_
        J = dsm_objective(
            W,
            est.intercept_hidden_,
            est.intercept_visible_,
            X_noisy,
            X,
            sigma,
            activation=est.activation,
        )[0]
        return J + 0.5 * alpha * float(np.vdot(W, W))

    return value
