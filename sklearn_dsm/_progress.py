"""A fit's progress, reported to scikit-learn's callbacks (``sklearn.callback``).

A fit is one task with sequential subtasks: one per solver round (L-BFGS
iterations or Adam epochs; ``alpha="auto"`` may add rounds), and for
:class:`ScoreMatchingEBM` one per AIS run (its temperatures) and for the
likelihood refinement (its steps). Each iteration, epoch, temperature or step
is a leaf task, begun and ended in order, as scikit-learn's own
``LogisticRegression`` reports its L-BFGS iterations. A callback that asks
for ``fitted_estimator`` gets a copy of the estimator with the parameters of
that iteration.

scikit-learn before 1.9 has no ``sklearn.callback``: there ``set_callbacks``
raises an error naming the version needed, and a fit reports nothing.
"""

import sklearn

from ._theta import unpack

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn < 1.9

    class CallbackSupportMixin:
        """Stand-in for scikit-learn's mixin where it does not exist yet."""

        def set_callbacks(self, *callbacks):
            """Unavailable: scikit-learn's callbacks need scikit-learn >= 1.9."""
            raise RuntimeError(
                f"set_callbacks needs scikit-learn >= 1.9, which has "
                f"sklearn.callback; this is scikit-learn {sklearn.__version__}."
            )


class FitProgress:
    """The root task of one fit, and the subtasks it reports."""

    def __init__(self, estimator, X):
        self.estimator = estimator
        self.X = X
        self.context = None
        if hasattr(estimator, "_init_callback_context"):
            self.context = estimator._init_callback_context(max_subtasks=None)
            self.context.call_on_fit_task_begin(estimator=estimator, X=X)
        # Subtasks only when someone listens: a fit without callbacks pays
        # nothing per iteration.
        self.listening = self.context is not None and bool(
            getattr(estimator, "_skl_callbacks", None)
        )

    def steps(self, task_name, step_name, max_steps, shape=None, complete=None):
        """A subtask of ``max_steps`` leaf steps; ``None`` if nobody listens.

        With ``shape`` (n_components, n_features, dtype), each step's flat
        theta rebuilds a fitted estimator for the callbacks that ask for one:
        ``complete(attributes)`` adds what else it needs (sigma_, ...).
        """
        if not self.listening:
            return None
        return _Steps(self, task_name, step_name, max_steps, shape, complete)

    def end(self):
        """End the fit's task, with the estimator as fitted."""
        if self.context is not None:
            self.context.call_on_fit_task_end(estimator=self.estimator, X=self.X)


class _Steps:
    """One subtask whose leaves are begun and ended in order: ``step`` ends
    the current leaf (with its result) and begins the next; ``close`` ends the
    one begun last, which never ran, as an empty task."""

    def __init__(self, progress, task_name, step_name, max_steps, shape, complete):
        self.progress, self.shape, self.complete = progress, shape, complete
        self.step_name = step_name
        # One more leaf than steps: the last one begun is closed empty.
        self.context = progress.context.subcontext(
            task_name=task_name, max_subtasks=max_steps + 1
        )
        self.context.call_on_fit_task_begin(estimator=progress.estimator, X=progress.X)
        self.leaf = self._begin()

    def _begin(self):
        leaf = self.context.subcontext(task_name=self.step_name)
        leaf.call_on_fit_task_begin(
            estimator=self.progress.estimator, X=self.progress.X
        )
        return leaf

    def _attributes(self, theta):
        if theta is None or self.shape is None:
            return None

        def rebuild():  # evaluated only for callbacks that ask for it
            W, b, c = unpack(theta, *self.shape)
            attributes = {
                "components_": W,
                "intercept_hidden_": b,
                "intercept_visible_": c,
            }
            return self.complete(attributes) if self.complete else attributes

        return rebuild

    def step(self, theta=None):
        """End the current leaf (its parameters ``theta``); begin the next."""
        self.leaf.call_on_fit_task_end(
            estimator=self.progress.estimator,
            X=self.progress.X,
            reconstruction_attributes=self._attributes(theta),
        )
        self.leaf = self._begin()

    def close(self):
        self.leaf.call_on_fit_task_end(estimator=self.progress.estimator)
        self.context.call_on_fit_task_end(estimator=self.progress.estimator)
