"""Pure functions of the model theta = (W, b, c) at noise level sigma.

Symbols follow ``doc/math.rst`` ("Notation"): ``X`` is (n, d), ``W`` is (H, d),
``b`` is (H,), ``c`` is (d,). Every function computes in the dtype of ``X`` (the
parameters are cast to it), so float32 data stays float32.

The two faces of the one model:

- autoencoder: ``h(x) = sigmoid(W x + b)``, ``r(x) = W^T h(x) + c``;
- energy: ``E(x) = -(<c, x> - |x|^2 / 2 + sum_i softplus(W_i x + b_i)) / sigma^2``,
  whose score is ``Psi(x) = -dE/dx = (r(x) - x) / sigma^2``.
"""

import numpy as np
from scipy.special import expit, log_expit


def _cast(X, *arrays):
    return tuple(np.asarray(a, dtype=X.dtype) for a in arrays)


def hidden(X, W, b):
    """Hidden features ``sigmoid(X W^T + b)``, shape (n, H).

    ``expit`` saturates instead of overflowing for large ``|X W^T|``.
    """
    W, b = _cast(X, W, b)
    A = X @ W.T
    A += b
    return expit(A, out=A)


def reconstruct(X, W, b, c):
    """Tied-weight reconstruction ``r(X) = sigmoid(X W^T + b) W + c``, shape (n, d)."""
    W, c = _cast(X, W, c)
    R = hidden(X, W, b) @ W
    R += c
    return R


def energy(X, W, b, c, sigma):
    """Energy ``E(x)`` of each row, shape (n,); ``p(x) = exp(-E(x)) / Z``.

    softplus(a) is computed as ``-log_expit(-a)``: exact for any magnitude of
    ``a``, with neither overflow nor an underflow flag for very negative ``a``.
    """
    W, b, c = _cast(X, W, b, c)
    A = X @ W.T
    A += b
    np.negative(A, out=A)
    softplus_sum = -log_expit(A, out=A).sum(axis=1)
    quad = 0.5 * np.einsum("ij,ij->i", X, X)
    return (quad - X @ c - softplus_sum) / X.dtype.type(sigma**2)


def score(X, W, b, c, sigma):
    """Stein score ``Psi(x) = -dE/dx = (r(x) - x) / sigma^2``, shape (n, d)."""
    R = reconstruct(X, W, b, c)
    R -= X
    R /= X.dtype.type(sigma**2)
    return R


def score_jacobian_trace(X, W, b, sigma):
    """Trace of ``dPsi/dx`` for each row, shape (n,).

    ``dPsi/dx = (W^T diag(s (1 - s)) W - I) / sigma^2``, so the trace is
    ``(sum_i s_i (1 - s_i) |W_i|^2 - d) / sigma^2``: O(H) per row once ``s`` is
    known, with no per-dimension backward pass.
    """
    (W,) = _cast(X, W)
    S = hidden(X, W, b)
    S *= 1 - S
    row_norms = np.einsum("ij,ij->i", W, W)
    return (S @ row_norms - X.shape[1]) / X.dtype.type(sigma**2)


def hyvarinen_loss(X, W, b, c, sigma, jacobian=None):
    """Hyvarinen's score-matching loss of each row, ``|Psi|^2 / 2 + tr dPsi/dx``.

    Its mean over held-out rows estimates the Fisher divergence between the data
    and the model up to a constant that does not depend on the model, so it
    compares models of different sigma without their normalising constants.

    ``jacobian``, if given, is the (d, d) matrix ``A`` of a change of
    coordinates ``z = (x - m) A`` with ``X`` holding the ``z`` rows: the loss is
    then that of the density in ``x`` (``doc/math.rst``, "Whitened
    coordinates"), whose score is ``Psi_z A^T`` and whose Jacobian trace is
    ``(sum_i g_i |W_i A^T|^2 - tr(A^T A)) / sigma^2``.
    """
    W, c = _cast(X, W, c)
    S = hidden(X, W, b)  # shared by the score and the trace: one forward pass
    Psi = S @ W
    Psi += c
    Psi -= X
    Psi /= X.dtype.type(sigma**2)
    S *= 1 - S
    if jacobian is None:
        row_norms = np.einsum("ij,ij->i", W, W)
        trace_shift = X.shape[1]
    else:
        A = np.asarray(jacobian, dtype=X.dtype)
        Psi = Psi @ A.T
        WA = W @ A.T
        row_norms = np.einsum("ij,ij->i", WA, WA)
        trace_shift = np.einsum("ij,ij->", A, A)
    trace = (S @ row_norms - trace_shift) / X.dtype.type(sigma**2)
    return 0.5 * np.einsum("ij,ij->i", Psi, Psi) + trace
