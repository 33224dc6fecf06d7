"""Chains on the annealing path to the model, and draws from it.

The unnormalised density is ``exp(-E(x))`` with (``doc/math.rst``, "The
normalising constant")

    -E(x) = -|x - c|^2 / (2 sigma^2) + |c|^2 / (2 sigma^2) + F(x) / sigma^2,
    F(x) = sum_i F_f(W_i x + b_i),

with ``F_f`` the antiderivative of the activation (softplus for the sigmoid,
:mod:`sklearn_dsm._activations`),

so it is the Gaussian ``N(c, sigma^2 I)`` tilted by ``exp(F / sigma^2)``. The
path starts at a base Gaussian ``g(x) = exp(-|x - m|^2 / (2 s^2))``, whose
normaliser ``(2 pi s^2)^(d / 2)`` is known, and runs through the geometric mean
``f_beta = g^(1 - beta) exp(-beta E)``, beta from 0 to 1, to the model. The
base is ``N(c, sigma^2 I)`` unless the caller knows better: the model's own
Gaussian is narrower than the data whenever the units widen it, and a base
with the data's mean and spread (what :class:`ScoreMatchingEBM` passes)
starts the chains where the model's mass is. Each temperature is visited by
one Metropolis-adjusted Langevin (MALA) step, whose drift is the closed-form
score of ``f_beta``. :func:`anneal` runs the
path (annealed importance sampling: :mod:`sklearn_dsm._partition` turns its
weights into log Z); :func:`sample_model` turns it into draws.

Everything here runs in float64 whatever the model's dtype: log-weights are
sums of thousands of increments. The chains run where the parameters live:
NumPy, or, for a model fitted under array API dispatch, the parameters'
namespace and device, in the widest float the device has (float64 but on
Apple's MPS). The random draws are made on the host from the same stream
either way and moved to the device, so a device run differs from the NumPy
run by rounding alone (``doc/array_api.rst``).
"""

import numpy as np
from scipy.special import expit, logsumexp
from sklearn.utils import check_random_state

from ._activations import get_activation
from ._xp import home, take_rows, to_namespace, to_numpy, widest_float

# MALA's acceptance rate that maximises efficiency for smooth targets (Roberts
# and Rosenthal, 1998); the step size is steered towards it.
_TARGET_ACCEPTANCE = 0.574


class _Chains:
    """A batch of chains on the path f_beta, with what each MALA step reuses.

    For every chain it keeps ``F(x)`` and the decoder drift ``s(Wx + b) W``,
    from which ``log f_beta`` and its gradient follow at *any* beta without
    another matrix product: moving to the next temperature is free.
    """

    def __init__(self, W, b, c, sigma, X, base=None, activation="sigmoid"):
        # NumPy, or the namespace and device of a model fitted under array
        # API dispatch: the chains run where W lives.
        self.xp, self.device = home(W)
        self.wide = widest_float(W)
        self.W, self.b, self.c = (self._here(a) for a in (W, b, c))
        self.activation = get_activation(activation)
        self.var = float(sigma) ** 2
        base_mean, base_scale = base_gaussian(c, sigma, base)
        self.base_mean = self._here(base_mean)
        self.base_var = base_scale**2
        # -E(x) = (F - |x - c|^2 / 2) / sigma^2 + this constant.
        self.log_model_shift = 0.5 * float(self._dot(self.c, self.c)) / self.var
        self.X = np.array(X, dtype=np.float64) if self.xp is np else self._here(X)
        self.F, self.drift = self._features(self.X)

    def _here(self, array):
        """``array`` (NumPy or the chains' namespace) in the chains' float,
        where they run."""
        if self.xp is np:
            return np.asarray(array, dtype=np.float64)
        if isinstance(array, np.ndarray):
            array = to_namespace(np.asarray(array, dtype=np.float64), *home(self.W))
        return self.xp.astype(array, self.wide, copy=False)

    def _drawn(self, values):
        """Host draws (float64 NumPy), moved to where the chains run."""
        return values if self.xp is np else self._here(values)

    def _dot(self, a, b):
        """Row-wise dot products of ``a`` and ``b`` (or the dot product of two
        vectors)."""
        if self.xp is np:
            return a @ b if a.ndim == 1 else np.einsum("ij,ij->i", a, b)
        return self.xp.sum(a * b, axis=-1)

    def _features(self, X):
        xp, act = self.xp, self.activation
        if xp is not np:
            A = X @ self.W.T + self.b
            F = xp.sum(act.xp_antiderivative(A, xp), axis=1)
            return F, act.xp_value(A, xp) @ self.W
        A = X @ self.W.T
        A += self.b
        F = act.antiderivative(A.copy()).sum(axis=1)
        # The elementwise passes, not the products, dominate a step at these
        # sizes (256 chains x 64 units): the activation's affine unit form
        # (for the sigmoid, tanh) is 2-3x faster than expit and as safe.
        if act.inner != 1:
            A *= act.inner
        act.unit(A)
        if act.outer != 1:
            A *= act.outer
        if act.shift:
            A += act.shift
        return F, A @ self.W

    def _log_f_and_grad(self, X, F, drift, beta):
        """``log f_beta`` (up to a constant) and its gradient, for each chain."""
        diff = self.c - X
        log_f = (F - 0.5 * self._dot(diff, diff)) / self.var
        grad = (diff + drift) / self.var
        if beta == 1.0:
            return log_f, grad  # the model itself: the base drops out
        to_base = self.base_mean - X
        log_f *= beta
        log_f += (0.5 * (1.0 - beta) / self.base_var) * self._dot(to_base, -to_base)
        grad *= beta
        grad += ((1.0 - beta) / self.base_var) * to_base
        return log_f, grad

    def log_model_over_base(self):
        """``-E(x) - log g(x)`` for each chain: the AIS weight's increment per
        unit of beta."""
        diff = self.c - self.X
        to_base = self.base_mean - self.X
        return (
            (self.F - 0.5 * self._dot(diff, diff)) / self.var
            + self.log_model_shift
            + 0.5 * self._dot(to_base, to_base) / self.base_var
        )

    def mala_step(self, beta, step, rng):
        """One MALA step at temperature beta for every chain; returns acceptance."""
        log_f, grad = self._log_f_and_grad(self.X, self.F, self.drift, beta)
        noise = self._drawn(rng.standard_normal(self.X.shape))
        half_step2 = 0.5 * step**2
        X_new = self.X + half_step2 * grad + step * noise
        F_new, drift_new = self._features(X_new)
        log_f_new, grad_new = self._log_f_and_grad(X_new, F_new, drift_new, beta)
        # log q(x | x') - log q(x' | x) of the Langevin proposal.
        back = self.X - X_new - half_step2 * grad_new
        log_q_ratio = 0.5 * self._dot(noise, noise) - self._dot(back, back) / (
            2 * step**2
        )
        log_u = self._drawn(np.log(rng.uniform(size=self.X.shape[0])))
        accept = log_u < log_f_new - log_f + log_q_ratio
        if self.xp is not np:
            xp, rows = self.xp, self.xp.expand_dims(accept, axis=1)
            self.X = xp.where(rows, X_new, self.X)
            self.F = xp.where(accept, F_new, self.F)
            self.drift = xp.where(rows, drift_new, self.drift)
            return float(xp.mean(xp.astype(accept, self.wide)))
        np.copyto(self.X, X_new, where=accept[:, None])
        np.copyto(self.F, F_new, where=accept)
        np.copyto(self.drift, drift_new, where=accept[:, None])
        return float(accept.mean())

    def keep(self, rows):
        """Keep the chains ``rows`` (NumPy indices, repeats allowed)."""
        self.X, self.F, self.drift = (
            take_rows(a, rows) for a in (self.X, self.F, self.drift)
        )


def base_gaussian(c, sigma, base=None):
    """``(mean, scale)`` of the isotropic Gaussian the annealing starts from:
    ``base`` if given, else the model's own ``N(c, sigma^2 I)``; the mean
    as a float64 NumPy vector."""
    mean, scale = (c, sigma) if base is None else base
    return np.asarray(to_numpy(mean), dtype=np.float64), float(scale)


def _adapt(step, acceptance, sigma):
    """Multiplicative steering of the MALA step towards the target acceptance.

    Used between temperatures of the annealing only. The step for temperature t
    then depends on the chains' acceptance at t - 1, each chain's own included:
    a dependence among chains whose effect on the AIS estimate vanishes as
    O(1 / n_chains), the usual price of adaptive SMC (the exact-oracle tests
    bound it). Burn-in at the model itself uses a frozen step.
    """
    step *= np.exp(acceptance - _TARGET_ACCEPTANCE)
    return float(np.clip(step, 1e-4 * sigma, 2.0 * sigma))


def annealing_schedule(n_steps, sharpness=4.0):
    """Inverse temperatures ``0 = beta_0 < ... < beta_T = 1``, sigmoid-spaced.

    Denser at both ends than a linear schedule (Grosse et al., 2015).
    """
    s = expit(np.linspace(-sharpness, sharpness, n_steps + 1))
    return (s - s[0]) / (s[-1] - s[0])


def anneal(
    W,
    b,
    c,
    sigma,
    n_chains,
    n_steps,
    rng,
    on_step=None,
    base=None,
    activation="sigmoid",
):
    """Run AIS chains from the base Gaussian to the model.

    ``base`` is ``(mean, scale)`` of the isotropic base (None: the model's own
    ``N(c, sigma^2 I)``). Returns the chains (at beta = 1, where the
    parameters live), their log importance weights (a float64 NumPy vector),
    and the adapted MALA step size; ``log Z`` is
    ``log mean(exp(log_w))`` plus the base's log normaliser
    (:func:`sklearn_dsm._partition.log_partition_from_weights`).
    ``on_step()`` is called after each temperature. ``activation`` is the
    hidden units' (:mod:`sklearn_dsm._activations`).
    """
    mean, scale = base_gaussian(c, sigma, base)
    d = mean.shape[0]
    chains = _Chains(
        W,
        b,
        c,
        sigma,
        mean + scale * rng.standard_normal((n_chains, d)),
        base,
        activation,
    )
    xp = chains.xp
    log_w = (
        np.zeros(n_chains)
        if xp is np
        else xp.zeros(n_chains, dtype=chains.wide, device=chains.device)
    )
    # MALA's optimal scale for a Gaussian (Roberts and Rosenthal, 1998), for
    # the narrower of the base and the model's own Gaussian.
    width = max(scale, float(sigma))
    step = 1.65 * min(scale, float(sigma)) * d ** (-1.0 / 6.0)
    # Python floats: a NumPy scalar would try to turn another namespace's
    # array into NumPy.
    betas = annealing_schedule(n_steps).tolist()
    for beta_prev, beta in zip(betas[:-1], betas[1:], strict=True):
        log_w += (beta - beta_prev) * chains.log_model_over_base()
        step = _adapt(step, chains.mala_step(beta, step, rng), width)
        if on_step is not None:
            on_step()
    return chains, np.asarray(to_numpy(log_w), dtype=np.float64), step


def systematic_resample(log_w, rng):
    """Indices drawn in proportion to ``exp(log_w)`` by systematic resampling.

    Lower variance than multinomial draws, and with equal weights it returns
    every index exactly once (so a model with W = 0 keeps independent chains).
    """
    n = log_w.shape[0]
    weights = np.exp(log_w - logsumexp(log_w))
    positions = (rng.uniform() + np.arange(n)) / n
    cumulative = np.cumsum(weights)
    cumulative[-1] = 1.0  # guard against rounding below the last position
    return np.searchsorted(cumulative, positions, side="right")


def sample_model(
    W,
    b,
    c,
    sigma,
    n_samples,
    *,
    n_steps=1000,
    n_burn_in=500,
    random_state=None,
    activation="sigmoid",
):
    """Draw from ``p(x) = exp(-E(x)) / Z`` by annealing, resampling and MALA.

    ``n_samples`` chains are annealed from N(c, sigma^2 I) to the model through
    ``n_steps`` temperatures (as in AIS), resampled by their importance weights
    (systematic resampling), then moved ``n_burn_in`` more MALA steps at the
    model itself. The annealing puts chains into every mode in proportion to
    its mass, which a chain started at the base could take very long to find;
    the final MALA steps make the draws exact as ``n_burn_in`` grows, and the
    resampling makes them exact as ``n_samples`` grows. Each returned row is
    the end of its own chain, so no thinning is needed.

    Returns an array of shape (n_samples, n_features) in float64, where
    the parameters live (the widest float of their device).
    """
    rng = check_random_state(random_state)
    chains, log_w, step = anneal(
        W, b, c, sigma, n_samples, n_steps, rng, activation=activation
    )
    chains.keep(systematic_resample(log_w, rng))
    # A frozen step: every burn-in move is an exact MALA kernel for the model.
    for _ in range(n_burn_in):
        chains.mala_step(1.0, step, rng)
    return chains.X
