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


def weighted_mean_and_spread(X, weights):
    """The ``weights``-weighted mean of the rows of ``X`` (float64), and the
    weighted root-mean-square deviation from it per feature, a slab of rows at
    a time: no float64 copy of a float32 ``X`` is made."""
    n, d = X.shape
    w = np.asarray(weights, dtype=np.float64)
    total = float(w.sum())
    mean = np.zeros(d)
    for start, stop in row_slabs(n, d):
        mean += w[start:stop] @ np.asarray(X[start:stop], dtype=np.float64)
    mean /= total
    sum_sq = 0.0
    for start, stop in row_slabs(n, d):
        deviation = np.asarray(X[start:stop], dtype=np.float64) - mean
        sum_sq += float(w[start:stop] @ np.einsum("ij,ij->i", deviation, deviation))
    return mean, float(np.sqrt(sum_sq / (total * d)))
