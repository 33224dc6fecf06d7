"""The density display: log-density contours, score arrows and draws of a
2-D model (the conventions are those of :mod:`sklearn_dsm._display`)."""

import numpy as np
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils.validation import check_array, check_is_fitted

from ._display import _axes, _named
from ._xp import to_numpy


class DensityDisplay:
    """Log-density contours, score arrows and model draws of a 2-D model.

    Use :meth:`from_estimator` to build one from a fitted estimator of this
    package (or any with ``score_samples``; the arrows need
    ``score_function``, the draws ``sample``).

    Parameters
    ----------
    xx0, xx1 : ndarray of shape (grid_resolution, grid_resolution)
        The grid, as from :func:`numpy.meshgrid`.
    log_density : ndarray of shape (grid_resolution, grid_resolution)
        ``score_samples`` on the grid: ``log p(x)`` for
        :class:`ScoreMatchingEBM`, ``-E(x)`` (up to the constant ``log Z``)
        for the other estimators.
    arrows : tuple of 4 ndarrays or None, default=None
        ``(x0, x1, u0, u1)``: points and the step ``denoise`` takes from
        them, ``sigma^2 Psi(x)`` (times the data's covariance when the model
        is whitened).
    samples : ndarray of shape (n_samples, 2) or None, default=None
        Draws from the model.
    X : ndarray of shape (n_rows, 2) or None, default=None
        The data, drawn as points.
    estimator_name : str or None, default=None
        Used in the title.

    Attributes
    ----------
    surface_ : matplotlib QuadContourSet
        The filled contours.
    quiver_ : matplotlib Quiver or None
        The arrows.
    samples_ : matplotlib PathCollection or None
        The draws.
    data_ : matplotlib PathCollection or None
        The data points.
    ax_ : matplotlib Axes
        Axes with the plot.
    figure_ : matplotlib Figure
        Figure containing the plot.

    See Also
    --------
    sklearn.inspection.DecisionBoundaryDisplay : The convention followed.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn_dsm import DensityDisplay, ScoreMatchingEBM
    >>> X = np.random.RandomState(0).normal(size=(200, 2))
    >>> ebm = ScoreMatchingEBM(n_components=8, random_state=0).fit(X)
    >>> display = DensityDisplay.from_estimator(ebm, X, grid_resolution=30)
    >>> display.log_density.shape
    (30, 30)
    """

    def __init__(
        self,
        *,
        xx0,
        xx1,
        log_density,
        arrows=None,
        samples=None,
        X=None,
        estimator_name=None,
    ):
        self.xx0 = xx0
        self.xx1 = xx1
        self.log_density = log_density
        self.arrows = arrows
        self.samples = samples
        self.X = X
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        grid_resolution=100,
        eps=0.5,
        n_arrows=20,
        n_samples=0,
        random_state=None,
        ax=None,
        **kwargs,
    ):
        """Draw a fitted 2-D model's log-density, score field and draws.

        Parameters
        ----------
        estimator : fitted estimator
            :class:`DenoisingAutoencoder`, :class:`ScoreMatchingEBM`,
            :class:`ScoreMatchingOutlierDetector`, or any fitted estimator
            with ``score_samples`` on 2 features (then contours only: the
            arrows and the draws need a model of this package).
        X : array-like of shape (n_rows, 2)
            The data: it sets the plotted region and is drawn as points.
        grid_resolution : int, default=100
            Grid points along each axis for the contours.
        eps : float, default=0.5
            Margin added around the data's range, in the units of ``X``.
        n_arrows : int, default=20
            Arrows along each axis (0: none): the step ``denoise`` takes.
        n_samples : int, default=0
            Draws from ``estimator.sample`` to show (0: none).
        random_state : int, RandomState instance or None, default=None
            Seeds the draws.
        ax : matplotlib Axes, default=None
            Axes to draw on; new ones if None.
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : DensityDisplay
            The display, drawn.
        """
        check_matplotlib_support("DensityDisplay.from_estimator")
        check_is_fitted(estimator)
        if hasattr(estimator, "_host"):
            # Drawn on the host: a model fitted on a device (array API
            # dispatch) is read through its NumPy copy, and so is X.
            estimator = estimator._host()
        X = check_array(to_numpy(X), input_name="X")
        if X.shape[1] != 2:
            raise ValueError(
                f"DensityDisplay draws a model of 2 features; X has {X.shape[1]}. "
                f"Fit and draw the model on two columns (e.g. two principal "
                f"components)."
            )
        for name, value, least in (
            ("grid_resolution", grid_resolution, 2),
            ("n_arrows", n_arrows, 0),
            ("n_samples", n_samples, 0),
        ):
            if int(value) != value or value < least:
                raise ValueError(
                    f"{name} must be an integer >= {least}; got {value!r}."
                )
        lo, hi = X.min(axis=0) - eps, X.max(axis=0) + eps
        xx0, xx1 = np.meshgrid(
            np.linspace(lo[0], hi[0], grid_resolution),
            np.linspace(lo[1], hi[1], grid_resolution),
        )
        grid = np.column_stack([xx0.ravel(), xx1.ravel()])
        log_density = np.asarray(
            estimator.score_samples(_named(grid, estimator))
        ).reshape(xx0.shape)
        arrows = None
        # Arrows and draws need a model of this package (denoise, sample);
        # any other density (GaussianMixture, KernelDensity) gets contours.
        if n_arrows and hasattr(estimator, "denoise"):
            a0, a1 = np.meshgrid(
                np.linspace(lo[0], hi[0], n_arrows), np.linspace(lo[1], hi[1], n_arrows)
            )
            at = np.column_stack([a0.ravel(), a1.ravel()])
            # The step denoise takes, in the units of X: sigma^2 Psi(x), times
            # the data's covariance for a whitened model (Tweedie's step).
            step = estimator.denoise(_named(at, estimator)) - at
            arrows = (at[:, 0], at[:, 1], step[:, 0], step[:, 1])
        samples = None
        if n_samples and hasattr(estimator, "denoise"):
            samples = estimator.sample(n_samples, random_state=random_state)
        display = cls(
            xx0=xx0,
            xx1=xx1,
            log_density=log_density,
            arrows=arrows,
            samples=samples,
            X=X,
            estimator_name=type(estimator).__name__,
        )
        return display.plot(ax=ax, **kwargs)

    def plot(self, ax=None, *, density=False, levels=20, cmap="viridis", colorbar=True):
        """Draw the display.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; new ones if None.
        density : bool, default=False
            Contour ``exp(log_density)``, the density itself (for
            :class:`ScoreMatchingEBM`; up to a constant factor for the other
            estimators), rather than its logarithm. The logarithm shows the
            tails, the density where the mass is.
        levels : int, default=20
            Number of contour levels of the log-density.
        cmap : str, default="viridis"
            Colormap of the contours.
        colorbar : bool, default=True
            Add a colorbar.

        Returns
        -------
        display : DensityDisplay
            Itself, with the matplotlib objects stored.
        """
        check_matplotlib_support("DensityDisplay.plot")
        ax = _axes(ax)
        values, label = self.log_density, "score_samples"
        if density:
            top = float(np.max(values))
            if top < 700:  # exp stays finite
                values, label = np.exp(values), "exp(score_samples)"
            else:  # an unnormalised model far above 1: its shape, scaled
                values = np.exp(values - top)
                label = f"exp(score_samples - {top:.4g})"
        self.surface_ = ax.contourf(
            self.xx0, self.xx1, values, levels=levels, cmap=cmap
        )
        if colorbar:
            ax.figure.colorbar(self.surface_, ax=ax, label=label)
        self.quiver_ = None
        if self.arrows is not None:
            self.quiver_ = ax.quiver(
                *self.arrows,
                color="w",
                angles="xy",
                scale_units="xy",
                scale=1,
                width=0.003,
                alpha=0.8,
            )
        self.data_ = None
        if self.X is not None:
            self.data_ = ax.scatter(
                self.X[:, 0], self.X[:, 1], s=4, c="k", alpha=0.5, label="data"
            )
        self.samples_ = None
        if self.samples is not None:
            self.samples_ = ax.scatter(
                self.samples[:, 0],
                self.samples[:, 1],
                s=8,
                c="white",
                edgecolors="k",
                linewidths=0.3,
                label="sample()",
            )
        if self.data_ is not None or self.samples_ is not None:
            ax.legend(loc="lower left")
        if self.estimator_name:
            ax.set_title(self.estimator_name)
        self.ax_, self.figure_ = ax, ax.figure
        return self
