"""How much of the data the math touches at a time.

Two limits keep a fit's memory independent of the number of rows: the
objective's temporaries are chunked by scikit-learn's ``working_memory``
(:func:`chunk_n_rows`), and float64 temporaries made while drawing noise or
measuring the data's spread are made a slab of rows at a time
(:func:`row_slabs`).
"""

import numpy as np
from sklearn import get_config

# Bytes of float64 temporaries made at a time by the noise and the
# initialisation: a whole float64 copy of a float32 data set would be the
# largest allocation of the fit.
NOISE_SLAB_BYTES = 16 * 2**20


def chunk_n_rows(n_rows, row_bytes, working_memory=None, max_rows=None):
    """Rows per chunk so that a chunk's temporaries fit in ``working_memory`` MiB.

    Defaults to scikit-learn's ``working_memory`` configuration, which users
    already know from ``pairwise_distances_chunked``; ``max_rows`` caps it.
    """
    if working_memory is None:
        working_memory = get_config()["working_memory"]
    n = working_memory * 2**20 // max(row_bytes, 1)
    if max_rows is not None:
        n = min(n, max_rows)
    return int(max(1, min(n_rows, n)))


def row_slabs(n_rows, n_features):
    """``(start, stop)`` of consecutive slabs of rows, each of about
    :data:`NOISE_SLAB_BYTES` in float64."""
    step = max(1, NOISE_SLAB_BYTES // (8 * max(n_features, 1)))
    for start in range(0, n_rows, step):
        yield start, min(start + step, n_rows)


def row_mean(X, weights=None):
    """The (``weights``-weighted) mean of the rows of ``X``, in float64,
    accumulated a slab of rows at a time when weighted."""
    if weights is None:
        return X.mean(axis=0, dtype=np.float64)
    n, d = X.shape
    w = np.asarray(weights, dtype=np.float64)
    mean = np.zeros(d)
    for start, stop in row_slabs(n, d):
        mean += w[start:stop] @ np.asarray(X[start:stop], dtype=np.float64)
    return mean / w.sum()


def mean_and_spread(X, weights=None):
    """The (weighted) mean of the rows of ``X`` and the root-mean-square
    deviation from it per feature, both in float64, a slab of rows at a time:
    a whole float64 ``(X - mean) ** 2`` would be four times the size of a
    float32 ``X``."""
    n, d = X.shape
    mean = row_mean(X, weights)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    sum_sq = 0.0
    for start, stop in row_slabs(n, d):
        if w is None:
            deviation = X[start:stop] - mean
            sum_sq += float(np.vdot(deviation, deviation))
        else:
            deviation = np.asarray(X[start:stop], dtype=np.float64) - mean
            sum_sq += float(w[start:stop] @ np.einsum("ij,ij->i", deviation, deviation))
    total = X.size if w is None else float(w.sum()) * d
    return mean, float(np.sqrt(sum_sq / max(total, 1)))
