"""Test configuration shared by ``tests/`` and the doctests of ``sklearn_dsm/``."""

import os

# scikit-learn's check_array_api_input (run by parametrize_with_checks for every
# estimator, in its numpy-only form here) needs scipy's array API mode, which
# scipy reads once at import: set it before anything imports scipy.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
