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
