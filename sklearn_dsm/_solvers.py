"""One call's state, and the glue from an estimator's call to a solver.

A ``fit`` or ``partial_fit`` call resolves what it needs once (the rows in
the model's coordinates, their weights, sigma, the random stream, the
solver, the callbacks' report) into a :class:`FitCall`, and hands it to the
functions here. Each returns what it computed (a :class:`Round`); none of
them writes on an estimator, which is read for its hyperparameters only.
The estimator stores a round on its own candidate model
(:meth:`sklearn_dsm._base._BaseDSM.fit`), so the estimator the user holds is
written once, when the call ends.
"""

import copy
import time
from dataclasses import dataclass, field
from functools import partial

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._adam import (
    AdamState,
    FixedNoiseObjective,
    adam_epoch,
    patience,
    run_adam,
    watched_rows,
)
from ._kernel import Workspace
from ._lbfgs import run_lbfgs
from ._minibatch import BatchSource, NoisyBatches, noise_stream
from ._objectives import OBJECTIVES, corrupt, flat_objective, row_weights
from ._theta import initial_theta, pack, unpack
from ._warnings import warn
from ._xp import to_namespace, to_numpy


@dataclass
class FitCall:
    """What one ``fit`` or ``partial_fit`` call works with; never stored.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
        The training rows, in the model's coordinates.
    weights : ndarray of shape (n_samples,) or None
        Their sample weights (None: every row counts once).
    sigma : float
        The noise level, in the model's coordinates (``"auto"`` resolved).
    rng : RandomState
        The call's random stream (``random_state``).
    solver : {"lbfgs", "adam"}
        The solver of the call (``"auto"`` resolved; partial_fit's is Adam).
    inputs : dict
        What the call fixed before solving, as fitted attributes:
        ``n_features_in_`` (and ``feature_names_in_``) and ``whiten``'s
        coordinates. A fitted copy for the callbacks needs them.
    progress : FitProgress or None
        The report to scikit-learn's callbacks (``fit``'s; None for
        ``partial_fit``, which reports nothing).
    xp, device : namespace and device
        Where the objective runs: NumPy (``device`` None), or the namespace
        and device of the input under array API dispatch. ``X`` and
        ``weights`` are NumPy either way: the random numbers (L-BFGS's
        noise, Adam's uniforms), the initial weights and the Parzen targets
        are made on the host from the same random streams as a NumPy fit's,
        and moved to the device (:mod:`sklearn_dsm._xp`).
    """

    X: np.ndarray
    weights: np.ndarray | None
    sigma: float
    rng: np.random.RandomState
    solver: str
    inputs: dict = field(default_factory=dict)
    progress: object = None
    xp: object = np
    device: object = None

    def to_device(self, array):
        """A NumPy ``array`` moved to where the objective runs."""
        return to_namespace(array, self.xp, self.device)

    def fitted_to_device(self, attributes):
        """``attributes`` with their fitted float arrays moved to where the
        objective runs (the other entries, private state included, as
        they are): where the fitted model will live."""
        if self.xp is np:
            return attributes
        return {
            k: self.to_device(v) if _is_fitted_float_array(k, v) else v
            for k, v in attributes.items()
        }


@dataclass
class Round:
    """What one solver round computed: a whole iterate and its record.

    ``interrupted`` is the Ctrl-C that ended the round, if one did: ``theta``
    is then the last whole iterate.
    """

    theta: np.ndarray
    n_iter: int
    loss: float
    loss_curve: list
    alpha: float
    validation_curve: list = field(default_factory=list)
    best_validation: float | None = None
    interrupted: KeyboardInterrupt | None = None

    def attributes(self, est, call):
        """The round as fitted attributes of ``est``."""
        W, b, c = unpack(self.theta, est.n_components, call.X.shape[1], call.X.dtype)
        attributes = {
            "sigma_": float(call.sigma),
            "alpha_": float(self.alpha),
            "components_": W.copy(),
            "intercept_hidden_": b.copy(),
            "intercept_visible_": c.copy(),
            "n_iter_": self.n_iter,
            "loss_": self.loss,
            "loss_curve_": list(self.loss_curve),
            "solver_": call.solver,
        }
        if self.validation_curve:
            attributes["validation_loss_curve_"] = self.validation_curve
            attributes["best_validation_loss_"] = float(self.best_validation)
        return attributes


def is_fitted_name(name):
    """Fitted attributes end in an underscore (scikit-learn's convention)."""
    return name.endswith("_") and not name.startswith("_")


def _is_fitted_float_array(name, value):
    return (
        is_fitted_name(name)
        and isinstance(value, np.ndarray)
        and value.dtype.kind == "f"
    )


def start_theta(est, call, theta=None):
    """Flat float64 theta to start from: ``theta`` (continuing a model), else
    a fresh draw from the call's stream."""
    if theta is not None:
        return theta
    return pack(
        *initial_theta(
            call.X,
            est.n_components,
            call.rng,
            call.weights,
            *est._initial_spectral_bounds(call.X.shape[1]),
        )
    )


def steps(est, call, task_name, step_name, alpha, max_steps=None):
    """The callbacks' subtask for one round (None without callbacks).

    Each step's parameters rebuild a fitted copy for the callbacks that ask
    for one: (W, b, c), sigma_, alpha_, the call's inputs and what the
    estimator adds (``_rebuilt``: the density's pending log Z, the
    detector's offset).
    """
    if call.progress is None:
        return None
    X = call.X

    def complete(attributes):
        attributes.update(call.inputs, sigma_=float(call.sigma), alpha_=float(alpha))
        attributes = call.fitted_to_device(est._rebuilt(attributes, X, call.weights))
        # scikit-learn copies the user's estimator and sets these on the
        # copy; until the fit ends that estimator holds the previous fit,
        # whose whitening or feature names this one may not have. So the
        # copy's whole state is handed over: the estimator's own (its
        # hyperparameters, its callbacks) with this iterate's fitted
        # attributes in place of every fitted one it had.
        owner = call.progress.estimator
        state = {k: v for k, v in vars(owner).items() if not is_fitted_name(k)}
        state.update(attributes)
        return {"__dict__": state}

    return call.progress.steps(
        task_name,
        step_name,
        est.max_iter if max_steps is None else max_steps,
        shape=(est.n_components, X.shape[1], X.dtype),
        complete=complete,
    )


def printer(est, what, units=1.0):
    """The ``verbose`` progress line, as a solver's per-step callback."""
    start = time.perf_counter()
    name = type(est).__name__

    def report(step, loss, validation=None):
        line = f"[{name}] {what} {step}, {est.objective} objective = "
        line += f"{loss * units:.8g}"
        if validation is not None:
            line += f", validation = {validation:.8g}"
        print(line + f", elapsed = {time.perf_counter() - start:.2f} s")

    return report


def _closing(subtask, run):
    """``run()``, then the callbacks' subtask closed however it ends."""
    try:
        return run()
    finally:
        if subtask:
            subtask.close()


def lbfgs_round(est, call, alpha, theta=None):
    """Full-batch L-BFGS on noisy copies drawn once, from ``theta`` (None: a
    fresh start)."""
    X, sigma = call.X, call.sigma
    # The noise is drawn first, so that a warm start with the same
    # random_state continues on exactly the objective it stopped on.
    X_noisy = corrupt(X, sigma, est._n_corruptions("lbfgs"), call.rng)
    theta0 = start_theta(est, call, theta)
    objective = OBJECTIVES[est.objective]
    units = objective.units(sigma)
    tol, window = est._lbfgs_tol(), est._lbfgs_window()
    target = objective.target(X, X_noisy, sigma, call.weights)
    weights = row_weights(call.weights, X_noisy, X)
    if call.xp is not np:
        # The noisy rows go to the device once; each evaluation then moves
        # only theta there and its gradient back (_device_flat_objective).
        X_noisy, target, weights = map(call.to_device, (X_noisy, target, weights))
    fun = partial(
        flat_objective,
        X_noisy=X_noisy,
        target=target,
        row_weights=weights,
        objective=est.objective,
        activation=est.activation,
        tail_bound=est._tail_bound(),
        sigma=sigma,
        alpha=alpha,
        shape=(est.n_components, X.shape[1]),
        # One set of scratch buffers for all of L-BFGS's evaluations.
        workspace=(
            Workspace.for_data(X_noisy, est.n_components) if call.xp is np else None
        ),
    )
    subtask = steps(est, call, "lbfgs", "iteration", alpha)
    result = _closing(
        subtask,
        lambda: run_lbfgs(
            fun,
            theta0,
            max_iter=est.max_iter,
            tol=tol,
            n_iter_no_change=window,
            on_iteration=printer(est, "iteration", units) if est.verbose else None,
            on_iterate=subtask and subtask.step,
        ),
    )
    loss = result.loss * units
    if not (np.all(np.isfinite(result.theta)) and np.isfinite(loss)):
        raise FloatingPointError(
            f"{type(est).__name__} diverged: the fitted parameters are not "
            f"finite. Standardise X (e.g. StandardScaler), increase alpha "
            f"(now {est.alpha}) or change sigma (now {est.sigma})."
        )
    if result.hit_max_iter:
        warn(
            f"L-BFGS stopped at max_iter={est.max_iter} iterations while "
            f"the objective was still decreasing by more than tol={tol} "
            f"(relative) over n_iter_no_change={window} "
            f"iterations. Increase max_iter, or tol if the fit is good "
            f"enough for its use.",
            ConvergenceWarning,
        )
    curve = [value * units for value in result.loss_curve]
    return Round(
        result.theta, result.n_iter, loss, curve, alpha, interrupted=result.interrupted
    )


def _minibatch_settings(est, sigma, alpha, n_features):
    """The minibatch objective's settings (Adam and partial_fit)."""
    return dict(
        objective=est.objective,
        activation=est.activation,
        tail_bound=est._tail_bound(),
        sigma=sigma,
        alpha=alpha,
        n_corruptions=est._n_corruptions("adam"),
        shape=(est.n_components, n_features),
    )


def adam_round(est, call, alpha, theta=None):
    """Epochs of minibatch Adam with fresh noise, from ``theta`` (None: a
    fresh start)."""
    X, weights = call.X, call.weights
    theta0 = call.to_device(start_theta(est, call, theta).astype(X.dtype))
    to_device = None if call.xp is np else call.to_device
    train, watched, seed = watched_rows(
        X, call.rng, est.early_stopping, est.validation_fraction
    )
    stream = noise_stream(call.rng)
    settings = _minibatch_settings(est, call.sigma, alpha, X.shape[1])
    batches = BatchSource(X.shape[0], est._batch_size(), est.shuffle, stream, train)
    fun = NoisyBatches(
        X,
        stream,
        batch_size=batches.batch_size,
        weights=weights,
        to_device=to_device,
        **settings,
    )
    monitor = FixedNoiseObjective(
        X[watched],
        np.random.RandomState(seed),
        None if weights is None else weights[watched],
        to_device=to_device,
        **settings,
    )
    tol, window_steps = est._adam_stopping(*X.shape)
    subtask = steps(est, call, "adam", "epoch", alpha)
    result = _closing(
        subtask,
        lambda: run_adam(
            fun,
            theta0,
            batches,
            monitor,
            learning_rate=est._learning_rate(X.shape[1]),
            max_iter=est.max_iter,
            tol=tol,
            n_iter_no_change=patience(
                est.n_iter_no_change,
                batches.n_rows,
                batches.batch_size,
                window_steps,
            ),
            keep_best=est.early_stopping,
            loss_units=OBJECTIVES[est.objective].units(call.sigma),
            on_epoch=printer(est, "epoch") if est.verbose else None,
            on_iterate=subtask and (lambda theta: subtask.step(to_numpy(theta))),
            weights=weights,
            warmup=est._adam_warmup(X.shape[1]),
        ),
    )
    if result.hit_max_iter:
        watched_name = "validation" if est.early_stopping else "training"
        warn(
            f"Adam stopped at max_iter={est.max_iter} epochs while the "
            f"{watched_name} objective was still improving by more than "
            f"tol={tol} (relative) within "
            f"n_iter_no_change={result.n_iter_no_change} epochs. "
            f"Increase max_iter or tol.",
            ConvergenceWarning,
        )
    curve = result.loss_curve
    return Round(
        to_numpy(result.theta),
        result.n_iter,
        curve[-1],
        curve,
        alpha,
        validation_curve=result.validation_curve,
        best_validation=result.best_validation,
        interrupted=result.interrupted,
    )


SOLVERS = {"lbfgs": lbfgs_round, "adam": adam_round}


def partial_fit_epoch(est, call, alpha, theta=None, optimizer=None, stream=None):
    """One epoch of minibatch Adam (``partial_fit``).

    ``theta`` (flat), ``optimizer`` (an :class:`AdamState`) and ``stream``
    (the noise Generator) are those a previous call left; None: this call
    starts them, the initial weights and then the stream's seed drawn from
    the call's ``rng`` (the draws ``fit(solver="adam")`` makes). Nothing
    passed in is modified.

    Returns
    -------
    theta : ndarray
        The epoch's parameters, flat, in the data's dtype.
    loss : float
        The epoch's mean batch loss.
    optimizer, stream
        The Adam state and the noise stream to carry to the next call.
    """
    X = call.X
    first = theta is None
    if first or stream is None:
        if first:
            theta = start_theta(est, call)
        stream = noise_stream(call.rng)
    else:
        # The epoch advances a copy: a call that fails leaves the stream as
        # the previous call left it.
        stream = copy.deepcopy(stream)
    # A copy, in the data's dtype, where the objective runs.
    theta = call.to_device(theta.astype(X.dtype))
    # learning_rate_init applies from this call on; the moments carry over.
    learning_rate = est._learning_rate(X.shape[1])
    if first or optimizer is None or optimizer.m.shape != theta.shape:
        optimizer = AdamState(
            theta.shape[0],
            learning_rate,
            warmup=est._adam_warmup(X.shape[1]),
            dtype=X.dtype,
        )
    else:
        optimizer = copy.deepcopy(optimizer)
        optimizer.learning_rate = learning_rate
    optimizer.like(theta)
    batches = BatchSource(X.shape[0], est._batch_size(), est.shuffle, stream)
    fun = NoisyBatches(
        X,
        stream,
        batch_size=batches.batch_size,
        weights=call.weights,
        to_device=None if call.xp is np else call.to_device,
        **_minibatch_settings(est, call.sigma, alpha, X.shape[1]),
    )
    loss = OBJECTIVES[est.objective].units(call.sigma) * adam_epoch(
        fun, theta, optimizer, batches, call.weights
    )
    return to_numpy(theta), loss, optimizer, stream
