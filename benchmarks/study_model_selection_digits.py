"""The issue's digits setting: defaults, model selection, the remedy, anchors.

digits -> StandardScaler -> PCA(10) -> StandardScaler (fitted on the training
part of a 70/30 split, random_state=0). Prints held-out mean log-likelihood in
nats per row of:

- the anchors: a single Gaussian, GaussianMixture (best of 4..16 components by
  3-fold CV) and KernelDensity (bandwidth by 3-fold CV);
- ScoreMatchingEBM defaults + a sigma search (GridSearchCV, 3-fold);
- the model-selection recipe: held-out likelihood over sigma, alpha and
  n_components (GridSearchCV, 3-fold);
- the remedy: the recipe's choice refitted with mle_steps=300.

Run: ``python benchmarks/study_model_selection_digits.py`` (several minutes).
"""

import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import KernelDensity
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_dsm import ScoreMatchingEBM

SIGMAS = [0.5, 0.6, 0.7, 1.0]


def main():
    warnings.simplefilter("ignore")
    X = load_digits().data
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
    pre = make_pipeline(StandardScaler(), PCA(10), StandardScaler()).fit(X_train)
    X_train, X_test = pre.transform(X_train), pre.transform(X_test)

    def report(name, estimator, seconds):
        ll = estimator.score_samples(X_test).mean()
        print(f"{name:<44}{ll:9.2f}   ({seconds:5.0f} s)", flush=True)
        return ll

    runs = {
        "single Gaussian": GaussianMixture(1),
        "GaussianMixture, n_components by CV": GridSearchCV(
            GaussianMixture(random_state=0), {"n_components": [4, 8, 12, 16]}, cv=3
        ),
        "KernelDensity, bandwidth by CV": GridSearchCV(
            KernelDensity(), {"bandwidth": np.geomspace(0.1, 2.0, 20)}, cv=3
        ),
        "ScoreMatchingEBM defaults + sigma search": GridSearchCV(
            ScoreMatchingEBM(random_state=0), {"sigma": SIGMAS}, cv=3
        ),
        "recipe: sigma x alpha x n_components": GridSearchCV(
            ScoreMatchingEBM(random_state=0),
            {
                "sigma": SIGMAS,
                "alpha": [0.03, 0.1, 0.3],
                "n_components": [16, 32, 64],
            },
            cv=3,
        ),
    }
    fitted = {}
    for name, estimator in runs.items():
        start = time.perf_counter()
        estimator.fit(X_train)
        best = getattr(estimator, "best_estimator_", estimator)
        report(name, best, time.perf_counter() - start)
        if hasattr(estimator, "best_params_"):
            print(f"{'':<6}chosen {estimator.best_params_}")
        fitted[name] = best
    for name in (
        "ScoreMatchingEBM defaults + sigma search",
        "recipe: sigma x alpha x n_components",
    ):
        start = time.perf_counter()
        refined = clone(fitted[name]).set_params(mle_steps=300).fit(X_train)
        report("  + mle_steps=300 (remedy)", refined, time.perf_counter() - start)
        print(
            f"{'':<6}far mass {fitted[name].far_mass_:.3f} -> {refined.far_mass_:.3f}"
        )


if __name__ == "__main__":
    main()
