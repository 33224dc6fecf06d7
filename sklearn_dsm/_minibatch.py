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
from ._xp import home, take_rows


def noise_stream(rng):
    """The random stream of minibatch training, seeded from ``rng``.

    A ``numpy.random.Generator``: it draws float32 numbers directly (the
    legacy ``RandomState`` draws float64 and a float32 fit cast them), which
    :class:`GaussianNoise` turns into normals. One draw from ``rng`` seeds
    it, so ``fit`` and a first ``partial_fit`` that start from the same
    ``random_state`` (and draw the same initial weights from it) get the
    same stream.
    """
    return np.random.Generator(np.random.PCG64(rng.randint(np.iinfo(np.int32).max)))


class GaussianNoise:
    """Standard normal draws written into a buffer, from one ``Generator``.

    The draws are the Box-Muller transform of float32 uniforms:
    ``r = sqrt(-2 log(1 - u))``, ``(r cos 2 pi v, r sin 2 pi v)`` is an
    exact pair of independent normals, computed in numpy's vectorised
    float32 ``log``, ``sqrt``, ``cos`` and ``sin``. That is 2.9 times as
    fast as the Generator's own float32 ziggurat (23 against 67 ms for 50
    batches of 200 x 784; at 64 units on 784 features the noise was 60% of
    an Adam epoch), and 3 times its float64 one (numpy's float64
    transcendentals are not vectorised as well: float64 Box-Muller took 145
    ms). A float64 buffer gets the same float32 draws, cast: the noise of a
    fit is a Monte Carlo sample, to which its last float32 bit (a relative
    6e-8) adds nothing a fit can see. The uniforms lie on numpy's grid of
    ``2^-24``, so ``r`` is at most ``sqrt(48 log 2) = 5.77``: the draws lack
    the normal's mass beyond 5.77 (8e-9 of it), far below any Monte Carlo
    error of a fit.
    """

    def __init__(self, generator):
        self.generator = generator
        self._uniform = np.empty(0, dtype=np.float32)
        self._normal = np.empty(0, dtype=np.float32)

    def fill(self, out):
        """Fill the C-contiguous array ``out`` with standard normals."""
        flat = out.reshape(-1)  # a view: out is contiguous
        if out.dtype == np.float32:
            self._box_muller(flat)
            return out
        if self._normal.size < flat.size:
            self._normal = np.empty(flat.size, dtype=np.float32)
        normal = self._normal[: flat.size]
        self._box_muller(normal)
        flat[...] = normal  # the float32 draws, cast
        return out

    def draw_uniforms(self, size):
        """What :meth:`fill` draws for ``size`` normals, untransformed: the
        float32 uniforms of the pairs, and the odd one's normal (or None).
        The uniforms are a reused buffer, overwritten by the next draw."""
        half = size // 2
        if self._uniform.size < 2 * half:
            self._uniform = np.empty(2 * half, dtype=np.float32)
        u = self._uniform[: 2 * half]
        self.generator.random(out=u, dtype=np.float32)
        odd = self.generator.standard_normal(dtype=np.float32) if size % 2 else None
        return u, odd

    def _box_muller(self, flat):
        """Standard normals into the float32 vector ``flat``."""
        u, odd = self.draw_uniforms(flat.size)
        half = u.size // 2
        radius, angle = u[:half], u[half:]
        # 1 - u is in (0, 1]: the log is finite.
        np.subtract(np.float32(1.0), radius, out=radius)
        np.log(radius, out=radius)
        np.multiply(radius, np.float32(-2.0), out=radius)
        np.sqrt(radius, out=radius)
        np.multiply(angle, np.float32(2.0 * np.pi), out=angle)
        np.cos(angle, out=flat[:half])
        np.sin(angle, out=flat[half : 2 * half])
        flat[:half] *= radius
        flat[half : 2 * half] *= radius
        if odd is not None:
            flat[-1] = odd


def box_muller_xp(u, odd, xp, device):
    """:meth:`GaussianNoise.fill`'s normals, in the namespace ``xp``: the
    same float32 arithmetic on the uniforms ``u`` (moved to ``device``), so
    the normals equal the host's to the float32 rounding of ``log``,
    ``sqrt``, ``cos`` and ``sin`` in each library."""
    half = u.shape[0] // 2
    u = xp.asarray(u, device=device)
    radius = xp.sqrt(xp.log(1.0 - u[:half]) * -2.0)
    angle = u[half:] * float(np.float32(2.0 * np.pi))
    parts = [xp.cos(angle) * radius, xp.sin(angle) * radius]
    if odd is not None:
        parts.append(xp.full((1,), float(odd), dtype=xp.float32, device=device))
    return xp.concat(parts)


class NoisyBatches:
    """The training objective on freshly corrupted rows, as ``fun(theta, rows)``.

    ``fun(theta, rows)`` corrupts ``X[rows]`` (``n_corruptions`` copies of
    each row, drawn from ``noise``, a ``numpy.random.Generator``, through
    :class:`GaussianNoise`), makes the
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
        to_device=None,
    ):
        self.X, self.noise, self.weights = X, noise, weights
        self.to_device = to_device
        # X (and the weights) where the objective runs, moved on first use.
        self._device_X = self._device_weights = None
        self._gaussian = GaussianNoise(noise)
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
        self._gaussian.fill(noisy)
        noisy *= self.sigma
        for k in range(K):
            noisy[k * m : (k + 1) * m] += batch
        return noisy

    def __call__(self, theta, rows):
        if self.to_device is not None and self.objective != "esm":
            return self._on_device(theta, rows)
        batch = self.X[rows]
        weights = None if self.weights is None else self.weights[rows]
        noisy = self.corrupt(batch)
        target = objective_target(self.objective, batch, noisy, self.sigma, weights)
        noisy_weights = row_weights(weights, noisy, batch)
        if self.to_device is not None:
            # Array API dispatch with ESM: the Parzen target needs the noisy
            # rows on the host, so the batch is made there, from the stream
            # a NumPy fit draws, and evaluated on the device, where theta,
            # its gradient and Adam's moments stay.
            noisy, target, noisy_weights = map(
                self.to_device, (noisy, target, noisy_weights)
            )
            return flat_objective(
                theta, noisy, target, row_weights=noisy_weights, **self.kwargs
            )
        return flat_objective(
            theta,
            noisy,
            target,
            workspace=self._workspace,
            row_weights=noisy_weights,
            out=self._grad,
            **self.kwargs,
        )

    def _on_device(self, theta, rows):
        """The batch made and evaluated where the objective runs (array API
        dispatch): the rows gathered from a copy of ``X`` moved there once,
        and the noise's float32 uniforms drawn on the host, from the stream
        a NumPy fit draws, then turned into normals there (Box-Muller) and
        added. Per batch, the host draws and sends the uniforms and the row
        indices, not the noisy rows and their target; the result is the
        NumPy batch's to float32 rounding of the transform."""
        if self._device_X is None:
            self._device_X = self.to_device(self.X)
            self._device_weights = self.to_device(self.weights)
        X, all_weights = self._device_X, self._device_weights
        xp, device = home(X)
        if not isinstance(rows, slice):
            rows = xp.asarray(rows, device=device)  # sent once, used twice
        batch = take_rows(X, rows)
        weights = None if all_weights is None else take_rows(all_weights, rows)
        K, m = self.n_corruptions, batch.shape[0]
        noisy = batch
        if K:
            u, odd = self._gaussian.draw_uniforms(K * m * batch.shape[1])
            normal = box_muller_xp(u, odd, xp, device)
            normal = xp.reshape(xp.astype(normal, batch.dtype), (K * m, -1))
            noisy = normal * float(self.sigma) + xp.concat([batch] * K)
        if weights is not None and K > 1:
            weights = xp.concat([weights] * K)
        # The clean rows (dae, dsm) or none (ism): the Parzen target of esm
        # is made on the host (__call__).
        target = objective_target(self.objective, batch, noisy, self.sigma)
        return flat_objective(theta, noisy, target, row_weights=weights, **self.kwargs)


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
