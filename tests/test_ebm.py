"""What only ScoreMatchingEBM does: a normalised density, log Z by AIS at the
end of fit (or deferred after partial_fit), and model selection by held-out
log-likelihood."""

import pickle
import warnings

import numpy as np
import pytest
from _oracles import quadrature_grid
from scipy import stats
from scipy.special import logsumexp
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

from sklearn_dsm import ScoreMatchingEBM


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
    # |log mass| = |log Z_AIS - log Z|: AIS's standard error, plus its bias
    # with few chains (log of a mean of weights underestimates, ~0.01 nats).
    assert abs(log_mass) <= 3 * ebm.log_partition_std_ + 0.01
    assert abs(log_mass) <= 0.05


def test_unreliable_log_partition_warns_and_names_the_knobs():
    # Two chains and one temperature cannot estimate log Z of a tilted model.
    X, _ = make_blobs(100, n_features=3, centers=2, random_state=0)
    ebm = ScoreMatchingEBM(
        n_components=6,
        sigma=0.3,
        objective="dsm",
        max_iter=30,
        n_ais_chains=2,
        n_ais_steps=1,
        random_state=0,
    )
    with pytest.warns(UserWarning, match="n_ais_steps.*n_ais_chains.*alpha"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            ebm.fit(X)
    assert ebm.log_partition_std_ > 0.1


@pytest.mark.slow
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


def test_ebm_partial_fit_defers_log_z_until_needed(make_moons_std):
    moons = make_moons_std(300, 0.08)

    def stream(score_midway):
        ebm = ScoreMatchingEBM(
            8,
            sigma=0.5,
            n_ais_chains=64,
            n_ais_steps=300,
            learning_rate_init=0.01,
            random_state=0,
            tail=None,
        )
        for k in range(20):
            ebm.partial_fit(moons)
            if score_midway and k == 10:
                ebm.score(moons)
        return ebm

    ebm = stream(score_midway=False)
    assert "log_partition_" not in vars(ebm)  # no AIS per call
    before = dict(vars(ebm))
    log_p = ebm.score_samples(moons)  # estimated now, not stored
    assert vars(ebm).keys() == before.keys()  # score_samples changes nothing
    assert ebm.update_log_partition() is ebm  # stored now
    assert np.isfinite(ebm.log_partition_) and ebm.log_partition_std_ < 0.1
    np.testing.assert_allclose(log_p, -ebm.energy(moons) - ebm.log_partition_)
    np.testing.assert_array_equal(ebm.score_samples(moons), log_p)  # the same Z
    z = ebm.log_partition_
    # Scoring mid-stream draws nothing from the training stream: the same
    # parameters, and (seeded by them) the same log Z.
    scored = stream(score_midway=True)
    np.testing.assert_array_equal(scored.components_, ebm.components_)
    assert scored.update_log_partition().log_partition_ == z

    ebm.partial_fit(moons)
    assert "log_partition_" not in vars(ebm)
    # Reading an attribute never runs AIS: a public method does.
    assert not hasattr(ebm, "far_mass_")
    assert ebm.update_log_partition() is ebm
    assert np.isfinite(ebm.far_mass_) and ebm.log_partition_ != z
    # The stream and the Adam state survive pickling mid-stream.
    ebm.partial_fit(moons)
    clone = pickle.loads(pickle.dumps(ebm))
    ebm.partial_fit(moons)
    clone.partial_fit(moons)
    np.testing.assert_array_equal(clone.components_, ebm.components_)
