"""Hardening: interrupted fits, persistence, reproducibility and extreme inputs."""

import pickle
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_moons
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from sklearn_dsm import DenoisingAutoencoder, ScoreMatchingEBM, _base

ESTIMATORS = [DenoisingAutoencoder, ScoreMatchingEBM]
DATA = Path(__file__).parent / "data"
METHODS = ("transform", "denoise", "score_function", "score_samples", "energy")


@pytest.fixture(scope="module")
def moons():
    X, _ = make_moons(150, noise=0.08, random_state=0)
    return StandardScaler().fit_transform(X)


def _small(Estimator, **params):
    defaults = dict(n_components=8, sigma=0.3, n_corruptions=3, random_state=0)
    if Estimator is ScoreMatchingEBM:
        defaults.update(n_ais_chains=32, n_ais_steps=200)
    return Estimator(**{**defaults, **params})


def _interrupt_after(monkeypatch, n_calls):
    """Make the objective raise KeyboardInterrupt on its n_calls-th evaluation,
    as Ctrl-C would in the middle of an evaluation."""
    real = _base.OBJECTIVE_FUNCTIONS["dsm"]
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == n_calls:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setitem(_base.OBJECTIVE_FUNCTIONS, "dsm", interrupted)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_interrupted_fit_keeps_the_last_completed_iterate(
    moons, monkeypatch, Estimator
):
    est = _small(Estimator, max_iter=200, tol=0.0)
    _interrupt_after(monkeypatch, 15)
    with pytest.warns(UserWarning, match="interrupted after"):
        with pytest.raises(KeyboardInterrupt):
            est.fit(moons)
    k = est.n_iter_
    assert 5 <= k < 15 and len(est.loss_curve_) == k
    monkeypatch.undo()

    # The kept parameters are exactly L-BFGS's k-th iterate: a fit stopped
    # by max_iter = k (same noise, same start) has the same parameters.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = _small(Estimator, max_iter=k, tol=0.0).fit(moons)
    np.testing.assert_array_equal(est.components_, reference.components_)
    np.testing.assert_array_equal(est.intercept_visible_, reference.intercept_visible_)
    assert est.loss_ == reference.loss_

    if Estimator is DenoisingAutoencoder:
        # A whole model: every method works and agrees with the reference.
        for method in METHODS:
            np.testing.assert_array_equal(
                getattr(est, method)(moons), getattr(reference, method)(moons)
            )
    else:
        # No log Z was estimated: the EBM is not fitted, and says so.
        assert not hasattr(est, "log_partition_")
        with pytest.raises(NotFittedError):
            est.score_samples(moons)

    # warm_start continues from the kept iterate and lowers the objective.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_params(warm_start=True, max_iter=20).fit(moons)
    check_is_fitted(est)
    assert est.loss_ < reference.loss_


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_interrupt_before_any_iteration_leaves_the_estimator_unfitted(
    moons, monkeypatch, Estimator
):
    est = _small(Estimator, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(moons)  # a previous fit that must not survive half-overwritten
    _interrupt_after(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        est.fit(moons[:, ::-1].copy())
    assert not any(k.endswith("_") and not k.startswith("_") for k in vars(est))
    with pytest.raises(NotFittedError):
        est.transform(moons)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_an_interrupted_refit_drops_the_previous_fits_log_partition(
    moons, monkeypatch, Estimator
):
    """Interrupting a refit must not leave the old fit's log Z beside the new
    parameters."""
    est = _small(Estimator, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(moons)
    _interrupt_after(monkeypatch, 8)
    with pytest.warns(UserWarning, match="interrupted"):
        with pytest.raises(KeyboardInterrupt):
            est.set_params(max_iter=50).fit(moons)
    assert not hasattr(est, "log_partition_")
    assert not hasattr(est, "far_mass_")


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("via", ["pickle", "joblib"])
def test_pickle_and_joblib_round_trips_give_identical_outputs(
    moons, tmp_path, Estimator, via
):
    est = _small(Estimator, max_iter=20).fit(moons)
    if via == "joblib":
        joblib.dump(est, tmp_path / "model.joblib")
        restored = joblib.load(tmp_path / "model.joblib")
    else:
        restored = pickle.loads(pickle.dumps(est))
    for method in METHODS:
        np.testing.assert_array_equal(
            getattr(restored, method)(moons), getattr(est, method)(moons)
        )
    np.testing.assert_array_equal(
        restored.sample(5, random_state=0), est.sample(5, random_state=0)
    )
