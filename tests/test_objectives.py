"""The four objectives (``_objectives``): gradients, dtypes, chunking, the
paper's equivalences, the noise, the registry and the flat objective that the
optimisers minimise."""

from functools import partial

import numpy as np
import pytest
from scipy.optimize import check_grad
from scipy.spatial.distance import cdist
from scipy.special import softmax

from sklearn_dsm import _model
from sklearn_dsm._kernel import Workspace
from sklearn_dsm._objectives import (
    OBJECTIVES,
    corrupt,
    dae_objective,
    dsm_objective,
    esm_objective,
    flat_objective,
    ism_objective,
    objective_target,
    parzen_posterior_mean,
)
from sklearn_dsm._theta import n_params, pack, unpack


def _problem(seed, n, d, H, sigma, n_corruptions, dtype=np.float64):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d)).astype(dtype)
    X_noisy = corrupt(X, sigma, n_corruptions, rng)
    theta = 0.5 * rng.normal(size=n_params(H, d))
    return X, X_noisy, theta


def _flat(objective, X, X_noisy, sigma, H, dtype=np.float64, chunk_size=None):
    """The objective as the flat (value, gradient) function L-BFGS sees."""
    target = objective_target(objective, X, X_noisy, sigma)
    d = X.shape[1]

    def fun(theta):
        W, b, c = unpack(theta, H, d, dtype)
        value, grads = OBJECTIVES[objective].function(
            W, b, c, X_noisy, target, sigma, chunk_size=chunk_size
        )
        return value, pack(*grads)

    return fun


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize(
    "seed, n, d, H, sigma, n_corruptions",
    [(0, 7, 3, 4, 0.7, 2), (1, 12, 5, 2, 0.3, 1), (2, 5, 2, 6, 1.5, 3)],
)
def test_gradient_matches_finite_differences(
    objective, seed, n, d, H, sigma, n_corruptions
):
    X, X_noisy, theta = _problem(seed, n, d, H, sigma, n_corruptions)
    fun = _flat(objective, X, X_noisy, sigma, H, chunk_size=3)
    value = fun(theta)[0]
    err = check_grad(lambda t: fun(t)[0], lambda t: fun(t)[1], theta)
    # check_grad's forward differences at step 1.5e-8 carry ~1e-7 relative error.
    assert err <= 1e-6 * max(1.0, np.linalg.norm(fun(theta)[1])), (value, err)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ism_gradient_on_clean_data(seed):
    X, _, theta = _problem(seed, 9, 4, 3, 0.5, 0)
    fun = _flat("ism", X, X, 0.5, 3)
    err = check_grad(lambda t: fun(t)[0], lambda t: fun(t)[1], theta)
    assert err <= 1e-6 * max(1.0, np.linalg.norm(fun(theta)[1]))


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_float32_agrees_with_float64(objective):
    sigma, H = 0.6, 5
    X, X_noisy, theta = _problem(0, 20, 4, H, sigma, 2)
    v64, g64 = _flat(objective, X, X_noisy, sigma, H)(theta)
    X32, Xn32 = X.astype(np.float32), X_noisy.astype(np.float32)
    W, b, c = unpack(theta, H, 4, np.float32)
    target = objective_target(objective, X32, Xn32, sigma)
    v32, grads = OBJECTIVES[objective].function(W, b, c, Xn32, target, sigma)
    assert all(g.dtype == np.float32 for g in grads)
    np.testing.assert_allclose(v32, v64, rtol=1e-5)
    np.testing.assert_allclose(pack(*grads), g64, rtol=1e-4, atol=1e-4 * abs(g64).max())


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_chunking_does_not_change_the_result(objective):
    sigma, H = 0.6, 5
    X, X_noisy, theta = _problem(3, 11, 3, H, sigma, 3)
    v_all, g_all = _flat(objective, X, X_noisy, sigma, H, chunk_size=10**6)(theta)
    for chunk_size in (1, 4, 11):
        v, g = _flat(objective, X, X_noisy, sigma, H, chunk_size=chunk_size)(theta)
        np.testing.assert_allclose(v, v_all, rtol=1e-12)
        np.testing.assert_allclose(g, g_all, rtol=1e-10, atol=1e-12)


def test_objectives_match_their_definitions():
    """Each objective against a direct transcription of its definition
    (doc/math.rst, "The four objectives")."""
    sigma, H = 0.8, 3
    X, X_noisy, theta = _problem(4, 6, 2, H, sigma, 2)
    W, b, c = unpack(theta, H, 2)
    X_rep = np.tile(X, (2, 1))
    Psi = _model.score(X_noisy, W, b, c, sigma)
    R = _model.reconstruct(X_noisy, W, b, c)
    pi = softmax(-cdist(X_noisy, X, "sqeuclidean") / (2 * sigma**2), axis=1)
    parzen_score = (pi @ X - X_noisy) / sigma**2
    expected = {
        "dae": np.mean(np.sum((R - X_rep) ** 2, axis=1)),
        "dsm": np.mean(0.5 * np.sum((Psi - (X_rep - X_noisy) / sigma**2) ** 2, 1)),
        "esm": np.mean(0.5 * np.sum((Psi - parzen_score) ** 2, axis=1)),
        "ism": np.mean(_model.hyvarinen_loss(X_noisy, W, b, c, sigma)),
    }
    for objective, value in expected.items():
        got = _flat(objective, X, X_noisy, sigma, H)(theta)[0]
        np.testing.assert_allclose(got, value, rtol=1e-12, err_msg=objective)


@pytest.mark.parametrize("sigma", [0.1, 0.5, 2.0])
def test_proposition_2_dsm_is_dae_over_2_sigma4_on_the_same_draws(sigma):
    X, X_noisy, theta = _problem(5, 15, 4, 6, sigma, 3)
    W, b, c = unpack(theta, 6, 4)
    v_dae, g_dae = dae_objective(W, b, c, X_noisy, X)
    v_dsm, g_dsm = dsm_objective(W, b, c, X_noisy, X, sigma)
    np.testing.assert_allclose(v_dsm, v_dae / (2 * sigma**4), rtol=1e-14)
    for gd, ga in zip(g_dsm, g_dae, strict=True):
        np.testing.assert_allclose(gd, ga / (2 * sigma**4), rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_parzen_posterior_mean_is_exact(dtype):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 3)).astype(dtype)
    Q = (X[rng.randint(30, size=50)] + 0.4 * rng.normal(size=(50, 3))).astype(dtype)
    pi = softmax(
        -cdist(Q.astype(float), X.astype(float), "sqeuclidean") / (2 * 0.4**2), axis=1
    )
    for chunk_size in (None, 7):
        M = parzen_posterior_mean(Q, X, 0.4, chunk_size=chunk_size)
        assert M.dtype == dtype
        np.testing.assert_allclose(
            M, pi @ X, rtol=1e-5 if dtype == np.float32 else 1e-12
        )


def test_parzen_posterior_mean_far_from_the_data_and_tiny_sigma():
    # Every kernel underflows in a naive exp; the max-shifted softmax picks the
    # nearest training row.
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    Q = np.array([[100.0, 1.0], [0.9, 0.05]])
    M = parzen_posterior_mean(Q, X, 1e-3)
    np.testing.assert_allclose(M, [[1.0, 0.0], [1.0, 0.0]])


def test_proposition_1_exact_per_draw():
    """DSM averaged over the Parzen posterior of the source row is ESM + a constant.

    For every noisy row x~, sum_i pi_i(x~) |Psi - (x_i - x~)/s^2|^2 / 2
    = |Psi - (m - x~)/s^2|^2 / 2 + sum_i pi_i |x_i - m|^2 / (2 s^4),
    whatever theta: checked to rounding for several random theta.
    """
    sigma, H, d = 0.6, 4, 3
    X, X_noisy, _ = _problem(6, 10, d, H, sigma, 3)
    pi = softmax(-cdist(X_noisy, X, "sqeuclidean") / (2 * sigma**2), axis=1)
    M = pi @ X
    spread = np.sum(pi * cdist(M, X, "sqeuclidean"), axis=1)
    constant = np.mean(spread) / (2 * sigma**4)
    target = objective_target("esm", X, X_noisy, sigma)
    rng = np.random.RandomState(0)
    for _ in range(4):
        W, b, c = unpack(rng.normal(size=n_params(H, d)), H, d)
        Psi = _model.score(X_noisy, W, b, c, sigma)
        # DSM term of every (noisy row, training row) pair: (m_noisy, n).
        targets = (X[None, :, :] - X_noisy[:, None, :]) / sigma**2
        dsm_terms = 0.5 * np.sum((Psi[:, None, :] - targets) ** 2, axis=2)
        posterior_dsm = np.mean(np.sum(pi * dsm_terms, axis=1))
        esm = esm_objective(W, b, c, X_noisy, target, sigma)[0]
        np.testing.assert_allclose(posterior_dsm, esm + constant, rtol=1e-12)


def test_esm_and_ism_differ_by_a_theta_independent_constant():
    """Monte Carlo over x~ ~ q_sigma: J_ESM - J_ISM = E |grad log q_sigma|^2 / 2.

    Per draw, esm - ism - |s_q|^2 / 2 = -<Psi, s_q> - tr dPsi/dx, whose mean is 0
    by Stein's identity (integration by parts). With 200 000 draws its mean must
    be within 4 standard errors of 0 for every theta; a wrong sign or factor in
    the trace term would be off by hundreds of standard errors.
    """
    sigma, H, d = 0.5, 3, 2
    rng = np.random.RandomState(0)
    X = rng.normal(size=(4, d))
    X_noisy = corrupt(X, sigma, 50_000, rng)
    parzen_mean = parzen_posterior_mean(X_noisy, X, sigma)
    s_q = (parzen_mean - X_noisy) / sigma**2
    half_sq = 0.5 * np.sum(s_q**2, axis=1)
    for _ in range(3):
        W, b, c = unpack(rng.normal(size=n_params(H, d)), H, d)
        Psi = _model.score(X_noisy, W, b, c, sigma)
        per_draw = -np.sum(Psi * s_q, axis=1) - _model.score_jacobian_trace(
            X_noisy, W, b, sigma
        )
        esm = esm_objective(W, b, c, X_noisy, parzen_mean, sigma)[0]
        ism = ism_objective(W, b, c, X_noisy, None, sigma)[0]
        # The objectives are the per-draw quantities averaged, to rounding ...
        np.testing.assert_allclose(
            esm - ism - half_sq.mean(), per_draw.mean(), atol=1e-9 * abs(esm)
        )
        # ... and their theta-dependent part vanishes in expectation.
        stderr = per_draw.std() / np.sqrt(per_draw.size)
        assert abs(per_draw.mean()) < 4 * stderr, (per_draw.mean(), stderr)


def test_memory_of_one_evaluation_is_bounded_by_the_chunk():
    """Extra memory is O(chunk x (d + H)), not O(n x (d + H)).

    With working_memory = 1 MiB and n = 20 000 rows, a single unchunked (n, H)
    temporary would take 8 MB; the peak of one evaluation (and of the Parzen
    target, O(chunk x n_train)) must stay within a few MiB.
    """
    import tracemalloc

    from sklearn import config_context

    rng = np.random.RandomState(0)
    n, d, H = 20_000, 50, 50
    X = rng.normal(size=(n, d))
    X_noisy = X + 0.3 * rng.normal(size=(n, d))
    W, b, c = unpack(0.1 * rng.normal(size=n_params(H, d)), H, d)
    with config_context(working_memory=1):
        for objective in ("dsm", "ism"):
            target = objective_target(objective, X, X_noisy, 0.3)
            tracemalloc.start()
            OBJECTIVES[objective].function(W, b, c, X_noisy, target, 0.3)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            assert peak < 3 * 2**20, (objective, peak)
        tracemalloc.start()
        parzen_posterior_mean(X_noisy[:2000], X[:2000], 0.3)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        # The (2000, 50) result is 0.8 MB; one (2000, 2000) kernel would be 32 MB.
        assert peak < 4 * 2**20, peak


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_reused_workspace_gives_the_same_result_and_fresh_gradients(objective, dtype):
    """Buffers reused across evaluations must not leak between them: two
    different parameter vectors evaluated through one workspace give what a
    fresh evaluation gives, and the returned gradients are never the buffers."""
    sigma, H = 0.6, 5
    X, X_noisy, theta = _problem(6, 13, 3, H, sigma, 3)
    X, X_noisy = X.astype(dtype), X_noisy.astype(dtype)
    target = objective_target(objective, X, X_noisy, sigma)
    function = OBJECTIVES[objective].function
    workspace = Workspace.for_data(X_noisy, H, chunk_size=5)  # crosses blocks
    assert workspace.chunk_size == 5
    # Blocks of 5 rows sum in another order than one block of 6, so the two
    # agree to rounding only: sqrt(eps) of the dtype is far above a reordered
    # sum's error and far below any leaked buffer's.
    tol = float(np.sqrt(np.finfo(dtype).eps))
    for scale in (1.0, -2.0, 1.0):
        W, b, c = unpack(scale * theta, H, 3, dtype)
        fresh = function(W, b, c, X_noisy, target, sigma)
        reused = function(W, b, c, X_noisy, target, sigma, workspace=workspace)
        assert reused[0] == pytest.approx(fresh[0], rel=tol)
        for g_reused, g_fresh in zip(reused[1], fresh[1], strict=True):
            assert g_reused.dtype == dtype
            np.testing.assert_allclose(
                g_reused, g_fresh, rtol=tol, atol=tol * np.abs(g_fresh).max()
            )
            assert not any(
                np.shares_memory(g_reused, buf)
                for buf in vars(workspace).values()
                if isinstance(buf, np.ndarray)
            )


def test_a_workspace_of_other_shapes_is_not_used():
    X, X_noisy, theta = _problem(7, 10, 3, 4, 0.5, 1)
    W, b, c = unpack(theta, 4, 3)
    wrong = Workspace.for_data(np.zeros((10, 5)), 4)
    expected = dsm_objective(W, b, c, X_noisy, X, 0.5)
    got = dsm_objective(W, b, c, X_noisy, X, 0.5, workspace=wrong)
    assert got[0] == expected[0]
    assert wrong.fits(np.zeros((3, 5)), 4) and not wrong.fits(X_noisy, 4)


def test_corrupt_draws_in_slabs_the_same_stream_as_one_draw(monkeypatch):
    """Slab-wise drawing (to bound the float64 temporary) must not change the
    noise: it equals one (K, n, d) draw from the same RandomState."""
    from sklearn_dsm import _chunking

    rng = np.random.RandomState(0)
    X = rng.normal(size=(7, 3))
    expected = X + 0.3 * np.random.RandomState(1).standard_normal((4, 7, 3))
    monkeypatch.setattr(_chunking, "NOISE_SLAB_BYTES", 2 * 8 * 3)  # two rows a slab
    got = corrupt(X, 0.3, 4, np.random.RandomState(1))
    np.testing.assert_array_equal(got, expected.reshape(-1, 3))
    X32 = X.astype(np.float32)
    got32 = corrupt(X32, 0.3, 4, np.random.RandomState(1))
    assert got32.dtype == np.float32
    # Drawn and added in float64, then cast once: the same draws as float64.
    noise = 0.3 * np.random.RandomState(1).standard_normal((4, 7, 3))
    expected32 = (noise + X32.astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(got32, expected32.reshape(-1, 3))


def _penalised(objective, X, X_noisy, sigma, alpha, H):
    """flat_objective as L-BFGS, Adam and the validation loss call it."""
    return partial(
        flat_objective,
        X_noisy=X_noisy,
        target=objective_target(objective, X, X_noisy, sigma),
        objective=objective,
        sigma=sigma,
        alpha=alpha,
        shape=(H, X.shape[1]),
    )


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("alpha", [0.3, 0.0])
@pytest.mark.parametrize(
    "seed, n, d, H, sigma, n_corruptions",
    [(0, 7, 3, 4, 0.7, 2), (1, 12, 5, 2, 0.3, 1)],
)
def test_flat_objective_gradient_matches_central_differences(
    objective, alpha, seed, n, d, H, sigma, n_corruptions
):
    """What the optimisers minimise, L2 penalty included, in float64.

    Central differences at step 1e-6 agree with the gradient to about 1e-9
    (relative), so 1e-7 leaves a wide margin for rounding, while a missing,
    halved or doubled penalty gradient alpha W (4e-3 to 5e-2 of the gradient's
    norm here) fails by four orders of magnitude or more.
    """
    X, X_noisy, theta = _problem(seed, n, d, H, sigma, n_corruptions)
    fun = _penalised(objective, X, X_noisy, sigma, alpha, H)
    value, grad = fun(theta)
    assert np.isfinite(value) and grad.dtype == np.float64
    assert grad.shape == theta.shape
    eps = 1e-6
    numeric = np.array(
        [
            (fun(theta + eps * e)[0] - fun(theta - eps * e)[0]) / (2 * eps)
            for e in np.eye(theta.size)
        ]
    )
    err = np.linalg.norm(grad - numeric)
    assert err <= 1e-7 * np.linalg.norm(grad), (value, err, np.linalg.norm(grad))


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_flat_objective_adds_exactly_the_penalty(objective):
    """alpha |W|^2 / 2 on the value and alpha W on the W block of the gradient,
    nothing on b and c, and nothing at all for alpha = 0."""
    sigma, H, d, alpha = 0.6, 4, 3, 0.3
    X, X_noisy, theta = _problem(8, 9, d, H, sigma, 2)
    W = unpack(theta, H, d)[0]
    v0, g0 = _penalised(objective, X, X_noisy, sigma, 0.0, H)(theta)
    v, g = _penalised(objective, X, X_noisy, sigma, alpha, H)(theta)
    penalty = 0.5 * alpha * float(np.vdot(W, W))
    assert v - v0 == pytest.approx(penalty, rel=1e-12, abs=1e-14 * abs(v0))
    np.testing.assert_allclose(
        g - g0,
        pack(alpha * W, np.zeros(H), np.zeros(d)),
        rtol=1e-12,
        atol=1e-14 * np.abs(g0).max(),
    )
    # alpha = 0 is the bare criterion, in the units it is optimised in.
    target = objective_target(objective, X, X_noisy, sigma)
    bare = OBJECTIVES[objective].optimised(*unpack(theta, H, d), X_noisy, target, sigma)
    assert v0 == bare[0]
    np.testing.assert_array_equal(g0, pack(*bare[1]))


@pytest.mark.parametrize("alpha", [0.3, 0.0])
def test_flat_objective_optimises_dae_as_dsm(alpha):
    """The registry's "dae" is optimised as "dsm" (Proposition 2): one flat
    function, bit for bit, and ``units`` turns its values into J_DAE's."""
    sigma, H, d = 0.6, 4, 3
    X, X_noisy, theta = _problem(9, 9, d, H, sigma, 2)
    v_dae, g_dae = _penalised("dae", X, X_noisy, sigma, alpha, H)(theta)
    v_dsm, g_dsm = _penalised("dsm", X, X_noisy, sigma, alpha, H)(theta)
    assert v_dae == v_dsm
    np.testing.assert_array_equal(g_dae, g_dsm)
    assert OBJECTIVES["dae"].optimised is dsm_objective
    assert OBJECTIVES["dsm"].units(sigma) == 1.0
    if alpha == 0.0:
        j_dae = dae_objective(*unpack(theta, H, d), X_noisy, X)[0]
        assert OBJECTIVES["dae"].units(sigma) * v_dae == pytest.approx(j_dae, rel=1e-14)
