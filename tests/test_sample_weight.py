"""sample_weight: every objective as a weighted mean over rows, and the
estimators' fit, partial_fit and scores with it."""

import warnings

import numpy as np
import pytest
from scipy.optimize import check_grad
from sklearn import config_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_dsm import (
    DenoisingAutoencoder,
    ScoreMatchingEBM,
    ScoreMatchingOutlierDetector,
)
from sklearn_dsm._objectives import (
    OBJECTIVES,
    corrupt,
    flat_objective,
    objective_target,
    parzen_posterior_mean,
)
from sklearn_dsm._theta import n_params


def _weighted(objective, X, X_noisy, sigma, H, weights, alpha=0.2):
    """flat_objective with row weights, as the solvers call it."""
    K = X_noisy.shape[0] // X.shape[0]
    target = objective_target(objective, X, X_noisy, sigma, weights)

    def fun(theta):
        return flat_objective(
            theta,
            X_noisy,
            target,
            objective=objective,
            sigma=sigma,
            alpha=alpha,
            shape=(H, X.shape[1]),
            row_weights=np.tile(weights, K),
        )

    return fun


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_weighted_gradient_matches_finite_differences(objective):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(9, 3))
    X_noisy = corrupt(X, 0.5, 2, rng)
    weights = rng.uniform(0, 3, size=9)
    theta = 0.5 * rng.normal(size=n_params(4, 3))
    fun = _weighted(objective, X, X_noisy, 0.5, 4, weights)
    err = check_grad(lambda t: fun(t)[0], lambda t: fun(t)[1], theta)
    assert err <= 1e-6 * max(1.0, np.linalg.norm(fun(theta)[1]))


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_integer_weights_are_repeated_rows_and_zero_weights_dropped_rows(objective):
    """Exact: the weighted objective of (X, w) is the plain objective of X
    with row i repeated w_i times, each repeat paired with the same noise."""
    rng = np.random.RandomState(1)
    X = rng.normal(size=(6, 3))
    weights = np.array([0, 1, 3, 2, 0, 1])
    K, sigma, H = 2, 0.4, 5
    X_noisy = corrupt(X, sigma, K, rng)
    theta = 0.5 * rng.normal(size=n_params(H, 3))
    value, grad = _weighted(objective, X, X_noisy, sigma, H, weights)(theta)

    rows = np.repeat(np.arange(6), weights)
    X_rep = X[rows]
    blocks = X_noisy.reshape(K, 6, 3)[:, rows].reshape(-1, 3)
    plain = _weighted(objective, X_rep, blocks, sigma, H, np.ones(len(rows)))
    expected_value, expected_grad = plain(theta)
    assert value == pytest.approx(expected_value, rel=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-12)


def test_weighted_parzen_mean_is_the_mean_over_repeated_training_rows():
    rng = np.random.RandomState(2)
    X = rng.normal(size=(5, 2))
    weights = np.array([2, 0, 1, 3, 1])
    query = rng.normal(size=(4, 2))
    got = parzen_posterior_mean(query, X, 0.6, weights=weights)
    expected = parzen_posterior_mean(query, np.repeat(X, weights, axis=0), 0.6)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # Fractional weights: the softmax weights scale by w_i exactly.
    weights = np.array([0.5, 2.0, 1.0, 0.1, 3.0])
    got = parzen_posterior_mean(query, X, 0.6, weights=weights)
    sq = ((query[:, None] - X[None]) ** 2).sum(-1)
    pi = weights * np.exp(-sq / (2 * 0.36))
    np.testing.assert_allclose(got, (pi / pi.sum(1, keepdims=True)) @ X, rtol=1e-10)


# ----------------------------------------------------------------- estimators
def _fit(est, X, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, **kwargs)


@pytest.mark.parametrize(
    "Estimator", [DenoisingAutoencoder, ScoreMatchingEBM, ScoreMatchingOutlierDetector]
)
def test_integer_weights_fit_what_repeated_rows_fit_without_noise(moons, Estimator):
    """ISM on the clean rows is deterministic: the weighted fit is the fit of
    the repeated rows, to rounding (sigma="auto", whitening and the initial
    theta from the weighted data included)."""
    weights = np.random.RandomState(0).randint(1, 4, size=len(moons))
    params = dict(
        n_components=6,
        activation="sigmoid",
        objective="ism",
        n_corruptions=0,
        max_iter=60,
    )
    if Estimator is ScoreMatchingEBM:
        params.update(n_ais_chains=32, n_ais_steps=100)
    weighted = _fit(Estimator(**params, random_state=0), moons, sample_weight=weights)
    repeated = _fit(Estimator(**params, random_state=0), np.repeat(moons, weights, 0))
    assert weighted.sigma_ == pytest.approx(repeated.sigma_, rel=1e-12)
    np.testing.assert_allclose(
        weighted.components_, repeated.components_, rtol=1e-6, atol=1e-8
    )
    np.testing.assert_allclose(
        weighted.energy(moons), repeated.energy(moons), rtol=1e-6, atol=1e-8
    )
    if Estimator is ScoreMatchingEBM:  # the tail is fitted to weighted rows too
        for name in ("tail_weight_", "tail_dof_", "tail_scatter_"):
            np.testing.assert_allclose(
                getattr(weighted, name), getattr(repeated, name), rtol=1e-4
            )
    if Estimator is ScoreMatchingOutlierDetector:
        assert weighted.offset_ == pytest.approx(repeated.offset_, rel=1e-6)


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_zero_weights_are_dropped_rows_exactly(moons, solver):
    weights = np.ones(len(moons))
    weights[::3] = 0
    params = dict(n_components=6, sigma=0.3, max_iter=20, solver=solver, tol=0.0)
    weighted = _fit(
        DenoisingAutoencoder(**params, random_state=0), moons, sample_weight=weights
    )
    dropped = _fit(DenoisingAutoencoder(**params, random_state=0), moons[weights > 0])
    # To rounding: the weighted kernel sums in another order.
    np.testing.assert_allclose(weighted.components_, dropped.components_, rtol=1e-9)
    # partial_fit too.
    a = DenoisingAutoencoder(**params, random_state=0).partial_fit(
        moons, sample_weight=weights
    )
    b = DenoisingAutoencoder(**params, random_state=0).partial_fit(moons[weights > 0])
    np.testing.assert_allclose(a.components_, b.components_, rtol=1e-9)


def test_with_noise_integer_weights_match_repeated_rows_to_monte_carlo_error(moons):
    """DSM draws noise of its own for each repeat, so a weighted fit and a fit
    of the repeated rows differ by Monte Carlo error: their score fields on
    the data are no farther apart than fits with other noise are from each
    other, while the unweighted fit is far off."""
    weights = np.where(moons[:, 0] > 0, 8, 1)  # the right half counts 8 times
    # The sigmoid: its fits from two noise draws land near one score field.
    # Eight ReLU units on moons land in optima that differ by seed more than
    # the weighting moves them, which would hide what is tested here.
    params = dict(n_components=8, activation="sigmoid", sigma=0.3, n_corruptions=10)

    def field(seed, X, **kwargs):
        est = DenoisingAutoencoder(**params, random_state=seed)
        return _fit(est, X, **kwargs).score_function(moons)

    def distance(a, b):
        return np.sqrt(np.mean(np.sum((a - b) ** 2, axis=1)))

    weighted = [field(s, moons, sample_weight=weights) for s in (0, 1)]
    repeated = [field(s, np.repeat(moons, weights, 0)) for s in (0, 1)]
    unweighted = field(0, moons)
    monte_carlo = distance(*weighted) + distance(*repeated)
    assert distance(weighted[0], repeated[0]) < monte_carlo
    assert distance(unweighted, repeated[0]) > 2 * distance(weighted[0], repeated[0])


def test_bad_weights_are_refused_by_name(moons):
    dae = DenoisingAutoencoder(4)
    with pytest.raises(
        ValueError, match="Negative values in data passed to `sample_weight`"
    ):
        dae.fit(moons, sample_weight=-np.ones(len(moons)))
    with pytest.raises(ValueError, match="positive sample_weight on at least 2 rows"):
        dae.fit(moons, sample_weight=np.r_[1.0, np.zeros(len(moons) - 1)])
    with pytest.raises(ValueError, match="sample_weight.shape"):
        dae.fit(moons, sample_weight=np.ones(3))


def test_metadata_routing_reaches_the_estimator_in_a_pipeline_and_a_search(moons):
    weights = np.random.RandomState(0).randint(0, 3, size=len(moons))
    params = dict(n_components=6, sigma=0.3, max_iter=30, random_state=0)
    with config_context(enable_metadata_routing=True):
        pipe = Pipeline(
            [
                ("scale", StandardScaler().set_fit_request(sample_weight=False)),
                (
                    "dae",
                    DenoisingAutoencoder(**params).set_fit_request(sample_weight=True),
                ),
            ]
        )
        _fit(pipe, moons, sample_weight=weights)
        direct = _fit(
            DenoisingAutoencoder(**params),
            StandardScaler().fit_transform(moons),
            sample_weight=weights,
        )
        np.testing.assert_array_equal(pipe[-1].components_, direct.components_)
        search = GridSearchCV(
            DenoisingAutoencoder(**params).set_fit_request(sample_weight=True),
            {"sigma": [0.2, 0.4]},
            cv=2,
        )
        _fit(search, moons, sample_weight=weights)
        assert search.best_params_["sigma"] in (0.2, 0.4)


def test_a_partial_fit_refused_for_its_weights_changes_nothing(moons):
    dae = DenoisingAutoencoder(4, sigma=0.3, random_state=0).fit(moons)
    before = {k: v for k, v in vars(dae).items()}
    dae.set_params(n_components=6)  # the next call would re-initialise
    with pytest.raises(ValueError, match="sample_weight"):
        dae.partial_fit(np.c_[moons, moons[:, :1]][:5], sample_weight=np.ones(4))
    assert dae.n_features_in_ == 2
    np.testing.assert_array_equal(dae.components_, before["components_"])


def test_the_detector_s_weighted_quantile_is_the_repeated_rows_quantile():
    from sklearn_dsm._scaling import weighted_percentile as _weighted_linear_percentile

    rng = np.random.RandomState(0)
    values = rng.normal(size=40)
    weights = rng.randint(1, 5, size=40)
    for percent in (0.0, 3.0, 10.0, 50.0, 97.5, 100.0):
        expected = np.percentile(np.repeat(values, weights), percent)
        got = _weighted_linear_percentile(values, weights, percent)
        assert got == pytest.approx(expected, rel=1e-12), percent
        ones = _weighted_linear_percentile(values, np.ones(40), percent)
        assert ones == pytest.approx(np.percentile(values, percent), rel=1e-12)
    # Huge weights repeat nothing: no memory beyond the rows themselves.
    assert np.isfinite(_weighted_linear_percentile(values, np.full(40, 1e12), 10.0))


def test_likelihood_refinement_draws_rows_by_their_weights(monkeypatch):
    from sklearn_dsm import _mle

    seen = []
    original = _mle.log_likelihood_gradient

    def spy(W, b, c, sigma, batch, chains, **kwargs):
        seen.append(batch.copy())
        return original(W, b, c, sigma, batch, chains, **kwargs)

    monkeypatch.setattr(_mle, "log_likelihood_gradient", spy)
    rng = np.random.RandomState(0)
    X = np.r_[rng.normal(-2, 0.3, size=(50, 1)), rng.normal(2, 0.3, size=(50, 1))]
    W, b, c = 0.1 * rng.normal(size=(3, 1)), np.zeros(3), np.zeros(1)
    weights = np.r_[np.full(50, 1.0), np.full(50, 9.0)]  # the right half: 90%
    _mle.refine_by_likelihood(
        W,
        b,
        c,
        0.5,
        X,
        n_steps=20,
        n_chains=20,
        batch_size=50,
        sample_weight=weights,
        random_state=0,
    )
    share = np.mean(np.concatenate(seen) > 0)
    assert 0.85 < share < 0.95  # 1000 draws: 0.90 +/- 0.01


@pytest.mark.parametrize("how", ["adam", "partial_fit"])
def test_adam_with_integer_weights_is_adam_on_repeated_rows(moons, how):
    """Full batches and no noise: the weighted epochs are the repeated rows'
    epochs (a minibatch's weighted mean is the repeated batch's mean)."""
    weights = np.random.RandomState(0).randint(1, 4, size=len(moons))
    params = dict(
        n_components=5,
        activation="sigmoid",
        objective="ism",
        n_corruptions=0,
        sigma=0.3,
        solver="adam",
        batch_size=10_000,
        max_iter=5,
        tol=0.0,
        random_state=0,
    )
    repeated = np.repeat(moons, weights, 0)
    if how == "adam":
        a = _fit(DenoisingAutoencoder(**params), moons, sample_weight=weights)
        b = _fit(DenoisingAutoencoder(**params), repeated)
    else:
        a, b = DenoisingAutoencoder(**params), DenoisingAutoencoder(**params)
        for _ in range(3):
            a.partial_fit(moons, sample_weight=weights)
            b.partial_fit(repeated)
    np.testing.assert_allclose(a.components_, b.components_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-9)


def test_weighted_mean_and_spread_in_slabs_are_the_repeated_rows(monkeypatch):
    from sklearn_dsm import _chunking
    from sklearn_dsm._scaling import rms_spread

    monkeypatch.setattr(_chunking, "NOISE_SLAB_BYTES", 8 * 3 * 7)  # 7-row slabs
    rng = np.random.RandomState(0)
    X = rng.normal(size=(50, 3)).astype(np.float32)
    weights = rng.randint(1, 4, size=50)
    mean, spread = _chunking.mean_and_spread(X, weights)
    repeated = np.repeat(X.astype(np.float64), weights, 0)
    np.testing.assert_allclose(mean, repeated.mean(0), rtol=1e-12)
    assert spread == pytest.approx(rms_spread(repeated), rel=1e-12)
