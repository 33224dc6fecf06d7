"""What a fitted model computes: the methods both estimators share.

Every method here is a closed form of the fitted theta = (W, b, c) and
``sigma_`` (:mod:`sklearn_dsm._model`), or draws from the density it defines
(:mod:`sklearn_dsm._sampling`); none of them changes the estimator.
"""

from numbers import Integral

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state, deprecated
from sklearn.utils._array_api import check_same_namespace
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from . import _model
from ._activations import get_activation
from ._normalisable import check_normalisable
from ._sampling import sample_model
from ._xp import (
    float_dtypes,
    home,
    is_array,
    like,
    to_namespace,
    to_numpy,
    widest_float,
)

FLOAT_DTYPES = (np.float64, np.float32)


class _FittedModelMixin:
    """energy, score_function, score_samples and hyvarinen_loss of a fitted
    model: what every estimator of the package computes, the outlier
    detector included."""

    def _checked(self, X, method):
        """``X`` validated against the fit (input coordinates). Under array
        API dispatch it must be in the namespace and on the device of the
        fitted model (scikit-learn's ``check_same_namespace``)."""
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="components_", method=method)
        return validate_data(self, X, dtype=float_dtypes(X), reset=False)

    def _validate(self, X, method):
        """``X`` checked against the fit, in the model's coordinates."""
        return self._to_model(self._checked(X, method))

    def _to_model(self, X):
        """Input rows to the model's coordinates: ``(X - mean_) @ whitening_``
        with ``whiten=True``, ``X`` itself otherwise."""
        if not hasattr(self, "whitening_"):
            return X
        Z = X - like(self.mean_, X)
        return Z @ like(self.whitening_, X)

    def _from_model(self, Z):
        """Rows in the model's coordinates back to the input's."""
        if not hasattr(self, "whitening_"):
            return Z
        if not isinstance(Z, np.ndarray):
            xp, _ = home(Z)
            wide = widest_float(Z)  # float64, but on MPS
            A = xp.astype(like(self.whitening_, Z), wide)
            X = xp.linalg.solve(A, xp.astype(Z, wide).T).T  # A symmetric
            return xp.astype(X + xp.astype(like(self.mean_, Z), wide), Z.dtype)
        A = self.whitening_.astype(np.float64)
        X = np.linalg.solve(A, np.asarray(Z, dtype=np.float64).T).T  # A symmetric
        X += self.mean_
        return X.astype(Z.dtype, copy=False)

    def _shift(self, values, amount):
        """``values - amount`` for a float ``amount``, in ``values``' dtype
        (in place for NumPy)."""
        if not isinstance(values, np.ndarray):
            return values - amount
        values -= values.dtype.type(amount)
        return values

    def _host(self):
        """This model with its fitted arrays in NumPy: itself when they are;
        otherwise (fitted under array API dispatch) a shallow copy, for
        what is computed on the host (the tail's fit, the Displays)."""
        state = vars(self)
        if not any(
            is_array(v) and not isinstance(v, np.ndarray) for v in state.values()
        ):
            return self
        host = object.__new__(type(self))
        host.__dict__.update(
            {k: to_numpy(v) if is_array(v) else v for k, v in state.items()}
        )
        return host

    def _at_home(self, array):
        """A NumPy ``array`` computed on the host, moved to where the fitted
        model lives."""
        return to_namespace(array, *home(self.components_))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # PyTorch, CuPy, array_api_strict... under array API dispatch (_xp).
        tags.array_api_support = True
        return tags

    @property
    def _theta(self):
        """The fitted (W, b, c)."""
        return self.components_, self.intercept_hidden_, self.intercept_visible_

    @property
    def n_components_(self):
        """Number of hidden units H of the fitted model.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import DenoisingAutoencoder
        >>> X = np.random.RandomState(0).normal(size=(50, 2))
        >>> DenoisingAutoencoder(n_components=3).fit(X).n_components_
        3
        """
        return self.components_.shape[0]

    def energy(self, X):
        """Energy ``E(x)`` of each row; the model density is ``exp(-E(x)) / Z``.

        ``E`` is the model's energy of ``z`` (``x`` itself, or its whitened
        coordinates with ``whiten=True``), minus ``log_det_whitening_``: the
        density of ``x`` is that of ``z`` times ``|det whitening_|``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        E : ndarray of shape (n_samples,)
            ``-(<c, z> - |z|^2 / 2 + sum_i softplus(W_i z + b_i)) / sigma^2``,
            minus ``log_det_whitening_`` with ``whiten=True``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import DenoisingAutoencoder
        >>> X = np.random.RandomState(0).normal(size=(100, 2))
        >>> dae = DenoisingAutoencoder(n_components=4, sigma=0.5, random_state=0).fit(X)
        >>> # Lower energy (higher density) at the data than far from it.
        >>> bool(dae.energy([[0.0, 0.0]])[0] < dae.energy([[4.0, 4.0]])[0])
        True
        """
        return self._energy(self._checked(X, "energy"))

    def _energy(self, X):
        """:meth:`energy` of rows already validated."""
        E = _model.energy(self._to_model(X), *self._theta, self.sigma_, self.activation)
        # p(x) = p_z(z) |det A|: the Jacobian enters the energy, not Z.
        return self._shift(E, getattr(self, "log_det_whitening_", 0.0))

    def score_function(self, X):
        """Stein score ``Psi(x) = d log p(x) / dx = -dE/dx``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        Psi : ndarray of shape (n_samples, n_features)
            ``(f(X W^T + b) W + c - X) / sigma^2``, ``f`` the ``activation``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import DenoisingAutoencoder
        >>> X = np.random.RandomState(0).normal(size=(100, 2))
        >>> dae = DenoisingAutoencoder(n_components=4, sigma=0.5, random_state=0).fit(X)
        >>> dae.score_function(X[:3]).shape
        (3, 2)
        """
        X = self._validate(X, "score_function")
        Psi = _model.score(X, *self._theta, self.sigma_, self.activation)
        if hasattr(self, "whitening_"):  # chain rule through z = (x - m) A
            Psi = Psi @ like(self.whitening_, Psi).T
        return Psi

    def score_samples(self, X):
        """Unnormalised log-density ``-E(x)`` of each row (``log p(x) + log Z``).

        The autoencoder stays cheap to fit: it does not estimate ``log Z``. Use
        :func:`estimate_log_partition` for it when a normalised density is needed.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        log_density : ndarray of shape (n_samples,)
            ``-E(x)``: the log-density up to the constant ``log Z(theta)``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import DenoisingAutoencoder
        >>> X = np.random.RandomState(0).normal(size=(100, 2))
        >>> dae = DenoisingAutoencoder(n_components=4, sigma=0.5, random_state=0).fit(X)
        >>> dae.score_samples(X[:3]).shape
        (3,)
        """
        return -self.energy(X)

    def hyvarinen_loss(self, X):
        """Mean Hyvarinen loss ``|Psi|^2 / 2 + tr dPsi/dx`` on the clean rows of X.

        Lower is better (a loss, unlike ``score`` and ``score_samples``;
        :func:`hyvarinen_scorer` is its negative, for ``GridSearchCV``). It
        estimates the Fisher divergence between the data and the model up to a
        model-independent constant, so it compares fits with different
        ``sigma`` without any normalising constant.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Held-out rows.

        Returns
        -------
        loss : float
            The mean Hyvarinen loss, the ISM objective with ``n_corruptions=0``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import DenoisingAutoencoder, hyvarinen_scorer
        >>> X = np.random.RandomState(0).normal(size=(100, 2))
        >>> dae = DenoisingAutoencoder(n_components=4, sigma=0.5, random_state=0).fit(X)
        >>> bool(np.isclose(dae.hyvarinen_loss(X), -hyvarinen_scorer(dae, X)))
        True
        """
        X = self._validate(X, "hyvarinen_loss")
        loss = _model.hyvarinen_loss(
            X,
            *self._theta,
            self.sigma_,
            jacobian=getattr(self, "whitening_", None),
            activation=self.activation,
        )
        if not isinstance(loss, np.ndarray):
            return float(home(loss)[0].mean(loss))
        return float(np.mean(loss))

    # TODO(0.3): remove the alias.
    @deprecated(
        "hyvarinen_score was renamed hyvarinen_loss in 0.2 (it is a loss: lower "
        "is better) and will be removed in 0.3."
    )
    def hyvarinen_score(self, X):
        """Deprecated alias of :meth:`hyvarinen_loss`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Held-out rows.

        Returns
        -------
        loss : float
            ``hyvarinen_loss(X)``.
        """
        return self.hyvarinen_loss(X)

    def _check_density(self):
        """Raise ``ValueError`` unless ``exp(-E)`` is proved to integrate
        (always, for the sigmoid; :mod:`sklearn_dsm._normalisable`)."""
        alpha = getattr(self, "alpha_", self.alpha)
        check_normalisable(
            to_numpy(self.components_),
            get_activation(self.activation),
            fix=(
                f"Fit with a larger alpha (now {alpha:.3g}), whose penalty "
                f"shrinks W, or with activation='sigmoid', whose every fit is "
                f"a density."
            ),
        )


class _AutoencoderFaceMixin(ClassNamePrefixFeaturesOutMixin, TransformerMixin):
    """transform, inverse_transform, denoise and sample: the autoencoder's
    face of the model, and the generative one, for the autoencoder and the
    density (not the outlier detector).

    A transformer (``transform`` is the encoder), so that scikit-learn wraps
    ``transform`` for ``set_output`` and names the features ``<class>0``, ...
    """

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def transform(self, X):
        """Encode: hidden features ``f(Z W^T + b)``, ``f`` the ``activation``.

        ``Z`` is ``X`` in the model's coordinates: ``X`` itself, or
        ``(X - mean_) whitening_`` with ``whiten=True``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        H : ndarray of shape (n_samples, n_components)
            Hidden-unit activations, in the dtype of ``X`` (float32 or float64).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import DenoisingAutoencoder
        >>> X = np.random.RandomState(0).normal(size=(100, 2))
        >>> dae = DenoisingAutoencoder(n_components=4, sigma=0.5, random_state=0).fit(X)
        >>> H = dae.transform(X[:3])
        >>> H.shape, bool((H >= 0).all())  # ReLU codes
        ((3, 4), True)
        """
        X = self._validate(X, "transform")
        return _model.hidden(
            X, self.components_, self.intercept_hidden_, self.activation
        )

    def inverse_transform(self, X):
        """Decode with the tied weights: ``H W + c``, in the input's coordinates.

        With ``whiten=True`` the decoded whitened rows are mapped back:
        ``(H W + c) whitening_^-1 + mean_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Hidden representations, e.g. the output of :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            The decoded rows.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import DenoisingAutoencoder
        >>> X = np.random.RandomState(0).normal(size=(100, 2))
        >>> dae = DenoisingAutoencoder(n_components=4, sigma=0.5, random_state=0).fit(X)
        >>> R = dae.inverse_transform(dae.transform(X[:3]))
        >>> bool(np.allclose(R, dae.denoise(X[:3])))
        True
        """
        check_is_fitted(self)
        check_same_namespace(
            X, self, attribute="components_", method="inverse_transform"
        )
        H = check_array(X, dtype=float_dtypes(X))
        if H.shape[1] != self.n_components_:
            raise ValueError(
                f"X has {H.shape[1]} features, but inverse_transform expects "
                f"n_components={self.n_components_} hidden features."
            )
        out = H @ like(self.components_, H)
        if isinstance(out, np.ndarray):
            out += like(self.intercept_visible_, H)
        else:
            out = out + like(self.intercept_visible_, H)
        return self._from_model(out)

    def denoise(self, X):
        """Reconstruct: the decoder applied to the encoded ``X``.

        In the model's coordinates this is ``r(z) = z + sigma^2 Psi_z(z)``, a
        step of sigma^2 up the log-density. In the input's coordinates it is
        ``X + sigma^2 Psi(X)``, or with ``whiten=True`` Tweedie's step for
        noise of covariance ``sigma^2 Sigma``: ``X + sigma^2 Psi(X) Sigma``,
        ``Sigma = whitening_^-2`` the data's covariance.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            (Noisy) input rows.

        Returns
        -------
        X_denoised : ndarray of shape (n_samples, n_features)
            ``f(X W^T + b) W + c``, ``f`` the ``activation``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import DenoisingAutoencoder
        >>> X = np.random.RandomState(0).normal(size=(100, 2))
        >>> dae = DenoisingAutoencoder(n_components=4, sigma=0.5, random_state=0).fit(X)
        >>> noisy = X[:3] + 0.5 * np.random.RandomState(1).normal(size=(3, 2))
        >>> dae.denoise(noisy).shape
        (3, 2)
        """
        X = self._validate(X, "denoise")
        return self._from_model(_model.reconstruct(X, *self._theta, self.activation))

    def sample(self, n_samples=1, random_state=None):
        """Draw rows from the model density ``p(x) = exp(-E(x)) / Z``.

        ``n_samples`` chains are annealed from the base Gaussian
        ``N(c, sigma^2 I)`` to the model through 1000 temperatures with one
        Metropolis-adjusted Langevin (MALA) step each, resampled by their
        importance weights, then moved 500 more MALA steps at the model
        itself, with the step size steered to MALA's optimal acceptance rate
        (0.574). Annealing reaches every mode in proportion to its mass; the
        final steps make the draws exact as their number grows. Each row is
        the end of its own chain, so there is no thinning to choose. With
        ``whiten=True`` the chains run in whitened coordinates and the draws
        are mapped back to the input's. The density with a tail component
        (:class:`ScoreMatchingEBM`) draws each row from its Student-t instead
        with probability ``tail_weight_``, and returns the rows in random
        order.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to draw.
        random_state : int, RandomState instance or None, default=None
            Seeds the chains (and the choice of component). Pass an int for
            reproducible draws.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            Draws from the model, in the dtype of the fitted parameters.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import DenoisingAutoencoder
        >>> X = np.random.RandomState(0).normal(size=(100, 2))
        >>> dae = DenoisingAutoencoder(n_components=4, sigma=0.5, random_state=0).fit(X)
        >>> dae.sample(5, random_state=0).shape
        (5, 2)
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(
                f"n_samples must be a positive integer; got {n_samples!r}."
            )
        self._check_density()
        # The chains run where the model lives (array API dispatch), on the
        # host's random stream: a device model draws the NumPy model's rows
        # to rounding.
        return self._draw(n_samples, check_random_state(random_state))

    def _draw(self, n_samples, rng):
        """``n_samples`` draws of the checked model, in the input's
        coordinates and the parameters' dtype, where the parameters live."""
        X = sample_model(
            *self._theta,
            self.sigma_,
            n_samples,
            random_state=rng,
            activation=self.activation,
        )
        return like(self._from_model(X), self.components_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
