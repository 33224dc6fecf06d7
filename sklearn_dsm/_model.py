"""Pure functions of the model theta = (W, b, c) at noise level sigma.

Symbols follow ``doc/math.rst`` ("Notation"): ``X`` is (n, d), ``W`` is (H, d),
``b`` is (H,), ``c`` is (d,). Every function computes in the dtype of ``X`` (the
parameters are cast to it), so float32 data stays float32.

The two faces of the one model:

- autoencoder: ``h(x) = f(W x + b)``, ``r(x) = W^T h(x) + c``;
- energy: ``E(x) = -(<c, x> - |x|^2 / 2 + sum_i F(W_i x + b_i)) / sigma^2``,
  whose score is ``Psi(x) = -dE/dx = (r(x) - x) / sigma^2``,

with ``f`` the hidden units' activation and ``F`` its antiderivative (the
paper's sigmoid and softplus by default; :mod:`sklearn_dsm._activations`).
Every function takes ``activation``, a name or an ``Activation``.

``X`` of another array-API namespace (array API dispatch) is computed on in
that namespace, on its device, with the same formulas written in the
standard's operations (:mod:`sklearn_dsm._xp`); the parameters may be NumPy
or that namespace's arrays.
"""

import numpy as np

from ._activations import get_activation
from ._xp import home, like


def _cast(X, *arrays):
    return tuple(like(a, X) for a in arrays)


def _pre_activation(X, W, b):
    W, b = _cast(X, W, b)
    if not isinstance(X, np.ndarray):
        return X @ W.T + b
    A = X @ W.T
    A += b
    return A


def _rowwise_dot(A, B):
    """``sum_j A_ij B_ij`` for each row i."""
    if isinstance(A, np.ndarray):
        return np.einsum("ij,ij->i", A, B)
    xp, _ = home(A)
    return xp.sum(A * B, axis=1)


def hidden(X, W, b, activation="sigmoid"):
    """Hidden features ``f(X W^T + b)``, shape (n, H).

    The sigmoid is ``expit``, which saturates instead of overflowing for
    large ``|X W^T|``.
    """
    act = get_activation(activation)
    A = _pre_activation(X, W, b)
    if isinstance(X, np.ndarray):
        return act.value(A)
    return act.xp_value(A, home(X)[0])


def reconstruct(X, W, b, c, activation="sigmoid"):
    """Tied-weight reconstruction ``r(X) = f(X W^T + b) W + c``, shape (n, d)."""
    W, c = _cast(X, W, c)
    R = hidden(X, W, b, activation) @ W
    if not isinstance(X, np.ndarray):
        return R + c
    R += c
    return R


def energy(X, W, b, c, sigma, activation="sigmoid"):
    """Energy ``E(x)`` of each row, shape (n,); ``p(x) = exp(-E(x)) / Z``.

    ``F`` is exact for any magnitude (the softplus as ``-log_expit(-a)``, with
    neither overflow nor an underflow flag for very negative ``a``).
    """
    W, b, c = _cast(X, W, b, c)
    if not isinstance(X, np.ndarray):
        xp, _ = home(X)
        A = _pre_activation(X, W, b)
        F_sum = xp.sum(get_activation(activation).xp_antiderivative(A, xp), axis=1)
        quad = 0.5 * xp.sum(X * X, axis=1)
        return (quad - X @ c - F_sum) / sigma**2
    A = _pre_activation(X, W, b)
    F_sum = get_activation(activation).antiderivative(A).sum(axis=1)
    quad = 0.5 * np.einsum("ij,ij->i", X, X)
    return (quad - X @ c - F_sum) / X.dtype.type(sigma**2)


def score(X, W, b, c, sigma, activation="sigmoid"):
    """Stein score ``Psi(x) = -dE/dx = (r(x) - x) / sigma^2``, shape (n, d)."""
    R = reconstruct(X, W, b, c, activation)
    if not isinstance(X, np.ndarray):
        return (R - X) / sigma**2
    R -= X
    R /= X.dtype.type(sigma**2)
    return R


def score_jacobian_trace(X, W, b, sigma, activation="sigmoid"):
    """Trace of ``dPsi/dx`` for each row, shape (n,).

    ``dPsi/dx = (W^T diag(f'(a)) W - I) / sigma^2``, so the trace is
    ``(sum_i f'(a_i) |W_i|^2 - d) / sigma^2`` (sigmoid: ``f' = s (1 - s)``):
    O(H) per row once the hidden units are known, with no per-dimension
    backward pass.
    """
    (W,) = _cast(X, W)
    act = get_activation(activation)
    S = _slope(act, hidden(X, W, b, act))
    row_norms = _rowwise_dot(W, W)
    return (S @ row_norms - X.shape[1]) / sigma**2


def _slope(act, H):
    """``f'(A)`` from ``H = f(A)`` (in place for NumPy)."""
    if isinstance(H, np.ndarray):
        return act.slope_from_value(H)
    return act.xp_slope(H, home(H)[0])


def hyvarinen_loss(X, W, b, c, sigma, jacobian=None, activation="sigmoid"):
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
    act = get_activation(activation)
    S = hidden(X, W, b, act)  # shared by the score and the trace: one forward pass
    Psi = (S @ W + c - X) / sigma**2
    S = _slope(act, S)
    if jacobian is None:
        row_norms = _rowwise_dot(W, W)
        trace_shift = X.shape[1]
    else:
        (A,) = _cast(X, jacobian)
        Psi = Psi @ A.T
        WA = W @ A.T
        row_norms = _rowwise_dot(WA, WA)
        trace_shift = (
            np.einsum("ij,ij->", A, A)
            if isinstance(A, np.ndarray)
            else float(home(A)[0].sum(A * A))
        )
    trace = (S @ row_norms - trace_shift) / sigma**2
    return 0.5 * _rowwise_dot(Psi, Psi) + trace
