"""The four training criteria as pure ``(parameters, data) -> (value, gradient)``.

All four are one computation (``doc/math.rst``, "One kernel for all four").
With ``R = sigmoid(X~ W^T + b) W + c`` the reconstruction of the noisy rows
``X~`` and ``Psi = (R - X~) / sigma^2``:

- ``dae``: ``mean |R - X|^2`` (target: the clean row that made ``X~``);
- ``dsm``: ``mean |Psi - (X - X~) / sigma^2|^2 / 2 = dae / (2 sigma^4)``
  (Proposition 2, the same arithmetic up to one factor);
- ``esm``: ``mean |Psi - (M - X~) / sigma^2|^2 / 2 = mean |R - M|^2 / (2 sigma^4)``
  with ``M`` the Parzen posterior mean of ``X~``: the DSM target replaced by its
  conditional expectation (Proposition 1);
- ``ism``: ``mean |Psi|^2 / 2 + tr dPsi/dx = mean |R - X~|^2 / (2 sigma^4)
  + mean sum_i g_i |W_i|^2 / sigma^2 - d / sigma^2`` with ``g = s (1 - s)``.

So one kernel (:mod:`sklearn_dsm._kernel`), a squared error against a
target plus an optional trace term, serves all four; this module gives each
criterion its target, scale and noise, and registers it in ``OBJECTIVES``.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_random_state

from ._chunking import chunk_n_rows, row_slabs
from ._kernel import squared_error_and_trace
from ._normalisable import tail_penalty
from ._theta import pack, unpack
from ._xp import home, like, to_numpy


def _scaled(value_and_grad, factor, shift=0.0):
    """Scale a (value, grads) pair by ``factor``; the kernel's arrays are fresh,
    so the gradients are scaled in place rather than copied."""
    value, grads = value_and_grad
    if grads is not None and isinstance(grads[0], np.ndarray):
        factor_t = grads[0].dtype.type(factor)
        for g in grads:
            g *= factor_t
    elif grads is not None:  # another namespace (array API dispatch)
        grads = tuple(factor * g for g in grads)
    return value * factor + shift, grads


def dae_objective(
    W,
    b,
    c,
    X_noisy,
    X_clean,
    sigma=None,
    *,
    chunk_size=None,
    workspace=None,
    row_weights=None,
    activation="sigmoid",
    out=None,
    gradient=True,
):
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
    workspace : Workspace, default=None
        Scratch buffers to reuse across evaluations (a fit passes one); made
        afresh when None or when its shapes do not match.
    row_weights : ndarray of shape (K * n,), default=None
        Non-negative weight of each noisy row (its clean row's sample
        weight): the mean over rows becomes a weighted mean.
    activation : str or Activation, default="sigmoid"
        The hidden units' activation (:mod:`sklearn_dsm._activations`).
    out : tuple of ndarray, default=None
        Arrays of shapes (H, d), (H,), (d,) in the dtype of ``X_noisy`` that
        receive the gradients (and are returned), instead of fresh ones.
    gradient : bool, default=True
        False: the value alone, from the forward pass; ``grads`` is None.

    Returns
    -------
    value : float
    grads : tuple of ndarray or None
        Gradients with respect to (W, b, c), in the dtype of ``X_noisy``.
    """
    return squared_error_and_trace(
        W,
        b,
        c,
        X_noisy,
        X_clean,
        0.0,
        chunk_size,
        workspace,
        row_weights,
        activation,
        out,
        gradient,
    )


def dsm_objective(
    W,
    b,
    c,
    X_noisy,
    X_clean,
    sigma,
    *,
    chunk_size=None,
    workspace=None,
    row_weights=None,
    activation="sigmoid",
    out=None,
    gradient=True,
):
    """J_DSM = J_DAE / (2 sigma^4): denoising score matching (Proposition 2).

    Same arguments and returns as :func:`dae_objective`.
    """
    return _scaled(
        dae_objective(
            W,
            b,
            c,
            X_noisy,
            X_clean,
            chunk_size=chunk_size,
            workspace=workspace,
            row_weights=row_weights,
            activation=activation,
            out=out,
            gradient=gradient,
        ),
        0.5 / sigma**4,
    )


def esm_objective(
    W,
    b,
    c,
    X_noisy,
    parzen_mean,
    sigma,
    *,
    chunk_size=None,
    workspace=None,
    row_weights=None,
    activation="sigmoid",
    out=None,
    gradient=True,
):
    """J_ESM: explicit score matching to the Parzen score of the training set.

    ``parzen_mean`` is :func:`parzen_posterior_mean` of ``X_noisy`` (one row per
    noisy row); ``(parzen_mean - X_noisy) / sigma^2`` is the Parzen score, so the
    loss is ``mean |R - parzen_mean|^2 / (2 sigma^4)``.
    """
    return _scaled(
        squared_error_and_trace(
            W,
            b,
            c,
            X_noisy,
            parzen_mean,
            0.0,
            chunk_size,
            workspace,
            row_weights,
            activation,
            out,
            gradient,
        ),
        0.5 / sigma**4,
    )


def ism_objective(
    W,
    b,
    c,
    X_noisy,
    target=None,
    sigma=1.0,
    *,
    chunk_size=None,
    workspace=None,
    row_weights=None,
    activation="sigmoid",
    out=None,
    gradient=True,
):
    """J_ISM: Hyvarinen's implicit score matching on the rows of ``X_noisy``.

    ``target`` must be None (ISM has no target; the argument keeps the shared
    signature). On clean rows this is Hyvarinen's original estimator.
    """
    if target is not None:
        raise ValueError("ism_objective takes no target; pass target=None.")
    return _scaled(
        squared_error_and_trace(
            W,
            b,
            c,
            X_noisy,
            None,
            2.0 * sigma**2,
            chunk_size,
            workspace,
            row_weights,
            activation,
            out,
            gradient,
        ),
        0.5 / sigma**4,
        shift=-X_noisy.shape[1] / sigma**2,
    )


def flat_objective(
    theta,
    X_noisy,
    target,
    *,
    objective,
    sigma,
    alpha,
    shape,
    workspace=None,
    row_weights=None,
    activation="sigmoid",
    tail_bound=None,
    out=None,
    gradient=True,
):
    """The objective as the optimisers see it, L2 penalty included.

    ``theta`` is the flat float64 vector of :mod:`sklearn_dsm._theta` for
    ``shape = (n_components, n_features)``; the value and the flat float64
    gradient are ``objective + alpha |W|^2 / 2`` in the units the objective
    is optimised in (``dae`` is optimised as ``dsm``: see :class:`Objective`).
    L-BFGS, Adam and the early-stopping validation all call this one function.
    ``tail_bound`` (densities of an activation that grows faster than
    linearly) adds :func:`sklearn_dsm._normalisable.tail_penalty`, strong
    enough to hold the largest singular value of W near the bound.

    Adam's path: ``theta`` in the data's dtype (no cast), ``out`` a flat
    buffer like ``theta`` that receives the gradient and is returned;
    ``gradient=False`` returns ``(value, None)`` from the forward pass alone.

    ``X_noisy`` of another array-API namespace: the objective runs there
    (:func:`_device_flat_objective`).
    """
    if not isinstance(X_noisy, np.ndarray):
        return _device_flat_objective(
            theta,
            X_noisy,
            target,
            objective=objective,
            sigma=sigma,
            alpha=alpha,
            shape=shape,
            row_weights=row_weights,
            activation=activation,
            tail_bound=tail_bound,
            gradient=gradient,
        )
    function = OBJECTIVES[objective].optimised
    dtype = X_noisy.dtype
    if out is not None and out.dtype != dtype:
        raise ValueError(
            f"out has dtype {out.dtype}; the gradient buffer must have the "
            f"data's dtype {dtype}."
        )
    W, b, c = unpack(theta, *shape, dtype)
    value, grads = function(
        W,
        b,
        c,
        X_noisy,
        target,
        sigma,
        workspace=workspace,
        row_weights=row_weights,
        activation=activation,
        out=None if out is None else unpack(out, *shape, dtype),
        gradient=gradient,
    )
    if alpha:
        value += 0.5 * alpha * float(np.vdot(W, W))
    if tail_bound is not None:
        strength = _tail_strength(X_noisy.shape[1], sigma)
        tail_value, tail_grad = tail_penalty(W, tail_bound, strength)
        value += tail_value
    if not gradient:
        return value, None
    gW, gb, gc = grads
    if alpha:
        gW += dtype.type(alpha) * W
    if tail_bound is not None:
        gW += tail_grad
    return value, (pack(gW, gb, gc) if out is None else out)


def _tail_strength(n_features, sigma):
    # The criteria are O(d / sigma^2) in these units, and so is the pull
    # on W: a hundred times that keeps the excess over the bound at a few
    # percent of it.
    return 100.0 * n_features / sigma**2


def _device_flat_objective(
    theta,
    X_noisy,
    target,
    *,
    objective,
    sigma,
    alpha,
    shape,
    row_weights,
    activation,
    tail_bound,
    gradient,
):
    """:func:`flat_objective` with the data in another array-API namespace.

    The objective runs in ``X_noisy``'s namespace, on its device and in its
    dtype. ``theta`` is either NumPy (L-BFGS's float64 vector: it is moved
    to the device, and the flat gradient comes back as float64 NumPy, one
    transfer each way per evaluation) or already on the device in the
    data's dtype (Adam's, whose gradient stays there). The spectral penalty
    of ``tail_bound`` needs W's largest singular vectors, which are computed
    on the host (W is H x d; the data never leave the device).
    """
    xp, _ = home(X_noisy)
    on_host = isinstance(theta, np.ndarray)
    flat = like(theta, X_noisy) if on_host else theta
    H, d = shape
    W, b, c = unpack(flat, H, d)
    value, grads = OBJECTIVES[objective].optimised(
        W,
        b,
        c,
        X_noisy,
        target,
        sigma,
        row_weights=row_weights,
        activation=activation,
        gradient=gradient,
    )
    if alpha:
        value += 0.5 * alpha * float(xp.sum(W * W))
    if tail_bound is not None:
        tail_value, tail_grad = tail_penalty(
            to_numpy(W).astype(np.float64), tail_bound, _tail_strength(d, sigma)
        )
        value += tail_value
    if not gradient:
        return value, None
    gW, gb, gc = grads
    if alpha:
        gW = gW + alpha * W
    if tail_bound is not None:
        gW = gW + like(tail_grad, X_noisy)
    grad = xp.concat([xp.reshape(gW, (-1,)), gb, gc])
    return value, (to_numpy(grad).astype(np.float64) if on_host else grad)


def parzen_posterior_mean(X_query, X_train, sigma, *, chunk_size=None, weights=None):
    """Posterior mean ``m(x~) = sum_i pi_i(x~) x_i`` under the Parzen density.

    ``pi_i(x~) = softmax_i(-|x~ - x_i|^2 / (2 sigma^2) + log w_i)``, with
    ``weights`` w (the training rows' sample weights; 1 if None). The Parzen score is
    ``(m(x~) - x~) / sigma^2``. Exact (a max-shifted softmax, in float64 whatever
    the input dtype, after centring both sets on the training mean so the
    expanded distances cancel little), in chunks of query rows so that memory
    stays O(chunk_size x n_train). Returned in the dtype of ``X_query``.
    """
    center = X_train.mean(axis=0, dtype=np.float64)
    Xt = np.asarray(X_train, dtype=np.float64) - center
    half_sq_norms = 0.5 * np.einsum("ij,ij->i", Xt, Xt)
    inv_var = 1.0 / sigma**2
    if weights is not None:
        # A weight multiplies a kernel: log w joins the logits (divided by
        # inv_var, which multiplies them below). Zero weight: -inf, weight 0.
        with np.errstate(divide="ignore"):
            half_sq_norms = half_sq_norms - np.log(weights) / inv_var
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
        # Far training rows get weight exp(-huge) = 0: exact, not an error.
        with np.errstate(under="ignore"):
            np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        out[start:stop] = logits @ Xt + center
    return out


def corrupt(X, sigma, n_corruptions, random_state):
    """``n_corruptions`` stacked blocks of ``X + sigma * eps``, eps ~ N(0, I).

    Returns an array of shape (n_corruptions * n, d) in the dtype of ``X``;
    block ``k`` holds the k-th noisy copy of every row. The noise is drawn in
    float64 and then cast, so a float32 fit sees the same draws as a float64 one.
    It is drawn a slab of rows at a time, in the order of the stream, so the
    float64 temporary stays small (a whole float64 copy of the noise would be
    twice the size of a float32 result). ``n_corruptions=0`` returns ``X``
    itself (no corruption).
    """
    if n_corruptions == 0:
        return X
    rng = check_random_state(random_state)
    n, d = X.shape
    out = np.empty((n_corruptions * n, d), dtype=X.dtype)
    for block in range(0, n_corruptions * n, n):
        for start, stop in row_slabs(n, d):
            eps = rng.standard_normal((stop - start, d))
            eps *= sigma
            eps += X[start:stop]
            out[block + start : block + stop] = eps
    return out


def row_weights(weights, X_noisy, X):
    """The sample weights of ``X``'s rows, for each of their noisy copies in
    ``X_noisy`` (:func:`corrupt`'s stacked blocks); None stays None."""
    if weights is None:
        return None
    return np.tile(weights, X_noisy.shape[0] // X.shape[0])


def _clean_rows(X, X_noisy, sigma, weights=None):
    return X


def _parzen_target(X, X_noisy, sigma, weights=None):
    return parzen_posterior_mean(X_noisy, X, sigma, weights=weights)


def _no_target(X, X_noisy, sigma, weights=None):
    return None


def _unit(sigma):
    return 1.0


def _dae_units(sigma):
    return 2.0 * sigma**4


@dataclass(frozen=True)
class Objective:
    """One training criterion: everything the estimators and solvers need.

    Attributes
    ----------
    function : callable
        ``(W, b, c, X_noisy, target, sigma, *, chunk_size, workspace,
        row_weights, activation) -> (value, (gW, gb, gc))``: the criterion in its own
        units.
    optimised : callable
        The function the optimisers minimise, same signature. ``dae`` is
        optimised as ``dsm``: by Proposition 2 they are one function up to the
        factor ``2 sigma^4``, so the two run one optimisation (the same iterates
        and stopping decisions, bit for bit) and differ only in the units of
        the reported loss.
    target : callable
        ``(X, X_noisy, sigma, weights=None) -> target``: the theta-independent
        data the criterion compares against, made once per fit (or per batch);
        ``weights`` are the rows' sample weights.
    units : callable
        ``sigma -> factor`` from the optimised function's units to the
        criterion's own, applied to every reported loss.
    needs_noise : bool
        False if the criterion is defined on clean rows (``n_corruptions=0``).
    """

    function: Callable
    optimised: Callable
    target: Callable
    units: Callable = _unit
    needs_noise: bool = True


# The registry: a new criterion is one function and one entry here.
OBJECTIVES = {
    "dae": Objective(dae_objective, dsm_objective, _clean_rows, units=_dae_units),
    "dsm": Objective(dsm_objective, dsm_objective, _clean_rows),
    "esm": Objective(esm_objective, esm_objective, _parzen_target),
    "ism": Objective(ism_objective, ism_objective, _no_target, needs_noise=False),
}


def objective_target(objective, X, X_noisy, sigma, weights=None):
    """The theta-independent data that ``objective`` compares against.

    ``dae``/``dsm``: the clean rows; ``esm``: the Parzen posterior mean of every
    noisy row; ``ism``: nothing.
    """
    return OBJECTIVES[objective].target(X, X_noisy, sigma, weights)
