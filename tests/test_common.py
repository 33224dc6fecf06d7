"""scikit-learn's estimator checks, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_dsm import (
    DenoisingAutoencoder,
    ScoreMatchingEBM,
    ScoreMatchingOutlierDetector,
)


# Small models keep the whole suite quick; every check still runs in full.
@parametrize_with_checks(
    [
        DenoisingAutoencoder(n_components=5, n_corruptions=2, max_iter=50),
        ScoreMatchingEBM(
            n_components=5,
            n_corruptions=2,
            max_iter=50,
            n_ais_chains=16,
            n_ais_steps=50,
        ),
        ScoreMatchingOutlierDetector(n_components=5, n_corruptions=2, max_iter=50),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
