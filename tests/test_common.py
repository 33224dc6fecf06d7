"""scikit-learn's estimator checks, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_dsm import (
    DenoisingAutoencoder,
    ScoreMatchingEBM,
    ScoreMatchingOutlierDetector,
)

# Small models keep the whole suite quick; every check still runs in full.
# Hyvarinen's criterion on the clean rows (objective="ism", n_corruptions=0)
# is the deterministic member of the four: scikit-learn's sample-weight check
# demands that integer weights fit exactly what repeated rows fit, which holds
# to rounding only without noise (repeated rows draw noise of their own). The
# noisy criteria's weights are tested to Monte Carlo error in
# test_sample_weight.py, and their fits everywhere else.
_DETERMINISTIC = dict(n_components=5, objective="ism", n_corruptions=0, max_iter=50)


@parametrize_with_checks(
    [
        DenoisingAutoencoder(**_DETERMINISTIC),
        ScoreMatchingEBM(**_DETERMINISTIC, n_ais_chains=16, n_ais_steps=50),
        ScoreMatchingOutlierDetector(**_DETERMINISTIC),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
