"""A scorer that ranks fitted models of any sigma by Hyvarinen's score."""

from sklearn.pipeline import Pipeline


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
    >>> bool(hyvarinen_scorer(ebm, X) == -ebm.hyvarinen_score(X))
    True
    """
    if isinstance(estimator, Pipeline):
        if len(estimator.steps) > 1:
            X = estimator[:-1].transform(X)
        estimator = estimator.steps[-1][1]
    if not hasattr(estimator, "hyvarinen_score"):
        raise TypeError(
            f"hyvarinen_scorer needs a DenoisingAutoencoder or ScoreMatchingEBM "
            f"(or a Pipeline ending in one); got {type(estimator).__name__}."
        )
    return -estimator.hyvarinen_score(X)
