"""The objectives' kernel in any array-API namespace (PyTorch, CuPy, ...).

The same arithmetic as :func:`sklearn_dsm._kernel.squared_error_and_trace`,
``mean_rows(|R - T|^2 + trace_weight * sum_i f'(a_i) |W_i|^2)`` and its
gradient in theta, written with the standard's operations only: five
(m x d x H) matrix products per evaluation and new arrays where the NumPy
kernel writes into reused buffers (the standard has no ``out=``). On an
accelerator the allocator caches those buffers itself. The NumPy kernel
keeps its buffers, its chunks sized for the CPU's cache and the
activation's scales folded into the (H x d) matrices, and stays the one
NumPy arrays use (:mod:`sklearn_dsm._xp`).
"""

from ._activations import get_activation
from ._chunking import chunk_n_rows
from ._xp import home, like


def _target_rows(target, start, stop, xp, device):
    """Rows ``start:stop`` of ``target`` tiled down the noisy rows (noisy row
    ``j`` pairs with target row ``j % len(target)``), without a tiled copy."""
    n_target = target.shape[0]
    if start // n_target == (stop - 1) // n_target:
        offset = start % n_target
        return target[offset : offset + stop - start, :]
    rows = xp.arange(start, stop, device=device) % n_target
    return xp.take(target, rows, axis=0)


def check_target_tiles(X_noisy, target):
    """Raise unless ``target`` (None or an array) tiles the rows of
    ``X_noisy``: its row count divides theirs, its columns are theirs."""
    n_rows, n_features = X_noisy.shape
    if target is not None and (
        n_rows % target.shape[0] or target.shape[1] != n_features
    ):
        raise ValueError(
            f"target of shape {tuple(target.shape)} does not tile X_noisy of "
            f"shape {tuple(X_noisy.shape)}: its row count must divide {n_rows}."
        )


def _add(total, term):
    return term if total is None else total + term


def squared_error_and_trace_xp(
    W,
    b,
    c,
    X_noisy,
    target,
    trace_weight,
    chunk_size=None,
    row_weights=None,
    activation="sigmoid",
    gradient=True,
):
    """The kernel's value and gradient ``(gW, gb, gc)`` in ``X_noisy``'s
    namespace, on its device and in its dtype; arguments as in
    :func:`sklearn_dsm._kernel.squared_error_and_trace` (``W``, ``b``, ``c``
    and ``row_weights`` may be NumPy: they are moved to ``X_noisy``'s
    device). The value is a Python float. ``gradient=False`` returns
    ``(value, None)`` from the forward pass alone.
    """
    xp, device = home(X_noisy)
    act = get_activation(activation)
    dtype = X_noisy.dtype
    W, b, c = (like(a, X_noisy) for a in (W, b, c))
    n_rows, n_features = X_noisy.shape
    n_components = W.shape[0]
    check_target_tiles(X_noisy, target)
    v = None
    if row_weights is not None:
        v = like(row_weights, X_noisy)
        v = v * (n_rows / float(xp.sum(v)))  # mean 1, as in the NumPy kernel
    if chunk_size is None:
        # No cap from the CPU's cache here: an accelerator wants large chunks.
        item = 8 if dtype == xp.float64 else 4
        chunk_size = chunk_n_rows(n_rows, item * (3 * n_components + n_features))
    use_trace = trace_weight != 0
    curved = use_trace and act.xp_curvature is not None
    row_norms = xp.sum(W * W, axis=1)
    # Sums over chunks start at the first chunk's terms (a minibatch is one
    # chunk: no zeros to allocate and add, a few operations fewer per step).
    g_sum = grad_W = grad_b = grad_c = None
    sq_error = 0.0
    for start in range(0, n_rows, chunk_size):
        stop = min(start + chunk_size, n_rows)
        Xc = X_noisy[start:stop, :]
        vc = None if v is None else v[start:stop]
        H = act.xp_value(Xc @ W.T + b, xp)
        Err = H @ W + c
        Err = Err - (
            Xc if target is None else _target_rows(target, start, stop, xp, device)
        )
        row_sq = xp.sum(Err * Err, axis=1)
        sq_error += float(xp.sum(row_sq if vc is None else vc * row_sq))
        if vc is not None:
            # A row's weight multiplies its loss: weight its residual once.
            Err = Err * vc[:, None]
        slope = act.xp_slope(H, xp)  # f'(a)
        if use_trace:
            g_sum = _add(
                g_sum, xp.sum(slope if vc is None else slope * vc[:, None], axis=0)
            )
        if not gradient:
            continue
        # Half the derivatives of the summed loss; 2 / n_rows comes last.
        grad_c = _add(grad_c, xp.sum(Err, axis=0))
        grad_W = _add(grad_W, H.T @ Err)  # decoder
        D = (Err @ W.T) * slope  # d / d(pre-activation)
        if curved:
            # d/da of trace_weight f'(a) |W_i|^2, halved.
            curve = act.xp_curvature(H, xp) * ((0.5 * trace_weight) * row_norms)
            D = D + (curve if vc is None else curve * vc[:, None])
        grad_W = grad_W + D.T @ Xc  # encoder
        grad_b = _add(grad_b, xp.sum(D, axis=0))
    value = sq_error
    if use_trace:
        value += trace_weight * float(xp.sum(g_sum * row_norms))
    if not gradient:
        return value / n_rows, None
    scale = 2.0 / n_rows
    grad_W = scale * grad_W
    if use_trace:
        grad_W = grad_W + (scale * trace_weight) * g_sum[:, None] * W
    return value / n_rows, (grad_W, scale * grad_b, scale * grad_c)
