"""sklearn-dsm: denoising autoencoders and score matching, one model.

P. Vincent (2011), "A Connection Between Score Matching and Denoising
Autoencoders", made into scikit-learn estimators.

A five-minute tour of the code
------------------------------
One model, theta = (W, b, c) at noise level sigma, seen three ways:
``DenoisingAutoencoder`` (a transformer), ``ScoreMatchingEBM`` (a density:
it also estimates log Z and fits a Student-t tail) and
``ScoreMatchingOutlierDetector`` (an outlier detector on the energy). The
modules come in four layers, each importing only the layers above it
(``tests/test_layering.py`` checks this):

1. Math (numpy and scipy only). ``_activations`` declares each hidden
   activation once (f, f', F and the kernel's affine form). ``_model`` holds
   the closed forms of one theta: hidden units, reconstruction, energy,
   score, Jacobian trace and Hyvarinen loss. ``_kernel`` is the one
   squared-error-and-trace kernel; ``_objectives`` builds the four criteria
   on it, ``(theta, data) -> (value, gradient)``, with the noise and the
   Parzen target; its registry ``OBJECTIVES`` makes a new criterion one
   entry. ``_theta`` is theta's flat layout, ``_scaling`` the
   whitening and ``sigma="auto"``, ``_normalisable`` the ReLU's density
   proof, ``_chunking`` the memory bounds, ``_warnings`` the warnings.
2. Optim. ``_lbfgs.run_lbfgs`` and ``_adam.run_adam`` each take a flat
   objective and return a result; ``_minibatch`` has Adam's batches and
   their fresh noise.
3. Density. ``_sampling`` has the annealed Langevin chains (AIS and
   ``sample``), ``_partition`` log Z from their weights, ``_diagnostics``
   the far mass, ``_mle`` the likelihood refinement, and ``_tail`` the
   Student-t tail component.
4. Estimators. ``_base._BaseDSM`` has the hyperparameters and ``fit`` /
   ``partial_fit``: validate, whiten (``_scaling``), resolve the ``"auto"``
   settings (``_settings``) into one ``FitCall``, run a solver round on it
   (``_solvers``: functions, not methods), store it on a candidate model,
   then ``_after_fit`` on that model (the density's log Z,
   ``alpha="auto"`` and tail; the detector's offset); the estimator takes
   the candidate's attributes in one write, ``_commit``. ``_density`` is
   the EBM's normalised density (log Z, tail, ``score_samples``).
   ``_inference`` holds the fitted model's methods: ``_FittedModelMixin``
   (energy, score, log-density) for all three and ``_AutoencoderFaceMixin``
   (transform, denoise, sample) for the autoencoder and the density.
   ``_docstrings`` writes the parameters' text once for all three;
   ``_progress`` feeds scikit-learn's callbacks; ``_display`` and
   ``_density_display`` have the Displays and ``_scoring`` the scorers.

Read ``doc/math.rst`` for every formula the code evaluates (comments cite
it by section), and ``doc/defaults.rst`` for why each default is what it is.
"""

from ._autoencoder import DenoisingAutoencoder
from ._density_display import DensityDisplay
from ._display import FiltersDisplay, LossCurveDisplay
from ._ebm import ScoreMatchingEBM
from ._outlier import ScoreMatchingOutlierDetector
from ._partition import estimate_log_partition
from ._scoring import denoising_scorer, hyvarinen_scorer

__all__ = [
    "DenoisingAutoencoder",
    "DensityDisplay",
    "FiltersDisplay",
    "LossCurveDisplay",
    "ScoreMatchingEBM",
    "ScoreMatchingOutlierDetector",
    "denoising_scorer",
    "estimate_log_partition",
    "hyvarinen_scorer",
]
__version__ = "0.1.0"
