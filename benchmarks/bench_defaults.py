"""Default fits, side by side with scikit-learn's own default fits.

For each data set (two moons, iris, wine, breast_cancer, digits, and a
10000 x 784 image set), every estimator is fitted with its defaults, in this
one run, and the table gives:

- the fit time (median over repeats), the iterations, whether the fit stopped
  because it converged, and how many warnings it raised;
- quality: for feature extractors, the test accuracy of a logistic regression
  on their features (70/30 stratified split); for density models, the mean
  held-out log-likelihood in nats per row (70/30 split).

Peers: ``MLPRegressor(hidden_layer_sizes=(64,))`` fitted X -> X (its ReLU
hidden layer as features), ``BernoulliRBM`` (on MinMaxScaler-ed rows, which it
needs), ``PCA``, ``GaussianMixture`` and ``KernelDensity``. Rows are
StandardScaler-ed (fitted on the training split), except the images, which
stay in [0, 1] as pixels are. Digits are dequantised for the density job
((pixels + U[0, 1)) / 17): on raw pixels three training columns are constant,
and a Gaussian's score there is set by its regulariser. The images are digits
upsampled to 28 x 28, shifted by up to 2 pixels and lightly noised.

At real size (``--large``, also part of the full run), the default fits at
the sizes where autoencoders are trained, against ``MLPRegressor`` of the
same width (64) with its defaults, in the same run:

- 100,000 and 1,000,000 8 x 8 patches of ``load_sample_images()`` (float32,
  StandardScaler-ed; ``_patches.py``): the denoising job,
  ``DenoisingAutoencoder(sigma=noise)`` against ``MLPRegressor`` trained
  noisy -> clean, PSNR of a held-out region at noise 25 (0-255 scale); and
  the density job, ``ScoreMatchingEBM()`` against ``GaussianMixture()``,
  held-out log-likelihood of 10,000 patches of the test region;
- 60,000 images of 784 pixels (the set above at MNIST's size; its 10,000
  are the last small set), the features and density jobs.

The peak memory of the autoencoder's fit (tracemalloc, beyond its input) is
measured in a separate, untimed fit.

Run: ``python benchmarks/bench_defaults.py`` (about 25 minutes on 2 cores);
``--quick`` runs iris and wine once (seconds; CI runs it); ``--large`` only
the large sizes, and ``--large --seeds 5`` repeats the patches' denoising
pair (autoencoder and MLP) over five seeds, with the paired difference.
"""

import argparse
import time
import tracemalloc
import warnings
from functools import partial

import numpy as np
from scipy.ndimage import shift, zoom
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_moons,
)
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.image import extract_patches_2d
from sklearn.linear_model import LogisticRegression
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import KernelDensity
from sklearn.neural_network import BernoulliRBM, MLPRegressor
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from threadpoolctl import threadpool_info

from sklearn_dsm import DenoisingAutoencoder, ScoreMatchingEBM

try:  # run as a script from anywhere: the patches live beside this file
    from _patches import add_noise, denoise_image, psnr, regions, training_patches
except ImportError:  # pragma: no cover
    from benchmarks._patches import (
        add_noise,
        denoise_image,
        psnr,
        regions,
        training_patches,
    )


def images(n=10_000, seed=0):
    """Digits as 28 x 28 images in [0, 1]: MNIST's shape, scikit-learn's data."""
    rng = np.random.RandomState(seed)
    digits = load_digits()
    base = np.clip(zoom(digits.images / 16.0, (1, 3.5, 3.5), order=1), 0, 1)
    rows = rng.randint(len(base), size=n)
    out = np.empty((n, 28, 28))
    for i, row in enumerate(rows):
        out[i] = shift(base[row], rng.randint(-2, 3, size=2), order=0)
    out += 0.05 * rng.normal(size=out.shape)
    return np.clip(out, 0, 1).reshape(n, 784), digits.target[rows]


def data(name):
    if name == "moons":
        X, y = make_moons(1000, noise=0.1, random_state=0)
    elif name == "images-784":
        X, y = images()
    else:
        loader = {
            "iris": load_iris,
            "wine": load_wine,
            "breast_cancer": load_breast_cancer,
            "digits": load_digits,
        }[name]
        X, y = loader(return_X_y=True)
    return X, y


def timed_fit(make, X, y=None, repeats=1):
    """(median seconds, the last fitted estimator, its warnings)."""
    seconds = []
    for _ in range(repeats):
        est = make()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            start = time.perf_counter()
            est.fit(X) if y is None else est.fit(X, y)
            seconds.append(time.perf_counter() - start)
    return float(np.median(seconds)), est, caught


def mlp_features(mlp, X):
    return np.maximum(X @ mlp.coefs_[0] + mlp.intercepts_[0], 0)


def converged(est, caught):
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        return "no"
    return "yes" if hasattr(est, "n_iter_") else "-"


def row(job, name, seconds, est, caught, quality, mlp_seconds):
    n_iter = getattr(est, "n_iter_", "-")
    ratio = f"{seconds / mlp_seconds:5.2f}" if mlp_seconds else "    -"
    print(
        f"  {job:<8} {name:<24} {seconds:7.2f} {ratio} {n_iter!s:>6} "
        f"{converged(est, caught):>5} {len(caught):>3}  {quality}"
    )


def features_job(name, X, y, repeats):
    scale = not name.startswith("images")
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y
    )
    if scale:
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    mm = MinMaxScaler().fit(X_train)

    def accuracy(F_train, F_test):
        clf = LogisticRegression(max_iter=5000).fit(F_train, y_train)
        return f"accuracy {clf.score(F_test, y_test):.4f}"

    print(
        f"  {'features':<8} {'raw rows':<24} {'':>7} {'':>5} {'':>6} {'':>5} {'':>3}  ",
        end="",
    )
    print(accuracy(X_train, X_test))
    t_mlp, mlp, caught = timed_fit(
        lambda: MLPRegressor(hidden_layer_sizes=(64,)), X_train, X_train, repeats
    )
    row(
        "features",
        "MLPRegressor(64) X->X",
        t_mlp,
        mlp,
        caught,
        accuracy(mlp_features(mlp, X_train), mlp_features(mlp, X_test)),
        t_mlp,
    )
    for label, make, rows_train, rows_test in [
        ("BernoulliRBM()", BernoulliRBM, mm.transform(X_train), mm.transform(X_test)),
        ("PCA()", PCA, X_train, X_test),
        ("DenoisingAutoencoder()", DenoisingAutoencoder, X_train, X_test),
    ]:
        seconds, est, caught = timed_fit(make, rows_train, repeats=repeats)
        quality = accuracy(est.transform(rows_train), est.transform(rows_test))
        row("features", label, seconds, est, caught, quality, t_mlp)
    return t_mlp


def density_job(name, X, repeats, t_mlp):
    if name == "digits":
        X = (X + np.random.RandomState(0).uniform(size=X.shape)) / 17
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
    if not name.startswith("images"):
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    # The defaults of each, and the tuned peers a user would compare with:
    # KernelDensity() has bandwidth 1 whatever the data, so its default row
    # says little; the CV rows choose over the grids of bench_quality.py.
    for label, make in [
        ("GaussianMixture()", GaussianMixture),
        ("KernelDensity()", KernelDensity),
        (
            "GaussianMixture, CV",
            lambda: GridSearchCV(
                GaussianMixture(random_state=0),
                {"n_components": [1, 2, 4, 8, 16]},
                cv=3,
            ),
        ),
        (
            "KernelDensity, CV",
            lambda: GridSearchCV(
                KernelDensity(), {"bandwidth": np.geomspace(0.1, 2.0, 12)}, cv=3
            ),
        ),
        ("ScoreMatchingEBM()", ScoreMatchingEBM),
    ]:
        # On the 784-pixel images: the KernelDensity search's trees took
        # more than five minutes for its 36 fits, and the default's row
        # stands for it; on 60,000 images the default's scoring (18,000
        # held-out rows against 42,000) ran for over 40 minutes, and the
        # GaussianMixture search's 15 fits over 10 (on 10,000 it picks one
        # component, the default's).
        wide, long = X.shape[1] > 100, X.shape[0] > 10_000
        too_slow = {"KernelDensity, CV": wide, "KernelDensity()": wide and long}
        too_slow["GaussianMixture, CV"] = wide and long
        if too_slow.get(label, False):
            continue
        seconds, est, caught = timed_fit(make, X_train, repeats=repeats)
        score = float(np.mean(est.score_samples(X_test)))
        quality = f"held-out {score:9.3f} nats/row"
        if label.startswith("ScoreMatching"):
            quality += (
                f"  (far {est.far_mass_:.3f}, log Z se {est.log_partition_std_:.3f},"
                f" alpha_ {est.alpha_:.2g}, sigma_ {est.sigma_:.3f})"
            )
        row("density", label, seconds, est, caught, quality, t_mlp)


def peak_memory(make, X):
    """Peak bytes that ``make().fit(X)`` allocates beyond ``X`` (tracemalloc)."""
    tracemalloc.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        make().fit(X)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def noisy_copy(Z, sigma):
    """The MLP's training inputs: ``Z`` plus one fixed draw of its noise."""
    noise = np.random.default_rng(0).standard_normal(Z.shape, dtype=np.float32)
    return Z + np.float32(sigma) * noise


def patches_job(n, noise=25, seeds=0):
    """Denoising and density at ``n`` training patches (float32); with
    ``seeds``, the denoising pair again over that many ``random_state``."""
    X = training_patches(n, dtype=np.float32)
    scaler = StandardScaler().fit(X)
    Z = scaler.transform(X).astype(np.float32)
    del X
    _, _, test = regions()
    noisy = add_noise(test, noise, seed=1)
    sigma = float(noise / 255 / np.sqrt(np.mean(scaler.scale_**2)))

    def psnr_of(f):
        def g(P):
            return scaler.inverse_transform(f(scaler.transform(P).astype(np.float32)))

        return psnr(denoise_image(g, noisy), test)

    def denoised(f):
        return f"PSNR {psnr_of(f):.2f} dB (noisy {psnr(noisy, test):.2f})"

    print(f"\npatches: {n} x 64 float32 ({Z.nbytes / 2**20:.0f} MiB), noise {noise}")
    Z_noisy = noisy_copy(Z, sigma)
    t_mlp, mlp, caught = timed_fit(
        lambda: MLPRegressor(hidden_layer_sizes=(64,)), Z_noisy, Z
    )
    del Z_noisy
    row(
        "denoise",
        "MLPRegressor(64) noisy->X",
        t_mlp,
        mlp,
        caught,
        denoised(mlp.predict),
        t_mlp,
    )
    make = lambda: DenoisingAutoencoder(sigma=sigma)  # noqa: E731
    seconds, dae, caught = timed_fit(make, Z)
    quality = denoised(dae.denoise) + f", solver_ {dae.solver_}"
    row("denoise", "DenoisingAutoencoder(sigma)", seconds, dae, caught, quality, t_mlp)
    peak = peak_memory(make, Z)
    print(
        f"  {'':<8} peak memory of that fit beyond its input: {peak / 2**20:.0f} MiB"
        f" = {peak / Z.nbytes:.2f} x the data"
    )
    if seeds:
        seed_rows(Z, sigma, psnr_of, seeds)
    held_out = extract_patches_2d(test, (8, 8), max_patches=10_000, random_state=0)
    H = scaler.transform(held_out.reshape(-1, 64)).astype(np.float32)
    for label, make in [
        ("GaussianMixture()", GaussianMixture),
        ("ScoreMatchingEBM()", ScoreMatchingEBM),
    ]:
        seconds, est, caught = timed_fit(make, Z)
        quality = f"held-out {float(np.mean(est.score_samples(H))):9.3f} nats/row"
        row("density", label, seconds, est, caught, quality, t_mlp)


def seed_rows(Z, sigma, psnr_of, seeds):
    """The autoencoder and the MLP over ``random_state`` 0, 1, ...: median
    seconds, mean PSNR +/- its standard error, and the paired difference
    (one run of each says little when they are a tenth of a dB apart)."""
    Z_noisy = noisy_copy(Z, sigma)
    runs = {"MLPRegressor(64)": [], "DenoisingAutoencoder": []}
    for seed in range(seeds):
        for label, make, X, predict in [
            (
                "MLPRegressor(64)",
                partial(MLPRegressor, hidden_layer_sizes=(64,), random_state=seed),
                (Z_noisy, Z),
                "predict",
            ),
            (
                "DenoisingAutoencoder",
                partial(DenoisingAutoencoder, sigma=sigma, random_state=seed),
                (Z,),
                "denoise",
            ),
        ]:
            seconds, est, _ = timed_fit(make, *X)
            value = psnr_of(getattr(est, predict))
            runs[label].append((seconds, value, est.n_iter_))
    for label, rows in runs.items():
        t, v, it = np.array(rows).T
        print(
            f"  {'seeds':<8} {label:<24} {np.median(t):7.2f} {'':>5} "
            f"{int(it.min())}-{int(it.max()):<3} PSNR {v.mean():.3f} "
            f"+/- {v.std(ddof=1) / np.sqrt(seeds):.3f} dB over {seeds} seeds"
        )
    d = (
        np.array(runs["DenoisingAutoencoder"])[:, 1]
        - np.array(runs["MLPRegressor(64)"])[:, 1]
    )
    print(
        f"  {'seeds':<8} autoencoder - MLP, paired: {d.mean():+.3f} "
        f"+/- {d.std(ddof=1) / np.sqrt(seeds):.3f} dB"
    )


def large(names, seeds=0):
    for name in names:
        if name.startswith("patches-"):
            patches_job(int(float(name.split("-")[1])), seeds=seeds)
        else:
            n = int(float(name.split("-")[1]))
            X, y = images(n)
            print(f"\n{name}: {X.shape[0]} x {X.shape[1]}")
            t_mlp = features_job(name, X, y, repeats=1)
            density_job(name, X, 1, t_mlp)


# The 10,000 images are the small table's last set (images-784).
LARGE = ["patches-1e5", "patches-1e6", "images-6e4"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--large", action="store_true", help="the large sizes only")
    parser.add_argument("--sizes", default=",".join(LARGE), help="with --large")
    parser.add_argument(
        "--seeds",
        type=int,
        default=0,
        help="with --large: repeat the patches' denoising pair over this many seeds",
    )
    args = parser.parse_args()
    names = (
        ["iris", "wine"]
        if args.quick
        else []
        if args.large
        else ["moons", "iris", "wine", "breast_cancer", "digits", "images-784"]
    )
    print(
        "fit seconds (median), /MLP: ratio to MLPRegressor(64) X->X on the same "
        "rows; it: n_iter_; conv: stopped by its own rule; warn: warnings raised"
    )
    header = ("job", "estimator", "seconds", "/MLP", "it", "conv", "warn")
    print("  {:<8} {:<24} {:>7} {:>5} {:>6} {:>5} {:>3}  quality".format(*header))
    for name in names:
        X, y = data(name)
        repeats = 1 if args.quick or name == "images-784" else 3
        print(f"\n{name}: {X.shape[0]} x {X.shape[1]}")
        t_mlp = None
        if name != "moons":
            t_mlp = features_job(name, X, y, repeats)
        density_job(name, X, repeats, t_mlp)
    if args.large or not args.quick:
        print("\nAt real size (one fit each):")
        large(args.sizes.split(",") if args.large else LARGE, args.seeds)
    print("\nthreadpoolctl.threadpool_info():")
    for info in threadpool_info():
        print(
            f"  {info['internal_api']} {info.get('version')} "
            f"{info.get('architecture')} threads={info['num_threads']} "
            f"({info['filepath'].split('/')[-1]})"
        )


if __name__ == "__main__":
    main()
