"""Size-dependent defaults: solver="auto", learning_rate_init="auto" and the
minibatch n_corruptions, checked through the public API (no timing)."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_dsm import DenoisingAutoencoder, ScoreMatchingEBM


def _fit(X, **params):
    est = DenoisingAutoencoder(n_components=3, sigma=0.3, random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X)


def _same_model(a, b):
    for name in ("components_", "intercept_hidden_", "intercept_visible_"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


@pytest.mark.parametrize("n_rows, solver", [(9_999, "lbfgs"), (10_000, "adam")])
def test_solver_auto_switches_to_minibatch_adam_at_ten_thousand_rows(n_rows, solver):
    X = np.random.RandomState(0).normal(size=(n_rows, 2))
    auto = _fit(X, max_iter=2)
    assert auto.solver_ == solver
    # The same model as the solver named explicitly, bit for bit.
    _same_model(auto, _fit(X, max_iter=2, solver=solver))


def test_an_explicit_solver_is_used_at_any_size():
    X = np.random.RandomState(0).normal(size=(10_000, 2))
    assert _fit(X, max_iter=2, solver="lbfgs").solver_ == "lbfgs"
    small = np.random.RandomState(0).normal(size=(50, 2))
    assert _fit(small, max_iter=2, solver="adam").solver_ == "adam"
    assert ScoreMatchingEBM(solver="adam").get_params()["solver"] == "adam"


def test_partial_fit_reports_adam():
    X = np.random.RandomState(0).normal(size=(50, 2))
    est = DenoisingAutoencoder(n_components=3, sigma=0.3, random_state=0)
    assert est.partial_fit(X).solver_ == "adam"


@pytest.mark.parametrize("n_features, step", [(8, 1e-2), (64, 1e-2), (128, 5e-3)])
def test_learning_rate_auto_is_1e_2_scaled_down_above_64_features(n_features, step):
    X = np.random.RandomState(0).normal(size=(60, n_features))
    params = dict(solver="adam", max_iter=3, batch_size=20)
    _same_model(_fit(X, **params), _fit(X, learning_rate_init=step, **params))
    # ... and the step is what moves the model: another step, another model.
    other = _fit(X, learning_rate_init=2 * step, **params)
    assert not np.array_equal(other.components_, _fit(X, **params).components_)


def test_adam_draws_one_noisy_copy_per_row_and_batch_by_default():
    X = np.random.RandomState(0).normal(size=(60, 2))
    params = dict(solver="adam", max_iter=3, batch_size=20)
    auto = _fit(X, **params)
    _same_model(auto, _fit(X, n_corruptions=1, **params))
    three = _fit(X, n_corruptions=3, **params)
    assert not np.array_equal(three.components_, auto.components_)


def test_lbfgs_keeps_three_noisy_copies_by_default():
    X = np.random.RandomState(0).normal(size=(60, 2))
    _same_model(_fit(X, max_iter=3), _fit(X, max_iter=3, n_corruptions=3))
