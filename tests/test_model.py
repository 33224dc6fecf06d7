"""The closed forms of the model against finite differences and each other."""

import numpy as np
import pytest

from sklearn_dsm import _model


def _params(rng, H, d, scale=1.0):
    return (
        scale * rng.normal(size=(H, d)),
        rng.normal(size=H),
        rng.normal(size=d),
    )


def _central_jacobian(f, X, eps=1e-5):
    """d f(x) / dx for every row at once; f maps (n, d) -> (n, k)."""
    n, d = X.shape
    cols = []
    for j in range(d):
        step = np.zeros(d)
        step[j] = eps
        cols.append((f(X + step) - f(X - step)) / (2 * eps))
    return np.stack(cols, axis=-1)  # (n, k, d)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("sigma", [0.3, 1.0, 2.5])
def test_score_is_minus_energy_gradient(seed, sigma):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(6, 4))
    W, b, c = _params(rng, 5, 4)
    grad = _central_jacobian(lambda Z: -_model.energy(Z, W, b, c, sigma)[:, None], X)[
        :, 0, :
    ]
    np.testing.assert_allclose(
        _model.score(X, W, b, c, sigma), grad, rtol=1e-6, atol=1e-7
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_jacobian_trace_matches_finite_differences(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(5, 3))
    W, b, c = _params(rng, 4, 3)
    sigma = 0.7
    J = _central_jacobian(lambda Z: _model.score(Z, W, b, c, sigma), X)
    np.testing.assert_allclose(
        _model.score_jacobian_trace(X, W, b, sigma),
        np.trace(J, axis1=1, axis2=2),
        rtol=1e-6,
        atol=1e-7,
    )


def test_reconstruction_is_a_score_step_and_hidden_decode():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(7, 3))
    W, b, c = _params(rng, 4, 3)
    sigma = 0.4
    R = _model.reconstruct(X, W, b, c)
    np.testing.assert_allclose(R, X + sigma**2 * _model.score(X, W, b, c, sigma))
    np.testing.assert_allclose(R, _model.hidden(X, W, b) @ W + c)
    np.testing.assert_allclose(_model.hidden(X, W, b), 1 / (1 + np.exp(-(X @ W.T + b))))


def test_energy_matches_its_definition():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(5, 3))
    W, b, c = _params(rng, 2, 3)
    sigma = 0.8
    softplus = np.log1p(np.exp(X @ W.T + b)).sum(axis=1)
    expected = -(X @ c - 0.5 * (X**2).sum(axis=1) + softplus) / sigma**2
    np.testing.assert_allclose(_model.energy(X, W, b, c, sigma), expected)


def test_hyvarinen_loss_definition():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(5, 3))
    W, b, c = _params(rng, 2, 3)
    Psi = _model.score(X, W, b, c, 0.5)
    np.testing.assert_allclose(
        _model.hyvarinen_loss(X, W, b, c, 0.5),
        0.5 * (Psi**2).sum(axis=1) + _model.score_jacobian_trace(X, W, b, 0.5),
    )


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extreme_inputs_do_not_overflow(dtype, activation):
    # |W x| up to ~1e9: sigmoid and softplus must saturate, not overflow; the
    # ReLU's F = a^2 / 2 (1e18) is within float32's range.
    rng = np.random.default_rng(6)
    X = (rng.choice([-1, 1], size=(4, 3)) * 1e6).astype(dtype)
    W, b, c = _params(rng, 5, 3, scale=1e3)
    with np.errstate(all="raise"):
        for out in (
            _model.hidden(X, W, b, activation),
            _model.reconstruct(X, W, b, c, activation),
            _model.energy(X, W, b, c, 1.0, activation),
            _model.score(X, W, b, c, 1.0, activation),
            _model.score_jacobian_trace(X, W, b, 1.0, activation),
        ):
            assert out.dtype == dtype
            assert np.all(np.isfinite(out))
