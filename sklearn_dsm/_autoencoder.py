"""The autoencoder face of the model."""

from ._base import _BaseDSM
from ._inference import _AutoencoderFaceMixin

# sigma="auto" of the autoencoder, as a fraction of the data's RMS spread.
_FEATURE_SIGMA = 0.2


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
    n_components : int, default=64
        Number of hidden units H. 64 is cheap at any input width and measured
        no worse than 16 (iris) or 32 (wine, breast_cancer, digits) for either
        job; more units help features on image-sized inputs.
    activation : {"relu", "sigmoid"}, default="relu"
        Hidden units ``f``: the ReLU, or the paper's sigmoid. The ReLU is the
        default because it wins both of the autoencoder's jobs: it denoised
        better on every setting measured (2.2 dB on natural-image patches, 8
        to 17% in squared error on digits) and gave better digit features
        (doc/user_guide.rst, "Choosing the activation"). As a density the
        sigmoid is better (see :class:`ScoreMatchingEBM`), and only the
        sigmoid can fit ``objective="ism"``; a ReLU model's ``sample`` and
        log Z need a model proved a density.
    sigma : float or "auto", default="auto"
        Standard deviation of the Gaussian corruption, also the model's
        temperature, in the units of ``X``. ``"auto"``: a fifth of the data's
        root-mean-square spread per feature (0.2 after StandardScaler), the
        noise level that gave the best linear-classifier accuracy on
        ``transform`` on iris, wine, breast_cancer and digits. A number far
        from the data's spread (below 1% or above 10 times) warns.
    objective : {"dae", "dsm", "esm", "ism"}, default="dae"
        Training criterion. ``"dae"``: mean squared reconstruction error of the
        clean rows from their noisy copies. ``"dsm"``: denoising score matching,
        exactly ``"dae"`` divided by ``2 sigma^4``: the same optimisation, with the
        loss reported in score-matching units. ``"esm"``: explicit score matching
        to the Parzen score of the training set (a lower-variance DSM).
        ``"ism"``: Hyvarinen's implicit score matching on the noisy (or, with
        ``n_corruptions=0``, clean) rows. All four have the same minimisers in
        expectation.
    n_corruptions : int or "auto", default="auto"
        Noisy copies ``x + sigma * eps`` of each row, drawn once from
        ``random_state`` and held fixed during an L-BFGS fit, so that it sees
        one deterministic objective (Adam draws fresh ones every batch).
        ``"auto"``: 3 for the noisy criteria (``"dae"``, ``"dsm"``, ``"esm"``)
        under L-BFGS, where 3 costs a third of 10 with features as good and
        held-out log-likelihood within 0.05 nats, and 1 lost 0.3 to 0.5 nats
        on wine and breast_cancer; 1 under Adam, whose every batch has new
        noise; 0 for ``"ism"``, Hyvarinen's criterion on the clean rows.
        ``0`` means no corruption and is allowed only with
        ``objective="ism"``.
    alpha : float, default=0.1
        L2 penalty ``alpha * |W|^2 / 2`` on the weights, in score-matching units
        (for ``"dae"`` the whole objective, penalty included, is scaled by
        ``2 sigma^4``, so ``"dae"`` and ``"dsm"`` stay one computation). It does
        not depend on the units of ``X``. Why not 0: score matching cannot see
        mass far from the data, and an unpenalised fit grows modes there.
    max_iter : int, default=2000
        Maximum number of L-BFGS iterations (Adam: epochs); a fit that reaches
        it warns. Default L-BFGS fits stop before it (at most about 1040
        iterations on the data sets measured). Adam needs more on small data,
        where an epoch is a few steps: the density's stopped by itself after
        2700 to 3500 epochs on iris, wine and breast_cancer.
    tol : float or None, default=None
        Convergence tolerance: L-BFGS stops when the objective has decreased
        by less than ``tol`` (relative) over the last ``n_iter_no_change``
        iterations. Adam cuts its step by 10 when its watched objective has not
        improved by ``tol`` for ``n_iter_no_change`` epochs (the threshold
        shrinks with the step: ``tol / 10``, ``tol / 100``), and stops at the
        third such plateau.
        ``None``: ``1e-2`` for L-BFGS, because features stop improving early
        (on digits, accuracy on ``transform`` is within 0.001 of its best
        after about 120 iterations, where the objective still moves 1% per 10
        iterations), and ``1e-4`` for Adam, which must get close to the
        optimum to be as good.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights and the corruption draws. Pass an int for
        reproducible fits.
    verbose : int, default=0
        If positive, print the iteration, the objective and the elapsed seconds
        after every L-BFGS iteration (Adam: epoch).
    warm_start : bool, default=False
        Start from the previous fit's parameters (and coordinates, and with
        ``alpha="auto"`` its ``alpha_``) when their shapes and ``whiten``
        match. A warm fit interrupted before its first iteration keeps the
        model it was continuing.
    solver : {"auto", "lbfgs", "adam"}, default="auto"
        ``"lbfgs"``: full-batch L-BFGS on ``n_corruptions`` noisy copies drawn
        once (a deterministic objective; fast and exact on small data).
        ``"adam"``: minibatch Adam, with fresh noise for every batch; its
        memory is set by ``batch_size``, not by the data, and ``max_iter``
        counts epochs. ``"auto"``: Adam from 10,000 rows on, L-BFGS below
        (:ref:`defaults`); ``solver_`` is the one used.
    batch_size : int or "auto", default="auto"
        Rows per Adam minibatch (``"auto"``: ``min(200, n_samples)``). Used by
        ``solver="adam"`` and :meth:`partial_fit`.
    learning_rate_init : float or "auto", default="auto"
        Adam's step size, for ``solver="adam"`` and :meth:`partial_fit`.
        ``"auto"``: ``1e-2``, times ``64 / n_features`` above 64 features
        (a unit's input moves with the number of weights Adam steps;
        :ref:`defaults`).
    shuffle : bool, default=True
        Visit the rows in a new random order every epoch (Adam only).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows and watch their objective
        (on noise drawn once) instead of that of the training rows, and keep
        the best epoch's parameters (Adam only). As in ``MLPRegressor``,
        ``n_iter_`` and ``loss_`` still describe the last epoch run;
        ``best_validation_loss_`` is the kept parameters' validation loss.
    validation_fraction : float, default=0.1
        Share of the rows held out when ``early_stopping``.
    n_iter_no_change : int or "auto", default="auto"
        Window of the stopping rule (see ``tol``), in L-BFGS iterations or
        Adam epochs. A window, not one step: L-BFGS makes uneven progress (a
        short step, then a long one), and Adam's objective jitters. ``"auto"``:
        10 for L-BFGS; for Adam 500 steps (``ceil(500 / steps per epoch)``
        epochs) and at least 2 epochs: on 1000 rows in batches of 200, a
        10-epoch window stopped Adam 0.9% to 4.1% above the optimum, a
        500-step one 0.10% to 0.23% above (six seeds).
    whiten : bool, default=False
        Fit the model in ZCA-whitened coordinates ``z = (x - mean_)
        whitening_`` instead of the input's (see :class:`ScoreMatchingEBM`,
        where it is the default). Off for features: whitening amplifies the
        low-variance directions, and linear-classifier accuracy on
        ``transform`` dropped (breast_cancer 0.97 to 0.94, digits 0.97 to
        0.92).

    Attributes
    ----------
    sigma_ : float
        The noise level the model was fitted with (``sigma="auto"`` resolved),
        in the model's coordinates; every method uses it, so a later
        ``set_params(sigma=...)`` changes nothing until the next ``fit``.
    alpha_ : float
        The penalty the model was fitted with (``alpha="auto"`` resolved).
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
        epochs, and after :meth:`partial_fit` the number of calls. It counts
        every round of ``alpha="auto"`` (each round may use ``max_iter``).
    loss_ : float
        Final value of the objective (penalty included), in the units of the
        model's coordinates. With Adam, the mean over the last epoch's
        minibatches, each with its own noise.
    loss_curve_ : list of float
        Objective after each L-BFGS iteration (or each Adam epoch), over every
        round of ``alpha="auto"``. Under ``warm_start`` it goes on from the
        previous fit's curve, as :class:`~sklearn.neural_network.MLPRegressor`'s
        does, while ``n_iter_`` counts this fit's iterations.
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

    def _auto_sigma(self, Z, spread):
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
