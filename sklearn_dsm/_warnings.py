"""One way to warn: at the line of the user's code that made the call.

A warning raised deep in a fit (by a solver, the AIS estimate, a check) is
only useful if it points at the user's line. Counting frames by hand breaks
whenever the call path changes (scikit-learn's ``_fit_context`` wrapper,
``fit_transform``, a helper method), so :func:`warn` walks the stack instead
and skips every frame of this package and of scikit-learn's wrappers around
an estimator's methods.
"""

import os
import sys
import warnings

import sklearn

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
# scikit-learn's own frames between the user and our methods: the
# _fit_context decorator and the mixins' fit_transform (base.py), and the
# set_output wrapper around transform and fit_transform.
_SKLEARN_WRAPPERS = tuple(
    os.path.join(os.path.dirname(os.path.abspath(sklearn.__file__)), *parts)
    for parts in (("base.py",), ("utils", "_set_output.py"))
)


def _is_internal(filename):
    path = os.path.abspath(filename)
    return path.startswith(_PACKAGE_DIR) or path in _SKLEARN_WRAPPERS


def warn(message, category=UserWarning):
    """``warnings.warn`` with the stack level of the first frame outside.

    Called from inside the package, it attributes the warning to the first
    caller that is neither this package nor one of scikit-learn's method
    wrappers: the user's ``est.fit(X)`` line, or the scikit-learn function
    (``Pipeline.fit``, ``cross_validate``) that called the estimator.
    """
    frame = sys._getframe(1)
    level = 2  # the caller of this function
    while frame is not None and _is_internal(frame.f_code.co_filename):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
