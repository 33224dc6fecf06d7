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


@pytest.mark.parametrize(
    "n_rows, n_features, solver",
    [
        (9_999, 64, "lbfgs"),
        (10_000, 64, "adam"),
        (4_999, 128, "lbfgs"),  # 640,000 numbers from 5,000 rows of 128
        (5_000, 128, "adam"),
        (2_999, 784, "lbfgs"),  # ... but never below 3,000 rows
        (3_000, 784, "adam"),
    ],
)
def test_solver_auto_picks_adam_from_fewer_rows_when_they_are_wide(
    n_rows, n_features, solver
):
    X = np.random.RandomState(0).normal(size=(n_rows, n_features))
    assert _fit(X, max_iter=1).solver_ == solver


@pytest.mark.parametrize(
    "n_rows, tol, window",
    [(9_999, "0.0001", 10), (10_000, "0.01", 2)],  # 50 steps per epoch
)
def test_adam_stops_by_a_looser_rule_where_auto_picks_it(n_rows, tol, window):
    """tol=None and n_iter_no_change="auto": on data large enough for
    solver="auto" to pick Adam, 1% over 100 steps; below, where Adam runs
    only when asked for, 1e-4 over 500 steps. The warning names both."""
    X = np.random.RandomState(0).normal(size=(n_rows, 2))
    est = DenoisingAutoencoder(
        n_components=3, sigma=0.3, solver="adam", max_iter=1, random_state=0
    )
    with pytest.warns(ConvergenceWarning) as caught:
        est.fit(X)
    message = str(caught[0].message)
    assert f"tol={tol} " in message
    assert f"n_iter_no_change={window} epochs" in message


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


@pytest.mark.parametrize(
    "n_features, step", [(8, 1e-2), (64, 1e-2), (128, 1e-2 * 0.5**0.5)]
)
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
