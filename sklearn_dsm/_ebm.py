"""The energy-based (density) face of the model."""

from numbers import Integral, Real

from sklearn.base import DensityMixin
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import _BaseDSM
from ._density import (
    FAR_MASS_WARNING,
    NORMALISATION_ATTRIBUTES,
    _NormalisedDensityMixin,
)
from ._docstrings import FIT_PARAMETERS, own_examples, shared_parameters
from ._inference import _AutoencoderFaceMixin
from ._mle import refine_by_likelihood
from ._solvers import steps
from ._xp import to_numpy

# alpha="auto": raised this many times, by this factor, while far_mass_ is
# above the warning's threshold.
_AUTO_ALPHA_RAISES = 2
# Where alpha="auto" starts (doc/defaults.rst).
_AUTO_ALPHA = 0.1
_AUTO_ALPHA_FACTOR = 3.0


@own_examples("ebm")
@shared_parameters(
    "n_components",
    "activation:sigmoid",
    "sigma:silverman",
    "objective",
    "n_corruptions",
    "alpha:auto",
    *FIT_PARAMETERS,
    "whiten:on",
    "n_ais_chains",
    "n_ais_steps",
    "mle_steps",
    "mle_learning_rate",
    "tail",
    default="ism",
    rule=(
        "``1e-4``, where held-out likelihood stops improving (Adam where "
        '``solver="auto"`` would pick it: ``1e-2``)'
    ),
    alpha=' (and, with ``alpha="auto"``, ``alpha_``)',
)
class ScoreMatchingEBM(
    _NormalisedDensityMixin, DensityMixin, _AutoencoderFaceMixin, _BaseDSM
):
    """Energy-based density model fitted by (denoising) score matching.

    The density is ``p(x) = exp(-E(x)) / Z`` with
    ``E(x) = -(<c, x> - |x|^2 / 2 + sum_i softplus(W_i x + b_i)) / sigma^2``:
    a Gaussian ``N(c, sigma^2 I)`` tilted by H softplus units. Its score
    ``Psi(x) = (W^T sigmoid(W x + b) + c - x) / sigma^2`` is closed form, so the
    model is fitted by score matching, which needs no ``Z``. By Vincent (2011)
    the same model is a tied-weight denoising autoencoder
    (:class:`DenoisingAutoencoder`); only the default objective differs.

    Far from the data that density falls off like a Gaussian of scale
    ``sigma``, faster than the data's own law; :meth:`score_samples` and
    :meth:`sample` therefore use the mixture
    ``(1 - tail_weight_) p_theta + tail_weight_ t`` of the score-matching
    model ``p_theta`` and a Student-t fitted to the data (``tail``), which
    is exactly normalised too. :meth:`energy`, :meth:`score_function` and
    :meth:`denoise` are those of ``p_theta``, the paper's model.

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
    log_partition_ : float
        AIS estimate of ``log Z(theta) = log integral exp(-E(x)) dx``, made
        at the end of ``fit``. After :meth:`partial_fit` it (with
        ``log_partition_std_``, ``far_mass_`` and the tail's attributes) is
        set by :meth:`update_log_partition`.
    log_partition_std_ : float
        Standard error of ``log_partition_``.
    tail_weight_ : float
        Weight of the Student-t in the density; only with ``tail``.
    tail_dof_ : float
        Its degrees of freedom, between 1 (Cauchy) and 1e4 (Gaussian).
    tail_location_ : ndarray of shape (n_features,)
        Its location: the whitening's mean ``mean_`` (with ``whiten=False``,
        the mean of the rows it was fitted to).
    tail_scatter_ : ndarray of shape (n_features, n_features)
        Its scatter matrix: the training rows' covariance (as the whitening
        sees it) times the fitted squared scale; the density is
        ``scipy.stats.multivariate_t(tail_location_, tail_scatter_,
        df=tail_dof_)``.
    far_mass_ : float
        Share of the model's mass (importance-weighted AIS end points) farther
        from every training row than new data lands: beyond both the noise
        radius ``sigma * sqrt(chi2.ppf(0.999, n_features))`` and the 99th
        percentile of the training rows' leave-one-out nearest-neighbour
        distances. Score matching cannot see mass there; a model equal to the
        data's own law scores about 1 to 3%. ``fit`` warns, naming ``alpha``,
        ``n_components`` and ``sigma``, when it exceeds 0.05.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    DenoisingAutoencoder : The same model seen as an autoencoder.
    sklearn.neighbors.KernelDensity : Kernel density estimation.

    References
    ----------
    P. Vincent, "A Connection Between Score Matching and Denoising
    Autoencoders", Neural Computation 23(7):1661-1674, 2011.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from sklearn_dsm import ScoreMatchingEBM
    >>> X, _ = make_moons(200, noise=0.05, random_state=0)
    >>> ebm = ScoreMatchingEBM(n_components=16, sigma=0.2, random_state=0).fit(X)
    >>> ebm.score_function(X[:3]).shape
    (3, 2)
    >>> bool(ebm.score_samples(X[:1])[0] > ebm.score_samples([[5.0, 5.0]])[0])
    True
    >>> bool(ebm.log_partition_std_ < 0.1)
    True
    >>> ebm.sample(5, random_state=0).shape
    (5, 2)
    """

    _is_density = True

    _parameter_constraints: dict = {
        **_BaseDSM._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "n_ais_chains": [Interval(Integral, 2, None, closed="left")],
        "n_ais_steps": [Interval(Integral, 1, None, closed="left")],
        "mle_steps": [Interval(Integral, 0, None, closed="left")],
        "mle_learning_rate": [Interval(Real, 0, None, closed="neither")],
        "tail": [StrOptions({"student_t"}), None],
    }

    def __init__(
        self,
        n_components=64,
        *,
        activation="sigmoid",
        sigma="auto",
        objective="ism",
        n_corruptions="auto",
        alpha="auto",
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
        whiten=True,
        n_ais_chains=256,
        n_ais_steps=250,
        mle_steps=0,
        mle_learning_rate=3e-3,
        tail="student_t",
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
        self.n_ais_chains = n_ais_chains
        self.n_ais_steps = n_ais_steps
        self.mle_steps = mle_steps
        self.mle_learning_rate = mle_learning_rate
        self.tail = tail

    _partial_fit_state = (*_BaseDSM._partial_fit_state, "_pending_log_partition")

    def __setstate__(self, state):
        # Models saved before the tail component (0.1.0) are the
        # score-matching model alone, and stay so.
        state.setdefault("tail", None)
        super().__setstate__(state)

    def _initial_alpha(self, continuing=False):
        """The penalty a fit starts with. ``alpha="auto"`` starts at 0.1, or,
        continuing a fitted model (warm start, partial_fit), where that model
        ended."""
        if self.alpha != "auto":
            return float(self.alpha)
        return self.alpha_ if continuing and hasattr(self, "alpha_") else _AUTO_ALPHA

    def _after_fit(self, call):
        X, rng = call.X, call.rng
        # alpha="auto": the documented remedy for mass far from the data is a
        # larger penalty; apply it here, continuing the fit from where it is,
        # at most twice (0.1, 0.3, 0.9). One AIS run per candidate.
        if self.alpha == "auto" or not self.mle_steps:
            self._estimate_log_partition(call)
            for _ in range(_AUTO_ALPHA_RAISES):
                if self.alpha != "auto" or self.far_mass_ <= FAR_MASS_WARNING:
                    break
                self._continue(call, float(f"{_AUTO_ALPHA_FACTOR * self.alpha_:.3g}"))
                self._estimate_log_partition(call)
        if self.mle_steps:
            self._check_density()  # the likelihood's chains sample the model
            subtask = steps(
                self, call, "likelihood", "step", self.alpha_, self.mle_steps
            )
            try:
                # Where the fit's objective ran (array API dispatch); the
                # candidate model keeps its result on the host until commit.
                refined = refine_by_likelihood(
                    *map(call.to_device, self._theta),
                    self.sigma_,
                    call.to_device(X),
                    alpha=self.alpha_,
                    n_steps=self.mle_steps,
                    learning_rate=self.mle_learning_rate,
                    random_state=rng,
                    on_step=subtask and subtask.step,
                    sample_weight=call.weights,
                    activation=self.activation,
                )
            finally:
                if subtask:
                    subtask.close()
            dtype = self.components_.dtype
            self.components_, self.intercept_hidden_, self.intercept_visible_ = (
                to_numpy(p).astype(dtype) for p in refined
            )
            # The estimate above was of the model before refinement: drop it,
            # so that Ctrl-C during the next one leaves no mismatched log Z.
            for name in NORMALISATION_ATTRIBUTES:
                self.__dict__.pop(name, None)
            self._estimate_log_partition(call)
        self._warn_if_unreliable()
