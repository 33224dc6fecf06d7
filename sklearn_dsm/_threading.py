"""Keep scipy's own BLAS pool out of the way of numpy's during L-BFGS.

numpy and scipy wheels each ship an OpenBLAS with its own thread pool. Inside
``scipy.optimize.minimize(method="L-BFGS-B")`` the optimiser's small BLAS calls
wake scipy's pool while numpy's pool runs the objective's matrix products, and
the two fight over the cores: on digits (1797 x 64, H = 100) an L-BFGS iteration
took about 2.5x longer than with scipy's pool at one thread. The objective's
large products stay on numpy's pool, with all its threads.
"""

import os
from contextlib import nullcontext
from functools import lru_cache

import scipy
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
