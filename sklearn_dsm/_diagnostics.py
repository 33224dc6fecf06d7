"""How much of the model's mass lies where the data never goes.

Score matching (every objective of this package) constrains the score only
where the noisy data lies. It is blind to mass elsewhere: this model can grow
modes near ``c + W^T h`` for hidden patterns ``h`` that no training row
activates, and their mass can dominate ``Z``. The diagnostic below measures
that mass from draws of the model and their importance weights.
"""

import numpy as np
from scipy.special import logsumexp
from scipy.stats import chi2
from sklearn.metrics import pairwise_distances_argmin_min


def noise_radius(sigma, n_features, quantile=0.999):
    """Radius of the ball holding ``quantile`` of N(0, sigma^2 I) in d dimensions.

    A draw of the smoothed data density q_sigma lies within this distance of its
    training row with probability ``quantile``, so a model equal to q_sigma puts
    at most ``1 - quantile`` of its mass farther than this from every row.
    """
    return float(sigma * np.sqrt(chi2.ppf(quantile, n_features)))


def far_mass(points, log_weights, X_train, sigma, quantile=0.999):
    """Share of the model's mass farther than :func:`noise_radius` from all rows.

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
        Defines the radius; a model equal to q_sigma scores at most
        ``1 - quantile`` in expectation.

    Returns
    -------
    share : float
        Weighted fraction of ``points`` whose nearest training row is farther
        than the radius, in [0, 1].
    """
    points = np.asarray(points, dtype=np.float64)
    _, nearest = pairwise_distances_argmin_min(
        points, np.asarray(X_train, dtype=np.float64)
    )
    far = nearest > noise_radius(sigma, points.shape[1], quantile)
    if log_weights is None:
        return float(far.mean())
    weights = np.exp(log_weights - logsumexp(log_weights))
    return float(np.clip(weights[far].sum(), 0.0, 1.0))
