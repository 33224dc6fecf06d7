"""Denoising a photograph: sklearn-dsm next to scikit-learn's learned peers and
the classical denoisers.

Data (``_patches.py``): grey levels in [0, 1] of scikit-learn's two sample
images; the learned methods train on 8 x 8 patches of ``flower.jpg`` and of
the top-left of ``china.jpg``, choose their settings on the bottom-left of
``china.jpg`` and are scored on its right half, which no training patch
touches. Gaussian noise of standard deviation 15, 25 and 50 (on the 0-255
scale) is added to the held-out region; every overlapping patch is denoised
and the patches are averaged back into the image. The table gives the PSNR
(dB) of each estimate, and its fit seconds (median of the repeats; the
denoising itself is not timed).

Learned methods (patches StandardScaler-ed with the training patches' scaler,
as in scikit-learn's own denoising example; noise of the same size is the
model's ``sigma`` in those units):

- ``DenoisingAutoencoder(sigma=noise)``, everything else default: the
  package's default for this job;
- ``DenoisingAutoencoder`` at its best documented setting for patches
  (``BEST`` below: 1024 units in batches of 1000 at a step of 5e-3, stopped
  by Adam's strict rule, with the L2 penalty ``alpha`` at 1e-3);
- ``MLPRegressor`` of the same width, noisy -> clean on one noisy copy of
  the training patches: its defaults, and trained to convergence (early
  stopping on a validation split with ``tol=0``);
- ``PCA`` projection on the top ``k`` components, ``k`` chosen on the
  validation region;
- ``MiniBatchDictionaryLearning`` (100 atoms) with OMP, the number of atoms
  per patch chosen on the validation region (scikit-learn's example);
- a ``GaussianMixture`` patch prior (20 full-covariance components): the
  posterior mean of each patch, posterior-weighted Wiener filters in one pass
  (the first step of Zoran and Weiss's EPLL).

Classical references, with ``pip install ".[bench]"`` (scikit-image and
bm3d; rows are left out without them): non-local means (its ``h`` from the
noise level as scikit-image documents), wavelet (BayesShrink) and TV
(weight chosen on the validation region), and BM3D.

Run: ``python benchmarks/bench_images.py`` (about 15 minutes on 2 cores);
``--quick`` (CI) trains on 10,000 patches, runs the best setting for 20
epochs only, and scores noise 25 on a 160 x 160 crop (about a minute).
"""

import argparse
import time
import warnings

import numpy as np
from _patches import add_noise, denoise_image, psnr, regions, training_patches
from scipy.linalg import cho_factor, cho_solve
from scipy.special import logsumexp
from sklearn.decomposition import PCA, MiniBatchDictionaryLearning
from sklearn.mixture import GaussianMixture
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info

from sklearn_dsm import DenoisingAutoencoder

WIDTH = 64
# The autoencoder's best setting found for 8 x 8 patches (doc/images.rst):
# 16 times the units, in batches of 1000, at half the default step, stopped
# by Adam's strict rule (1e-4 over 500 steps, its default below real size).
# At 1e-2 one fit of the three diverged (noise 15: the loss jumped from 1.0
# to 401 at epoch 20, 72% of the units dead, 23.76 dB); at 5e-3 none did.
# The real-size rule (1% over 100 steps) stopped it at noise 15 after 22
# epochs (27.37 dB, step 1e-2), where the strict one runs 110 to 29.02 dB
# (both at the default alpha=0.1).
# The L2 penalty nearly off: alpha is in score-matching units, where the
# data term falls as 1 / sigma^2 and the penalty does not, so the default
# 0.1 weighs about (sigma_50 / sigma_15)^2 = 11 times as much at noise 50
# as at 15; at 1e-3 (0 scored the same at noise 50) the 1024 units denoised 0.2, 0.3
# and 0.5 dB better at noise 15, 25 and 50 (doc/images.rst).
BEST = dict(
    n_components=1024,
    batch_size=1000,
    learning_rate_init=5e-3,
    tol=1e-4,
    n_iter_no_change=5,
    alpha=1e-3,
)


def timed(fit):
    """(seconds, fitted model) of ``fit()``, warnings counted and shown once."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        model = fit()
        seconds = time.perf_counter() - start
    for w in caught:
        print(f"    warning: {w.category.__name__}: {str(w.message)[:100]}")
    return seconds, model


def scaled(scaler, f):
    """A patch denoiser in grey levels from one in the scaler's units."""
    return lambda P: scaler.inverse_transform(f(scaler.transform(P)))


def gmm_wiener(gmm, noise_var):
    """The posterior mean of a patch under a Gaussian-mixture prior and
    Gaussian noise of (diagonal) variance ``noise_var``: each component's
    Wiener filter, weighted by the component's posterior probability."""
    factors = [cho_factor(C + np.diag(noise_var)) for C in gmm.covariances_]

    def denoise(Y):
        log_resp, filtered = [], []
        for k, (factor, mu, C) in enumerate(
            zip(factors, gmm.means_, gmm.covariances_, strict=True)
        ):
            R = Y - mu
            S = cho_solve(factor, R.T).T  # (C + N)^-1 (y - mu)
            log_det = 2 * np.log(np.diag(factor[0])).sum()
            log_resp.append(
                np.log(gmm.weights_[k]) - 0.5 * (np.sum(R * S, axis=1) + log_det)
            )
            filtered.append(mu + S @ C)
        log_resp = np.array(log_resp)
        resp = np.exp(log_resp - logsumexp(log_resp, axis=0))
        return np.einsum("kn,knd->nd", resp, np.array(filtered))

    return denoise


def best_on(validation, noisy_validation, make, options):
    """The option whose denoiser scores best on the validation region."""
    scores = [
        psnr(denoise_image(make(o), noisy_validation), validation) for o in options
    ]
    return options[int(np.argmax(scores))]


def classical(noisy, clean, noise, validation, noisy_validation):
    """Rows for the classical denoisers that are installed."""
    rows = []
    sigma = noise / 255.0
    try:
        from skimage.restoration import (
            denoise_nl_means,
            denoise_tv_chambolle,
            denoise_wavelet,
        )
    except ImportError:
        print("    (scikit-image not installed: pip install '.[bench]')")
    else:
        # scikit-image's documented recipe for known noise: h = 0.8 sigma on
        # 5 x 5 patches, fast mode, the noise's sigma passed.
        def nlm(img):
            return denoise_nl_means(
                img,
                h=0.8 * sigma,
                sigma=sigma,
                fast_mode=True,
                patch_size=5,
                patch_distance=6,
            )

        def wavelet(img):
            return denoise_wavelet(
                img,
                sigma=sigma,
                method="BayesShrink",
                mode="soft",
                rescale_sigma=True,
            )

        weights = [0.5 * sigma, sigma, 2 * sigma, 4 * sigma]
        scores = [
            psnr(denoise_tv_chambolle(noisy_validation, weight=w), validation)
            for w in weights
        ]
        weight = weights[int(np.argmax(scores))]
        rows += [
            ("non-local means (scikit-image)", nlm),
            ("wavelet BayesShrink (scikit-image)", wavelet),
            (
                f"TV Chambolle, weight {weight:.3f}",
                lambda i: denoise_tv_chambolle(i, weight=weight),
            ),
        ]
    try:
        import bm3d
    except ImportError:
        print("    (bm3d not installed: pip install '.[bench]')")
    else:
        rows.append(("BM3D (bm3d)", lambda i: bm3d.bm3d(i, sigma_psd=sigma)))
    out = []
    for label, f in rows:
        start = time.perf_counter()
        estimate = f(noisy)
        out.append((label, time.perf_counter() - start, psnr(estimate, clean)))
    return out


def noise_rows(noise, Z, scaler, test, validation, models, best=BEST):
    """The table's rows at one noise level: (label, fit seconds, PSNR)."""
    (pca, t_pca), (dl, t_dl), (gmm, t_gmm) = models
    sigma = noise / 255.0
    noisy = add_noise(test, noise, seed=1)
    noisy_val = add_noise(validation, noise, seed=2)
    rows = [("noisy input", 0.0, psnr(noisy, test))]
    # The noise in the scaler's units, per pixel; the autoencoder's sigma
    # is one number, their root mean square (the pixels' scales differ
    # by a few percent).
    s = sigma / scaler.scale_
    s_model = float(np.sqrt(np.mean(s**2)))

    def learned(label, seconds, f):
        rows.append(
            (label, seconds, psnr(denoise_image(scaled(scaler, f), noisy), test))
        )

    t, dae = timed(lambda: DenoisingAutoencoder(sigma=s_model, random_state=0).fit(Z))
    learned(
        f"DenoisingAutoencoder(sigma) [{dae.solver_}, {dae.n_iter_} ep]",
        t,
        dae.denoise,
    )
    t, best = timed(
        lambda: DenoisingAutoencoder(sigma=s_model, random_state=0, **best).fit(Z)
    )
    learned(f"DenoisingAutoencoder best ({best.n_iter_} ep)", t, best.denoise)
    Z_noisy = Z + s * np.random.RandomState(0).standard_normal(Z.shape)
    t, mlp = timed(
        lambda: MLPRegressor(hidden_layer_sizes=(WIDTH,), random_state=0).fit(
            Z_noisy, Z
        )
    )
    learned(f"MLPRegressor({WIDTH}) default ({mlp.n_iter_} ep)", t, mlp.predict)
    t, mlp_c = timed(
        lambda: MLPRegressor(
            hidden_layer_sizes=(WIDTH,),
            max_iter=500,
            tol=0.0,
            early_stopping=True,
            random_state=0,
        ).fit(Z_noisy, Z)
    )
    learned(f"MLPRegressor({WIDTH}) converged ({mlp_c.n_iter_} ep)", t, mlp_c.predict)

    def pca_k(k):
        return lambda P: (
            (P - pca.mean_) @ pca.components_[:k].T @ pca.components_[:k] + pca.mean_
        )

    k = best_on(validation, noisy_val, pca_k, [4, 8, 12, 16, 24, 32])
    rows.append(
        (f"PCA, best k = {k}", t_pca, psnr(denoise_image(pca_k(k), noisy), test))
    )

    def omp(m):
        def f(P):
            dl.set_params(transform_algorithm="omp", transform_n_nonzero_coefs=m)
            return dl.transform(P) @ dl.components_

        return scaled(scaler, f)

    m = best_on(validation, noisy_val, omp, [1, 2, 4, 8])
    rows.append(
        (
            f"MiniBatchDictionaryLearning + OMP({m})",
            t_dl,
            psnr(denoise_image(omp(m), noisy), test),
        )
    )
    learned("GaussianMixture(20) prior, Wiener", t_gmm, gmm_wiener(gmm, s**2))
    rows += classical(noisy, test, noise, validation, noisy_val)
    return rows, sigma, s_model


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--patches", type=int, default=100_000)
    parser.add_argument("--noise", default="15,25,50")
    args = parser.parse_args()
    n, noises = args.patches, [int(v) for v in args.noise.split(",")]
    _, validation, test = regions()
    if args.quick:
        n, noises = 10_000, [25]
        validation, test = validation[:, :128], test[240:400, :160]
    X = training_patches(n)
    scaler = StandardScaler().fit(X)
    Z = scaler.transform(X)
    print(
        f"{n} training patches of 8 x 8; test region {test.shape[0]} x "
        f"{test.shape[1]}; PSNR in dB (fit seconds)"
    )

    # Noise-free models, fitted once.
    t_pca, pca = timed(lambda: PCA(64).fit(X))
    t_dl, dl = timed(
        lambda: MiniBatchDictionaryLearning(
            n_components=100, batch_size=200, alpha=1.0, max_iter=10, random_state=0
        ).fit(Z)
    )
    t_gmm, gmm = timed(
        lambda: GaussianMixture(
            20, covariance_type="full", reg_covar=1e-4, random_state=0
        ).fit(Z)
    )

    models = [(pca, t_pca), (dl, t_dl), (gmm, t_gmm)]
    # The quick pass only keeps the best setting's row runnable: a few epochs.
    best = dict(BEST, max_iter=20) if args.quick else BEST
    for noise in noises:
        rows, sigma, s_model = noise_rows(
            noise, Z, scaler, test, validation, models, best
        )

        print(
            f"\nnoise {noise} (sigma {sigma:.4f} in grey levels, {s_model:.3f} scaled)"
        )
        for label, seconds, value in rows:
            print(f"  {label:<52} {value:6.2f} dB  {seconds:7.1f} s")

    print("\nthreadpoolctl.threadpool_info():")
    for info in threadpool_info():
        print(
            f"  {info['internal_api']} {info.get('version')} "
            f"{info.get('architecture')} threads={info['num_threads']}"
        )


if __name__ == "__main__":
    main()
