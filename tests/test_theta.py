"""The flat parameter vector (``_theta``): pack and unpack, and their checks."""

import numpy as np
import pytest

from sklearn_dsm._theta import n_params, pack, unpack


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pack_unpack_round_trip(dtype):
    rng = np.random.default_rng(0)
    W, b, c = rng.normal(size=(4, 3)), rng.normal(size=4), rng.normal(size=3)
    theta = pack(W, b, c)
    assert theta.dtype == np.float64 and theta.shape == (n_params(4, 3),)
    W2, b2, c2 = unpack(theta, 4, 3, dtype)
    assert W2.dtype == b2.dtype == c2.dtype == dtype
    np.testing.assert_allclose(W2, W, rtol=1e-6)
    np.testing.assert_allclose(b2, b, rtol=1e-6)
    np.testing.assert_allclose(c2, c, rtol=1e-6)
    np.testing.assert_array_equal(pack(*unpack(theta, 4, 3)), theta)


def test_unpack_rejects_wrong_length():
    with pytest.raises(ValueError, match="n_components=4, n_features=3"):
        unpack(np.zeros(10), 4, 3)
