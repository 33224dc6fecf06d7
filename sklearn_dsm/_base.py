"""What both estimators share: hyperparameters, fit and partial_fit.

A fit validates ``X``, builds the flat objective (:mod:`sklearn_dsm._objectives`),
hands it to a solver (:mod:`sklearn_dsm._lbfgs` or :mod:`sklearn_dsm._adam`),
checks the result, and stores it as fitted attributes. The methods of a fitted
model are in :mod:`sklearn_dsm._inference`.
"""

import copy
import time
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, validate_data

from ._activations import ACTIVATIONS
from ._adam import (
    AdamState,
    BatchSource,
    FixedNoiseObjective,
    NoisyBatches,
    adam_epoch,
    noise_stream,
    patience,
    run_adam,
    watched_rows,
)
from ._inference import FLOAT_DTYPES, _FittedModelMixin
from ._lbfgs import run_lbfgs
from ._objectives import (
    OBJECTIVES,
    Workspace,
    corrupt,
    flat_objective,
    row_weights,
)
from ._progress import CallbackSupportMixin, FitProgress
from ._scaling import fit_whitening, rms_spread, silverman_sigma
from ._theta import initial_theta, pack, unpack
from ._warnings import warn

# Where alpha="auto" starts (doc/defaults.rst).
_AUTO_ALPHA = 0.1
# The fitted change of coordinates of whiten=True.
_COORDINATES = ("mean_", "whitening_", "log_det_whitening_")
# sigma / (the data's spread) outside this range warns: no sensible fit there.
_SIGMA_RANGE = (1e-2, 10.0)


# State that lives for one call only: scikit-learn's callback machinery's
# (removed by it after fit) and fit's own weights and progress report
# (removed by fit's finally). A failed call's restore keeps it for them.
_CALL_STATE = (
    "_callback_fit_ctx",
    "_skl_callbacks_to_teardown",
    "_sample_weight",
    "_progress",
    "_solver",
)


class _BaseDSM(_FittedModelMixin, CallbackSupportMixin, BaseEstimator):
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
        self._check_objective_and_corruptions()
        before = dict(vars(self))
        try:
            X = validate_data(self, X, dtype=FLOAT_DTYPES, ensure_min_samples=2)
            X, sample_weight = _weighted_rows(X, sample_weight, "fit")
        except BaseException:
            self._restore(before)  # a call that fails validation changes nothing
            raise
        # A fit starts afresh: no optimiser state or stream from partial_fit.
        for name in self._partial_fit_state:
            self.__dict__.pop(name, None)
        rng = check_random_state(self.random_state)
        # The fit's solver, sample weights, read by its steps; they and the
        # progress report are removed however the fit ends (Ctrl-C included),
        # and the report's root task is ended then.
        self._solver = self._choose_solver(X.shape[0])
        solve = self._fit_adam if self._solver == "adam" else self._fit_lbfgs
        warm = self._warm_start_applies(X)
        self._sample_weight = sample_weight
        try:
            self._fit_solve_and_finish(X, before, rng, solve, warm)
        finally:
            self.__dict__.pop("_sample_weight", None)
            self.__dict__.pop("_solver", None)
            progress = self.__dict__.pop("_progress", None)
            if progress is not None:
                progress.end()
        return self

    def _fit_solve_and_finish(self, X, before, rng, solve, warm):
        """The body of ``fit`` after validation: solve, then ``_after_fit``."""
        try:
            Z = self._fit_coordinates(X, keep=warm)
            sigma = self._resolve_sigma(Z)
            # scikit-learn's callbacks (set_callbacks) follow the fit's tasks.
            self._progress = FitProgress(self, X)
            interrupted = solve(Z, sigma, rng, warm, self._initial_alpha(warm))
        except BaseException:
            # Never leave a half-written estimator: validate_data has already
            # set this fit's n_features_in_ beside any previous fit's theta.
            # A warm start keeps the model it was continuing, which is whole;
            # any other fit leaves the estimator unfitted.
            if warm:
                self._restore(before)
            else:
                self._forget_fit()
            raise
        if warm:
            # As MLPRegressor's loss_curve_ under warm_start: the curves go
            # on from the model this fit continued; n_iter_ counts this fit.
            for name in ("loss_curve_", "validation_loss_curve_"):
                if name in before and hasattr(self, name):
                    setattr(self, name, list(before[name]) + getattr(self, name))
        self._raise_if_interrupted(interrupted)

        def refit(alpha):
            """Continue this fit from the stored model with another alpha;
            ``n_iter_`` and ``loss_curve_`` count every round."""
            n_iter, curve = self.n_iter_, self.loss_curve_
            interrupted = solve(Z, sigma, rng, True, alpha)
            self.n_iter_ += n_iter
            self.loss_curve_ = curve + self.loss_curve_
            self._raise_if_interrupted(interrupted)

        try:
            self._after_fit(Z, rng, refit)
        except KeyboardInterrupt:
            raise  # the stored iterate stays, for warm_start
        except BaseException:
            self._forget_fit()
            raise

    def _restore(self, state):
        """Put back the estimator's state as it was before a failed call
        (the call's own state stays, for whoever removes it)."""
        kept = {k: v for k, v in vars(self).items() if k in _CALL_STATE}
        self.__dict__.clear()
        self.__dict__.update(state)
        self.__dict__.update(kept)

    def _raise_if_interrupted(self, interrupted):
        """After Ctrl-C mid-fit the last whole iterate is stored, so that
        warm_start can continue from it: say so, and re-raise (the interrupt
        wins even when warnings are errors)."""
        if interrupted is None:
            return
        adam = self._active_solver() == "adam"
        steps = "Adam epochs" if adam else "L-BFGS iterations"
        usable = "" if self.__sklearn_is_fitted__() else " but counts as unfitted"
        try:
            warn(
                f"{type(self).__name__}.fit was interrupted after {self.n_iter_} "
                f"{steps}; the estimator holds that iterate{usable}. Fit again "
                f"with warm_start=True to continue from it."
            )
        finally:
            raise interrupted

    def _initial_alpha(self, continuing=False):
        """The penalty a fit starts with. ``alpha="auto"`` starts at 0.1, or,
        continuing a fitted model (warm start, partial_fit), where that model
        ended."""
        if self.alpha != "auto":
            return float(self.alpha)
        return self.alpha_ if continuing and hasattr(self, "alpha_") else _AUTO_ALPHA

    def _warm_start_applies(self, X):
        """True if ``warm_start`` continues the fitted model on this ``X``."""
        return (
            self.warm_start
            and hasattr(self, "components_")
            and self.components_.shape == (self.n_components, X.shape[1])
            and hasattr(self, "whitening_") == bool(self.whiten)
        )

    def _fit_coordinates(self, X, keep=False):
        """The rows of ``X`` in the model's coordinates, after fitting them.

        With ``whiten``, the model lives in ZCA-whitened coordinates
        (:func:`sklearn_dsm._scaling.fit_whitening`), stored as ``mean_``,
        ``whitening_`` and ``log_det_whitening_``; ``keep`` reuses the fitted
        ones (a warm start, or partial_fit after its first call). Without it,
        the model lives in the input's coordinates and ``X`` is returned as is.
        """
        if not self.whiten:
            for name in _COORDINATES:
                self.__dict__.pop(name, None)
            return X
        if not keep:
            mean, whitening, _, log_det = fit_whitening(X, self._weights())
            self.mean_ = mean.astype(X.dtype)
            self.whitening_ = whitening.astype(X.dtype)
            self.log_det_whitening_ = log_det
        return self._to_model(X)

    def _resolve_sigma(self, Z):
        """The noise level of this fit, in the model's coordinates.

        ``"auto"``: Silverman's bandwidth for ``Z`` (:mod:`sklearn_dsm._scaling`).
        A number is used as given, with a warning when it is far from the
        scale of the data, where the fit cannot be sensible.
        """
        spread = rms_spread(Z, self._weights())
        if self.sigma == "auto":
            return self._auto_sigma(Z, spread if spread > 0 else 1.0)
        sigma = float(self.sigma)
        if spread > 0 and not _SIGMA_RANGE[0] <= sigma / spread <= _SIGMA_RANGE[1]:
            units = (
                "sigma is in whitened units (the data's spread is 1 in every "
                "direction): use a value between 0.1 and 1"
                if self.whiten
                else "sigma is in the units of X: standardise X (StandardScaler)"
            )
            warn(
                f"sigma={self.sigma} is {sigma / spread:.2g} times the typical "
                f"spread of the data ({spread:.3g} per feature): the noise "
                f"{'drowns the data' if sigma > spread else 'is too small to see'}. "
                f"{units}, or use sigma='auto', which sets it from the data."
            )
        return sigma

    # solver="auto": minibatch Adam from this many rows on. Below it an
    # L-BFGS iteration over every row is cheap and its fixed noisy copies
    # converge in a few hundred; above it, where an Adam epoch already holds
    # 50 steps of fresh noise, a few epochs reach the same quality for a
    # fraction of the arithmetic (doc/defaults.rst, "solver").
    _ADAM_MIN_ROWS = 10_000

    def _choose_solver(self, n_samples):
        """The solver a fit on ``n_samples`` rows uses."""
        if self.solver != "auto":
            return self.solver
        return "adam" if n_samples >= self._ADAM_MIN_ROWS else "lbfgs"

    def _active_solver(self):
        """The solver of the call in progress (partial_fit's epochs are
        Adam's); outside a call, the one ``solver`` names ("auto": L-BFGS,
        the small-data choice)."""
        if "_solver" in vars(self):
            return self._solver
        return "adam" if self.solver == "adam" else "lbfgs"

    # n_corruptions="auto" for a criterion that needs noise (doc/defaults.rst).
    _NOISY_COPIES = 3

    def _n_corruptions(self, minibatch=None):
        """Noisy copies per row; "auto": none for ism (Hyvarinen's criterion on
        the clean rows), else 3 for L-BFGS's fixed copies and 1 for Adam,
        whose every batch draws fresh noise: more copies of a batch only make
        a larger batch that shares its clean rows, at the cost of more."""
        if self.n_corruptions != "auto":
            return self.n_corruptions
        if not OBJECTIVES[self.objective].needs_noise:
            return 0
        if minibatch is None:
            minibatch = self._active_solver() == "adam"
        return 1 if minibatch else self._NOISY_COPIES

    # Whether the estimator's outputs need exp(-E) to integrate (a density,
    # a detector whose scores are log-densities); an autoencoder's do not.
    _is_density = False

    def _tail_bound(self):
        """The bound on W's largest singular value that the fit's penalty
        holds (None: no penalty): 0.9 for a density whose activation grows
        faster than linearly, below the 1 that proves it a density
        (``_normalisable``)."""
        if not self._is_density or ACTIVATIONS[self.activation].bounded_growth:
            return None
        return 0.9

    def _initial_tail_bound(self):
        # A ReLU model starts as a density: its largest singular value at
        # most 1/2, half the bound that proves it one (_normalisable).
        return None if ACTIVATIONS[self.activation].bounded_growth else 0.5

    def _check_objective_and_corruptions(self):
        if self.n_corruptions == 0 and OBJECTIVES[self.objective].needs_noise:
            clean = sorted(k for k, o in OBJECTIVES.items() if not o.needs_noise)
            raise ValueError(
                f"n_corruptions=0 (no corruption) is only defined for "
                f"objective in {clean} (Hyvarinen's estimator on the clean "
                f"data); objective={self.objective!r} needs noisy copies. Set "
                f"n_corruptions >= 1 or objective='ism'."
            )
        if self.objective == "ism" and not ACTIVATIONS[self.activation].smooth:
            # The trace term sum_i f'(a_i) |W_i|^2 is then a step function of
            # theta on any finite sample: its expected gradient (a delta at
            # each kink, weighted by the data's density there) is invisible
            # to the sample, and the fit would ignore it.
            raise ValueError(
                f"objective='ism' needs an activation with a continuous "
                f"derivative; activation={self.activation!r} has a step "
                f"derivative, so Hyvarinen's trace term is piecewise constant "
                f"on any sample and its gradient is lost. Use objective='dsm' "
                f"(or 'dae', 'esm'), or activation='sigmoid'."
            )

    # tol=None: the stopping tolerance of each solver (doc/defaults.rst).
    _LBFGS_TOL = 1e-4
    _ADAM_TOL = 1e-4

    def _lbfgs_window(self):
        # "auto" is 10 for L-BFGS: its iterations are full-batch steps, and
        # the window only has to span its uneven short and long steps.
        auto = self.n_iter_no_change == "auto"
        return 10 if auto else self.n_iter_no_change

    def _tol(self):
        if self.tol is not None:
            return self.tol
        return self._ADAM_TOL if self._active_solver() == "adam" else self._LBFGS_TOL

    def _auto_sigma(self, Z, spread):
        """sigma="auto" for density: Silverman's bandwidth (see _scaling);
        sample weights count rows."""
        weights = self._weights()
        n_rows = Z.shape[0] if weights is None else float(weights.sum())
        return silverman_sigma(n_rows, Z.shape[1], spread)

    def _weights(self):
        """This fit's sample weights (None: every row counts once)."""
        return getattr(self, "_sample_weight", None)

    def _start_theta(self, X, rng, warm):
        """Flat float64 theta to start from: the fitted one under warm_start,
        else a fresh draw from ``rng``."""
        if warm:
            return pack(*self._theta)
        return pack(
            *initial_theta(
                X, self.n_components, rng, self._weights(), self._initial_tail_bound()
            )
        )

    def _fit_lbfgs(self, X, sigma, rng, warm, alpha):
        """Full-batch L-BFGS on noisy copies drawn once; returns a Ctrl-C or None.

        ``X`` and ``sigma`` are in the model's coordinates.
        """
        n_features = X.shape[1]
        # The noise is drawn first, so that a warm start with the same
        # random_state continues on exactly the objective it stopped on.
        X_noisy = corrupt(X, sigma, self._n_corruptions(), rng)
        theta0 = self._start_theta(X, rng, warm)
        objective = OBJECTIVES[self.objective]
        units = objective.units(sigma)
        weights = self._weights()
        fun = partial(
            flat_objective,
            X_noisy=X_noisy,
            target=objective.target(X, X_noisy, sigma, weights),
            row_weights=row_weights(weights, X_noisy, X),
            objective=self.objective,
            activation=self.activation,
            tail_bound=self._tail_bound(),
            sigma=sigma,
            alpha=alpha,
            shape=(self.n_components, n_features),
            # One set of scratch buffers for all of L-BFGS's evaluations.
            workspace=Workspace.for_data(X_noisy, self.n_components),
        )
        steps = self._steps("lbfgs", "iteration", X, sigma, alpha)
        try:
            result = run_lbfgs(
                fun,
                theta0,
                max_iter=self.max_iter,
                tol=self._tol(),
                n_iter_no_change=self._lbfgs_window(),
                on_iteration=self._printer("iteration", units)
                if self.verbose
                else None,
                on_iterate=steps and steps.step,
            )
        finally:
            if steps:
                steps.close()
        loss = result.loss * units
        if not (np.all(np.isfinite(result.theta)) and np.isfinite(loss)):
            raise FloatingPointError(
                f"{type(self).__name__} diverged: the fitted parameters are not "
                f"finite. Standardise X (e.g. StandardScaler), increase alpha "
                f"(now {self.alpha}) or change sigma (now {self.sigma})."
            )
        if result.hit_max_iter:
            warn(
                f"L-BFGS stopped at max_iter={self.max_iter} iterations while "
                f"the objective was still decreasing by more than tol={self._tol()} "
                f"(relative) over n_iter_no_change={self._lbfgs_window()} "
                f"iterations. Increase max_iter, or tol if the fit is good "
                f"enough for its use.",
                ConvergenceWarning,
            )
        curve = [value * units for value in result.loss_curve]
        self._store_theta(result.theta, X, sigma, result.n_iter, loss, curve, alpha)
        return result.interrupted

    def _fit_adam(self, X, sigma, rng, warm, alpha):
        """fit(solver="adam"): epochs of minibatch Adam with fresh noise."""
        theta0 = self._start_theta(X, rng, warm).astype(X.dtype)
        steps = self._steps("adam", "epoch", X, sigma, alpha)
        try:
            result = self._run_adam(theta0, X, rng, sigma, alpha, steps)
        finally:
            if steps:
                steps.close()
        if result.hit_max_iter:
            warn(
                f"Adam stopped at max_iter={self.max_iter} epochs while the "
                f"{'validation' if self.early_stopping else 'training'} objective "
                f"was still improving by more than tol={self._tol()} (relative) "
                f"within n_iter_no_change={result.n_iter_no_change} epochs. "
                f"Increase max_iter or tol.",
                ConvergenceWarning,
            )
        curve = result.loss_curve
        self._store_theta(
            result.theta, X, sigma, result.n_iter, curve[-1], curve, alpha
        )
        if result.validation_curve:
            self.validation_loss_curve_ = result.validation_curve
            self.best_validation_loss_ = float(result.best_validation)
        return result.interrupted

    def _objective_kwargs(self, sigma, alpha, n_features):
        """The minibatch objective's settings (Adam and partial_fit)."""
        return dict(
            objective=self.objective,
            activation=self.activation,
            tail_bound=self._tail_bound(),
            sigma=sigma,
            alpha=alpha,
            n_corruptions=self._n_corruptions(minibatch=True),
            shape=(self.n_components, n_features),
        )

    def _run_adam(self, theta0, X, rng, sigma, alpha, steps):
        weights = self._weights()
        train, watched, seed = watched_rows(
            X, rng, self.early_stopping, self.validation_fraction
        )
        stream = noise_stream(rng)
        kwargs = self._objective_kwargs(sigma, alpha, X.shape[1])
        batches = BatchSource(
            X.shape[0], self._batch_size(), self.shuffle, stream, train
        )
        fun = NoisyBatches(
            X, stream, batch_size=batches.batch_size, weights=weights, **kwargs
        )
        monitor = FixedNoiseObjective(
            X[watched],
            np.random.RandomState(seed),
            None if weights is None else weights[watched],
            **kwargs,
        )
        return run_adam(
            fun,
            theta0,
            batches,
            monitor,
            learning_rate=self._learning_rate(X.shape[1]),
            max_iter=self.max_iter,
            tol=self._tol(),
            n_iter_no_change=patience(
                self.n_iter_no_change, batches.n_rows, batches.batch_size
            ),
            keep_best=self.early_stopping,
            loss_units=OBJECTIVES[self.objective].units(sigma),
            on_epoch=self._printer("epoch") if self.verbose else None,
            on_iterate=steps and steps.step,
            weights=weights,
        )

    def _steps(self, task_name, step_name, X, sigma, alpha, max_steps=None):
        """The callbacks' subtask for one solver round (None without them).

        Each step's parameters rebuild a fitted copy for the callbacks that
        ask for one, in the fit's coordinates (set on the estimator already).
        """
        progress = getattr(self, "_progress", None)
        if progress is None:
            return None

        def complete(attributes):
            attributes.update(sigma_=float(sigma), alpha_=float(alpha))
            attributes = self._rebuilt(attributes, X)
            # The copy must not report into, or weigh like, this fit.
            attributes.update(_progress=None, _sample_weight=None)
            return attributes

        return progress.steps(
            task_name,
            step_name,
            self.max_iter if max_steps is None else max_steps,
            shape=(self.n_components, X.shape[1], X.dtype),
            complete=complete,
        )

    def _rebuilt(self, attributes, X):
        """What a copy of the estimator needs, beyond (W, b, c), sigma_ and
        alpha_, to count as fitted (``X``: the training rows, in the model's
        coordinates)."""
        return attributes

    def _printer(self, what, units=1.0):
        """The ``verbose`` progress line, as a solver's per-step callback."""
        start = time.perf_counter()
        name = type(self).__name__

        def report(step, loss, validation=None):
            line = f"[{name}] {what} {step}, {self.objective} objective = "
            line += f"{loss * units:.8g}"
            if validation is not None:
                line += f", validation = {validation:.8g}"
            print(line + f", elapsed = {time.perf_counter() - start:.2f} s")

        return report

    def _learning_rate(self, n_features):
        """Adam's step size; "auto": 1e-2, scaled by 64 / n_features above 64
        features. Adam moves every weight by about the step, so a unit's
        pre-activation moves with the number of its inputs: on 784-pixel
        images 1e-2 left most ReLU units dead (linear-classifier accuracy on
        ``transform`` 0.77, raw pixels 0.92), 1e-3 gave 0.94."""
        if self.learning_rate_init != "auto":
            return self.learning_rate_init
        return 1e-2 * min(1.0, 64 / n_features)

    def _batch_size(self):
        return 200 if self.batch_size == "auto" else self.batch_size

    def _store_theta(self, theta, X, sigma, n_iter, loss, loss_curve, alpha):
        """Write a whole fitted model, after dropping any previous fit's extras."""
        self._forget_fit(keep=("n_features_in_", "feature_names_in_", *_COORDINATES))
        W, b, c = unpack(theta, self.n_components, X.shape[1], X.dtype)
        self.sigma_ = float(sigma)
        self.alpha_ = float(alpha)
        self.components_ = W.copy()
        self.intercept_hidden_ = b.copy()
        self.intercept_visible_ = c.copy()
        self.n_iter_ = n_iter
        self.loss_ = loss
        self.loss_curve_ = list(loss_curve)
        self.solver_ = self._active_solver()

    def _forget_fit(self, keep=()):
        for name in [
            k
            for k in vars(self)
            if k.endswith("_") and not k.startswith("_") and k not in keep
        ]:
            delattr(self, name)

    def _after_fit(self, X, rng, refit):
        """Work that needs the fitted parameters (the EBM's log Z); none here.

        ``refit(alpha)`` continues the fit from the stored model with another
        penalty (the EBM's ``alpha="auto"``)."""

    def _after_partial_fit(self, X):
        """Work after each partial_fit (the EBM defers its log Z); none here."""

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
        # this batch.
        first = (
            not hasattr(self, "components_")
            or self.components_.shape[0] != self.n_components
            or hasattr(self, "whitening_") != bool(self.whiten)
        )
        before = dict(vars(self))
        try:
            X = validate_data(self, X, dtype=FLOAT_DTYPES, reset=first)
            X, sample_weight = _weighted_rows(X, sample_weight, "partial_fit")
        except BaseException:
            self._restore(before)  # a call that fails validation changes nothing
            raise
        if first and self.whiten and X.shape[0] < 10 * X.shape[1]:
            warn(
                f"partial_fit fits the whitening on its first batch, which has "
                f"{X.shape[0]} rows for {X.shape[1]} features: a covariance "
                f"from so few rows whitens badly. Start the stream with at "
                f"least {10 * X.shape[1]} rows, or set whiten=False."
            )
        self._sample_weight = sample_weight
        self._solver = "adam"
        try:
            Z = self._fit_coordinates(X, keep=not first)
            if first or self.sigma != "auto":
                sigma = self._resolve_sigma(Z) if first else float(self.sigma)
            else:
                sigma = self.sigma_  # "auto" is set from the first batch
            self._partial_fit_epoch(Z, sigma, first)
        except BaseException:
            # Nothing is stored until the epoch is done, so a later call that
            # fails (or is interrupted) leaves the previous state whole; a
            # first call must not leave this batch's n_features_in_ behind.
            if first:
                self._forget_fit()
            raise
        finally:
            self.__dict__.pop("_sample_weight", None)
            self.__dict__.pop("_solver", None)
        return self

    def _partial_fit_epoch(self, X, sigma, first):
        if first or not hasattr(self, "_stream"):
            # The initial weights, then the stream's seed, from one
            # RandomState: the draws fit(solver="adam") makes.
            rng = check_random_state(self.random_state)
            if first:
                theta = pack(
                    *initial_theta(
                        X,
                        self.n_components,
                        rng,
                        self._weights(),
                        self._initial_tail_bound(),
                    )
                )
            self._stream = noise_stream(rng)
        if not first:
            theta = pack(*self._theta)
        theta = theta.astype(X.dtype)  # a copy, in the data's dtype
        # The Adam state is updated on a copy, and kept only if the epoch
        # completes. learning_rate_init applies from this call on.
        optimizer = getattr(self, "_optimizer", None)
        if first or optimizer is None or optimizer.m.size != theta.size:
            optimizer = AdamState(
                theta.size, self._learning_rate(X.shape[1]), dtype=X.dtype
            )
        else:
            optimizer = copy.deepcopy(optimizer).astype(X.dtype)
            optimizer.learning_rate = self._learning_rate(X.shape[1])
        alpha = self._initial_alpha(continuing=not first)
        weights = self._weights()
        batches = BatchSource(
            X.shape[0], self._batch_size(), self.shuffle, self._stream
        )
        fun = NoisyBatches(
            X,
            self._stream,
            batch_size=batches.batch_size,
            weights=weights,
            **self._objective_kwargs(sigma, alpha, X.shape[1]),
        )
        loss = OBJECTIVES[self.objective].units(sigma) * adam_epoch(
            fun, theta, optimizer, batches, weights
        )
        n_iter = 1 if first else self.n_iter_ + 1
        curve = ([] if first else self.loss_curve_) + [loss]
        self._store_theta(theta, X, sigma, n_iter, loss, curve, alpha)
        self._optimizer = optimizer
        self._after_partial_fit(X)

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
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
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
