"""Property-based tests of the math core over shapes, dtypes and extreme scales.

hypothesis draws the shapes, the dtype, sigma in [1e-3, 1e3] and the scales of
the parameters (|W| up to 1e3) and of the data; the arrays themselves come from
a drawn seed, which keeps the examples cheap and reproducible. Example counts
are bounded so the suite stays quick in CI.

Floating-point errors are raised, not warned: overflow, invalid operations and
division by zero all fail the test. Underflow is allowed: with |W| = 1e-3 and
float32 data a product underflows to a subnormal or zero, which is the
correctly rounded answer (with underflow raised too, hypothesis finds such
products in matmul within a few hundred examples). The extreme-input test in
test_robustness.py does raise on underflow.
"""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sklearn_dsm import _model
from sklearn_dsm._objectives import OBJECTIVES, corrupt, objective_target
from sklearn_dsm._partition import log_base_normaliser
from sklearn_dsm._theta import n_params, pack, unpack

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: CI never flakes
)
RAISE = {"over": "raise", "invalid": "raise", "divide": "raise", "under": "ignore"}


@st.composite
def problems(draw, max_log_sigma=3.0, max_log_w=3.0, max_log_x=6.0, dtypes=None):
    n = draw(st.integers(2, 12))
    d = draw(st.integers(1, 5))
    H = draw(st.integers(1, 5))
    dtype = draw(st.sampled_from(dtypes or [np.float64, np.float32]))
    sigma = 10.0 ** draw(st.floats(-3.0, max_log_sigma))
    w_scale = 10.0 ** draw(st.floats(-3.0, max_log_w))
    x_scale = 10.0 ** draw(st.floats(-2.0, max_log_x))
    n_corruptions = draw(st.integers(1, 3))
    rng = np.random.RandomState(draw(st.integers(0, 2**31 - 1)))
    X = (x_scale * rng.normal(size=(n, d))).astype(dtype)
    if draw(st.booleans()):
        X[:, 0] = dtype(x_scale)  # a constant column
    W = w_scale * rng.normal(size=(H, d))
    b = w_scale * rng.normal(size=H)
    c = x_scale * rng.normal(size=d)
    X_noisy = corrupt(X, sigma, n_corruptions, rng)
    return X, X_noisy, W, b, c, sigma


def _assert_finite_in_dtype(array, dtype, name):
    array = np.asarray(array)
    assert array.dtype == dtype, (name, array.dtype, dtype)
    assert np.all(np.isfinite(array)), name


@SETTINGS
@given(problems(), st.sampled_from(list(OBJECTIVES)))
def test_objectives_and_gradients_are_finite_and_keep_the_dtype(problem, objective):
    X, X_noisy, W, b, c, sigma = problem
    dtype = X.dtype
    with np.errstate(**RAISE):
        target = objective_target(objective, X, X_noisy, sigma)
        value, grads = OBJECTIVES[objective].function(W, b, c, X_noisy, target, sigma)
    assert np.isfinite(value)
    for name, grad in zip(("W", "b", "c"), grads, strict=True):
        _assert_finite_in_dtype(grad, dtype, f"d{objective}/d{name}")


@SETTINGS
@given(problems())
def test_model_functions_are_finite_and_keep_the_dtype(problem):
    X, X_noisy, W, b, c, sigma = problem
    dtype = X.dtype
    with np.errstate(**RAISE):
        outputs = {
            "hidden": _model.hidden(X, W, b),
            "reconstruct": _model.reconstruct(X, W, b, c),
            "energy": _model.energy(X, W, b, c, sigma),
            "score": _model.score(X, W, b, c, sigma),
            "trace": _model.score_jacobian_trace(X, W, b, sigma),
            "hyvarinen": _model.hyvarinen_loss(X, W, b, c, sigma),
        }
        # The log-density of the EBM is -E - log Z with log Z = log Z_0 + a
        # finite AIS correction; log Z_0 is the normaliser of its own
        # Gaussian N(c, sigma^2 I), the shift |c|^2 / (2 sigma^2) included.
        c64 = c.astype(np.float64)
        log_z0 = log_base_normaliser(c.shape[0], sigma) + 0.5 * (c64 @ c64) / sigma**2
    for name, out in outputs.items():
        _assert_finite_in_dtype(out, dtype, name)
    assert np.isfinite(log_z0)
    hidden = outputs["hidden"]
    assert np.all((hidden >= 0) & (hidden <= 1))


@SETTINGS
@given(
    problems(max_log_sigma=1.0, max_log_w=0.5, max_log_x=1.0, dtypes=[np.float64]),
    st.sampled_from(list(OBJECTIVES)),
    st.integers(0, 2**31 - 1),
)
def test_gradients_match_central_differences_where_well_conditioned(
    problem, objective, seed
):
    """A directional derivative along a random unit direction, by central
    differences, against the analytic gradient. Restricted to float64, |W| up
    to 3, sigma >= 1e-3 and data up to 10 in scale: well conditioned enough
    for a 1e-7 relative agreement (a 4% error in the ISM trace term fails)."""
    X, X_noisy, W, b, c, sigma = problem
    H, d = W.shape
    target = objective_target(objective, X, X_noisy, sigma)
    function = OBJECTIVES[objective].function

    def f(theta):
        return function(*unpack(theta, H, d), X_noisy, target, sigma)

    theta = pack(W, b, c)
    direction = np.random.RandomState(seed).normal(size=n_params(H, d))
    direction /= np.linalg.norm(direction)
    value, grads = f(theta)
    grad = pack(*grads)
    step = 1e-6 * max(1.0, np.linalg.norm(theta))
    numeric = (f(theta + step * direction)[0] - f(theta - step * direction)[0]) / (
        2 * step
    )
    # Truncation error O(step^2) relative to the gradient, plus the rounding
    # of the two function values, amplified by 1 / step.
    tol = 1e-7 * np.linalg.norm(grad) + 1e-14 * abs(value) / step
    assert abs(numeric - grad @ direction) <= tol, (numeric, grad @ direction, tol)


@SETTINGS
@given(
    problems(max_log_sigma=1.0, max_log_w=0.5, max_log_x=1.0, dtypes=[np.float64]),
    st.sampled_from(list(OBJECTIVES)),
    st.integers(1, 7),
)
def test_float32_chunked_workspace_path_agrees_with_float64(
    problem, objective, chunk_size
):
    """The path a float32 fit takes (float32 arithmetic, rows in chunks that
    cross corruption blocks, one workspace reused across evaluations) against
    the float64 single-chunk evaluation, for two parameter vectors in a row."""
    from sklearn_dsm._kernel import Workspace

    X, X_noisy, W, b, c, sigma = problem
    X32, X_noisy32 = X.astype(np.float32), X_noisy.astype(np.float32)
    function = OBJECTIVES[objective].function
    workspace = Workspace.for_data(X_noisy32, W.shape[0], chunk_size=chunk_size)
    for scale in (1.0, -0.5):
        params = (scale * W, scale * b, c)
        v64, g64 = function(
            *params, X_noisy, objective_target(objective, X, X_noisy, sigma), sigma
        )
        target32 = objective_target(objective, X32, X_noisy32, sigma)
        v32, g32 = function(*params, X_noisy32, target32, sigma, workspace=workspace)
        g64, g32 = pack(*g64), pack(*g32)
        # ISM carries a constant -d / sigma^2 that its terms can cancel.
        scale = abs(v64) + X.shape[1] / sigma**2
        assert abs(v32 - v64) <= 1e-4 * scale, (v32, v64)
        assert np.linalg.norm(g32 - g64) <= 1e-3 * np.linalg.norm(g64) + 1e-30
