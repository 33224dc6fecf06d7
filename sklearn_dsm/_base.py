"""Estimator plumbing shared by both faces of the one model.

The math lives in :mod:`sklearn_dsm._model` and :mod:`sklearn_dsm._objectives`;
this module validates input, draws the corruption, runs L-BFGS and stores the
fitted parameters.
"""

import copy
import time
import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np
from scipy.optimize import minimize
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from . import _model
from ._minibatch import AdamState, adam_epoch
from ._objectives import (
    OBJECTIVES,
    Workspace,
    flat_objective,
    objective_target,
)
from ._params import pack, unpack
from ._sampling import sample_model
from ._threading import optimizer_threadpool_limits

_FLOAT_DTYPES = (np.float64, np.float32)
# Private state that partial_fit carries between calls and fit discards.
_PARTIAL_FIT_STATE = ("_stream", "_optimizer", "_pending_log_partition")
# Bytes of float64 temporaries made at a time by corrupt() and the initialisation.
_NOISE_SLAB_BYTES = 16 * 2**20


def corrupt(X, sigma, n_corruptions, random_state):
    """``n_corruptions`` stacked blocks of ``X + sigma * eps``, eps ~ N(0, I).

    Returns an array of shape (n_corruptions * n, d) in the dtype of ``X``;
    block ``k`` holds the k-th noisy copy of every row. The noise is drawn in
    float64 and then cast, so a float32 fit sees the same draws as a float64 one.
    It is drawn a slab of rows at a time, in the order of the stream, so the
    float64 temporary stays small (a float32 fit used to hold a float64 copy
    of all its noise, twice the size of the result). ``n_corruptions=0``
    returns ``X`` itself (no corruption).
    """
    if n_corruptions == 0:
        return X
    rng = check_random_state(random_state)
    n, d = X.shape
    out = np.empty((n_corruptions * n, d), dtype=X.dtype)
    step = max(1, _NOISE_SLAB_BYTES // (8 * max(d, 1)))
    for block in range(0, n_corruptions * n, n):
        for start in range(0, n, step):
            stop = min(start + step, n)
            eps = rng.standard_normal((stop - start, d))
            eps *= sigma
            eps += X[start:stop]
            out[block + start : block + stop] = eps
    return out


def _loss_units(objective, sigma):
    """Factor from the optimised (score-matching) scale to the objective's units.

    L-BFGS always minimises in score-matching units, J_DSM for ``dae``: by
    Proposition 2 J_DAE = 2 sigma^4 J_DSM, so ``dae`` and ``dsm`` run one and the
    same optimisation (the same iterates and stopping decisions, bit for bit)
    and differ only in the units of the reported ``loss_``.
    """
    return 2.0 * sigma**4 if objective == "dae" else 1.0


class _BaseDSM(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """The model theta = (W, b, c) at noise level sigma, fitted by L-BFGS."""

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "sigma": [Interval(Real, 0, None, closed="neither")],
        "objective": [StrOptions(set(OBJECTIVES))],
        "n_corruptions": [Interval(Integral, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "solver": [StrOptions({"lbfgs", "adam"})],
        "batch_size": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "shuffle": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_components=64,
        *,
        sigma=0.5,
        objective="dsm",
        n_corruptions=10,
        alpha=0.1,
        max_iter=200,
        tol=1e-6,
        random_state=None,
        verbose=0,
        warm_start=False,
        solver="lbfgs",
        batch_size="auto",
        learning_rate_init=1e-3,
        shuffle=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
    ):
        self.n_components = n_components
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

    # ------------------------------------------------------------------ fit
    def _initial_params(self, X, rng):
        """Small random W scaled to the data, b = 0, c = the data mean.

        W is Glorot-uniform divided by the data's root-mean-square spread, so
        that the initial pre-activations W x are O(1) whatever the data's units
        (the fit is then equivariant to rescaling X together with sigma).
        c = mean(X) centres the model's base Gaussian N(c, sigma^2 I) on the data.
        """
        n_features = X.shape[1]
        mean = X.mean(axis=0, dtype=np.float64)
        # The root-mean-square deviation, accumulated in float64 a slab of rows
        # at a time: a whole float64 (X - mean) ** 2 would be four times the
        # size of a float32 X, the largest allocation of the whole fit.
        step = max(1, _NOISE_SLAB_BYTES // (8 * max(n_features, 1)))
        sum_sq = 0.0
        for start in range(0, X.shape[0], step):
            deviation = X[start : start + step] - mean
            sum_sq += float(np.vdot(deviation, deviation))
        spread = float(np.sqrt(sum_sq / X.size))
        if not np.isfinite(spread) or spread <= 0:
            spread = 1.0
        limit = np.sqrt(6.0 / (n_features + self.n_components)) / spread
        W = rng.uniform(-limit, limit, size=(self.n_components, n_features))
        return W, np.zeros(self.n_components), mean

    def _check_objective_and_corruptions(self):
        if self.n_corruptions == 0 and self.objective != "ism":
            raise ValueError(
                f"n_corruptions=0 (no corruption) is only defined for "
                f"objective='ism' (Hyvarinen's estimator on the clean data); "
                f"objective={self.objective!r} needs noisy copies. Set "
                f"n_corruptions >= 1 or objective='ism'."
            )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit theta = (W, b, c) by L-BFGS on the chosen objective.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. float32 data is fitted in float32.
        y : Ignored
            Not used, present for API consistency by convention.

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
        X = validate_data(self, X, dtype=_FLOAT_DTYPES, ensure_min_samples=2)
        # A fit starts afresh: no optimiser state or stream from partial_fit.
        for name in _PARTIAL_FIT_STATE:
            self.__dict__.pop(name, None)
        try:
            if self.solver == "adam":
                self._fit_adam(X)
            else:
                self._fit_lbfgs(X)
        except BaseException as exc:
            # Never leave a half-written estimator (validate_data has already
            # set this fit's n_features_in_). Ctrl-C after a whole iterate was
            # stored keeps it, for warm_start; anything else forgets the fit.
            kept = self.__dict__.pop("_kept_iterate", False)
            if not (kept and isinstance(exc, KeyboardInterrupt)):
                self._forget_fit()
            raise
        self.__dict__.pop("_kept_iterate", None)
        return self

    def _fit_lbfgs(self, X):
        n_features = X.shape[1]
        sigma = float(self.sigma)
        rng = check_random_state(self.random_state)

        # The noise is drawn first, so that a warm start with the same
        # random_state continues on exactly the objective it stopped on.
        X_noisy = corrupt(X, sigma, self.n_corruptions, rng)
        params = self._warm_params(n_features) or self._initial_params(X, rng)

        target = objective_target(self.objective, X, X_noisy, sigma)
        units = _loss_units(self.objective, sigma)
        alpha = float(self.alpha)
        dtype = X.dtype
        n_components = self.n_components

        # One set of scratch buffers for all of L-BFGS's evaluations.
        workspace = Workspace.for_data(X_noisy, n_components)

        # dae is optimised as dsm (see _loss_units); everything else as itself.
        fun = partial(
            flat_objective,
            X_noisy=X_noisy,
            target=target,
            objective=self.objective,
            sigma=sigma,
            alpha=alpha,
            shape=(n_components, n_features),
            workspace=workspace,
        )

        loss_curve = []
        last_iterate = []
        start = time.perf_counter()

        def callback(intermediate_result):
            x = np.array(intermediate_result.x)
            loss_curve.append(intermediate_result.fun * units)
            # One assignment, so that Ctrl-C never splits an iterate from its
            # loss and count.
            last_iterate[:] = [x, loss_curve[-1], len(loss_curve)]
            if self.verbose:
                print(
                    f"[{type(self).__name__}] iteration {len(loss_curve)}, "
                    f"{self.objective} objective = {loss_curve[-1]:.8g}, "
                    f"elapsed = {time.perf_counter() - start:.2f} s"
                )

        interrupt = None
        try:
            with optimizer_threadpool_limits():
                result = minimize(
                    fun,
                    pack(*params),
                    method="L-BFGS-B",
                    jac=True,
                    callback=callback,
                    options={"maxiter": self.max_iter, "ftol": self.tol, "gtol": 0},
                )
            theta, loss = result.x, float(result.fun) * units
            n_iter = max(1, min(int(result.nit), self.max_iter))
        except KeyboardInterrupt as exc:
            # Ctrl-C mid-fit: keep the last completed iterate, which is a whole
            # and consistent model, so that warm_start can continue from it;
            # with no completed iterate, fit() leaves the estimator unfitted.
            if not last_iterate:
                raise
            interrupt = exc
            theta, loss, n_iter = last_iterate
            del loss_curve[n_iter:]

        if not (np.all(np.isfinite(theta)) and np.isfinite(loss)):
            raise FloatingPointError(
                f"{type(self).__name__} diverged: the fitted parameters are not "
                f"finite. Standardise X (e.g. StandardScaler), increase alpha "
                f"(now {self.alpha}) or change sigma (now {self.sigma})."
            )
        if interrupt is None and result.status == 1:
            warnings.warn(
                f"L-BFGS stopped at max_iter={self.max_iter} iterations before "
                f"the relative decrease of the objective fell below "
                f"tol={self.tol}. Increase max_iter or tol, or standardise X.",
                ConvergenceWarning,
                stacklevel=4,  # the user's call: past _fit_lbfgs, fit, _fit_context
            )

        self._store_params(theta, n_features, dtype, n_iter, loss, loss_curve or [loss])
        if interrupt is not None:
            self._warn_interrupted(n_iter, "L-BFGS iterations")
            raise interrupt
        self._after_fit(X, rng)

    def _warn_interrupted(self, n_done, what):
        warnings.warn(
            f"{type(self).__name__}.fit was interrupted after {n_done} {what}; "
            f"the estimator holds that iterate{self._interrupted_note}. Fit "
            f"again with warm_start=True to continue from it.",
            UserWarning,
            stacklevel=5,  # the user's call: past this, _fit_*, fit, _fit_context
        )

    # What an interrupted fit leaves undone; the EBM overrides it.
    _interrupted_note = ""

    def _forget_fit(self, keep=()):
        for name in [
            k
            for k in vars(self)
            if k.endswith("_") and not k.startswith("_") and k not in keep
        ]:
            delattr(self, name)

    def _after_fit(self, X, rng):
        """Hook for work that needs the fitted parameters (the EBM's log Z)."""

    def _after_partial_fit(self, X):
        """Hook run after each partial_fit (the EBM defers its log Z)."""

    # ------------------------------------------------------ minibatch (Adam)
    def _warm_params(self, n_features):
        """The fitted parameters if warm_start applies to them, else None."""
        if (
            self.warm_start
            and hasattr(self, "components_")
            and self.components_.shape == (self.n_components, n_features)
        ):
            return self._params
        return None

    def _batch_size(self, n_rows):
        if self.batch_size == "auto":
            return min(200, n_rows)
        return min(self.batch_size, n_rows)

    def _store_params(self, theta, n_features, dtype, n_iter, loss, loss_curve):
        """Write a whole fitted model, after dropping any previous fit's extras."""
        self._forget_fit(keep=("n_features_in_", "feature_names_in_"))
        W, b, c = unpack(theta, self.n_components, n_features, dtype)
        self.sigma_ = float(self.sigma)
        self.components_ = W.copy()
        self.intercept_hidden_ = b.copy()
        self.intercept_visible_ = c.copy()
        self.n_iter_ = n_iter
        self.loss_ = loss
        self.loss_curve_ = list(loss_curve)
        # A whole model is stored: Ctrl-C from here on keeps it (see fit).
        self._kept_iterate = True

    def _epoch_kwargs(self, shape):
        return dict(
            objective=self.objective,
            sigma=float(self.sigma),
            alpha=float(self.alpha),
            n_corruptions=self.n_corruptions,
            shuffle=self.shuffle,
            shape=shape,
        )

    def _fit_adam(self, X):
        """fit(solver="adam"): epochs of minibatch Adam with fresh noise."""
        n_samples, n_features = X.shape
        shape = (self.n_components, n_features)
        sigma = float(self.sigma)
        units = _loss_units(self.objective, sigma)
        rng = check_random_state(self.random_state)
        params = self._warm_params(n_features) or self._initial_params(X, rng)
        theta = pack(*params).copy()

        X_train, X_val = X, None
        if self.early_stopping:
            n_val = int(np.ceil(self.validation_fraction * n_samples))
            if n_samples - n_val < 1:
                raise ValueError(
                    f"validation_fraction={self.validation_fraction} leaves no "
                    f"training rows out of {n_samples}; lower it or pass more rows."
                )
            order = rng.permutation(n_samples)
            X_val, X_train = X[order[:n_val]], X[order[n_val:]]
            # The validation loss uses the same noise draws (and so the same
            # target) at every epoch, so its changes are the model's, not the
            # noise's; both are made once.
            val_seed = rng.randint(np.iinfo(np.int32).max)
            val_noisy = corrupt(
                X_val, sigma, self.n_corruptions, np.random.RandomState(val_seed)
            )
            validation_loss = partial(
                flat_objective,
                X_noisy=val_noisy,
                target=objective_target(self.objective, X_val, val_noisy, sigma),
                objective=self.objective,
                sigma=sigma,
                alpha=float(self.alpha),
                shape=shape,
            )
        kwargs = self._epoch_kwargs(shape)
        optimizer = AdamState(theta.size, self.learning_rate_init)
        batch_size = self._batch_size(X_train.shape[0])

        loss_curve, val_curve = [], []
        best, best_theta, stalled = np.inf, theta.copy(), 0
        start = time.perf_counter()
        done, interrupt = [], None
        try:
            for epoch in range(1, self.max_iter + 1):
                loss = units * adam_epoch(
                    theta, X_train, optimizer, batch_size=batch_size, rng=rng, **kwargs
                )
                # One assignment: Ctrl-C never splits an epoch's parameters
                # from its loss and count.
                done[:] = [theta.copy(), loss, epoch]
                loss_curve.append(loss)
                monitored = loss
                if X_val is not None:
                    monitored = units * validation_loss(theta)[0]
                    val_curve.append(monitored)
                if self.verbose:
                    print(
                        f"[{type(self).__name__}] epoch {epoch}, {self.objective} "
                        f"objective = {loss:.8g}"
                        + (f", validation = {monitored:.8g}" if val_curve else "")
                        + f", elapsed = {time.perf_counter() - start:.2f} s"
                    )
                if monitored < best - self.tol * abs(best) or not np.isfinite(best):
                    best, best_theta, stalled = monitored, theta.copy(), 0
                else:
                    stalled += 1
                if stalled >= self.n_iter_no_change:
                    break
            else:
                warnings.warn(
                    f"Adam stopped at max_iter={self.max_iter} epochs while the "
                    f"{'validation' if val_curve else 'training'} objective was still "
                    f"improving by more than tol={self.tol} (relative) within "
                    f"n_iter_no_change={self.n_iter_no_change} epochs. Increase "
                    f"max_iter or tol.",
                    ConvergenceWarning,
                    stacklevel=4,  # the user's call: past _fit_adam, fit, _fit_context
                )
        except KeyboardInterrupt as exc:
            if not done:
                raise
            interrupt = exc
            theta, _, epoch = done
            del loss_curve[epoch:], val_curve[epoch:]
            best_theta = theta  # keep the last whole epoch, not the best one
            if len(val_curve) < epoch:  # stopped before validating it
                val_curve = []
            best = val_curve[-1] if val_curve else best
        if X_val is not None:
            theta = best_theta  # as MLPRegressor: the best validated epoch
        self._store_params(
            theta, n_features, X.dtype, epoch, loss_curve[-1], loss_curve
        )
        if val_curve:
            self.validation_loss_curve_ = val_curve
            self.best_validation_loss_ = float(best)
        if interrupt is not None:
            self._warn_interrupted(epoch, "Adam epochs")
            raise interrupt
        self._after_fit(X, rng)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """One epoch of minibatch Adam on ``X``, with fresh noise.

        The first call initialises the model from ``X``. A fitted model (by
        ``fit`` or by earlier calls) is refined from where it is. Every call
        draws new corrupted copies from one random stream, which starts at
        ``random_state`` and carries on across calls. So a stream of calls is
        the same algorithm as ``fit(solver="adam")`` on the concatenation.
        The Adam state also carries over, in a small private object. With
        ``objective="esm"``, the Parzen target is computed against the batch.
        ``batch_size``, ``shuffle`` and ``learning_rate_init`` apply.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One batch of training rows.
        y : Ignored
            Not used, present for API consistency by convention.

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
        # A first call, or a new n_components, (re)initialises from this batch.
        first = (
            not hasattr(self, "components_")
            or self.components_.shape[0] != self.n_components
        )
        X = validate_data(self, X, dtype=_FLOAT_DTYPES, reset=first)
        try:
            self._partial_fit_validated(X, first)
        except BaseException:
            # Nothing is stored until the epoch is done, so a later call that
            # fails (or is interrupted) leaves the previous state whole; a
            # first call must not leave this batch's n_features_in_ behind.
            if first:
                self._forget_fit()
            raise
        return self

    def _partial_fit_validated(self, X, first):
        n_features = X.shape[1]
        shape = (self.n_components, n_features)
        if first or not hasattr(self, "_stream"):
            self._stream = check_random_state(self.random_state)
        if first:
            params = self._initial_params(X, self._stream)
        else:
            params = self._params
        theta = pack(*params).copy()
        # The Adam state is updated on a copy, and kept only if the epoch
        # completes. learning_rate_init applies from this call on.
        optimizer = getattr(self, "_optimizer", None)
        if first or optimizer is None or optimizer.m.size != theta.size:
            optimizer = AdamState(theta.size, self.learning_rate_init)
        else:
            optimizer = copy.deepcopy(optimizer)
            optimizer.learning_rate = self.learning_rate_init
        units = _loss_units(self.objective, float(self.sigma))
        loss = units * adam_epoch(
            theta,
            X,
            optimizer,
            batch_size=self._batch_size(X.shape[0]),
            rng=self._stream,
            **self._epoch_kwargs(shape),
        )
        n_iter = 1 if first else self.n_iter_ + 1
        curve = ([] if first else self.loss_curve_) + [loss]
        self._store_params(theta, n_features, X.dtype, n_iter, loss, curve)
        self.__dict__.pop("_kept_iterate", None)
        self._optimizer = optimizer
        self._after_partial_fit(X)

    # ------------------------------------------------------------ inference
    def _validate(self, X):
        check_is_fitted(self)
        return validate_data(self, X, dtype=_FLOAT_DTYPES, reset=False)

    @property
    def _params(self):
        return self.components_, self.intercept_hidden_, self.intercept_visible_

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def transform(self, X):
        """Encode: hidden features ``sigmoid(X W^T + b)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        H : ndarray of shape (n_samples, n_components)
            Hidden-unit activations, in the dtype of ``X`` (float32 or float64).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import DenoisingAutoencoder
        >>> X = np.random.RandomState(0).normal(size=(100, 2))
        >>> dae = DenoisingAutoencoder(n_components=4, sigma=0.5, random_state=0).fit(X)
        >>> H = dae.transform(X[:3])
        >>> H.shape, bool(((H > 0) & (H < 1)).all())
        ((3, 4), True)
        """
        X = self._validate(X)
        return _model.hidden(X, self.components_, self.intercept_hidden_)

    def inverse_transform(self, X):
        """Decode with the tied weights: ``H W + c``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Hidden representations, e.g. the output of :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            The decoded rows.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import DenoisingAutoencoder
        >>> X = np.random.RandomState(0).normal(size=(100, 2))
        >>> dae = DenoisingAutoencoder(n_components=4, sigma=0.5, random_state=0).fit(X)
        >>> R = dae.inverse_transform(dae.transform(X[:3]))
        >>> bool(np.allclose(R, dae.denoise(X[:3])))
        True
        """
        check_is_fitted(self)
        H = check_array(X, dtype=_FLOAT_DTYPES)
        if H.shape[1] != self.n_components_:
            raise ValueError(
                f"X has {H.shape[1]} features, but inverse_transform expects "
                f"n_components={self.n_components_} hidden features."
            )
        out = H @ self.components_.astype(H.dtype, copy=False)
        out += self.intercept_visible_.astype(H.dtype, copy=False)
        return out

    @property
    def n_components_(self):
        """Number of hidden units H of the fitted model.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import DenoisingAutoencoder
        >>> X = np.random.RandomState(0).normal(size=(50, 2))
        >>> DenoisingAutoencoder(n_components=3, max_iter=5).fit(X).n_components_
        3
        """
        return self.components_.shape[0]

    def denoise(self, X):
        """Reconstruct ``r(X) = X + sigma^2 Psi(X)``: a step of sigma^2 up log p.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            (Noisy) input rows.

        Returns
        -------
        X_denoised : ndarray of shape (n_samples, n_features)
            ``sigmoid(X W^T + b) W + c``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import DenoisingAutoencoder
        >>> X = np.random.RandomState(0).normal(size=(100, 2))
        >>> dae = DenoisingAutoencoder(n_components=4, sigma=0.5, random_state=0).fit(X)
        >>> step = dae.denoise(X[:3]) - X[:3]
        >>> bool(np.allclose(step, dae.sigma_**2 * dae.score_function(X[:3])))
        True
        """
        X = self._validate(X)
        return _model.reconstruct(X, *self._params)

    def energy(self, X):
        """Energy ``E(x)`` of each row; the model density is ``exp(-E(x)) / Z``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        E : ndarray of shape (n_samples,)
            ``-(<c, x> - |x|^2 / 2 + sum_i softplus(W_i x + b_i)) / sigma^2``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import DenoisingAutoencoder
        >>> X = np.random.RandomState(0).normal(size=(100, 2))
        >>> dae = DenoisingAutoencoder(n_components=4, sigma=0.5, random_state=0).fit(X)
        >>> bool(np.allclose(dae.energy(X[:3]), -dae.score_samples(X[:3])))
        True
        """
        X = self._validate(X)
        return _model.energy(X, *self._params, self.sigma_)

    def score_function(self, X):
        """Stein score ``Psi(x) = d log p(x) / dx = -dE/dx``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        Psi : ndarray of shape (n_samples, n_features)
            ``(sigmoid(X W^T + b) W + c - X) / sigma^2``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import DenoisingAutoencoder
        >>> X = np.random.RandomState(0).normal(size=(100, 2))
        >>> dae = DenoisingAutoencoder(n_components=4, sigma=0.5, random_state=0).fit(X)
        >>> dae.score_function(X[:3]).shape
        (3, 2)
        """
        X = self._validate(X)
        return _model.score(X, *self._params, self.sigma_)

    def score_samples(self, X):
        """Unnormalised log-density ``-E(x)`` of each row (``log p(x) + log Z``).

        The autoencoder stays cheap to fit: it does not estimate ``log Z``. Use
        :func:`estimate_log_partition` for it when a normalised density is needed.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        log_density : ndarray of shape (n_samples,)
            ``-E(x)``: the log-density up to the constant ``log Z(theta)``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import DenoisingAutoencoder
        >>> X = np.random.RandomState(0).normal(size=(100, 2))
        >>> dae = DenoisingAutoencoder(n_components=4, sigma=0.5, random_state=0).fit(X)
        >>> dae.score_samples(X[:3]).shape
        (3,)
        """
        return -self.energy(X)

    def hyvarinen_score(self, X):
        """Mean Hyvarinen loss ``|Psi|^2 / 2 + tr dPsi/dx`` on the clean rows of X.

        Lower is better. It estimates the Fisher divergence between the data and
        the model up to a model-independent constant, so it compares fits with
        different ``sigma`` without any normalising constant.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Held-out rows.

        Returns
        -------
        loss : float
            The mean Hyvarinen loss, the ISM objective with ``n_corruptions=0``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import DenoisingAutoencoder
        >>> X = np.random.RandomState(0).normal(size=(100, 2))
        >>> dae = DenoisingAutoencoder(n_components=4, sigma=0.5, random_state=0).fit(X)
        >>> bool(np.isclose(dae.hyvarinen_score(X), -dae.score(X)))
        True
        """
        X = self._validate(X)
        return float(np.mean(_model.hyvarinen_loss(X, *self._params, self.sigma_)))

    def sample(self, n_samples=1, random_state=None):
        """Draw rows from the model density ``p(x) = exp(-E(x)) / Z``.

        ``n_samples`` chains are annealed from the base Gaussian
        ``N(c, sigma^2 I)`` to the model through 1000 temperatures with one
        Metropolis-adjusted Langevin (MALA) step each, resampled by their
        importance weights, then moved 500 more MALA steps at the model
        itself, with the step size steered to MALA's optimal acceptance rate
        (0.574). Annealing reaches every mode in proportion to its mass; the
        final steps make the draws exact as their number grows. Each row is
        the end of its own chain, so there is no thinning to choose.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to draw.
        random_state : int, RandomState instance or None, default=None
            Seeds the chains. Pass an int for reproducible draws.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            Draws from the model, in the dtype of the fitted parameters.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import DenoisingAutoencoder
        >>> X = np.random.RandomState(0).normal(size=(100, 2))
        >>> dae = DenoisingAutoencoder(n_components=4, sigma=0.5, random_state=0).fit(X)
        >>> dae.sample(5, random_state=0).shape
        (5, 2)
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(
                f"n_samples must be a positive integer; got {n_samples!r}."
            )
        X = sample_model(
            *self._params, self.sigma_, n_samples, random_state=random_state
        )
        return X.astype(self.components_.dtype, copy=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
