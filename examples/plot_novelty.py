"""
==========================================================
Novelty detection: an anomaly-score map
==========================================================

:class:`~sklearn_dsm.ScoreMatchingOutlierDetector` fits the energy-based model
to inliers by denoising score matching and scores new rows by their
unnormalised log-density ``-E(x)``. ``decision_function`` shifts it by
``offset_``, the ``contamination`` quantile of the training scores, so the
zero contour encloses the inliers; ``predict`` labels the rows outside
``-1``.

The inliers are two moons; the test rows are fresh moons and uniform
clutter. The maps show the decision functions of the detector and of two
scikit-learn detectors, with their ROC AUC on the test rows.
"""

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import LocalOutlierFactor
from sklearn.preprocessing import StandardScaler

from sklearn_dsm import ScoreMatchingOutlierDetector

rng = np.random.RandomState(0)
X_train, _ = make_moons(400, noise=0.08, random_state=0)
X_new, _ = make_moons(200, noise=0.08, random_state=1)
X_clutter = rng.uniform([-1.5, -1.0], [2.5, 1.5], size=(100, 2))
scaler = StandardScaler().fit(X_train)
X_train, X_new, X_clutter = map(scaler.transform, (X_train, X_new, X_clutter))
X_test = np.vstack([X_new, X_clutter])
labels = np.r_[np.ones(len(X_new)), np.zeros(len(X_clutter))]

detectors = {
    "ScoreMatchingOutlierDetector": ScoreMatchingOutlierDetector(random_state=0),
    "IsolationForest": IsolationForest(contamination=0.1, random_state=0),
    "LocalOutlierFactor(novelty=True)": LocalOutlierFactor(
        novelty=True, contamination=0.1
    ),
}

# %%
# Decision functions: the zero contour is each detector's boundary
# -----------------------------------------------------------------
lo, hi = X_test.min(axis=0) - 0.3, X_test.max(axis=0) + 0.3
gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
grid = np.column_stack([gx.ravel(), gy.ravel()])
fig, axes = plt.subplots(1, 3, figsize=(15, 4.4), sharex=True, sharey=True)
for ax, (name, detector) in zip(axes, detectors.items(), strict=True):
    detector.fit(X_train)
    auc = roc_auc_score(labels, detector.score_samples(X_test))
    decision = detector.decision_function(grid).reshape(gx.shape)
    # Each detector's own units; clip the far field to show the near one.
    levels = np.linspace(np.percentile(decision, 5), decision.max(), 15)
    ax.contourf(gx, gy, np.maximum(decision, levels[0]), levels, cmap="Blues_r")
    ax.contour(gx, gy, decision, [0], colors="tab:red", linewidths=2)
    ax.scatter(X_new[:, 0], X_new[:, 1], s=6, c="k", label="new inliers")
    ax.scatter(
        X_clutter[:, 0],
        X_clutter[:, 1],
        s=12,
        c="tab:orange",
        marker="x",
        label="clutter",
    )
    ax.set_title(f"{name}\nROC AUC {auc:.3f}")
    print(f"{name}: ROC AUC {auc:.3f}")
axes[0].legend(loc="lower left", fontsize=8)
fig.suptitle("decision_function (red: 0, the boundary)")
fig.tight_layout()

# Saved next to this script when run directly; the gallery keeps its own.
if "__file__" in globals():
    fig.savefig(Path(__file__).with_name("plot_novelty.png"))
plt.show()
