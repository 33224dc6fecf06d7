"""
==============================================================
When your data outgrows one machine: streaming and Dask
==============================================================

L-BFGS (the default solver) needs the whole data set in memory, along with
``n_corruptions`` noisy copies of it. This example trains on a data set kept on
disk that is many times larger than one batch. It shows the three routes:

1. ``partial_fit`` on batches read from a ``numpy.memmap``: one epoch of
   minibatch Adam per call, with fresh noise for every batch. Memory is set by
   the batch, not by the data set.
2. ``dask_ml.wrappers.Incremental`` on a ``dask.array``: the same
   ``partial_fit``, block by block, with a lazy ``transform``.
3. ``GridSearchCV`` over ``sigma`` on a ``dask.distributed`` cluster, through
   joblib's dask backend. Here it is a loopback ``LocalCluster``; point a
   ``Client`` at a real scheduler for a real cluster.

The data are scikit-learn's digits, each shifted by up to one pixel and
jittered, written to disk 100 times over (134,700 rows). The features learned
from the stream are scored by a logistic regression on the original digits.

Run it with ``pip install ".[dask]" && python examples/out_of_core.py``
(about a minute on 2 cores).
"""

# %%
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split

from sklearn_dsm import DenoisingAutoencoder

digits_X, digits_y = load_digits(return_X_y=True)
digits_X = (digits_X / 16.0).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(
    digits_X, digits_y, test_size=0.25, random_state=0, stratify=digits_y
)


def augmented_copies(X, n_copies, rng):
    """Each 8x8 image shifted by -1, 0 or +1 pixel each way, plus jitter."""
    images = X.reshape(-1, 8, 8)
    for _ in range(n_copies):
        dy, dx = rng.randint(-1, 2, size=2)
        shifted = np.roll(np.roll(images, dy, axis=1), dx, axis=2)
        jitter = 0.05 * rng.standard_normal(shifted.shape)
        yield np.clip(shifted + jitter, 0, 1).reshape(len(X), 64).astype(np.float32)


# %%
# A data set on disk, 100 times the training set
# -----------------------------------------------
rng = np.random.RandomState(0)
n_copies = 100
path = Path(tempfile.mkdtemp()) / "digits_x100.f32"
on_disk = np.memmap(
    path, dtype=np.float32, mode="w+", shape=(n_copies * len(X_train), 64)
)
for k, block in enumerate(augmented_copies(X_train, n_copies, rng)):
    on_disk[k * len(X_train) : (k + 1) * len(X_train)] = block
on_disk.flush()
batch_rows = 5000
print(
    f"on disk: {on_disk.shape[0]} rows x 64, {on_disk.nbytes / 1e6:.1f} MB; "
    f"batches of {batch_rows} rows ({batch_rows * 64 * 4 / 1e6:.2f} MB)"
)

# %%
# Route 1: partial_fit on batches streamed from disk
# ---------------------------------------------------
# Each call is one epoch of Adam over the batch, in minibatches of
# ``batch_size`` rows, with fresh corruption for every minibatch.
dae = DenoisingAutoencoder(
    n_components=128,
    sigma=0.2,
    learning_rate_init=3e-3,
    batch_size=200,
    random_state=0,
)
tracemalloc.start()
start = time.perf_counter()
for _pass in range(2):
    for first in range(0, on_disk.shape[0], batch_rows):
        dae.partial_fit(np.asarray(on_disk[first : first + batch_rows]))
elapsed = time.perf_counter() - start
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
print(
    f"partial_fit: 2 passes over {on_disk.shape[0]} rows in {elapsed:.1f} s; "
    f"peak memory traced {peak / 1e6:.1f} MB "
    f"({on_disk.nbytes / peak:.0f}x less than the data set)"
)

clf = LogisticRegression(C=10, max_iter=2000)
accuracy = clf.fit(dae.transform(X_train), y_train).score(dae.transform(X_test), y_test)
raw = clf.fit(X_train, y_train).score(X_test, y_test)
print(
    f"digits test accuracy: streamed DAE features {accuracy:.4f}, raw pixels {raw:.4f}"
)

# %%
# Route 2: dask-ml's Incremental on a dask array
# -----------------------------------------------
import dask.array as da  # noqa: E402
from dask_ml.wrappers import Incremental  # noqa: E402

X_dask = da.from_array(on_disk, chunks=(batch_rows, 64))
inc = Incremental(
    DenoisingAutoencoder(
        n_components=128, sigma=0.2, learning_rate_init=3e-3, random_state=0
    ),
    shuffle_blocks=True,
    random_state=0,
)
start = time.perf_counter()
inc.partial_fit(X_dask)  # one pass, block by block
features = inc.transform(X_dask)  # lazy: a dask array of hidden features
# dask-ml labels the lazy result with the input's shape; computing a block
# gives the real one, (rows, n_components).
first_block = features.blocks[0].compute()
print(
    f"Incremental: one pass over {X_dask.numblocks[0]} blocks in "
    f"{time.perf_counter() - start:.1f} s; transform is lazy, and its first "
    f"block computes to shape {first_block.shape}"
)

# %%
# Route 3: GridSearchCV on a dask cluster
# ----------------------------------------
from distributed import Client, LocalCluster  # noqa: E402
from joblib import parallel_backend  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

search = GridSearchCV(
    DenoisingAutoencoder(n_components=64, random_state=0),
    {"sigma": [0.1, 0.2, 0.4]},
    cv=3,
    n_jobs=-1,
)
start = time.perf_counter()
search.fit(X_train)
local_time = time.perf_counter() - start
with (
    # Workers as threads of this process, talking TCP over loopback: worker
    # processes would re-import this script, which has no __main__ guard.
    LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster,
    Client(cluster),
):
    # One BLAS thread per fit, as joblib gives each of the default
    # backend's worker processes: then the fits agree bit for bit.
    with parallel_backend("dask"), threadpool_limits(1, user_api="blas"):
        start = time.perf_counter()
        remote = clone(search).fit(X_train)
        dask_time = time.perf_counter() - start
same = np.array_equal(
    remote.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"]
)
print(
    f"GridSearchCV over sigma (9 fits): default backend {local_time:.1f} s, "
    f"dask LocalCluster {dask_time:.1f} s; identical scores: {same}; chosen "
    f"sigma = {remote.best_params_['sigma']}"
)
path.unlink()
