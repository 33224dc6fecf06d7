"""A fixed set of fits whose every output is recorded in ``data/golden_fits.npz``.

The recording guards refactors that promise "no behaviour change": each case
fits a model through the public API only, with every hyperparameter that
matters spelt out (so a change of default does not move it), and returns the
fitted attributes and a few method outputs. It was made before the modules
were reorganised, and re-recorded when the stopping rule, the far-mass
radius and the sampler's sigmoid changed on purpose, and when warm_start began
to continue loss_curve_, when minibatch Adam began to draw its noise
from a ``numpy.random.Generator`` in the data's dtype, and when its noise
became Box-Muller draws, float32 first, then float64 too (see the git log).
``test_golden.py`` replays the cases and compares them with the recording;
``data/make_golden_fits.py`` writes it.

Bits depend on the arithmetic underneath: numpy's and scipy's versions, the
BLAS build, its kernel for this CPU and its thread count. The recording keeps
that fingerprint; where it matches, the test demands identical bits.
"""

import warnings

import numpy as np
import scipy
import threadpoolctl
from sklearn.datasets import load_digits, make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sklearn_dsm import DenoisingAutoencoder, ScoreMatchingEBM

_ATTRIBUTES = (
    "components_",
    "intercept_hidden_",
    "intercept_visible_",
    "n_iter_",
    "loss_",
    "loss_curve_",
    "validation_loss_curve_",
    "best_validation_loss_",
    "log_partition_",
    "log_partition_std_",
    "far_mass_",
    "alpha_",
)
# Recorded key -> method; "hyvarinen_score" was hyvarinen_loss's name until 0.2.
_METHODS = {
    "transform": "transform",
    "score_samples": "score_samples",
    "hyvarinen_score": "hyvarinen_loss",
}


def _moons(dtype=np.float64):
    X, _ = make_moons(80, noise=0.08, random_state=0)
    return StandardScaler().fit_transform(X).astype(dtype)


def _digits(dtype=np.float32):
    X = load_digits().data[:400]
    return StandardScaler().fit_transform(X).astype(dtype)


def _small(Estimator, **params):
    base = dict(
        n_components=6,
        # The recordings are the paper's sigmoid model (the autoencoder's
        # default when they were made).
        activation="sigmoid",
        sigma=0.4,
        n_corruptions=3,
        alpha=0.1,
        max_iter=40,
        tol=1e-6,
        n_iter_no_change=10,
        random_state=0,
        whiten=False,
    )
    if Estimator is ScoreMatchingEBM:
        # The criterion the EBM had by default when the cases were recorded,
        # and its density without the tail component that came later.
        base.update(n_ais_chains=32, n_ais_steps=150, objective="dsm", tail=None)
    return Estimator(**{**base, **params})


def _fit(est, X):
    return est.fit(X)


def _partial_fit_stream(est, X):
    for rows in (slice(0, 40), slice(40, 80), slice(0, 80)):
        est.partial_fit(X[rows])
    return est


def _warm_start(est, X):
    est.fit(X)
    est.set_params(warm_start=True, max_iter=10)
    return est.fit(X)


def _cases():
    cases = {}
    for Estimator in (DenoisingAutoencoder, ScoreMatchingEBM):
        short = "dae" if Estimator is DenoisingAutoencoder else "ebm"
        for objective in ("dae", "dsm", "esm", "ism"):
            cases[f"{short}-lbfgs-{objective}"] = (
                lambda E=Estimator, o=objective: _small(E, objective=o),
                _moons,
                _fit,
            )
        cases[f"{short}-lbfgs-ism-clean"] = (
            lambda E=Estimator: _small(E, objective="ism", n_corruptions=0),
            _moons,
            _fit,
        )
        cases[f"{short}-adam"] = (
            lambda E=Estimator: _small(
                E, solver="adam", max_iter=15, batch_size=16, learning_rate_init=0.01
            ),
            _moons,
            _fit,
        )
        cases[f"{short}-adam-early-stopping"] = (
            lambda E=Estimator: _small(
                E,
                solver="adam",
                max_iter=15,
                batch_size=16,
                learning_rate_init=0.01,
                early_stopping=True,
                n_iter_no_change=3,
            ),
            _moons,
            _fit,
        )
        cases[f"{short}-partial-fit"] = (
            lambda E=Estimator: _small(E, batch_size=16, learning_rate_init=0.01),
            _moons,
            _partial_fit_stream,
        )
        cases[f"{short}-warm-start"] = (
            lambda E=Estimator: _small(E),
            _moons,
            _warm_start,
        )
        cases[f"{short}-float32"] = (
            lambda E=Estimator: _small(E),
            lambda: _moons(np.float32),
            _fit,
        )
        cases[f"{short}-adam-float32"] = (
            lambda E=Estimator: _small(
                E, solver="adam", max_iter=5, batch_size=16, learning_rate_init=0.01
            ),
            lambda: _moons(np.float32),
            _fit,
        )
    # Digits-sized: chunks, several corruption blocks, products on BLAS threads.
    cases["dae-digits-float32"] = (
        lambda: _small(DenoisingAutoencoder, n_components=32, max_iter=15),
        _digits,
        _fit,
    )
    cases["ebm-digits-esm-float64"] = (
        lambda: _small(
            ScoreMatchingEBM, n_components=16, objective="esm", max_iter=10, sigma=1.0
        ),
        lambda: _digits(np.float64),
        _fit,
    )
    cases["ebm-mle"] = (
        lambda: _small(ScoreMatchingEBM, mle_steps=5),
        _moons,
        _fit,
    )
    return cases


CASES = _cases()


def run_case(name):
    """Fit case ``name``; return ``{key: ndarray}`` of everything it produced."""
    make, data, how = CASES[name]
    X = data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        est = how(make(), X)
        out = {}
        # Methods first: after partial_fit, score_samples estimates the
        # deferred log Z (seeded by the parameters, so whenever it runs);
        # update_log_partition stores that same estimate.
        for key, method in _METHODS.items():
            out[key] = np.asarray(getattr(est, method)(X[:10]))
        if hasattr(est, "update_log_partition"):
            est.update_log_partition()
        for attr in _ATTRIBUTES:
            if hasattr(est, attr):
                out[attr] = np.asarray(getattr(est, attr))
        out["sample"] = est.sample(4, random_state=0)
    return out


def fingerprint():
    """What the bits of a fit depend on, besides the package's own code."""
    from numpy._core._multiarray_umath import __cpu_features__

    blas = sorted(
        f"{i.get('internal_api')}-{i.get('version')}-{i.get('architecture')}"
        f"-{i.get('num_threads')}"
        for i in threadpoolctl.threadpool_info()
        if i["user_api"] == "blas"
    )
    simd = sorted(name for name, found in __cpu_features__.items() if found)
    return "|".join(
        [f"numpy-{np.__version__}", f"scipy-{scipy.__version__}", *blas, *simd]
    )
