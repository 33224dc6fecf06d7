"""Behaviour of DenoisingAutoencoder and ScoreMatchingEBM as estimators."""

import re
import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn.base import clone
from sklearn.datasets import load_digits, make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from sklearn_dsm import (
    DenoisingAutoencoder,
    ScoreMatchingEBM,
    ScoreMatchingOutlierDetector,
    _lbfgs,
    denoising_scorer,
    hyvarinen_scorer,
)


def test_the_two_faces_differ_only_in_their_job_defaults():
    """One model: the shared hyperparameters have the same defaults, except
    the criterion (features: reconstruction from noisy copies; density:
    Hyvarinen's criterion on the clean rows), the activation (the ReLU wins
    the autoencoder's jobs, the sigmoid the density's), and the coordinates
    (features in the input's own, density in whitened ones); sigma="auto",
    tol=None and n_corruptions="auto" resolve per job."""
    assert DenoisingAutoencoder().objective == "dae"
    assert ScoreMatchingEBM().objective == "ism"
    assert DenoisingAutoencoder().activation == "relu"
    assert ScoreMatchingEBM().activation == "sigmoid"
    assert ScoreMatchingOutlierDetector().activation == "sigmoid"
    assert not DenoisingAutoencoder().whiten and ScoreMatchingEBM().whiten
    dae_params = DenoisingAutoencoder().get_params()
    ebm_params = ScoreMatchingEBM().get_params()
    differ = {k for k in dae_params if dae_params[k] != ebm_params[k]}
    assert differ == {"activation", "objective", "whiten", "alpha"}
    assert DenoisingAutoencoder()._n_corruptions("lbfgs") == 3
    assert ScoreMatchingEBM()._n_corruptions("lbfgs") == 0
    assert ScoreMatchingEBM(objective="dsm")._n_corruptions("lbfgs") == 3


@pytest.mark.parametrize("sigma", [0.2, 0.7])
def test_dae_and_dsm_fit_the_same_parameters(moons, small, sigma):
    # Proposition 2: the two objectives are one function up to 2 sigma^4.
    dae = small(DenoisingAutoencoder, sigma=sigma, alpha=1e-3, max_iter=300)
    dsm = small(DenoisingAutoencoder, sigma=sigma, alpha=1e-3, max_iter=300)
    dae.set_params(objective="dae").fit(moons)
    dsm.set_params(objective="dsm").fit(moons)
    for name in ("components_", "intercept_hidden_", "intercept_visible_"):
        a, b = getattr(dae, name), getattr(dsm, name)
        assert np.linalg.norm(a - b) <= 1e-6 * np.linalg.norm(b), name
    assert dae.n_iter_ == dsm.n_iter_
    np.testing.assert_allclose(dae.loss_, 2 * sigma**4 * dsm.loss_, rtol=1e-10)
    np.testing.assert_allclose(
        dae.loss_curve_, 2 * sigma**4 * np.asarray(dsm.loss_curve_), rtol=1e-10
    )


@pytest.mark.parametrize("objective", ["dae", "dsm", "esm", "ism"])
def test_fit_decreases_the_objective_and_sets_attributes(
    moons, small, Estimator, objective
):
    est = small(Estimator, objective=objective, max_iter=50, fast_ais=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(moons)
    assert est.components_.shape == (8, 2)
    assert est.intercept_hidden_.shape == (8,)
    assert est.intercept_visible_.shape == (2,)
    assert est.n_features_in_ == 2 and 1 <= est.n_iter_ <= 50
    assert len(est.loss_curve_) == est.n_iter_
    assert est.loss_ == est.loss_curve_[-1]
    assert np.all(np.diff(est.loss_curve_) <= 1e-12 * abs(est.loss_curve_[0]))


def test_ism_without_corruption_is_hyvarinen_on_the_clean_data(moons, small):
    est = small(
        ScoreMatchingEBM,
        objective="ism",
        n_corruptions=0,
        alpha=0.0,
        max_iter=30,
        fast_ais=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(moons)
    np.testing.assert_allclose(est.loss_, est.hyvarinen_loss(moons), rtol=1e-10)


def test_methods_are_the_model_formulas(moons, small):
    est = small(ScoreMatchingEBM, max_iter=30, fast_ais=False).fit(moons)
    assert np.isfinite(est.log_partition_) and 0 < est.log_partition_std_ < 0.1
    W, b, c = est.components_, est.intercept_hidden_, est.intercept_visible_
    X = moons[:20]
    H = 1 / (1 + np.exp(-(X @ W.T + b)))
    np.testing.assert_allclose(est.transform(X), H)
    np.testing.assert_allclose(est.inverse_transform(H), H @ W + c)
    np.testing.assert_allclose(est.denoise(X), H @ W + c)
    np.testing.assert_allclose(
        est.denoise(X), X + est.sigma**2 * est.score_function(X), atol=1e-12
    )
    # The density mixes the model, normalised, with its Student-t tail.
    tail = stats.multivariate_t(est.tail_location_, est.tail_scatter_, df=est.tail_dof_)
    eps = est.tail_weight_
    log_p = np.logaddexp(
        np.log1p(-eps) - est.energy(X) - est.log_partition_,
        np.log(eps) + tail.logpdf(X),
    )
    np.testing.assert_allclose(est.score_samples(X), log_p)
    np.testing.assert_allclose(est.score(X), np.mean(log_p))
    # Without the tail, the model alone.
    est.set_params(tail=None).fit(moons)
    log_p = -est.energy(X) - est.log_partition_
    np.testing.assert_allclose(est.score_samples(X), log_p)
    dae = small(DenoisingAutoencoder, max_iter=30).fit(moons)
    np.testing.assert_allclose(dae.score_samples(X), -dae.energy(X))


def test_score_function_is_minus_energy_gradient(moons, small, Estimator):
    est = small(Estimator, max_iter=30, fast_ais=False).fit(moons)
    X = moons[:10]
    eps = 1e-6
    grad = np.column_stack(
        [
            (est.energy(X - eps * e) - est.energy(X + eps * e)) / (2 * eps)
            for e in np.eye(2)
        ]
    )
    np.testing.assert_allclose(est.score_function(X), grad, rtol=1e-6, atol=1e-6)


def test_dae_score_is_minus_hyvarinen_and_scorer_agrees(moons, small):
    est = small(DenoisingAutoencoder, max_iter=30).fit(moons)
    assert est.score(moons) == -est.hyvarinen_loss(moons)
    # The old name, a deprecated alias for one release.
    with pytest.warns(FutureWarning, match="renamed hyvarinen_loss"):
        assert est.hyvarinen_score(moons) == est.hyvarinen_loss(moons)
    assert hyvarinen_scorer(est, moons) == est.score(moons)
    pipe = Pipeline([("scale", StandardScaler()), ("dae", clone(est))]).fit(moons)
    expected = -pipe[-1].hyvarinen_loss(pipe[0].transform(moons))
    assert hyvarinen_scorer(pipe, moons) == expected
    with pytest.raises(TypeError, match="hyvarinen_scorer needs"):
        hyvarinen_scorer(StandardScaler().fit(moons), moons)


def test_denoising_scorer_is_the_error_of_denoise_on_the_model_s_own_noise(
    moons, small
):
    dae = small(DenoisingAutoencoder, max_iter=30).fit(moons)
    noise = np.random.RandomState(0).standard_normal(moons.shape)
    noisy = moons + dae.sigma_ * noise
    expected = -np.mean(np.sum((dae.denoise(noisy) - moons) ** 2, axis=1))
    assert denoising_scorer(dae, moons) == pytest.approx(expected, rel=1e-12)
    # Whitened: the noise is sigma_ in the model's coordinates, so in the
    # input's it is sigma_ times the inverse whitening; the error is in X's units.
    ebm = small(ScoreMatchingEBM, max_iter=30, whiten=True).fit(moons * 3.0)
    noisy = moons * 3.0 + ebm.sigma_ * noise @ np.linalg.inv(ebm.whitening_)
    expected = -np.mean(np.sum((ebm.denoise(noisy) - moons * 3.0) ** 2, axis=1))
    assert denoising_scorer(ebm, moons * 3.0) == pytest.approx(expected, rel=1e-10)
    # A pipeline is scored in its last step's input space.
    pipe = Pipeline([("scale", StandardScaler()), ("dae", clone(dae))]).fit(moons)
    inner = denoising_scorer(pipe[-1], pipe[0].transform(moons))
    assert denoising_scorer(pipe, moons) == inner
    with pytest.raises(TypeError, match="denoising_scorer needs"):
        denoising_scorer(StandardScaler().fit(moons), moons)


def test_denoising_scorer_ranks_fits_and_works_in_cross_validation(moons, small):
    # Trained for 30 iterations against 1: the better denoiser scores higher.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        rough = small(DenoisingAutoencoder, max_iter=1, tol=0.0).fit(moons)
        good = small(DenoisingAutoencoder, max_iter=30).fit(moons)
        scores = cross_validate(
            small(DenoisingAutoencoder, max_iter=30), moons, scoring=denoising_scorer
        )["test_score"]
    assert denoising_scorer(good, moons) > denoising_scorer(rough, moons)
    assert np.all(np.isfinite(scores)) and np.all(scores < 0)


def test_convergence_warning_names_the_knobs(moons, small):
    est = small(DenoisingAutoencoder, max_iter=2, tol=0.0)
    with pytest.warns(ConvergenceWarning, match="max_iter=2.*tol=0.0"):
        est.fit(moons)
    assert est.n_iter_ == 2


def test_non_finite_parameters_raise_a_helpful_error(moons, small, monkeypatch):
    real_minimize = _lbfgs.minimize

    def diverging_minimize(*args, **kwargs):
        result = real_minimize(*args, **kwargs)
        result.x[0] = np.nan
        return result

    est = small(DenoisingAutoencoder, max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(moons)  # a good fit on 2 features, then a failed one on 3
    before = est.transform(moons)
    monkeypatch.setattr(_lbfgs, "minimize", diverging_minimize)
    with pytest.raises(FloatingPointError, match="Standardise X.*alpha.*sigma"):
        est.fit(np.column_stack([moons, moons[:, 0]]))
    # The failed fit wrote nothing: the good one stands, whole.
    assert est.n_features_in_ == 2
    np.testing.assert_array_equal(est.transform(moons), before)


def test_verbose_prints_iteration_objective_and_time(moons, small, capsys):
    small(DenoisingAutoencoder, max_iter=3, tol=0.0, verbose=1).fit(moons)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    pattern = r"iteration (\d+), dae objective = [-+.\deE]+, elapsed = [\d.]+ s"
    assert [int(re.search(pattern, line).group(1)) for line in lines] == [1, 2, 3]


def test_warm_start_continues_from_the_previous_fit(moons, small):
    est = small(ScoreMatchingEBM, max_iter=10, tol=0.0, fast_ais=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(moons)
        previous_loss, W = est.loss_, est.components_.copy()
        est.set_params(warm_start=True, max_iter=1).fit(moons)
        # Same random_state, same noise: one more step of the same objective.
        assert est.loss_ <= previous_loss
        assert np.linalg.norm(est.components_ - W) < np.linalg.norm(W)
        cold = clone(est).set_params(warm_start=False).fit(moons)
    assert est.loss_ < cold.loss_


def test_warm_start_continues_the_loss_curves_as_mlp_does(moons, small, adam_dae):
    """Under warm_start, loss_curve_ (and validation_loss_curve_) go on from
    the previous fit, as MLPRegressor's; n_iter_ counts the last fit only."""
    est = small(DenoisingAutoencoder, max_iter=4, tol=0.0, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(moons)
        first = list(est.loss_curve_)
        est.set_params(max_iter=3).fit(moons)
        assert est.n_iter_ == 3
        assert est.loss_curve_[:4] == first and len(est.loss_curve_) == 7
        assert est.loss_curve_[-1] == est.loss_
        # A cold fit starts a new curve.
        est.set_params(warm_start=False).fit(moons)
        assert len(est.loss_curve_) == est.n_iter_

    adam = adam_dae(max_iter=3, early_stopping=True, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        adam.fit(moons)
        curves = list(adam.loss_curve_), list(adam.validation_loss_curve_)
        adam.set_params(max_iter=2).fit(moons)
    assert adam.loss_curve_[:3] == curves[0] and len(adam.loss_curve_) == 5
    assert adam.validation_loss_curve_[:3] == curves[1]
    assert len(adam.validation_loss_curve_) == 5


def test_deterministic_given_random_state(moons, small, Estimator):
    a = small(Estimator, max_iter=20, fast_ais=False).fit(moons)
    b = small(Estimator, max_iter=20, fast_ais=False).fit(moons)
    np.testing.assert_array_equal(a.components_, b.components_)
    c = small(Estimator, max_iter=20, random_state=1, fast_ais=False).fit(moons)
    assert not np.allclose(a.components_, c.components_)


def test_float32_fit_stays_float32_and_agrees_with_float64(moons, small, Estimator):
    est64 = small(Estimator, max_iter=15, tol=0.0, fast_ais=False)
    est32 = clone(est64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est64.fit(moons)
        est32.fit(moons.astype(np.float32))
    assert est32.components_.dtype == np.float32
    for method in ("transform", "denoise", "score_function", "score_samples"):
        out32 = getattr(est32, method)(moons.astype(np.float32))
        out64 = getattr(est64, method)(moons)
        assert out32.dtype == np.float32, method
        if method == "score_samples" and hasattr(est64, "log_partition_"):
            # -E - log Z: the two fits differ in their last bits, so their AIS
            # runs are independent draws; compare -E at the fit tolerance and
            # the two log Z within 4 of their joint standard errors.
            out32 = out32 + est32.log_partition_
            out64 = out64 + est64.log_partition_
            joint = np.hypot(est32.log_partition_std_, est64.log_partition_std_)
            assert abs(est32.log_partition_ - est64.log_partition_) <= 4 * joint
        # 15 L-BFGS steps amplify float32 rounding a little; 1e-3 is far below
        # what any real difference between the two fits would produce.
        scale = np.abs(out64).max()
        np.testing.assert_allclose(out32, out64, atol=1e-3 * scale, err_msg=method)


@pytest.mark.slow
def test_score_fields_of_the_objectives_agree():
    """DSM, ESM and ISM (and DAE) fitted to one data set reach one score field.

    All estimate the same population criterion J_ESM_sigma up to a constant;
    with 400 corruptions of 40 rows their minimisers differ only by Monte Carlo
    error. The tolerance: the relative L2 distance of the score fields on the
    data must be under 0.1, while the field of an unfitted model and of a
    model fitted at another sigma are both far more than 0.1 away (asserted).
    """
    X, _ = make_moons(40, noise=0.1, random_state=1)
    X = StandardScaler().fit_transform(X)
    grid = X + 0.1 * np.random.RandomState(2).normal(size=X.shape)
    params = dict(
        n_components=6, sigma=0.4, n_corruptions=400, max_iter=500, random_state=0
    )
    fields = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for objective in ("dae", "dsm", "esm", "ism"):
            est = ScoreMatchingEBM(objective=objective, **params).fit(X)
            fields[objective] = est.score_function(grid)
        other = ScoreMatchingEBM(**{**params, "sigma": 0.6, "max_iter": 500}).fit(X)
        init = ScoreMatchingEBM(**{**params, "max_iter": 1}).fit(X)

    def distance(a, b):
        return np.linalg.norm(a - b) / np.linalg.norm(b)

    reference = fields["esm"]
    for objective, field in fields.items():
        assert distance(field, reference) < 0.1, objective
    assert distance(init.score_function(grid), reference) > 0.3
    assert distance(other.score_function(grid) * 0.6**2 / 0.4**2, reference) > 0.1


def test_pipeline_and_grid_search_over_sigma_with_a_classifier():
    X, y = load_digits(return_X_y=True)
    pipe = Pipeline(
        [
            ("scale", MinMaxScaler()),
            (
                "dae",
                DenoisingAutoencoder(
                    n_components=32, n_corruptions=2, max_iter=60, random_state=0
                ),
            ),
            ("clf", LogisticRegression(max_iter=1000)),
        ]
    )
    search = GridSearchCV(pipe, {"dae__sigma": [0.1, 3.0]}, cv=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X[:600], y[:600])
    # sigma = 3 (three times the pixel range) drowns the digits in noise; the
    # search must see that, and the chosen pipeline must classify held-out rows.
    assert search.best_params_["dae__sigma"] == 0.1
    assert search.score(X[600:], y[600:]) > 0.85  # chance is 0.1


@pytest.mark.slow
def test_grid_search_over_sigma_on_the_autoencoder_alone(small):
    """Hyvarinen's score picks a sensible sigma for standard normal data.

    The model with W = 0 and sigma = 1 is exactly N(0, I), so sigma near the
    data's own scale must beat the extremes 0.03 (a score field that is far
    too steep) and 30 (far too flat). The EBM (objective "dsm", the same fit as
    the autoencoder's "dae") scored by hyvarinen_scorer gives the same numbers.
    """
    X = np.random.RandomState(0).normal(size=(300, 2))
    est = DenoisingAutoencoder(
        n_components=4,
        activation="sigmoid",  # that of small(ScoreMatchingEBM) below
        n_corruptions=5,
        max_iter=100,
        tol=1e-4,
        random_state=0,
    )
    grid = {"sigma": [0.03, 0.3, 1.0, 3.0, 30.0]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        default = GridSearchCV(est, grid, cv=3).fit(X)
        scorer = GridSearchCV(
            small(
                ScoreMatchingEBM,
                n_components=4,
                n_corruptions=5,
                alpha=0.1,  # the autoencoder's: no far-mass raise
                max_iter=100,
                tol=1e-4,
                fast_ais=False,
            ),
            grid,
            cv=3,
            scoring=hyvarinen_scorer,
        ).fit(X)
    assert 0.3 <= default.best_params_["sigma"] <= 3.0
    np.testing.assert_allclose(
        default.cv_results_["mean_test_score"], scorer.cv_results_["mean_test_score"]
    )


def test_feature_names_in_and_out(moons, small, Estimator):
    import pandas as pd  # in the test extra

    df = pd.DataFrame(moons, columns=["x0", "x1"])
    est = small(Estimator, n_components=3, max_iter=5, fast_ais=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(df)
    assert list(est.feature_names_in_) == ["x0", "x1"]
    prefix = Estimator.__name__.lower()
    assert list(est.get_feature_names_out()) == [f"{prefix}{i}" for i in range(3)]
    out = est.set_output(transform="pandas").transform(df)
    assert list(out.columns) == list(est.get_feature_names_out())


def test_methods_use_the_fitted_sigma(moons, small, Estimator):
    est = small(Estimator, max_iter=10, fast_ais=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(moons)
    before = {m: getattr(est, m)(moons) for m in ("score_samples", "score_function")}
    est.set_params(sigma=5.0)
    assert est.sigma_ == 0.3
    for method, values in before.items():
        np.testing.assert_array_equal(getattr(est, method)(moons), values)


def test_sample_method(Estimator):
    X = np.random.RandomState(0).normal(size=(100, 2)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = Estimator(n_components=3, sigma=0.5, random_state=0, max_iter=20).fit(X)
    S = est.sample(7, random_state=0)
    assert S.shape == (7, 2) and S.dtype == np.float32
    np.testing.assert_array_equal(S, est.sample(7, random_state=0))
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        est.sample(0)
