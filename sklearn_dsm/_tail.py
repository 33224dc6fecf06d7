"""The density's tail: a defensive Student-t component, fitted to the data.

Far from the data the model's energy is ``|z|^2 / (2 sigma^2)`` plus terms of
at most linear growth (softplus), so its tails are those of a Gaussian of
scale ``sigma`` (``doc/math.rst``, "The tail component"): in whitened
coordinates, where the data's own spread is 1 and ``sigma`` is below it,
lighter than the data's own Gaussian. A held-out row ``r`` whitened units
out pays about ``(1 / sigma^2 - 1) r^2 / 2`` nats more than under that
Gaussian, and real data (breast_cancer's malignant tumours) put rows there.
Score matching cannot see this: it fits the score where the data are.

:class:`ScoreMatchingEBM` therefore scores with the mixture

    p(x) = (1 - eps) p_theta(x) + eps t_nu(x; mean, s^2 Sigma),

``p_theta`` the score-matching model, normalised by AIS, and ``t_nu`` the
multivariate Student-t with the data's mean, its covariance ``Sigma`` scaled
by ``s^2``, and ``nu`` degrees of freedom. Both components are normalised,
so the mixture is, exactly. The t is fitted to the training rows alone
(maximum likelihood of ``s`` and ``nu``, :func:`fit_student_t`), as the
data's Gaussian would be; then ``eps`` is the maximum a posteriori weight of
the mixture with both components held fixed, with one pseudo-row given to
the tail and at most 1/2 (:func:`fit_tail_weight`). It is never zero, so a
held-out row far from every training row scores at least
``log eps + log t_nu(x)``, and a row the model explains well loses at most
``-log(1 - eps)`` to the tail.

Everything here works on squared radii ``q = |z|^2`` in the whitened
coordinates ``z = (x - mean) A``, ``A = Sigma^(-1/2)``, and in float64.
"""

import numpy as np
from scipy.linalg import cho_factor, solve_triangular
from scipy.optimize import brentq, minimize
from scipy.special import digamma, expit, gammaln

from ._chunking import row_slabs
from ._scaling import fit_whitening
from ._xp import home, to_namespace, to_numpy, widest_float

# Degrees of freedom are fitted between the Cauchy (1) and a t that no data
# set of any size tells from the Gaussian (1e4: its log-density differs from
# the Gaussian's by O(d^2 / nu) nats).
DOF_BOUNDS = (1.0, 1e4)
# The weight is found to this precision, between these bounds.
_WEIGHT_TOL = 1e-12
_WEIGHT_BOUNDS = (1e-12, 0.5)


def student_t_log_density(q, n_features, scale, dof):
    """``log t_nu(z; 0, s^2 I)`` from the squared radii ``q = |z|^2``.

    ``lgamma((nu + d) / 2) - lgamma(nu / 2) - d / 2 log(nu pi) - d log s
    - (nu + d) / 2 log1p(q / (nu s^2))``.
    """
    d, s, nu = n_features, float(scale), float(dof)
    const = gammaln((nu + d) / 2) - gammaln(nu / 2) - d / 2 * np.log(nu * np.pi)
    return const - d * np.log(s) - (nu + d) / 2 * np.log1p(q / (nu * s * s))


def _negative_log_likelihood(params, q, d, weights):
    """Mean negative log-likelihood of the t in ``(log s, log nu)`` and its
    gradient."""
    log_s, log_nu = params
    s2, nu = np.exp(2 * log_s), np.exp(log_nu)
    ratio = q / (nu * s2)
    log_density = student_t_log_density(q, d, np.exp(log_s), nu)
    pull = (nu + d) * ratio / (1 + ratio)  # the radius's share of the fit
    d_log_s = pull - d
    d_nu = (
        0.5 * (digamma((nu + d) / 2) - digamma(nu / 2))
        - d / (2 * nu)
        - 0.5 * np.log1p(ratio)
        + 0.5 * pull / nu
    )
    value = -np.average(log_density, weights=weights)
    grad = -np.array(
        [np.average(d_log_s, weights=weights), nu * np.average(d_nu, weights=weights)]
    )
    return value, grad


def fit_student_t(q, n_features, weights=None):
    """Maximum-likelihood scale ``s`` and degrees of freedom ``nu`` of the
    centred t ``t_nu(0, s^2 I)`` from squared whitened radii ``q``.

    ``nu`` is kept within :data:`DOF_BOUNDS`; ``s`` is free. L-BFGS-B on
    ``(log s, log nu)`` with the analytic gradient, from the Gaussian's
    ``s = 1`` and ``nu = 30``.

    Returns
    -------
    scale, dof : float
    """
    q = np.asarray(q, dtype=np.float64)
    bounds = [(None, None), tuple(np.log(DOF_BOUNDS))]
    result = minimize(
        _negative_log_likelihood,
        x0=[0.0, np.log(30.0)],
        args=(q, n_features, weights),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
    )
    log_s, log_nu = result.x
    return float(np.exp(log_s)), float(np.clip(np.exp(log_nu), *DOF_BOUNDS))


def fit_tail_weight(log_p_model, log_p_tail, weights=None):
    """The tail's weight ``eps``: maximum a posteriori with one pseudo-row.

    Maximises ``sum_i w_i log((1 - eps) p_i + eps t_i) + log eps`` (a
    Beta(2, 1) prior: one row's worth of evidence for the tail) over
    ``eps`` in (0, 1/2], both components fixed. The cap keeps the density
    the model's, with the t as its safety net: where the t explains the
    training rows better than the fitted model does (a poor ``sigma``), the
    weight stops at 1/2 instead of replacing the model, so that held-out
    likelihood still ranks the model's fits. The objective is concave in
    ``eps`` and its derivative

        sum_i w_i (2 u_i - 1) / ((1 - eps) (1 - u_i) + eps u_i) + 1 / eps,

    ``u_i = t_i / (p_i + t_i)`` (bounded, so it never overflows), falls from
    ``+inf`` at 0: its root is the maximum (Brent's method), or the cap when
    the derivative is still positive there. EM would climb there too, but
    slowly where the components overlap.
    """
    log_p_model = np.asarray(log_p_model, dtype=np.float64)
    log_p_tail = np.asarray(log_p_tail, dtype=np.float64)
    w = np.ones_like(log_p_model) if weights is None else np.asarray(weights, float)
    with np.errstate(invalid="ignore"):
        u = expit(log_p_tail - log_p_model)
    # A row that neither component can hold (both log-densities -inf) says
    # nothing about the weight.
    u = np.where(np.isfinite(u), u, 0.5)
    lift = 2 * u - 1

    def slope(eps):
        return float(w @ (lift / ((1 - eps) * (1 - u) + eps * u))) + 1 / eps

    low, high = _WEIGHT_BOUNDS
    if slope(high) >= 0:
        return high
    if slope(low) <= 0:  # the rows outweigh the pseudo-row even at the floor
        return low
    return float(brentq(slope, low, high, xtol=_WEIGHT_TOL))


def mixture_log_density(log_p_model, log_p_tail, weight):
    """``log((1 - eps) exp(log_p_model) + eps exp(log_p_tail))``, overflow-free
    (in the namespace of the arrays: array API dispatch)."""
    if not isinstance(log_p_model, np.ndarray):
        xp, _ = home(log_p_model)
        low, high = float(np.log1p(-weight)), float(np.log(weight))
        return xp.logaddexp(low + log_p_model, high + log_p_tail)
    return np.logaddexp(np.log1p(-weight) + log_p_model, np.log(weight) + log_p_tail)


def tail_log_density(X, location, scatter, dof):
    """``log t_nu(x; location, scatter)`` of each row of ``X``, in float64.

    The multivariate Student-t with ``dof`` degrees of freedom, location
    ``location`` and scatter (shape) matrix ``scatter``, its covariance
    ``scatter * nu / (nu - 2)`` for ``nu > 2``; as
    ``scipy.stats.multivariate_t(location, scatter, df=dof).logpdf``.
    The scatter is factored once; the rows are whitened a slab at a time,
    so float32 data is never copied whole to float64.

    ``X`` of another array-API namespace (array API dispatch) is whitened on
    its device by the inverse of the scatter's Cholesky factor (d x d, made
    on the host), in the widest float the device has.
    """
    if not isinstance(X, np.ndarray):
        return _tail_log_density_xp(X, location, scatter, dof)
    n, d = np.shape(X)
    L = np.tril(cho_factor(scatter, lower=True)[0])
    q = np.empty(n)
    for start, stop in row_slabs(n, d):
        centred = (np.asarray(X[start:stop], dtype=np.float64) - location).T
        Z = solve_triangular(L, centred, lower=True, check_finite=False)
        q[start:stop] = np.einsum("ij,ij->j", Z, Z)
    log_det = float(np.log(np.diag(L)).sum())
    return student_t_log_density(q, d, 1.0, dof) - log_det


def _tail_log_density_xp(X, location, scatter, dof):
    xp, device = home(X)
    location, scatter = to_numpy(location), to_numpy(scatter)
    d = location.shape[0]
    L = np.tril(cho_factor(scatter, lower=True)[0])
    L_inv = solve_triangular(L, np.eye(d), lower=True, check_finite=False)
    wide = widest_float(X)
    centred = xp.astype(X, wide) - xp.astype(to_namespace(location, xp, device), wide)
    Z = centred @ xp.astype(to_namespace(L_inv.T, xp, device), wide)
    q = xp.sum(Z * Z, axis=1)
    nu = float(dof)
    const = gammaln((nu + d) / 2) - gammaln(nu / 2) - d / 2 * np.log(nu * np.pi)
    log_det = float(np.log(np.diag(L)).sum())
    return (float(const) - log_det) - (nu + d) / 2 * xp.log1p(q / nu)


def sample_tail(n_samples, location, scatter, dof, rng):
    """``n_samples`` draws from ``t_nu(location, scatter)``: a Gaussian draw
    divided by ``sqrt(chi2_nu / nu)``."""
    L = np.tril(cho_factor(scatter, lower=True)[0])
    d = location.shape[0]
    gauss = rng.standard_normal((n_samples, d)) @ L.T
    shrink = np.sqrt(rng.chisquare(dof, size=n_samples) / dof)
    return location + gauss / shrink[:, None]


def fit_tail_component(Z, model_log_density, weights=None, coordinates=None):
    """The tail component fitted beside a normalised model, as attributes.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_features)
        The training rows, in the model's coordinates.
    model_log_density : callable
        ``rows -> log p_theta(rows)`` (normalised), on float64 slabs of ``Z``.
    weights : ndarray of shape (n_samples,) or None, default=None
        The rows' sample weights.
    coordinates : tuple (mean, whitening) or None, default=None
        The model's whitening (``whiten=True``): ``Z`` is then white
        already, and the t is mapped back through it. None: the t is fitted
        in the whitened coordinates of ``Z`` itself.

    Returns
    -------
    attributes : dict
        ``tail_weight_``, ``tail_dof_``, ``tail_location_``, ``tail_scatter_``
        (``scipy.stats.multivariate_t(location, scatter, df=dof)`` is the
        component, in the input's coordinates).

    Notes
    -----
    The scale and degrees of freedom are fitted to the rows alone, then the
    weight with the model's density beside it (doc/math.rst, "The tail
    component"). The rows are read a slab at a time: no float64 copy of
    float32 data.
    """
    n, d = Z.shape
    if coordinates is not None:
        mean, whitening_ = coordinates
        centre, whitening = np.zeros(d), None
        unwhitening = np.linalg.inv(whitening_.astype(np.float64))
        location = mean.astype(np.float64)
        log_det = 0.0
    else:
        centre, whitening, unwhitening, log_det = fit_whitening(Z, weights)
        location = centre
    q, log_p_model = np.empty(n), np.empty(n)
    for start, stop in row_slabs(n, d):
        rows = np.array(Z[start:stop], dtype=np.float64)  # a copy
        log_p_model[start:stop] = model_log_density(rows)
        rows -= centre
        if whitening is not None:
            rows = rows @ whitening
        q[start:stop] = np.einsum("ij,ij->i", rows, rows)
    scale, dof = fit_student_t(q, d, weights)
    # Both log-densities in the coordinates of Z.
    log_p_tail = student_t_log_density(q, d, scale, dof) + log_det
    weight = fit_tail_weight(log_p_model, log_p_tail, weights)
    scatter = scale**2 * (unwhitening @ unwhitening)
    return {
        "tail_weight_": weight,
        "tail_dof_": dof,
        "tail_location_": location,
        "tail_scatter_": 0.5 * (scatter + scatter.T),
    }
