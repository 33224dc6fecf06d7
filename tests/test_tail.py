"""The density's Student-t tail component (``ScoreMatchingEBM(tail=...)``).

Oracles: scipy's ``multivariate_t`` for the component's density, finite
differences for the gradient of its likelihood, the first-order condition
for the mixture weight, quadrature for the mixture's normalisation, and a
heavy-tailed data set (a multivariate t) where the score-matching model
alone, whose tails are a Gaussian of scale sigma, loses to a single Gaussian.
"""

import warnings

import numpy as np
import pytest
from scipy import integrate, stats
from sklearn.datasets import make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from sklearn_dsm import ScoreMatchingEBM
from sklearn_dsm._tail import (
    DOF_BOUNDS,
    _negative_log_likelihood,
    fit_student_t,
    fit_tail_weight,
    mixture_log_density,
    student_t_log_density,
    tail_log_density,
)

TAIL_ATTRIBUTES = ("tail_weight_", "tail_dof_", "tail_location_", "tail_scatter_")


def _heavy(n, d=5, dof=3, seed=0):
    law = stats.multivariate_t(np.zeros(d), np.eye(d), df=dof)
    return law.rvs(n, random_state=np.random.RandomState(seed)), law


def test_tail_log_density_is_scipys_multivariate_t():
    rng = np.random.RandomState(0)
    location = rng.normal(size=3)
    root = rng.normal(size=(3, 3))
    scatter = root @ root.T + 0.5 * np.eye(3)
    X = 3 * rng.standard_t(2, size=(50, 3))
    for dof in (1.0, 3.5, 1e4):
        expected = stats.multivariate_t(location, scatter, df=dof).logpdf(X)
        got = tail_log_density(X, location, scatter, dof)
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)
    # The isotropic form, from squared radii.
    q = np.sum(X**2, axis=1)
    expected = stats.multivariate_t(np.zeros(3), 4.0 * np.eye(3), df=2.5).logpdf(X)
    np.testing.assert_allclose(student_t_log_density(q, 3, 2.0, 2.5), expected)


def test_likelihood_gradient_matches_finite_differences():
    X, _ = _heavy(300)
    q = np.sum(X**2, axis=1)
    weights = np.random.RandomState(1).uniform(0.5, 2.0, size=300)
    for params in ([0.2, np.log(3.0)], [-0.5, np.log(40.0)]):
        _, grad = _negative_log_likelihood(np.array(params), q, 5, weights)
        h = 1e-6
        numeric = [
            (
                _negative_log_likelihood(np.array(params) + h * e, q, 5, weights)[0]
                - _negative_log_likelihood(np.array(params) - h * e, q, 5, weights)[0]
            )
            / (2 * h)
            for e in np.eye(2)
        ]
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def test_fit_student_t_recovers_scale_and_dof():
    """20,000 draws of t_4(0, 2 I) in 5-D: the maximum-likelihood estimates'
    standard errors are about 0.01 (scale) and 0.1 (dof)."""
    law = stats.multivariate_t(np.zeros(5), 2.0 * np.eye(5), df=4.0)
    X = law.rvs(20_000, random_state=np.random.RandomState(0))
    scale, dof = fit_student_t(np.sum(X**2, axis=1), 5)
    assert abs(scale - np.sqrt(2.0)) < 0.05
    assert abs(dof - 4.0) < 0.5
    # Gaussian data: the dof runs to its upper bound.
    G = np.random.RandomState(1).normal(size=(5000, 5))
    scale, dof = fit_student_t(np.sum(G**2, axis=1), 5)
    assert abs(scale - 1.0) < 0.05 and dof > 100
    assert dof <= DOF_BOUNDS[1]


def test_integer_weights_are_repeated_rows():
    X, _ = _heavy(200)
    q = np.sum(X**2, axis=1)
    counts = np.random.RandomState(2).randint(1, 4, size=200)
    weighted = fit_student_t(q, 5, counts)
    repeated = fit_student_t(np.repeat(q, counts), 5)
    np.testing.assert_allclose(weighted, repeated, rtol=1e-5)


def test_tail_weight_is_the_maximum_a_posteriori_weight():
    """Rows from 0.8 N(0, 1) + 0.2 N(0, 9) in 1-D, both laws known: the weight
    zeroes the derivative of the penalised log-likelihood and is within
    Monte Carlo error (about 0.01 at 5000 rows) of 0.2."""
    rng = np.random.RandomState(0)
    n = 5000
    wide = rng.uniform(size=n) < 0.2
    x = np.where(wide, 3.0, 1.0) * rng.normal(size=n)
    log_p = stats.norm(0, 1).logpdf(x)
    log_t = stats.norm(0, 3).logpdf(x)
    eps = fit_tail_weight(log_p, log_t)
    assert abs(eps - 0.2) < 0.05

    def objective(e):
        return np.sum(mixture_log_density(log_p, log_t, e)) + np.log(e)

    h = 1e-6
    slope = (objective(eps + h) - objective(eps - h)) / (2 * h)
    assert abs(slope) < 1e-3 * n
    assert objective(eps) >= max(objective(eps * 0.9), objective(eps * 1.1))
    # The pseudo-row: never zero, even where the rows favour the model.
    assert 0 < fit_tail_weight(log_p, log_p - 50.0) < 2.0 / n
    # The cap: where the rows favour the tail, half the mass, no more.
    assert fit_tail_weight(log_p, log_p + 5.0) == 0.5
    # The floor, where the rows outweigh the pseudo-row by 1e13; and rows
    # that neither component can hold leave the weight as the others set it.
    assert fit_tail_weight(log_p, log_p - 3.0, np.full(n, 1e10)) == 1e-12
    both_out = np.r_[log_p, -np.inf], np.r_[log_t, -np.inf]
    assert fit_tail_weight(*both_out) == pytest.approx(eps, rel=1e-9)


def test_mixture_log_density_is_exact_at_the_extremes():
    a = np.array([-1e4, 0.0, 3.0])
    b = np.array([0.0, -1e4, 3.0])
    got = mixture_log_density(a, b, 1e-3)
    np.testing.assert_allclose(got, [np.log(1e-3), np.log1p(-1e-3), 3.0])


def test_fitted_tail_is_the_datas_t():
    """The location is the data's mean and the scatter a multiple of the
    data's covariance (as the whitening sees it), with or without whiten."""
    X, _ = _heavy(400)
    X = X @ np.array([[2.0, 0.5, 0, 0, 0], [0, 1, 0, 0, 0]] + [[0] * 5] * 3).T
    X = X[:, :2] + np.random.RandomState(3).normal(scale=0.1, size=(400, 2))
    original = X.copy()
    for whiten in (True, False):
        ebm = ScoreMatchingEBM(8, whiten=whiten, random_state=0).fit(X)
        np.testing.assert_array_equal(X, original)  # the rows are not moved
        np.testing.assert_allclose(ebm.tail_location_, X.mean(axis=0))
        ratio = ebm.tail_scatter_ / np.cov(X.T)
        np.testing.assert_allclose(ratio, ratio[0, 0], rtol=1e-8)
        assert 0 < ebm.tail_weight_ <= 0.5
        assert DOF_BOUNDS[0] <= ebm.tail_dof_ <= DOF_BOUNDS[1]
    plain = ScoreMatchingEBM(8, tail=None, random_state=0).fit(X)
    assert not any(hasattr(plain, name) for name in TAIL_ATTRIBUTES)
    # A refit without the tail forgets the last fit's.
    ebm.set_params(tail=None).fit(X)
    assert not any(hasattr(ebm, name) for name in TAIL_ATTRIBUTES)


def test_the_mixture_integrates_to_one():
    """1-D heavy-tailed rows: quadrature of exp(score_samples) over the line
    is 1 up to the AIS error of log Z (times the model's weight)."""
    X = stats.t(df=3).rvs(300, random_state=np.random.RandomState(0))[:, None]
    ebm = ScoreMatchingEBM(8, random_state=0).fit(X)
    assert ebm.tail_weight_ > 0.01  # the tail carries real mass here

    def density(x):
        return float(np.exp(ebm.score_samples([[x]])[0]))

    total = integrate.quad(density, -30, 30, limit=400, epsabs=1e-10)[0]
    for lo, hi in ((30, np.inf), (-np.inf, -30)):
        total += integrate.quad(density, lo, hi, limit=200, epsabs=1e-10)[0]
    tolerance = 4 * ebm.log_partition_std_ + 1e-4
    assert abs(total - 1.0) < tolerance, (total, ebm.log_partition_std_)


def test_heavy_tailed_data_the_default_beats_a_gaussian():
    """The failure mode of the model alone: rows of a 5-D t with 3 degrees of
    freedom. Its tails are a Gaussian of scale sigma (below the data's 1 in
    whitened units), so it scores below a single Gaussian held out; with the
    tail the default is at least 0.5 nats per row above that Gaussian (the
    held-out means' standard error is about 0.05), and no held-out row is
    more than 3 nats below its log-density under the Gaussian."""
    X, law = _heavy(1200)
    X_train, X_test = X[:600], X[600:]
    gaussian = GaussianMixture(1).fit(X_train)
    ebm = ScoreMatchingEBM(random_state=0).fit(X_train)
    alone = ScoreMatchingEBM(random_state=0, tail=None).fit(X_train)
    reference = gaussian.score(X_test)
    assert alone.score(X_test) < reference
    assert ebm.score(X_test) > reference + 0.5
    assert ebm.score(X_test) < law.logpdf(X_test).mean() + 0.1  # no free lunch
    gap = ebm.score_samples(X_test) - gaussian.score_samples(X_test)
    assert gap.min() > -3.0


def test_sample_draws_the_tail_in_proportion():
    """With the tail widened 100-fold, its draws are told apart from the
    model's by their radius; their share is the tail's weight within
    binomial error (0.025 at 400 draws)."""
    X, _ = make_moons(300, noise=0.08, random_state=0)
    ebm = ScoreMatchingEBM(8, sigma=0.3, random_state=0).fit(X)
    ebm.tail_weight_ = 0.5
    ebm.tail_scatter_ = ebm.tail_scatter_ * 1e4
    ebm.tail_dof_ = 1e4
    draws = ebm.sample(400, random_state=0)
    far = np.linalg.norm(draws - X.mean(axis=0), axis=1) > 10
    assert abs(far.mean() - 0.5) < 0.1
    np.testing.assert_array_equal(draws, ebm.sample(400, random_state=0))
    assert draws.dtype == ebm.components_.dtype


def test_partial_fit_fits_the_tail_with_log_z():
    X, _ = make_moons(300, noise=0.08, random_state=0)
    ebm = ScoreMatchingEBM(8, sigma=0.3, n_ais_steps=100, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ebm.partial_fit(X)
    assert not hasattr(ebm, "tail_weight_")
    log_p = ebm.score_samples(X[:3])  # fitted for the call, not stored
    assert not hasattr(ebm, "tail_weight_")
    assert 0 < ebm.update_log_partition().tail_weight_ <= 0.5
    np.testing.assert_array_equal(ebm.score_samples(X[:3]), log_p)


@pytest.mark.parametrize("tail", ["t", "gaussian", 1])
def test_invalid_tail_is_a_clear_error(tail):
    X, _ = make_moons(50, random_state=0)
    with pytest.raises(ValueError, match="tail"):
        ScoreMatchingEBM(4, tail=tail).fit(X)
