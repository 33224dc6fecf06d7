"""Write the saved models that tests/test_robustness.py loads.

Run once per release whose pickles must keep loading:
``python tests/data/make_saved_models.py``. The models are small on purpose.
"""

import warnings
from pathlib import Path

import joblib
import numpy as np
from sklearn.datasets import make_moons
from sklearn.exceptions import ConvergenceWarning

import sklearn_dsm
from sklearn_dsm import DenoisingAutoencoder, ScoreMatchingEBM

METHODS = ("transform", "denoise", "score_function", "score_samples", "energy")


def main():
    here = Path(__file__).parent
    X, _ = make_moons(40, noise=0.1, random_state=0)
    models = {
        "dae": DenoisingAutoencoder(n_components=4, sigma=0.3, random_state=0),
        "ebm": ScoreMatchingEBM(
            n_components=4,
            sigma=0.3,
            n_ais_chains=32,
            n_ais_steps=200,
            random_state=0,
        ),
    }
    outputs = {"X": X}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, model in models.items():
            model.fit(X)
            joblib.dump(model, here / f"{name}_{sklearn_dsm.__version__}.joblib")
            for method in METHODS:
                outputs[f"{name}_{method}"] = getattr(model, method)(X)
    np.savez(here / "saved_models_outputs.npz", **outputs)


if __name__ == "__main__":
    main()
