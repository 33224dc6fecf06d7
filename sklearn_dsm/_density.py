"""Public entry to the normalising constant of any fitted model."""

from numbers import Integral

from sklearn.utils.validation import check_is_fitted

from ._sampling import log_partition_ais


def estimate_log_partition(estimator, *, n_chains=256, n_steps=2000, random_state=None):
    """Estimate ``log Z`` of a fitted model by annealed importance sampling.

    ``Z(theta) = integral exp(-E(x)) dx``. AIS anneals ``n_chains`` chains from the
    base Gaussian ``N(c, sigma^2 I)``, whose normaliser is known, to the model
    through ``n_steps`` temperatures with one Metropolis-adjusted Langevin step
    each. :class:`ScoreMatchingEBM` runs it at the end of ``fit``; this function
    gives the same estimate for a :class:`DenoisingAutoencoder`, whose
    ``score_samples`` is the unnormalised ``-E(x)``, so that
    ``dae.score_samples(X) - log_z`` is a log-density.

    Parameters
    ----------
    estimator : DenoisingAutoencoder or ScoreMatchingEBM
        A fitted model.
    n_chains : int, default=256
        Independent chains; the standard error shrinks as ``1 / sqrt(n_chains)``.
    n_steps : int, default=2000
        Intermediate temperatures; more make the importance weights less variable.
    random_state : int, RandomState instance or None, default=None
        Seeds the chains.

    Returns
    -------
    log_z : float
        The estimate of ``log Z``.
    log_z_std : float
        Its standard error, ``std(w) / (sqrt(n_chains) mean(w))`` over the
        importance weights ``w``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_dsm import DenoisingAutoencoder, estimate_log_partition
    >>> X = np.random.RandomState(0).normal(size=(200, 2))
    >>> dae = DenoisingAutoencoder(n_components=4, sigma=0.5, random_state=0).fit(X)
    >>> log_z, log_z_std = estimate_log_partition(dae, random_state=0)
    >>> bool(log_z_std < 0.05)
    True
    """
    check_is_fitted(estimator, "components_")
    for name, value, low in (("n_chains", n_chains, 2), ("n_steps", n_steps, 1)):
        if not isinstance(value, Integral) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")
    return log_partition_ais(
        estimator.components_,
        estimator.intercept_hidden_,
        estimator.intercept_visible_,
        estimator.sigma_,
        n_chains=n_chains,
        n_steps=n_steps,
        random_state=random_state,
    )
