"""Scorers for model selection: Hyvarinen's score, and the denoising error."""

import numpy as np
from sklearn.pipeline import Pipeline

from . import _model
from ._xp import home, is_array, namespace, to_namespace, to_numpy


def hyvarinen_scorer(estimator, X, y=None):
    """Minus the mean Hyvarinen loss of ``X`` under a fitted model (higher is better).

    Usable as ``GridSearchCV(..., scoring=hyvarinen_scorer)`` for
    :class:`DenoisingAutoencoder` and :class:`ScoreMatchingEBM` alike, and for a
    :class:`~sklearn.pipeline.Pipeline` that ends in one: the earlier steps
    transform ``X`` first, so the score is measured in the model's input space.
    The Hyvarinen loss ``|Psi(x)|^2 / 2 + tr dPsi/dx(x)`` estimates the Fisher
    divergence to the data up to a model-independent constant, so it compares
    models fitted with different ``sigma`` without their normalising constants.

    Parameters
    ----------
    estimator : DenoisingAutoencoder, ScoreMatchingEBM or Pipeline
        A fitted model, or a fitted pipeline whose last step is one.
    X : array-like of shape (n_samples, n_features)
        Held-out rows.
    y : Ignored
        Not used, present for API consistency by convention.

    Returns
    -------
    score : float
        ``-mean(|Psi(x)|^2 / 2 + tr dPsi/dx(x))`` over the rows of ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_dsm import ScoreMatchingEBM, hyvarinen_scorer
    >>> X = np.random.RandomState(0).normal(size=(100, 2))
    >>> ebm = ScoreMatchingEBM(n_components=4, sigma=0.5, random_state=0).fit(X)
    >>> bool(hyvarinen_scorer(ebm, X) == -ebm.hyvarinen_loss(X))
    True
    """
    estimator, X = _last_step(estimator, X, "hyvarinen_scorer")
    return -estimator.hyvarinen_loss(X)


def denoising_scorer(estimator, X, y=None):
    """Minus the mean squared denoising error on held-out rows (higher is better).

    Each row of ``X`` is corrupted with the fitted model's own noise
    (``sigma_``, in the model's coordinates) and passed through ``denoise``;
    the score is minus the mean over rows of ``|denoise(x~) - x|^2``, in the
    units of ``X``. It is the autoencoder's reconstruction error, the number
    ``cross_validate(..., scoring="neg_mean_squared_error")`` cannot compute
    for a transformer fitted without ``y``. The noise is drawn from a fixed
    seed, so models scored on the same rows see the same noise.

    The error grows with the noise, so it compares models fitted at one sigma
    (``n_components``, ``alpha``, ``objective``, ``solver``...). To choose
    sigma, use :func:`hyvarinen_scorer`, or ``ScoreMatchingEBM.score``.

    Parameters
    ----------
    estimator : DenoisingAutoencoder, ScoreMatchingEBM or Pipeline
        A fitted model, or a fitted pipeline whose last step is one; the
        earlier steps transform ``X`` first.
    X : array-like of shape (n_samples, n_features)
        Held-out clean rows.
    y : Ignored
        Not used, present for API consistency by convention.

    Returns
    -------
    score : float
        ``-mean(|denoise(x + noise) - x|^2)`` over the rows of ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklearn_dsm import DenoisingAutoencoder, denoising_scorer
    >>> X = np.random.RandomState(0).normal(size=(200, 2))
    >>> dae = DenoisingAutoencoder(n_components=4, sigma=0.5, random_state=0)
    >>> scores = cross_val_score(dae, X, cv=3, scoring=denoising_scorer)
    >>> bool(np.all(scores < 0))
    True
    """
    estimator, X = _last_step(estimator, X, "denoising_scorer")
    if not is_array(X) or namespace(X) != home(estimator.components_):
        # NumPy rows, dispatch off, or rows of another namespace than the
        # model's: on the host, in NumPy.
        estimator = estimator._host()
        X = to_numpy(X)
    Z = estimator._validate(X, "denoising_scorer")
    # Fixed seed: common noise for every model scored on these rows, drawn
    # on the host and moved to the rows (a device model scores the NumPy
    # model's noise, to rounding).
    noise = np.random.RandomState(0).standard_normal(Z.shape)
    xp, device = home(Z)
    if xp is np:
        noisy = Z + Z.dtype.type(estimator.sigma_) * noise.astype(Z.dtype)
    else:
        noise = xp.astype(to_namespace(noise, xp, device), Z.dtype)
        noisy = Z + float(estimator.sigma_) * noise
    denoised = _model.reconstruct(noisy, *estimator._theta, estimator.activation)
    error = estimator._from_model(denoised) - estimator._from_model(Z)
    return -float(xp.mean(xp.sum(error**2, axis=1)))


def _last_step(estimator, X, name):
    """The model a scorer scores, and ``X`` in its input space."""
    if isinstance(estimator, Pipeline):
        if len(estimator.steps) > 1:
            X = estimator[:-1].transform(X)
        estimator = estimator.steps[-1][1]
    if not hasattr(estimator, "hyvarinen_loss"):
        raise TypeError(
            f"{name} needs a DenoisingAutoencoder or ScoreMatchingEBM "
            f"(or a Pipeline ending in one); got {type(estimator).__name__}."
        )
    return estimator, X
