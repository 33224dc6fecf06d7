"""The normalising constant log Z by annealed importance sampling (AIS).

The annealing path runs from a base Gaussian, whose normaliser is known, to
the model (:func:`sklearn_dsm._sampling.anneal`); the mean of the chains'
importance weights estimates ``Z / Z_0`` (``doc/math.rst``, "The normalising
constant").
"""

import warnings
from numbers import Integral

import numpy as np
from scipy.special import logsumexp
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._chunking import mean_and_spread
from ._sampling import anneal, base_gaussian
from ._xp import to_numpy


def log_mean_exp_and_stderr(log_w):
    """``log mean(w)`` and its delta-method standard error from log-weights."""
    n = log_w.shape[0]
    log_mean = logsumexp(log_w) - np.log(n)
    ratio = np.exp(log_w - log_mean)  # w / mean(w), mean 1
    if n < 2:
        return float(log_mean), float("inf")
    return float(log_mean), float(np.std(ratio, ddof=1) / np.sqrt(n))


def log_base_normaliser(n_features, scale):
    """log Z_0 of the base ``exp(-|x - m|^2 / (2 scale^2))`` in ``n_features``
    dimensions."""
    return 0.5 * n_features * np.log(2 * np.pi * scale**2)


def log_partition_from_weights(log_w, n_features, base_scale):
    """(log Z, its standard error) from AIS log-weights of a run whose base
    Gaussian has scale ``base_scale``."""
    log_mean, stderr = log_mean_exp_and_stderr(log_w)
    return log_mean + log_base_normaliser(n_features, base_scale), stderr


def log_partition_ais(
    W,
    b,
    c,
    sigma,
    *,
    n_chains=256,
    n_steps=2000,
    random_state=None,
    base=None,
    activation="sigmoid",
):
    """Estimate log Z(theta) by annealed importance sampling.

    Parameters
    ----------
    W : ndarray of shape (n_components, n_features)
        Weights.
    b : ndarray of shape (n_components,)
        Hidden biases.
    c : ndarray of shape (n_features,)
        Visible biases.
    sigma : float
        Noise level (temperature) of the model.
    n_chains : int, default=256
        Independent annealing chains; the standard error shrinks as
        ``1 / sqrt(n_chains)``.
    n_steps : int, default=2000
        Intermediate temperatures, one MALA step each; more steps make the
        importance weights less variable.
    random_state : int, RandomState instance or None, default=None
        Seeds the chains.
    base : tuple (mean, scale) or None, default=None
        The isotropic Gaussian the chains start from; None: ``N(c, sigma^2 I)``.
    activation : str or Activation, default="sigmoid"
        The hidden units' activation (:mod:`sklearn_dsm._activations`).

    Returns
    -------
    log_z : float
        The estimate of ``log Z = log integral exp(-E(x)) dx``.
    log_z_std : float
        Its standard error by the delta method, ``std(w) / (sqrt(N) mean(w))``
        over the ``N = n_chains`` importance weights ``w``.
    """
    rng = check_random_state(random_state)
    _, log_w, _ = anneal(
        W, b, c, sigma, n_chains, n_steps, rng, base=base, activation=activation
    )
    _, scale = base_gaussian(c, sigma, base)
    return log_partition_from_weights(log_w, np.shape(c)[0], scale)


def _renamed(old, old_value, new, new_value, default):
    """The value of a renamed keyword: the new one's, or the old alias's with
    a FutureWarning; both given is an error."""
    if isinstance(old_value, str) and old_value == "deprecated":
        return new_value
    if new_value != default:
        raise ValueError(f"Pass {new} only; {old} is its deprecated alias.")
    warnings.warn(
        f"{old} was renamed {new} in 0.2 (the estimators' name for the AIS "
        f"budget) and will be removed in 0.3.",
        FutureWarning,
        stacklevel=3,
    )
    return old_value


def estimate_log_partition(
    estimator,
    X=None,
    *,
    n_ais_chains=256,
    n_ais_steps=250,
    random_state=None,
    n_chains="deprecated",
    n_steps="deprecated",
):
    """Estimate ``log Z`` of a fitted model by annealed importance sampling.

    ``Z(theta) = integral exp(-E(x)) dx``. AIS anneals ``n_ais_chains``
    chains from a base Gaussian, whose normaliser is known, to the model
    through ``n_ais_steps`` temperatures with one Metropolis-adjusted Langevin
    step each, as :class:`ScoreMatchingEBM` does at the end of ``fit`` (the
    same names, the same defaults). This function gives the same estimate for
    a :class:`DenoisingAutoencoder`, whose ``score_samples`` is the
    unnormalised ``-E(x)``, so that ``dae.score_samples(X) - log_z`` is a
    log-density.

    Parameters
    ----------
    estimator : DenoisingAutoencoder or ScoreMatchingEBM
        A fitted model.
    X : array-like of shape (n_samples, n_features), default=None
        Rows, as passed to ``fit`` (the training rows), whose mean and spread
        in the model's coordinates (at least ``sigma``) give the base
        Gaussian, as ``fit`` does: the chains then start where the model's
        mass is. ``None``: the model's own ``N(c, sigma^2 I)``, narrower than
        the data, which needs several times more steps for the same error
        (before 0.2 the default was 2000 steps from it).
    n_ais_chains : int, default=256
        Independent chains; the standard error shrinks as
        ``1 / sqrt(n_ais_chains)``.
    n_ais_steps : int, default=250
        Intermediate temperatures; more make the importance weights less
        variable.
    random_state : int, RandomState instance or None, default=None
        Seeds the chains.
    n_chains : int
        Deprecated alias of ``n_ais_chains`` (renamed in 0.2, removed in 0.3).
    n_steps : int
        Deprecated alias of ``n_ais_steps`` (renamed in 0.2, removed in 0.3;
        its default was 2000).

    Returns
    -------
    log_z : float
        The estimate of ``log Z``.
    log_z_std : float
        Its standard error, ``std(w) / (sqrt(n_ais_chains) mean(w))`` over
        the importance weights ``w``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_dsm import DenoisingAutoencoder, estimate_log_partition
    >>> X = np.random.RandomState(0).normal(size=(200, 2))
    >>> dae = DenoisingAutoencoder(n_components=4, sigma=0.5, random_state=0).fit(X)
    >>> log_z, log_z_std = estimate_log_partition(dae, X, random_state=0)
    >>> bool(log_z_std < 0.05)
    True
    """
    check_is_fitted(estimator, "components_")
    estimator._check_density()
    # TODO(0.3): remove n_chains and n_steps.
    n_ais_chains = _renamed("n_chains", n_chains, "n_ais_chains", n_ais_chains, 256)
    n_ais_steps = _renamed("n_steps", n_steps, "n_ais_steps", n_ais_steps, 250)
    budget = (("n_ais_chains", n_ais_chains, 2), ("n_ais_steps", n_ais_steps, 1))
    for name, value, low in budget:
        if not isinstance(value, Integral) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")
    # The chains run where the model lives (array API dispatch); the base's
    # mean and spread, one pass over the rows, are taken on the host.
    base = None
    if X is not None:
        host = estimator._host()
        Z = host._validate(to_numpy(X), "estimate_log_partition")
        mean, spread = mean_and_spread(Z)
        base = (mean, max(spread, estimator.sigma_))
    return log_partition_ais(
        estimator.components_,
        estimator.intercept_hidden_,
        estimator.intercept_visible_,
        estimator.sigma_,
        n_chains=n_ais_chains,
        n_steps=n_ais_steps,
        random_state=random_state,
        base=base,
        activation=estimator.activation,
    )
