"""Each estimator's inherited methods show examples of that estimator.

The fitted model's methods are written once, in ``_inference.py`` and
``_base.py``, with examples of :class:`DenoisingAutoencoder`. A user reading
``ScoreMatchingEBM.sample`` should see ``ScoreMatchingEBM`` at work, so the
other estimators get the same methods with the examples rewritten for them.
The examples are written to hold for every estimator (whitened or not,
normalised or not); ``tests/test_docstrings.py`` runs each class's copy.
"""

import functools
import inspect
import re

_SOURCE = "DenoisingAutoencoder"
_VARIABLE = re.compile(r"\bdae\b")


def own_examples(variable):
    """Class decorator: give the class its own copy of every inherited public
    method whose examples build a DenoisingAutoencoder, naming the class and
    calling the fitted model ``variable``."""

    def decorate(cls):
        for name in dir(cls):
            if name.startswith("_"):
                continue
            attribute = inspect.getattr_static(cls, name)
            doc = getattr(attribute, "__doc__", None)
            if not doc or f"import {_SOURCE}" not in doc:
                continue
            new_doc = _VARIABLE.sub(variable, doc.replace(_SOURCE, cls.__name__))
            if isinstance(attribute, property):
                setattr(cls, name, property(attribute.fget, doc=new_doc))
            elif name in vars(cls):
                # Already the class's own function (scikit-learn's set_output
                # wraps transform per class): rewrite its docstring in place.
                attribute.__doc__ = new_doc
            elif callable(attribute):
                setattr(cls, name, _copy(attribute, cls, name, new_doc))
        return cls

    return decorate


def _copy(function, cls, name, doc):
    @functools.wraps(function)
    def method(self, *args, **kwargs):
        return function(self, *args, **kwargs)

    method.__doc__ = doc
    method.__qualname__ = f"{cls.__name__}.{name}"
    method.__module__ = cls.__module__
    return method


# ------------------------------------------------------------------ parameters
# The parameters' text, written once. Each estimator's docstring holds the
# marker below in its Parameters section; shared_parameters fills it with the
# entries it names, in its order, with the estimator's own defaults and
# variants. The measurements behind the defaults live in the user guide
# (doc/defaults.rst), which the entries cite.
PARAMETERS_MARKER = "    <<parameters>>\n"
# The solver's and the stopping rule's parameters, the same in every
# estimator and in this order between alpha and whiten.
FIT_PARAMETERS = (
    "max_iter",
    "tol",
    "random_state",
    "verbose",
    "warm_start",
    "solver",
    "batch_size",
    "learning_rate_init",
    "shuffle",
    "early_stopping",
    "validation_fraction",
    "n_iter_no_change",
)

_ENTRIES = {
    "n_components": """\
n_components : int, default=64
    Number of hidden units H.""",
    "activation:relu": """\
activation : {"relu", "sigmoid"}, default="relu"
    Hidden units ``f``: the ReLU (better features and denoising) or the
    paper's sigmoid (the better density, and the only one ``"ism"`` fits);
    see :ref:`defaults-activation`.""",
    "activation:sigmoid": """\
activation : {"sigmoid", "relu"}, default="sigmoid"
    Hidden units ``f``: the paper's sigmoid (every fit is a density) or the
    ReLU, whose fits are held to ``|W|_2`` near 0.9 so that they are
    densities, and which needs a noisy ``objective``; see
    :ref:`defaults-activation`.""",
    "sigma:fifth": """\
sigma : float or "auto", default="auto"
    Standard deviation of the corruption, also the model's temperature, in
    the model's coordinates. ``"auto"``: a fifth of the data's
    root-mean-square spread per feature (:ref:`defaults-sigma`). A value
    below 1% or above 10 times the spread warns.""",
    "sigma:silverman": """\
sigma : float or "auto", default="auto"
    Standard deviation of the corruption, also the model's temperature, in
    the model's coordinates; the density is never narrower than ``sigma``.
    ``"auto"``: Silverman's kernel bandwidth
    ``(n (d + 2) / 4)^(-1 / (d + 4))`` times the data's spread
    (:ref:`defaults-sigma`). A value below 1% or above 10 times the spread
    warns.""",
    "objective": """\
objective : {"dae", "dsm", "esm", "ism"}, default="{default}"
    Training criterion (:ref:`math-objectives`): ``"dae"``, reconstruction
    error from noisy copies; ``"dsm"``, the same divided by ``2 sigma^4``;
    ``"esm"``, matching the Parzen score; ``"ism"``, Hyvarinen's criterion,
    on the clean rows with ``n_corruptions=0``. All four have the same
    minimisers in expectation (:ref:`defaults-objective`).""",
    "n_corruptions": """\
n_corruptions : int or "auto", default="auto"
    Noisy copies of each row, drawn once and held fixed under L-BFGS (Adam
    draws fresh noise for every batch). ``"auto"``: 3 for the noisy
    criteria under L-BFGS, 1 under Adam, 0 for ``"ism"`` (the clean rows).
    0 is allowed only with ``objective="ism"``.""",
    "alpha:fixed": """\
alpha : float, default=0.1
    L2 penalty ``alpha * |W|^2 / 2`` on the weights, in score-matching units
    (the same for ``"dae"``, whose objective is scaled by ``2 sigma^4``).""",
    "alpha:auto": """\
alpha : float or "auto", default="auto"
    L2 penalty ``alpha * |W|^2 / 2`` on the weights, in score-matching
    units. ``"auto"``: 0.1, tripled at most twice while ``far_mass_`` is
    above 5%, each time continuing the fit (:ref:`defaults-alpha`);
    ``alpha_`` is the value used.""",
    "max_iter": """\
max_iter : int, default=2000
    Maximum number of L-BFGS iterations (Adam: epochs); reaching it
    warns.""",
    "tol": """\
tol : float or None, default=None
    L-BFGS stops when the objective falls by less than ``tol`` (relative)
    over ``n_iter_no_change`` iterations; Adam divides its step by 10 at
    each such plateau and stops at the third. ``None``: {rule}
    (:ref:`defaults-stopping`).""",
    "random_state": """\
random_state : int, RandomState instance or None, default=None
    Seeds the initial weights and the noise. Pass an int for reproducible
    fits.""",
    "verbose": """\
verbose : int, default=0
    If positive, print the objective and the elapsed time after every
    L-BFGS iteration (Adam: epoch).""",
    "warm_start": """\
warm_start : bool, default=False
    Start from the previous fit's parameters and coordinates{alpha} when
    their shapes and ``whiten`` match.""",
    "solver": """\
solver : {"auto", "lbfgs", "adam"}, default="auto"
    ``"lbfgs"``: full-batch L-BFGS on fixed noisy copies. ``"adam"``:
    minibatch Adam with fresh noise for every batch, whose memory is set by
    ``batch_size``. ``"auto"``: Adam at real size, L-BFGS below: from
    10,000 rows of up to 64 features, and from 640,000 numbers
    (``n_samples * n_features``) but at least 3,000 rows on wider data
    (:ref:`defaults-solver`); ``solver_`` is the one used.""",
    "batch_size": """\
batch_size : int or "auto", default="auto"
    Rows per Adam minibatch (``solver="adam"``, :meth:`partial_fit`).
    ``"auto"``: ``min(200, n_samples)``.""",
    "learning_rate_init": """\
learning_rate_init : float or "auto", default="auto"
    Adam's step size. ``"auto"``: ``1e-2 * sqrt(min(1, 64 / n_features))``;
    above 64 features the step also grows linearly over the first 300
    steps (a warm-up, :ref:`defaults-solver`).""",
    "shuffle": """\
shuffle : bool, default=True
    Visit the rows in a new random order every epoch (Adam only).""",
    "early_stopping": """\
early_stopping : bool, default=False
    Hold out ``validation_fraction`` of the rows, watch their objective, and
    keep the best epoch's parameters (Adam only), as ``MLPRegressor``
    does.""",
    "validation_fraction": """\
validation_fraction : float, default=0.1
    Share of the rows held out when ``early_stopping``.""",
    "n_iter_no_change": """\
n_iter_no_change : int or "auto", default="auto"
    Window of the stopping rule (see ``tol``), in L-BFGS iterations or Adam
    epochs. ``"auto"``: 10 for L-BFGS; for Adam, 500 steps and at least 2
    epochs, 100 steps where ``solver="auto"`` would pick Adam
    (:ref:`defaults-adam`).""",
    "whiten:off": """\
whiten : bool, default=False
    Fit in ZCA-whitened coordinates ``z = (x - mean_) whitening_`` instead
    of the input's. Off: {why} (:ref:`defaults-whitening`).""",
    "whiten:on": """\
whiten : bool, default=True
    Fit in ZCA-whitened coordinates ``z = (x - mean_) whitening_``, where
    the data has identity covariance and the family contains its
    full-covariance Gaussian; the density in ``x`` is that in ``z`` times
    ``|det whitening_|`` (:ref:`defaults-whitening`).""",
    "n_ais_chains": """\
n_ais_chains : int, default=256
    Chains of the annealed importance sampling (AIS) that estimates
    ``log Z`` at the end of ``fit``; its error shrinks as
    ``1 / sqrt(n_ais_chains)``.""",
    "n_ais_steps": """\
n_ais_steps : int, default=250
    Temperatures of that AIS run, one Langevin step each, from a Gaussian
    with the training rows' mean and spread; ``log_partition_std_`` reports
    the error, and ``fit`` warns above 0.1 nats.""",
    "mle_steps": """\
mle_steps : int, default=0
    Adam steps of maximum-likelihood refinement after score matching (a step
    beyond the paper), with model averages from 1000 persistent Langevin
    chains; 0 keeps the score-matching fit (:ref:`defaults-mle`).""",
    "mle_learning_rate": """\
mle_learning_rate : float, default=3e-3
    Adam's step size of that refinement.""",
    "tail": """\
tail : {"student_t"} or None, default="student_t"
    The density's tail: ``"student_t"`` mixes the score-matching model with
    a Student-t with the training rows' mean and covariance, its scale,
    degrees of freedom and weight fitted to them (:ref:`math-tail`).
    ``None``: the model alone, whose tails are a Gaussian of scale
    ``sigma``.""",
    "contamination": """\
contamination : float, default=0.1
    Expected share of outliers in the training rows, in (0, 0.5]: it sets
    ``offset_``, the threshold of ``predict``, not the scores.""",
}


def shared_parameters(*names, **fill):
    """Class decorator: put the named entries of the shared parameter text,
    in this order, where the class docstring holds :data:`PARAMETERS_MARKER`.

    A name may carry a variant after a colon (``"sigma:silverman"``); the
    keyword arguments fill the entries' ``{placeholders}``.
    """

    def decorate(cls):
        if cls.__doc__ is None:  # python -OO strips docstrings
            return cls
        unknown = set(fill) - {
            key for name in names for key in re.findall(r"\{([a-z]+)\}", _ENTRIES[name])
        }
        if unknown:
            raise ValueError(f"{cls.__name__}: no entry has {sorted(unknown)}")
        entries = []
        for name in names:
            text = _ENTRIES[name]
            for key, value in fill.items():
                text = text.replace("{" + key + "}", value)
            unfilled = re.search(r"\{[a-z]+\}", text)
            if unfilled:
                raise ValueError(f"{name}: nothing fills {unfilled.group()}")
            entries.append(text)
        block = "\n".join(entries)
        block = "".join(
            f"    {line}\n" if line else "\n" for line in block.splitlines()
        )
        if PARAMETERS_MARKER not in cls.__doc__:
            raise ValueError(f"{cls.__name__}'s docstring has no parameters marker")
        cls.__doc__ = cls.__doc__.replace(PARAMETERS_MARKER, block)
        return cls

    return decorate
