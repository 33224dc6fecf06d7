"""Minibatch training: Adam on freshly corrupted batches.

L-BFGS needs the whole data set and one fixed set of noisy copies. Minibatch
training instead draws new noise for every batch, which is what the
expectations in the objectives ask for (``MATH.md``). Its memory is set by the
batch, not by the data set. One :func:`adam_epoch` is one pass over the rows it
is given. ``fit(solver="adam")`` runs one per epoch, and ``partial_fit`` runs
exactly one per call, so a stream of ``partial_fit`` calls is the same
algorithm as ``fit`` on the concatenation.
"""

import numpy as np

from ._objectives import Workspace, flat_objective, objective_target


class AdamState:
    """Adam's moment estimates for the flat parameter vector (Kingma & Ba, 2015).

    Kept in its own small object: ``partial_fit`` carries it from one call to
    the next, and pickling an estimator mid-stream keeps it.

    Parameters
    ----------
    n_params : int
        Length of the flat parameter vector.
    learning_rate : float, default=1e-3
        Step size.
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
        """Update ``theta`` (float64, in place) by one Adam step along ``grad``."""
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
    theta, X, objective, sigma, alpha, n_corruptions, rng, shape, workspace=None
):
    """Value and flat gradient of the objective on one freshly corrupted batch.

    ``shape`` is (n_components, n_features). The units are score-matching
    units, with ``dae`` optimised as ``dsm`` (as in the L-BFGS path). ESM's
    target is the Parzen posterior mean against *this batch*, so its variance
    reduction is that of a batch-sized Parzen estimate.
    """
    from ._base import corrupt  # _base imports this module

    X_noisy = corrupt(X, sigma, n_corruptions, rng)
    target = objective_target(objective, X, X_noisy, sigma)
    return flat_objective(
        theta,
        X_noisy,
        target,
        objective=objective,
        sigma=sigma,
        alpha=alpha,
        shape=shape,
        workspace=workspace,
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
):
    """One pass of Adam over the rows of ``X`` in minibatches; mean batch loss.

    Rows are visited in a random order when ``shuffle``; every batch gets
    fresh noise from ``rng``. ``theta`` (float64) is updated in place.
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
        batch = X[order[rows]] if shuffle else X[rows]
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
        )
        if not (np.isfinite(value) and np.all(np.isfinite(grad))):
            raise FloatingPointError(
                "the minibatch objective is not finite: lower "
                "learning_rate_init, standardise X or increase alpha."
            )
        optimizer.step(theta, grad)
        total += value * batch.shape[0]
    return total / n
