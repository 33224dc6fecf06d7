"""Minibatch Adam (``_adam``): its state, the batch objective, solver="adam",
partial_fit, and their agreement with L-BFGS."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_dsm import DenoisingAutoencoder, ScoreMatchingEBM, _adam, _minibatch
from sklearn_dsm._adam import AdamState, FixedNoiseObjective
from sklearn_dsm._objectives import OBJECTIVES
from sklearn_dsm._theta import pack

SIGMA, ALPHA = 0.3, 0.1  # those of the adam_dae fixture (conftest.py)


def test_adam_reaches_the_lbfgs_optimum_within_half_a_percent(
    make_moons_std, adam_dae, expected_objective
):
    """Minibatch Adam with fresh noise minimises the expected objective that
    L-BFGS minimises on 50 fixed draws per row. On the same 200 fresh draws
    per row, Adam stopped by its own rule (whose step cuts let it settle) is
    within 0.5% of L-BFGS's optimum (0.003% to 0.17% over seeds 0 to 5 with
    tol=1e-5; at its constant step it hovers 0.3% to 1.4% above). Stopped
    after 50 epochs, it is not, so the tolerance can tell them apart."""
    moons = make_moons_std(300, 0.08)
    reference = DenoisingAutoencoder(
        8,
        activation="sigmoid",  # that of the adam_dae fixture
        sigma=SIGMA,
        alpha=ALPHA,
        objective="dsm",
        n_corruptions=50,
        max_iter=2000,
        tol=1e-10,
        random_state=0,
    ).fit(moons)
    j_ref = expected_objective(reference, moons)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        short = adam_dae(max_iter=50).fit(moons)
    adam = adam_dae(max_iter=3000, n_iter_no_change="auto", tol=1e-5).fit(moons)
    assert adam.n_iter_ < 3000 and len(adam.loss_curve_) == adam.n_iter_
    gap = (expected_objective(adam, moons) - j_ref) / abs(j_ref)
    assert abs(gap) < 0.005, gap
    short_gap = (expected_objective(short, moons) - j_ref) / abs(j_ref)
    assert short_gap > 0.005, short_gap


def test_fit_adam_is_a_sequence_of_partial_fits(make_moons_std, adam_dae):
    """One partial_fit call is one epoch of fit(solver="adam"), with the random
    stream and the Adam state carried across calls. So E calls on the whole
    data give fit's parameters bit for bit; and after the first, an epoch
    delivered as a stream of consecutive batches is the same epoch."""
    moons = make_moons_std(300, 0.08)
    epochs = 5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = adam_dae(max_iter=epochs, shuffle=False).fit(moons)
    streamed = adam_dae(shuffle=False)
    streamed.partial_fit(moons)  # initialises from all rows, as fit does
    for _ in range(epochs - 1):
        for start in range(0, len(moons), 64):  # batch_size rows per call
            streamed.partial_fit(moons[start : start + 64])
    np.testing.assert_array_equal(streamed.components_, fitted.components_)
    np.testing.assert_array_equal(streamed.intercept_hidden_, fitted.intercept_hidden_)
    np.testing.assert_array_equal(
        streamed.intercept_visible_, fitted.intercept_visible_
    )
    # With shuffling, whole-data calls still replay fit exactly.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = adam_dae(max_iter=epochs).fit(moons)
    replay = adam_dae()
    for _ in range(epochs):
        replay.partial_fit(moons)
    np.testing.assert_array_equal(replay.components_, fitted.components_)
    assert replay.n_iter_ == epochs and len(replay.loss_curve_) == epochs


@pytest.mark.slow
def test_a_stream_initialised_from_its_first_batch_reaches_the_same_objective(
    make_moons_std, adam_dae, expected_objective
):
    """The only difference left between a stream and fit(solver="adam") is the
    initialisation from the first batch instead of all rows. Over 4 seeds the
    two reach the same expected objective to within 1%."""
    moons = make_moons_std(300, 0.08)
    gaps = []
    for seed in range(4):
        order = np.random.RandomState(seed).permutation(len(moons))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted = adam_dae(max_iter=300, random_state=seed).fit(moons)
        stream = adam_dae(random_state=seed)
        for _ in range(300):
            for batch in np.array_split(moons[order], 3):
                stream.partial_fit(batch)
        gaps.append(
            expected_objective(stream, moons) / expected_objective(fitted, moons) - 1
        )
    assert np.max(np.abs(gaps)) < 0.01, gaps


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_partial_fit_every_objective_lowers_the_loss_and_keeps_float32(
    make_moons_std, objective, Estimator
):
    moons = make_moons_std(300, 0.08)
    params = dict(
        n_components=8,
        activation="sigmoid",  # every objective, "ism" included
        sigma=SIGMA,
        objective=objective,
        learning_rate_init=0.01,
        random_state=0,
    )
    if Estimator is ScoreMatchingEBM:
        params.update(n_ais_chains=32, n_ais_steps=200)
    est = Estimator(**params)
    X32 = moons.astype(np.float32)
    assert est.partial_fit(X32) is est
    first = est.loss_
    for _ in range(30):
        est.partial_fit(X32)
    assert est.loss_ < first
    assert est.components_.dtype == np.float32
    assert est.transform(X32).dtype == np.float32
    assert est.n_iter_ == 31 and len(est.loss_curve_) == 31


def test_partial_fit_refines_a_fitted_model(make_moons_std, expected_objective):
    moons = make_moons_std(300, 0.08)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = DenoisingAutoencoder(
            8,
            sigma=SIGMA,
            alpha=ALPHA,
            objective="dsm",
            n_corruptions=5,
            max_iter=15,
            random_state=0,
        ).fit(moons)
    before = expected_objective(est, moons)
    W = est.components_.copy()
    est.set_params(learning_rate_init=3e-3)
    for _ in range(100):
        est.partial_fit(moons)
    # It moved from the fitted parameters, not from a fresh initialisation...
    assert np.linalg.norm(est.components_ - W) < 0.5 * np.linalg.norm(W)
    # ... and improved on 15 L-BFGS iterations.
    assert expected_objective(est, moons) < before


def test_early_stopping_keeps_the_best_validated_epoch(make_moons_std, adam_dae):
    moons = make_moons_std(300, 0.08)
    est = adam_dae(
        max_iter=400,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=20,
        tol=1e-4,
    ).fit(moons)
    curve = est.validation_loss_curve_
    assert est.n_iter_ < 400 and len(curve) == est.n_iter_
    assert est.best_validation_loss_ == min(curve)
    # The kept parameters are those of the best epoch, not of the last one:
    # their validation loss, recomputed on the same held-out rows and noise
    # (the fit's random stream replayed: initial W, split, validation seed),
    # is the best one.
    assert np.argmin(curve) < len(curve) - 1
    rng = np.random.RandomState(0)
    rng.uniform(size=est.components_.shape)  # the initial W
    order = rng.permutation(len(moons))
    val_seed = rng.randint(np.iinfo(np.int32).max)
    X_val = moons[order[: int(np.ceil(0.2 * len(moons)))]]
    kept = FixedNoiseObjective(
        X_val,
        np.random.RandomState(val_seed),
        objective="dsm",
        sigma=SIGMA,
        alpha=ALPHA,
        n_corruptions=4,
        shape=est.components_.shape,
    )(pack(*est._theta))
    assert kept == pytest.approx(est.best_validation_loss_, rel=1e-12)
    assert kept < curve[-1]


def test_adam_without_convergence_warns_and_names_the_knobs(make_moons_std, adam_dae):
    moons = make_moons_std(300, 0.08)
    with pytest.warns(ConvergenceWarning, match="max_iter=3 epochs.*n_iter_no_change"):
        adam_dae(max_iter=3, n_iter_no_change=10).fit(moons)


def test_auto_window_spans_at_least_the_given_steps_and_two_epochs():
    """n_iter_no_change="auto": at least 2 epochs and at least ``steps``."""
    assert _adam.patience("auto", 1000, 200, 500) == 100  # 5 steps per epoch
    assert _adam.patience("auto", 1001, 200, 500) == 84  # 6 (the last one short)
    assert _adam.patience("auto", 150, 150, 500) == 500  # one step per epoch
    assert _adam.patience("auto", 10_000, 200, 500) == 10  # 50 steps per epoch
    assert _adam.patience("auto", 100_000, 200, 500) == 2  # 500: at least 2
    assert _adam.patience("auto", 7_000, 200, 100) == 3  # 35 steps per epoch
    assert _adam.patience("auto", 60_000, 200, 100) == 2  # 300: at least 2
    assert _adam.patience(7, 150, 150, 500) == 7  # an int is used as given


def test_auto_window_is_what_the_warning_reports(make_moons_std):
    """300 rows, batches of 200: 2 steps per epoch, so the "auto" window is
    250 epochs, and the warning names that number, not "auto"."""
    moons = make_moons_std(300, 0.08)
    est = DenoisingAutoencoder(
        n_components=8, sigma=0.3, solver="adam", max_iter=3, random_state=0
    )
    with pytest.warns(ConvergenceWarning, match="n_iter_no_change=250 epochs"):
        est.fit(moons)


def test_adam_state_matches_the_textbook_update():
    """Two steps of AdamState against Kingma & Ba's Algorithm 1, written out.
    (The efficient form's epsilon is the algorithm's eps / sqrt(1 - beta_2^t).)"""
    rng = np.random.RandomState(0)
    theta, g1, g2 = rng.normal(size=(3, 4))
    state = AdamState(4, learning_rate=0.1)
    got = state.step(state.step(theta.copy(), g1), g2)
    m = v = np.zeros(4)
    expected = theta.copy()
    for t, g in enumerate((g1, g2), start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g**2
        m_hat, v_hat = m / (1 - 0.9**t), v / (1 - 0.999**t)
        expected = expected - 0.1 * m_hat / (
            np.sqrt(v_hat) + 1e-8 / np.sqrt(1 - 0.999**t)
        )
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_adam_warmup_ramps_the_step_linearly_then_leaves_it():
    """With warmup=3, steps 1, 2, 3 are 1/3, 2/3 and 3/3 of the textbook
    step from the same moments, and step 4 on is the textbook step."""
    rng = np.random.RandomState(0)
    grads = rng.normal(size=(5, 4))
    plain, ramped = AdamState(4, learning_rate=0.1), AdamState(4, 0.1, warmup=3)
    theta_plain, theta_ramped = np.zeros(4), np.zeros(4)
    for t, g in enumerate(grads, start=1):
        before_plain, before_ramped = theta_plain.copy(), theta_ramped.copy()
        plain.step(theta_plain, g)
        ramped.step(theta_ramped, g)
        np.testing.assert_allclose(
            theta_ramped - before_ramped,
            min(1.0, t / 3) * (theta_plain - before_plain),
            rtol=1e-12,
        )


@pytest.mark.parametrize("n_features, warmup", [(64, 0), (65, 300), (784, 300)])
def test_fits_ramp_adams_step_above_64_features(n_features, warmup):
    """The minibatch solver warms its step up over 300 steps above 64
    features (where its step is larger than the safe 64 / n_features), and
    not up to 64 (where the step is 1e-2 as before)."""
    X = np.random.RandomState(0).normal(size=(40, n_features))
    est = DenoisingAutoencoder(n_components=2, sigma=0.5, random_state=0)
    assert est.partial_fit(X)._optimizer.warmup == warmup


def test_a_failed_partial_fit_changes_nothing(make_moons_std, adam_dae, monkeypatch):
    """An epoch that fails (or is interrupted) half way leaves the model, the
    Adam state and the noise stream as they were: the next call continues
    exactly as if the failed one had never been made."""
    moons = make_moons_std(300, 0.08)
    reference = adam_dae().partial_fit(moons).partial_fit(moons)
    est = adam_dae().partial_fit(moons)
    before = est.components_.copy()
    real, calls = _minibatch.NoisyBatches.__call__, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(_minibatch.NoisyBatches, "__call__", failing)
        with pytest.raises(KeyboardInterrupt):
            est.partial_fit(moons)
    np.testing.assert_array_equal(est.components_, before)
    assert est.n_iter_ == 1
    est.partial_fit(moons)
    np.testing.assert_array_equal(est.components_, reference.components_)
    assert est.loss_curve_ == reference.loss_curve_


def test_a_first_partial_fit_that_fails_leaves_the_estimator_unfitted(
    make_moons_std, adam_dae, monkeypatch
):
    """validate_data has set n_features_in_ by the time the epoch runs; an
    interruption then must not leave it behind as a half-fitted estimator."""
    from sklearn.exceptions import NotFittedError

    moons = make_moons_std(300, 0.08)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_minibatch.NoisyBatches, "__call__", interrupted)
    est = adam_dae()
    with pytest.raises(KeyboardInterrupt):
        est.partial_fit(moons)
    assert not [k for k in vars(est) if k.endswith("_") and not k.startswith("_")]
    with pytest.raises(NotFittedError):
        est.transform(moons)


def test_partial_fit_follows_learning_rate_and_n_components_changes(
    make_moons_std, adam_dae
):
    moons = make_moons_std(300, 0.08)
    a = adam_dae().partial_fit(moons)
    b = adam_dae().partial_fit(moons)
    b.set_params(learning_rate_init=0.1)
    a.partial_fit(moons)
    b.partial_fit(moons)
    assert not np.array_equal(a.components_, b.components_)
    # A new n_components re-initialises from the batch instead of failing.
    b.set_params(n_components=3).partial_fit(moons)
    assert b.components_.shape == (3, 2) and b.n_iter_ == 1


@pytest.mark.parametrize("seed", range(6))
def test_early_stopping_keeps_the_epoch_with_the_lowest_validation_loss(seed):
    """Any improvement is kept, as in MLPRegressor; tol only drives the
    stall counter (seed 4 once kept an epoch 3e-4 worse than the best)."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 4)) @ rng.normal(size=(4, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = DenoisingAutoencoder(
            6,
            solver="adam",
            early_stopping=True,
            max_iter=300,
            batch_size=32,
            random_state=seed,
        ).fit(X)
    assert est.best_validation_loss_ == min(est.validation_loss_curve_)
