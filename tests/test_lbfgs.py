"""run_lbfgs on problems whose answer is known, apart from any estimator."""

import numpy as np
import pytest

from sklearn_dsm import _lbfgs
from sklearn_dsm._lbfgs import run_lbfgs


def _quadratic(seed=0, n=6):
    """f(x) = |A x - y|^2 / 2: minimiser solve(A, y), minimum 0."""
    rng = np.random.RandomState(seed)
    A = rng.normal(size=(n, n)) + 3 * np.eye(n)
    y = rng.normal(size=n)

    def fun(x):
        r = A @ x - y
        return 0.5 * float(r @ r), A.T @ r

    return fun, np.linalg.solve(A, y)


def _rosenbrock(x):
    value = 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    grad = np.array(
        [-400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0]), 200 * (x[1] - x[0] ** 2)]
    )
    return float(value), grad


def test_converges_to_the_minimiser_and_records_every_iteration():
    fun, solution = _quadratic()
    seen = []
    result = run_lbfgs(
        fun,
        np.zeros(6),
        max_iter=200,
        tol=1e-14,
        on_iteration=lambda k, loss: seen.append((k, loss)),
    )
    np.testing.assert_allclose(result.theta, solution, atol=1e-6)
    assert result.status == 0 and not result.hit_max_iter
    assert result.interrupted is None
    assert result.n_iter == len(result.loss_curve) == len(seen)
    assert [k for k, _ in seen] == list(range(1, result.n_iter + 1))
    assert [loss for _, loss in seen] == result.loss_curve
    assert result.loss == pytest.approx(fun(result.theta)[0])


def test_max_iter_is_reported():
    result = run_lbfgs(_rosenbrock, np.array([-1.2, 1.0]), max_iter=5, tol=0.0)
    assert result.hit_max_iter and result.status == 1 and result.n_iter == 5
    assert len(result.loss_curve) == 5


def test_tol_is_the_relative_decrease_of_the_objective():
    start = np.array([-1.2, 1.0])
    loose = run_lbfgs(_rosenbrock, start, max_iter=500, tol=1e-3)
    tight = run_lbfgs(_rosenbrock, start, max_iter=500, tol=1e-12)
    assert loose.status == tight.status == 0
    assert loose.n_iter < tight.n_iter
    np.testing.assert_allclose(tight.theta, [1.0, 1.0], atol=1e-4)


def test_interrupt_returns_the_last_whole_iterate():
    """Ctrl-C in the middle of an evaluation: the result holds the last
    completed iterate, equal to a run stopped at that many iterations."""
    start = np.array([-1.2, 1.0])
    calls = []

    def interrupted(x):
        calls.append(1)
        if len(calls) == 12:
            raise KeyboardInterrupt
        return _rosenbrock(x)

    result = run_lbfgs(interrupted, start, max_iter=100, tol=0.0)
    assert isinstance(result.interrupted, KeyboardInterrupt)
    assert not result.hit_max_iter and 1 <= result.n_iter < 12
    reference = run_lbfgs(_rosenbrock, start, max_iter=result.n_iter, tol=0.0)
    np.testing.assert_array_equal(result.theta, reference.theta)
    assert result.loss_curve == reference.loss_curve


def test_interrupt_before_the_first_iterate_is_raised():
    def interrupted(x):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_lbfgs(interrupted, np.zeros(2), max_iter=10, tol=0.0)


def test_scipy_blas_runs_on_one_thread_inside_the_optimiser():
    """Where scipy ships its own BLAS (the wheels), its pool is capped at one
    thread while L-BFGS runs and restored after."""
    controller = _lbfgs._scipy_blas_controller()
    inside = []
    fun, _ = _quadratic()

    def spy(x):
        if controller is not None:
            inside.append([lib.num_threads for lib in controller.lib_controllers])
        return fun(x)

    before = controller and [lib.num_threads for lib in controller.lib_controllers]
    run_lbfgs(spy, np.zeros(6), max_iter=3, tol=0.0)
    if controller is None:  # numpy and scipy share one BLAS: nothing to cap
        assert inside == []
        return
    assert inside and all(n == [1] * len(n) for n in inside)
    assert [lib.num_threads for lib in controller.lib_controllers] == before
