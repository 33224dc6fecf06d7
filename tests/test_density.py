"""log Z by AIS, log-densities and samples, against exact oracles (MATH.md)."""

import itertools
import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.special import comb, logsumexp
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

from sklearn_dsm import (
    DenoisingAutoencoder,
    ScoreMatchingEBM,
    _model,
    estimate_log_partition,
)
from sklearn_dsm._partition import log_partition_ais
from sklearn_dsm._sampling import _Chains, sample_model, systematic_resample


def log_z_by_enumeration(W, b, c, sigma):
    """Exact log Z when k = 1 / sigma^2 is a positive integer (MATH.md).

    (1 + e^a)^k = sum_j C(k, j) e^(j a) turns Z into a sum over h in {0..k}^H of
    Gaussian integrals: (2 pi sigma^2)^(d/2) prod_i C(k, h_i)
    exp(<b, h> + sigma^2 |c / sigma^2 + W^T h|^2 / 2).
    """
    k = round(1 / sigma**2)
    assert np.isclose(k * sigma**2, 1.0)
    H, d = W.shape
    h = np.array(list(itertools.product(range(k + 1), repeat=H)), dtype=float)
    v = c / sigma**2 + h @ W
    terms = np.log(comb(k, h)).sum(axis=1) + h @ b + 0.5 * sigma**2 * np.sum(v * v, 1)
    return 0.5 * d * np.log(2 * np.pi * sigma**2) + logsumexp(terms)


def quadrature_grid(W, c, sigma, n_points):
    """A grid that holds all the mass.

    Modes solve x = c + W^T s(Wx + b), and |W^T s| <= sum_i |W_i| per coordinate.
    """
    reach = np.abs(W).sum(axis=0) + 12 * sigma
    axes = [
        np.linspace(ci - r, ci + r, n_points) for ci, r in zip(c, reach, strict=True)
    ]
    mesh = np.meshgrid(*axes, indexing="ij")
    points = np.column_stack([m.ravel() for m in mesh])
    cell = np.prod([a[1] - a[0] for a in axes])
    return axes, points, cell


def log_z_by_quadrature(W, b, c, sigma, n_points):
    _, points, cell = quadrature_grid(W, c, sigma, n_points)
    return logsumexp(-_model.energy(points, W, b, c, sigma)) + np.log(cell)


def random_params(seed, H, d, scale=0.7):
    rng = np.random.default_rng(seed)
    return scale * rng.normal(size=(H, d)), rng.normal(size=H), rng.normal(size=d)


def assert_close_to_truth(estimate, stderr, truth):
    # Both the statistical claim (3 standard errors) and the practical one.
    assert abs(estimate - truth) <= 3 * stderr, (estimate, stderr, truth)
    assert abs(estimate - truth) <= 0.05, (estimate, stderr, truth)


@pytest.mark.parametrize("sigma", [1.0, 0.5])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ais_matches_enumeration_for_random_parameters(sigma, seed):
    W, b, c = random_params(seed, H=8, d=5)
    estimate, stderr = log_partition_ais(
        W, b, c, sigma, n_chains=512, n_steps=3000, random_state=seed
    )
    assert_close_to_truth(estimate, stderr, log_z_by_enumeration(W, b, c, sigma))


@pytest.mark.parametrize("sigma", [1.0, 0.5])
def test_fitted_log_partition_matches_enumeration(sigma):
    """The estimator's own log_partition_ (default budget) on a model fitted to data."""
    X, _ = make_blobs(300, n_features=5, centers=3, random_state=0)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ebm = ScoreMatchingEBM(n_components=8, sigma=sigma, random_state=0).fit(X)
    truth = log_z_by_enumeration(*ebm._theta, sigma)
    assert_close_to_truth(ebm.log_partition_, ebm.log_partition_std_, truth)
    # The public function gives the same kind of estimate for the autoencoder.
    dae = DenoisingAutoencoder(n_components=8, sigma=sigma, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dae.fit(X)
    estimate, stderr = estimate_log_partition(dae, random_state=0)
    assert_close_to_truth(estimate, stderr, log_z_by_enumeration(*dae._theta, sigma))


@pytest.mark.parametrize("d, n_points", [(1, 20001), (2, 801)])
@pytest.mark.parametrize("seed", [0, 1])
def test_ais_matches_quadrature(d, n_points, seed):
    W, b, c = random_params(seed, H=4, d=d, scale=1.5)
    sigma = 0.6
    truth = log_z_by_quadrature(W, b, c, sigma, n_points)
    estimate, stderr = log_partition_ais(W, b, c, sigma, random_state=seed)
    assert_close_to_truth(estimate, stderr, truth)


@pytest.mark.parametrize("d, n_points", [(1, 20001), (2, 801)])
def test_score_samples_integrates_to_one(d, n_points):
    X, _ = make_blobs(200, n_features=d, centers=2, random_state=1)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ebm = ScoreMatchingEBM(n_components=6, sigma=0.4, random_state=0).fit(X)
    _, points, cell = quadrature_grid(
        ebm.components_, ebm.intercept_visible_, 0.4, n_points
    )
    log_mass = logsumexp(ebm.score_samples(points)) + np.log(cell)
    # AIS's error is the only error left: |log mass| = |log Z_AIS - log Z|.
    assert abs(log_mass) <= max(3 * ebm.log_partition_std_, 1e-3)
    assert abs(log_mass) <= 0.05


def test_sample_is_exactly_the_base_gaussian_when_w_is_zero():
    d, sigma = 3, 0.7
    W = np.zeros((4, d))
    b = np.array([0.5, -1.0, 2.0, 0.0])
    c = np.array([1.0, -2.0, 0.5])
    S = sample_model(W, b, c, sigma, 3000, random_state=0)
    # With W = 0 every chain starts from N(c, sigma^2 I) and every MALA step
    # leaves it invariant: the draws are i.i.d. N(c, sigma^2 I).
    for j in range(d):
        assert stats.kstest(S[:, j], stats.norm(c[j], sigma).cdf).pvalue > 0.01
    z = (S - c) / sigma
    assert stats.kstest(np.sum(z**2, axis=1), stats.chi2(d).cdf).pvalue > 0.01
    # And AIS is exact: every log-weight increment is the same constant.
    estimate, stderr = log_partition_ais(W, b, c, sigma, n_chains=8, n_steps=10)
    truth = log_z_by_quadrature(W[:, :1], b, c[:1], sigma, 20001)
    truth += (
        0.5 * (d - 1) * np.log(2 * np.pi * sigma**2) + 0.5 * c[1:] @ c[1:] / sigma**2
    )
    np.testing.assert_allclose(estimate, truth, rtol=1e-9)
    assert stderr < 1e-12


def _model_cdf_1d(W, b, c, sigma):
    _, points, _ = quadrature_grid(W, c, sigma, 40001)
    log_f = -_model.energy(points, W, b, c, sigma)
    cdf = np.cumsum(np.exp(log_f - logsumexp(log_f)))
    return lambda x: np.interp(x, points[:, 0], cdf)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sample_matches_quadrature_in_1d(seed):
    """KS test of 4000 draws against the quadrature CDF of a bimodal 1-D model.

    Power: the same draws against the base N(c, sigma^2), which differs from
    the model by its tilt, are rejected at p < 1e-10, so a sampler that did not
    reach the model (or weighted its modes wrongly) would fail.
    """
    W, b, c = random_params(seed, H=3, d=1, scale=3.0)
    sigma = 0.7
    S = sample_model(W, b, c, sigma, 4000, random_state=seed)[:, 0]
    assert stats.kstest(S, _model_cdf_1d(W, b, c, sigma)).pvalue > 1e-3
    assert stats.kstest(S, stats.norm(c[0], sigma).cdf).pvalue < 1e-10


def test_sample_matches_quadrature_in_2d():
    """Chi-square test of 4000 draws on 36 cells whose probabilities come by quadrature.

    Power: the same counts against the base N(c, sigma^2 I) give p < 1e-10.
    """
    W, b, c = random_params(3, H=4, d=2, scale=1.5)
    sigma = 0.6
    axes, points, _ = quadrature_grid(W, c, sigma, 601)
    log_f = -_model.energy(points, W, b, c, sigma)
    p_grid = np.exp(log_f - logsumexp(log_f))
    S = sample_model(W, b, c, sigma, 4000, random_state=0)
    # Cells: 6 x 6 quantile bins of the draws' marginals (open at the ends).
    edges = [np.quantile(S[:, j], np.linspace(0, 1, 7)[1:-1]) for j in range(2)]

    def cell_of(Y):
        return np.searchsorted(edges[0], Y[:, 0]) * 6 + np.searchsorted(
            edges[1], Y[:, 1]
        )

    observed = np.bincount(cell_of(S), minlength=36)
    expected = np.bincount(cell_of(points), weights=p_grid, minlength=36) * len(S)
    base = stats.multivariate_normal(c, sigma**2 * np.eye(2)).pdf(points)
    expected_base = np.bincount(
        cell_of(points), weights=base / base.sum(), minlength=36
    )
    # The bins were placed by the draws: 10 marginal edges cost 10 degrees of freedom.
    dof_lost = 10
    assert stats.chisquare(observed, expected, ddof=dof_lost).pvalue > 1e-3
    assert (
        stats.chisquare(observed, expected_base * len(S) + 1e-12, ddof=dof_lost).pvalue
        < 1e-10
    )


@pytest.mark.parametrize("Estimator", [DenoisingAutoencoder, ScoreMatchingEBM])
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


def test_grid_search_over_sigma_by_held_out_likelihood():
    """On N(0, I) data held-out log-likelihood picks a sigma in the middle.

    Score matching at noise sigma fits the smoothed density N(0, (1 + sigma^2) I),
    so a large sigma is biased (too wide), while a small one leaves the base
    N(c, sigma^2 I) too narrow for 4 softplus units to widen. The winner must be
    an interior sigma whose held-out log-likelihood is within 0.1 nats of the
    true density's, and both extremes must lose by more than 0.1 nats.
    """
    X = np.random.RandomState(0).normal(size=(400, 2))
    ebm = ScoreMatchingEBM(n_components=4, n_corruptions=5, random_state=0)
    grid = [0.1, 0.5, 1.0, 4.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = GridSearchCV(ebm, {"sigma": grid}, cv=3).fit(X)
    assert search.best_params_["sigma"] in (0.5, 1.0)
    scores = search.cv_results_["mean_test_score"]
    truth = stats.multivariate_normal(np.zeros(2), np.eye(2)).logpdf(X).mean()
    assert abs(scores.max() - truth) < 0.1
    assert scores[0] < scores.max() - 0.1 and scores[-1] < scores.max() - 0.1


def test_unreliable_log_partition_warns_and_names_the_knobs():
    # Two chains and one temperature cannot estimate log Z of a tilted model.
    X, _ = make_blobs(100, n_features=3, centers=2, random_state=0)
    ebm = ScoreMatchingEBM(
        n_components=6, sigma=0.3, max_iter=30, n_ais_chains=2, n_ais_steps=1
    )
    with pytest.warns(UserWarning, match="n_ais_steps.*n_ais_chains.*alpha"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            ebm.fit(X)
    assert ebm.log_partition_std_ > 0.1


def test_systematic_resampling_counts():
    rng = np.random.RandomState(0)
    log_w = 3 * rng.normal(size=500)
    w = np.exp(log_w - logsumexp(log_w))
    for seed in range(5):
        counts = np.bincount(
            systematic_resample(log_w, np.random.RandomState(seed)), minlength=500
        )
        # Systematic resampling keeps every count within one of n * w_i.
        assert np.all(counts >= np.floor(500 * w)) and np.all(
            counts <= np.ceil(500 * w)
        )
    np.testing.assert_array_equal(systematic_resample(np.zeros(7), rng), np.arange(7))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mala_steps_leave_the_model_invariant(seed):
    """Exact draws (inverse CDF by quadrature) stay exact after 10 large MALA steps.

    Power: with the Langevin proposal ratio dropped from the acceptance test the
    same check gives p < 1e-38 for these three models.
    """
    W, b, c = random_params(seed, H=3, d=1, scale=3.0)
    sigma = 0.7
    cdf = _model_cdf_1d(W, b, c, sigma)
    _, points, _ = quadrature_grid(W, c, sigma, 40001)
    rng = np.random.RandomState(seed)
    exact = np.interp(rng.uniform(size=20000), cdf(points[:, 0]), points[:, 0])
    chains = _Chains(W, b, c, sigma, exact[:, None])
    for _ in range(10):
        chains.mala_step(1.0, 1.5 * sigma, rng)
    assert stats.kstest(chains.X[:, 0], cdf).pvalue > 1e-3


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ais_is_unbiased_with_few_temperatures(seed):
    """AIS is unbiased for Z at any number of temperatures, however few.

    With 10 temperatures and 20 000 chains the estimate must be within 3
    standard errors of quadrature. Power: adding each weight increment after
    the MALA move instead of before puts it 20 to 90 standard errors off.
    """
    W, b, c = random_params(seed, H=3, d=1, scale=3.0)
    sigma = 0.7
    truth = log_z_by_quadrature(W, b, c, sigma, 40001)
    estimate, stderr = log_partition_ais(
        W, b, c, sigma, n_chains=20000, n_steps=10, random_state=seed
    )
    assert abs(estimate - truth) <= 3 * stderr, (estimate, stderr, truth)
