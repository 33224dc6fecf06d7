"""The four training criteria as pure ``(parameters, data) -> (value, gradient)``.

All four are one computation (``MATH.md``). With ``R = sigmoid(X~ W^T + b) W + c``
the reconstruction of the noisy rows ``X~`` and ``Psi = (R - X~) / sigma^2``:

- ``dae``: ``mean |R - X|^2`` (target: the clean row that made ``X~``);
- ``dsm``: ``mean |Psi - (X - X~) / sigma^2|^2 / 2 = dae / (2 sigma^4)``
  (Proposition 2, the same arithmetic up to one factor);
- ``esm``: ``mean |Psi - (M - X~) / sigma^2|^2 / 2 = mean |R - M|^2 / (2 sigma^4)``
  with ``M`` the Parzen posterior mean of ``X~``: the DSM target replaced by its
  conditional expectation (Proposition 1);
- ``ism``: ``mean |Psi|^2 / 2 + tr dPsi/dx = mean |R - X~|^2 / (2 sigma^4)
  + mean sum_i g_i |W_i|^2 / sigma^2 - d / sigma^2`` with ``g = s (1 - s)``.

So one kernel, a squared error against a target plus an optional trace term,
serves all four. It costs five (m x d x H) matrix products per evaluation
(two forward, three backward); the trace term adds none.
"""

import numpy as np
from sklearn import get_config

OBJECTIVES = ("dae", "dsm", "esm", "ism")


def _sigmoid_inplace(A):
    """sigmoid(A) written into A, as ``0.5 * tanh(A / 2) + 0.5``.

    Algebraically equal to ``scipy.special.expit`` and as safe (tanh saturates,
    nothing overflows), but about 3x faster on the hot path; its error is
    absolute (~1e-16), not relative, which the objectives never notice.
    """
    A *= 0.5
    np.tanh(A, out=A)
    A *= 0.5
    A += 0.5
    return A


def chunk_n_rows(n_rows, row_bytes, working_memory=None):
    """Rows per chunk so that a chunk's temporaries fit in ``working_memory`` MiB.

    Defaults to scikit-learn's ``working_memory`` configuration, which users
    already know from ``pairwise_distances_chunked``.
    """
    if working_memory is None:
        working_memory = get_config()["working_memory"]
    return int(max(1, min(n_rows, working_memory * 2**20 // max(row_bytes, 1))))


def _row_slices(n_rows, n_target, chunk_size):
    """Yield (rows of the noisy data, rows of the target) chunk by chunk.

    The noisy data is ``n_rows // n_target`` stacked blocks of ``n_target`` rows;
    row ``j`` of it pairs with target row ``j % n_target``. Chunks never cross a
    block, so both sides are plain slices (views, no copies).
    """
    for block in range(0, n_rows, n_target):
        for start in range(0, n_target, chunk_size):
            stop = min(start + chunk_size, n_target)
            yield slice(block + start, block + stop), slice(start, stop)


def _squared_error_and_trace(W, b, c, X_noisy, target, trace_weight, chunk_size):
    """``mean_rows(|R - T|^2 + trace_weight * sum_i g_i |W_i|^2)`` and its gradient.

    ``target`` is None (the noisy rows themselves, as ISM needs) or an array whose
    row count divides the number of noisy rows (see :func:`_row_slices`).
    Extra memory is O(chunk_size x (d + H)) whatever the number of rows.
    """
    dtype = X_noisy.dtype
    W = np.asarray(W, dtype=dtype)
    b = np.asarray(b, dtype=dtype)
    c = np.asarray(c, dtype=dtype)
    n_rows, n_features = X_noisy.shape
    n_components = W.shape[0]
    n_target = n_rows if target is None else target.shape[0]
    if target is not None and (n_rows % n_target or target.shape[1] != n_features):
        raise ValueError(
            f"target of shape {target.shape} does not tile X_noisy of shape "
            f"{X_noisy.shape}: its row count must divide {n_rows}."
        )
    if chunk_size is None:
        row_bytes = dtype.itemsize * (4 * n_components + 2 * n_features)
        chunk_size = chunk_n_rows(n_target, row_bytes)

    # Accumulate the unscaled sums; the common factor 2 / n_rows is applied once.
    sq_error = 0.0
    grad_W = np.zeros_like(W)
    grad_b = np.zeros_like(b)
    grad_c = np.zeros_like(c)
    use_trace = trace_weight != 0
    if use_trace:
        row_norms = np.einsum("ij,ij->i", W, W)
        half_trace_norms = dtype.type(0.5 * trace_weight) * row_norms
        g_sum = np.zeros_like(b)

    for rows, target_rows in _row_slices(n_rows, n_target, chunk_size):
        Xc = X_noisy[rows]
        S = Xc @ W.T
        S += b
        _sigmoid_inplace(S)
        Err = S @ W
        Err += c
        Err -= Xc if target is None else target[target_rows]
        flat = Err.ravel()
        sq_error += float(flat @ flat)
        grad_c += Err.sum(axis=0)
        grad_W += S.T @ Err
        D = Err @ W.T
        G = 1 - S
        G *= S
        D *= G  # d|Err|^2/dA / 2, through the sigmoid
        if use_trace:
            g_sum += G.sum(axis=0)
            # g' = g (1 - 2 s); S is not needed any more, so reuse it.
            S *= -2
            S += 1
            G *= S
            G *= half_trace_norms
            D += G
        grad_W += D.T @ Xc
        grad_b += D.sum(axis=0)

    scale = dtype.type(2.0 / n_rows)
    grad_W *= scale
    grad_b *= scale
    grad_c *= scale
    value = sq_error
    if use_trace:
        grad_W += (scale * dtype.type(trace_weight) * g_sum)[:, None] * W
        value += trace_weight * float(g_sum @ row_norms)
    return value / n_rows, (grad_W, grad_b, grad_c)


def _scaled(value_and_grad, factor, shift=0.0):
    """Scale a (value, grads) pair by ``factor``; the kernel's arrays are fresh,
    so the gradients are scaled in place rather than copied."""
    value, grads = value_and_grad
    factor_t = grads[0].dtype.type(factor)
    for g in grads:
        g *= factor_t
    return value * factor + shift, grads


def dae_objective(W, b, c, X_noisy, X_clean, sigma=None, *, chunk_size=None):
    """J_DAE: mean squared reconstruction error of the clean rows.

    Parameters
    ----------
    W, b, c : ndarray of shape (H, d), (H,), (d,)
        Model parameters.
    X_noisy : ndarray of shape (K * n, d)
        ``K`` stacked blocks of corrupted copies of ``X_clean``.
    X_clean : ndarray of shape (n, d)
        Row ``j`` of ``X_noisy`` is a corruption of row ``j % n``.
    sigma : float, default=None
        Unused; accepted so that all objectives share one signature.
    chunk_size : int, default=None
        Rows per chunk; by default from scikit-learn's ``working_memory``.

    Returns
    -------
    value : float
    grads : tuple of ndarray
        Gradients with respect to (W, b, c), in the dtype of ``X_noisy``.
    """
    return _squared_error_and_trace(W, b, c, X_noisy, X_clean, 0.0, chunk_size)


def dsm_objective(W, b, c, X_noisy, X_clean, sigma, *, chunk_size=None):
    """J_DSM = J_DAE / (2 sigma^4): denoising score matching (Proposition 2).

    Same arguments and returns as :func:`dae_objective`.
    """
    return _scaled(
        dae_objective(W, b, c, X_noisy, X_clean, chunk_size=chunk_size),
        0.5 / sigma**4,
    )


def esm_objective(W, b, c, X_noisy, parzen_mean, sigma, *, chunk_size=None):
    """J_ESM: explicit score matching to the Parzen score of the training set.

    ``parzen_mean`` is :func:`parzen_posterior_mean` of ``X_noisy`` (one row per
    noisy row); ``(parzen_mean - X_noisy) / sigma^2`` is the Parzen score, so the
    loss is ``mean |R - parzen_mean|^2 / (2 sigma^4)``.
    """
    return _scaled(
        _squared_error_and_trace(W, b, c, X_noisy, parzen_mean, 0.0, chunk_size),
        0.5 / sigma**4,
    )


def ism_objective(W, b, c, X_noisy, target=None, sigma=1.0, *, chunk_size=None):
    """J_ISM: Hyvarinen's implicit score matching on the rows of ``X_noisy``.

    ``target`` must be None (ISM has no target; the argument keeps the shared
    signature). On clean rows this is Hyvarinen's original estimator.
    """
    if target is not None:
        raise ValueError("ism_objective takes no target; pass target=None.")
    return _scaled(
        _squared_error_and_trace(W, b, c, X_noisy, None, 2.0 * sigma**2, chunk_size),
        0.5 / sigma**4,
        shift=-X_noisy.shape[1] / sigma**2,
    )


OBJECTIVE_FUNCTIONS = {
    "dae": dae_objective,
    "dsm": dsm_objective,
    "esm": esm_objective,
    "ism": ism_objective,
}


def parzen_posterior_mean(X_query, X_train, sigma, *, chunk_size=None):
    """Posterior mean ``m(x~) = sum_i pi_i(x~) x_i`` under the Parzen density.

    ``pi_i(x~) = softmax_i(-|x~ - x_i|^2 / (2 sigma^2))``. The Parzen score is
    ``(m(x~) - x~) / sigma^2``. Exact (a max-shifted softmax, in float64 whatever
    the input dtype, after centring both sets on the training mean so the
    expanded distances cancel little), in chunks of query rows so that memory
    stays O(chunk_size x n_train). Returned in the dtype of ``X_query``.
    """
    center = X_train.mean(axis=0, dtype=np.float64)
    Xt = np.asarray(X_train, dtype=np.float64) - center
    half_sq_norms = 0.5 * np.einsum("ij,ij->i", Xt, Xt)
    inv_var = 1.0 / sigma**2
    n_query = X_query.shape[0]
    if chunk_size is None:
        chunk_size = chunk_n_rows(n_query, 8 * (2 * Xt.shape[0] + X_query.shape[1]))
    out = np.empty(X_query.shape, dtype=X_query.dtype)
    for start in range(0, n_query, chunk_size):
        stop = min(start + chunk_size, n_query)
        Q = np.asarray(X_query[start:stop], dtype=np.float64) - center
        # -|q - x|^2 / 2 up to a per-row constant, which the softmax ignores.
        logits = Q @ Xt.T
        logits -= half_sq_norms
        logits *= inv_var
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        out[start:stop] = logits @ Xt + center
    return out


def objective_target(objective, X, X_noisy, sigma):
    """The theta-independent data each objective compares against.

    ``dae``/``dsm``: the clean rows; ``esm``: the Parzen posterior mean of every
    noisy row (computed once per fit); ``ism``: nothing.
    """
    if objective in ("dae", "dsm"):
        return X
    if objective == "esm":
        return parzen_posterior_mean(X_noisy, X, sigma)
    if objective == "ism":
        return None
    raise ValueError(f"objective must be one of {OBJECTIVES}; got {objective!r}.")
