"""scikit-learn's callbacks (sklearn.callback) follow a fit's tasks."""

import importlib
import sys
import warnings

import numpy as np
import pytest
from sklearn.callback import ProgressBar
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_dsm import (
    DenoisingAutoencoder,
    ScoreMatchingEBM,
    ScoreMatchingOutlierDetector,
)


class Recorder:
    """A FitCallback that writes down every hook call, in order."""

    def __init__(self):
        self.events = []

    def setup(self, estimator, context):
        self.events.append(("setup", None, None))

    def teardown(self, estimator, context):
        self.events.append(("teardown", None, None))

    def on_fit_task_begin(self, estimator, context):
        self.events.append(("begin", context.task_name, context.task_id))

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        self.events.append(("end", context.task_name, context.task_id))
        self.fitted.append(fitted_estimator)

    fitted = None

    def leaves(self, name):
        """(task_id, fitted estimator) of every ended leaf task ``name``."""
        return [
            (event[2], fitted)
            for event, fitted in zip(self.ended(), self.fitted, strict=True)
            if event[1] == name
        ]

    def ended(self):
        return [e for e in self.events if e[0] == "end"]


def _record(est, X):
    recorder = Recorder()
    recorder.fitted = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_callbacks(recorder).fit(X)
    return recorder


def test_one_task_per_lbfgs_iteration_with_that_iteration_s_model(moons, small):
    est = small(DenoisingAutoencoder, max_iter=12, tol=0.0)
    rec = _record(est, moons)
    kinds = [e[:2] for e in rec.events]
    assert kinds[:4] == [
        ("setup", None),
        ("begin", "fit"),
        ("begin", "lbfgs"),
        ("begin", "iteration"),
    ]
    assert kinds[-3:] == [("end", "lbfgs"), ("end", "fit"), ("teardown", None)]
    # Every begin has its end, nested and in order.
    stack = []
    for kind, name, task_id in rec.events[1:-1]:
        if kind == "begin":
            stack.append((name, task_id))
        else:
            assert stack.pop() == (name, task_id)
    assert stack == []
    # One task per iteration, numbered in order, plus the empty one begun
    # after the last iteration (as LogisticRegression's L-BFGS reports).
    leaves = rec.leaves("iteration")
    assert [task_id for task_id, _ in leaves] == list(range(est.n_iter_ + 1))
    assert leaves[-1][1] is None
    # Each ran iteration hands over a fitted copy holding that iterate; the
    # last one is the model.
    for k in (0, 5, est.n_iter_ - 1):
        copy = leaves[k][1]
        assert copy is not est
        assert copy.energy(moons[:3]).shape == (3,)
    np.testing.assert_array_equal(leaves[-2][1].components_, est.components_)
    assert not np.array_equal(leaves[0][1].components_, est.components_)
    # Only the callbacks set stay on the estimator, no fit-time state.
    assert {k for k in vars(est) if k.startswith("_")} == {"_skl_callbacks"}


def test_callbacks_do_not_change_the_fit(moons, small, Estimator):
    plain = small(Estimator, max_iter=15, tol=0.0, fast_ais=False)
    watched = small(Estimator, max_iter=15, tol=0.0, fast_ais=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain.fit(moons)
    _record(watched, moons)
    np.testing.assert_array_equal(plain.components_, watched.components_)
    np.testing.assert_array_equal(
        plain.score_samples(moons), watched.score_samples(moons)
    )


def test_adam_epochs_ais_temperatures_and_likelihood_steps_are_tasks(moons, small):
    adam = small(DenoisingAutoencoder, solver="adam", max_iter=4, tol=0.0)
    rec = _record(adam, moons)
    assert [t for t, _ in rec.leaves("epoch")] == list(range(5))
    np.testing.assert_array_equal(
        rec.leaves("epoch")[-2][1].components_, adam.components_
    )

    ebm = small(ScoreMatchingEBM, max_iter=5, tol=0.0, alpha=0.1, mle_steps=3)
    ebm.set_params(n_ais_steps=20)
    rec = _record(ebm, moons)
    names = [name for kind, name, _ in rec.events if kind == "begin"]
    # The root's subtasks, in order: the solver, the refinement, then AIS
    # (with a fixed alpha, log Z is estimated once, for the refined model).
    assert [n for n in names if n in ("lbfgs", "ais", "likelihood")] == [
        "lbfgs",
        "likelihood",
        "ais",
    ]
    assert len(rec.leaves("temperature")) == 20 + 1
    assert len(rec.leaves("step")) == 3 + 1
    # A copy from the middle of the fit is a density: log Z on first use,
    # which reports nothing into the finished fit's tasks.
    middle = rec.leaves("iteration")[2][1]
    n_events = len(rec.events)
    assert np.all(np.isfinite(middle.score_samples(moons[:5])))
    assert len(rec.events) == n_events


def test_outlier_detector_copies_can_predict(moons):
    det = ScoreMatchingOutlierDetector(4, max_iter=8, tol=0.0, random_state=0)
    rec = _record(det, moons)
    copy = rec.leaves("iteration")[3][1]
    labels = copy.predict(moons)
    assert set(np.unique(labels)) <= {-1, 1}
    assert np.mean(labels == -1) == pytest.approx(0.1, abs=2 / len(moons))


def test_a_progress_bar_runs_inside_grid_search(moons, capsys):
    search = GridSearchCV(
        DenoisingAutoencoder(4, random_state=0), {"sigma": [0.2, 0.4]}, cv=2
    )
    search.set_callbacks(ProgressBar())
    search.fit(moons)
    assert search.best_params_["sigma"] in (0.2, 0.4)
    # Propagated through the search and torn down: nothing left behind.
    assert not hasattr(search.best_estimator_, "_callback_fit_ctx")


def test_set_callbacks_names_the_version_needed_without_sklearn_callback(
    monkeypatch,
):
    import sklearn_dsm._progress as progress

    monkeypatch.setitem(sys.modules, "sklearn.callback", None)  # as before 1.9
    try:
        stand_in = importlib.reload(progress).CallbackSupportMixin
        with pytest.raises(RuntimeError, match=r"scikit-learn >= 1\.9"):
            stand_in().set_callbacks(object())
        # The fit reports nothing and works.
        assert not hasattr(stand_in, "_init_callback_context")
    finally:
        monkeypatch.undo()
        importlib.reload(progress)


def test_a_progress_bar_set_on_a_pipeline_reaches_its_estimator(moons):
    pipe = Pipeline(
        [("scale", StandardScaler()), ("dae", DenoisingAutoencoder(4, random_state=0))]
    )
    pipe.set_callbacks(ProgressBar()).fit(moons)
    plain = DenoisingAutoencoder(4, random_state=0).fit(
        StandardScaler().fit_transform(moons)
    )
    np.testing.assert_array_equal(pipe[-1].components_, plain.components_)


def test_an_interrupted_fit_ends_its_tasks_and_leaves_no_fit_state(moons, monkeypatch):
    import sklearn_dsm._solvers as solvers

    calls = []
    original = solvers.flat_objective

    def interrupting(*args, **kwargs):
        calls.append(None)
        if len(calls) == 15:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(solvers, "flat_objective", interrupting)
    recorder = Recorder()
    recorder.fitted = []
    est = DenoisingAutoencoder(4, sigma=0.3, random_state=0).set_callbacks(recorder)
    with pytest.raises(KeyboardInterrupt), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(moons, sample_weight=np.ones(len(moons)))
    # The call's state never lived on the estimator; only its callbacks stay.
    assert {k for k in vars(est) if k.startswith("_")} <= {"_skl_callbacks"}
    ends = [name for kind, name, _ in recorder.events if kind == "end"]
    assert ends[-2:] == ["lbfgs", "fit"]
    assert recorder.events[-1][0] == "teardown"


@pytest.mark.parametrize(
    "Estimator", [DenoisingAutoencoder, ScoreMatchingEBM, ScoreMatchingOutlierDetector]
)
def test_a_refit_s_copies_are_this_fit_s_model_not_the_previous_one(
    moons, small, Estimator
):
    """The estimator holds the previous fit until a refit ends; the copies
    handed to the callbacks must not mix its whitening or feature names into
    this fit's iterates, and the fit's own task must end on the new model."""
    import pandas as pd  # in the test extra

    est = small(Estimator, whiten=True, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(pd.DataFrame(moons * 3.0, columns=["a", "b"]))
    ended = []

    class EndOfFit(Recorder):
        def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
            super().on_fit_task_end(
                estimator, context, fitted_estimator=fitted_estimator
            )
            if context.task_name == "fit":
                ended.append(estimator.components_.copy())

    recorder = EndOfFit()
    recorder.fitted = []
    est.set_params(whiten=False, max_iter=8).set_callbacks(recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(moons)
    last = recorder.leaves("iteration")[-2][1]
    assert not hasattr(last, "whitening_") and not hasattr(last, "feature_names_in_")
    np.testing.assert_array_equal(last.components_, est.components_)
    np.testing.assert_array_equal(last.energy(moons), est.energy(moons))
    np.testing.assert_array_equal(ended[0], est.components_)
