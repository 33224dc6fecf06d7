"""The package's import graph has layers and no cycle.

Math (closed forms, objectives, the parameter layout) imports nothing of the
package above it; the solvers (Optim) import only Math; Density (sampling, log
Z, diagnostics, likelihood refinement) may use Math and Optim; only the
estimators import estimators. The graph is read from the sources with ``ast``,
so the test sees imports inside functions too.
"""

import ast
from pathlib import Path

import sklearn_dsm

PACKAGE = Path(sklearn_dsm.__file__).parent

LAYERS = {
    "math": {
        "_warnings",
        "_chunking",
        "_theta",
        "_activations",
        "_normalisable",
        "_model",
        "_kernel",
        "_kernel_xp",
        "_xp",
        "_objectives",
        "_scaling",
    },
    "optim": {"_lbfgs", "_adam", "_minibatch"},
    "density": {"_sampling", "_partition", "_diagnostics", "_mle", "_tail"},
    "estimators": {
        "_inference",
        "_base",
        "_solvers",
        "_density",
        "_settings",
        "_autoencoder",
        "_ebm",
        "_outlier",
        "_docstrings",
        "_display",
        "_density_display",
        "_progress",
        "_scoring",
        "__init__",
    },
}
ORDER = ["math", "optim", "density", "estimators"]
LAYER_OF = {module: layer for layer, modules in LAYERS.items() for module in modules}
# What the Math layer may import from outside: the standard library, numpy,
# scipy, and two scikit-learn utilities (the working_memory setting and
# check_random_state), never an estimator.
MATH_EXTERNAL = {"numpy", "scipy", "sklearn", "sklearn.utils"}
MATH_FROM_SKLEARN = {"get_config", "check_random_state"}
# One bridge to scikit-learn's array API utilities (namespaces, devices,
# conversions): _xp alone imports them, and the math goes through it.
ARRAY_API_BRIDGE = {
    "_xp": {
        "sklearn",
        "sklearn.utils._array_api",
        "sklearn.externals.array_api_compat",
    }
}


def _imports(module):
    """(package modules imported, external (module, names) imported)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    internal, external = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:  # from . import x / from ._x import y
                if node.module:
                    internal.add(node.module)
                else:
                    internal.update(alias.name for alias in node.names)
            elif node.module and node.module.startswith("sklearn_dsm"):
                internal.add(node.module.split(".")[1])
            else:
                external.append((node.module, {a.name for a in node.names}))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("sklearn_dsm."):
                    internal.add(alias.name.split(".")[1])
                else:
                    external.append((alias.name, set()))
    return internal, external


GRAPH = {m.stem: _imports(m.stem)[0] for m in PACKAGE.glob("*.py")}


def test_every_module_has_a_layer():
    assert set(GRAPH) == set(LAYER_OF), "place new modules in LAYERS"


def test_no_module_imports_a_layer_above_its_own():
    for module, imported in GRAPH.items():
        rank = ORDER.index(LAYER_OF[module])
        for other in imported:
            assert ORDER.index(LAYER_OF[other]) <= rank, f"{module} -> {other}"


def test_optim_and_density_never_import_the_estimators():
    for module, imported in GRAPH.items():
        if LAYER_OF[module] in ("optim", "density"):
            assert not imported & LAYERS["estimators"], module


def test_math_imports_only_numpy_scipy_and_two_sklearn_utilities():
    stdlib = {"dataclasses", "typing", "collections.abc", "numbers", "os", "sys"}
    stdlib |= {"warnings"}
    for module in LAYERS["math"]:
        _, external = _imports(module)
        for name, names in external:
            root = name.split(".")[0]
            if name in stdlib or root in ("numpy", "scipy"):
                continue
            if name in ARRAY_API_BRIDGE.get(module, ()):
                continue
            assert name in MATH_EXTERNAL, f"{module} imports {name}"
            if name.startswith("sklearn") and names:
                assert names <= MATH_FROM_SKLEARN, f"{module}: {names}"


def test_the_import_graph_has_no_cycle():
    state = {}

    def visit(module, path):
        if state.get(module) == "done":
            return
        assert state.get(module) != "open", " -> ".join([*path, module])
        state[module] = "open"
        for other in sorted(GRAPH[module]):
            visit(other, [*path, module])
        state[module] = "done"

    for module in sorted(GRAPH):
        visit(module, [])


def test_the_cycle_check_would_see_a_cycle():
    """The check above is not vacuous: a planted cycle fails it."""
    saved = dict(GRAPH)
    try:
        GRAPH["_theta"] = GRAPH["_theta"] | {"_objectives"}
        try:
            test_the_import_graph_has_no_cycle()
        except AssertionError as error:
            assert "_objectives -> _theta -> _objectives" in str(error)
        else:
            raise AssertionError("a planted cycle went unseen")
    finally:
        GRAPH.clear()
        GRAPH.update(saved)
