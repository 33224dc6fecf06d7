"""sklearn-dsm: denoising autoencoders and score matching, one model.

P. Vincent (2011), "A Connection Between Score Matching and Denoising
Autoencoders", made into scikit-learn estimators.
"""

from ._autoencoder import DenoisingAutoencoder
from ._display import DensityDisplay, FiltersDisplay, LossCurveDisplay
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
