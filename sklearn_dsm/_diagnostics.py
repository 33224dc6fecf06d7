"""How much of the model's mass lies where the data never goes.

Score matching (every objective of this package) constrains the score only
where the noisy data lies. It is blind to mass elsewhere: this model can grow
modes near ``c + W^T h`` for hidden patterns ``h`` that no training row
activates, and their mass can dominate ``Z``. The diagnostic below measures
that mass from draws of the model and their importance weights.

"Where the data never goes" has two scales. Near a training row, the noise
reaches ``noise_radius``. Between rows, new data itself lands some distance
from every training row, a distance that grows with the dimension: on
standardised 64-D digits, 99% of held-out rows lie farther than the noise
radius of sigma = 0.5 from every training row. A model that generalises must
put mass there too. So a point is far when it is farther from every training
row than both the noise radius and the 99th percentile of the training rows'
own leave-one-out nearest-neighbour distances (``doc/math.rst``, "What score
matching cannot see").
"""

import numpy as np
from scipy.special import logsumexp
from scipy.stats import chi2
from sklearn.metrics import pairwise_distances_argmin_min
from sklearn.neighbors import NearestNeighbors

from ._scaling import weighted_percentile


def noise_radius(sigma, n_features, quantile=0.999):
    """Radius of the ball holding ``quantile`` of N(0, sigma^2 I) in d dimensions.

    A draw of the smoothed data density q_sigma lies within this distance of its
    training row with probability ``quantile``, so a model equal to q_sigma puts
    at most ``1 - quantile`` of its mass farther than this from every row.
    """
    return float(sigma * np.sqrt(chi2.ppf(quantile, n_features)))


def reference_radius(X_train, quantile=0.99, max_rows=500, weights=None):
    """How far new data lands from the training rows: the ``quantile`` of the
    rows' leave-one-out nearest-neighbour distances.

    Measured on up to ``max_rows`` evenly spaced rows (no random draw), each
    against all the others; a row's duplicate counts as its neighbour. With
    ``weights`` (frequency weights) a row of weight 2 or more has a duplicate,
    at distance 0, and the quantile is weighted.
    """
    X_train = np.asarray(X_train, dtype=np.float64)
    n = X_train.shape[0]
    if n < 2:
        return 0.0
    rows = np.unique(np.linspace(0, n - 1, min(n, max_rows)).astype(int))
    distances, _ = (
        NearestNeighbors(n_neighbors=2).fit(X_train).kneighbors(X_train[rows])
    )
    nearest = distances[:, 1]
    if weights is None:
        return float(np.quantile(nearest, quantile))
    w = np.asarray(weights, dtype=np.float64)[rows]
    nearest = np.where(w >= 2, 0.0, nearest)
    return weighted_percentile(nearest, w, 100.0 * quantile)


def far_mass(points, log_weights, X_train, sigma, quantile=0.999, sample_weight=None):
    """Share of the model's mass farther from all rows than new data lands.

    A point is far when its distance to the nearest training row exceeds both
    :func:`noise_radius` and :func:`reference_radius` (see the module's
    docstring). The data's own law scores about 1% (1 to 3% on held-out splits).

    Parameters
    ----------
    points : ndarray of shape (n_points, n_features)
        Draws from the model, or AIS end points.
    log_weights : ndarray of shape (n_points,) or None
        Their log importance weights (None: equal weights).
    X_train : ndarray of shape (n_samples, n_features)
        The training rows.
    sigma : float
        The model's noise level.
    quantile : float, default=0.999
        Defines the noise radius.
    sample_weight : ndarray of shape (n_samples,), default=None
        The training rows' weights, for :func:`reference_radius`.

    Returns
    -------
    share : float
        Weighted fraction of ``points`` beyond both radii, in [0, 1].
    """
    points = np.asarray(points, dtype=np.float64)
    X_train = np.asarray(X_train, dtype=np.float64)
    _, nearest = pairwise_distances_argmin_min(points, X_train)
    radius = max(
        noise_radius(sigma, points.shape[1], quantile),
        reference_radius(X_train, weights=sample_weight),
    )
    far = nearest > radius
    if log_weights is None:
        return float(far.mean())
    weights = np.exp(log_weights - logsumexp(log_weights))
    return float(np.clip(weights[far].sum(), 0.0, 1.0))
