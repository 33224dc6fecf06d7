"""The far-mass diagnostic: mass that score matching cannot see."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import pairwise_distances_argmin_min
from sklearn.preprocessing import StandardScaler

from sklearn_dsm import ScoreMatchingEBM
from sklearn_dsm._diagnostics import far_mass, noise_radius, reference_radius


def test_noise_radius_holds_the_stated_share_of_the_noise():
    rng = np.random.RandomState(0)
    for d in (1, 2, 10, 64):
        eps = 0.3 * rng.normal(size=(200_000, d))
        outside = np.mean(np.linalg.norm(eps, axis=1) > noise_radius(0.3, d))
        assert abs(outside - 0.001) < 0.0005, d


def test_far_mass_counts_weighted_points_beyond_the_radius():
    # Two tight clusters of training rows: new data would land within 0.01.
    rng = np.random.RandomState(0)
    X = np.vstack(
        [0.001 * rng.normal(size=(20, 2)), [10, 0] + 0.001 * rng.normal(size=(20, 2))]
    )
    near = np.array([[0.1, 0.0], [10.0, 0.2]])
    far = np.array([[5.0, 0.0], [0.0, -5.0]])
    points = np.vstack([near, far])
    assert far_mass(points, None, X, sigma=0.2) == 0.5
    log_w = np.log([1.0, 1.0, 2.0, 4.0])
    np.testing.assert_allclose(far_mass(points, log_w, X, sigma=0.2), 6 / 8)
    assert far_mass(near, None, X, sigma=0.2) == 0.0


def test_reference_radius_is_the_leave_one_out_quantile():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 5))
    D = np.linalg.norm(X[:, None] - X[None], axis=2)
    np.fill_diagonal(D, np.inf)
    expected = np.quantile(D.min(axis=1), 0.99)
    assert reference_radius(X) == pytest.approx(expected)
    assert reference_radius(X, quantile=0.5) < expected


@pytest.mark.parametrize("d", [2, 10, 64])
def test_new_data_from_the_same_law_is_not_far(d):
    """Held-out rows of the training law, as draws of a perfect model, score
    about 1% at any dimension; by the noise radius alone they would be
    nearly all far in 64-D (the diagnostic would condemn the truth)."""
    rng = np.random.RandomState(0)
    X_train, X_new = rng.normal(size=(1000, d)), rng.normal(size=(2000, d))
    assert far_mass(X_new, None, X_train, sigma=0.5) < 0.03
    _, nearest = pairwise_distances_argmin_min(X_new, X_train)
    by_noise_alone = np.mean(nearest > noise_radius(0.5, d))
    assert by_noise_alone > 0.9 if d == 64 else by_noise_alone < 0.03


def _fit(X, **params):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = ScoreMatchingEBM(
            **{"max_iter": 500, "n_corruptions": 10, "whiten": False, **params}
        ).fit(X)
    return est, [w for w in caught if not issubclass(w.category, ConvergenceWarning)]


@pytest.mark.slow
def test_diagnostic_flags_an_unpenalised_overparameterised_fit(make_moons_std):
    moons = make_moons_std(300, 0.1)
    # 128 free hidden units at a small sigma: modes grow where no row is.
    bad, caught = _fit(moons, n_components=128, sigma=0.05, alpha=0.0, random_state=0)
    assert bad.far_mass_ > 0.05  # the warning's threshold
    messages = [str(w.message) for w in caught]
    assert any(
        "mass lies farther" in m and "alpha" in m and "n_components" in m
        for m in messages
    ), messages


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_diagnostic_does_not_flag_a_good_fit(make_moons_std, seed):
    moons = make_moons_std(300, 0.1)
    good, caught = _fit(
        moons, n_components=16, sigma=0.3, alpha=0.01, random_state=seed
    )
    assert good.far_mass_ < 0.01
    assert not caught


def test_verbose_reports_log_z_and_far_mass(make_moons_std, capsys):
    moons = make_moons_std(300, 0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ScoreMatchingEBM(
            n_components=4, sigma=0.3, max_iter=3, verbose=1, random_state=0
        ).fit(moons)
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert "log Z = " in last and "mass far from the data" in last


def _split_standardised(X):
    """70/30 split (random_state=0), standardised on the training part."""
    from sklearn.model_selection import train_test_split

    X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test)


def _ring(n, seed):
    rng = np.random.RandomState(seed)
    angle = rng.uniform(0, 2 * np.pi, n)
    radius = 1 + 0.1 * rng.normal(size=n)
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])


def _digits_pca10(n, seed):
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA

    X = load_digits().data[:n]
    return PCA(10, random_state=seed).fit_transform(StandardScaler().fit_transform(X))


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, sigmas",
    [
        ("blobs", [0.3, 0.7]),
        ("moons", [0.3, 0.7]),
        ("ring", [0.3, 0.7]),
        ("digits-pca10", [0.7, 1.0]),
    ],
)
def test_defaults_with_a_sigma_search_beat_a_single_gaussian(name, sigmas):
    """GridSearchCV over sigma alone, everything else at its default.

    The defaults (alpha=0.1, n_components=64) were chosen so that this holds
    (see the alpha docstring). Small data, fixed seeds; the margin is 0.1 nats
    per row on held-out data.
    """
    from sklearn.datasets import make_blobs
    from sklearn.mixture import GaussianMixture
    from sklearn.model_selection import GridSearchCV

    X = {
        "blobs": lambda: make_blobs(
            450, centers=3, cluster_std=[0.5, 1.0, 0.3], random_state=0
        )[0],
        "moons": lambda: make_moons(450, noise=0.1, random_state=0)[0],
        "ring": lambda: _ring(450, 0),
        "digits-pca10": lambda: _digits_pca10(900, 0),
    }[name]()
    X_train, X_test = _split_standardised(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search = GridSearchCV(
            ScoreMatchingEBM(random_state=0), {"sigma": sigmas}, cv=3
        ).fit(X_train)
    gaussian = GaussianMixture(1).fit(X_train).score(X_test)
    assert search.score(X_test) > gaussian + 0.1, (search.score(X_test), gaussian)
    assert search.best_estimator_.far_mass_ < 0.05


@pytest.mark.slow
def test_model_selection_recipe_on_a_2d_mixture():
    """The README's recipe (held-out likelihood over sigma, alpha, n_components).

    Its grid holds the defaults, so on a 2-D mixture it must pick a model at
    least as good as the default fit in cross-validation, and on held-out
    rows up to 0.05 nats of selection noise, with little far mass.
    """
    from sklearn.datasets import make_blobs
    from sklearn.model_selection import GridSearchCV, cross_val_score

    X, _ = make_blobs(300, centers=3, cluster_std=[0.5, 1.0, 0.3], random_state=1)
    X_train, X_test = _split_standardised(X)
    default = ScoreMatchingEBM(random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        default_cv = cross_val_score(default, X_train, cv=3).mean()
        default.fit(X_train)
        recipe = GridSearchCV(
            ScoreMatchingEBM(random_state=0),
            {"sigma": ["auto", 0.2], "alpha": [0.1, 0.3], "n_components": [16, 64]},
            cv=3,
        ).fit(X_train)
    assert recipe.best_score_ >= default_cv
    assert recipe.score(X_test) > default.score(X_test) - 0.05
    assert recipe.best_estimator_.far_mass_ < 0.05
