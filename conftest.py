"""Test configuration shared by ``tests/`` and the doctests of ``sklearn_dsm/``."""

import os

# scikit-learn's array API dispatch needs scipy's array API mode, which scipy
# reads once at import: set it before anything imports scipy, so that
# tests/test_array_api.py and the estimator checks' array API checks run
# (the NumPy path's golden fits replay bit for bit with it).
os.environ.setdefault("SCIPY_ARRAY_API", "1")
