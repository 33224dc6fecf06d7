"""Whether ``exp(-E)`` integrates, for activations whose ``F`` grows faster
than linearly.

With ``F`` of linear growth (the sigmoid's softplus) the Gaussian term
``|x|^2 / 2`` wins in every direction and every theta is a density. The
ReLU's ``F(a) = max(a, 0)^2 / 2`` is quadratic: far along a unit direction
``u`` the energy is ``r^2 (1 - g(u)) / (2 sigma^2) + O(r)`` with

    g(u) = sum_i max(W_i u, 0)^2,

so ``exp(-E)`` integrates if and only if the *tail gain* ``G(W) = max over
unit u of g(u)`` is below 1 (``doc/math.rst``, "Any activation"). ``b`` and
``c`` only move the energy by O(r) and do not matter; at ``G = 1`` exactly
the linear terms decide, and the model is not accepted.

``g`` is convex and ``G`` is the maximum of a convex function on the
sphere, which has no closed form in general; :func:`tail_gain` returns
bounds. The upper bound ``|W|_2^2`` (all units active at once) is a proof of
normalisability when below 1; an ascent from many starts gives a lower
bound, a proof of the opposite when it reaches 1. In one and two dimensions
the maximum is computed exactly (two directions; arcs of the circle).
"""

import numpy as np


def _gain(U, W):
    """``g(u)`` for each row of ``U``."""
    A = np.maximum(U @ W.T, 0.0)
    return np.einsum("ij,ij->i", A, A)


def _exact_gain_2d(W):
    """``G(W)`` on the circle: the units' zero lines cut it into arcs on
    which the active set is fixed, so ``g`` is a quadratic form there and its
    maximum is at an end of the arc or at an eigenvector inside it."""
    normal = np.arctan2(W[:, 1], W[:, 0])
    cuts = np.sort(np.mod(np.r_[normal + np.pi / 2, normal - np.pi / 2], 2 * np.pi))
    cuts = np.r_[cuts, cuts[0] + 2 * np.pi]
    candidates = [np.c_[np.cos(cuts), np.sin(cuts)]]
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        if hi - lo <= 0:
            continue
        mid = 0.5 * (lo + hi)
        u_mid = np.array([np.cos(mid), np.sin(mid)])
        active = W @ u_mid > 0
        if not active.any():
            continue
        _, vectors = np.linalg.eigh(W[active].T @ W[active])
        for v in (vectors[:, -1], -vectors[:, -1]):
            angle = np.mod(np.arctan2(v[1], v[0]) - lo, 2 * np.pi) + lo
            if lo <= angle <= hi:
                candidates.append(v[None, :])
    U = np.vstack(candidates)
    gains = _gain(U, W)
    best = int(np.argmax(gains))
    return float(gains[best]), U[best]


def _ascent(W, n_starts, n_iter, rng):
    """A lower bound on ``G(W)``: ``u <- grad g(u) / |grad g(u)|`` from many
    starts. For a convex 2-homogeneous ``g`` each step cannot lower ``g``
    (``g(v) >= |grad g(u)| - g(u) >= g(u)``), so it climbs to a local
    maximum; the starts are the top right singular vectors, every unit's own
    direction and random directions."""
    d = W.shape[1]
    top = np.linalg.svd(W, full_matrices=False)[2][:1]
    U = np.vstack([top, -top, W, rng.standard_normal((n_starts, d))])
    norms = np.linalg.norm(U, axis=1, keepdims=True)
    U = U[norms[:, 0] > 0] / norms[norms[:, 0] > 0]
    for _ in range(n_iter):
        step = np.maximum(U @ W.T, 0.0) @ W
        length = np.linalg.norm(step, axis=1, keepdims=True)
        moving = length[:, 0] > 0
        U[moving] = step[moving] / length[moving]
    gains = _gain(U, W)
    best = int(np.argmax(gains))
    return float(gains[best]), U[best]


def tail_gain(W, *, n_starts=64, n_iter=200, random_state=0):
    """Bounds on the tail gain ``G(W) = max_{|u| = 1} sum_i max(W_i u, 0)^2``.

    Parameters
    ----------
    W : ndarray of shape (n_components, n_features)
        The weights.
    n_starts : int, default=64
        Random starts of the ascent (besides the singular vectors and the rows).
    n_iter : int, default=200
        Steps of the ascent.
    random_state : int, default=0
        Seeds the random starts.

    Returns
    -------
    lower : float
        A ``g(u)`` reached by a unit direction: ``G >= lower``.
    upper : float
        ``G <= upper``; equal to ``lower`` in one and two dimensions, else
        the squared spectral norm of ``W``.
    direction : ndarray of shape (n_features,)
        The unit direction that reaches ``lower``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_dsm._normalisable import tail_gain
    >>> tail_gain(np.array([[2.0], [-0.5]]))[:2]  # along +1: 4; along -1: 0.25
    (4.0, 4.0)
    """
    W = np.asarray(W, dtype=np.float64)
    d = W.shape[1]
    if d == 1:
        U = np.array([[1.0], [-1.0]])
        gains = _gain(U, W)
        best = int(np.argmax(gains))
        return float(gains[best]), float(gains[best]), U[best]
    if d == 2:
        gain, u = _exact_gain_2d(W)
        return gain, gain, u
    rng = np.random.default_rng(random_state)
    lower, u = _ascent(W, n_starts, n_iter, rng)
    upper = float(np.linalg.norm(W, 2) ** 2)
    return lower, max(upper, lower), u


def check_normalisable(W, activation, *, fix):
    """Raise ``ValueError`` unless ``exp(-E)`` is proved to integrate.

    Nothing to prove for activations of bounded growth (the sigmoid). For the
    others the proof is the upper bound of :func:`tail_gain` below 1; the
    error says whether the model is proved not normalisable (a direction
    with gain at least 1) or only not proved normalisable, and ``fix``
    (a sentence) says what to change.
    """
    if activation.bounded_growth:
        return
    # The spectral bound alone proves the common case (a density's fit holds
    # |W|_2 near 0.9); the ascent runs only when it does not.
    if np.linalg.norm(W, 2) < 1.0:
        return
    lower, upper, _ = tail_gain(W)
    if upper < 1.0:
        return
    if lower >= 1.0:
        verdict = (
            f"is not a density: along some direction its {activation.name} "
            f"units grow the log-density like {lower:.3g} |x|^2 / 2 "
            f"against the Gaussian's 1 |x|^2 / 2, so exp(-E) does not integrate"
        )
    else:
        verdict = (
            f"cannot be proved a density: exp(-E) integrates when the tail "
            f"gain max_u sum_i max(W_i u, 0)^2 over unit u is below 1, which "
            f"holds when the largest singular value of W is below 1 (it is "
            f"{np.sqrt(upper):.3g}); the largest gain found is {lower:.3g}"
        )
    raise ValueError(f"This {activation.name} model {verdict}. {fix}")


def tail_penalty(W, bound, strength):
    """``strength / 2 * sum_j max(lambda_j - bound^2, 0)^2`` and its gradient.

    ``lambda_j`` are the eigenvalues of ``W^T W`` (the squared singular
    values of W): zero while every singular value is at most ``bound``, it
    pulls the large ones back otherwise, so that a fit of a density keeps the
    proof ``|W|_2 < 1`` at hand. Its gradient is
    ``2 strength W V diag(max(lambda - bound^2, 0)) V^T``, from one symmetric
    eigendecomposition of the smaller Gram matrix.
    """
    W = np.asarray(W)
    wide = W.shape[0] < W.shape[1]
    gram = W @ W.T if wide else W.T @ W
    eigenvalues, vectors = np.linalg.eigh(gram.astype(np.float64))
    excess = np.maximum(eigenvalues - bound**2, 0.0)
    if not excess.any():
        return 0.0, np.zeros_like(W)
    value = 0.5 * strength * float(excess @ excess)
    middle = (vectors * excess) @ vectors.T
    grad = (middle @ W) if wide else (W @ middle)
    return value, (2.0 * strength * grad).astype(W.dtype, copy=False)
