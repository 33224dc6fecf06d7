"""Each estimator's methods show examples of that estimator, and they run."""

import doctest
import inspect

import pytest

from sklearn_dsm import (
    DenoisingAutoencoder,
    ScoreMatchingEBM,
    ScoreMatchingOutlierDetector,
)

ESTIMATORS = [DenoisingAutoencoder, ScoreMatchingEBM, ScoreMatchingOutlierDetector]


def _public_docs(cls):
    for name in sorted(dir(cls)):
        if name.startswith("_"):
            continue
        attribute = inspect.getattr_static(cls, name)
        doc = getattr(attribute, "__doc__", None)
        if doc and ">>>" in doc:
            yield name, doc


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_example_builds_the_estimator_it_documents(cls):
    others = {c.__name__ for c in ESTIMATORS} - {cls.__name__}
    names = []
    for name, doc in _public_docs(cls):
        names.append(name)
        examples = "\n".join(
            line for line in doc.splitlines() if line.strip().startswith(">>>")
        )
        for other in others:
            assert f"{other}(" not in examples, f"{cls.__name__}.{name}"
    # The inherited methods with examples are all there (not only the class's);
    # the detector is an outlier detector, not a transformer or a sampler.
    inherited = ["fit", "partial_fit", "energy", "score_function"]
    if cls is not ScoreMatchingOutlierDetector:
        inherited += ["transform", "denoise", "sample"]
    for name in inherited:
        assert name in names, name


def test_the_detector_is_not_a_transformer():
    for name in ("transform", "fit_transform", "inverse_transform", "denoise"):
        assert not hasattr(ScoreMatchingOutlierDetector, name), name
    assert not hasattr(ScoreMatchingOutlierDetector, "sample")
    tags = ScoreMatchingOutlierDetector().__sklearn_tags__()
    assert tags.transformer_tags is None and tags.estimator_type == "outlier_detector"


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_example_runs(cls):
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(verbose=False)
    for name, doc in _public_docs(cls):
        test = parser.get_doctest(doc, {}, f"{cls.__name__}.{name}", None, 0)
        runner.run(test)
    assert runner.failures == 0, f"{runner.failures} failing example(s)"
    assert runner.tries > 10


def test_the_package_imports_without_docstrings():
    """python -OO strips docstrings; the shared parameter text must not need
    them."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-OO", "-c", "import sklearn_dsm"])
    assert run.returncode == 0


def test_parameters_are_documented_once_and_in_order():
    """Each estimator documents its __init__ parameters in signature order,
    and the parameters they share read the same (the text is written once,
    in _docstrings.py, with a few variants), in at most six lines each."""
    import numpydoc.docscrape

    docs = {}
    for cls in ESTIMATORS:
        parsed = numpydoc.docscrape.ClassDoc(cls)["Parameters"]
        names = list(inspect.signature(cls.__init__).parameters)[1:]
        assert [p.name for p in parsed] == names, cls.__name__
        docs[cls] = {p.name: (p.type, tuple(p.desc)) for p in parsed}
        for p in parsed:
            assert len(p.desc) <= 6, (cls.__name__, p.name)
    shared = set.intersection(*(set(d) for d in docs.values()))
    variants = {"activation", "sigma", "objective", "alpha", "tol", "warm_start"}
    variants |= {"whiten"}
    for name in shared - variants:
        texts = {docs[cls][name] for cls in ESTIMATORS}
        assert len(texts) == 1, name
