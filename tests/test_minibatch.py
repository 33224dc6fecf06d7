"""Adam's batches and their fresh noise (``_minibatch``)."""

import numpy as np
import pytest
from scipy import stats

from sklearn_dsm._minibatch import GaussianNoise


def _draw(n, dtype, seed=0):
    noise = GaussianNoise(np.random.default_rng(seed))
    return noise.fill(np.empty(n, dtype=dtype))


def test_float32_noise_is_standard_normal():
    """Box-Muller draws: the first four moments within five standard errors
    of N(0, 1)'s (0, 1, 0, 3; the variances of x, x^2, x^3, x^4 are 1, 2,
    15, 96), and the Kolmogorov-Smirnov test does not reject at 1e-4."""
    n = 1_000_000
    z = _draw(n, np.float32).astype(np.float64)
    for power, expected, variance in [(1, 0, 1), (2, 1, 2), (3, 0, 15), (4, 3, 96)]:
        moment = np.mean(z**power)
        assert abs(moment - expected) < 5 * np.sqrt(variance / n), power
    assert stats.kstest(z, "norm").pvalue > 1e-4


def test_the_two_halves_of_a_pair_are_independent():
    """cos and sin of one angle, times one radius: uncorrelated, and their
    squares too (a dependence through the shared radius would show there)."""
    n = 1_000_000
    z = _draw(n, np.float32).astype(np.float64)
    a, b = z[: n // 2], z[n // 2 :]
    bound = 5 / np.sqrt(n // 2)
    assert abs(np.corrcoef(a, b)[0, 1]) < bound
    assert abs(np.corrcoef(a**2, b**2)[0, 1]) < bound


def test_float32_noise_is_bounded_by_its_uniform_grid():
    # Uniforms on a 2^-24 grid: 1 - u >= 2^-24, so |z| <= sqrt(48 log 2).
    z = _draw(2_000_000, np.float32)
    assert np.all(np.isfinite(z))
    assert np.abs(z).max() <= np.sqrt(48 * np.log(2)) * (1 + 1e-6)


@pytest.mark.parametrize("shape", [(7,), (1,), (3, 5), (200, 64)])
def test_every_entry_is_drawn_whatever_the_shape(shape):
    out = np.full(shape, np.nan, dtype=np.float32)
    GaussianNoise(np.random.default_rng(0)).fill(out)
    assert np.all(np.isfinite(out)) and np.unique(out).size == out.size


def test_float64_noise_is_the_float32_draws_cast():
    """A float64 buffer gets exactly the draws a float32 one would."""
    out = _draw(1001, np.float64, seed=3)
    expected = _draw(1001, np.float32, seed=3)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, expected.astype(np.float64))


def test_one_stream_gives_new_noise_each_fill():
    noise = GaussianNoise(np.random.default_rng(0))
    first = noise.fill(np.empty(100, dtype=np.float32)).copy()
    second = noise.fill(np.empty(100, dtype=np.float32))
    assert not np.array_equal(first, second)
