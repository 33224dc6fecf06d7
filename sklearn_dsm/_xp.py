"""Where arrays live: scikit-learn's array API dispatch, in a few helpers.

Under ``sklearn.set_config(array_api_dispatch=True)`` the estimators accept
arrays of any array-API namespace (PyTorch on CPU or CUDA, CuPy,
``array_api_strict``) and answer in the namespace and on the device of their
input. The fast NumPy path stays exactly what it was: every helper here
reports NumPy input as NumPy, and the math modules branch to their
namespace-generic twins only for other namespaces (``doc/array_api.rst``).
"""

import numpy as np
from sklearn import get_config
from sklearn.externals.array_api_compat import array_namespace
from sklearn.externals.array_api_compat import device as array_device
from sklearn.utils._array_api import (
    _is_numpy_namespace,
    _max_precision_float_dtype,
    get_namespace_and_device,
    move_to,
)

_NAMESPACES = {}


def xp_of(array):
    """The (array_api_compat) namespace of a non-NumPy array, looked up once
    per array type: a minibatch step asks it dozens of times."""
    kind = type(array)
    xp = _NAMESPACES.get(kind)
    if xp is None:
        xp = _NAMESPACES[kind] = array_namespace(array)
    return xp


def namespace(*arrays):
    """``(xp, device)`` of ``arrays``: NumPy (and device None) unless array API
    dispatch is on and they are another library's arrays."""
    if all(isinstance(a, np.ndarray) for a in arrays):
        return np, None
    if len(arrays) == 1 and is_array(arrays[0]) and get_config()["array_api_dispatch"]:
        # The fast path of the math's many calls on one device array.
        return xp_of(arrays[0]), array_device(arrays[0])
    xp, _, device = get_namespace_and_device(*arrays)
    if _is_numpy_namespace(xp):
        return np, None
    return xp, device


def float_dtypes(X):
    """The float dtypes that ``validate_data`` may give ``X``: float64 and
    float32, in ``X``'s namespace (only float32 where its device has no
    float64, e.g. Apple's MPS)."""
    xp, device = namespace(X)
    if xp is np:
        return (np.float64, np.float32)
    if _max_precision_float_dtype(xp, device) == xp.float32:
        return (xp.float32,)
    return (xp.float64, xp.float32)


def widest_float(array):
    """The widest float dtype of ``array``'s device (float64, but float32 on
    devices without it, e.g. Apple's MPS), whatever the dispatch setting."""
    xp, device = home(array)
    if xp is np:
        return np.float64
    return _max_precision_float_dtype(xp, device)


def to_numpy(array):
    """``array`` as a NumPy array (NumPy is returned as is; on a CPU device
    the result may share the array's memory)."""
    if isinstance(array, np.ndarray) or not is_array(array):
        return array
    return move_to(array, xp=np, device="cpu")


def to_namespace(array, xp, device):
    """``array`` moved to ``xp`` on ``device`` (as is if it is there, or if
    ``xp`` is NumPy)."""
    if xp is np or array is None:
        return array
    if isinstance(array, np.ndarray):
        if array.dtype == np.float64 and (
            _max_precision_float_dtype(xp, device) == xp.float32
        ):
            array = array.astype(np.float32)  # a device without float64
        # On a CPU device the result may share the NumPy array's memory:
        # callers hand over arrays they no longer write while it is used.
        return xp.asarray(np.ascontiguousarray(array), device=device)
    if xp_of(array) is xp and array_device(array) == device:
        return array
    return move_to(array, xp=xp, device=device)


def is_array(value):
    """Whether ``value`` is an array of some namespace (not a scalar, list or
    estimator): the fitted attributes that follow the data to its device."""
    return isinstance(value, np.ndarray) or (
        hasattr(value, "__dlpack__") and hasattr(value, "shape")
    )


def like(array, X):
    """``array`` in ``X``'s namespace, device and dtype, copied only where it
    must be: how the closed forms, the kernel and Adam cast parameters to
    the data. An array of another namespace or device goes through the
    host."""
    if isinstance(X, np.ndarray):
        return np.asarray(to_numpy(array), dtype=X.dtype)
    xp, device = home(X)
    if isinstance(array, np.ndarray):
        array = to_namespace(array, xp, device)
    elif xp_of(array) is not xp or array_device(array) != device:
        array = to_namespace(to_numpy(array), xp, device)
    return xp.astype(array, X.dtype, copy=False)


def take_rows(array, rows):
    """The rows ``rows`` (indices, NumPy or already on ``array``'s device,
    or a slice; repeats allowed) of ``array``, in its namespace and on its
    device."""
    if isinstance(array, np.ndarray) or isinstance(rows, slice):
        return array[rows, ...]
    xp, device = home(array)
    return xp.take(array, xp.asarray(rows, device=device), axis=0)


def copy_array(array):
    """A copy of ``array``, in its namespace."""
    if isinstance(array, np.ndarray):
        return array.copy()
    xp, _ = home(array)
    return xp.asarray(array, copy=True)


def all_finite(array):
    """Whether every entry of ``array`` is finite, in its namespace."""
    if isinstance(array, np.ndarray):
        return bool(np.all(np.isfinite(array)))
    xp, _ = home(array)
    return bool(xp.all(xp.isfinite(array)))


def home(array):
    """``(xp, device)`` where ``array`` lives, whatever the dispatch setting:
    where a fitted model keeps what it computes (log Z, draws)."""
    if isinstance(array, np.ndarray):
        return np, None
    return xp_of(array), array_device(array)
