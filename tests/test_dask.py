"""Scale-out through existing engines: dask-ml's Incremental and joblib's dask
backend on a loopback LocalCluster. Needs the ``dask`` extra; CI installs it."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sklearn_dsm import DenoisingAutoencoder

da = pytest.importorskip(
    "dask.array", reason="the dask extra is not installed: pip install '.[dask]'"
)
distributed = pytest.importorskip(
    "distributed", reason="the dask extra is not installed: pip install '.[dask]'"
)
dask_ml_wrappers = pytest.importorskip(
    "dask_ml.wrappers", reason="the dask extra is not installed: pip install '.[dask]'"
)


def _dae(**params):
    defaults = dict(
        n_components=8,
        sigma=0.3,
        objective="dsm",
        learning_rate_init=0.01,
        batch_size=50,
        shuffle=False,
        random_state=0,
    )
    return DenoisingAutoencoder(**{**defaults, **params})


def test_incremental_trains_on_a_dask_array_block_by_block_and_transforms(
    make_moons_std,
):
    """Incremental feeds the blocks of a 4-chunk dask array to partial_fit in
    order; its estimator equals partial_fit on the same blocks in memory, bit
    for bit, and its transform is the in-memory transform."""
    moons = make_moons_std(400, 0.08)
    X = da.from_array(moons, chunks=100)
    assert X.numblocks[0] == 4
    inc = dask_ml_wrappers.Incremental(_dae(), shuffle_blocks=False)
    for _ in range(3):  # three passes over the data set
        inc.partial_fit(X)
    in_memory = _dae()
    for _ in range(3):
        for start in range(0, len(moons), 100):
            in_memory.partial_fit(moons[start : start + 100])
    fitted = inc.estimator_
    np.testing.assert_array_equal(fitted.components_, in_memory.components_)
    assert fitted.n_iter_ == 12
    Z = inc.transform(X)
    assert isinstance(Z, da.Array)
    np.testing.assert_array_equal(Z.compute(), in_memory.transform(moons))


@pytest.mark.slow
def test_grid_search_on_a_local_dask_cluster_matches_the_default_backend():
    """GridSearchCV over sigma, its fits run by joblib's dask backend on a
    loopback LocalCluster of two worker processes: the same scores and the
    same best model, bit for bit, as the default (loky) backend with
    n_jobs=2. Both give each fit one BLAS thread; on digits a different
    thread count would change the fits' last bits, which 60 L-BFGS
    iterations amplify, so this is a real check of the same arithmetic."""
    from joblib import parallel_backend
    from sklearn.datasets import load_digits

    X = (load_digits().data[:900] / 16).astype(np.float32)
    grid = {"sigma": [0.1, 0.2, 0.4]}
    est = DenoisingAutoencoder(32, max_iter=60, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # One BLAS thread per fit, as the dask workers have (their nanny
        # sets it), stated rather than left to the machine's core count.
        with parallel_backend("loky", inner_max_num_threads=1):
            local = GridSearchCV(est, grid, cv=3, n_jobs=2).fit(X)
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
            with parallel_backend("dask"):
                remote = GridSearchCV(est, grid, cv=3, n_jobs=-1).fit(X)
    np.testing.assert_array_equal(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(
        remote.best_estimator_.components_, local.best_estimator_.components_
    )
