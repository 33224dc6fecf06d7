"""Image patches of scikit-learn's sample images, for the denoising benchmarks.

Shared by ``bench_images.py`` and ``bench_defaults.py`` (and the gallery's
photograph example follows the same recipe). The two photographs of
``load_sample_images()`` become grey levels in [0, 1]:

- training: all of ``flower.jpg`` and the left half of ``china.jpg`` above
  row 300;
- validation (to choose each method's settings): the left half of china
  below row 300;
- test (the PSNR table): the right half of china from column 336 on (sky,
  temple, trees and water), 427 x 304 pixels that no training or validation
  patch touches, as scikit-learn's image-denoising example holds out the
  right half of its photograph.

Denoising a region: every overlapping p x p patch of the noisy region is
denoised and the patches are averaged back into the image
(``reconstruct_from_patches_2d``), as in scikit-learn's own image-denoising
example.
"""

import numpy as np
from sklearn.datasets import load_sample_images
from sklearn.feature_extraction.image import (
    extract_patches_2d,
    reconstruct_from_patches_2d,
)

_TRAIN = (slice(0, 300), slice(0, 320))
_VALIDATION = (slice(300, 427), slice(0, 320))
_TEST = (slice(0, 427), slice(336, 640))


def grey_images():
    """(china, flower) as float64 grey levels in [0, 1]."""
    china, flower = load_sample_images().images
    return tuple(image.mean(axis=2) / 255.0 for image in (china, flower))


def regions():
    """Training images (a list), the validation region and the test region."""
    china, flower = grey_images()
    return [flower, china[_TRAIN]], china[_VALIDATION], china[_TEST]


def training_patches(n, size=8, seed=0, dtype=np.float64):
    """``n`` clean training patches as rows of ``size**2`` grey levels.

    Patches are drawn at random positions of the training images in
    proportion to their areas. Beyond the distinct patches there are (about
    400,000 at 8 x 8), the eight flips and rotations of the square make more,
    as data augmentation does.
    """
    rng = np.random.RandomState(seed)
    images, _, _ = regions()
    counts = np.array(
        [(i.shape[0] - size + 1) * (i.shape[1] - size + 1) for i in images]
    )
    per_image = rng.multinomial(n, counts / counts.sum())
    out = []
    for image, k, count in zip(images, per_image, counts, strict=True):
        # extract_patches_2d returns at most every distinct patch once, so
        # beyond that the draw repeats (the flips below make the repeats new).
        patches = np.concatenate(
            [
                extract_patches_2d(
                    image, (size, size), max_patches=int(m), random_state=rng
                )
                for m in [count] * (k // count) + [k % count]
                if m
            ]
        )
        # A random flip and rotation per patch: harmless for natural images
        # (their statistics are near-isotropic) and a source of new rows.
        flips = rng.randint(8, size=len(patches))
        for f in range(8):
            sel = flips == f
            p = np.rot90(patches[sel], k=f % 4, axes=(1, 2))
            patches[sel] = p[:, :, ::-1] if f >= 4 else p
        out.append(patches.reshape(len(patches), -1))
    X = np.concatenate(out)
    return X[rng.permutation(len(X))].astype(dtype)


def add_noise(image, noise, seed):
    """``image`` plus Gaussian noise of standard deviation ``noise`` (on 0-255)."""
    rng = np.random.RandomState(seed)
    return image + (noise / 255.0) * rng.standard_normal(image.shape)


def denoise_image(denoise_patches, noisy, size=8, batch=20_000):
    """Denoise every overlapping patch of ``noisy`` and average them back.

    ``denoise_patches`` maps an (m, size**2) array of noisy patches to their
    denoised versions.
    """
    patches = extract_patches_2d(noisy, (size, size)).reshape(-1, size * size)
    out = np.empty_like(patches)
    for start in range(0, len(patches), batch):
        out[start : start + batch] = denoise_patches(patches[start : start + batch])
    return reconstruct_from_patches_2d(out.reshape(-1, size, size), noisy.shape)


def psnr(estimate, clean):
    """Peak signal-to-noise ratio in dB for grey levels in [0, 1]."""
    mse = np.mean((np.clip(estimate, 0, 1) - clean) ** 2)
    return float(10 * np.log10(1.0 / mse))
