"""Every warning a fit raises points at the caller's line, not at our code.

The package's warnings go through one helper (``sklearn_dsm._warnings.warn``)
that skips the package's frames and scikit-learn's method wrappers
(``_fit_context``, ``fit_transform``, ``set_output``), so ``warning.filename``
is this file whichever path the call took.
"""

import warnings
from dataclasses import replace

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_dsm import DenoisingAutoencoder, ScoreMatchingEBM, _density, _objectives


def _caught(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return caught


def _assert_points_here(caught, category, match):
    hits = [w for w in caught if issubclass(w.category, category)]
    hits = [w for w in hits if match in str(w.message)]
    assert hits, f"no {category.__name__} matching {match!r}"
    for w in hits:
        assert w.filename == __file__, (w.filename, w.lineno)


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
@pytest.mark.parametrize("method", ["fit", "fit_transform"])
def test_convergence_warning_points_at_the_call(moons, solver, method):
    est = DenoisingAutoencoder(4, max_iter=2, solver=solver, random_state=0)
    caught = _caught(lambda: getattr(est, method)(moons))
    _assert_points_here(caught, ConvergenceWarning, "stopped at max_iter=2")


def test_ebm_warnings_point_at_the_call(moons, monkeypatch):
    """Mass far from the data and an unreliable log Z (ten temperatures),
    both reported at the fit's line.

    Whether a given fit puts more than 5% of its mass far from the data is
    decided by a handful of AIS chains (at ten temperatures one chain
    carries most of the weight, so the share is near 0 or near 1 and flips
    with the last bit of the data), so the share is fixed here: this test is
    about where the warning points; ``test_diagnostics.py`` tests the share.
    The standard error at ten temperatures is 0.2 to 0.9 nats over seeds and
    1-ulp changes of the data, above the 0.1 that warns.
    """
    monkeypatch.setattr(_density, "far_mass", lambda *args, **kwargs: 0.5)
    ebm = ScoreMatchingEBM(
        64,
        sigma=0.03,
        alpha=0.0,
        max_iter=300,
        n_ais_steps=10,
        whiten=False,
        random_state=0,
    )
    caught = _caught(lambda: ebm.fit(moons))
    assert ebm.far_mass_ == 0.5
    _assert_points_here(caught, UserWarning, "of the model's mass lies farther")
    _assert_points_here(caught, UserWarning, "standard error")


def test_log_z_warnings_after_partial_fit_point_at_the_scoring_call(moons):
    # 20 temperatures: a standard error of 0.2 to 0.4 nats over seeds and
    # 1-ulp changes of the data, above the 0.1 that warns.
    ebm = ScoreMatchingEBM(64, sigma=0.05, alpha=0.0, n_ais_steps=20, random_state=0)
    for _ in range(3):
        ebm.partial_fit(moons)
    caught = _caught(lambda: ebm.score(moons))
    _assert_points_here(caught, UserWarning, "standard error")


def test_interrupted_fit_warning_points_at_the_call(moons, monkeypatch):
    real, calls = _objectives.dsm_objective, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    record = _objectives.OBJECTIVES["dae"]
    monkeypatch.setitem(
        _objectives.OBJECTIVES, "dae", replace(record, optimised=interrupted)
    )
    est = DenoisingAutoencoder(4, tol=0.0, random_state=0)
    caught = []

    def fit():
        with pytest.raises(KeyboardInterrupt):
            est.fit(moons)

    caught = _caught(fit)
    _assert_points_here(caught, UserWarning, "interrupted after")
    assert np.all(np.isfinite(est.components_))
