"""The Displays draw what the fitted model computes, and say what is wrong."""

import matplotlib
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.mixture import GaussianMixture

from sklearn_dsm import (
    DenoisingAutoencoder,
    DensityDisplay,
    FiltersDisplay,
    LossCurveDisplay,
    ScoreMatchingEBM,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def ebm(moons):
    return ScoreMatchingEBM(n_components=8, n_ais_steps=200, random_state=0).fit(moons)


def test_density_display_draws_the_model_s_log_density_score_and_draws(ebm, moons):
    d = DensityDisplay.from_estimator(
        ebm, moons, grid_resolution=15, n_arrows=5, n_samples=7, random_state=0
    )
    grid = np.column_stack([d.xx0.ravel(), d.xx1.ravel()])
    np.testing.assert_allclose(d.log_density.ravel(), ebm.score_samples(grid))
    # The grid covers the data with the margin eps on every side.
    assert d.xx0.min() == pytest.approx(moons[:, 0].min() - 0.5)
    assert d.xx1.max() == pytest.approx(moons[:, 1].max() + 0.5)
    # The arrows are the step denoise takes from their feet.
    x0, x1, u0, u1 = d.arrows
    at = np.column_stack([x0, x1])
    np.testing.assert_allclose(np.column_stack([u0, u1]), ebm.denoise(at) - at)
    np.testing.assert_allclose(d.quiver_.U, u0)
    np.testing.assert_array_equal(d.samples, ebm.sample(7, random_state=0))
    assert d.samples_.get_offsets().shape == (7, 2)
    assert d.data_.get_offsets().shape == moons.shape
    assert d.ax_.figure is d.figure_
    assert d.ax_.get_title() == "ScoreMatchingEBM"


def test_density_display_arrows_of_a_whitened_model_are_tweedie_s_step(moons):
    """Whitened, denoise's step is sigma^2 Psi(x) times the data's covariance,
    not sigma^2 Psi(x): on stretched data the two differ, and the arrows are
    the former."""
    X = moons * np.array([1.0, 3.0])
    ebm = ScoreMatchingEBM(n_components=8, n_ais_steps=100, random_state=0).fit(X)
    d = DensityDisplay.from_estimator(ebm, X, grid_resolution=5, n_arrows=4)
    at = np.column_stack(d.arrows[:2])
    step = np.column_stack(d.arrows[2:])
    np.testing.assert_allclose(step, ebm.denoise(at) - at)
    naive = ebm.sigma_**2 * ebm.score_function(at)
    assert np.linalg.norm(step - naive) > 0.1 * np.linalg.norm(step)


def test_density_display_draws_any_density_as_contours(moons):
    gmm = GaussianMixture(2, random_state=0).fit(moons)
    d = DensityDisplay.from_estimator(gmm, moons, grid_resolution=8, n_samples=5)
    grid = np.column_stack([d.xx0.ravel(), d.xx1.ravel()])
    np.testing.assert_allclose(d.log_density.ravel(), gmm.score_samples(grid))
    assert (
        d.arrows is None
        and d.samples is None
        and d.ax_.get_title() == "GaussianMixture"
    )


def test_density_display_plots_on_given_axes_and_without_extras(ebm, moons):
    _, ax = plt.subplots()
    d = DensityDisplay.from_estimator(
        ebm, moons, grid_resolution=10, n_arrows=0, ax=ax, colorbar=False
    )
    assert d.ax_ is ax
    assert d.quiver_ is None and d.samples_ is None and d.arrows is None
    # density=True contours exp(log_density): the top level is the peak.
    _, other = plt.subplots()
    top = d.plot(ax=other, density=True).surface_.levels.max()
    assert top >= np.exp(d.log_density.max()) > 0.5 * top
    # A display redraws from its arrays, without the estimator.
    _, other = plt.subplots()
    assert d.plot(ax=other).ax_ is other


def test_density_display_rejects_what_it_cannot_draw(ebm, moons):
    with pytest.raises(ValueError, match="2 features; X has 3.*two columns"):
        DensityDisplay.from_estimator(ebm, np.ones((5, 3)))
    with pytest.raises(ValueError, match="grid_resolution must be an integer >= 2"):
        DensityDisplay.from_estimator(ebm, moons, grid_resolution=1)
    with pytest.raises(ValueError, match="n_samples must be an integer >= 0"):
        DensityDisplay.from_estimator(ebm, moons, n_samples=-1)
    with pytest.raises(NotFittedError):
        DensityDisplay.from_estimator(ScoreMatchingEBM(), moons)


@pytest.fixture(scope="module")
def digits_dae():
    X = load_digits().data[:300] / 16.0
    return DenoisingAutoencoder(n_components=12, random_state=0).fit(X)


def test_filters_display_draws_the_rows_of_components(digits_dae):
    W = digits_dae.components_
    d = FiltersDisplay.from_estimator(digits_dae, order="index")
    assert d.image_shape == (8, 8)  # 64 features: a square, inferred
    assert len(d.images_) == 12 and d.axes_.shape == (3, 4)  # about square
    for image, w in zip(d.images_, W, strict=True):
        np.testing.assert_array_equal(image.get_array(), w.reshape(8, 8))
        # Each filter's colours are centred on 0.
        assert image.get_clim() == (-np.abs(w).max(), np.abs(w).max())
    # By norm: the largest filters first.
    d = FiltersDisplay.from_estimator(digits_dae, n_filters=3)
    norms = np.linalg.norm(W, axis=1)
    np.testing.assert_array_equal(d.filters, W[np.argsort(-norms)[:3]])


def test_filters_display_names_the_fix_for_a_bad_shape(digits_dae, moons):
    with pytest.raises(ValueError, match=r"does not hold the model's 64 features"):
        FiltersDisplay.from_estimator(digits_dae, image_shape=(4, 8))
    dae = DenoisingAutoencoder(4, random_state=0).fit(np.c_[moons, moons[:, :1]])
    with pytest.raises(ValueError, match="3 features, not a square.*image_shape"):
        FiltersDisplay.from_estimator(dae)
    with pytest.raises(ValueError, match="n_filters must be an integer from 1 to"):
        FiltersDisplay.from_estimator(digits_dae, n_filters=13)
    _, axes = plt.subplots(1, 2)
    with pytest.raises(ValueError, match="ax has 2 Axes for 12 filters"):
        FiltersDisplay.from_estimator(digits_dae, ax=axes)


def test_loss_curve_display_draws_both_curves(moons, adam_dae):
    lbfgs = DenoisingAutoencoder(8, random_state=0).fit(moons)
    d = LossCurveDisplay.from_estimator(lbfgs, log_scale=True)
    assert len(d.lines_) == 1
    np.testing.assert_array_equal(d.lines_[0].get_ydata(), lbfgs.loss_curve_)
    assert d.ax_.get_xlabel() == "iteration" and d.ax_.get_yscale() == "log"

    with pytest.warns(ConvergenceWarning):
        adam = adam_dae(max_iter=5, early_stopping=True, tol=0.0).fit(moons)
    d = LossCurveDisplay.from_estimator(adam)
    assert len(d.lines_) == 2 and d.ax_.get_xlabel() == "epoch"
    np.testing.assert_array_equal(d.lines_[1].get_ydata(), adam.validation_loss_curve_)
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(DenoisingAutoencoder())


def test_displays_of_a_model_fitted_on_a_dataframe_do_not_warn(moons):
    import warnings

    import pandas as pd

    frame = pd.DataFrame(moons, columns=["a", "b"])
    dae = DenoisingAutoencoder(4, random_state=0).fit(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DensityDisplay.from_estimator(dae, moons, grid_resolution=6, n_arrows=3)


def test_density_true_stays_finite_for_an_unnormalised_model_far_above_one():
    grid = np.meshgrid(np.arange(3.0), np.arange(3.0))
    log_density = 1000.0 + np.arange(9.0).reshape(3, 3)  # exp overflows
    d = DensityDisplay(xx0=grid[0], xx1=grid[1], log_density=log_density)
    levels = d.plot(density=True, colorbar=False).surface_.levels
    assert np.all(np.isfinite(levels)) and levels.max() >= 1.0


def test_loss_curve_after_partial_fit_counts_epochs(moons):
    dae = DenoisingAutoencoder(4, sigma=0.3, random_state=0)
    for _ in range(3):
        dae.partial_fit(moons)
    d = LossCurveDisplay.from_estimator(dae)
    assert d.ax_.get_xlabel() == "epoch" and len(d.lines_[0].get_xdata()) == 3
