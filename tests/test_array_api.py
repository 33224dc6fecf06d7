"""Array API dispatch: fits and every method on array_api_strict and PyTorch
(CPU), against the NumPy results.

The oracle is the NumPy path itself. A device fit draws its noise, its
initial weights and its batches on the host from the same streams, so it
differs from the NumPy fit only by rounding: one evaluation agrees to a few
units of the dtype's epsilon, and a short fit to what a few iterations make
of that. A long non-convex path carries rounding to another stopping point
(scikit-learn's own value check fails there for that reason), so the long
fits are compared by their objective, not their bits. The methods are
compared on one model: the NumPy fit moved to the namespace.
"""

import pickle

import numpy as np
import pytest
import sklearn
from sklearn.externals.array_api_compat import array_namespace
from sklearn.utils._array_api import move_estimator_to

from sklearn_dsm import (
    DenoisingAutoencoder,
    ScoreMatchingEBM,
    ScoreMatchingOutlierDetector,
    denoising_scorer,
    estimate_log_partition,
)
from sklearn_dsm._objectives import corrupt, flat_objective, objective_target
from sklearn_dsm._theta import n_params

# The short fits stop at max_iter on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

torch = pytest.importorskip("torch")
xps = pytest.importorskip("array_api_strict")

# (name, namespace module, device): array_api_strict's "device1" is a second
# device that refuses NumPy conversion, as a GPU does.
PLACES = [
    ("strict", xps, xps.Device("CPU_DEVICE")),
    ("strict-device1", xps, xps.Device("device1")),
    ("torch-cpu", torch, "cpu"),
]
DTYPES = [np.float64, np.float32]
# Relative agreement of one evaluation: sums of a few hundred terms, each
# rounded; 1e3 epsilons leaves room for any summation order.
EVAL_RTOL = {np.float64: 1e3 * np.finfo(np.float64).eps, np.float32: 3e-4}


def _to(module, device, array):
    # A copy: the shared test data are read-only, which PyTorch warns about.
    return module.asarray(np.array(array, order="C"), device=device)


def _back(array):
    if isinstance(array, np.ndarray):
        return array
    if isinstance(array, torch.Tensor):
        return array.cpu().numpy()
    return np.asarray(xps.asarray(array, device=xps.Device("CPU_DEVICE")))


def _where(array):
    """(namespace name, device) of an array."""
    if isinstance(array, torch.Tensor):
        return "torch", array.device.type
    if isinstance(array, np.ndarray):
        return "numpy", None
    return "array_api_strict", array.device


def _place(module, device):
    return ("torch", device) if module is torch else ("array_api_strict", device)


@pytest.fixture(params=PLACES, ids=[p[0] for p in PLACES])
def place(request):
    return request.param[1:]


@pytest.fixture(params=DTYPES, ids=["float64", "float32"])
def dtype(request):
    return request.param


@pytest.fixture
def rows(make_moons_std):
    return make_moons_std(200, 0.1)


@pytest.mark.parametrize(
    "objective, activation",
    [
        ("dae", "sigmoid"),
        ("dsm", "relu"),
        ("esm", "sigmoid"),
        ("ism", "sigmoid"),
    ],
)
def test_one_evaluation_matches_numpy(place, dtype, rows, objective, activation):
    """Value and gradient of every criterion, with sample weights, the L2
    penalty and (ReLU) the spectral penalty, to rounding."""
    module, device = place
    rng = np.random.RandomState(0)
    X = rows.astype(dtype)
    K = 0 if objective == "ism" else 3
    noisy = corrupt(X, 0.4, K, 1)
    target = objective_target(objective, X, noisy, 0.4)
    weights = np.tile(rng.uniform(0.5, 2.0, size=len(X)), max(K, 1))
    theta = 0.5 * rng.normal(size=n_params(6, 2))
    kw = dict(
        objective=objective,
        sigma=0.4,
        alpha=0.1,
        shape=(6, 2),
        activation=activation,
        row_weights=weights,
        tail_bound=0.9 if activation == "relu" else None,
    )
    value, grad = flat_objective(theta, noisy, target, **kw)
    with sklearn.config_context(array_api_dispatch=True):
        on = [
            _to(module, device, a) if a is not None else None for a in (noisy, target)
        ]
        value_xp, grad_xp = flat_objective(theta, *on, **kw)
        value_only, none = flat_objective(theta, *on, gradient=False, **kw)
    rtol = EVAL_RTOL[dtype]
    assert isinstance(grad_xp, np.ndarray) and grad_xp.dtype == np.float64
    assert none is None
    np.testing.assert_allclose(value_xp, value, rtol=rtol)
    np.testing.assert_allclose(value_only, value, rtol=rtol)
    np.testing.assert_allclose(grad_xp, grad, atol=rtol * np.abs(grad).max())


@pytest.mark.parametrize(
    "Estimator, params",
    [
        (DenoisingAutoencoder, dict(max_iter=5)),
        (DenoisingAutoencoder, dict(solver="adam", max_iter=3)),
        (DenoisingAutoencoder, dict(solver="adam", max_iter=3, objective="esm")),
        (
            DenoisingAutoencoder,
            dict(solver="adam", max_iter=3, objective="ism", activation="sigmoid"),
        ),
        (DenoisingAutoencoder, dict(max_iter=5, whiten=True, objective="esm")),
        (ScoreMatchingEBM, dict(max_iter=5, n_ais_steps=50, n_ais_chains=16)),
        (ScoreMatchingOutlierDetector, dict(solver="adam", max_iter=2)),
    ],
)
def test_short_fit_matches_numpy_and_stays_on_the_device(
    place, dtype, rows, Estimator, params
):
    module, device = place
    X = rows.astype(dtype)
    est = Estimator(n_components=6, sigma=0.4, random_state=0, **params)
    ref = sklearn.base.clone(est).fit(X)
    with sklearn.config_context(array_api_dispatch=True):
        est.fit(_to(module, device, X))
    # A few iterations grow rounding by little; float32 L-BFGS line
    # searches may round a step differently, so compare to 1e-3.
    rtol = 1e-9 if dtype == np.float64 else 1e-3
    if est.solver_ == "adam" and est.objective in ("dae", "dsm"):
        # Adam's noise is made on the device from the host's float32
        # uniforms: each library's float32 log, sqrt, cos and sin round the
        # normals within a few float32 epsilons (1.2e-7) of each other.
        rtol = max(rtol, 1e-6)
    for name in ("components_", "intercept_hidden_", "intercept_visible_"):
        value = getattr(est, name)
        assert _where(value) == _place(module, device), name
        assert _back(value).dtype == dtype, name
        expected = getattr(ref, name)
        np.testing.assert_allclose(
            _back(value), expected, atol=rtol * np.abs(expected).max()
        )
    assert est.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(est.loss_, ref.loss_, rtol=rtol)
    if hasattr(ref, "log_partition_") and dtype == np.float64:
        # The fit's AIS ran on the device from the fit's random stream:
        # log Z to rounding. (In float32 the parameters differ by the L-BFGS
        # rounding above, a different model to anneal.)
        assert est.log_partition_ == pytest.approx(ref.log_partition_, rel=1e-9)
        assert est.far_mass_ == pytest.approx(ref.far_mass_, rel=1e-9, abs=1e-12)


def test_a_converged_fit_reaches_the_numpy_fit_objective(place, rows):
    """A default fit runs its full L-BFGS path on the device: rounding may
    take it to another stopping point, but not to a worse objective."""
    module, device = place
    ref = DenoisingAutoencoder(n_components=6, random_state=0).fit(rows)
    with sklearn.config_context(array_api_dispatch=True):
        est = DenoisingAutoencoder(n_components=6, random_state=0)
        est.fit(_to(module, device, rows))
    assert est.loss_ == pytest.approx(ref.loss_, rel=1e-3)


def _moved(est, module, device):
    xp = array_namespace(_to(module, device, np.ones(1)))
    return move_estimator_to(est, xp, device)


METHODS = [
    "transform",
    "denoise",
    "energy",
    "score_function",
    "score_samples",
]


@pytest.mark.parametrize("whiten", [False, True])
@pytest.mark.parametrize(
    "Estimator", [DenoisingAutoencoder, ScoreMatchingEBM, ScoreMatchingOutlierDetector]
)
def test_every_method_answers_in_the_namespace(place, dtype, rows, Estimator, whiten):
    """One fitted model, moved to the namespace: every method's output is
    there, in the data's dtype, and equals the NumPy model's to rounding."""
    module, device = place
    X = rows.astype(dtype)
    kw = dict(n_components=6, sigma=0.4, random_state=0, max_iter=30, whiten=whiten)
    if Estimator is ScoreMatchingEBM:
        kw.update(n_ais_steps=50, n_ais_chains=16)
    ref = Estimator(**kw).fit(X)
    est = _moved(ref, module, device)
    X_xp = _to(module, device, X[:20])
    rtol = EVAL_RTOL[dtype]
    methods = [m for m in METHODS if hasattr(est, m)]
    if Estimator is ScoreMatchingOutlierDetector:
        methods += ["decision_function", "predict"]
    with sklearn.config_context(array_api_dispatch=True):
        for name in methods:
            out = getattr(est, name)(X_xp)
            assert _where(out) == _place(module, device), name
            expected = getattr(ref, name)(X[:20])
            assert _back(out).dtype == expected.dtype, name
            scale = max(np.abs(expected).max(), 1.0)
            np.testing.assert_allclose(
                _back(out), expected, atol=10 * rtol * scale, err_msg=name
            )
        if hasattr(est, "inverse_transform"):
            H = est.transform(X_xp)
            back = est.inverse_transform(H)
            assert _where(back) == _place(module, device)
            np.testing.assert_allclose(
                _back(back),
                ref.inverse_transform(ref.transform(X[:20])),
                atol=10 * rtol * max(np.abs(X).max(), 1.0),
            )
        for name in ("score", "hyvarinen_loss"):
            if hasattr(est, name):
                value = getattr(est, name)(X_xp)
                assert isinstance(value, float)
                # Means of rows computed to rtol: at most ~100 rtol of the
                # terms' size (the Hyvarinen loss subtracts d / sigma^2).
                expected = getattr(ref, name)(X[:20])
                terms = max(abs(expected), 2 / 0.4**2)
                assert abs(value - expected) <= 100 * rtol * terms, name
        if hasattr(est, "sample"):
            # The chains run on the device in float64 from the host's random
            # stream: 1500 MALA steps of rounding (a few epsilons each), then
            # the cast to the model's dtype (one of its epsilons).
            draws = est.sample(5, random_state=0)
            assert _where(draws) == _place(module, device)
            expected = ref.sample(5, random_state=0)
            assert _back(draws).dtype == expected.dtype
            tol = 1e-9 + 2 * np.finfo(dtype).eps
            np.testing.assert_allclose(
                _back(draws), expected, rtol=tol, atol=tol * np.abs(expected).max()
            )
        # On the device (never through the host copy) with the host's
        # fixed noise: each error entry within a few epsilons of the rows'
        # scale, so the mean of squares within 100 epsilons of scale^2.
        est._host = None  # a call would fail
        score = denoising_scorer(est, X_xp)
        del est._host
        eps = float(np.finfo(dtype).eps)
        scale = float(max(np.abs(X).max(), 1.0))
        assert score == pytest.approx(
            denoising_scorer(ref, X[:20]), rel=100 * eps, abs=100 * eps * scale**2
        )
        # AIS on the device, the same stream: log Z to float64 rounding of
        # 250 temperatures' sums.
        log_z, _ = estimate_log_partition(est, X_xp, random_state=0)
        expected = estimate_log_partition(ref, X[:20], random_state=0)[0]
        assert log_z == pytest.approx(expected, rel=1e-9)


def test_input_from_another_namespace_is_refused(rows):
    with sklearn.config_context(array_api_dispatch=True):
        dae = DenoisingAutoencoder(n_components=4, max_iter=5, random_state=0)
        dae.fit(_to(torch, "cpu", rows))
        with pytest.raises(ValueError, match="same namespace"):
            dae.transform(rows)
        with pytest.raises(ValueError, match="same namespace"):
            dae.denoise(_to(xps, None, rows))


def test_partial_fit_stream_on_the_device_matches_numpy(rows):
    """Three partial_fit calls on torch tensors: the Adam moments stay on
    the device, and the stream is the NumPy one's to rounding."""
    X = rows.astype(np.float32)
    ref = ScoreMatchingEBM(n_components=6, sigma=0.4, random_state=0, n_ais_steps=50)
    est = sklearn.base.clone(ref)
    with sklearn.config_context(array_api_dispatch=True):
        for start in (0, 60, 120):
            ref.partial_fit(X[start : start + 60])
            est.partial_fit(_to(torch, "cpu", X[start : start + 60]))
        assert isinstance(est._optimizer.m, torch.Tensor)
        assert isinstance(est.components_, torch.Tensor)
        np.testing.assert_allclose(_back(est.components_), ref.components_, atol=1e-5)
        est.update_log_partition()
        ref.update_log_partition()
        # The AIS draws are seeded by theta's bytes, which rounding changes:
        # the two log Z are independent estimates, equal within their
        # standard errors.
        error = np.hypot(est.log_partition_std_, ref.log_partition_std_)
        assert abs(est.log_partition_ - ref.log_partition_) < 5 * error
        out = est.score_samples(_to(torch, "cpu", X[:5]))
        assert isinstance(out, torch.Tensor)
        np.testing.assert_allclose(
            _back(out), ref.score_samples(X[:5]), atol=5 * error + 1e-3
        )


def test_warm_start_continues_on_the_device(rows):
    """A second fit with warm_start continues the device model from where it
    stopped, as the NumPy model does (five L-BFGS iterations each)."""
    params = dict(n_components=4, max_iter=5, random_state=0, warm_start=True)
    ref = DenoisingAutoencoder(**params).fit(rows).fit(rows)
    X = _to(torch, "cpu", rows)
    with sklearn.config_context(array_api_dispatch=True):
        dae = DenoisingAutoencoder(**params).fit(X).fit(X)
    assert isinstance(dae.components_, torch.Tensor)
    assert len(dae.loss_curve_) == len(ref.loss_curve_) == 2 * ref.n_iter_
    np.testing.assert_allclose(_back(dae.components_), ref.components_, atol=1e-9)


def test_a_device_model_moves_to_numpy_for_pickling(rows):
    """scikit-learn's move_estimator_to takes a model fitted on a device to
    NumPy; the pickled copy answers as the device model did."""
    with sklearn.config_context(array_api_dispatch=True):
        dae = DenoisingAutoencoder(n_components=4, max_iter=20, random_state=0)
        dae.fit(_to(torch, "cpu", rows))
        on_device = _back(dae.transform(_to(torch, "cpu", rows[:5])))
    host = move_estimator_to(dae, np, None)
    assert isinstance(host.components_, np.ndarray)
    restored = pickle.loads(pickle.dumps(host))
    np.testing.assert_allclose(restored.transform(rows[:5]), on_device, rtol=1e-12)


def test_numpy_under_dispatch_is_the_numpy_path(rows):
    """With dispatch on, NumPy input takes the NumPy path, bit for bit."""
    est = DenoisingAutoencoder(n_components=4, max_iter=20, random_state=0)
    ref = sklearn.base.clone(est).fit(rows)
    with sklearn.config_context(array_api_dispatch=True):
        est.fit(rows)
        out = est.denoise(rows[:5])
    assert isinstance(est.components_, np.ndarray)
    np.testing.assert_array_equal(est.components_, ref.components_)
    np.testing.assert_array_equal(out, ref.denoise(rows[:5]))


def test_the_displays_draw_a_device_model(rows):
    """The Displays draw on the host: a model fitted on PyTorch tensors is
    read through its NumPy copy, and X may be a tensor too."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sklearn_dsm import DensityDisplay, FiltersDisplay

    X = _to(torch, "cpu", rows)
    with sklearn.config_context(array_api_dispatch=True):
        ebm = ScoreMatchingEBM(
            n_components=4, max_iter=5, n_ais_steps=30, random_state=0
        ).fit(X)
        shown = DensityDisplay.from_estimator(ebm, X, grid_resolution=5, n_samples=3)
        filters = FiltersDisplay.from_estimator(ebm, image_shape=(1, 2))
    host = move_estimator_to(ebm, np, None)
    expected = DensityDisplay.from_estimator(host, rows, grid_resolution=5, n_samples=3)
    np.testing.assert_allclose(shown.log_density, expected.log_density)
    assert isinstance(shown.samples, np.ndarray)
    assert filters is not None
    plt.close("all")


@pytest.mark.parametrize("chunk_size", [4, 7, 64])
@pytest.mark.parametrize("trace_weight", [0.0, 0.7])
def test_the_device_kernel_over_chunks_and_tiled_targets(
    place, chunk_size, trace_weight
):
    """The device kernel in chunks that cross the corruption blocks (the
    target tiled down 3 noisy copies of 20 rows), with row weights: the NumPy
    kernel's value and gradient."""
    from sklearn_dsm._kernel import squared_error_and_trace

    module, device = place
    rng = np.random.RandomState(1)
    X = rng.normal(size=(20, 3))
    noisy = corrupt(X, 0.3, 3, 2)
    W, b, c = rng.normal(size=(5, 3)), rng.normal(size=5), rng.normal(size=3)
    weights = rng.uniform(0.5, 2.0, size=60)
    target = None if trace_weight else X
    value, grads = squared_error_and_trace(
        W, b, c, noisy, target, trace_weight, None, row_weights=weights
    )
    on = [_to(module, device, a) for a in (noisy, weights)]
    value_xp, grads_xp = squared_error_and_trace(
        W,
        b,
        c,
        on[0],
        None if target is None else _to(module, device, target),
        trace_weight,
        chunk_size,
        row_weights=on[1],
    )
    assert value_xp == pytest.approx(value, rel=1e-12)
    for g, g_xp in zip(grads, grads_xp, strict=True):
        np.testing.assert_allclose(_back(g_xp), g, rtol=1e-11, atol=1e-12)


def test_a_streamed_device_model_pickles_in_numpy(rows):
    """After partial_fit on tensors, Adam's moments live on the device; the
    pickle and scikit-learn's move_estimator_to both hold them in NumPy, and
    the stream goes on from the pickle as from the original."""
    X = _to(torch, "cpu", rows)
    with sklearn.config_context(array_api_dispatch=True):
        dae = DenoisingAutoencoder(n_components=4, sigma=0.3, random_state=0)
        dae.partial_fit(X)
        assert isinstance(dae._optimizer.m, torch.Tensor)
        restored = pickle.loads(pickle.dumps(dae))
        assert isinstance(restored._optimizer.m, np.ndarray)
        assert isinstance(move_estimator_to(dae, np, None)._optimizer.v, np.ndarray)
        dae.partial_fit(X)
        restored.partial_fit(X)
        np.testing.assert_array_equal(
            _back(restored.components_), _back(dae.components_)
        )


def test_the_callbacks_see_the_fit_where_it_runs(rows):
    """A callback's fitted copy of each iterate, and the rows it is given,
    are in the namespace of the data."""

    class Recorder:
        def __init__(self):
            self.fitted, self.rows = [], []

        def setup(self, estimator, context):
            pass

        def teardown(self, estimator, context):
            pass

        def on_fit_task_begin(self, estimator, context):
            pass

        def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
            self.fitted.append(fitted_estimator)

    recorder = Recorder()
    X = _to(torch, "cpu", rows)
    with sklearn.config_context(array_api_dispatch=True):
        dae = DenoisingAutoencoder(n_components=4, max_iter=3, random_state=0)
        dae.set_callbacks(recorder).fit(X)
        copies = [f for f in recorder.fitted if f is not None]
        assert copies
        for fitted in copies:
            assert isinstance(fitted.components_, torch.Tensor)
            assert isinstance(fitted.transform(X), torch.Tensor)


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_the_chains_run_on_the_device(place, rows, activation):
    """AIS and the sampler with parameters of another namespace: the chains
    live there, in float64, and reproduce the NumPy run from the same random
    stream to float64 rounding."""
    from sklearn_dsm._sampling import anneal, sample_model

    module, device = place
    dae = DenoisingAutoencoder(
        n_components=6, sigma=0.4, activation=activation, max_iter=30, random_state=0
    ).fit(rows)
    theta = dae._theta
    on = [_to(module, device, p) for p in theta]
    base = (rows.mean(axis=0), 1.0)
    chains, log_w, step = anneal(
        *theta, 0.4, 32, 60, np.random.RandomState(0), base=base, activation=activation
    )
    with sklearn.config_context(array_api_dispatch=True):
        chains_xp, log_w_xp, step_xp = anneal(
            *on, 0.4, 32, 60, np.random.RandomState(0), base=base, activation=activation
        )
    assert _where(chains_xp.X) == _place(module, device)
    assert _back(chains_xp.X).dtype == np.float64
    assert isinstance(log_w_xp, np.ndarray) and log_w_xp.dtype == np.float64
    np.testing.assert_allclose(_back(chains_xp.X), chains.X, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(log_w_xp, log_w, rtol=1e-10, atol=1e-12)
    assert step_xp == pytest.approx(step, rel=1e-12)
    # Without dispatch too: the chains follow the parameters.
    draws = sample_model(
        *on, 0.4, 40, n_steps=50, n_burn_in=20, random_state=1, activation=activation
    )
    expected = sample_model(
        *theta, 0.4, 40, n_steps=50, n_burn_in=20, random_state=1, activation=activation
    )
    assert _where(draws) == _place(module, device)
    np.testing.assert_allclose(_back(draws), expected, rtol=1e-10, atol=1e-12)


def test_the_tail_draws_join_the_chains_on_the_device(place, rows):
    """An energy model with its Student-t tail: the tail's rows, drawn on the
    host, join the chains' rows on the device, in the NumPy model's order."""
    module, device = place
    ref = ScoreMatchingEBM(
        n_components=6, sigma=0.4, max_iter=30, n_ais_steps=50, random_state=0
    ).fit(rows)
    assert ref.tail_weight_ > 0
    est = _moved(ref, module, device)
    # Enough rows that some come from the tail (a binomial with mean
    # 400 * tail_weight_).
    n = 400
    with sklearn.config_context(array_api_dispatch=True):
        draws = est.sample(n, random_state=0)
    expected = ref.sample(n, random_state=0)
    assert _where(draws) == _place(module, device)
    assert _back(draws).dtype == np.float64
    n_tail = np.random.RandomState(0).binomial(n, ref.tail_weight_)
    assert n_tail > 0
    np.testing.assert_allclose(_back(draws), expected, rtol=1e-9, atol=1e-12)


def test_the_fit_anneals_where_its_objective_ran(rows, monkeypatch):
    """The AIS of an energy model's fit (and of update_log_partition after a
    stream) anneals the parameters on the data's device, not a host copy."""
    import sklearn_dsm._density as density

    seen = []

    def spy(W, *args, **kwargs):
        seen.append(type(W))
        return anneal(W, *args, **kwargs)

    anneal = density.anneal
    monkeypatch.setattr(density, "anneal", spy)
    X = _to(torch, "cpu", rows)
    with sklearn.config_context(array_api_dispatch=True):
        ebm = ScoreMatchingEBM(
            n_components=4, max_iter=5, n_ais_steps=30, random_state=0
        ).fit(X)
        ebm.partial_fit(X).update_log_partition()
    assert seen and all(kind is torch.Tensor for kind in seen)
    assert isinstance(ebm.tail_location_, torch.Tensor)


@pytest.mark.parametrize("shuffle", [True, False])
def test_adam_batches_made_on_the_device(place, rows, shuffle, monkeypatch):
    """Adam's batches on the device, with sample weights, shuffled (row
    indices) or not (slices): the NumPy fit to the float32 rounding of the
    noise's transform in each library (a few 1.2e-7), which three epochs
    carry to 1e-6 of the weights' scale."""
    module, device = place
    weights = np.random.RandomState(3).uniform(0.5, 2.0, size=len(rows))
    est = DenoisingAutoencoder(
        n_components=5,
        sigma=0.4,
        solver="adam",
        max_iter=3,
        shuffle=shuffle,
        random_state=0,
    )
    ref = sklearn.base.clone(est).fit(rows, sample_weight=weights)
    made_on_device = []

    def spy(u, odd, xp, device):
        made_on_device.append(xp)
        return box_muller_xp(u, odd, xp, device)

    def refuse(self, out):
        raise AssertionError("a device batch's noise was made on the host")

    from sklearn_dsm import _minibatch

    box_muller_xp = _minibatch.box_muller_xp
    monkeypatch.setattr(_minibatch, "box_muller_xp", spy)
    monkeypatch.setattr(_minibatch.GaussianNoise, "fill", refuse)
    with sklearn.config_context(array_api_dispatch=True):
        est.fit(_to(module, device, rows), sample_weight=_to(module, device, weights))
    assert made_on_device and made_on_device[0] is not np
    W = _back(est.components_)
    np.testing.assert_allclose(W, ref.components_, atol=1e-6 * np.abs(W).max())
    assert est.loss_ == pytest.approx(ref.loss_, rel=1e-6)


def test_the_likelihood_refinement_runs_on_the_device(place, rows, monkeypatch):
    """mle_steps on the device: the persistent chains, the statistics and
    Adam's step run where the data live, from the host's random stream, so
    the refined model is the NumPy fit's to float64 rounding (a few hundred
    steps of rounding, each a few epsilons)."""
    import sklearn_dsm._ebm as ebm_module

    module, device = place
    seen = []
    refine = ebm_module.refine_by_likelihood

    def spy(W, *args, **kwargs):
        seen.append(_where(W))
        return refine(W, *args, **kwargs)

    monkeypatch.setattr(ebm_module, "refine_by_likelihood", spy)
    params = dict(
        n_components=4,
        sigma=0.4,
        max_iter=5,
        mle_steps=20,
        n_ais_steps=30,
        n_ais_chains=16,
        random_state=0,
    )
    ref = ScoreMatchingEBM(**params).fit(rows)
    with sklearn.config_context(array_api_dispatch=True):
        est = ScoreMatchingEBM(**params).fit(_to(module, device, rows))
    assert seen == [("numpy", None), _place(module, device)]
    for name in ("components_", "intercept_hidden_", "intercept_visible_"):
        expected = getattr(ref, name)
        np.testing.assert_allclose(
            _back(getattr(est, name)), expected, atol=1e-9 * np.abs(expected).max()
        )
    assert est.log_partition_ == pytest.approx(ref.log_partition_, rel=1e-9)


def test_the_denoising_scorer_without_dispatch(place, rows):
    """Dispatch off, a device model scores rows of its own device through
    its host copy: the NumPy model's score, as every method answers then."""
    module, device = place
    ref = DenoisingAutoencoder(
        n_components=4, sigma=0.4, whiten=True, max_iter=20, random_state=0
    ).fit(rows)
    est = _moved(ref, module, device)
    score = denoising_scorer(est, _to(module, device, rows[:20]))
    assert score == denoising_scorer(ref, rows[:20])
