"""Time one objective+gradient evaluation against its floor, the five bare GEMMs.

Prints, for each objective and dtype at the digits size (1797 x 64, H = 100),
the median time of one evaluation and its ratio to the five (n x d x H) matrix
products of the same shapes timed in the same run, then the time per L-BFGS
iteration of ``fit``. Run: ``python benchmarks/bench_objective.py [--repeat N]``.
The machines are shared and noisy: read the medians and the ratios.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info

from sklearn_dsm import DenoisingAutoencoder
from sklearn_dsm._base import corrupt
from sklearn_dsm._objectives import OBJECTIVE_FUNCTIONS, objective_target


def median_seconds(func, repeat):
    func()  # warm up caches and thread pools
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def five_gemms(X, W):
    """The floor: the five products one evaluation cannot avoid."""
    A = X @ W.T  # forward: pre-activations (n, H)
    R = A @ W  # forward: reconstruction (n, d)
    D = R @ W.T  # backward: error through the decoder (n, H)
    return A.T @ R, D.T @ X  # backward: the two halves of dW (H, d)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--n-components", type=int, default=100)
    args = parser.parse_args()

    X64 = load_digits().data / 16.0
    n, d = X64.shape
    H = args.n_components
    sigma = 0.2
    rng = np.random.RandomState(0)
    print(f"digits: n = {n}, d = {d}, H = {H}, one corruption per row")
    for lib in threadpool_info():
        print(
            f"  {lib['internal_api']:<9} {lib.get('version')!s:<8} "
            f"threads={lib['num_threads']} "
            f"{lib.get('architecture', '')} {lib['filepath'].split('/')[-1]}"
        )
    print(
        f"\n{'objective':<10}{'dtype':<9}{'eval (ms)':>10}"
        f"{'5 GEMMs (ms)':>14}{'ratio':>8}"
    )
    for dtype in (np.float64, np.float32):
        X = X64.astype(dtype)
        X_noisy = corrupt(X, sigma, 1, rng)
        W = (0.1 * rng.normal(size=(H, d))).astype(dtype)
        b = np.zeros(H, dtype=dtype)
        c = X.mean(axis=0)
        floor = median_seconds(
            lambda X_noisy=X_noisy, W=W: five_gemms(X_noisy, W), args.repeat
        )
        for name, function in OBJECTIVE_FUNCTIONS.items():
            target = objective_target(name, X, X_noisy, sigma)
            t = median_seconds(
                lambda f=function, t=target, W=W, b=b, c=c, Xn=X_noisy: f(
                    W, b, c, Xn, t, sigma
                ),
                args.repeat,
            )
            print(
                f"{name:<10}{np.dtype(dtype).name:<9}{t * 1e3:>10.3f}"
                f"{floor * 1e3:>14.3f}{t / floor:>8.2f}"
            )

    print("\nfit: time per L-BFGS iteration (n_corruptions=1, 100 iterations)")
    for dtype in (np.float64, np.float32):
        est = DenoisingAutoencoder(
            n_components=H,
            sigma=sigma,
            n_corruptions=1,
            max_iter=100,
            tol=0.0,
            random_state=0,
        )
        per_iter = []
        for _ in range(3):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                start = time.perf_counter()
                est.fit(X64.astype(dtype))
                per_iter.append((time.perf_counter() - start) / est.n_iter_)
        print(
            f"  {np.dtype(dtype).name}: "
            f"{np.median(per_iter) * 1e3:.2f} ms per iteration"
        )


if __name__ == "__main__":
    main()
