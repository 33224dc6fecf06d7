"""The model as a novelty detector: rows of low density are outliers."""

from numbers import Real

import numpy as np
from sklearn.base import OutlierMixin
from sklearn.utils._array_api import check_same_namespace
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from . import _model
from ._base import _BaseDSM
from ._docstrings import FIT_PARAMETERS, own_examples, shared_parameters
from ._scaling import weighted_percentile
from ._xp import home


@own_examples("detector")
@shared_parameters(
    "n_components",
    "contamination",
    "activation:sigmoid",
    "sigma:silverman",
    "objective",
    "n_corruptions",
    "alpha:fixed",
    *FIT_PARAMETERS,
    "whiten:off",
    default="ism",
    rule='``1e-4`` (Adam where ``solver="auto"`` would pick it: ``1e-2``)',
    alpha="",
    why="an inlier class is often too small for its covariance to whiten well",
)
class ScoreMatchingOutlierDetector(OutlierMixin, _BaseDSM):
    """Novelty detection by the energy of a score-matching density model.

    Fits the model ``p(x) = exp(-E(x)) / Z`` of :class:`ScoreMatchingEBM` to
    the rows given (the inliers) by score matching, and scores new
    rows by their unnormalised log-density ``-E(x)``: the lower, the more
    abnormal. ``log Z`` is a constant, so the ranking needs no annealed
    importance sampling and the fit costs what :class:`DenoisingAutoencoder`'s
    does. ``decision_function`` is ``score_samples - offset_``, with
    ``offset_`` the ``contamination`` quantile of the training rows' scores;
    ``predict`` is ``+1`` for inliers and ``-1`` for outliers, as in
    :class:`~sklearn.ensemble.IsolationForest`.

    Parameters
    ----------
    <<parameters>>

    Attributes
    ----------
    offset_ : float
        ``decision_function = score_samples - offset_``: the
        ``contamination`` quantile of the training rows' ``score_samples``.
    sigma_ : float
        The noise level used.
    alpha_ : float
        The penalty used.
    components_ : ndarray of shape (n_components, n_features)
        Tied weights W.
    intercept_hidden_ : ndarray of shape (n_components,)
        Hidden biases b.
    intercept_visible_ : ndarray of shape (n_features,)
        Visible biases c.
    solver_ : str
        The solver the fit used (``solver="auto"`` resolved).
    n_iter_ : int
        Number of iterations (or epochs) run.
    loss_ : float
        Final value of the objective.
    loss_curve_ : list of float
        Objective after each iteration (or epoch); continued under
        ``warm_start``.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    ScoreMatchingEBM : The same model as a normalised density.
    sklearn.ensemble.IsolationForest : Isolation-based outlier detection.
    sklearn.neighbors.LocalOutlierFactor : Density-ratio outlier detection.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_dsm import ScoreMatchingOutlierDetector
    >>> X = np.random.RandomState(0).normal(size=(200, 2))
    >>> detector = ScoreMatchingOutlierDetector(n_components=8, random_state=0)
    >>> detector.fit(X).predict([[0.0, 0.0], [6.0, 6.0]])
    array([ 1, -1])
    """

    _is_density = True

    _parameter_constraints: dict = {
        **_BaseDSM._parameter_constraints,
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
    }

    def __init__(
        self,
        n_components=64,
        *,
        contamination=0.1,
        activation="sigmoid",
        sigma="auto",
        objective="ism",
        n_corruptions="auto",
        alpha=0.1,
        max_iter=2000,
        tol=None,
        random_state=None,
        verbose=0,
        warm_start=False,
        solver="auto",
        batch_size="auto",
        learning_rate_init="auto",
        shuffle=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change="auto",
        whiten=False,
    ):
        super().__init__(
            n_components,
            activation=activation,
            sigma=sigma,
            objective=objective,
            n_corruptions=n_corruptions,
            alpha=alpha,
            max_iter=max_iter,
            tol=tol,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
            solver=solver,
            batch_size=batch_size,
            learning_rate_init=learning_rate_init,
            shuffle=shuffle,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            whiten=whiten,
        )
        self.contamination = contamination

    def _after_fit(self, call):
        # Scores are log-densities up to a constant: only of a density.
        self._check_density()
        self._set_offset(call)

    def _after_partial_fit(self, call):
        self._check_density()
        self._set_offset(call)

    def _rebuilt(self, attributes, X, weights):
        theta = (
            attributes["components_"],
            attributes["intercept_hidden_"],
            attributes["intercept_visible_"],
        )
        attributes["offset_"] = self._offset(X, weights, theta, attributes["sigma_"])
        return attributes

    def _offset(self, Z, weights, theta, sigma):
        """The ``contamination`` quantile of the training rows' scores,
        weighted by their sample weights (integer weights: exactly the
        quantile of the repeated rows')."""
        scores = -_model.energy(Z, *theta, sigma, self.activation)
        scores += scores.dtype.type(getattr(self, "log_det_whitening_", 0.0))
        percent = 100.0 * self.contamination
        if weights is None:
            return float(np.percentile(scores, percent))
        return weighted_percentile(scores, weights, percent)

    def _set_offset(self, call):
        # The call's rows are in the model's coordinates: score them as the
        # model sees them.
        self.offset_ = self._offset(call.X, call.weights, self._theta, self.sigma_)

    def decision_function(self, X):
        """Shifted score: negative for outliers, positive for inliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        decision : ndarray of shape (n_samples,)
            ``score_samples(X) - offset_``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import ScoreMatchingOutlierDetector
        >>> X = np.random.RandomState(0).normal(size=(200, 2))
        >>> detector = ScoreMatchingOutlierDetector(8, random_state=0).fit(X)
        >>> bool(detector.decision_function([[6.0, 6.0]])[0] < 0)
        True
        """
        check_is_fitted(self)
        check_same_namespace(
            X, self, attribute="components_", method="decision_function"
        )
        scores = self.score_samples(X)
        if not isinstance(scores, np.ndarray):
            return scores - self.offset_
        return scores - scores.dtype.type(self.offset_)

    def predict(self, X):
        """``+1`` for inliers, ``-1`` for outliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            ``+1`` where ``decision_function(X) >= 0``, else ``-1``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import ScoreMatchingOutlierDetector
        >>> X = np.random.RandomState(0).normal(size=(200, 2))
        >>> detector = ScoreMatchingOutlierDetector(8, random_state=0).fit(X)
        >>> float((detector.predict(X) == -1).mean())
        0.1
        """
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="components_", method="predict")
        decision = self.decision_function(X)
        if not isinstance(decision, np.ndarray):
            xp, _ = home(decision)
            return 2 * xp.astype(decision >= 0, xp.int64) - 1
        return np.where(decision >= 0, 1, -1)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "offset_")
