"""The density's tails: each lever of the tail study, with numbers.

On breast_cancer (all 30 features; 70/30 splits 0, 1, 2; StandardScaler on
the training rows) the score-matching model alone loses 3 to 8 nats per
held-out row to a 2-component mixture, because a few held-out rows in the
data's tails score -150 to -900: its tails are a Gaussian of scale sigma
(doc/math.rst, "The tail component"). This prints, per split, the held-out
mean, median and worst row, and the worst row's loss to its log-density
under the single Gaussian, for:

- the peers: one Gaussian, GaussianMixture with n_components by 3-fold CV;
- the model alone (``tail=None``), and the ReLU alone, whose quadratic units
  widen the tails where they are active (tail gain up to 0.81);
- a defensive mixture with the data's Gaussian, ``(1 - eps) p + eps N(m,
  Sigma)``, its weight fitted by the default's rule;
- the default, the Student-t tail (scale and degrees of freedom fitted);
- the tail with a smaller sigma (0.6), and sigma chosen by 3-fold held-out
  likelihood with and without the tail (what GridSearchCV picks, and how
  far its fold scores swing).

Then wine and iris (the same protocol), where the tails are not the issue.

Run: ``python benchmarks/study_density_tails.py`` (about 4 minutes on 2
cores).
"""

import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.preprocessing import StandardScaler

from sklearn_dsm import ScoreMatchingEBM
from sklearn_dsm._tail import fit_tail_weight, mixture_log_density

SIGMAS = ["auto", 0.8, 0.6, 0.45]


def splits(loader):
    X = loader().data
    for seed in (0, 1, 2):
        X_train, X_test = train_test_split(X, test_size=0.3, random_state=seed)
        scaler = StandardScaler().fit(X_train)
        yield seed, scaler.transform(X_train), scaler.transform(X_test)


def quiet(make, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make().fit(X)


def with_gaussian_tail(model, gaussian, X_train, X_test):
    """The defensive mixture with the data's Gaussian, weighted by the
    default's rule (one pseudo-row, at most 1/2), on the model alone."""
    weight = fit_tail_weight(
        model.score_samples(X_train), gaussian.score_samples(X_train)
    )
    log_p = mixture_log_density(
        model.score_samples(X_test), gaussian.score_samples(X_test), weight
    )
    return log_p, f"eps {weight:.3f}"


def study(name, loader):
    print(f"\n{name}: held-out nats per row: mean, median, worst, worst - Gaussian")
    for seed, X_train, X_test in splits(loader):
        n, d = X_train.shape
        print(f"  split {seed} ({n} training rows, d={d})")
        gaussian = GaussianMixture(1).fit(X_train)
        reference = gaussian.score_samples(X_test)
        rows = {}
        start = time.perf_counter()
        mixture = quiet(
            lambda: GridSearchCV(
                GaussianMixture(random_state=0),
                {"n_components": [1, 2, 4, 8, 16]},
                cv=3,
            ),
            X_train,
        )
        k = mixture.best_params_["n_components"]
        rows[f"GaussianMixture, CV (k={k})"] = (mixture.score_samples(X_test), "")
        rows["one Gaussian"] = (reference, "")
        alone = quiet(lambda: ScoreMatchingEBM(random_state=0, tail=None), X_train)
        rows["model alone (tail=None)"] = (
            alone.score_samples(X_test),
            f"sigma_ {alone.sigma_:.2f}",
        )
        relu = quiet(
            lambda: ScoreMatchingEBM(
                activation="relu", objective="dsm", random_state=0, tail=None
            ),
            X_train,
        )
        rows["ReLU alone ('dsm')"] = (relu.score_samples(X_test), "")
        rows["+ the data's Gaussian"] = with_gaussian_tail(
            alone, gaussian, X_train, X_test
        )
        default = quiet(lambda: ScoreMatchingEBM(random_state=0), X_train)
        rows["+ Student-t tail (default)"] = (
            default.score_samples(X_test),
            f"eps {default.tail_weight_:.3f}, dof {default.tail_dof_:.1f}",
        )
        small = quiet(lambda: ScoreMatchingEBM(sigma=0.6, random_state=0), X_train)
        rows["+ tail, sigma=0.6"] = (
            small.score_samples(X_test),
            f"eps {small.tail_weight_:.3f}",
        )
        for tail in ("student_t", None):
            search = quiet(
                lambda t=tail: GridSearchCV(
                    ScoreMatchingEBM(random_state=0, tail=t),
                    {"sigma": SIGMAS},
                    cv=3,
                ),
                X_train,
            )
            fold_scores = np.array(
                [search.cv_results_[f"split{i}_test_score"] for i in range(3)]
            )
            swing = np.max(fold_scores.max(axis=1) - fold_scores.min(axis=1))
            label = "tail" if tail else "alone"
            rows[f"sigma by CV, {label}"] = (
                search.score_samples(X_test),
                f"picks {search.best_params_['sigma']}, folds swing {swing:.0f}",
            )
        for label, (log_p, note) in rows.items():
            print(
                f"    {label:<30} {log_p.mean():8.2f} {np.median(log_p):7.2f} "
                f"{log_p.min():8.1f} {np.min(log_p - reference):8.1f}   {note}"
            )
        print(f"    ({time.perf_counter() - start:.0f} s)")


def main():
    study("breast_cancer (30 features)", load_breast_cancer)
    study("wine", load_wine)
    study("iris", load_iris)


if __name__ == "__main__":
    main()
