"""ScoreMatchingOutlierDetector: scikit-learn's outlier API on the energy."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KernelDensity
from sklearn.preprocessing import StandardScaler

from sklearn_dsm import ScoreMatchingOutlierDetector


def _one_class(X, y, inlier, seed=0):
    """Train on 70% of one class; test on the rest of it and every other row."""
    train, test_in = train_test_split(X[y == inlier], test_size=0.3, random_state=seed)
    scaler = StandardScaler().fit(train)
    test = np.vstack([test_in, X[y != inlier]])
    labels = np.r_[np.ones(len(test_in)), np.zeros(np.sum(y != inlier))]
    return scaler.transform(train), scaler.transform(test), labels


def test_the_api_of_an_outlier_detector(moons):
    det = ScoreMatchingOutlierDetector(8, contamination=0.2, random_state=0)
    labels = det.fit_predict(moons)
    assert set(np.unique(labels)) == {-1, 1}
    # The threshold leaves the contamination share of training rows below it.
    assert np.mean(labels == -1) == pytest.approx(0.2, abs=1 / len(moons))
    np.testing.assert_allclose(
        det.decision_function(moons), det.score_samples(moons) - det.offset_
    )
    np.testing.assert_array_equal(
        det.predict(moons), np.where(det.decision_function(moons) >= 0, 1, -1)
    )
    # score_samples is the unnormalised log-density: minus the energy.
    np.testing.assert_allclose(det.score_samples(moons), -det.energy(moons))


def test_far_rows_are_outliers_and_the_ranking_ignores_contamination(moons):
    far = np.array([[8.0, 8.0], [-8.0, 0.0]])
    a = ScoreMatchingOutlierDetector(8, contamination=0.05, random_state=0).fit(moons)
    b = ScoreMatchingOutlierDetector(8, contamination=0.3, random_state=0).fit(moons)
    assert np.all(a.predict(far) == -1)
    np.testing.assert_array_equal(a.score_samples(far), b.score_samples(far))
    assert b.offset_ > a.offset_


def test_sigma_auto_is_silverman_s_bandwidth():
    from sklearn_dsm._scaling import silverman_sigma

    X = np.random.RandomState(0).normal(size=(100, 3)) * 5.0
    det = ScoreMatchingOutlierDetector(4, max_iter=5, tol=0.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        det.fit(X)
    spread = np.sqrt(np.mean((X - X.mean(0)) ** 2))
    assert det.sigma_ == pytest.approx(silverman_sigma(100, 3, spread))


@pytest.mark.parametrize("inlier", [0, 1, 2])
def test_one_iris_class_against_the_others_is_told_apart(inlier):
    """A sanity floor: ROC AUC 0.95 or more on every iris class held out as
    the inliers (measured 0.986 on average, KernelDensity 0.986)."""
    X, y = load_iris(return_X_y=True)
    train, test, labels = _one_class(X, y, inlier)
    det = ScoreMatchingOutlierDetector(random_state=0).fit(train)
    assert roc_auc_score(labels, det.score_samples(test)) > 0.95


@pytest.mark.slow
def test_digits_one_class_at_least_as_good_as_kernel_density():
    X, y = load_digits(return_X_y=True)
    ours, kde = [], []
    for inlier in range(3):
        train, test, labels = _one_class(X, y, inlier)
        det = ScoreMatchingOutlierDetector(random_state=0).fit(train)
        ours.append(roc_auc_score(labels, det.score_samples(test)))
        kde.append(
            roc_auc_score(labels, KernelDensity().fit(train).score_samples(test))
        )
    assert np.mean(ours) >= np.mean(kde) - 0.002, (ours, kde)


def test_bad_contamination_is_named(moons):
    with pytest.raises(ValueError, match="contamination"):
        ScoreMatchingOutlierDetector(contamination=0.7).fit(moons)
