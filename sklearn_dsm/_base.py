"""What both estimators share: hyperparameters, fit and partial_fit.

A call validates ``X``, fits the whitening, resolves sigma and the solver
(:mod:`sklearn_dsm._settings`) into a :class:`~sklearn_dsm._solvers.FitCall`,
and runs a solver round on it (:mod:`sklearn_dsm._solvers`). Everything is
stored on a candidate model, a fresh estimator with the same
hyperparameters, and the estimator takes the candidate's fitted attributes
in one write when the call ends (``_commit``): a call that fails leaves it
as it was, one interrupted by Ctrl-C leaves the last whole iterate. The
methods of a fitted model are in :mod:`sklearn_dsm._inference`.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, validate_data

from ._activations import ACTIVATIONS
from ._inference import _FittedModelMixin
from ._objectives import OBJECTIVES
from ._progress import CallbackSupportMixin, FitProgress
from ._scaling import fit_whitening
from ._settings import _SettingsMixin
from ._solvers import SOLVERS, FitCall, Round, is_fitted_name, partial_fit_epoch
from ._theta import pack
from ._warnings import warn
from ._xp import float_dtypes, namespace, to_numpy

# The fitted change of coordinates of whiten=True.
_COORDINATES = ("mean_", "whitening_", "log_det_whitening_")


class _BaseDSM(_SettingsMixin, _FittedModelMixin, CallbackSupportMixin, BaseEstimator):
    """The model theta = (W, b, c) at noise level sigma, and how it is fitted."""

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "sigma": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "whiten": ["boolean"],
        "objective": [StrOptions(set(OBJECTIVES))],
        "n_corruptions": [
            Interval(Integral, 0, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "solver": [StrOptions({"auto", "lbfgs", "adam"})],
        "batch_size": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "learning_rate_init": [
            Interval(Real, 0, None, closed="neither"),
            StrOptions({"auto"}),
        ],
        "shuffle": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
    }

    # Private state that partial_fit carries between calls and fit discards.
    _partial_fit_state = ("_stream", "_optimizer")

    def __init__(
        self,
        n_components=64,
        *,
        activation="sigmoid",
        sigma="auto",
        objective="dsm",
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
        self.n_components = n_components
        self.activation = activation
        self.sigma = sigma
        self.objective = objective
        self.n_corruptions = n_corruptions
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.solver = solver
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.whiten = whiten

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Fit theta = (W, b, c) on the chosen objective.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. float32 data is fitted in float32.
        y : Ignored
            Not used, present for API consistency by convention.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights that count rows: every objective becomes a
            weighted mean over rows, and so do the whitening, the data's
            spread and ``sigma="auto"`` (whose row count is the weights'
            sum), ``far_mass_`` and the Parzen target of ``"esm"``. Integer
            weights fit what repeated rows fit; a zero weight drops the row.

        Returns
        -------
        self : object
            The fitted estimator.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import DenoisingAutoencoder
        >>> X = np.random.RandomState(0).normal(size=(100, 2))
        >>> dae = DenoisingAutoencoder(n_components=4, sigma=0.5, random_state=0).fit(X)
        >>> dae.n_iter_ > 0, dae.components_.shape
        (True, (4, 2))
        """
        # The fit builds its result on `model`, a fresh estimator with these
        # hyperparameters, and `self` takes the result in one write at the
        # end (_commit): a call that fails leaves `self` as it was, one that
        # is interrupted leaves it holding the last whole iterate.
        self._check_objective_and_corruptions()
        model = self._blank()
        # Under array API dispatch the objective, Adam's batches and the
        # density's AIS run where X lives; the rows are also kept on the
        # host, where the random numbers, the initial weights and the
        # whitening are made (_xp, doc/array_api.rst).
        xp, device = namespace(X)
        X = validate_data(model, X, dtype=float_dtypes(X), ensure_min_samples=2)
        X_given = X  # what the callbacks see: the rows in their namespace
        X, sample_weight = _weighted_rows(to_numpy(X), sample_weight, "fit")
        warm = self._warm_start_applies(X)
        previous = self._host() if warm else None
        Z = model._fit_coordinates(X, sample_weight, previous)
        call = FitCall(
            Z,
            sample_weight,
            self._resolve_sigma(Z, sample_weight),
            check_random_state(self.random_state),
            self._choose_solver(*X.shape),
            inputs={k: v for k, v in vars(model).items() if is_fitted_name(k)},
            # scikit-learn's callbacks (set_callbacks) follow the fit's
            # tasks; the fit's task is ended however the fit ends, Ctrl-C
            # included, and after the estimator holds what the fit made.
            progress=FitProgress(self, X_given),
            xp=xp,
            device=device,
        )
        try:
            try:
                theta = previous._warm_theta(warm) if warm else None
                model._solve(call, self._initial_alpha(warm), theta)
            finally:
                if warm and hasattr(model, "loss_curve_"):
                    # As MLPRegressor's loss_curve_ under warm_start: the
                    # curves go on from the model this fit continued;
                    # n_iter_ counts this fit.
                    for name in ("loss_curve_", "validation_loss_curve_"):
                        if hasattr(self, name) and hasattr(model, name):
                            value = getattr(self, name) + getattr(model, name)
                            setattr(model, name, value)
            model._after_fit(call)
        except KeyboardInterrupt as interrupt:
            if hasattr(model, "components_"):
                # The last whole iterate is kept, for warm_start to continue.
                self._commit(model, call)
                self._warn_interrupted(call.solver, interrupt)
            raise
        else:
            self._commit(model, call)
        finally:
            call.progress.end()
        return self

    def _blank(self):
        """An unfitted estimator of this class with these hyperparameters
        (the same objects, not copies): a call's candidate model."""
        model = object.__new__(type(self))
        model.__dict__.update(self.get_params(deep=False))
        return model

    def _fitted_state(self):
        """Every fitted attribute, and the private state partial_fit carries."""
        return {
            name: value
            for name, value in vars(self).items()
            if is_fitted_name(name) or name in self._partial_fit_state
        }

    def _commit(self, model, call):
        """Take the fitted state of ``model`` (a call's candidate), after
        dropping whatever a previous fit left. The candidate computed on the
        host; under array API dispatch its fitted float arrays go to the
        call's namespace and device (private state stays as it is)."""
        state = call.fitted_to_device(model._fitted_state())
        for name in self._fitted_state():
            delattr(self, name)
        self.__dict__.update(state)

    def _warm_theta(self, warm):
        """The flat theta a warm start continues from (None: a fresh start)."""
        return pack(*self._theta) if warm else None

    def _solve(self, call, alpha, theta=None, counted=None):
        """One solver round from ``theta`` (None: a fresh start) at penalty
        ``alpha``, stored on this (candidate) model; ``counted`` (n_iter,
        loss curve) are earlier rounds', which ``n_iter_`` and
        ``loss_curve_`` then include. A round ended by Ctrl-C is stored
        too, then its KeyboardInterrupt is raised."""
        done = SOLVERS[call.solver](self, call, alpha, theta)
        self._forget_fit(keep=tuple(call.inputs))
        self.__dict__.update(done.attributes(self, call))
        if counted is not None:
            self.n_iter_ += counted[0]
            self.loss_curve_ = counted[1] + self.loss_curve_
        if done.interrupted is not None:
            raise done.interrupted

    def _continue(self, call, alpha):
        """Continue this (candidate) model's fit with another penalty, every
        round counted (the density's ``alpha="auto"``)."""
        counted = (self.n_iter_, self.loss_curve_)
        self._solve(call, alpha, pack(*self._theta), counted)

    def _warn_interrupted(self, solver, interrupt):
        """After Ctrl-C mid-fit the last whole iterate is stored, so that
        warm_start can continue from it: say so, and re-raise (the interrupt
        wins even when warnings are errors)."""
        steps = "Adam epochs" if solver == "adam" else "L-BFGS iterations"
        usable = "" if self.__sklearn_is_fitted__() else " but counts as unfitted"
        try:
            warn(
                f"{type(self).__name__}.fit was interrupted after {self.n_iter_} "
                f"{steps}; the estimator holds that iterate{usable}. Fit again "
                f"with warm_start=True to continue from it."
            )
        finally:
            raise interrupt

    def _initial_alpha(self, continuing=False):
        """The penalty a fit starts with (the density adds ``"auto"``)."""
        return float(self.alpha)

    def _warm_start_applies(self, X):
        """True if ``warm_start`` continues the fitted model on this ``X``."""
        return (
            self.warm_start
            and hasattr(self, "components_")
            and self.components_.shape == (self.n_components, X.shape[1])
            and hasattr(self, "whitening_") == bool(self.whiten)
        )

    def _fit_coordinates(self, X, weights, source=None):
        """The rows of ``X`` in the model's coordinates, after fitting them.

        With ``whiten``, the model lives in ZCA-whitened coordinates
        (:func:`sklearn_dsm._scaling.fit_whitening`), stored as ``mean_``,
        ``whitening_`` and ``log_det_whitening_``, or taken from ``source``
        (the model a warm start or partial_fit continues). Without it, the
        model lives in the input's coordinates and ``X`` is returned as is.
        """
        if not self.whiten:
            return X
        if source is not None:
            self.__dict__.update({name: vars(source)[name] for name in _COORDINATES})
        else:
            mean, whitening, _, log_det = fit_whitening(X, weights)
            self.mean_ = mean.astype(X.dtype)
            self.whitening_ = whitening.astype(X.dtype)
            self.log_det_whitening_ = log_det
        return self._to_model(X)

    def _forget_fit(self, keep=()):
        for name in [k for k in vars(self) if is_fitted_name(k) and k not in keep]:
            delattr(self, name)

    def _rebuilt(self, attributes, X, weights):
        """What a fitted copy for the callbacks needs beyond the round's
        attributes and the call's inputs (``X``: the training rows in the
        model's coordinates, ``weights`` theirs); nothing here."""
        return attributes

    def _after_fit(self, call):
        """Work on the candidate model once its solver round is stored (the
        density's log Z, ``alpha="auto"`` and tail; the detector's offset);
        none here."""

    def _after_partial_fit(self, call):
        """Work after each partial_fit epoch (the density defers its log Z);
        none here."""

    # ------------------------------------------------------ minibatch (Adam)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """One epoch of minibatch Adam on ``X``, with fresh noise.

        The first call initialises the model from ``X``. A fitted model (by
        ``fit`` or by earlier calls) is refined from where it is. Every call
        draws new corrupted copies from one random stream, which starts at
        ``random_state`` and carries on across calls; so does the Adam state,
        in a small private object. The first batch also fixes what ``fit``
        would take from all the rows: the whitening (``whiten=True``; start
        with at least 10 rows per feature, a smaller first batch warns),
        ``sigma="auto"`` and ``alpha="auto"`` (0.1; a later call continues at
        the fitted ``alpha_``). With a numeric ``sigma`` and ``whiten=False``
        a stream of calls is the same algorithm as ``fit(solver="adam")`` on
        the concatenation. With ``objective="esm"``, the Parzen target is
        computed against the batch. ``batch_size``, ``shuffle`` and
        ``learning_rate_init`` apply.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One batch of training rows.
        y : Ignored
            Not used, present for API consistency by convention.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the batch's rows, as in :meth:`fit`.

        Returns
        -------
        self : object
            The updated estimator.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import DenoisingAutoencoder
        >>> rng = np.random.RandomState(0)
        >>> dae = DenoisingAutoencoder(n_components=4, sigma=0.5, random_state=0)
        >>> for _ in range(5):
        ...     dae = dae.partial_fit(rng.normal(size=(50, 2)))
        >>> dae.n_iter_
        5
        """
        self._check_objective_and_corruptions()
        # A first call, or a new n_components or whiten, (re)initialises from
        # this batch; a later one continues the fitted model. Either way the
        # epoch runs on a candidate model that `self` takes when it is done
        # (as in fit): a call that fails or is interrupted changes nothing.
        first = (
            not hasattr(self, "components_")
            or self.components_.shape[0] != self.n_components
            or hasattr(self, "whitening_") != bool(self.whiten)
        )
        model = self._blank()
        previous = self._host()
        if not first:
            model.__dict__.update(previous._fitted_state())
        xp, device = namespace(X)
        X = validate_data(model, X, dtype=float_dtypes(X), reset=first)
        X, sample_weight = _weighted_rows(to_numpy(X), sample_weight, "partial_fit")
        if first and self.whiten and X.shape[0] < 10 * X.shape[1]:
            warn(
                f"partial_fit fits the whitening on its first batch, which has "
                f"{X.shape[0]} rows for {X.shape[1]} features: a covariance "
                f"from so few rows whitens badly. Start the stream with at "
                f"least {10 * X.shape[1]} rows, or set whiten=False."
            )
        Z = model._fit_coordinates(X, sample_weight, None if first else previous)
        if first:
            sigma = self._resolve_sigma(Z, sample_weight)
        else:
            # sigma="auto" is set from the first batch.
            sigma = self.sigma_ if self.sigma == "auto" else float(self.sigma)
        stream = getattr(self, "_stream", None)
        # The initial weights (first call) and the stream's seed come from
        # random_state; a later call carries its stream on.
        rng = check_random_state(self.random_state) if first or stream is None else None
        call = FitCall(Z, sample_weight, sigma, rng, "adam", xp=xp, device=device)
        alpha = self._initial_alpha(continuing=not first)
        theta, loss, optimizer, stream = partial_fit_epoch(
            self,
            call,
            alpha,
            None if first else pack(*previous._theta),
            None if first else getattr(self, "_optimizer", None),
            None if first else stream,
        )
        n_iter = 1 if first else self.n_iter_ + 1
        curve = ([] if first else self.loss_curve_) + [loss]
        model._forget_fit(keep=(*_COORDINATES, "n_features_in_", "feature_names_in_"))
        model.__dict__.update(
            Round(theta, n_iter, loss, curve, alpha).attributes(self, call)
        )
        model._optimizer, model._stream = optimizer, stream
        model._after_partial_fit(call)
        self._commit(model, call)
        return self

    def __sklearn_is_fitted__(self):
        return hasattr(self, "components_")

    def __setstate__(self, state):
        # Models saved before the activation was a hyperparameter (0.1.0)
        # are the paper's sigmoid model.
        state.setdefault("activation", "sigmoid")
        super().__setstate__(state)


def _weighted_rows(X, sample_weight, method):
    """``X`` and its checked sample weights, zero-weight rows dropped (a zero
    weight is a dropped row, exactly: the noise of the others is unchanged).
    ``None`` stays None."""
    if sample_weight is None:
        return X, None
    sample_weight = _check_sample_weight(
        to_numpy(sample_weight), X, dtype=np.float64, ensure_non_negative=True
    )
    keep = sample_weight > 0
    if keep.sum() < (2 if method == "fit" else 1):
        raise ValueError(
            f"{method} needs positive sample_weight on at least "
            f"{2 if method == 'fit' else 1} rows; got {int(keep.sum())}. Rows "
            f"of weight 0 are left out: pass weights > 0 for the rows to fit."
        )
    if not keep.all():
        X, sample_weight = X[keep], sample_weight[keep]
    return X, sample_weight
