"""The autoencoder face of the model."""

from ._base import _BaseDSM
from ._docstrings import FIT_PARAMETERS, shared_parameters
from ._inference import _AutoencoderFaceMixin

# sigma="auto" of the autoencoder, as a fraction of the data's RMS spread.
_FEATURE_SIGMA = 0.2


@shared_parameters(
    "n_components",
    "activation:relu",
    "sigma:fifth",
    "objective",
    "n_corruptions",
    "alpha:fixed",
    *FIT_PARAMETERS,
    "whiten:off",
    default="dae",
    rule=(
        "``1e-2`` for L-BFGS, where features stop improving; for Adam "
        '``1e-2`` where ``solver="auto"`` would pick it, else ``1e-4``'
    ),
    alpha="",
    why="whitening amplifies the low-variance directions, and the features got worse",
)
class DenoisingAutoencoder(_AutoencoderFaceMixin, _BaseDSM):
    """Tied-weight denoising autoencoder (ReLU or the paper's sigmoid units).

    Encodes ``h(x) = f(W x + b)`` and decodes ``r(h) = W^T h + c``. By
    Vincent (2011) it is also the energy-based model
    ``E(x) = -(<c, x> - |x|^2 / 2 + sum_i F(W_i x + b_i)) / sigma^2``, with
    ``F`` the antiderivative of ``f`` (softplus for the sigmoid,
    ``max(a, 0)^2 / 2`` for the ReLU), whose score is
    ``Psi(x) = (r(x) - x) / sigma^2``; training the autoencoder to denoise
    ``x + sigma * eps`` is denoising score matching of that model.

    Parameters
    ----------
    <<parameters>>

    Attributes
    ----------
    sigma_ : float
        The noise level the model was fitted with (``sigma="auto"`` resolved),
        in the model's coordinates; every method uses it, so a later
        ``set_params(sigma=...)`` changes nothing until the next ``fit``.
    alpha_ : float
        The penalty the model was fitted with (``alpha``).
    components_ : ndarray of shape (n_components, n_features)
        Tied weights W (in whitened coordinates with ``whiten=True``).
    intercept_hidden_ : ndarray of shape (n_components,)
        Hidden biases b.
    intercept_visible_ : ndarray of shape (n_features,)
        Visible biases c.
    mean_ : ndarray of shape (n_features,)
        Mean of the training rows; only with ``whiten=True``.
    whitening_ : ndarray of shape (n_features, n_features)
        The symmetric ZCA whitening ``A``: the model sees ``(x - mean_) A``;
        only with ``whiten=True``.
    log_det_whitening_ : float
        ``log |det A|``, the log-Jacobian the density in ``x`` adds; only with
        ``whiten=True``.
    solver_ : str
        The solver the fit used (``solver="auto"`` resolved; ``"adam"``
        after :meth:`partial_fit`).
    n_iter_ : int
        Number of L-BFGS iterations run; for ``solver="adam"`` the number of
        epochs, and after :meth:`partial_fit` the number of calls.
    loss_ : float
        Final value of the objective (penalty included), in the units of the
        model's coordinates. With Adam, the mean over the last epoch's
        minibatches, each with its own noise.
    loss_curve_ : list of float
        Objective after each L-BFGS iteration (or each Adam epoch). Under
        ``warm_start`` it goes on from the previous fit's curve, as
        :class:`~sklearn.neural_network.MLPRegressor`'s does, while
        ``n_iter_`` counts this fit's iterations.
    validation_loss_curve_ : list of float
        Objective on the held-out rows after each epoch; only with
        ``solver="adam"`` and ``early_stopping=True``. Continued under
        ``warm_start`` like ``loss_curve_``.
    best_validation_loss_ : float
        Its minimum, reached by the kept parameters; only with early stopping.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    ScoreMatchingEBM : The same model seen as a density estimator.
    sklearn.neural_network.BernoulliRBM : An RBM feature extractor.

    References
    ----------
    P. Vincent, "A Connection Between Score Matching and Denoising
    Autoencoders", Neural Computation 23(7):1661-1674, 2011.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_dsm import DenoisingAutoencoder
    >>> X = load_digits().data / 16
    >>> dae = DenoisingAutoencoder(n_components=32, sigma=0.2, random_state=0)
    >>> dae.fit_transform(X).shape
    (1797, 32)
    >>> dae.denoise(X[:2]).shape
    (2, 64)
    """

    _parameter_constraints: dict = {**_BaseDSM._parameter_constraints}

    def __init__(
        self,
        n_components=64,
        *,
        activation="relu",
        sigma="auto",
        objective="dae",
        n_corruptions="auto",
        alpha=0.1,
        max_iter=2000,
        tol=None,
        random_state=None,
        verbose=0,
        warm_start=False,
        solver="auto",
        batch_size="auto",
        learning_rate_init="auto",
        shuffle=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change="auto",
        whiten=False,
    ):
        super().__init__(
            n_components,
            activation=activation,
            sigma=sigma,
            objective=objective,
            n_corruptions=n_corruptions,
            alpha=alpha,
            max_iter=max_iter,
            tol=tol,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
            solver=solver,
            batch_size=batch_size,
            learning_rate_init=learning_rate_init,
            shuffle=shuffle,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            whiten=whiten,
        )

    # Features stop improving long before the objective does: on digits,
    # linear-classifier accuracy on transform is within 0.001 of its best
    # once L-BFGS moves the objective by less than 1% in 10 iterations
    # (about 120 iterations; doc/defaults.rst).
    _LBFGS_TOL = 1e-2

    def _auto_sigma(self, Z, spread, weights):
        # Features, not density: denoising at a fifth of each feature's
        # spread gave the best linear-classifier accuracy on iris, wine,
        # breast_cancer and digits (doc/defaults.rst); the density bandwidth
        # (Silverman's, 0.5 to 0.9 there) blurs the features.
        return _FEATURE_SIGMA * spread

    def score(self, X, y=None):
        """Minus the mean Hyvarinen loss of ``X`` (higher is better).

        The default scoring of ``GridSearchCV``: it compares autoencoders of
        different ``sigma`` on held-out rows without any normalising constant.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Held-out rows.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
            ``-mean(|Psi(x)|^2 / 2 + tr dPsi/dx(x))``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import DenoisingAutoencoder
        >>> X = np.random.RandomState(0).normal(size=(100, 2))
        >>> dae = DenoisingAutoencoder(n_components=4, sigma=0.5, random_state=0).fit(X)
        >>> bool(np.isclose(dae.score(X), -dae.hyvarinen_loss(X)))
        True
        """
        return -self.hyvarinen_loss(X)
