"""
==========================================================
Learned filters and features of a denoising autoencoder
==========================================================

A :class:`~sklearn_dsm.DenoisingAutoencoder` with 100 hidden units is trained
on scikit-learn's 8x8 digits. Each row of ``components_`` is a filter over
the 64 pixels. The first figure shows them as images. The second compares
the test accuracy of a logistic regression on four representations of the
same split: raw pixels, PCA, :class:`~sklearn.neural_network.BernoulliRBM`
features, and the autoencoder's ``transform``.
"""

# %%
from pathlib import Path

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import make_pipeline

from sklearn_dsm import DenoisingAutoencoder, FiltersDisplay

X, y = load_digits(return_X_y=True)
X = X / 16.0  # pixels in [0, 1]
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0, stratify=y
)

dae = DenoisingAutoencoder(n_components=100, sigma=0.2, random_state=0)
dae.fit(X_train)

# %%
# The filters
# -----------
# Each filter is a row ``W_i``; hidden unit ``i`` computes ``sigmoid(W_i x + b_i)``.
# Each image has its own colour scale, symmetric about zero. Most filters are
# broad, digit-sized templates: negative weights over the strokes of some
# digits, positive over others. A few are small, localised stroke detectors.
# FiltersDisplay draws them, in the order stored (``order="norm"``, the
# default, would put the largest first).
display = FiltersDisplay.from_estimator(dae, order="index", figsize=(7, 7.4))
fig = display.figure_
fig.suptitle(
    "DenoisingAutoencoder(100, sigma=0.2) on digits: the filters W_i\n"
    "(red: positive weight, blue: negative; each on its own scale)"
)
fig.tight_layout()


# %%
# Features for a classifier
# -------------------------
# The same classifier on each representation, fitted on the training split.
def classifier():
    return LogisticRegression(C=10, max_iter=3000)


models = {
    "raw pixels": classifier(),
    "PCA(40)": make_pipeline(PCA(40, random_state=0), classifier()),
    "BernoulliRBM(100)": make_pipeline(
        BernoulliRBM(100, learning_rate=0.06, n_iter=20, random_state=0),
        classifier(),
    ),
}
accuracy = {
    name: model.fit(X_train, y_train).score(X_test, y_test)
    for name, model in models.items()
}
# The autoencoder is already fitted above: fit the classifier on its features.
features = classifier().fit(dae.transform(X_train), y_train)
accuracy["DenoisingAutoencoder(100)"] = features.score(dae.transform(X_test), y_test)
for name, value in accuracy.items():
    print(f"{name:<28} test accuracy {value:.4f}")

fig2, ax = plt.subplots(figsize=(7, 2.8))
names = list(accuracy)
bars = ax.barh(names, [accuracy[n] for n in names], color="tab:blue")
ax.bar_label(bars, fmt="%.3f", padding=3)
ax.set_xlim(0.85, 1.0)
ax.set_xlabel("test accuracy (450 held-out digits)")
ax.set_title("Test accuracy of LogisticRegression(C=10) per representation")
fig2.tight_layout()

# Saved next to this script when run directly; the gallery keeps its own.
if "__file__" in globals():
    for name, figure in (("filters", fig), ("accuracy", fig2)):
        figure.savefig(Path(__file__).with_name(f"plot_digits_filters_{name}.png"))
plt.show()
