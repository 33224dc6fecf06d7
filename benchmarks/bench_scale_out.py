"""Memory of training on data larger than a batch; GridSearchCV on a dask cluster.

1. Streams a ``numpy.memmap`` of ``--rows`` x 64 float32 rows (augmented
   digits, written to a temporary file) through ``partial_fit`` in batches of
   ``--batch`` rows. It prints the peak traced memory (tracemalloc: every numpy
   allocation) and the peak resident set (``ru_maxrss``; this counts the pages
   of the memmap that were touched, which the kernel can drop at will). The
   same is printed for the alternatives on the data held in memory:
   ``fit(solver="adam")``, and L-BFGS with ``n_corruptions`` 1.
2. Times ``GridSearchCV`` over sigma on digits (3 sigmas x 3 folds, 100
   L-BFGS iterations each): under joblib's default backend with ``n_jobs=2``,
   and under the dask backend on a loopback ``LocalCluster`` of 2 worker
   processes. It reports the median of ``--repeat`` runs, and whether the
   scores agree bit for bit.

Run: ``pip install ".[dask]" && python benchmarks/bench_scale_out.py``
(about 3 minutes on 2 cores).
"""

import argparse
import resource
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sklearn_dsm import DenoisingAutoencoder


def write_memmap(path, n_rows, rng):
    digits = (load_digits().data / 16.0).reshape(-1, 8, 8)
    out = np.memmap(path, dtype=np.float32, mode="w+", shape=(n_rows, 64))
    for start in range(0, n_rows, len(digits)):
        stop = min(start + len(digits), n_rows)
        dy, dx = rng.randint(-1, 2, size=2)
        block = np.roll(np.roll(digits, dy, axis=1), dx, axis=2).reshape(-1, 64)
        block = block + 0.05 * rng.standard_normal(block.shape)
        out[start:stop] = np.clip(block[: stop - start], 0, 1)
    out.flush()
    return out


def traced(func):
    """(seconds, peak traced MB) of func()."""
    tracemalloc.start()
    start = time.perf_counter()
    func()
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed, peak / 1e6


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # KiB on Linux


def bench_memory(n_rows, batch, epochs):
    rng = np.random.RandomState(0)
    path = Path(tempfile.mkdtemp()) / "rows.f32"
    data = write_memmap(path, n_rows, rng)
    print(
        f"## Training on {n_rows} x 64 float32 rows ({data.nbytes / 1e6:.0f} MB on "
        f"disk), batches of {batch} rows ({batch * 256 / 1e6:.1f} MB)\n"
        f"{'route':<50}{'time s':>8}{'traced MB':>11}{'max RSS MB':>12}"
    )
    est = DenoisingAutoencoder(
        n_components=128, sigma=0.2, learning_rate_init=3e-3, random_state=0
    )

    def stream():
        for _ in range(epochs):
            for start in range(0, n_rows, batch):
                est.partial_fit(np.asarray(data[start : start + batch]))

    elapsed, peak = traced(stream)
    print(
        f"{f'partial_fit stream, {epochs} epochs':<50}{elapsed:>8.1f}"
        f"{peak:>11.1f}{rss_mb():>12.0f}"
    )

    in_memory = np.array(data)  # the alternatives need the data in memory
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        adam = DenoisingAutoencoder(
            n_components=128,
            sigma=0.2,
            solver="adam",
            learning_rate_init=3e-3,
            max_iter=epochs,
            random_state=0,
        )
        elapsed, peak = traced(lambda: adam.fit(in_memory))
        print(
            f"{f'fit(solver=adam), {epochs} epochs, in memory':<50}"
            f"{elapsed:>8.1f}{peak:>11.1f}{rss_mb():>12.0f}"
        )
        lbfgs = DenoisingAutoencoder(
            n_components=128, sigma=0.2, n_corruptions=1, max_iter=5, random_state=0
        )
        elapsed, peak = traced(lambda: lbfgs.fit(in_memory))
        print(
            f"{'fit(solver=lbfgs), K=1, 5 iterations, in memory':<50}"
            f"{elapsed:>8.1f}{peak:>11.1f}{rss_mb():>12.0f}"
        )
    print(
        f"(traced: allocations only, the in-memory copy of {in_memory.nbytes / 1e6:.0f}"
        f" MB not included; L-BFGS with n_corruptions=10 would add "
        f"{10 * in_memory.nbytes / 1e6:.0f} MB of noisy copies)"
    )
    path.unlink()


def bench_grid_search(repeat):
    import distributed
    from joblib import parallel_backend

    X = (load_digits().data / 16.0).astype(np.float32)
    grid = {"sigma": [0.1, 0.2, 0.4]}
    est = DenoisingAutoencoder(64, max_iter=100, random_state=0)
    local_times, dask_times = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with (
            distributed.LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            ) as cluster,
            distributed.Client(cluster),
        ):
            for _ in range(repeat):
                start = time.perf_counter()
                local = GridSearchCV(est, grid, cv=3, n_jobs=2).fit(X)
                local_times.append(time.perf_counter() - start)
                with parallel_backend("dask"):
                    start = time.perf_counter()
                    remote = GridSearchCV(est, grid, cv=3, n_jobs=-1).fit(X)
                    dask_times.append(time.perf_counter() - start)
    same = np.array_equal(
        local.cv_results_["mean_test_score"], remote.cv_results_["mean_test_score"]
    )
    print(
        f"\n## GridSearchCV over sigma on digits (9 fits + refit), median of {repeat}\n"
        f"  default backend (loky, n_jobs=2): {np.median(local_times):.1f} s\n"
        f"  dask LocalCluster (2 worker processes, loopback): "
        f"{np.median(dask_times):.1f} s (cluster start not included)\n"
        f"  identical cv scores: {same}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bench_memory(args.rows, args.batch, args.epochs)
    bench_grid_search(args.repeat)


if __name__ == "__main__":
    main()
