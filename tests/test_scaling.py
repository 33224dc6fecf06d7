"""The data's scale (``_scaling``): whitening, sigma="auto", and units.

The whitened model is the paper's model in the coordinates ``z = (x - m) A``;
its density in ``x`` is the density in ``z`` times ``|det A|``. The tests check
the x-space methods against their definitions (finite differences,
quadrature, the Gaussian the family contains), and that a fit does not depend
on the units of ``X``.
"""

import warnings

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from sklearn.exceptions import ConvergenceWarning

from sklearn_dsm import DenoisingAutoencoder, ScoreMatchingEBM
from sklearn_dsm._scaling import fit_whitening, rms_spread, silverman_sigma


def _correlated(n=400, seed=0):
    """2-D data whose two directions differ in spread by a factor of 20."""
    rng = np.random.RandomState(seed)
    z = rng.normal(size=(n, 2)) * [2.0, 0.1]
    rotation = np.array([[np.cos(0.6), -np.sin(0.6)], [np.sin(0.6), np.cos(0.6)]])
    return z @ rotation.T + [3.0, -1.0]


def _fit(Estimator, X, **params):
    base = dict(n_components=6, random_state=0, max_iter=200)
    if Estimator is ScoreMatchingEBM:
        base.update(n_ais_chains=128, n_ais_steps=500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return Estimator(**{**base, **params}).fit(X)


def test_whitening_gives_identity_covariance_and_its_jacobian():
    X = _correlated()
    mean, A, A_inv, log_det = fit_whitening(X)
    Z = (X - mean) @ A
    np.testing.assert_allclose(np.cov(Z.T), np.eye(2), atol=1e-10)
    np.testing.assert_allclose(A, A.T)  # ZCA: symmetric, keeps coordinates
    np.testing.assert_allclose(A @ A_inv, np.eye(2), atol=1e-10)
    assert log_det == pytest.approx(np.log(abs(np.linalg.det(A))))


def test_whitening_of_constant_and_collinear_columns_is_finite():
    rng = np.random.RandomState(0)
    x = rng.normal(size=200)
    X = np.column_stack([x, 2 * x, np.full(200, 7.0)])
    mean, A, A_inv, log_det = fit_whitening(X)
    assert np.all(np.isfinite(A)) and np.all(np.isfinite(A_inv))
    assert np.isfinite(log_det)


def test_silverman_sigma_is_the_rule_of_thumb():
    assert silverman_sigma(700, 2) == pytest.approx(700 ** (-1 / 6))
    assert silverman_sigma(124, 13, spread=2.0) == pytest.approx(
        2.0 * (124 * 15 / 4) ** (-1 / 17)
    )
    assert silverman_sigma(10**6, 64) < silverman_sigma(100, 64) < 1.0


def test_sigma_auto_is_silverman_for_the_density_and_a_fifth_for_features():
    X = _correlated()
    ebm = _fit(ScoreMatchingEBM, X, max_iter=5)
    assert ebm.sigma_ == pytest.approx(
        silverman_sigma(400, 2, rms_spread(ebm._to_model(X)))
    )
    dae = _fit(DenoisingAutoencoder, X, max_iter=5)
    assert dae.sigma_ == pytest.approx(0.2 * rms_spread(X))


@pytest.mark.parametrize("Estimator", [DenoisingAutoencoder, ScoreMatchingEBM])
def test_whitened_fits_do_not_depend_on_the_units_of_x(Estimator):
    """Whitened coordinates carry no units: rows times 2^20 (exact in floating
    point) give the same model bit for bit, with sigma="auto"."""
    X = _correlated()
    ref = _fit(Estimator, X, whiten=True, max_iter=40)
    big = _fit(Estimator, X * 2.0**20, whiten=True, max_iter=40)
    assert big.sigma_ == ref.sigma_
    np.testing.assert_array_equal(big.components_, ref.components_)
    np.testing.assert_array_equal(big.transform(X * 2.0**20), ref.transform(X))


def test_the_model_in_the_input_coordinates_is_not_scale_free():
    """The softplus terms enter the energy divided by sigma^2, so X and 10 X
    (sigma and 10 sigma) are different members of the family: the fits
    differ, which is why sigma="auto" follows the spread and the density
    whitens by default."""
    X = _correlated()
    small = _fit(DenoisingAutoencoder, X, max_iter=40)
    large = _fit(DenoisingAutoencoder, X * 16.0, max_iter=40)
    assert large.sigma_ == pytest.approx(16.0 * small.sigma_)
    assert not np.allclose(large.transform(X * 16.0), small.transform(X), atol=1e-3)


def test_whitened_ebm_with_w_zero_and_sigma_one_is_the_full_covariance_gaussian():
    """The whitened family contains the Gaussian with the data's mean and
    covariance: W = 0, c = 0, sigma = 1 in whitened coordinates."""
    X = _correlated()
    ebm = _fit(ScoreMatchingEBM, X, sigma=1.0, max_iter=3, tail=None)
    ebm.components_ = np.zeros_like(ebm.components_)
    ebm.intercept_visible_ = np.zeros_like(ebm.intercept_visible_)
    # Exact log Z in z: N(0, I) times exp(sum_i softplus(b_i)), a constant.
    b = ebm.intercept_hidden_
    ebm.log_partition_ = np.log(2 * np.pi) + np.logaddexp(0, b).sum()
    mean, _, _, _ = fit_whitening(X)
    cov = np.cov(X.T)
    expected = multivariate_normal(mean, cov).logpdf(X[:20])
    np.testing.assert_allclose(ebm.score_samples(X[:20]), expected, rtol=1e-5)


def test_whitened_methods_are_the_x_space_formulas():
    X = _correlated()
    ebm = _fit(ScoreMatchingEBM, X, sigma=0.5, alpha=0.01, max_iter=60)
    x = X[:15]
    # score_function is -dE/dx in the input's coordinates.
    eps = 1e-6
    numeric = np.column_stack(
        [
            -(ebm.energy(x + eps * e) - ebm.energy(x - eps * e)) / (2 * eps)
            for e in np.eye(2)
        ]
    )
    np.testing.assert_allclose(ebm.score_function(x), numeric, rtol=1e-5, atol=1e-5)
    # hyvarinen_loss is |Psi|^2 / 2 + tr dPsi/dx in x.
    trace = sum(
        (ebm.score_function(x + eps * e)[:, j] - ebm.score_function(x - eps * e)[:, j])
        / (2 * eps)
        for j, e in enumerate(np.eye(2))
    )
    psi = ebm.score_function(x)
    expected = np.mean(0.5 * np.sum(psi**2, axis=1) + trace)
    assert ebm.hyvarinen_loss(x) == pytest.approx(expected, rel=1e-5)
    # denoise is the decoder mapped back, and Tweedie's step with the noise
    # covariance sigma^2 Sigma of the whitened model.
    np.testing.assert_allclose(
        ebm.inverse_transform(ebm.transform(x)), ebm.denoise(x), atol=1e-10
    )
    noise_cov = ebm.sigma_**2 * np.linalg.inv(ebm.whitening_ @ ebm.whitening_)
    np.testing.assert_allclose(
        ebm.denoise(x), x + psi @ noise_cov, rtol=1e-6, atol=1e-8
    )


def test_whitened_density_integrates_to_one():
    X = _correlated()
    ebm = _fit(
        ScoreMatchingEBM,
        X,
        sigma=0.5,
        alpha=0.01,
        max_iter=60,
        n_ais_chains=512,
        n_ais_steps=2000,
    )
    # A grid in whitened coordinates, mapped to x; the cell volume in x is the
    # one in z times 1 / |det A|.
    g = np.linspace(-7, 7, 401)
    Zg = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    Xg = Zg @ np.linalg.inv(ebm.whitening_) + ebm.mean_
    log_cell = 2 * np.log(g[1] - g[0]) - ebm.log_det_whitening_
    total = logsumexp(ebm.score_samples(Xg)) + log_cell
    assert abs(total) < 3 * ebm.log_partition_std_ + 0.01


def test_whitening_beats_the_input_coordinates_on_elongated_data():
    """Directions 20x apart in spread: the isotropic model in the input's
    coordinates cannot be narrow where the data is, the whitened one can."""
    X = _correlated(600)
    X_train, X_test = X[:400], X[400:]
    plain = _fit(ScoreMatchingEBM, X_train, whiten=False, max_iter=300, tail=None)
    white = _fit(ScoreMatchingEBM, X_train, whiten=True, max_iter=300, tail=None)
    assert white.score(X_test) > plain.score(X_test) + 1.0


@pytest.mark.parametrize("sigma, factor", [(0.5, 1e6), (5e5, 1.0), (1e-3, 1.0)])
def test_a_sigma_far_from_the_scale_of_x_warns(sigma, factor):
    X = _correlated() * factor
    with pytest.warns(UserWarning, match=r"sigma=.* times the typical spread.*'auto'"):
        _fit(DenoisingAutoencoder, X, sigma=sigma, max_iter=3)


def test_sigma_auto_never_warns_about_the_scale():
    for factor in (1e-6, 1.0, 1e6):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            DenoisingAutoencoder(4, random_state=0).fit(_correlated() * factor)


def test_directions_the_rows_never_varied_in_are_not_stretched():
    """Fewer rows than features: the null space keeps the mean eigenvalue
    instead of a floor 1e6 times smaller, so new rows that move there are not
    put millions of nats away."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 40))
    mean, A, _, _ = fit_whitening(X)
    centred = X - X.mean(axis=0)
    _, _, Vt = np.linalg.svd(centred)
    null = Vt[-5:]  # directions with zero variance in the 30 rows
    mean_eigenvalue = np.trace(np.cov(X.T)) / 40
    np.testing.assert_allclose(
        np.linalg.norm(null @ A, axis=1), 1 / np.sqrt(mean_eigenvalue), rtol=1e-6
    )
    X_new = rng.normal(size=(30, 40))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ebm = ScoreMatchingEBM(random_state=0, max_iter=100).fit(X)
    assert ebm.score(X_new) > -200  # was about -1.2e7


def test_all_constant_data_is_not_whitened():
    mean, A, A_inv, log_det = fit_whitening(np.full((20, 3), 5.0))
    np.testing.assert_array_equal(A, np.eye(3))
    np.testing.assert_array_equal(A_inv, np.eye(3))
    assert log_det == 0.0 and np.all(mean == 5.0)


def test_partial_fit_warns_when_the_first_batch_cannot_whiten():
    X = _correlated()
    with pytest.warns(UserWarning, match="first batch, which has 12 rows"):
        ScoreMatchingEBM(4, random_state=0, n_ais_steps=50).partial_fit(X[:12])


def test_alpha_auto_carries_on_in_partial_fit_and_warm_starts():
    X = _correlated()
    ebm = _fit(ScoreMatchingEBM, X, max_iter=30)
    ebm.alpha_ = 0.9  # as a fit whose far mass raised it twice
    ebm.partial_fit(X)
    assert ebm.alpha_ == 0.9
