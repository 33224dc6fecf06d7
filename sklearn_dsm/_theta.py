"""The parameters theta = (W, b, c): their flat layout and their initial values.

``scipy.optimize.minimize`` and Adam want a single float64 vector; the math
wants three arrays in the data's dtype. Everything that crosses that boundary
goes through :func:`pack` and :func:`unpack`, whose round trip is tested.
"""

import numpy as np

from ._chunking import mean_and_spread
from ._xp import home, is_array, widest_float


def _other_namespace(array):
    """Whether ``array`` belongs to an array-API namespace other than NumPy's
    (array API dispatch)."""
    return is_array(array) and not isinstance(array, np.ndarray)


def n_params(n_components, n_features):
    """Length of the flat vector for H = ``n_components`` and d = ``n_features``."""
    return n_components * n_features + n_components + n_features


def pack(W, b, c):
    """Concatenate (W, b, c) into one new float64 vector ``[W.ravel(), b, c]``.

    Arrays of another array-API namespace are packed there, on their device,
    in its widest float (float64 but on Apple's MPS).
    """
    if _other_namespace(W):
        xp, _ = home(W)
        wide = widest_float(W)
        return xp.concat([xp.reshape(xp.astype(a, wide), (-1,)) for a in (W, b, c)])
    return np.concatenate([np.ravel(W), np.ravel(b), np.ravel(c)]).astype(
        np.float64, copy=False
    )


def unpack(theta, n_components, n_features, dtype=np.float64):
    """Split a flat vector into (W, b, c), cast to ``dtype``.

    The returned arrays are views of ``theta`` when no cast is needed, so
    callers must not write into them. A vector of another array-API
    namespace is split there, in its own dtype (``dtype`` applies to NumPy
    vectors); whether its pieces are views is up to its library.
    """
    if _other_namespace(theta):
        xp, _ = home(theta)
        _check_length(theta, n_components, n_features)
        n_w = n_components * n_features
        W = xp.reshape(theta[:n_w], (n_components, n_features))
        return W, theta[n_w : n_w + n_components], theta[n_w + n_components :]
    theta = np.asarray(theta)
    _check_length(theta, n_components, n_features)
    theta = theta.astype(dtype, copy=False)
    n_w = n_components * n_features
    W = theta[:n_w].reshape(n_components, n_features)
    b = theta[n_w : n_w + n_components]
    c = theta[n_w + n_components :]
    return W, b, c


def _check_length(theta, n_components, n_features):
    if tuple(theta.shape) != (n_params(n_components, n_features),):
        raise ValueError(
            f"theta has shape {tuple(theta.shape)}; expected "
            f"({n_params(n_components, n_features)},) for "
            f"n_components={n_components}, n_features={n_features}."
        )


def initial_theta(
    X, n_components, rng, weights=None, spectral_bound=None, centred_bound=None
):
    """Small random W scaled to the data, b = 0, c = the data mean.

    W is Glorot-uniform divided by the data's root-mean-square spread, so
    that the initial pre-activations W x are O(1) whatever the data's units.
    (The model itself is not scale-free: its softplus terms enter the energy
    divided by sigma^2, so X and 10 X with sigma and 10 sigma are fitted by
    different members of the family; standardise, or whiten.)
    c = mean(X) centres the model's base Gaussian N(c, sigma^2 I) on the data.
    With ``weights``, the mean and spread are weighted. Returns float64
    (W, b, c); draws from ``rng`` (a RandomState). With ``spectral_bound``
    (the ReLU's, whose antiderivative grows faster than linearly), W is
    shrunk to that largest singular value if its draw exceeds it: 1/2 makes
    the initial model a density (``_normalisable``). ``centred_bound``, if
    given, replaces it when the rows are centred (the root-mean-square of
    their mean at most a tenth of their spread): an autoencoder's larger
    start, which only keeps the initial gain ``||W||^2`` of data of small
    spread in check (``_SettingsMixin._initial_spectral_bounds``).
    """
    n_features = X.shape[1]
    mean, spread = mean_and_spread(X, weights)
    if not np.isfinite(spread) or spread <= 0:
        spread = 1.0
    limit = np.sqrt(6.0 / (n_features + n_components)) / spread
    W = rng.uniform(-limit, limit, size=(n_components, n_features))
    if centred_bound is not None and np.sqrt(np.mean(mean**2)) <= 0.1 * spread:
        spectral_bound = centred_bound
    if spectral_bound is not None:
        largest = np.linalg.norm(W, 2)
        if largest > spectral_bound:
            W *= spectral_bound / largest
    return W, np.zeros(n_components), mean
