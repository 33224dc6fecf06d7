"""L-BFGS on a flat objective: scipy's L-BFGS-B, its BLAS kept out of the way.

:func:`run_lbfgs` minimises any ``theta -> (value, gradient)`` and returns an
:class:`LBFGSResult`; it knows nothing of estimators. A Ctrl-C during the run
is caught and returned with the last completed iterate, which is a whole and
consistent model, so that the caller can keep it (for ``warm_start``) before
re-raising.

numpy and scipy wheels each ship an OpenBLAS with its own thread pool. Inside
``scipy.optimize.minimize(method="L-BFGS-B")`` the optimiser's small BLAS calls
wake scipy's pool while numpy's pool runs the objective's matrix products, and
the two fight over the cores: on digits (1797 x 64, H = 100) an L-BFGS iteration
took about 2.5x longer than with scipy's pool at one thread. So scipy's pool
runs at one thread during the optimisation; the objective's large products
stay on numpy's pool, with all its threads.
"""

import os
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import scipy
from scipy.optimize import minimize
from threadpoolctl import ThreadpoolController


def _scipy_only_blas(controller):
    """BLAS libraries loaded from scipy's wheel (not the one numpy uses)."""
    scipy_dir = os.path.dirname(os.path.abspath(scipy.__file__))
    roots = (scipy_dir + os.sep, scipy_dir + ".libs" + os.sep)
    return [
        lib.filepath
        for lib in controller.lib_controllers
        if lib.user_api == "blas" and os.path.abspath(lib.filepath).startswith(roots)
    ]


@lru_cache(maxsize=1)
def _scipy_blas_controller():
    """Controller of scipy's private BLAS, or None; found once per process.

    Scanning the loaded libraries takes about 2.5 ms, which dominated the fixed
    cost of a small fit; scipy's BLAS is loaded with scipy.optimize, before any
    fit, so one scan is enough.
    """
    controller = ThreadpoolController()
    paths = _scipy_only_blas(controller)
    return controller.select(filepath=paths) if paths else None


def optimizer_threadpool_limits():
    """Context manager: scipy's private BLAS at one thread, everything else as is.

    A no-op where numpy and scipy share one BLAS (conda, system builds): there is
    no second pool to contend with.
    """
    controller = _scipy_blas_controller()
    if controller is None:
        return nullcontext()
    return controller.limit(limits=1)


@dataclass
class LBFGSResult:
    """What :func:`run_lbfgs` found.

    Attributes
    ----------
    theta : ndarray
        The final iterate (the last completed one if interrupted).
    loss : float
        The objective at ``theta``.
    n_iter : int
        Iterations run, at least 1 and at most ``max_iter``.
    loss_curve : list of float
        The objective after each iteration.
    status : int
        scipy's status: 0 converged, 1 ``max_iter`` reached, 2 stopped for
        another reason (e.g. the line search), 99 stopped by the stalled-window
        rule of ``n_iter_no_change``; None if interrupted.
    message : str
        scipy's message.
    interrupted : KeyboardInterrupt or None
        The Ctrl-C that stopped the run, for the caller to re-raise.
    """

    theta: np.ndarray
    loss: float
    n_iter: int
    loss_curve: list = field(default_factory=list)
    status: int | None = 0
    message: str = ""
    interrupted: KeyboardInterrupt | None = None

    @property
    def hit_max_iter(self):
        return self.interrupted is None and self.status == 1


def run_lbfgs(
    fun,
    theta0,
    *,
    max_iter,
    tol,
    n_iter_no_change=None,
    on_iteration=None,
    on_iterate=None,
):
    """Minimise ``fun`` by L-BFGS-B from ``theta0``.

    Parameters
    ----------
    fun : callable
        ``theta -> (value, gradient)``, both float64.
    theta0 : ndarray
        Starting point (float64, flat).
    max_iter : int
        Maximum number of iterations.
    tol : float
        Without ``n_iter_no_change``: stop when the relative decrease of the
        objective in one iteration falls below ``tol`` (scipy's ``ftol``).
        With it: stop when the objective has decreased by less than ``tol``
        times its value over the last ``n_iter_no_change`` iterations. The
        gradient test is off either way.
    n_iter_no_change : int, default=None
        Length of the window of that rule. L-BFGS on these objectives makes
        uneven progress from one iteration to the next (a short step, then a
        long one), so the one-iteration rule stops at the first short step;
        a window measures the trend.
    on_iteration : callable, default=None
        Called as ``on_iteration(n_iter, loss)`` after every iteration.
    on_iterate : callable, default=None
        Called as ``on_iterate(theta)`` after every iteration, with a copy of
        the iterate (for progress reports that rebuild the model).

    Returns
    -------
    result : LBFGSResult
        A KeyboardInterrupt with no completed iteration is re-raised instead.
    """
    loss_curve = []
    last = []

    def callback(intermediate_result):
        x = np.array(intermediate_result.x)
        loss_curve.append(intermediate_result.fun)
        # One assignment, so that Ctrl-C never splits an iterate from its
        # loss and count.
        last[:] = [x, loss_curve[-1], len(loss_curve)]
        if on_iteration is not None:
            on_iteration(len(loss_curve), loss_curve[-1])
        if on_iterate is not None:
            on_iterate(x)
        if window and len(loss_curve) > window:
            before, now = loss_curve[-1 - window], loss_curve[-1]
            if before - now <= tol * abs(now):
                raise StopIteration  # scipy returns this iterate, status 99

    window = n_iter_no_change
    try:
        with optimizer_threadpool_limits():
            result = minimize(
                fun,
                theta0,
                method="L-BFGS-B",
                jac=True,
                callback=callback,
                options={
                    "maxiter": max_iter,
                    "ftol": 0.0 if window else tol,
                    "gtol": 0,
                },
            )
    except KeyboardInterrupt as exc:
        if not last:
            raise
        theta, loss, n_iter = last
        return LBFGSResult(
            theta, loss, n_iter, loss_curve[:n_iter], None, "interrupted", exc
        )
    loss = float(result.fun)
    return LBFGSResult(
        theta=result.x,
        loss=loss,
        n_iter=max(1, min(int(result.nit), max_iter)),
        loss_curve=loss_curve or [loss],
        status=int(result.status),
        message=str(result.message),
    )
