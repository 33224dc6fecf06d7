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
    # The inherited methods with examples are all there (not only the class's).
    for name in ("fit", "partial_fit", "transform", "denoise", "energy", "sample"):
        assert name in names, name


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_example_runs(cls):
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(verbose=False)
    for name, doc in _public_docs(cls):
        test = parser.get_doctest(doc, {}, f"{cls.__name__}.{name}", None, 0)
        runner.run(test)
    assert runner.failures == 0, f"{runner.failures} failing example(s)"
    assert runner.tries > 10
