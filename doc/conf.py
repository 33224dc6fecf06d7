"""Sphinx configuration: numpydoc API reference and a sphinx-gallery of examples.

Build: ``pip install ".[docs]" && sphinx-build -W -b html doc doc/_build/html``
(warnings are errors; the gallery's ``plot_*.py`` examples are executed).
"""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import sklearn_dsm  # noqa: E402

project = "sklearn-dsm"
author = "the sklearn-dsm developers"
copyright = "2026, the sklearn-dsm developers"
release = version = sklearn_dsm.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
# Document what this package defines (including what the two estimators share
# from their private base class), not scikit-learn's mixins, whose docstrings
# point into scikit-learn's own documentation.
autodoc_default_options = {
    "members": True,
    "inherited-members": (
        "BaseEstimator,TransformerMixin,ClassNamePrefixFeaturesOutMixin,"
        "DensityMixin,_SetOutputMixin,_MetadataRequester"
    ),
}
# numpydoc lists the methods itself; autosummary stubs for every inherited
# sklearn method would be noise (and warnings).
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    # Execute the plot_* examples; the two scripts (the main job, and the
    # out-of-core tour that needs dask and a disk file) are shown, not run.
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "plot_gallery": "True",
    "matplotlib_animations": False,
    "reset_modules": ("matplotlib",),
}

exclude_patterns = ["_build"]
templates_path = []
html_theme = "alabaster"
html_static_path = []
html_title = f"sklearn-dsm {release}"
