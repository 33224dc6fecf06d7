"""The one kernel of the four objectives: a squared error and a trace term.

``squared_error_and_trace`` evaluates ``mean w |R - T|^2`` (``R`` the tied
reconstruction of the rows, ``T`` a target) plus an optional Jacobian-trace
term and their gradients in theta, a chunk of rows at a time in reused
buffers (:class:`Workspace`). It costs five (m x d x H) matrix products per
evaluation (two forward, three backward); the trace term adds none.
:mod:`sklearn_dsm._objectives` builds the four criteria on it
(``doc/math.rst``, "One kernel for all four").
"""

import numpy as np

from ._activations import get_activation
from ._chunking import chunk_n_rows
from ._kernel_xp import check_target_tiles, squared_error_and_trace_xp


def _sigmoid_inplace(A):
    """sigmoid(A) written into A, as ``0.5 * tanh(A / 2) + 0.5``.

    Algebraically equal to ``scipy.special.expit`` and as safe (tanh saturates,
    nothing overflows), but about 3x faster; its error is absolute (~1e-16),
    not relative, which the objectives never notice.
    """
    A *= 0.5
    np.tanh(A, out=A)
    A *= 0.5
    A += 0.5
    return A


# Rows per chunk when working_memory allows more: large enough that the
# products run at full BLAS speed, small enough that the elementwise passes
# over a chunk's (rows x H) buffers stay in cache (benchmarks/bench_speed.py).
_MAX_CHUNK_ROWS = 2048


class Workspace:
    """Scratch buffers of one objective evaluation, reused across evaluations.

    An L-BFGS fit evaluates the objective hundreds of times on arrays of the
    same shapes; allocating its (chunk x H) and (chunk x d) temporaries afresh
    each time costs about as much as the arithmetic at small sizes. A fit makes
    one Workspace and passes it to every evaluation. Holds
    ``itemsize x chunk_size x (3 H + d)`` bytes plus two (H x d) accumulators.
    """

    def __init__(self, chunk_size, n_features, n_components, dtype):
        dtype = np.dtype(dtype)
        self.chunk_size = int(chunk_size)
        self.shape = (n_features, n_components, dtype)
        m, d, H = self.chunk_size, n_features, n_components
        self.T = np.empty((m, H), dtype=dtype)
        self.D = np.empty((m, H), dtype=dtype)
        self.G = np.empty((m, H), dtype=dtype)
        self.Err = np.empty((m, d), dtype=dtype)
        self.ones = np.ones(m, dtype=dtype)
        self.dec = np.empty((H, d), dtype=dtype)
        self.enc = np.empty((H, d), dtype=dtype)
        self.tmp = np.empty((H, d), dtype=dtype)

    @classmethod
    def for_data(cls, X_noisy, n_components, chunk_size=None):
        """A workspace sized for ``X_noisy`` and the configured working memory."""
        return cls.for_shape(*X_noisy.shape, n_components, X_noisy.dtype, chunk_size)

    @classmethod
    def for_shape(cls, n_rows, n_features, n_components, dtype, chunk_size=None):
        """A workspace for noisy data of ``n_rows`` (or fewer) rows."""
        dtype = np.dtype(dtype)
        if chunk_size is None:
            row_bytes = dtype.itemsize * (3 * n_components + n_features)
            chunk_size = chunk_n_rows(n_rows, row_bytes, max_rows=_MAX_CHUNK_ROWS)
        return cls(min(chunk_size, n_rows), n_features, n_components, dtype)

    def fits(self, X_noisy, n_components):
        return self.shape == (X_noisy.shape[1], n_components, X_noisy.dtype)


def _subtract_target(Err, target, start, stop):
    """``Err -= target`` rows ``start:stop`` of the target tiled down the rows.

    A chunk may cross the boundary between two corruption blocks, so the
    target is subtracted block segment by block segment: plain slices, no
    tiled copy of the target is ever made.
    """
    n_target = target.shape[0]
    row = start
    while row < stop:
        offset = row % n_target
        take = min(stop - row, n_target - offset)
        Err[row - start : row - start + take] -= target[offset : offset + take]
        row += take


def squared_error_and_trace(
    W,
    b,
    c,
    X_noisy,
    target,
    trace_weight,
    chunk_size,
    workspace=None,
    row_weights=None,
    activation="sigmoid",
    out=None,
    gradient=True,
):
    """``mean_rows(|R - T|^2 + trace_weight * sum_i g_i |W_i|^2)`` and its gradient.

    With ``row_weights`` (one non-negative weight per row of ``X_noisy``), the
    mean is weighted: ``sum_r v_r loss_r / sum_r v_r``.

    ``target`` is None (the noisy rows themselves, as ISM needs) or an array whose
    row count divides the number of noisy rows: noisy row ``j`` pairs with target
    row ``j % len(target)``. Extra memory is the :class:`Workspace`,
    O(chunk_size x (d + H)), whatever the number of rows.

    ``out``, if given, is a tuple of (H, d), (H,) and (d,) arrays in the
    data's dtype that receive the gradient (Adam passes views of one flat
    buffer, so that no gradient is allocated or packed per batch); they are
    returned. ``gradient=False`` skips the backward pass (three of the five
    products) and returns ``(value, None)``: the stopping monitor needs only
    the value.

    The hidden layer is carried as ``T = u(inner A)`` rather than
    ``h = f(A) = outer T + shift`` (:mod:`sklearn_dsm._activations`; for the
    sigmoid ``T = tanh(A / 2)``, ``h = (1 + T) / 2``): the scales then fold
    into the small (H x d) matrices, ``R = T (outer W) + c + shift colsum(W)``
    and ``f' = outer inner u'(T)``, which saves three passes over every
    (rows x H) buffer; only ``u`` itself touches them elementwise.

    ``X_noisy`` of another array-API namespace (array API dispatch) is
    handed to :func:`sklearn_dsm._kernel_xp.squared_error_and_trace_xp`, the
    same arithmetic in that namespace; ``workspace`` and ``out`` are then
    unused.
    """
    if not isinstance(X_noisy, np.ndarray):
        return squared_error_and_trace_xp(
            W,
            b,
            c,
            X_noisy,
            target,
            trace_weight,
            chunk_size,
            row_weights,
            activation,
            gradient,
        )
    act = get_activation(activation)
    dtype = X_noisy.dtype
    W = np.asarray(W, dtype=dtype)
    b = np.asarray(b, dtype=dtype)
    c = np.asarray(c, dtype=dtype)
    n_rows, n_features = X_noisy.shape
    n_components = W.shape[0]
    check_target_tiles(X_noisy, target)
    if workspace is None or not workspace.fits(X_noisy, n_components):
        workspace = Workspace.for_data(X_noisy, n_components, chunk_size)
    ws = workspace
    if chunk_size is None:
        chunk_size = ws.chunk_size
    chunk_size = min(chunk_size, ws.chunk_size)

    outer = dtype.type(act.outer)
    # A unit scale (the ReLU's) is skipped rather than multiplied: the same
    # numbers, without three (H x d) copies per evaluation.
    W_in = W if act.inner == 1 else dtype.type(act.inner) * W
    W_out = W_in if act.outer == act.inner else outer * W
    # f'(A) = outer inner u'(T)
    W_back_T = W_in.T if act.outer == 1 else (outer * W_in).T
    b_in = b if act.inner == 1 else dtype.type(act.inner) * b
    if act.shift == 0:
        c_shifted = c
    elif act.shift == act.outer:
        c_shifted = c + W_out.sum(axis=0)
    else:
        c_shifted = c + (dtype.type(act.shift) * W).sum(axis=0)
    use_trace = trace_weight != 0
    curved = use_trace and act.unit_curvature is not None
    if use_trace:
        row_norms = np.einsum("ij,ij->i", W, W)
        g_sum = np.zeros(n_components, dtype=dtype)
    if curved:
        # d/dA of g = f'(A) = outer inner u'(T) is outer inner^2 u''(T), and
        # u'' = unit_curvature T u'; the kernel accumulates half the
        # derivative of its sum (sigmoid: -trace_weight / 8).
        coef = 0.5 * act.outer * act.inner**2 * act.unit_curvature
        trace_coef = dtype.type(coef * trace_weight) * row_norms

    if row_weights is not None:
        # Weights of mean 1, so that the common factor 2 / n_rows below stays.
        v = np.asarray(row_weights, dtype=np.float64)
        v = (v * (n_rows / v.sum())).astype(dtype)
    sq_error = 0.0
    if out is None:
        grad_W = np.empty((n_components, n_features), dtype=dtype)
        grad_b = np.zeros(n_components, dtype=dtype)
        grad_c = np.zeros(n_features, dtype=dtype)
    else:
        grad_W, grad_b, grad_c = out
        grad_b[...] = 0
        grad_c[...] = 0
    for k, start in enumerate(range(0, n_rows, chunk_size)):
        stop = min(start + chunk_size, n_rows)
        m = stop - start
        Xc = X_noisy[start:stop]
        T, D, G, Err = ws.T[:m], ws.D[:m], ws.G[:m], ws.Err[:m]
        ones = ws.ones[:m]
        # Forward: T = u(inner A), Err = R - target.
        np.matmul(Xc, W_in.T, out=T)
        T += b_in
        act.unit(T)
        np.matmul(T, W_out, out=Err)
        Err += c_shifted
        if target is None:
            Err -= Xc
        else:
            _subtract_target(Err, target, start, stop)
        if row_weights is None:
            sq_error += float(np.vdot(Err, Err))
        else:
            # A row's weight multiplies its loss, so its residual is
            # back-propagated times the weight: weight Err once, here.
            vc = v[start:stop]
            sq_error += float(vc @ np.einsum("ij,ij->i", Err, Err))
            Err *= vc[:, None]
        if not gradient:
            if use_trace:
                act.unit_slope(T, G)
                g_sum += (ones if row_weights is None else vc) @ G
            continue
        grad_c += ones @ Err
        # Backward. Decoder: dR/dW through h = outer T + shift gives
        # outer T^T Err plus shift colsum(Err) in every row (both scales
        # applied once, after the loop).
        np.matmul(T.T, Err, out=grad_W if k == 0 else ws.tmp)
        if k:
            grad_W += ws.tmp
        # Encoder: D = (Err W^T) * f' = (Err (outer inner W)^T) * u'(T).
        np.matmul(Err, W_back_T, out=D)
        act.unit_slope(T, G)
        D *= G
        if use_trace:
            g_sum += (ones if row_weights is None else vc) @ G
        if curved:
            G *= T
            G *= trace_coef
            if row_weights is not None:
                G *= vc[:, None]
            D += G
        np.matmul(D.T, Xc, out=ws.enc if k == 0 else ws.tmp)
        if k:
            ws.enc += ws.tmp
        grad_b += ones @ D

    # The sums above are of half the derivatives of the summed loss; the
    # common factor 2 / n_rows is applied once.
    scale = dtype.type(2.0 / n_rows)
    value = sq_error
    if not gradient:
        if use_trace:
            g_sum *= dtype.type(act.outer * act.inner)
            value += trace_weight * float(g_sum @ row_norms)
        return value / n_rows, None
    # (H, d) + (d,): the shift colsum(Err) rows, in units of outer.
    if act.shift == act.outer:
        grad_W += grad_c
    elif act.shift != 0:
        grad_W += dtype.type(act.shift / act.outer) * grad_c
    grad_W *= outer * scale
    ws.enc *= scale
    grad_W += ws.enc
    grad_b *= scale
    grad_c *= scale
    if use_trace:
        g_sum *= dtype.type(act.outer * act.inner)  # g = outer inner u'(T)
        grad_W += (scale * dtype.type(trace_weight) * g_sum)[:, None] * W
        value += trace_weight * float(g_sum @ row_norms)
    return value / n_rows, (grad_W, grad_b, grad_c)
