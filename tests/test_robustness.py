"""Hardening: interrupted fits, persistence, reproducibility and extreme inputs."""

import pickle
import warnings
from dataclasses import replace
from pathlib import Path

import joblib
import numpy as np
import pytest
from joblib import parallel_backend
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.utils.validation import check_is_fitted

from sklearn_dsm import DenoisingAutoencoder, ScoreMatchingEBM, _adam, _objectives

DATA = Path(__file__).parent / "data"
METHODS = ("transform", "denoise", "score_function", "score_samples", "energy")


def _interrupt_after(monkeypatch, n_calls):
    """Make the objectives raise KeyboardInterrupt on their n_calls-th
    evaluation (counted over all of them), as Ctrl-C would in the middle of
    an evaluation."""
    calls = []

    def interrupting(real):
        def interrupted(*args, **kwargs):
            calls.append(1)
            if len(calls) == n_calls:
                raise KeyboardInterrupt
            return real(*args, **kwargs)

        return interrupted

    for name, objective in list(_objectives.OBJECTIVES.items()):
        patched = replace(objective, optimised=interrupting(objective.optimised))
        monkeypatch.setitem(_objectives.OBJECTIVES, name, patched)


def test_interrupted_fit_keeps_the_last_completed_iterate(
    moons, small, monkeypatch, Estimator
):
    est = small(Estimator, max_iter=200, tol=0.0)
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
        reference = small(Estimator, max_iter=k, tol=0.0).fit(moons)
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
        assert "log_partition_" not in vars(est)
        with pytest.raises(NotFittedError):
            est.score_samples(moons)

    # warm_start continues from the kept iterate and lowers the objective.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_params(warm_start=True, max_iter=20).fit(moons)
    check_is_fitted(est)
    assert est.loss_ < reference.loss_


def test_interrupt_before_any_iteration_leaves_the_estimator_as_it_was(
    moons, small, monkeypatch, Estimator
):
    est = small(Estimator, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(moons)  # a previous fit that must survive, whole
    state = {k: v for k, v in vars(est).items() if k.endswith("_")}
    _interrupt_after(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        est.fit(moons[:, ::-1].copy())
    assert {k for k in vars(est) if k.endswith("_")} == set(state)
    for name, value in state.items():
        assert getattr(est, name) is value


def test_an_interrupted_refit_drops_the_previous_fits_log_partition(
    moons, small, monkeypatch
):
    """Interrupting a refit must not leave the old fit's log Z beside the new
    parameters."""
    est = small(ScoreMatchingEBM, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(moons)
    _interrupt_after(monkeypatch, 8)
    with pytest.warns(UserWarning, match="interrupted"):
        with pytest.raises(KeyboardInterrupt):
            est.set_params(max_iter=50).fit(moons)
    assert not hasattr(est, "log_partition_")
    assert not hasattr(est, "far_mass_")


def test_ctrl_c_in_the_estimate_after_the_likelihood_steps_leaves_no_stale_log_z(
    moons, small, monkeypatch
):
    """The likelihood refinement changes theta after the first log Z; Ctrl-C
    in the estimate that follows must not leave that first one beside the
    refined parameters (the estimator then holds them, unnormalised)."""
    from sklearn_dsm import _density

    real, calls = _density.anneal, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the estimate after the likelihood steps
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(_density, "anneal", interrupted)
    est = small(ScoreMatchingEBM, max_iter=20, mle_steps=3, alpha="auto", tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(KeyboardInterrupt):
            est.fit(moons)
    assert len(calls) == 2 and hasattr(est, "components_")
    assert not hasattr(est, "log_partition_") and not hasattr(est, "far_mass_")
    with pytest.raises(NotFittedError):
        est.score_samples(moons)


def test_pickle_and_clone(moons, small, Estimator):
    est = small(Estimator, max_iter=20, fast_ais=False).fit(moons)
    restored = pickle.loads(pickle.dumps(est))
    for method in ("transform", "denoise", "score_function", "score_samples"):
        np.testing.assert_array_equal(
            getattr(restored, method)(moons), getattr(est, method)(moons)
        )
    fresh = clone(est)
    assert fresh.get_params() == est.get_params()
    assert not hasattr(fresh, "components_")


@pytest.mark.parametrize("via", ["pickle", "joblib"])
def test_pickle_and_joblib_round_trips_give_identical_outputs(
    moons, small, tmp_path, Estimator, via
):
    est = small(Estimator, max_iter=20).fit(moons)
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


def test_huge_values_and_constant_columns_do_not_overflow(small, Estimator):
    """Rows around +-1e6 and a constant column, with overflow, invalid
    operations and division by zero raised: fitting and every method stay
    finite, in float64 and float32. Underflow is not raised: at this scale the
    fit drives W towards zero, and float32 products of such weights round to
    zero or a subnormal, correctly (as test_properties.py allows)."""
    rng = np.random.RandomState(0)
    X = np.column_stack(
        [
            1e6 * rng.choice([-1.0, 1.0], 60) + rng.normal(size=60),
            np.full(60, 3.0),  # constant column
            1e6 * rng.normal(size=60),
        ]
    )
    for dtype in (np.float64, np.float32):
        Xd = X.astype(dtype)
        est = small(Estimator, sigma=1e5, max_iter=20)
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # convergence/reliability notes
                est.fit(Xd)
            outputs = {m: getattr(est, m)(Xd) for m in METHODS}
            outputs["sample"] = est.sample(5, random_state=0)
            outputs["inverse_transform"] = est.inverse_transform(outputs["transform"])
        for name, out in outputs.items():
            assert out.dtype == dtype, name
            assert np.all(np.isfinite(out)), name


def test_a_saved_model_loads_and_predicts_the_same():
    """tests/data holds a DenoisingAutoencoder and a ScoreMatchingEBM saved by
    sklearn-dsm 0.1.0 (tests/data/make_saved_models.py), with their outputs."""
    expected = np.load(DATA / "saved_models_outputs.npz")
    X = expected["X"]
    for name in ("dae", "ebm"):
        with warnings.catch_warnings():
            # A newer scikit-learn warns that the pickle is from an older one.
            warnings.simplefilter("ignore", UserWarning)
            model = joblib.load(DATA / f"{name}_0.1.0.joblib")
        if name == "ebm":  # saved before the tail component: without it
            assert model.tail is None
        for method in METHODS:
            np.testing.assert_allclose(
                getattr(model, method)(X),
                expected[f"{name}_{method}"],
                rtol=1e-12,
                atol=1e-12,
                err_msg=f"{name}.{method}",
            )


def test_same_random_state_gives_bit_identical_fits_across_n_jobs(moons, small):
    """The fits inside GridSearchCV do not depend on the number of workers.

    Bit-identical needs the same BLAS arithmetic in every worker: on moons
    (d = 2, H = 8) every product is below OpenBLAS's threading threshold. On
    larger data the BLAS thread count (2 in this process, 1 in each loky
    worker) changes the last bits of a product, and L-BFGS carries them on.
    The fits then agree to rounding (see the closing note of issue 6)."""
    grid = {"sigma": [0.2, 0.4]}
    searches = []
    for n_jobs in (1, 2):
        est = small(DenoisingAutoencoder, max_iter=30)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            searches.append(GridSearchCV(est, grid, cv=3, n_jobs=n_jobs).fit(moons))
    one, two = searches
    np.testing.assert_array_equal(
        one.cv_results_["mean_test_score"], two.cv_results_["mean_test_score"]
    )
    assert one.best_params_ == two.best_params_
    for attr in ("components_", "intercept_hidden_", "intercept_visible_"):
        np.testing.assert_array_equal(
            getattr(one.best_estimator_, attr), getattr(two.best_estimator_, attr)
        )
    # And a refit by hand, in this process, is the same fit again.
    again = clone(one.best_estimator_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        again.fit(moons)
    np.testing.assert_array_equal(again.components_, one.best_estimator_.components_)


@pytest.mark.slow
def test_grid_search_is_bit_identical_across_worker_counts_on_digits():
    """On digits the products are large enough for OpenBLAS to thread them,
    so the arithmetic depends on the BLAS thread count. joblib gives every
    worker process max(1, cores // n_jobs) BLAS threads unless told otherwise;
    told one, n_jobs=2 and n_jobs=3 agree bit for bit after 60 iterations
    that would amplify any difference. (n_jobs=1 runs in
    this process with every core's thread, and agrees only to rounding
    amplified by L-BFGS: see test_same_random_state_gives_bit_identical_fits.)"""
    from sklearn.datasets import load_digits

    X = (load_digits().data[:900] / 16).astype(np.float32)
    grid = {"sigma": [0.1, 0.2, 0.4]}
    est = DenoisingAutoencoder(32, max_iter=60, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # Stated, not left to the core count: one BLAS thread per worker.
        with parallel_backend("loky", inner_max_num_threads=1):
            two = GridSearchCV(est, grid, cv=3, n_jobs=2).fit(X)
            three = GridSearchCV(est, grid, cv=3, n_jobs=3).fit(X)
    np.testing.assert_array_equal(
        two.cv_results_["mean_test_score"], three.cv_results_["mean_test_score"]
    )
    np.testing.assert_array_equal(
        two.best_estimator_.components_, three.best_estimator_.components_
    )


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_a_failed_refit_on_other_features_leaves_the_estimator_as_it_was(
    moons, small, monkeypatch, solver
):
    """An error or Ctrl-C before a whole new iterate exists (here in the ESM
    target, before L-BFGS or Adam starts) leaves the previous fit whole, its
    n_features_in_ included; a first fit so interrupted leaves nothing."""
    from sklearn_dsm import _objectives

    est = small(DenoisingAutoencoder, objective="esm", solver=solver, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(moons)
    before = est.transform(moons)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_objectives, "parzen_posterior_mean", interrupted)
    wider = np.column_stack([moons, moons[:, :1]])
    with pytest.raises(KeyboardInterrupt):
        est.fit(wider)
    assert est.n_features_in_ == 2
    np.testing.assert_array_equal(est.transform(moons), before)
    fresh = small(DenoisingAutoencoder, objective="esm", solver=solver)
    with pytest.raises(KeyboardInterrupt):
        fresh.fit(wider)
    assert not [k for k in vars(fresh) if k.endswith("_") and not k.startswith("_")]
    with pytest.raises(NotFittedError):
        fresh.transform(wider)


def test_an_interrupted_adam_fit_keeps_the_last_whole_epoch(moons, small, monkeypatch):
    def fit(max_iter):
        est = small(
            DenoisingAutoencoder,
            solver="adam",
            n_iter_no_change=1000,
            max_iter=max_iter,
            learning_rate_init=0.01,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return est.fit(moons)

    reference = fit(3)
    real, calls = _adam.adam_epoch, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:  # in the middle of the fourth epoch
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(_adam, "adam_epoch", interrupted)
    est = small(
        DenoisingAutoencoder,
        solver="adam",
        n_iter_no_change=1000,
        max_iter=10,
        learning_rate_init=0.01,
    )
    with pytest.warns(UserWarning, match="interrupted after 3 Adam epochs"):
        with pytest.raises(KeyboardInterrupt):
            est.fit(moons)
    assert est.n_iter_ == 3 and len(est.loss_curve_) == 3
    np.testing.assert_array_equal(est.components_, reference.components_)


def test_a_warm_fit_interrupted_before_its_first_iteration_keeps_the_model(
    moons, monkeypatch
):
    est = DenoisingAutoencoder(4, sigma=0.3, max_iter=20, tol=0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(moons)
    W = est.components_.copy()
    _interrupt_after(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        est.set_params(warm_start=True).fit(moons)
    check_is_fitted(est)
    np.testing.assert_array_equal(est.components_, W)


def test_ctrl_c_stays_a_keyboard_interrupt_when_warnings_are_errors(moons, monkeypatch):
    _interrupt_after(monkeypatch, 5)
    est = DenoisingAutoencoder(4, sigma=0.3, tol=0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(KeyboardInterrupt):
            est.fit(moons)


def test_a_fit_that_fails_validation_changes_nothing(moons):
    import pandas as pd  # in the test extra

    est = DenoisingAutoencoder(3, sigma=0.3, random_state=0)
    first = pd.DataFrame(moons, columns=["a", "b"])
    est.fit(first)
    state = {k: v for k, v in vars(est).items() if k.endswith("_")}
    bad = pd.DataFrame(moons, columns=["c", "d"])
    bad.iloc[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.fit(bad)
    assert list(est.feature_names_in_) == ["a", "b"]
    for name, value in state.items():
        np.testing.assert_array_equal(getattr(est, name), value)
    est.transform(first)  # still the first fit, whole
