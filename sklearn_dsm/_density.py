"""A normalised density on top of the fitted model: log Z, tail, likelihood.

:class:`ScoreMatchingEBM` fits theta by score matching, which never sees
the normalising constant. This mixin adds what makes the fitted model a
density: the AIS estimate of log Z and the far mass (``_sampling``,
``_partition``, ``_diagnostics``), the Student-t tail component
(``_tail``), ``score_samples``, ``score`` and the tail's share of
``sample``. After ``partial_fit`` the estimate is pending: the methods
compute it per call without storing it until :meth:`update_log_partition`.
"""

import zlib

import numpy as np
from sklearn.utils.validation import check_is_fitted

from . import _model
from ._chunking import mean_and_spread
from ._diagnostics import far_mass
from ._partition import log_partition_from_weights
from ._sampling import anneal
from ._solvers import steps
from ._tail import (
    fit_tail_component,
    mixture_log_density,
    sample_tail,
    tail_log_density,
)
from ._theta import pack
from ._warnings import warn
from ._xp import home, is_array, like, take_rows, to_numpy

# The data's own law scores 1 to 3% (see _diagnostics); 5% is beyond that and
# the sampling error of the AIS end points.
FAR_MASS_WARNING = 0.05
TAIL_ATTRIBUTES = ("tail_weight_", "tail_dof_", "tail_location_", "tail_scatter_")
# What one estimate of the normalisation sets.
NORMALISATION_ATTRIBUTES = (
    "log_partition_",
    "log_partition_std_",
    "far_mass_",
    *TAIL_ATTRIBUTES,
)


class _NormalisedDensityMixin:
    """log Z, the tail, score_samples, score and sample of a fitted density."""

    def __sklearn_is_fitted__(self):
        # Fitted means normalised, or normalisable on first use after
        # partial_fit: the parameters alone (left by an interrupted fit, for
        # warm_start) do not give score_samples.
        return (
            hasattr(self, "log_partition_")
            or getattr(self, "_pending_log_partition", None) is not None
        )

    def _after_partial_fit(self, call):
        X = call.X
        # AIS costs seconds; a stream of partial_fit calls should not pay it
        # per call. update_log_partition stores log Z (and far_mass_, against
        # up to 2000 of the last batch's rows); until then the density's
        # methods estimate it per call without storing it.
        self._pending_log_partition = np.array(X[:2000], copy=True)

    def update_log_partition(self):
        """Estimate ``log Z`` now if :meth:`partial_fit` left it pending.

        ``fit`` ends by estimating ``log Z`` (``log_partition_``,
        ``log_partition_std_``), ``far_mass_`` and the tail component.
        :meth:`partial_fit` does not, so that a stream of batches does not pay
        seconds of AIS per batch: call this method once the stream is done.
        Until then :meth:`score_samples`, :meth:`score` and :meth:`sample`
        estimate them on every call without storing them (they never change
        the estimator), which costs the AIS run each time. The AIS draws come
        from a generator seeded by the parameters' bytes, not from the
        training stream: scoring between partial_fit calls never changes
        training, and one model always gets one log Z, whichever call
        estimates it. ``far_mass_`` and the tail are measured against (up to
        2000 of) the last batch's rows.

        Returns
        -------
        self : object
            The estimator, with ``log_partition_``, ``log_partition_std_`` and
            ``far_mass_`` set.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import ScoreMatchingEBM
        >>> X = np.random.RandomState(0).normal(size=(100, 2))
        >>> ebm = ScoreMatchingEBM(n_components=4, n_ais_steps=300, random_state=0)
        >>> ebm = ebm.partial_fit(X)
        >>> hasattr(ebm, "log_partition_")
        False
        >>> bool(ebm.update_log_partition().log_partition_std_ < 0.1)
        True
        """
        check_is_fitted(self)
        if getattr(self, "_pending_log_partition", None) is not None:
            # AIS runs where the model lives; what the host computes (the
            # tail) goes there too.
            state = self._density_state()
            self._store_normalisation(
                {k: self._at_home(v) if is_array(v) else v for k, v in state.items()}
            )
            self._pending_log_partition = None
        return self

    def _rebuilt(self, attributes, X, weights):
        # Normalisable on first use, as after partial_fit.
        attributes["_pending_log_partition"] = X
        return attributes

    def _store_normalisation(self, state):
        """Replace the stored normalisation by ``state`` (``_normalisation``'s),
        all at once: Ctrl-C during an estimate leaves none of it half-set, and
        a model without a tail keeps no old tail attributes."""
        for name in NORMALISATION_ATTRIBUTES:
            self.__dict__.pop(name, None)
        self.__dict__.update(state)

    def _estimate_log_partition(self, call):
        """Estimate log Z (and what comes with it) for the current model and
        store it."""
        self._store_normalisation(
            self._normalisation(call.X, call.rng, call.weights, call)
        )
        if self.verbose:
            print(
                f"[{type(self).__name__}] alpha = {self.alpha_:.3g}: log Z = "
                f"{self.log_partition_:.4f} +/- {self.log_partition_std_:.4f}; "
                f"model mass far from the data: {self.far_mass_:.1%}"
            )

    def _normalisation(self, X, rng, weights=None, call=None):
        """``log_partition_``, ``log_partition_std_``, ``far_mass_`` and the
        tail's attributes of the current model, as a dict (nothing stored):
        AIS from the rows ``X`` (model coordinates, weighed by ``weights``),
        then the tail fitted to them. ``call``: the fit reporting the run to
        its callbacks (None: no report)."""
        # No log Z, score_samples or sample of a model that is not a density.
        self._check_density()
        # Estimated once, with the fit's own random stream, so that
        # score_samples and score are deterministic and cheap afterwards.
        subtask = call and steps(
            self, call, "ais", "temperature", self.alpha_, self.n_ais_steps
        )
        # The chains start from the data's mean and spread (at least sigma):
        # the model's own N(c, sigma^2 I) is narrower than the data it fits,
        # and chains started there reach the model's mass late. On digits
        # the standard error at 1000 temperatures fell from 0.04-0.07 nats to
        # 0.006 (doc/defaults.rst).
        mean, spread = mean_and_spread(X, weights)
        base = (mean, max(spread, self.sigma_))
        # The chains run where the model lives: during a fit under array API
        # dispatch, where its objective ran (the fit builds its result on the
        # host), otherwise where the parameters are.
        theta = self._theta if call is None else map(call.to_device, self._theta)
        try:
            chains, log_w, _ = anneal(
                *theta,
                self.sigma_,
                self.n_ais_chains,
                self.n_ais_steps,
                rng,
                on_step=subtask and subtask.step,
                base=base,
                activation=self.activation,
            )
        finally:
            if subtask:
                subtask.close()
        log_z, log_z_std = log_partition_from_weights(log_w, X.shape[1], base[1])
        # The AIS end points, weighted, are draws from the model: reuse them.
        far = far_mass(to_numpy(chains.X), log_w, X, self.sigma_, sample_weight=weights)
        return {
            "log_partition_": float(log_z),
            "log_partition_std_": float(log_z_std),
            "far_mass_": far,
            # The tail is fitted on the host, to the host's rows.
            **self._host()._fit_tail(X, float(log_z), weights),
        }

    def _density_state(self):
        """The normalisation that ``score_samples``, ``score`` and ``sample``
        use: the stored one, or, after :meth:`partial_fit`, one estimated now
        and not stored, so that those methods never change the estimator.
        Its AIS draws are seeded by the parameters' bytes: every call gets
        the same log Z, the one :meth:`update_log_partition` stores."""
        check_is_fitted(self)
        pending = getattr(self, "_pending_log_partition", None)
        if pending is None:
            names = ("log_partition_", *TAIL_ATTRIBUTES)
            return {name: getattr(self, name) for name in names if hasattr(self, name)}
        seed = zlib.crc32(pack(*map(to_numpy, self._theta)).tobytes())
        state = self._normalisation(pending, np.random.RandomState(seed))
        self._warn_if_unreliable(state)
        return state

    def _fit_tail(self, Z, log_z, weights):
        """The tail component's attributes, fitted to the training rows ``Z``
        (in the model's coordinates) given ``log Z`` (empty without ``tail``)."""
        if self.tail is None:
            return {}

        def model_log_density(rows):
            return (
                -_model.energy(rows, *self._theta, self.sigma_, self.activation) - log_z
            )

        coordinates = (
            (self.mean_, self.whitening_) if hasattr(self, "whitening_") else None
        )
        return fit_tail_component(Z, model_log_density, weights, coordinates)

    def _warn_if_unreliable(self, state=None):
        state = vars(self) if state is None else state
        far, log_z_std = state["far_mass_"], state["log_partition_std_"]
        if far > FAR_MASS_WARNING:
            warn(
                f"{far:.0%} of the model's mass lies farther from "
                f"every training row than new data does: score matching cannot "
                f"see mass there, and score_samples is unreliable on held-out "
                f"data. Increase alpha (now {self.alpha_:.3g}), lower "
                f"n_components (now {self.n_components}) or raise sigma (now "
                f"{self.sigma_:.3g})."
            )
        if log_z_std > 0.1:
            warn(
                f"The AIS estimate of log Z has a standard error of "
                f"{log_z_std:.2g} nats (above 0.1), so "
                f"score_samples and score are unreliable. Increase n_ais_steps "
                f"(now {self.n_ais_steps}) or n_ais_chains (now "
                f"{self.n_ais_chains}); a standard error near 1 means one chain "
                f"carries all the weight, which usually means the model puts "
                f"mass far from the data: increase alpha or sigma, or lower "
                f"n_components."
            )

    def score_samples(self, X):
        """Log-density ``log p(x) = -E(x) - log Z`` of each row.

        ``log Z`` is the AIS estimate ``log_partition_`` made at the end of
        ``fit``; its standard error ``log_partition_std_`` is shared by every row.
        After :meth:`partial_fit` and before :meth:`update_log_partition`,
        log Z is estimated on every call, and not stored. With ``tail`` the
        density is
        the mixture ``(1 - tail_weight_) exp(-E(x) - log Z) + tail_weight_
        t(x)``, ``t`` the fitted Student-t.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        log_density : ndarray of shape (n_samples,)
            ``-E(x) - log_partition_``, mixed with the tail component's
            log-density if there is one.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import ScoreMatchingEBM
        >>> X = np.random.RandomState(0).normal(size=(100, 2))
        >>> ebm = ScoreMatchingEBM(n_components=4, sigma=0.5, n_ais_steps=300,
        ...                        random_state=0).fit(X)
        >>> ebm.set_params(tail=None).fit(X).score_samples(X[:3]).shape
        (3,)
        >>> log_p = ebm.score_samples(X[:3])
        >>> bool(np.allclose(log_p, -ebm.energy(X[:3]) - ebm.log_partition_))
        True
        """
        X = self._checked(X, "score_samples")
        log_density = -self._energy(X)
        state = self._density_state()
        log_density = self._shift(log_density, state["log_partition_"])
        if "tail_weight_" not in state:
            return log_density
        log_tail = tail_log_density(
            X, state["tail_location_"], state["tail_scatter_"], state["tail_dof_"]
        )
        mixed = mixture_log_density(log_density, log_tail, state["tail_weight_"])
        if not isinstance(mixed, np.ndarray):
            return home(mixed)[0].astype(mixed, log_density.dtype)
        return mixed.astype(log_density.dtype, copy=False)

    def _draw(self, n_samples, rng):
        # Each row from the tail with probability tail_weight_, the others
        # from the model's annealed chains, in random order.
        state = self._density_state()
        if "tail_weight_" not in state:
            return super()._draw(n_samples, rng)
        n_tail = int(rng.binomial(n_samples, state["tail_weight_"]))
        xp, _ = home(self.components_)
        parts = []
        if n_tail < n_samples:
            parts.append(super()._draw(n_samples - n_tail, rng))
        if n_tail:
            # The tail's draws are made on the host, and go where the model
            # lives.
            tail = sample_tail(
                n_tail,
                to_numpy(state["tail_location_"]),
                to_numpy(state["tail_scatter_"]),
                state["tail_dof_"],
                rng,
            )
            parts.append(like(tail, self.components_))
        rows = np.vstack(parts) if xp is np else xp.concat(parts)
        return take_rows(rows, rng.permutation(n_samples))

    def score(self, X, y=None):
        """Mean log-likelihood of the rows of ``X`` (as ``GaussianMixture.score``).

        The default scoring of ``GridSearchCV``: held-out log-likelihood, which
        compares models of any ``sigma`` and ``n_components``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
            ``mean(log p(x))`` in nats per row.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dsm import ScoreMatchingEBM
        >>> X = np.random.RandomState(0).normal(size=(100, 2))
        >>> ebm = ScoreMatchingEBM(n_components=4, sigma=0.5, n_ais_steps=300,
        ...                        random_state=0).fit(X)
        >>> bool(np.isclose(ebm.score(X), ebm.score_samples(X).mean()))
        True
        """
        log_density = self.score_samples(X)
        if not isinstance(log_density, np.ndarray):
            return float(home(log_density)[0].mean(log_density))
        return float(np.mean(log_density))
