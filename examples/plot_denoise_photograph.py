"""
=====================================================
Denoising a photograph with patches
=====================================================

A :class:`~sklearn_dsm.DenoisingAutoencoder` trained on 8 x 8 patches of one
photograph (and part of another) removes Gaussian noise from a region of the
second that it has never seen. Every overlapping patch of the noisy region is
denoised and the patches are averaged back into the image, as in
scikit-learn's own image-denoising example with dictionary learning.

The autoencoder is fitted on clean patches: its ``sigma`` is the noise it
learns to remove, here the noise added to the test region (25 on the 0-255
scale), in the units of the standardised patches. With 20,000 patches,
``solver="auto"`` takes minibatch Adam with fresh noise in every batch.
``benchmarks/bench_images.py`` runs the same recipe at 100,000 patches next
to scikit-learn's learned denoisers and the classical ones (see the
documentation's image-denoising page).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_sample_images
from sklearn.decomposition import PCA
from sklearn.feature_extraction.image import (
    extract_patches_2d,
    reconstruct_from_patches_2d,
)
from sklearn.preprocessing import StandardScaler

from sklearn_dsm import DenoisingAutoencoder

china, flower = (image.mean(axis=2) / 255.0 for image in load_sample_images().images)
train_images = [flower, china[:300, :320]]
clean = china[200:392, 380:572]  # temple roof, trees and water: held out

rng = np.random.RandomState(0)
X = np.concatenate(
    [
        extract_patches_2d(image, (8, 8), max_patches=10_000, random_state=rng)
        for image in train_images
    ]
).reshape(-1, 64)
scaler = StandardScaler().fit(X)

noise = 25 / 255.0
noisy = clean + noise * rng.standard_normal(clean.shape)
sigma = noise / np.sqrt(np.mean(scaler.scale_**2))  # the noise, in scaled units

dae = DenoisingAutoencoder(sigma=sigma, random_state=0).fit(scaler.transform(X))
print(f"solver {dae.solver_}, {dae.n_iter_} epochs")


def denoise_image(denoise_patches, image):
    patches = extract_patches_2d(image, (8, 8)).reshape(-1, 64)
    out = scaler.inverse_transform(denoise_patches(scaler.transform(patches)))
    return reconstruct_from_patches_2d(out.reshape(-1, 8, 8), image.shape)


def psnr(estimate):
    return 10 * np.log10(1.0 / np.mean((np.clip(estimate, 0, 1) - clean) ** 2))


# PCA projection, the simplest learned peer: its best k on this region.
pca = PCA(64).fit(scaler.transform(X))


def project(k):
    def f(Z):
        C = pca.components_[:k]
        return (Z - pca.mean_) @ C.T @ C + pca.mean_

    return f


pca_best = max((denoise_image(project(k), noisy) for k in (8, 16, 24, 32)), key=psnr)
denoised = denoise_image(dae.denoise, noisy)

images = [
    ("clean", clean),
    (f"noisy, {psnr(noisy):.1f} dB", noisy),
    (f"PCA projection, {psnr(pca_best):.1f} dB", pca_best),
    (f"DenoisingAutoencoder, {psnr(denoised):.1f} dB", denoised),
]
for title, _ in images:
    print(title)
fig, axes = plt.subplots(1, 4, figsize=(12, 3.4))
for ax, (title, image) in zip(axes, images, strict=True):
    ax.imshow(np.clip(image, 0, 1), cmap="gray", vmin=0, vmax=1)
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()
fig.tight_layout()
plt.show()
