"""Minibatch Adam on freshly corrupted batches, and when it stops.

L-BFGS needs the whole data set and one fixed set of noisy copies. Minibatch
training instead draws new noise for every batch, which is what the
expectations in the objectives ask for (``doc/math.rst``, "The four
objectives"). Its memory is set by the batch, not by the data set.

The solver is built like :mod:`sklearn_dsm._lbfgs`: :func:`run_adam` knows
a flat objective of a batch, ``fun(theta, rows)``
(:class:`sklearn_dsm._minibatch.NoisyBatches`, which owns the noise and the
targets), a source of batches (:class:`sklearn_dsm._minibatch.BatchSource`)
and a watched objective for its stopping rule
(:class:`FixedNoiseObjective`), and nothing of estimators. One
:func:`adam_epoch` is one pass over the batches; ``partial_fit`` runs
exactly one epoch per call, so a stream of ``partial_fit`` calls is the same
algorithm as ``fit`` on the concatenation. Parameters, gradients and Adam's
moments are in the data's dtype, and every per-batch buffer is made once.
"""

import copy
import zlib
from dataclasses import dataclass, field

import numpy as np

from ._kernel import Workspace
from ._objectives import (
    corrupt,
    flat_objective,
    objective_target,
    row_weights,
)
from ._xp import all_finite, copy_array, home, like, to_numpy


class AdamState:
    """Adam's moment estimates for a flat parameter vector (Kingma & Ba, 2015).

    Kept in its own small object: ``partial_fit`` carries it from one call to
    the next, and pickling an estimator mid-stream keeps it. The likelihood
    refinement of :class:`ScoreMatchingEBM` uses it too.

    Parameters
    ----------
    n_params : int
        Length of the flat parameter vector.
    learning_rate : float, default=1e-3
        Step size; may be changed between steps.
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of the first and second moment estimates.
    epsilon : float, default=1e-8
        Added to the root of the second moment; keeps steps finite.
    warmup : int, default=0
        Steps over which the step size grows linearly to ``learning_rate``
        (step ``t`` uses ``learning_rate * min(1, t / warmup)``); 0: none.
        Adam's first steps divide by second moments estimated from a few
        gradients, and on data with many features their full size kills
        ReLU units for good (``doc/defaults.rst``, "At real size").
    dtype : dtype, default=np.float64
        Of the moments, and of the parameters and gradients they step: the
        minibatch solver keeps all three in the data's dtype, so that a
        float32 fit casts nothing per step.
    """

    def __init__(
        self,
        n_params,
        learning_rate=1e-3,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        warmup=0,
        dtype=np.float64,
    ):
        self.learning_rate = learning_rate
        self.warmup = warmup
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.m = np.zeros(n_params, dtype=dtype)
        self.v = np.zeros(n_params, dtype=dtype)
        self.t = 0

    # A state pickled before warm-up existed carries on without one.
    warmup = 0

    def _step_size(self):
        """This step's size: the learning rate with the bias corrections
        folded in, as in the paper's "efficient version" (and scikit-learn's
        MLP), times the warm-up ramp."""
        lr = (
            self.learning_rate
            * np.sqrt(1 - self.beta_2**self.t)
            / (1 - self.beta_1**self.t)
        )
        if self.warmup:
            lr *= min(1.0, self.t / self.warmup)
        return lr

    def astype(self, dtype):
        """The moments in ``dtype`` (a stream whose data changes dtype)."""
        self.m = self.m.astype(dtype, copy=False)
        self.v = self.v.astype(dtype, copy=False)
        return self

    def like(self, theta):
        """The moments in the namespace, on the device and in the dtype of
        ``theta`` (array API dispatch: a stream whose data move)."""
        self.m, self.v = like(self.m, theta), like(self.v, theta)
        return self

    def _scratch(self):
        # Two buffers the size of theta, made once: a step allocates nothing.
        # Not pickled (see __getstate__); remade on first use.
        buffers = self.__dict__.get("_buffers")
        if (
            buffers is None
            or buffers[0].shape != self.m.shape
            or (buffers[0].dtype != self.m.dtype)
        ):
            buffers = (np.empty_like(self.m), np.empty_like(self.m))
            self._buffers = buffers
        return buffers

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_buffers", None)
        # Pickled in NumPy wherever the moments live (array API dispatch): a
        # pickle of a model streamed on a GPU loads anywhere, and the next
        # partial_fit moves the moments to its data (like()).
        state["m"], state["v"] = to_numpy(self.m), to_numpy(self.v)
        return state

    def __sklearn_array_api_convert__(self, converter):
        """A copy with the moments converted (scikit-learn's
        ``move_estimator_to`` calls it for the attributes it walks)."""
        moved = copy.copy(self)
        moved.__dict__.pop("_buffers", None)
        moved.m, moved.v = converter(self.m), converter(self.v)
        return moved

    def step(self, theta, grad):
        """Update ``theta`` in place by one Adam step down ``grad``."""
        if not isinstance(theta, np.ndarray):
            return self._step_xp(theta, grad)
        self.t += 1
        tmp, step = self._scratch()
        np.multiply(grad, 1 - self.beta_1, out=tmp)
        self.m *= self.beta_1
        self.m += tmp
        np.multiply(grad, grad, out=tmp)
        tmp *= 1 - self.beta_2
        self.v *= self.beta_2
        self.v += tmp
        lr = self._step_size()
        np.sqrt(self.v, out=tmp)
        tmp += self.epsilon
        np.multiply(self.m, lr, out=step)
        step /= tmp
        theta -= step
        return theta

    def _step_xp(self, theta, grad):
        """:meth:`step` in another array-API namespace (the same arithmetic,
        written without ``out=``; ``theta`` is updated through ``[...]``)."""
        xp, _ = home(theta)
        self.t += 1
        self.m = self.beta_1 * self.m + (1 - self.beta_1) * grad
        self.v = self.beta_2 * self.v + (1 - self.beta_2) * (grad * grad)
        lr = self._step_size()
        theta[...] = theta - (float(lr) * self.m) / (xp.sqrt(self.v) + self.epsilon)
        return theta


def adam_epoch(fun, theta, optimizer, batches, weights=None):
    """One pass of Adam over ``batches``; the epoch's mean batch loss.

    ``fun(theta, rows) -> (value, flat gradient)`` is the objective on one
    batch (:class:`~sklearn_dsm._minibatch.NoisyBatches`), ``batches`` an
    iterable of row indices (:class:`~sklearn_dsm._minibatch.BatchSource`).
    ``theta`` is updated in place. With ``weights`` (sample weights, indexed
    by the same rows), each batch's loss counts by its weight, else by its
    size.
    """
    total = count = 0.0
    for rows in batches:
        value, grad = fun(theta, rows)
        if not np.isfinite(value):
            _not_finite()
        optimizer.step(theta, grad)
        size = (
            float(weights[rows].sum())
            if weights is not None
            else (rows.stop - rows.start if isinstance(rows, slice) else len(rows))
        )
        total += value * size
        count += size
    # One check of the parameters per epoch, not one of every gradient per
    # batch: a non-finite gradient leaves its mark in theta.
    if not all_finite(theta):
        _not_finite()
    return total / count


def _not_finite():
    raise FloatingPointError(
        "the minibatch objective is not finite: lower "
        "learning_rate_init, standardise X or increase alpha."
    )


@dataclass
class AdamResult:
    """What :func:`run_adam` found.

    Attributes
    ----------
    theta : ndarray
        The kept parameters: the best validated epoch's with early stopping
        (as ``MLPRegressor``), else the last epoch's; the last completed
        epoch's if interrupted.
    n_iter : int
        Epochs run.
    loss_curve : list of float
        Mean minibatch loss of each epoch, times ``loss_units``.
    validation_curve : list of float
        Validation loss after each epoch (early stopping only), same units.
    best_validation : float
        The kept parameters' validation loss (early stopping only).
    hit_max_iter : bool
        True if ``max_iter`` epochs ran without the stopping rule firing.
    n_iter_no_change : int
        The plateau window used, in epochs (``"auto"`` resolved).
    interrupted : KeyboardInterrupt or None
        The Ctrl-C that stopped the run, for the caller to re-raise.
    """

    theta: np.ndarray
    n_iter: int
    loss_curve: list
    validation_curve: list = field(default_factory=list)
    best_validation: float = np.inf
    hit_max_iter: bool = False
    n_iter_no_change: int = 0
    interrupted: KeyboardInterrupt | None = None


# Rows of the training set the plateau monitor evaluates each epoch.
_MONITOR_ROWS = 2000
# On a plateau the step is divided by this, at most _MAX_DECAYS times; the
# next plateau stops training.
_DECAY = 10.0
_MAX_DECAYS = 2
# n_iter_no_change="auto": a plateau lasts at least 2 epochs and at least
# ``steps`` Adam steps (the estimators choose 500 or 100 by the data's size:
# doc/defaults.rst, "Adam").
_PATIENCE_EPOCHS = 2


def patience(n_iter_no_change, n_rows, batch_size, steps):
    """Epochs a plateau of the watched objective must last before Adam acts.

    An int is used as given. ``"auto"``: ``steps`` steps of ``batch_size``
    rows out of ``n_rows``, and at least 2 epochs. On small data, where an
    epoch is one or a few steps, the window still spans enough of them to
    tell a slow descent from a plateau (500 steps on 1000 rows in batches of
    200: 100 epochs; MLPRegressor's ten epochs are 50 steps, a twentieth of
    Adam's own memory, 1 / (1 - beta_2) = 1000 steps); on large data an
    epoch already holds hundreds of steps, and a window of ten of them
    (MLPRegressor's) spent most of a fit waiting.
    """
    if n_iter_no_change != "auto":
        return n_iter_no_change
    steps_per_epoch = -(-n_rows // batch_size)
    return max(_PATIENCE_EPOCHS, -(-steps // steps_per_epoch))


def watched_rows(X, rng, early_stopping, validation_fraction):
    """The rows Adam trains on and the rows its stopping rule watches.

    With ``early_stopping``: ``validation_fraction`` of the rows, drawn from
    ``rng``, are held out and watched, and a seed for their noise is drawn
    too. Else up to 2000 evenly spaced training rows are watched, with a seed
    made from their bytes: no draw from ``rng``, so that
    ``fit(solver="adam")`` stays a sequence of ``partial_fit`` epochs.

    Returns
    -------
    train : ndarray or None
        Indices of the training rows (None: all of them).
    watched : ndarray
        Indices of the watched rows.
    seed : int
        Seed of the watched rows' noise.
    """
    n_samples = X.shape[0]
    if early_stopping:
        n_val = int(np.ceil(validation_fraction * n_samples))
        if n_samples - n_val < 1:
            raise ValueError(
                f"validation_fraction={validation_fraction} leaves no "
                f"training rows out of {n_samples}; lower it or pass more rows."
            )
        order = rng.permutation(n_samples)
        return order[n_val:], order[:n_val], rng.randint(np.iinfo(np.int32).max)
    rows = np.unique(
        np.linspace(0, n_samples - 1, min(n_samples, _MONITOR_ROWS)).astype(int)
    )
    return None, rows, zlib.crc32(np.ascontiguousarray(X[rows]).tobytes())


class FixedNoiseObjective:
    """``theta -> objective`` on noise drawn once from ``seed``: a function of
    the parameters alone, whose changes are the model's, not the noise's.

    It is the stopping rule's yardstick, so it evaluates the value alone
    (the forward pass: two of the five products), in buffers made once.
    """

    def __init__(
        self, X, seed, weights=None, *, n_corruptions, to_device=None, **kwargs
    ):
        self.X_noisy = corrupt(X, kwargs["sigma"], n_corruptions, seed)
        self.target = objective_target(
            kwargs["objective"], X, self.X_noisy, kwargs["sigma"], weights
        )
        self.row_weights = row_weights(weights, self.X_noisy, X)
        self.workspace = Workspace.for_data(self.X_noisy, kwargs["shape"][0])
        if to_device is not None:  # array API dispatch: evaluated there
            self.X_noisy, self.target, self.row_weights = map(
                to_device, (self.X_noisy, self.target, self.row_weights)
            )
            self.workspace = None
        self.kwargs = kwargs

    def __call__(self, theta):
        return flat_objective(
            theta,
            self.X_noisy,
            self.target,
            workspace=self.workspace,
            row_weights=self.row_weights,
            gradient=False,
            **self.kwargs,
        )[0]


def run_adam(
    fun,
    theta,
    batches,
    watched,
    *,
    learning_rate,
    max_iter,
    tol,
    n_iter_no_change,
    keep_best=False,
    loss_units=1.0,
    on_epoch=None,
    on_iterate=None,
    weights=None,
    warmup=0,
):
    """Epochs of minibatch Adam from ``theta`` until the loss stops improving.

    ``fun(theta, rows)`` is the objective on one batch
    (:class:`~sklearn_dsm._minibatch.NoisyBatches`) and ``batches`` the
    epoch's batches (:class:`~sklearn_dsm._minibatch.BatchSource`);
    ``weights`` (sample weights) weigh the batches' losses, as in
    :func:`adam_epoch`.
    The stopping rule watches ``watched(theta)``, an objective on noise drawn
    once (:class:`FixedNoiseObjective`; see :func:`watched_rows`): the
    training loss itself, with fresh noise in every batch, jitters by more
    than any useful ``tol``. When the watched objective has not improved by
    ``tol`` (relative) for ``n_iter_no_change`` epochs, the step size is
    divided by 10; the third such plateau (or ``max_iter`` epochs) ends
    training. The step starts with a warm-up of ``warmup`` steps
    (:class:`AdamState`). Adam
    at a constant step hovers around the optimum at a distance set by the
    step, the decay lets it settle. With ``keep_best`` (early stopping) the
    watched objective is the validation loss, and the best epoch's
    parameters are kept. Losses are reported, and compared, times
    ``loss_units``. ``on_epoch(epoch, loss, validation)`` is called after
    every epoch (``validation`` is None without ``keep_best``), and
    ``on_iterate(theta)`` with a copy of that epoch's parameters. ``theta``
    is not modified; the optimisation runs in its dtype.

    Returns
    -------
    result : AdamResult
        A KeyboardInterrupt before the first epoch completes is re-raised.
    """
    theta = copy_array(theta)
    optimizer = AdamState(
        theta.shape[0], learning_rate, warmup=warmup, dtype=np.float64
    )
    optimizer.like(theta)
    loss_curve, val_curve = [], []
    best, best_theta, stalled, decays = np.inf, copy_array(theta), 0, 0
    done = []
    try:
        for epoch in range(1, max_iter + 1):
            loss = loss_units * adam_epoch(fun, theta, optimizer, batches, weights)
            # One assignment: Ctrl-C never splits an epoch's parameters from
            # its loss and count.
            done[:] = [copy_array(theta), loss, epoch]
            loss_curve.append(loss)
            monitored = loss_units * watched(theta)
            if keep_best:
                val_curve.append(monitored)
            if on_epoch is not None:
                on_epoch(epoch, loss, monitored if keep_best else None)
            if on_iterate is not None:
                on_iterate(done[0])
            # One threshold for every step size: after a cut the objective
            # falls at once (Adam's jitter around the optimum shrinks with
            # the step), and a threshold shrunk with the step (tol / 10,
            # tol / 100) only waited out the slow drift that follows.
            if monitored < best - tol * abs(best) or not np.isfinite(best):
                stalled = 0
            else:
                stalled += 1
            if monitored < best or not np.isfinite(best):
                # Any improvement is kept (as MLPRegressor's early stopping);
                # only the stall counter asks for tol.
                best = monitored
                if keep_best:
                    best_theta = done[0]
            if stalled >= n_iter_no_change:
                if decays == _MAX_DECAYS:
                    break
                decays, stalled = decays + 1, 0
                optimizer.learning_rate /= _DECAY
        else:
            return AdamResult(
                best_theta if keep_best else theta,
                epoch,
                loss_curve,
                val_curve,
                best,
                hit_max_iter=True,
                n_iter_no_change=n_iter_no_change,
            )
    except KeyboardInterrupt as exc:
        if not done:
            raise
        # Keep the last whole epoch, not the best one.
        theta, _, epoch = done
        del loss_curve[epoch:], val_curve[epoch:]
        if len(val_curve) < epoch:  # stopped before validating it
            val_curve = []
        best = val_curve[-1] if val_curve else best
        return AdamResult(
            theta,
            epoch,
            loss_curve,
            val_curve,
            best,
            n_iter_no_change=n_iter_no_change,
            interrupted=exc,
        )
    return AdamResult(
        best_theta if keep_best else theta,
        epoch,
        loss_curve,
        val_curve,
        best,
        n_iter_no_change=n_iter_no_change,
    )
