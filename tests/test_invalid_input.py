"""Invalid input and invalid hyperparameters: every one is refused, and named.

Data that scikit-learn's validation rejects (NaN, infinity, complex, strings,
sparse, too few rows or the wrong feature count), hyperparameters of the wrong
type or out of range, and combinations that cannot work (no corruption for an
objective that needs noise, early stopping that leaves no training rows): each
raises an error that names what is wrong and what it must be.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_dsm import DenoisingAutoencoder, ScoreMatchingEBM, estimate_log_partition


@pytest.mark.parametrize(
    "params, match",
    [
        ({"sigma": 0.0}, "'sigma' parameter .* must be a float in the range \\(0"),
        ({"sigma": -1.0}, "'sigma' parameter"),
        ({"objective": "mle"}, "'objective' parameter .* must be a str among"),
        ({"n_components": 0}, "'n_components' parameter"),
        ({"n_corruptions": -1}, "'n_corruptions' parameter"),
        ({"alpha": -0.1}, "'alpha' parameter"),
        ({"max_iter": 0}, "'max_iter' parameter"),
        ({"tol": -1.0}, "'tol' parameter"),
    ],
)
def test_invalid_hyperparameters_are_named(moons, Estimator, params, match):
    with pytest.raises(ValueError, match=match):
        Estimator(**params).fit(moons)


@pytest.mark.parametrize(
    "Estimator, params, match",
    [
        (ScoreMatchingEBM, {"n_ais_chains": 1}, "'n_ais_chains' parameter"),
        (ScoreMatchingEBM, {"n_ais_steps": 0}, "'n_ais_steps' parameter"),
        (ScoreMatchingEBM, {"mle_steps": -1}, "'mle_steps' parameter"),
        (ScoreMatchingEBM, {"mle_learning_rate": 0.0}, "'mle_learning_rate'"),
        (DenoisingAutoencoder, {"sigma": "0.5"}, "'sigma' parameter .* float"),
        (DenoisingAutoencoder, {"n_components": 2.5}, "'n_components' parameter"),
        (DenoisingAutoencoder, {"max_iter": None}, "'max_iter' parameter"),
        (DenoisingAutoencoder, {"warm_start": "yes"}, "'warm_start' parameter"),
        (DenoisingAutoencoder, {"random_state": "seed"}, "'random_state' parameter"),
        (DenoisingAutoencoder, {"verbose": -1}, "'verbose' parameter"),
        (DenoisingAutoencoder, {"objective": "dsm ", "sigma": 1}, "'objective'"),
    ],
)
def test_every_kind_of_invalid_hyperparameter_is_named(moons, Estimator, params, match):
    """Wrong types and out-of-range values, beyond the ranges of
    test_invalid_hyperparameters_are_named: each is an InvalidParameterError
    (a ValueError and a TypeError) naming the parameter and what it must be."""
    with pytest.raises((ValueError, TypeError), match=match):
        Estimator(**params).fit(moons)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"solver": "sgd"}, "'solver' parameter"),
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"learning_rate_init": 0.0}, "'learning_rate_init' parameter"),
        ({"validation_fraction": 1.0}, "'validation_fraction' parameter"),
        ({"n_iter_no_change": 0}, "'n_iter_no_change' parameter"),
        ({"n_iter_no_change": "always"}, "'n_iter_no_change' parameter"),
    ],
)
def test_invalid_minibatch_hyperparameters_are_named(
    make_moons_std, adam_dae, params, match
):
    moons = make_moons_std(300, 0.08)
    with pytest.raises(ValueError, match=match):
        adam_dae(**params).fit(moons)
    with pytest.raises(ValueError, match=match):
        adam_dae(**params).partial_fit(moons)


@pytest.mark.parametrize("objective", ["dae", "dsm", "esm"])
def test_no_corruption_is_only_for_ism(moons, small, objective):
    est = small(DenoisingAutoencoder, objective=objective, n_corruptions=0)
    with pytest.raises(ValueError, match="n_corruptions=0.*objective='ism'"):
        est.fit(moons)


def test_early_stopping_that_leaves_no_training_rows_is_refused(
    make_moons_std, adam_dae
):
    moons = make_moons_std(300, 0.08)
    with pytest.raises(ValueError, match="validation_fraction=0.9 leaves no"):
        adam_dae(early_stopping=True, validation_fraction=0.9).fit(moons[:2])


def test_bad_input_gives_clear_errors(moons, small, Estimator):
    est = small(Estimator, max_iter=5, fast_ais=False)
    bad = moons.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        est.fit(bad)
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        est.fit(bad)
    with pytest.raises(ValueError, match="1 sample.*minimum of 2 is required"):
        est.fit(moons[:1])
    with pytest.raises(ValueError, match="Complex data not supported"):
        est.fit(moons.astype(complex))
    with pytest.raises(ValueError, match="could not convert string to float"):
        est.fit(np.array([["a", "b"], ["c", "d"]], dtype=object))
    with pytest.raises(ValueError, match="0 sample"):
        est.fit(np.empty((0, 2)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(moons)
    for method in ("transform", "denoise", "energy", "score_function", "score"):
        with pytest.raises(ValueError, match="X has 3 features.*expecting 2"):
            getattr(est, method)(np.zeros((4, 3)))
        with pytest.raises(ValueError, match="Input X contains NaN"):
            getattr(est, method)(bad * np.nan)
    with pytest.raises(ValueError, match="inverse_transform expects n_components=8"):
        est.inverse_transform(np.zeros((4, 3)))


def test_more_bad_inputs_are_named(moons, small, Estimator):
    """What test_bad_input_gives_clear_errors does not already cover."""
    import scipy.sparse as sp

    est = small(Estimator, max_iter=3)
    # Sparse input is rejected: the corrupted rows X + sigma * eps are dense
    # whatever X is, so a sparse path would densify anyway.
    for sparse in (sp.csr_matrix(moons), sp.csr_array(moons)):
        with pytest.raises(TypeError, match="dense data is required.*toarray"):
            est.fit(sparse)
    with pytest.raises(ValueError, match="(?s)Expected 2D array.*reshape"):
        est.fit(moons[:, 0])
    with pytest.raises(ValueError, match="could not convert string to float"):
        est.fit(np.array([["1", "2"], ["3", "x"]]))
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        est.set_params(max_iter=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(moons).sample(0)
    with pytest.raises(TypeError, match="dense data is required"):
        est.transform(sp.csr_matrix(moons))
    with pytest.raises(ValueError, match="Input contains NaN"):
        est.inverse_transform(np.full((2, 8), np.nan))
    # Plain lists and integer arrays are accepted, as anywhere in scikit-learn.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(moons.tolist())
        est.fit(np.rint(10 * moons).astype(np.int64))
    assert est.components_.dtype == np.float64


def test_partial_fit_checks_the_feature_count(make_moons_std, adam_dae):
    moons = make_moons_std(300, 0.08)
    est = adam_dae().partial_fit(moons)
    with pytest.raises(ValueError, match="X has 3 features.*expecting 2"):
        est.partial_fit(np.zeros((5, 3)))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_ais_chains=1), "n_ais_chains must be an integer >= 2; got 1"),
        (dict(n_ais_chains=2.5), "n_ais_chains must be an integer >= 2"),
        (dict(n_ais_steps=0), "n_ais_steps must be an integer >= 1; got 0"),
        (dict(n_ais_steps="100"), "n_ais_steps must be an integer >= 1"),
    ],
)
def test_estimate_log_partition_names_a_bad_budget(moons, small, kwargs, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dae = small(DenoisingAutoencoder, max_iter=3).fit(moons)
    with pytest.raises(ValueError, match=match):
        estimate_log_partition(dae, **kwargs)


def test_estimate_log_partition_needs_a_fitted_model():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        estimate_log_partition(DenoisingAutoencoder())
