"""Sigmoid against ReLU, job by job, next to scikit-learn's tools.

1. Image patches (the job autoencoders were made for): 8x8 grayscale patches
   of ``load_sample_images()``'s ``china.jpg`` in [0, 1] (20,000 training
   rows); a 256x256 crop of ``flower.jpg`` with Gaussian noise of 25/255,
   every overlapping patch denoised and the image rebuilt with
   ``reconstruct_from_patches_2d``; PSNR in dB. The peers: ``MLPRegressor``
   of the same width trained noisy -> clean on the same rows for as many
   epochs (fresh noise once per epoch, as ``partial_fit`` on a new draw),
   and PCA projection.
2. Denoising digits: held-out digits in [0, 1] with Gaussian noise of sigma
   0.1 to 0.5, mean squared error per digit, 256 units.
3. Features: logistic-regression accuracy on standardised codes, 5-fold
   stratified CV on digits in [0, 1].

Run: ``python benchmarks/study_activation.py`` (about 10 minutes on 2
cores; ``--jobs images`` etc. picks tables, ``--quick`` a small slice).
"""

import argparse
import time
import warnings

import numpy as np
import threadpoolctl
from sklearn.datasets import load_digits, load_sample_images
from sklearn.decomposition import PCA
from sklearn.feature_extraction.image import (
    extract_patches_2d,
    reconstruct_from_patches_2d,
)
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from sklearn_dsm import DenoisingAutoencoder

NOISE = 25 / 255


def psnr(clean, estimate):
    return 10 * np.log10(1.0 / np.mean((clean - estimate) ** 2))


def _gray(image):
    return image.mean(axis=2) / 255.0


def image_data(n_train, seed=0):
    china, flower = load_sample_images().images
    train = extract_patches_2d(
        _gray(china), (8, 8), max_patches=n_train, random_state=seed
    )
    clean = _gray(flower)[100:356, 300:556]
    noisy = clean + NOISE * np.random.RandomState(seed).normal(size=clean.shape)
    return train.reshape(len(train), -1), clean, noisy


def denoise_image(denoise_rows, noisy):
    patches = extract_patches_2d(noisy, (8, 8))
    out = denoise_rows(patches.reshape(len(patches), -1))
    return reconstruct_from_patches_2d(out.reshape(patches.shape), noisy.shape)


def mlp_noisy_to_clean(X, width, epochs, seed=0):
    """MLPRegressor trained noisy -> clean, a fresh draw of noise per epoch."""
    rng = np.random.RandomState(seed)
    mlp = MLPRegressor(hidden_layer_sizes=(width,), random_state=seed)
    for _ in range(epochs):
        mlp.partial_fit(X + NOISE * rng.normal(size=X.shape), X)
    return mlp


def timed(fit):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = fit()
    return model, time.perf_counter() - start


def images_table(quick):
    n_train, epochs = (4000, 20) if quick else (20000, 200)
    X, clean, noisy = image_data(n_train)
    print(f"\n## Image patches: {n_train} training patches, {epochs} epochs\n")
    print(f"noisy input                                   {psnr(clean, noisy):6.2f} dB")
    rows = {}
    for components in (16, 24):
        pca, seconds = timed(lambda c=components: PCA(c).fit(X))
        rows[f"PCA({components}) projection"] = (
            lambda Z, p=pca: p.inverse_transform(p.transform(Z)),
            seconds,
        )
    for width in (256,):
        mlp, seconds = timed(lambda w=width: mlp_noisy_to_clean(X, w, epochs))
        rows[f"MLPRegressor(({width},)), fresh noise per epoch"] = (
            mlp.predict,
            seconds,
        )
        noisy_rows = X + NOISE * np.random.RandomState(1).normal(size=X.shape)
        mlp, seconds = timed(
            lambda w=width, noisy_rows=noisy_rows: MLPRegressor(
                hidden_layer_sizes=(w,),
                max_iter=epochs,
                n_iter_no_change=epochs,
                random_state=0,
            ).fit(noisy_rows, X)
        )
        rows[f"MLPRegressor(({width},)), one noisy copy"] = (mlp.predict, seconds)
        for activation in ("sigmoid", "relu"):
            dae, seconds = timed(
                lambda a=activation, w=width: DenoisingAutoencoder(
                    w,
                    activation=a,
                    sigma=NOISE,
                    solver="adam",
                    max_iter=epochs,
                    random_state=0,
                ).fit(X)
            )
            # max_iter is a cap: at this size Adam stops by its real-size
            # rule (doc/defaults.rst), so the row says how many it ran.
            label = f"DenoisingAutoencoder({width}, {activation!r}), {dae.n_iter_} ep"
            rows[label] = (dae.denoise, seconds)
    for name, (denoise_rows, seconds) in rows.items():
        value = psnr(clean, denoise_image(denoise_rows, noisy))
        print(f"{name:<46}{value:6.2f} dB   fit {seconds:6.1f} s")


def digits_denoising_table(quick):
    X = load_digits().data / 16.0
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
    sigmas = (0.2,) if quick else (0.1, 0.2, 0.3, 0.5)
    print("\n## Denoising digits: mean squared error per digit (256 units)\n")
    print(f"{'sigma':<8}{'sigmoid':>10}{'relu':>10}{'PCA best':>10}")
    for sigma in sigmas:
        noisy = X_test + sigma * np.random.RandomState(1).normal(size=X_test.shape)
        errors = []
        for activation in ("sigmoid", "relu"):
            dae, _ = timed(
                lambda a=activation, s=sigma: DenoisingAutoencoder(
                    256, activation=a, sigma=s, tol=1e-3, random_state=0
                ).fit(X_train)
            )
            errors.append(np.mean(np.sum((dae.denoise(noisy) - X_test) ** 2, 1)))
        pca = min(
            np.mean(
                np.sum(
                    (
                        (p := PCA(k).fit(X_train)).inverse_transform(p.transform(noisy))
                        - X_test
                    )
                    ** 2,
                    1,
                )
            )
            for k in (8, 16, 24, 32, 48)
        )
        print(f"{sigma:<8}{errors[0]:>10.3f}{errors[1]:>10.3f}{pca:>10.3f}")


def features_table(quick):
    X, y = load_digits(return_X_y=True)
    cv = StratifiedKFold(3 if quick else 5, shuffle=True, random_state=0)
    print("\n## Features: digits, logistic regression on standardised codes\n")
    rows = {
        "raw pixels": make_pipeline(MinMaxScaler(), LogisticRegression(max_iter=2000))
    }
    for activation in ("sigmoid", "relu"):
        for sigma in ("auto", 0.2):
            rows[f"DAE(128, {activation!r}, sigma={sigma})"] = make_pipeline(
                MinMaxScaler(),
                DenoisingAutoencoder(
                    128, activation=activation, sigma=sigma, random_state=0
                ),
                StandardScaler(),
                LogisticRegression(max_iter=2000),
            )
    for name, pipe in rows.items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scores = cross_val_score(pipe, X, y, cv=cv)
        seconds = time.perf_counter() - start
        print(
            f"{name:<40}{scores.mean():.4f} +/- {scores.std():.4f}  ({seconds:5.1f} s)"
        )


TABLES = {
    "images": images_table,
    "digits_denoising": digits_denoising_table,
    "features": features_table,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", nargs="*", default=list(TABLES), choices=TABLES)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for info in threadpoolctl.threadpool_info():
        print(
            info.get("internal_api"),
            info.get("version"),
            info.get("architecture"),
            info.get("num_threads"),
        )
    for job in args.jobs:
        TABLES[job](args.quick)


if __name__ == "__main__":
    main()
