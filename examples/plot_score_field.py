"""
=============================================
The score field of an energy-based model
=============================================

:class:`~sklearn_dsm.ScoreMatchingEBM` fitted to two moons by denoising score
matching. The model is a density: ``score_samples`` gives its log-density,
with ``log Z`` estimated by AIS at the end of ``fit``, and the filled contours
of :class:`~sklearn_dsm.DensityDisplay` show it. The arrows are
the step ``denoise`` takes, Tweedie's step up that log-density. They
point up the density, and they are what score matching fits. The white points
are ``sample`` draws from the model. A :class:`~sklearn_dsm.LossCurveDisplay`
shows the objective along the fit.
"""

# %%
from pathlib import Path

import matplotlib.pyplot as plt
from sklearn.datasets import make_moons
from sklearn.preprocessing import StandardScaler

from sklearn_dsm import DensityDisplay, LossCurveDisplay, ScoreMatchingEBM

X, _ = make_moons(500, noise=0.08, random_state=0)
X = StandardScaler().fit_transform(X)
ebm = ScoreMatchingEBM(n_components=32, sigma=0.3, random_state=0).fit(X)
print(f"log Z = {ebm.log_partition_:.3f} +/- {ebm.log_partition_std_:.3f}")
print(f"mean log-likelihood of the training rows: {ebm.score(X):.3f} nats")

# %%
# Density, score and samples
# --------------------------
# DensityDisplay draws the density on a grid around the data, the step
# ``denoise`` takes as arrows (sigma^2 Psi(x), times the data's covariance as
# the model is whitened: they point up the density, and score matching fits
# them), the data, and draws from ``sample``.
fig, ax = plt.subplots(figsize=(7, 5.5))
DensityDisplay.from_estimator(
    ebm,
    X,
    grid_resolution=200,
    eps=0.8,
    n_arrows=16,
    density=True,
    n_samples=300,
    random_state=1,
    ax=ax,
)
ax.set_xlabel("x1 (standardised)")
ax.set_ylabel("x2 (standardised)")
ax.set_title("ScoreMatchingEBM on two moons: density, denoising steps, samples")
fig.tight_layout()
# Saved next to this script when run directly; the gallery keeps its own.
if "__file__" in globals():
    fig.savefig(Path(__file__).with_name("plot_score_field.png"))
plt.show()

# %%
# The fit
# -------
# ``loss_curve_``: the DSM objective after each L-BFGS iteration; the fit
# stops when it moves by less than ``tol`` over ``n_iter_no_change`` of them.
LossCurveDisplay.from_estimator(ebm)
plt.show()
