"""
=============================================
The score field of an energy-based model
=============================================

:class:`~sklearn_dsm.ScoreMatchingEBM` fitted to two moons by denoising score
matching. The model is a density: ``score_samples`` gives its log-density,
with ``log Z`` estimated by AIS at the end of ``fit``, and the filled contours
show it. The arrows are ``score_function``, the gradient of that
log-density. They point up the density, and they are what score matching
fits. The white points are ``sample`` draws from the model.
"""

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons
from sklearn.preprocessing import StandardScaler

from sklearn_dsm import ScoreMatchingEBM

X, _ = make_moons(500, noise=0.08, random_state=0)
X = StandardScaler().fit_transform(X)
ebm = ScoreMatchingEBM(n_components=32, sigma=0.3, random_state=0).fit(X)
print(f"log Z = {ebm.log_partition_:.3f} +/- {ebm.log_partition_std_:.3f}")
print(f"mean log-likelihood of the training rows: {ebm.score(X):.3f} nats")

# %%
# Density, score and samples
# --------------------------
lo, hi = X.min(axis=0) - 0.8, X.max(axis=0) + 0.8
gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
grid = np.column_stack([gx.ravel(), gy.ravel()])
density = np.exp(ebm.score_samples(grid)).reshape(gx.shape)

ax_, ay_ = np.meshgrid(np.linspace(lo[0], hi[0], 22), np.linspace(lo[1], hi[1], 22))
arrows_at = np.column_stack([ax_.ravel(), ay_.ravel()])
score = ebm.score_function(arrows_at)
samples = ebm.sample(300, random_state=1)

fig, ax = plt.subplots(figsize=(7, 5.5))
filled = ax.contourf(gx, gy, density, levels=20, cmap="viridis")
fig.colorbar(filled, ax=ax, label="model density p(x) = exp(score_samples)")
# Arrows scaled by sigma^2: sigma^2 Psi(x) is the denoising step r(x) - x.
step = ebm.sigma_**2 * score
ax.quiver(
    arrows_at[:, 0],
    arrows_at[:, 1],
    step[:, 0],
    step[:, 1],
    color="w",
    angles="xy",
    scale_units="xy",
    scale=1,
    width=0.003,
    alpha=0.8,
)
ax.scatter(
    samples[:, 0],
    samples[:, 1],
    s=6,
    c="white",
    edgecolors="k",
    linewidths=0.3,
    label="300 draws from sample()",
)
ax.set_xlabel("x1 (standardised)")
ax.set_ylabel("x2 (standardised)")
ax.set_title("ScoreMatchingEBM on two moons: density, sigma^2 x score, samples")
ax.legend(loc="lower left")
fig.tight_layout()
# Saved next to this script when run directly; the gallery keeps its own.
if "__file__" in globals():
    fig.savefig(Path(__file__).with_name("plot_score_field.png"))
plt.show()
