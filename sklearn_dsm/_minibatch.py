"""The minibatches of Adam's epochs: which rows, and their fresh noise.

:class:`BatchSource` yields each epoch's row indices; :class:`NoisyBatches`
is the objective of one batch, ``fun(theta, rows)``, which corrupts the rows
with fresh noise from :func:`noise_stream` and owns every buffer a step
needs. :func:`sklearn_dsm._adam.adam_epoch` runs one over the other.
"""

from dataclasses import dataclass

import numpy as np

from ._kernel import Workspace
from ._objectives import flat_objective, objective_target, row_weights
from ._theta import n_params


def noise_stream(rng):
    """The random stream of minibatch training, seeded from ``rng``.

    A ``numpy.random.Generator``: it draws float32 normals directly (the
    legacy ``RandomState`` draws float64 and a float32 fit cast them, twice
    the cost of the draw). One draw from ``rng`` seeds it, so ``fit`` and a
    first ``partial_fit`` that start from the same ``random_state`` (and
    draw the same initial weights from it) get the same stream.
    """
    return np.random.Generator(np.random.PCG64(rng.randint(np.iinfo(np.int32).max)))


class NoisyBatches:
    """The training objective on freshly corrupted rows, as ``fun(theta, rows)``.

    ``fun(theta, rows)`` corrupts ``X[rows]`` (``n_corruptions`` copies of
    each row, drawn from ``noise``, a ``numpy.random.Generator``), makes the
    objective's target and returns the value and flat gradient of
    :func:`sklearn_dsm._objectives.flat_objective`, in the data's dtype. It
    owns every buffer a batch needs (the noisy rows, the kernel's scratch,
    the gradient), so a step allocates nothing the size of the model; the
    returned gradient is overwritten by the next call. ESM's target is the
    Parzen posterior mean against *this batch*, so its variance reduction is
    that of a batch-sized Parzen estimate. With ``weights`` (one per row of
    ``X``) the batch's loss is its weighted mean.
    """

    def __init__(
        self,
        X,
        noise,
        *,
        objective,
        sigma,
        alpha,
        n_corruptions,
        shape,
        batch_size,
        weights=None,
        activation="sigmoid",
        tail_bound=None,
    ):
        self.X, self.noise, self.weights = X, noise, weights
        self.objective, self.sigma = objective, sigma
        self.n_corruptions = n_corruptions
        self.kwargs = dict(
            objective=objective,
            sigma=sigma,
            alpha=alpha,
            shape=shape,
            activation=activation,
            tail_bound=tail_bound,
        )
        rows = max(n_corruptions, 1) * min(batch_size, X.shape[0])
        self._noisy = np.empty((rows, X.shape[1]), dtype=X.dtype)
        self._workspace = Workspace.for_shape(rows, X.shape[1], shape[0], X.dtype)
        self._grad = np.empty(n_params(*shape), dtype=X.dtype)

    def corrupt(self, batch):
        """``n_corruptions`` stacked noisy copies of ``batch``, in a reused buffer."""
        K, m = self.n_corruptions, batch.shape[0]
        if K == 0:
            return batch
        if K * m > self._noisy.shape[0]:
            self._noisy = np.empty((K * m, batch.shape[1]), dtype=batch.dtype)
        noisy = self._noisy[: K * m]
        self.noise.standard_normal(out=noisy, dtype=noisy.dtype)
        noisy *= self.sigma
        for k in range(K):
            noisy[k * m : (k + 1) * m] += batch
        return noisy

    def __call__(self, theta, rows):
        batch = self.X[rows]
        weights = None if self.weights is None else self.weights[rows]
        noisy = self.corrupt(batch)
        target = objective_target(self.objective, batch, noisy, self.sigma, weights)
        return flat_objective(
            theta,
            noisy,
            target,
            workspace=self._workspace,
            row_weights=row_weights(weights, noisy, batch),
            out=self._grad,
            **self.kwargs,
        )


@dataclass
class BatchSource:
    """The minibatches of one epoch: iterate it for their row indices.

    ``rows`` (None: all ``n_rows``) are the rows trained on; each epoch
    visits them in a fresh order from ``rng`` (a Generator) when
    ``shuffle``, in batches of ``batch_size`` (the last may be smaller).
    """

    n_rows: int
    batch_size: int
    shuffle: bool
    rng: np.random.Generator
    rows: np.ndarray | None = None

    def __post_init__(self):
        if self.rows is not None:
            self.n_rows = len(self.rows)
        self.batch_size = min(self.batch_size, self.n_rows)

    @property
    def steps(self):
        """Batches per epoch."""
        return -(-self.n_rows // self.batch_size)

    def __iter__(self):
        n, size = self.n_rows, self.batch_size
        order = self.rng.permutation(n) if self.shuffle else None
        if self.rows is not None:
            order = self.rows if order is None else self.rows[order]
        for start in range(0, n, size):
            stop = min(start + size, n)
            yield slice(start, stop) if order is None else order[start:stop]
