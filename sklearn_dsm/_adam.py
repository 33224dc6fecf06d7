"""Minibatch Adam on freshly corrupted batches.

L-BFGS needs the whole data set and one fixed set of noisy copies. Minibatch
training instead draws new noise for every batch, which is what the
expectations in the objectives ask for (``doc/math.rst``, "The four
objectives"). Its memory is set by the batch, not by the data set. One
:func:`adam_epoch` is one pass over the rows it is given; :func:`run_adam`
runs epochs with early stopping for ``fit(solver="adam")``, and
``partial_fit`` runs exactly one epoch per call, so a stream of
``partial_fit`` calls is the same algorithm as ``fit`` on the concatenation.
"""

import zlib
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from ._objectives import (
    Workspace,
    corrupt,
    flat_objective,
    objective_target,
    row_weights,
)


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
    """

    def __init__(
        self, n_params, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8
    ):
        self.learning_rate = learning_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.m = np.zeros(n_params)
        self.v = np.zeros(n_params)
        self.t = 0

    def step(self, theta, grad):
        """Update ``theta`` (float64, in place) by one Adam step down ``grad``."""
        self.t += 1
        self.m *= self.beta_1
        self.m += (1 - self.beta_1) * grad
        self.v *= self.beta_2
        self.v += (1 - self.beta_2) * np.square(grad)
        # Bias corrections folded into the step size, as in the paper's
        # "efficient version" (and scikit-learn's MLP).
        lr = (
            self.learning_rate
            * np.sqrt(1 - self.beta_2**self.t)
            / (1 - self.beta_1**self.t)
        )
        theta -= lr * self.m / (np.sqrt(self.v) + self.epsilon)
        return theta


def batch_objective(
    theta,
    X,
    objective,
    sigma,
    alpha,
    n_corruptions,
    rng,
    shape,
    workspace=None,
    weights=None,
    activation="sigmoid",
    tail_bound=None,
):
    """Value and flat gradient of the objective on one freshly corrupted batch.

    ``shape`` is (n_components, n_features). The units are those the
    objective is optimised in (``dae`` as ``dsm``), as in the L-BFGS path.
    ESM's target is the Parzen posterior mean against *this batch*, so its
    variance reduction is that of a batch-sized Parzen estimate. With
    ``weights`` (the batch rows' sample weights) the mean over the batch is
    weighted.
    """
    X_noisy = corrupt(X, sigma, n_corruptions, rng)
    target = objective_target(objective, X, X_noisy, sigma, weights)
    return flat_objective(
        theta,
        X_noisy,
        target,
        objective=objective,
        sigma=sigma,
        alpha=alpha,
        shape=shape,
        workspace=workspace,
        row_weights=row_weights(weights, X_noisy, X),
        activation=activation,
        tail_bound=tail_bound,
    )


def adam_epoch(
    theta,
    X,
    optimizer,
    *,
    objective,
    sigma,
    alpha,
    n_corruptions,
    batch_size,
    shuffle,
    rng,
    shape,
    weights=None,
    activation="sigmoid",
    tail_bound=None,
):
    """One pass of Adam over the rows of ``X`` in minibatches; mean batch loss.

    Rows are visited in a random order when ``shuffle``; every batch gets
    fresh noise from ``rng``. ``theta`` (float64) is updated in place. With
    ``weights`` (sample weights), each batch's loss is its weighted mean and
    the epoch's the weighted mean of the batches'.
    """
    n = X.shape[0]
    order = rng.permutation(n) if shuffle else None
    # One set of scratch buffers for every batch of the epoch (the last,
    # smaller batch fits in them too).
    workspace = Workspace.for_shape(
        max(n_corruptions, 1) * min(batch_size, n), X.shape[1], shape[0], X.dtype
    )
    total = 0.0
    for start in range(0, n, batch_size):
        rows = slice(start, min(start + batch_size, n))
        index = order[rows] if shuffle else rows
        batch = X[index]
        batch_weights = None if weights is None else weights[index]
        value, grad = batch_objective(
            theta,
            batch,
            objective,
            sigma,
            alpha,
            n_corruptions,
            rng,
            shape,
            workspace,
            batch_weights,
            activation,
            tail_bound,
        )
        if not (np.isfinite(value) and np.all(np.isfinite(grad))):
            raise FloatingPointError(
                "the minibatch objective is not finite: lower "
                "learning_rate_init, standardise X or increase alpha."
            )
        optimizer.step(theta, grad)
        if weights is None:
            total += value * batch.shape[0]
        else:
            total += value * float(batch_weights.sum())
    return total / (n if weights is None else float(weights.sum()))


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
# n_iter_no_change="auto": a plateau lasts at least 10 epochs and at least
# this many Adam steps. Ten epochs of 1000 rows in batches of 200 are only 50
# steps, a twentieth of Adam's own memory (1 / (1 - beta_2) = 1000 steps):
# such a window mistakes a slow stretch of the descent for its end
# (doc/defaults.rst, "Adam").
_PATIENCE_STEPS = 500
_PATIENCE_EPOCHS = 10


def patience(n_iter_no_change, n_rows, batch_size):
    """Epochs a plateau of the watched objective must last before Adam acts.

    An int is used as given. ``"auto"``: at least 10 epochs and at least 500
    steps of ``batch_size`` rows out of ``n_rows``, so that on small data,
    where an epoch is one or a few steps, the window still spans enough of
    them to tell a slow descent from a plateau.
    """
    if n_iter_no_change != "auto":
        return n_iter_no_change
    steps_per_epoch = -(-n_rows // batch_size)
    return max(_PATIENCE_EPOCHS, -(-_PATIENCE_STEPS // steps_per_epoch))


def _fixed_noise_objective(X, seed, weights=None, **kwargs):
    """``theta -> objective`` on noise drawn once from ``seed``: a function of
    the parameters alone, whose changes are the model's, not the noise's."""
    X_noisy = corrupt(X, kwargs["sigma"], kwargs.pop("n_corruptions"), seed)
    target = objective_target(kwargs["objective"], X, X_noisy, kwargs["sigma"], weights)
    return partial(
        flat_objective,
        X_noisy=X_noisy,
        target=target,
        row_weights=row_weights(weights, X_noisy, X),
        **kwargs,
    )


def run_adam(
    theta,
    X,
    rng,
    *,
    n_components,
    objective,
    sigma,
    alpha,
    n_corruptions,
    learning_rate,
    batch_size,
    shuffle,
    max_iter,
    tol,
    n_iter_no_change,
    early_stopping,
    validation_fraction,
    loss_units=1.0,
    on_epoch=None,
    on_iterate=None,
    sample_weight=None,
    activation="sigmoid",
    tail_bound=None,
):
    """Epochs of minibatch Adam from ``theta`` until the loss stops improving.

    The stopping rule watches an objective on noise drawn once: the held-out
    rows' with ``early_stopping`` (``validation_fraction`` of the rows, drawn
    from ``rng``), else that of up to 2000 training rows. The training loss
    itself, with fresh noise in every batch, jitters by more than any useful
    ``tol``. When the watched objective has not improved by ``tol``
    (relative; ``tol / 10`` after the first cut, ``tol / 100`` after the
    second) for ``n_iter_no_change`` epochs (``"auto"``: :func:`patience`),
    the step size is divided by 10;
    the third such plateau (or ``max_iter`` epochs) ends training. Adam at
    a constant step hovers around the optimum at a distance set by the step,
    the decay lets it settle. Losses are reported, and compared, times
    ``loss_units``. ``on_epoch(epoch, loss, validation)`` is called after
    every epoch (``validation`` is None without early stopping), and
    ``on_iterate(theta)`` with a copy of that epoch's parameters. With
    ``sample_weight`` every objective, the watched one included, is a
    weighted mean over rows. ``theta`` is not modified.

    Returns
    -------
    result : AdamResult
        A KeyboardInterrupt before the first epoch completes is re-raised.
    """
    n_samples = X.shape[0]
    shape = (n_components, X.shape[1])
    theta = theta.copy()
    objective_kwargs = dict(
        objective=objective,
        sigma=sigma,
        alpha=alpha,
        shape=shape,
        n_corruptions=n_corruptions,
        activation=activation,
        tail_bound=tail_bound,
    )
    X_train = X
    if early_stopping:
        n_val = int(np.ceil(validation_fraction * n_samples))
        if n_samples - n_val < 1:
            raise ValueError(
                f"validation_fraction={validation_fraction} leaves no "
                f"training rows out of {n_samples}; lower it or pass more rows."
            )
        order = rng.permutation(n_samples)
        X_watched, X_train = X[order[:n_val]], X[order[n_val:]]
        w_watched, w_train = (
            (None, None)
            if sample_weight is None
            else (sample_weight[order[:n_val]], sample_weight[order[n_val:]])
        )
        seed = rng.randint(np.iinfo(np.int32).max)
    else:
        # Evenly spaced rows and a seed from their bytes: no draw from rng,
        # so that fit(solver="adam") stays a sequence of partial_fit epochs.
        rows = np.unique(
            np.linspace(0, n_samples - 1, min(n_samples, _MONITOR_ROWS)).astype(int)
        )
        X_watched = X[rows]
        w_train = sample_weight
        w_watched = None if sample_weight is None else sample_weight[rows]
        seed = zlib.crc32(np.ascontiguousarray(X_watched).tobytes())
    watched = _fixed_noise_objective(
        X_watched, np.random.RandomState(seed), w_watched, **objective_kwargs
    )
    optimizer = AdamState(theta.size, learning_rate)
    epoch_kwargs = dict(
        **objective_kwargs,
        batch_size=min(batch_size, X_train.shape[0]),
        shuffle=shuffle,
        rng=rng,
        weights=w_train,
    )

    n_iter_no_change = patience(
        n_iter_no_change, X_train.shape[0], epoch_kwargs["batch_size"]
    )
    loss_curve, val_curve = [], []
    best, best_theta, stalled, decays = np.inf, theta.copy(), 0, 0
    done = []
    try:
        for epoch in range(1, max_iter + 1):
            loss = loss_units * adam_epoch(theta, X_train, optimizer, **epoch_kwargs)
            # One assignment: Ctrl-C never splits an epoch's parameters from
            # its loss and count.
            done[:] = [theta.copy(), loss, epoch]
            loss_curve.append(loss)
            monitored = loss_units * watched(theta)[0]
            if early_stopping:
                val_curve.append(monitored)
            if on_epoch is not None:
                on_epoch(epoch, loss, monitored if early_stopping else None)
            if on_iterate is not None:
                on_iterate(done[0])
            # Progress is judged relative to the step: after each cut the
            # threshold shrinks with the step (tol, tol / 10, tol / 100).
            step_tol = tol * optimizer.learning_rate / learning_rate
            if monitored < best - step_tol * abs(best) or not np.isfinite(best):
                stalled = 0
            else:
                stalled += 1
            if monitored < best or not np.isfinite(best):
                # Any improvement is kept (as MLPRegressor's early stopping);
                # only the stall counter asks for tol.
                best, best_theta = monitored, theta.copy()
            if stalled >= n_iter_no_change:
                if decays == _MAX_DECAYS:
                    break
                decays, stalled = decays + 1, 0
                optimizer.learning_rate /= _DECAY
        else:
            return AdamResult(
                best_theta if early_stopping else theta,
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
        best_theta if early_stopping else theta,
        epoch,
        loss_curve,
        val_curve,
        best,
        n_iter_no_change=n_iter_no_change,
    )
