"""The four jobs, side by side with scikit-learn's own tools.

1. Features: accuracy of a logistic regression on the standardised
   features, repeated stratified cross-validation (5 x 5; 1 x 5 on the
   augmented set), on digits and on digits nudged by one pixel in four
   directions (the augmentation of scikit-learn's RBM example), pixels in
   [0, 1] (float32); the best row against every other, fold by fold.
2. Density: held-out log-likelihood, nats per row (mean, median, worst row
   and the worst row's loss to the single Gaussian), over three splits:
   digits -> StandardScaler -> PCA(10) -> StandardScaler (70/30),
   breast_cancer -> StandardScaler -> PCA(5, whiten) (70/30), dequantised
   raw digits ((pixels + U[0, 1)) / 17, 80/20), and breast_cancer (all 30
   features), wine and iris after StandardScaler (70/30).
3. Denoising: mean squared error per digit (and PSNR) of held-out digits in
   [0, 1] with Gaussian noise of several sigma, against PCA projection (the
   best number of components for each noise) and the Parzen posterior mean
   of the training set.
4. Novelty: ROC AUC with one class as the inliers (70% of it to train) and
   every other class as outliers, averaged over the classes, on iris, wine,
   breast_cancer and digits (StandardScaler fitted on the training inliers).

Every estimator runs with its defaults unless the row says otherwise; the
other rows are the settings doc/quality.rst discusses. Figures are means
(and standard deviations) over folds and splits.

Run: ``python benchmarks/bench_quality.py`` (about 20 minutes on 2 cores,
most of it the features table's 256-unit autoencoders; ``--jobs`` picks
tables); ``--quick`` runs a small slice of every table (CI runs it).
"""

import argparse
import time
import warnings

import numpy as np
from scipy.ndimage import shift
from scipy.special import softmax
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import (
    GridSearchCV,
    RepeatedStratifiedKFold,
    train_test_split,
)
from sklearn.neighbors import KernelDensity, LocalOutlierFactor
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import OneClassSVM

from sklearn_dsm import (
    DenoisingAutoencoder,
    ScoreMatchingEBM,
    ScoreMatchingOutlierDetector,
)


def nudged_digits():
    """Digits and their copies shifted by one pixel up, down, left, right."""
    digits = load_digits()
    images, y = (digits.images / 16.0).astype(np.float32), digits.target
    copies = [images] + [
        np.stack([shift(im, s, order=0) for im in images])
        for s in ((1, 0), (-1, 0), (0, 1), (0, -1))
    ]
    return np.concatenate(copies).reshape(-1, 64), np.tile(y, 5)


# ------------------------------------------------------------ 1. features
def cross_validate_features(rows, unions, classifier, X, y, cv):
    """Accuracy of ``classifier`` on each row's features, fold by fold.

    Each representation is fitted once per fold; a union row stacks the
    features of the rows it names, as ``FeatureUnion`` would, without
    fitting them again (the 256-unit autoencoder is most of the time).
    Returns ``{label: (scores, seconds)}``.
    """
    scores = {label: [] for label in [*rows, *unions]}
    seconds = dict.fromkeys(scores, 0.0)
    # A union row's time: its classifier's, plus its parts' feature fits.
    fitting = dict.fromkeys(rows, 0.0)
    for train, test in cv.split(X, y):
        features = {}
        for label, step in rows.items():
            start = time.perf_counter()
            step = clone(step).fit(X[train])
            features[label] = step.transform(X[train]), step.transform(X[test])
            fitting[label] += time.perf_counter() - start
        stacked = {
            label: tuple(
                np.hstack([features[part][i] for part in parts]) for i in (0, 1)
            )
            for label, parts in unions.items()
        }
        for label, (F_train, F_test) in {**features, **stacked}.items():
            start = time.perf_counter()
            model = clone(classifier).fit(F_train, y[train])
            scores[label].append(model.score(F_test, y[test]))
            seconds[label] += time.perf_counter() - start
    for label in rows:
        seconds[label] += fitting[label]
    for label, parts in unions.items():
        seconds[label] += sum(fitting[part] for part in parts)
    return {label: (np.array(scores[label]), seconds[label]) for label in scores}


def features_table(quick):
    print("\n## 1. Features + LogisticRegression: accuracy, mean +/- std over folds")
    # Every representation gets the same classifier, features standardised
    # first: sigmoid codes (the RBM's and the autoencoder's) have small
    # spreads, and an unscaled C=10 penalty flattens them (doc/quality.rst).
    classifier = make_pipeline(
        StandardScaler(), LogisticRegression(C=10.0, max_iter=3000)
    )

    def rbm(n_components):
        return BernoulliRBM(
            n_components=n_components, learning_rate=0.06, n_iter=10, random_state=0
        )

    dae = "DenoisingAutoencoder(256, 0.2, tol=1e-3)"
    sigmoid = "the same, activation='sigmoid'"
    rows = {
        "raw pixels": FunctionTransformer(),
        "PCA(40)": PCA(40, random_state=0),
        "BernoulliRBM(100), RBM example": rbm(100),
        "BernoulliRBM(256)": rbm(256),
        "DenoisingAutoencoder()": DenoisingAutoencoder(random_state=0),
        "DenoisingAutoencoder('sigmoid')": DenoisingAutoencoder(
            activation="sigmoid", random_state=0
        ),
        dae: DenoisingAutoencoder(256, sigma=0.2, tol=1e-3, random_state=0),
        # The paper's sigmoid, the default before the ReLU (full run only).
        sigmoid: DenoisingAutoencoder(
            256, sigma=0.2, tol=1e-3, activation="sigmoid", random_state=0
        ),
    }
    # Scored as FeatureUnion([raw, dae]) would be, from the same fits.
    unions = {"raw + DenoisingAutoencoder(256, ...)": ("raw pixels", dae)}
    X, y = load_digits(return_X_y=True)
    # Pixels in float32, as images usually come: every model here keeps the
    # dtype, and the autoencoders fit twice as fast as in float64.
    X = (X / 16.0).astype(np.float32)
    sets = [("digits", X, y, 5, rows, unions)]
    if not quick:
        # Five times the rows: one repeat, and the rows that matter there.
        nudged = (*list(rows)[:4], dae, sigmoid)
        nudged_rows = {label: rows[label] for label in nudged}
        sets.append(("digits nudged x5", *nudged_digits(), 1, nudged_rows, {}))
    for name, X, y, repeats, rows, unions in sets:
        if quick:
            X, y, repeats = X[:400], y[:400], 1
            quick_rows = ("raw pixels", "PCA(40)", "DenoisingAutoencoder()")
            rows = {label: rows[label] for label in quick_rows}
            unions = {"raw + DenoisingAutoencoder()": quick_rows[::2]}
        n_splits = 5
        cv = RepeatedStratifiedKFold(
            n_splits=n_splits, n_repeats=repeats, random_state=0
        )
        print(f"\n{name}: {X.shape[0]} x {X.shape[1]}, {cv.get_n_splits()} folds")
        results = cross_validate_features(rows, unions, classifier, X, y, cv)
        for label, (scores, seconds) in results.items():
            print(
                f"  {label:<40} {scores.mean():.4f} +/- {scores.std():.4f}"
                f"   ({seconds:5.0f} s)"
            )
        best = max(results, key=lambda label: results[label][0].mean())
        print(f"  {best}, fold by fold:")
        for label in results:
            if label != best:
                print(f"    {paired_comparison(results, best, label, n_splits)}")


def paired_comparison(results, first, second, n_splits):
    """``first - second`` fold by fold, with the corrected resampled t.

    Repeated folds share rows, so the naive paired t overstates the evidence;
    Nadeau and Bengio (2003) inflate the variance by the test-to-train ratio.
    ``first`` is the best row by its mean, chosen on the same folds: read the
    t statistics as descriptive, not as tests at a nominal level.
    """
    diff = results[first][0] - results[second][0]
    k = diff.size
    ratio = 1.0 / (n_splits - 1)  # test rows over training rows
    variance = diff.var(ddof=1) if k > 1 else np.nan
    # Equal differences on every fold: t is +-inf, or nan when they are all 0.
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.float64(diff.mean()) / np.sqrt((1.0 / k + ratio) * variance)
    return (
        f"- {second:<38} {diff.mean():+.4f}, ahead on {np.sum(diff > 0)}/{k}"
        f" folds (tied {np.sum(diff == 0)}), corrected t {t:5.1f}"
    )


# ------------------------------------------------------------- 2. density
def density_sets(seed):
    digits = load_digits().data
    X_train, X_test = train_test_split(digits, test_size=0.3, random_state=seed)
    pre = make_pipeline(StandardScaler(), PCA(10), StandardScaler()).fit(X_train)
    yield "digits-PCA10", pre.transform(X_train), pre.transform(X_test)
    cancer = load_breast_cancer().data
    X_train, X_test = train_test_split(cancer, test_size=0.3, random_state=seed)
    pre = make_pipeline(StandardScaler(), PCA(5, whiten=True)).fit(X_train)
    yield "breast_cancer-PCA5w", pre.transform(X_train), pre.transform(X_test)
    rng = np.random.RandomState(seed)
    dequantised = (digits + rng.uniform(size=digits.shape)) / 17
    X_train, X_test = train_test_split(dequantised, test_size=0.2, random_state=seed)
    scaler = StandardScaler().fit(X_train)
    yield "digits dequantised", scaler.transform(X_train), scaler.transform(X_test)
    # All the features, as a new user would try them: the heavy tails of
    # breast_cancer's malignant tumours (the tail component's case).
    for name, loader in (
        ("breast_cancer-30", load_breast_cancer),
        ("wine", load_wine),
        ("iris", load_iris),
    ):
        X = loader().data
        X_train, X_test = train_test_split(X, test_size=0.3, random_state=seed)
        scaler = StandardScaler().fit(X_train)
        yield name, scaler.transform(X_train), scaler.transform(X_test)


def density_models(quick):
    # Besides the default: the model without its tail component, sigma
    # chosen by 3-fold held-out likelihood (robust now that the tail bounds
    # what one far row costs), and the levers of doc/quality.rst that helped
    # most with the default criterion ("ism"): a wider layer and a smaller
    # sigma (whitened units; Silverman's is 0.55 on digits-PCA10, 0.86 on
    # dequantised digits).
    models = {
        "Gaussian (GaussianMixture(1))": lambda: GaussianMixture(1),
        "GaussianMixture, CV": lambda: GridSearchCV(
            GaussianMixture(random_state=0),
            {"n_components": [1, 2, 4, 8, 16]},
            cv=3,
        ),
        "KernelDensity, CV": lambda: GridSearchCV(
            KernelDensity(), {"bandwidth": np.geomspace(0.1, 2.0, 12)}, cv=3
        ),
        "ScoreMatchingEBM()": lambda: ScoreMatchingEBM(random_state=0),
        "ScoreMatchingEBM(tail=None)": lambda: ScoreMatchingEBM(
            random_state=0, tail=None
        ),
        "ScoreMatchingEBM(), sigma by CV": lambda: GridSearchCV(
            ScoreMatchingEBM(random_state=0),
            {"sigma": ["auto", 0.6, 0.45]},
            cv=3,
        ),
        "ScoreMatchingEBM(128, sigma=0.4)": lambda: ScoreMatchingEBM(
            128, sigma=0.4, random_state=0
        ),
        "ScoreMatchingEBM(128, sigma=0.3)": lambda: ScoreMatchingEBM(
            128, sigma=0.3, random_state=0
        ),
    }
    # The ReLU's density (its criteria are the noisy ones; its fits are held
    # to |W|_2 < 1 so that they are densities): doc/user_guide.rst, "Choosing
    # the activation".
    models["ScoreMatchingEBM('relu', 'dsm')"] = lambda: ScoreMatchingEBM(
        activation="relu", objective="dsm", random_state=0
    )
    if quick:
        for name in (
            "ScoreMatchingEBM(128, sigma=0.4)",
            "ScoreMatchingEBM(128, sigma=0.3)",
            "ScoreMatchingEBM('relu', 'dsm')",
            "ScoreMatchingEBM(), sigma by CV",
        ):
            models.pop(name)
    return models


def density_table(quick):
    """Per set and model, over the splits: the mean of the held-out mean
    log-likelihood (and its spread), the mean of the held-out median, the
    worst held-out row, and the worst row's loss to its log-density under
    the single Gaussian fitted to the same rows."""
    print("\n## 2. Density: held-out log-likelihood, nats per row")
    print("  mean +/- std over splits; median; worst row; worst row minus its")
    print("  log-density under the single Gaussian (fit seconds, all splits)")
    seeds = [0] if quick else [0, 1, 2]
    models = density_models(quick)
    results, seconds = {}, {}
    for seed in seeds:
        for name, X_train, X_test in density_sets(seed):
            if quick and name not in ("digits-PCA10", "breast_cancer-30"):
                continue
            gaussian = None
            for label, make in models.items():
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    est = make().fit(X_train)
                log_p = est.score_samples(X_test)
                elapsed = time.perf_counter() - start
                if gaussian is None:  # the first model is the Gaussian
                    gaussian = log_p
                row = (
                    log_p.mean(),
                    np.median(log_p),
                    log_p.min(),
                    (log_p - gaussian).min(),
                )
                results.setdefault((name, label), []).append(row)
                seconds[name, label] = seconds.get((name, label), 0.0) + elapsed
    names = sorted({name for name, _ in results}, key=lambda n: n.lower())
    for name in names:
        print(f"\n{name}:")
        print(
            f"  {'model':<34} {'mean':>17} {'median':>8} {'worst':>8} {'vs Gauss':>9}"
        )
        for label in models:
            values = results.get((name, label))
            if values:
                v = np.array(values)
                print(
                    f"  {label:<34} {v[:, 0].mean():8.3f} +/- {v[:, 0].std():.3f}"
                    f" {v[:, 1].mean():8.2f} {v[:, 2].min():8.1f} {v[:, 3].min():9.1f}"
                    f"   ({seconds[name, label]:4.0f} s)"
                )


# ----------------------------------------------------------- 3. denoising
def psnr(mse_per_pixel):
    return 10 * np.log10(1.0 / mse_per_pixel)


def denoising_table(quick):
    print("\n## 3. Denoising held-out digits (pixels in [0, 1])")
    print("  MSE per digit (sum over 64 pixels), PSNR in dB")
    X = load_digits().data / 16.0
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
    sigmas = [0.3] if quick else [0.1, 0.2, 0.3, 0.5]
    rng = np.random.RandomState(1)
    pca = PCA(random_state=0).fit(X_train)
    for sigma in sigmas:
        noisy = X_test + sigma * rng.standard_normal(X_test.shape)
        results = {"noisy input": noisy}
        best = None
        for k in range(1, 65):
            components = pca.components_[:k]
            projected = (noisy - pca.mean_) @ components.T @ components + pca.mean_
            error = np.mean(np.sum((projected - X_test) ** 2, axis=1))
            if best is None or error < best[0]:
                best = (error, k, projected)
        results[f"PCA projection, best k={best[1]}"] = best[2]
        sq = ((noisy[:, None, :] - X_train[None, :, :]) ** 2).sum(axis=-1)
        results["Parzen posterior mean"] = (
            softmax(-sq / (2 * sigma**2), axis=1) @ X_train
        )
        for activation in ("relu",) if quick else ("relu", "sigmoid"):
            dae = DenoisingAutoencoder(
                256, sigma=sigma, tol=1e-3, activation=activation, random_state=0
            )
            label = f"DenoisingAutoencoder(256, tol=1e-3, {activation!r})"
            results[label] = dae.fit(X_train).denoise(noisy)
        print(f"\nsigma = {sigma}:")
        for label, out in results.items():
            mse = np.mean(np.sum((out - X_test) ** 2, axis=1))
            print(f"  {label:<48} {mse:7.3f}   {psnr(mse / 64):5.2f} dB")


# ------------------------------------------------------------- 4. novelty
def novelty_table(quick):
    print("\n## 4. Novelty: ROC AUC, one class as inliers, mean over classes")
    detectors = {
        "KernelDensity()": KernelDensity,
        "GaussianMixture()": lambda: GaussianMixture(random_state=0),
        "IsolationForest()": lambda: IsolationForest(random_state=0),
        "OneClassSVM()": OneClassSVM,
        "LocalOutlierFactor(novelty)": lambda: LocalOutlierFactor(novelty=True),
        "ScoreMatchingOutlierDetector()": lambda: ScoreMatchingOutlierDetector(
            random_state=0
        ),
        "ScoreMatchingOutlierDetector('relu', 'dsm')": lambda: (
            ScoreMatchingOutlierDetector(
                activation="relu", objective="dsm", random_state=0
            )
        ),
        # The density ranks by its normalised log-density, tail included;
        # the detector by -E(x), the model alone.
        "ScoreMatchingEBM()": lambda: ScoreMatchingEBM(random_state=0),
        "ScoreMatchingEBM(tail=None)": lambda: ScoreMatchingEBM(
            random_state=0, tail=None
        ),
    }
    loaders = {
        "iris": load_iris,
        "wine": load_wine,
        "breast_cancer": load_breast_cancer,
        "digits": load_digits,
    }
    if quick:
        loaders = {"iris": load_iris}
        detectors.pop("ScoreMatchingOutlierDetector('relu', 'dsm')")
    table = {}
    for name, loader in loaders.items():
        X, y = loader(return_X_y=True)
        for inlier in np.unique(y):
            train, test_in = train_test_split(
                X[y == inlier], test_size=0.3, random_state=0
            )
            scaler = StandardScaler().fit(train)
            test = scaler.transform(np.vstack([test_in, X[y != inlier]]))
            labels = np.r_[np.ones(len(test_in)), np.zeros(np.sum(y != inlier))]
            for label, make in detectors.items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    est = make().fit(scaler.transform(train))
                auc = roc_auc_score(labels, est.score_samples(test))
                table.setdefault((name, label), []).append(auc)
    print(f"  {'detector':<32}" + "".join(f"{n:>14}" for n in loaders) + "      mean")
    for label in detectors:
        values = [np.mean(table[(name, label)]) for name in loaders]
        cells = "".join(f"{v:14.4f}" for v in values)
        print(f"  {label:<32}{cells}{np.mean(values):10.4f}")
    if "breast_cancer" in loaders:
        # Malignant tumours (class 0) as the inliers: a heavy-tailed class.
        print("\n  breast_cancer by inlier class (0 malignant, 1 benign):")
        for label in detectors:
            cells = "".join(f"{v:10.4f}" for v in table[("breast_cancer", label)])
            print(f"  {label:<44}{cells}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--jobs", default="features,density,denoising,novelty", help="which tables"
    )
    args = parser.parse_args()
    tables = {
        "features": features_table,
        "density": density_table,
        "denoising": denoising_table,
        "novelty": novelty_table,
    }
    start = time.perf_counter()
    for job in args.jobs.split(","):
        tables[job](args.quick)
    print(f"\n({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
