"""The flat parameter vector (``_theta``): pack and unpack, their checks,
and the initial draw."""

import numpy as np
import pytest

from sklearn_dsm import (
    DenoisingAutoencoder,
    ScoreMatchingEBM,
    ScoreMatchingOutlierDetector,
)
from sklearn_dsm._theta import initial_theta, n_params, pack, unpack


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


def test_initial_theta_caps_the_largest_singular_value_and_no_more():
    rng = np.random.RandomState(0)
    # Data of small spread: the Glorot draw divided by it is large.
    X = 0.01 * rng.normal(size=(200, 16))
    W_free, _, _ = initial_theta(X, 16, np.random.RandomState(1))
    assert np.linalg.norm(W_free, 2) > 100
    for bound in (0.5, 2.0):
        W, b, c = initial_theta(X, 16, np.random.RandomState(1), spectral_bound=bound)
        assert np.linalg.norm(W, 2) == pytest.approx(bound)
        # Shrunk, not redrawn: the same direction.
        np.testing.assert_allclose(
            W / np.linalg.norm(W), W_free / np.linalg.norm(W_free)
        )
        np.testing.assert_array_equal(b, 0)
        np.testing.assert_allclose(c, X.mean(axis=0))
    # A draw already inside the bound is kept as drawn.
    W, _, _ = initial_theta(X, 16, np.random.RandomState(1), spectral_bound=1e6)
    np.testing.assert_array_equal(W, W_free)


def test_initial_theta_takes_the_centred_bound_on_centred_rows_only():
    rng = np.random.RandomState(0)
    Z = rng.normal(size=(500, 16))
    Z -= Z.mean(axis=0)  # centred: the larger start
    for X, expected in [(0.1 * Z, 2.0), (0.1 * Z + 0.2, 0.5)]:
        W, _, _ = initial_theta(
            X, 16, np.random.RandomState(1), spectral_bound=0.5, centred_bound=2.0
        )
        assert np.linalg.norm(W, 2) == pytest.approx(expected)


@pytest.mark.parametrize(
    "make, activation, n_features, expected",
    [
        # The autoencoder starts from Glorot's draw, capped at 2, on centred
        # rows of up to 64 features; otherwise, and for the densities, at
        # 1/2 (a density).
        (DenoisingAutoencoder, "relu", 64, (0.5, 2.0)),
        (DenoisingAutoencoder, "relu", 65, (0.5, None)),
        (ScoreMatchingEBM, "relu", 8, (0.5, None)),
        (ScoreMatchingOutlierDetector, "relu", 8, (0.5, None)),
        # A sigmoid model starts as drawn.
        (DenoisingAutoencoder, "sigmoid", 8, (None, None)),
        (ScoreMatchingEBM, "sigmoid", 784, (None, None)),
    ],
)
def test_initial_spectral_bounds_by_estimator_and_width(
    make, activation, n_features, expected
):
    bounds = make(activation=activation)._initial_spectral_bounds(n_features)
    assert bounds == expected
