"""log Z by annealed importance sampling (``_partition``), against exact
oracles (doc/math.rst, "The normalising constant" and "Exact oracles for the
tests")."""

import warnings

import pytest
from _oracles import log_z_by_enumeration, log_z_by_quadrature, random_params
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sklearn_dsm import DenoisingAutoencoder, ScoreMatchingEBM, estimate_log_partition
from sklearn_dsm._partition import log_partition_ais


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
    # The sigmoid: every fit is a density (a ReLU fit is not held to one).
    dae = DenoisingAutoencoder(
        n_components=8, activation="sigmoid", sigma=sigma, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dae.fit(X)
    truth = log_z_by_enumeration(*dae._theta, sigma)
    estimate, stderr = estimate_log_partition(dae, X, random_state=0)
    assert_close_to_truth(estimate, stderr, truth)
    # The old budget's names still work, for one release, and warn.
    with pytest.warns(FutureWarning, match="n_steps was renamed n_ais_steps"):
        old = estimate_log_partition(dae, n_chains=256, n_steps=2000, random_state=0)
    assert_close_to_truth(*old, truth)
    with pytest.raises(ValueError, match="Pass n_ais_steps only"):
        estimate_log_partition(dae, n_steps=100, n_ais_steps=300)


@pytest.mark.parametrize("d, n_points", [(1, 20001), (2, 801)])
@pytest.mark.parametrize("seed", [0, 1])
def test_ais_matches_quadrature(d, n_points, seed):
    W, b, c = random_params(seed, H=4, d=d, scale=1.5)
    sigma = 0.6
    truth = log_z_by_quadrature(W, b, c, sigma, n_points)
    estimate, stderr = log_partition_ais(W, b, c, sigma, random_state=seed)
    assert_close_to_truth(estimate, stderr, truth)


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
