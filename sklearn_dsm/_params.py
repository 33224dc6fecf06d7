"""The one place that owns the layout of theta = (W, b, c) in a flat vector.

``scipy.optimize.minimize`` wants a single float64 vector; the math core wants
three arrays in the data's dtype. Everything that crosses that boundary goes
through :func:`pack` and :func:`unpack`, whose round trip is tested.
"""

import numpy as np


def n_params(n_components, n_features):
    """Length of the flat vector for H = ``n_components`` and d = ``n_features``."""
    return n_components * n_features + n_components + n_features


def pack(W, b, c):
    """Concatenate (W, b, c) into one float64 vector ``[W.ravel(), b, c]``."""
    return np.concatenate([np.ravel(W), np.ravel(b), np.ravel(c)]).astype(
        np.float64, copy=False
    )


def unpack(theta, n_components, n_features, dtype=np.float64):
    """Split a flat vector into (W, b, c), cast to ``dtype``.

    The returned arrays are views of ``theta`` when no cast is needed, so
    callers must not write into them.
    """
    theta = np.asarray(theta)
    if theta.shape != (n_params(n_components, n_features),):
        raise ValueError(
            f"theta has shape {theta.shape}; expected "
            f"({n_params(n_components, n_features)},) for "
            f"n_components={n_components}, n_features={n_features}."
        )
    theta = theta.astype(dtype, copy=False)
    n_w = n_components * n_features
    W = theta[:n_w].reshape(n_components, n_features)
    b = theta[n_w : n_w + n_components]
    c = theta[n_w + n_components :]
    return W, b, c
