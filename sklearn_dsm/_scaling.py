"""The data's scale: the whitening the model may work in, and sigma="auto".

The model is isotropic: its density is never narrower than ``sigma`` in any
direction (``doc/math.rst``, "One model, two faces"). Data whose directions
differ in spread by orders of magnitude (correlated features, near-linear
dependencies) then costs it dearly where a full-covariance Gaussian pays
nothing. Fitting in whitened coordinates ``z = (x - mean) A``, with ``A`` the
inverse square root of the data's covariance, removes that handicap: at
``W = 0`` and ``sigma = 1`` the model *is* the full-covariance Gaussian, and
the density in ``x`` is the density in ``z`` times ``|det A|``
(``doc/math.rst``, "Whitened coordinates").

The optimum of denoising score matching, with unlimited hidden units, is the
data smoothed by the noise: the Gaussian kernel density estimate with
bandwidth ``sigma``. So ``sigma="auto"`` uses the classic bandwidth rule of
kernel density estimation, Silverman's rule of thumb for ``d`` dimensions.
"""

import numpy as np

from ._chunking import mean_and_spread, row_mean, row_slabs

# Eigenvalues of the covariance below this fraction of their mean are
# directions the training rows never varied in (constant or collinear
# columns, fewer rows than features, rounding): see fit_whitening.
_EIGENVALUE_FLOOR = 1e-6


def fit_whitening(X, weights=None):
    """ZCA whitening of ``X``: ``z = (x - mean) @ A`` has identity covariance.

    ``A = V diag(lambda)^(-1/2) V^T`` from the eigendecomposition of the
    covariance. ZCA, not PCA, whitening: ``A`` is symmetric, so ``z`` keeps
    the input's coordinates (feature j of z is feature j of x, decorrelated),
    and the weights stay readable as the input's features (images stay
    images). Directions the training rows never varied in (eigenvalues below
    ``1e-6`` of the mean: constant or collinear columns, fewer rows than
    features) are not stretched: they keep the mean eigenvalue, as if not
    whitened. Stretching them by 1000 would put new rows that move there
    millions of nats away. All-constant data gives the identity.

    Returns
    -------
    mean : ndarray of shape (n_features,)
    whitening : ndarray of shape (n_features, n_features)
        ``A``, symmetric.
    unwhitening : ndarray of shape (n_features, n_features)
        ``A^-1``, symmetric.
    log_det : float
        ``log |det A|``, the log-Jacobian of the change of coordinates.

    All in float64; the covariance is accumulated a slab of rows at a time.
    ``weights`` count rows (frequency weights): the weighted mean and the
    covariance with denominator ``sum(w) - 1``, as for repeated rows.
    """
    n, d = X.shape
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    total = float(n) if w is None else float(w.sum())
    mean = row_mean(X, w)
    cov = np.zeros((d, d))
    for start, stop in row_slabs(n, d):
        centred = np.asarray(X[start:stop], dtype=np.float64) - mean
        weighted = centred if w is None else centred * w[start:stop, None]
        cov += weighted.T @ centred
    cov /= max(total - 1, 1)
    eigenvalues, vectors = np.linalg.eigh(cov)
    mean_eigenvalue = max(float(np.clip(eigenvalues, 0, None).mean()), 0.0)
    if mean_eigenvalue <= 0 or not np.isfinite(mean_eigenvalue):
        eye = np.eye(d)
        return mean, eye, eye.copy(), 0.0
    unseen = eigenvalues < _EIGENVALUE_FLOOR * mean_eigenvalue
    eigenvalues = np.where(unseen, mean_eigenvalue, eigenvalues)
    root = np.sqrt(eigenvalues)
    whitening = (vectors / root) @ vectors.T
    unwhitening = (vectors * root) @ vectors.T
    log_det = -float(np.log(root).sum())
    return mean, whitening, unwhitening, log_det


def rms_spread(X, weights=None):
    """Root-mean-square deviation of ``X`` from its mean, per feature.

    Accumulated in float64 a slab of rows at a time. 1 for standardised or
    whitened data; the scale ``sigma`` is measured against. With ``weights``,
    the weighted mean and mean square.
    """
    return mean_and_spread(X, weights)[1]


def silverman_sigma(n_samples, n_features, spread=1.0):
    """Silverman's rule of thumb: ``spread * (n (d + 2) / 4)^(-1 / (d + 4))``.

    The bandwidth of a Gaussian kernel density estimate that minimises the
    mean integrated squared error when the data are Gaussian with standard
    deviation ``spread`` in every direction (Silverman, 1986, eq. 4.14). It
    shrinks slowly with ``n`` and grows towards ``spread`` with ``d``: 0.34 for
    700 rows in 2-D, 0.70 for 124 rows in 13-D, 0.86 for 1257 rows in 64-D.
    """
    # n may be a sum of sample weights: not rounded.
    n, d = max(float(n_samples), 1.0), int(n_features)
    return float(spread * (n * (d + 2) / 4.0) ** (-1.0 / (d + 4)))


def weighted_percentile(values, weights, percent):
    """``np.percentile(np.repeat(values, weights), percent)`` (linear
    interpolation) without repeating anything: the weights count rows, and
    need not be integers. Weights of 1 give ``np.percentile`` itself."""
    order = np.argsort(values, kind="stable")
    sorted_values = np.asarray(values, dtype=np.float64)[order]
    cumulative = np.cumsum(np.asarray(weights, dtype=np.float64)[order])
    position = max(cumulative[-1] - 1.0, 0.0) * percent / 100.0
    low = np.floor(position)

    def value_at(k):
        # The row at (0-based) position k of the repeated, sorted rows.
        j = np.searchsorted(cumulative, k, side="right")
        return sorted_values[min(j, len(sorted_values) - 1)]

    below = value_at(low)
    return float(below + (position - low) * (value_at(low + 1) - below))
