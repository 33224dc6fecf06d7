"""What each ``"auto"`` hyperparameter resolves to, in one place.

The estimators' defaults depend on the data (its size, its spread, its
number of features) and on the solver a call uses; this mixin turns the
hyperparameters and those facts into the numbers a fit runs with. Each rule
and the measurements behind it are in ``doc/defaults.rst``; an estimator
changes a rule by overriding one constant or method (the autoencoder's
``_LBFGS_TOL`` and ``_auto_sigma``, the density's ``_initial_alpha``).
"""

from ._activations import ACTIVATIONS
from ._objectives import OBJECTIVES
from ._scaling import rms_spread, silverman_sigma
from ._warnings import warn

# sigma / (the data's spread) outside this range warns: no sensible fit there.
_SIGMA_RANGE = (1e-2, 10.0)


class _SettingsMixin:
    """The resolution of the ``"auto"`` hyperparameters (doc/defaults.rst)."""

    def _resolve_sigma(self, Z, weights):
        """The noise level of this fit, in the model's coordinates.

        ``"auto"``: Silverman's bandwidth for ``Z`` (:mod:`sklearn_dsm._scaling`).
        A number is used as given, with a warning when it is far from the
        scale of the data, where the fit cannot be sensible.
        """
        spread = rms_spread(Z, weights)
        if self.sigma == "auto":
            return self._auto_sigma(Z, spread if spread > 0 else 1.0, weights)
        sigma = float(self.sigma)
        if spread > 0 and not _SIGMA_RANGE[0] <= sigma / spread <= _SIGMA_RANGE[1]:
            units = (
                "sigma is in whitened units (the data's spread is 1 in every "
                "direction): use a value between 0.1 and 1"
                if self.whiten
                else "sigma is in the units of X: standardise X (StandardScaler)"
            )
            warn(
                f"sigma={self.sigma} is {sigma / spread:.2g} times the typical "
                f"spread of the data ({spread:.3g} per feature): the noise "
                f"{'drowns the data' if sigma > spread else 'is too small to see'}. "
                f"{units}, or use sigma='auto', which sets it from the data."
            )
        return sigma

    # The width the real-size rules are written for (8 x 8 patches): above
    # it the solver's threshold, Adam's step and warm-up, and the
    # autoencoder's start scale with the features or take their careful
    # settings (each rule below says why).
    _BASE_FEATURES = 64

    # solver="auto": minibatch Adam from _ADAM_MIN_ROWS rows of up to 64
    # features, and above 64 features from as many rows as hold
    # _ADAM_MIN_ROWS * 64 numbers, but never below _ADAM_FLOOR_ROWS. Below
    # that an L-BFGS iteration over every row is cheap and its fixed noisy
    # copies converge in a few hundred; above it, where an Adam epoch holds
    # tens of steps of fresh noise, a few epochs reach the same quality for a
    # fraction of the arithmetic. An L-BFGS iteration costs in proportion to
    # the numbers in the data, hence the scaling with the features; Adam
    # needs enough steps, hence the floor (on 784 features Adam on 3,000 rows
    # matched L-BFGS at a third of its time, on 1,000 rows it stopped short:
    # doc/defaults.rst, "solver").
    _ADAM_MIN_ROWS = 10_000
    _ADAM_FLOOR_ROWS = 3_000

    def _adam_min_rows(self, n_features):
        """Rows from which solver="auto" picks Adam, for ``n_features``."""
        base = self._BASE_FEATURES
        scaled = -(-self._ADAM_MIN_ROWS * base // max(n_features, base))
        return max(self._ADAM_FLOOR_ROWS, scaled)

    def _real_size(self, n_samples, n_features):
        """Whether solver="auto" picks Adam for this data (and Adam's
        real-size stopping rule applies, ``_adam_stopping``)."""
        return n_samples >= self._adam_min_rows(n_features)

    def _choose_solver(self, n_samples, n_features):
        """The solver a fit on ``n_samples`` rows of ``n_features`` uses."""
        if self.solver != "auto":
            return self.solver
        return "adam" if self._real_size(n_samples, n_features) else "lbfgs"

    # n_corruptions="auto" for a criterion that needs noise (doc/defaults.rst).
    _NOISY_COPIES = 3

    def _n_corruptions(self, solver):
        """Noisy copies per row under ``solver``; "auto": none for ism
        (Hyvarinen's criterion on the clean rows), else 3 for L-BFGS's fixed
        copies and 1 for Adam,
        whose every batch draws fresh noise: more copies of a batch only make
        a larger batch that shares its clean rows, at the cost of more."""
        if self.n_corruptions != "auto":
            return self.n_corruptions
        if not OBJECTIVES[self.objective].needs_noise:
            return 0
        return 1 if solver == "adam" else self._NOISY_COPIES

    # Whether the estimator's outputs need exp(-E) to integrate (a density,
    # a detector whose scores are log-densities); an autoencoder's do not.
    _is_density = False

    def _tail_bound(self):
        """The bound on W's largest singular value that the fit's penalty
        holds (None: no penalty): 0.9 for a density whose activation grows
        faster than linearly, below the 1 that proves it a density
        (``_normalisable``)."""
        if not self._is_density or ACTIVATIONS[self.activation].bounded_growth:
            return None
        return 0.9

    # The largest singular value of the initial W of a ReLU model, and the
    # one it takes instead on centred rows (see initial_theta; a sigmoid's W
    # starts as drawn). A density starts as one: at most 1/2, half the bound
    # that proves it one (_normalisable). An autoencoder is not held to that
    # bound. On centred rows of up to 64 features (standardised patches) it
    # starts from Glorot's draw (largest singular value about 2 on a square
    # layer), capped at 2 so that rows of small spread (W is divided by it)
    # cannot start it at a gain ||W||^2 in the tens: on 100,000 standardised
    # image patches that start denoised 0.18 to 0.27 dB better than 1/2 at
    # noise 15 and 25 (doc/defaults.rst, "At real size"), and on the small
    # sets L-BFGS fits features as good. On uncentred rows (pixels in
    # [0, 1]), where W's pull on their mean decides which units live, the
    # larger start went both ways (-1.8 dB on 20,000 patches of 256 units,
    # +0.5 dB on 100,000) and the start stays at 1/2; above 64 features too,
    # where a larger start left 784-pixel images' features worse and slower
    # (0.922 against 0.944 accuracy; no cap: every unit dead).
    _DENSITY_START = 0.5
    _AUTOENCODER_START = 2.0

    def _initial_spectral_bounds(self, n_features):
        """(spectral_bound, centred_bound) of initial_theta."""
        if ACTIVATIONS[self.activation].bounded_growth:
            return None, None
        if self._is_density or n_features > self._BASE_FEATURES:
            return self._DENSITY_START, None
        return self._DENSITY_START, self._AUTOENCODER_START

    def _check_objective_and_corruptions(self):
        if self.n_corruptions == 0 and OBJECTIVES[self.objective].needs_noise:
            clean = sorted(k for k, o in OBJECTIVES.items() if not o.needs_noise)
            raise ValueError(
                f"n_corruptions=0 (no corruption) is only defined for "
                f"objective in {clean} (Hyvarinen's estimator on the clean "
                f"data); objective={self.objective!r} needs noisy copies. Set "
                f"n_corruptions >= 1 or objective='ism'."
            )
        if self.objective == "ism" and not ACTIVATIONS[self.activation].smooth:
            # The trace term sum_i f'(a_i) |W_i|^2 is then a step function of
            # theta on any finite sample: its expected gradient (a delta at
            # each kink, weighted by the data's density there) is invisible
            # to the sample, and the fit would ignore it.
            raise ValueError(
                f"objective='ism' needs an activation with a continuous "
                f"derivative; activation={self.activation!r} has a step "
                f"derivative, so Hyvarinen's trace term is piecewise constant "
                f"on any sample and its gradient is lost. Use objective='dsm' "
                f"(or 'dae', 'esm'), or activation='sigmoid'."
            )

    # tol=None: the stopping tolerance of each solver (doc/defaults.rst).
    _LBFGS_TOL = 1e-4
    _ADAM_TOL = 1e-4

    def _lbfgs_window(self):
        # "auto" is 10 for L-BFGS: its iterations are full-batch steps, and
        # the window only has to span its uneven short and long steps.
        auto = self.n_iter_no_change == "auto"
        return 10 if auto else self.n_iter_no_change

    def _lbfgs_tol(self):
        return self._LBFGS_TOL if self.tol is None else self.tol

    # Adam's stopping rule, (tol, window in steps), on data large enough that
    # solver="auto" picks Adam, and below (doc/defaults.rst, "Adam"). On
    # large data a plateau of 1% over 100 steps is where the fit is as good
    # as L-BFGS's (on 784 features: the same denoising error and features,
    # in MLPRegressor's time); on small data, where Adam runs only when asked
    # for, a slow descent crawls by less than that over 100 steps, and the
    # fit stopped 4% to 70% short of the optimum, which 1e-4 over 500 steps
    # reaches within 2%.
    _ADAM_STOP_LARGE = (1e-2, 100)
    _ADAM_STOP_SMALL = (1e-4, 500)

    def _adam_stopping(self, n_samples, n_features):
        """(tol, the "auto" window in steps) of an Adam fit on this data."""
        large = self._real_size(n_samples, n_features)
        tol, steps = self._ADAM_STOP_LARGE if large else self._ADAM_STOP_SMALL
        return (tol if self.tol is None else self.tol), steps

    def _auto_sigma(self, Z, spread, weights):
        """sigma="auto" for density: Silverman's bandwidth (see _scaling);
        sample weights count rows."""
        n_rows = Z.shape[0] if weights is None else float(weights.sum())
        return silverman_sigma(n_rows, Z.shape[1], spread)

    def _learning_rate(self, n_features):
        """Adam's step size; "auto": 1e-2, times sqrt(64 / n_features) above
        64 features. Adam moves every weight by about the step, so a unit's
        pre-activation moves with the number of its inputs: on 784-pixel
        images 1e-2 left most ReLU units dead (linear-classifier accuracy on
        ``transform`` 0.77, raw pixels 0.92). With the solver's warm-up
        (``_WARMUP_STEPS``, below) a step of 1e-2 * sqrt(64 / 784) = 2.9e-3
        is safe there, and reaches the quality of 64 / 784 (8.2e-4) in
        fewer epochs (doc/defaults.rst, "At real size")."""
        if self.learning_rate_init != "auto":
            return self.learning_rate_init
        return 1e-2 * min(1.0, self._BASE_FEATURES / n_features) ** 0.5

    # Above 64 features Adam's step ramps up over this many steps
    # (AdamState's warmup), a tenth of its memory of the squared gradients,
    # 1 / (1 - beta_2) = 1000 steps. Its first steps divide by second moments
    # estimated from a few gradients; on 784 features a full step from the
    # start left ReLU units dead for good at any step above 2e-3, and with
    # the ramp steps up to 8e-3 trained (doc/defaults.rst, "At real size"). Up to 64
    # features the step is 1e-2 as it always was, without a ramp.
    _WARMUP_STEPS = 300

    def _adam_warmup(self, n_features):
        return self._WARMUP_STEPS if n_features > self._BASE_FEATURES else 0

    def _batch_size(self):
        return 200 if self.batch_size == "auto" else self.batch_size
