"""Held-out log-likelihood before and after maximum-likelihood refinement.

Two moons (1000 rows) and digits reduced by StandardScaler -> PCA(10) ->
StandardScaler, each on a 70/30 split (random_state=0), for a few
score-matching settings, with ``mle_steps=0`` and ``mle_steps=300``. Prints the
held-out mean log-likelihood (nats per row), far_mass_, the AIS standard error
and the fit time. Run: ``python benchmarks/study_mle_refinement.py`` (about a minute).
"""

import time
import warnings

from sklearn.datasets import load_digits, make_moons
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_dsm import ScoreMatchingEBM


def split(X, preprocess):
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
    preprocess.fit(X_train)
    return preprocess.transform(X_train), preprocess.transform(X_test)


def main():
    warnings.simplefilter("ignore")
    data = {
        "moons": split(
            make_moons(1000, noise=0.1, random_state=0)[0], StandardScaler()
        ),
        "digits-pca10": split(
            load_digits().data,
            make_pipeline(StandardScaler(), PCA(10), StandardScaler()),
        ),
    }
    for name, (X_train, X_test) in data.items():
        gaussian = GaussianMixture(1).fit(X_train).score(X_test)
        print(f"{name}: single Gaussian {gaussian:.3f}")
    settings = [
        ("moons", 64, 0.0, 0.3),
        ("moons", 16, 0.01, 0.2),
        ("digits-pca10", 16, 0.01, 0.6),
        ("digits-pca10", 64, 0.0, 0.7),
    ]
    print(
        f"{'data':<14}{'H':>4}{'alpha':>7}{'sigma':>7}{'mle':>5}"
        f"{'held-out':>10}{'far':>7}{'se':>7}{'s':>6}"
    )
    for name, H, alpha, sigma in settings:
        X_train, X_test = data[name]
        for mle_steps in (0, 300):
            start = time.perf_counter()
            ebm = ScoreMatchingEBM(
                n_components=H,
                alpha=alpha,
                sigma=sigma,
                max_iter=500,
                mle_steps=mle_steps,
                random_state=0,
            ).fit(X_train)
            seconds = time.perf_counter() - start
            print(
                f"{name:<14}{H:>4}{alpha:>7}{sigma:>7}{mle_steps:>5}"
                f"{ebm.score(X_test):>10.3f}{ebm.far_mass_:>7.3f}"
                f"{ebm.log_partition_std_:>7.3f}{seconds:>6.1f}"
            )


if __name__ == "__main__":
    main()
