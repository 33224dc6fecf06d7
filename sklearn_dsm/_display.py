"""Displays, scikit-learn's way to look at a fitted model.

Each display follows :class:`~sklearn.inspection.DecisionBoundaryDisplay`:
``from_estimator`` computes what is drawn and calls ``plot``; ``plot`` draws
it on ``ax`` (or new axes) and stores the matplotlib objects in attributes
ending in ``_``, with ``ax_`` and ``figure_``. The computed arrays are public
attributes, so a display can be drawn again, or inspected, without the
estimator. matplotlib is imported only when drawing. This module has the
model's filters and its loss curve; :mod:`sklearn_dsm._density_display`
the density of a 2-D model.
"""

import math

import numpy as np
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils.validation import check_is_fitted

from ._xp import to_numpy


def _named(rows, estimator):
    """Grid rows with the estimator's feature names, when it was fitted on a
    DataFrame (as scikit-learn's displays do), so that no warning fires."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        return rows
    try:
        import pandas as pd
    except ImportError:  # without pandas, draw anyway (scikit-learn warns)
        return rows
    return pd.DataFrame(rows, columns=names)


def _axes(ax):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    return ax


class FiltersDisplay:
    """The rows of ``components_`` (the filters W_i) as images.

    Parameters
    ----------
    filters : ndarray of shape (n_filters, n_features)
        The rows to draw, in order.
    image_shape : tuple of int
        ``(height, width)`` with ``height * width == n_features``.

    Attributes
    ----------
    images_ : list of matplotlib AxesImage
        One per filter.
    axes_ : ndarray of matplotlib Axes
        The grid of axes.
    figure_ : matplotlib Figure
        Figure containing the plot.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_dsm import DenoisingAutoencoder, FiltersDisplay
    >>> X = load_digits().data[:300] / 16
    >>> dae = DenoisingAutoencoder(16, random_state=0).fit(X)
    >>> display = FiltersDisplay.from_estimator(dae, image_shape=(8, 8))
    >>> len(display.images_)
    16
    """

    def __init__(self, *, filters, image_shape):
        self.filters = filters
        self.image_shape = image_shape

    @classmethod
    def from_estimator(
        cls, estimator, *, image_shape=None, n_filters=None, order="norm", **kwargs
    ):
        """Draw a fitted model's filters as images.

        Parameters
        ----------
        estimator : fitted estimator
            Any estimator of this package (or with ``components_``).
        image_shape : tuple of int or None, default=None
            ``(height, width)`` of one image; ``None`` for a square one, if
            the number of features is a square.
        n_filters : int or None, default=None
            How many to draw; all, up to 100, if None.
        order : {"norm", "index"}, default="norm"
            ``"norm"``: largest ``|W_i|`` first (the units the model uses
            most); ``"index"``: as stored.
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : FiltersDisplay
            The display, drawn.
        """
        check_matplotlib_support("FiltersDisplay.from_estimator")
        check_is_fitted(estimator, "components_")
        W = np.asarray(to_numpy(estimator.components_))
        n_features = W.shape[1]
        if image_shape is None:
            side = math.isqrt(n_features)
            if side * side != n_features:
                raise ValueError(
                    f"The model has {n_features} features, not a square number: "
                    f"pass image_shape=(height, width) with height * width == "
                    f"{n_features}."
                )
            image_shape = (side, side)
        image_shape = tuple(int(s) for s in image_shape)
        if len(image_shape) != 2 or math.prod(image_shape) != n_features:
            raise ValueError(
                f"image_shape={image_shape} does not hold the model's {n_features} "
                f"features: pass (height, width) with height * width == "
                f"{n_features}."
            )
        if order not in ("norm", "index"):
            raise ValueError(f'order must be "norm" or "index"; got {order!r}.')
        if order == "norm":
            W = W[np.argsort(-np.linalg.norm(W, axis=1), kind="stable")]
        if n_filters is None:
            n_filters = min(len(W), 100)
        if int(n_filters) != n_filters or not 1 <= n_filters <= len(W):
            raise ValueError(
                f"n_filters must be an integer from 1 to n_components={len(W)}; "
                f"got {n_filters!r}."
            )
        display = cls(filters=W[: int(n_filters)], image_shape=image_shape)
        return display.plot(**kwargs)

    def plot(self, ax=None, *, n_cols=None, cmap="RdBu_r", figsize=None):
        """Draw the display.

        Parameters
        ----------
        ax : array-like of matplotlib Axes or None, default=None
            At least one Axes per filter; a new figure if None.
        n_cols : int or None, default=None
            Columns of the new grid; about a square if None.
        cmap : str, default="RdBu_r"
            A diverging colormap, centred on 0 for each filter.
        figsize : tuple or None, default=None
            Size of the new figure.

        Returns
        -------
        display : FiltersDisplay
            Itself, with the matplotlib objects stored.
        """
        check_matplotlib_support("FiltersDisplay.plot")
        import matplotlib.pyplot as plt

        n = len(self.filters)
        if ax is None:
            n_cols = n_cols or math.ceil(math.sqrt(n))
            n_rows = math.ceil(n / n_cols)
            size = figsize or (0.8 * n_cols, 0.8 * n_rows)
            _, ax = plt.subplots(n_rows, n_cols, figsize=size, squeeze=False)
        axes = np.asarray(ax, dtype=object)
        flat = axes.ravel()
        if len(flat) < n:
            raise ValueError(f"ax has {len(flat)} Axes for {n} filters.")
        self.images_ = []
        for a, w in zip(flat[:n], self.filters, strict=True):
            limit = np.abs(w).max() or 1.0
            self.images_.append(
                a.imshow(
                    w.reshape(self.image_shape), cmap=cmap, vmin=-limit, vmax=limit
                )
            )
        for a in flat:
            a.set_axis_off()
        self.axes_, self.figure_ = axes, flat[0].figure
        return self


class LossCurveDisplay:
    """The objective along a fit: ``loss_curve_``, and
    ``validation_loss_curve_`` when Adam stopped early on held-out rows.

    Parameters
    ----------
    loss_curve : array-like of float
        Training objective after each iteration or epoch.
    validation_loss_curve : array-like of float or None, default=None
        Held-out objective after each epoch.
    estimator_name : str or None, default=None
        Used in the title.
    xlabel : str, default="iteration"
        Label of the x axis ("epoch" for Adam).

    Attributes
    ----------
    lines_ : list of matplotlib Line2D
        The training curve, then the validation curve if any.
    ax_ : matplotlib Axes
        Axes with the plot.
    figure_ : matplotlib Figure
        Figure containing the plot.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn_dsm import DenoisingAutoencoder, LossCurveDisplay
    >>> X = np.random.RandomState(0).normal(size=(200, 2))
    >>> dae = DenoisingAutoencoder(8, random_state=0).fit(X)
    >>> display = LossCurveDisplay.from_estimator(dae)
    >>> len(display.lines_[0].get_xdata()) == len(dae.loss_curve_)
    True
    """

    def __init__(
        self,
        *,
        loss_curve,
        validation_loss_curve=None,
        estimator_name=None,
        xlabel="iteration",
    ):
        self.loss_curve = loss_curve
        self.validation_loss_curve = validation_loss_curve
        self.estimator_name = estimator_name
        self.xlabel = xlabel

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, **kwargs):
        """Draw a fitted estimator's loss curves.

        Parameters
        ----------
        estimator : fitted estimator
            Any estimator of this package (or with ``loss_curve_``).
        ax : matplotlib Axes, default=None
            Axes to draw on; new ones if None.
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : LossCurveDisplay
            The display, drawn.
        """
        check_matplotlib_support("LossCurveDisplay.from_estimator")
        check_is_fitted(estimator, "loss_curve_")
        # Adam's steps, partial_fit's included, are epochs; solver_ is the
        # solver the fit used (estimators of this package), solver the one
        # asked for (others, such as MLPRegressor).
        solver = getattr(estimator, "solver_", getattr(estimator, "solver", None))
        adam = solver in ("adam", "sgd")
        display = cls(
            loss_curve=list(estimator.loss_curve_),
            validation_loss_curve=getattr(estimator, "validation_loss_curve_", None),
            estimator_name=type(estimator).__name__,
            xlabel="epoch" if adam else "iteration",
        )
        return display.plot(ax=ax, **kwargs)

    def plot(self, ax=None, *, log_scale=False):
        """Draw the display.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; new ones if None.
        log_scale : bool, default=False
            Logarithmic y axis (for a positive objective).

        Returns
        -------
        display : LossCurveDisplay
            Itself, with the matplotlib objects stored.
        """
        check_matplotlib_support("LossCurveDisplay.plot")
        ax = _axes(ax)
        steps = np.arange(1, len(self.loss_curve) + 1)
        self.lines_ = ax.plot(steps, self.loss_curve, label="training objective")
        if self.validation_loss_curve is not None:
            validation = np.asarray(self.validation_loss_curve)
            self.lines_ += ax.plot(
                np.arange(1, len(validation) + 1), validation, label="validation"
            )
            ax.legend()
        if log_scale:
            ax.set_yscale("log")
        ax.set_xlabel(self.xlabel)
        ax.set_ylabel("objective")
        if self.estimator_name:
            ax.set_title(self.estimator_name)
        self.ax_, self.figure_ = ax, ax.figure
        return self
