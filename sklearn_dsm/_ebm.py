"""The energy-based (density) face of the model."""

import zlib
from numbers import Integral, Real

import numpy as np
from sklearn.base import DensityMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _model
from ._base import _BaseDSM
from ._chunking import mean_and_spread, row_slabs
from ._diagnostics import far_mass
from ._docstrings import FIT_PARAMETERS, own_examples, shared_parameters
from ._inference import FLOAT_DTYPES, _AutoencoderFaceMixin
from ._mle import refine_by_likelihood
from ._partition import log_partition_from_weights
from ._sampling import anneal
from ._scaling import fit_whitening
from ._tail import (
    fit_student_t,
    fit_tail_weight,
    mixture_log_density,
    sample_tail,
    student_t_log_density,
    tail_log_density,
)
from ._theta import pack
from ._warnings import warn

# The data's own law scores 1 to 3% (see _diagnostics); 5% is beyond that and
# the sampling error of the AIS end points.
_FAR_MASS_WARNING = 0.05
# alpha="auto": raised this many times, by this factor, while far_mass_ is
# above the warning's threshold.
_AUTO_ALPHA_RAISES = 2
_AUTO_ALPHA_FACTOR = 3.0
_TAIL_ATTRIBUTES = ("tail_weight_", "tail_dof_", "tail_location_", "tail_scatter_")


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
    rule="``1e-4``, where held-out likelihood stops improving",
    alpha=' (and, with ``alpha="auto"``, ``alpha_``)',
)
class ScoreMatchingEBM(DensityMixin, _AutoencoderFaceMixin, _BaseDSM):
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

    def __sklearn_is_fitted__(self):
        # Fitted means normalised, or normalisable on first use after
        # partial_fit: the parameters alone (left by an interrupted fit, for
        # warm_start) do not give score_samples.
        return (
            hasattr(self, "log_partition_")
            or getattr(self, "_pending_log_partition", None) is not None
        )

    def _after_partial_fit(self, X):
        # AIS costs seconds; a stream of partial_fit calls should not pay it
        # per call. update_log_partition stores log Z (and far_mass_, against
        # up to 2000 of the last batch's rows); until then the density's
        # methods estimate it per call without storing it.
        self._pending_log_partition = np.array(X[:2000], copy=True)

    def update_log_partition(self):
        """Estimate ``log Z`` now if :meth:`partial_fit` left it pending.

        ``fit`` ends by estimating ``log Z`` (``log_partition_``,
        ``log_partition_std_``), ``far_mass_`` and the tail component.
        :meth:`partial_fit` does not, so that a stream of batches does not pay
        seconds of AIS per batch: call this method once the stream is done.
        Until then :meth:`score_samples`, :meth:`score` and :meth:`sample`
        estimate them on every call without storing them (they never change
        the estimator), which costs the AIS run each time. The AIS draws come
        from a generator seeded by the parameters' bytes, not from the
        training stream: scoring between partial_fit calls never changes
        training, and one model always gets one log Z, whichever call
        estimates it. ``far_mass_`` and the tail are measured against (up to
        2000 of) the last batch's rows.

        Returns
        -------
        self : object
            The estimator, with ``log_partition_``, ``log_partition_std_`` and
            ``far_mass_`` set.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import ScoreMatchingEBM
        >>> X = np.random.RandomState(0).normal(size=(100, 2))
        >>> ebm = ScoreMatchingEBM(n_components=4, n_ais_steps=300, random_state=0)
        >>> ebm = ebm.partial_fit(X)
        >>> hasattr(ebm, "log_partition_")
        False
        >>> bool(ebm.update_log_partition().log_partition_std_ < 0.1)
        True
        """
        check_is_fitted(self)
        if getattr(self, "_pending_log_partition", None) is not None:
            state = self._density_state()
            for name in _TAIL_ATTRIBUTES:
                self.__dict__.pop(name, None)
            self.__dict__.update(state)
            self._pending_log_partition = None
        return self

    def _rebuilt(self, attributes, X):
        # Normalisable on first use, as after partial_fit.
        attributes["_pending_log_partition"] = X
        return attributes

    def _after_fit(self, X, rng, refit):
        # alpha="auto": the documented remedy for mass far from the data is a
        # larger penalty; apply it here, continuing the fit from where it is,
        # at most twice (0.1, 0.3, 0.9). One AIS run per candidate.
        if self.alpha == "auto" or not self.mle_steps:
            self._estimate_log_partition(X, rng)
            for _ in range(_AUTO_ALPHA_RAISES):
                if self.alpha != "auto" or self.far_mass_ <= _FAR_MASS_WARNING:
                    break
                refit(float(f"{_AUTO_ALPHA_FACTOR * self.alpha_:.3g}"))
                self._estimate_log_partition(X, rng)
        if self.mle_steps:
            self._check_density()  # the likelihood's chains sample the model
            steps = self._steps(
                "likelihood", "step", X, self.sigma_, self.alpha_, self.mle_steps
            )
            try:
                refined = refine_by_likelihood(
                    *self._theta,
                    self.sigma_,
                    X,
                    alpha=self.alpha_,
                    n_steps=self.mle_steps,
                    learning_rate=self.mle_learning_rate,
                    random_state=rng,
                    on_step=steps and steps.step,
                    sample_weight=self._weights(),
                    activation=self.activation,
                )
            finally:
                if steps:
                    steps.close()
            dtype = self.components_.dtype
            self.components_, self.intercept_hidden_, self.intercept_visible_ = (
                p.astype(dtype) for p in refined
            )
            self._estimate_log_partition(X, rng)
        self._warn_if_unreliable()

    def _estimate_log_partition(self, X, rng):
        """Estimate log Z (and what comes with it) for the current model and
        store it."""
        state = self._normalisation(X, rng)
        # All at once: Ctrl-C during the estimate leaves none of them half-set.
        for name in _TAIL_ATTRIBUTES:
            self.__dict__.pop(name, None)
        self.__dict__.update(state)
        if self.verbose:
            print(
                f"[{type(self).__name__}] alpha = {self.alpha_:.3g}: log Z = "
                f"{self.log_partition_:.4f} +/- {self.log_partition_std_:.4f}; "
                f"model mass far from the data: {self.far_mass_:.1%}"
            )

    def _normalisation(self, X, rng):
        """``log_partition_``, ``log_partition_std_``, ``far_mass_`` and the
        tail's attributes of the current model, as a dict (nothing stored):
        AIS from the rows ``X`` (model coordinates), then the tail fitted to
        them."""
        # No log Z, score_samples or sample of a model that is not a density.
        self._check_density()
        # Estimated once, with the fit's own random stream, so that
        # score_samples and score are deterministic and cheap afterwards.
        steps = self._steps(
            "ais", "temperature", X, self.sigma_, self.alpha_, self.n_ais_steps
        )
        # The chains start from the data's mean and spread (at least sigma):
        # the model's own N(c, sigma^2 I) is narrower than the data it fits,
        # and chains started there reach the model's mass late. On digits
        # the standard error at 1000 temperatures fell from 0.04-0.07 nats to
        # 0.006 (doc/defaults.rst).
        mean, spread = mean_and_spread(X, self._weights())
        base = (mean, max(spread, self.sigma_))
        try:
            chains, log_w, _ = anneal(
                *self._theta,
                self.sigma_,
                self.n_ais_chains,
                self.n_ais_steps,
                rng,
                on_step=steps and steps.step,
                base=base,
                activation=self.activation,
            )
        finally:
            if steps:
                steps.close()
        log_z, log_z_std = log_partition_from_weights(log_w, X.shape[1], base[1])
        # The AIS end points, weighted, are draws from the model: reuse them.
        far = far_mass(chains.X, log_w, X, self.sigma_, sample_weight=self._weights())
        return {
            "log_partition_": float(log_z),
            "log_partition_std_": float(log_z_std),
            "far_mass_": far,
            **self._fit_tail(X, float(log_z)),
        }

    def _density_state(self):
        """The normalisation that ``score_samples``, ``score`` and ``sample``
        use: the stored one, or, after :meth:`partial_fit`, one estimated now
        and not stored, so that those methods never change the estimator.
        Its AIS draws are seeded by the parameters' bytes: every call gets
        the same log Z, the one :meth:`update_log_partition` stores."""
        check_is_fitted(self)
        pending = getattr(self, "_pending_log_partition", None)
        if pending is None:
            names = ("log_partition_", *_TAIL_ATTRIBUTES)
            return {name: getattr(self, name) for name in names if hasattr(self, name)}
        seed = zlib.crc32(pack(*self._theta).tobytes())
        state = self._normalisation(pending, np.random.RandomState(seed))
        self._warn_if_unreliable(state)
        return state

    def _fit_tail(self, Z, log_z):
        """The tail component's attributes, fitted to the training rows ``Z``
        (in the model's coordinates) given ``log Z`` (empty without ``tail``).

        The Student-t lives in the data's whitened coordinates: the model's
        own with ``whiten=True``, else those of the rows at hand. Its scale
        and degrees of freedom are fitted to the rows alone, then its weight
        with the model's normalised density beside it (doc/math.rst, "The
        tail component").
        """
        if self.tail is None:
            return {}
        weights = self._weights()
        n, d = Z.shape
        if hasattr(self, "whitening_"):
            centre, whitening = np.zeros(d), None
            unwhitening = np.linalg.inv(self.whitening_.astype(np.float64))
            location = self.mean_.astype(np.float64)
            log_det = 0.0
        else:
            centre, whitening, unwhitening, log_det = fit_whitening(Z, weights)
            location = centre
        # Squared whitened radii and the model's log-density, a slab of rows
        # at a time: no float64 copy of float32 data.
        q, log_p_model = np.empty(n), np.empty(n)
        for start, stop in row_slabs(n, d):
            rows = np.array(Z[start:stop], dtype=np.float64)  # a copy
            log_p_model[start:stop] = -_model.energy(
                rows, *self._theta, self.sigma_, self.activation
            )
            rows -= centre
            if whitening is not None:
                rows = rows @ whitening
            q[start:stop] = np.einsum("ij,ij->i", rows, rows)
        log_p_model -= log_z
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

    def _warn_if_unreliable(self, state=None):
        state = vars(self) if state is None else state
        far, log_z_std = state["far_mass_"], state["log_partition_std_"]
        if far > _FAR_MASS_WARNING:
            warn(
                f"{far:.0%} of the model's mass lies farther from "
                f"every training row than new data does: score matching cannot "
                f"see mass there, and score_samples is unreliable on held-out "
                f"data. Increase alpha (now {self.alpha_:.3g}), lower "
                f"n_components (now {self.n_components}) or raise sigma (now "
                f"{self.sigma_:.3g})."
            )
        if log_z_std > 0.1:
            warn(
                f"The AIS estimate of log Z has a standard error of "
                f"{log_z_std:.2g} nats (above 0.1), so "
                f"score_samples and score are unreliable. Increase n_ais_steps "
                f"(now {self.n_ais_steps}) or n_ais_chains (now "
                f"{self.n_ais_chains}); a standard error near 1 means one chain "
                f"carries all the weight, which usually means the model puts "
                f"mass far from the data: increase alpha or sigma, or lower "
                f"n_components."
            )

    def score_samples(self, X):
        """Log-density ``log p(x) = -E(x) - log Z`` of each row.

        ``log Z`` is the AIS estimate ``log_partition_`` made at the end of
        ``fit``; its standard error ``log_partition_std_`` is shared by every row.
        After :meth:`partial_fit` and before :meth:`update_log_partition`,
        log Z is estimated on every call, and not stored. With ``tail`` the
        density is
        the mixture ``(1 - tail_weight_) exp(-E(x) - log Z) + tail_weight_
        t(x)``, ``t`` the fitted Student-t.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        log_density : ndarray of shape (n_samples,)
            ``-E(x) - log_partition_``, mixed with the tail component's
            log-density if there is one.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import ScoreMatchingEBM
        >>> X = np.random.RandomState(0).normal(size=(100, 2))
        >>> ebm = ScoreMatchingEBM(n_components=4, sigma=0.5, n_ais_steps=300,
        ...                        random_state=0).fit(X)
        >>> ebm.set_params(tail=None).fit(X).score_samples(X[:3]).shape
        (3,)
        >>> log_p = ebm.score_samples(X[:3])
        >>> bool(np.allclose(log_p, -ebm.energy(X[:3]) - ebm.log_partition_))
        True
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=FLOAT_DTYPES, reset=False)
        log_density = -self._energy(X)
        state = self._density_state()
        log_density -= log_density.dtype.type(state["log_partition_"])
        if "tail_weight_" not in state:
            return log_density
        log_tail = tail_log_density(
            X, state["tail_location_"], state["tail_scatter_"], state["tail_dof_"]
        )
        mixed = mixture_log_density(log_density, log_tail, state["tail_weight_"])
        return mixed.astype(log_density.dtype, copy=False)

    def _draw(self, n_samples, rng):
        # Each row from the tail with probability tail_weight_, the others
        # from the model's annealed chains, in random order.
        state = self._density_state()
        if "tail_weight_" not in state:
            return super()._draw(n_samples, rng)
        n_tail = int(rng.binomial(n_samples, state["tail_weight_"]))
        parts = []
        if n_tail < n_samples:
            parts.append(super()._draw(n_samples - n_tail, rng))
        if n_tail:
            tail = sample_tail(
                n_tail,
                state["tail_location_"],
                state["tail_scatter_"],
                state["tail_dof_"],
                rng,
            )
            parts.append(tail.astype(self.components_.dtype))
        return np.vstack(parts)[rng.permutation(n_samples)]

    def score(self, X, y=None):
        """Mean log-likelihood of the rows of ``X`` (as ``GaussianMixture.score``).

        The default scoring of ``GridSearchCV``: held-out log-likelihood, which
        compares models of any ``sigma`` and ``n_components``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
            ``mean(log p(x))`` in nats per row.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import ScoreMatchingEBM
        >>> X = np.random.RandomState(0).normal(size=(100, 2))
        >>> ebm = ScoreMatchingEBM(n_components=4, sigma=0.5, n_ais_steps=300,
        ...                        random_state=0).fit(X)
        >>> bool(np.isclose(ebm.score(X), ebm.score_samples(X).mean()))
        True
        """
        return float(np.mean(self.score_samples(X)))
