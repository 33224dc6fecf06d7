"""What holds the patch denoiser back: the L2 penalty, and the single layer.

``bench_images.py``'s recipe (``_patches.py``: 100,000 standardised 8 x 8
training patches, the held-out region of ``china.jpg``, PSNR in dB), two
studies:

1. ``alpha``: ``DenoisingAutoencoder(sigma)`` at its default penalty 0.1
   and at 1e-3, paired over seeds, at noise 15, 25 and 50 (64 units, the
   default), and once at the best setting's 1024 units. ``alpha`` is in
   score-matching units, where the data term falls as ``1 / sigma^2`` and
   the penalty does not, so its weight grows with the noise.
2. ``models`` (needs PyTorch: ``pip install ".[bench]"``): the same data
   through one PyTorch loop (Adam in batches of 1000 for ``--epochs``
   epochs, a one-cycle step peaking at 2e-3, no penalty) for four models:
   the package's tied ReLU autoencoder of 1024 units, the same width
   untied, the tied one with a learned scalar skip (``a x + W^T h + c``,
   still the gradient of an energy), and two untied hidden layers of 512
   units (no longer an energy model). Same loop, same schedule; the tied
   models start from Glorot's normal draw, the untied ones from PyTorch's
   default ``Linear`` start.

Run: ``python benchmarks/study_patch_models.py`` (about 25 minutes on 2
cores; ``--jobs alpha`` or ``--jobs models`` picks one, ``--noise 25``
one level, ``--quick`` 10,000 patches and a few epochs).
"""

import argparse
import time

import numpy as np
from _patches import add_noise, denoise_image, psnr, regions, training_patches
from bench_images import BEST as BEST_SETTING
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info

from sklearn_dsm import DenoisingAutoencoder

# bench_images.py's best setting, with the penalty this study varies.
BEST = {k: v for k, v in BEST_SETTING.items() if k != "alpha"}


def setting(n, noise):
    """(standardised float32 patches, sigma in their units, the noise per
    standardised pixel, a scorer of a denoiser of standardised rows)."""
    X = training_patches(n, dtype=np.float32)
    scaler = StandardScaler().fit(X)
    Z = scaler.transform(X).astype(np.float32)
    _, _, test = regions()
    noisy = add_noise(test, noise, seed=1)
    sigma = float(noise / 255 / np.sqrt(np.mean(scaler.scale_**2)))

    def score(denoise_rows):
        def f(P):
            return scaler.inverse_transform(
                denoise_rows(scaler.transform(P).astype(np.float32))
            )

        return psnr(denoise_image(f, noisy), test)

    return Z, sigma, (noise / 255) / scaler.scale_, score


def alpha_study(noises, n, seeds, quick):
    print("\n## alpha: 0.1 (the default) against 1e-3, paired over seeds")
    for noise in noises:
        Z, sigma, _, score = setting(n, noise)
        runs = {}
        for alpha in (0.1, 1e-3):
            runs[alpha] = []
            for seed in range(seeds):
                dae = DenoisingAutoencoder(sigma=sigma, alpha=alpha, random_state=seed)
                runs[alpha].append(score(dae.fit(Z).denoise))
        diff = np.subtract(runs[1e-3], runs[0.1])
        print(
            f"noise {noise}, 64 units: {np.mean(runs[0.1]):.3f} -> "
            f"{np.mean(runs[1e-3]):.3f} dB, paired {diff.mean():+.3f} +/- "
            f"{diff.std(ddof=1) / np.sqrt(seeds):.3f} over {seeds} seeds"
        )
        best = dict(BEST, max_iter=3) if quick else BEST
        row = []
        for alpha in (0.1, 1e-3):
            start = time.perf_counter()
            dae = DenoisingAutoencoder(sigma=sigma, alpha=alpha, random_state=0, **best)
            dae.fit(Z)
            seconds = time.perf_counter() - start
            row.append(
                f"alpha {alpha}: {score(dae.denoise):.2f} dB "
                f"({dae.n_iter_} ep, {seconds:.0f} s)"
            )
        print(f"noise {noise}, 1024 units: " + "; ".join(row))


def models_study(noises, n, epochs):
    import torch

    torch.set_num_threads(2)
    print(f"\n## models: one PyTorch loop, {epochs} epochs, batches of 1000")
    d = 64

    class Tied(torch.nn.Module):
        def __init__(self, units, skip=False):
            super().__init__()
            scale = np.sqrt(2.0 / (units + d))
            self.W = torch.nn.Parameter(torch.randn(units, d) * scale)
            self.b = torch.nn.Parameter(torch.zeros(units))
            self.c = torch.nn.Parameter(torch.zeros(d))
            self.a = torch.nn.Parameter(torch.zeros(1)) if skip else None

        def forward(self, x):
            r = torch.relu(x @ self.W.T + self.b) @ self.W + self.c
            return r if self.a is None else r + self.a * x

    def untied(*sizes):
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(torch.nn.ReLU())
        return torch.nn.Sequential(*layers)

    models = {
        "tied, 1024 units (the package's model)": lambda: Tied(1024),
        "untied, 1024 units": lambda: untied(d, 1024, d),
        "tied, 1024 units + scalar skip": lambda: Tied(1024, skip=True),
        "untied, two layers of 512": lambda: untied(d, 512, 512, d),
    }
    for noise in noises:
        Z, _, per_pixel, score = setting(n, noise)
        X = torch.tensor(Z)
        # The noise per standardised pixel (the pixels' scales differ by a
        # few percent; the package's sigma above is noise / 255 over their
        # root mean square, within 1e-6 of the per-pixel noise's).
        s = torch.tensor(per_pixel, dtype=torch.float32)
        for label, make in models.items():
            torch.manual_seed(0)
            model = make()
            optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
            steps = epochs * (len(X) // 1000)
            schedule = torch.optim.lr_scheduler.OneCycleLR(
                optimizer, 2e-3, total_steps=steps, pct_start=0.05
            )
            start = time.perf_counter()
            for _ in range(epochs):
                order = torch.randperm(len(X))
                for i in range(0, len(X) - 999, 1000):
                    x = X[order[i : i + 1000]]
                    loss = ((model(x + s * torch.randn_like(x)) - x) ** 2).sum(1)
                    optimizer.zero_grad()
                    loss.mean().backward()
                    optimizer.step()
                    schedule.step()
            seconds = time.perf_counter() - start

            def denoise(P, model=model):
                with torch.no_grad():
                    return model(torch.tensor(P)).numpy()

            print(
                f"noise {noise}, {label:<40} {score(denoise):6.2f} dB ({seconds:.0f} s)"
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", default="alpha,models")
    parser.add_argument("--noise", default="15,25,50")
    parser.add_argument("--seeds", type=int, default=3, help="at least 2")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    noises = [int(v) for v in args.noise.split(",")]
    if args.seeds < 2:
        parser.error("--seeds must be at least 2 (a paired standard error)")
    n, epochs = (10_000, 5) if args.quick else (100_000, args.epochs)
    for info in threadpool_info():
        print(
            f"{info['internal_api']} {info.get('version')} "
            f"{info.get('architecture')} threads={info['num_threads']}"
        )
    jobs = args.jobs.split(",")
    if "alpha" in jobs:
        alpha_study(noises, n, args.seeds if not args.quick else 2, args.quick)
    if "models" in jobs:
        models_study(noises, n, epochs)


if __name__ == "__main__":
    main()
