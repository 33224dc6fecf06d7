"""The sampler (``_sampling``): MALA chains on the annealing path, resampling
and draws, against exact oracles (doc/math.rst, "The normalising constant" and
"Exact oracles for the tests")."""

import numpy as np
import pytest
from _oracles import log_z_by_quadrature, model_cdf_1d, quadrature_grid, random_params
from scipy import stats
from scipy.special import logsumexp

from sklearn_dsm import _model
from sklearn_dsm._partition import log_partition_ais
from sklearn_dsm._sampling import _Chains, sample_model, systematic_resample


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
    assert stats.kstest(S, model_cdf_1d(W, b, c, sigma)).pvalue > 1e-3
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


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mala_steps_leave_the_model_invariant(seed):
    """Exact draws (inverse CDF by quadrature) stay exact after 10 large MALA steps.

    Power: with the Langevin proposal ratio dropped from the acceptance test the
    same check gives p < 1e-38 for these three models.
    """
    W, b, c = random_params(seed, H=3, d=1, scale=3.0)
    sigma = 0.7
    cdf = model_cdf_1d(W, b, c, sigma)
    _, points, _ = quadrature_grid(W, c, sigma, 40001)
    rng = np.random.RandomState(seed)
    exact = np.interp(rng.uniform(size=20000), cdf(points[:, 0]), points[:, 0])
    chains = _Chains(W, b, c, sigma, exact[:, None])
    for _ in range(10):
        chains.mala_step(1.0, 1.5 * sigma, rng)
    assert stats.kstest(chains.X[:, 0], cdf).pvalue > 1e-3


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
