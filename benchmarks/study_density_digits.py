"""Held-out log-likelihood on digits: ScoreMatchingEBM next to KDE and GMM.

Digits scaled to [0, 1], a 70/30 split (random_state=0). Each model's
hyperparameters are chosen by 3-fold GridSearchCV on the training part (by
held-out log-likelihood, each estimator's own ``score``); the table gives the
mean log-likelihood of the test rows in nats per row. For the chosen EBM it
also prints the AIS estimate of log Z at two budgets and the time AIS adds to
``fit``. Run: ``python benchmarks/study_density_digits.py`` (a few minutes on 2 cores).
"""

import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import KernelDensity
from threadpoolctl import threadpool_info

from sklearn_dsm import ScoreMatchingEBM, estimate_log_partition


def main():
    warnings.simplefilter("ignore", ConvergenceWarning)
    # Grid points whose log Z is unreliable warn (alpha = 0.1 at small sigma);
    # they lose the search anyway, and the chosen model's error is printed.
    warnings.simplefilter("ignore", UserWarning)
    X = load_digits().data / 16.0
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
    print(f"digits / 16: {X_train.shape[0]} train, {X_test.shape[0]} test rows")
    print("BLAS:", [(i["internal_api"], i["num_threads"]) for i in threadpool_info()])

    searches = {
        "KernelDensity": GridSearchCV(
            KernelDensity(), {"bandwidth": np.geomspace(0.05, 1.0, 12)}, cv=3
        ),
        "GaussianMixture": GridSearchCV(
            GaussianMixture(covariance_type="full", reg_covar=1e-3, random_state=0),
            {"n_components": [1, 2, 4, 8, 16]},
            cv=3,
        ),
        "ScoreMatchingEBM": GridSearchCV(
            ScoreMatchingEBM(n_components=100, random_state=0),
            {"sigma": [0.1, 0.2, 0.3], "alpha": [0.1, 1.0]},
            cv=3,
        ),
    }
    for name, search in searches.items():
        start = time.perf_counter()
        search.fit(X_train)
        seconds = time.perf_counter() - start
        # KernelDensity.score is a sum over rows, the others a mean: use the mean.
        mean_log_likelihood = search.best_estimator_.score_samples(X_test).mean()
        print(
            f"{name:<18} test log-likelihood {mean_log_likelihood:8.2f} nats/row"
            f"   best {search.best_params_}   ({seconds:.0f} s search)"
        )

    ebm = searches["ScoreMatchingEBM"].best_estimator_
    print(
        f"\nchosen EBM: log Z = {ebm.log_partition_:.3f} +/- "
        f"{ebm.log_partition_std_:.3f} (default budget, fitted)"
    )
    for n_chains, n_steps in ((256, 2000), (1024, 8000)):
        start = time.perf_counter()
        log_z, stderr = estimate_log_partition(
            ebm, n_ais_chains=n_chains, n_ais_steps=n_steps, random_state=1
        )
        seconds = time.perf_counter() - start
        print(
            f"  AIS {n_chains:>4} chains x {n_steps:>4} steps: "
            f"log Z = {log_z:.3f} +/- {stderr:.3f}   ({seconds:.2f} s)"
        )
    timings = {}
    for label, steps in (("fit without AIS", 1), ("fit with default AIS", 2000)):
        runs = []
        for _ in range(3):
            est = ScoreMatchingEBM(
                **{**ebm.get_params(), "n_ais_steps": steps, "n_ais_chains": 256}
            )
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                est.fit(X_train)
            runs.append(time.perf_counter() - start)
        timings[label] = float(np.median(runs))
        print(f"  {label}: {timings[label]:.2f} s (median of 3)")


if __name__ == "__main__":
    main()
