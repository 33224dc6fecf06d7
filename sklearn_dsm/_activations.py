"""The hidden units' activation, declared once for every closed form.

For any elementwise activation ``f`` with antiderivative ``F`` (``F' = f``),
the tied reconstruction ``r(x) = W^T f(W x + b) + c`` is a gradient field
(``doc/math.rst``, "Any activation"):

    r(x) - x = grad_x [<c, x> - |x|^2 / 2 + sum_i F(W_i x + b_i)],

so ``E(x) = -(<c, x> - |x|^2 / 2 + sum_i F(W_i x + b_i)) / sigma^2`` has the
score ``(r(x) - x) / sigma^2``, and the Jacobian of the score is
``(W^T diag(f'(a)) W - I) / sigma^2``. Every function of the model and every
objective is written once against :class:`Activation`; a new activation is
one entry in :data:`ACTIVATIONS`.

The objectives' kernel evaluates ``f`` in an affine form,
``f(a) = outer * u(inner * a) + shift``, with ``u`` the "unit" function that
touches the (rows x H) buffers: the scales then fold into the small (H x d)
matrices. The sigmoid is ``tanh`` in this form (inner = outer = shift = 1/2),
which is about 3x faster than ``expit`` and as safe; the ReLU is its own unit.
The kernel also needs ``u'`` and ``u''`` written in terms of ``u``'s output,
so that no pre-activation is kept.
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit


@dataclass(frozen=True)
class Activation:
    """One elementwise activation and all that the model needs of it.

    Attributes
    ----------
    name : str
        The ``activation`` hyperparameter's value.
    value : callable
        ``A -> f(A)``, in place (returns ``A``); exact for any magnitude.
    slope_from_value : callable
        ``H -> f'(A)`` from ``H = f(A)``, in place.
    antiderivative : callable
        ``A -> F(A)``, in place, overflow-free; ``F(0)`` is whatever the
        closed form gives (constants cancel in log Z, not in the energy).
    inner, outer, shift : float
        The kernel's affine form ``f(a) = outer * u(inner * a) + shift``.
    unit : callable
        ``Z -> u(Z)`` in place: the only elementwise pass of the forward.
    unit_slope : callable
        ``(T, out) -> u'`` at the point whose output is ``T = u(Z)``.
    unit_curvature : float or None
        ``u'' = unit_curvature * T * u'`` (tanh: -2); None where ``u''`` is
        zero wherever it exists (ReLU), so ISM's trace term has no gradient
        through the hidden units.
    smooth : bool
        Whether ``f'`` is continuous. Hyvarinen's criterion needs it: with a
        step ``f'`` the trace term's expected gradient in ``b`` is a delta at
        the kink that no finite sample sees.
    bounded_growth : bool
        Whether ``F`` grows at most linearly, so that the Gaussian term wins
        and ``exp(-E)`` integrates for every theta. Otherwise normalisability
        is a condition on W (:func:`normalisability`).
    xp_value, xp_slope, xp_antiderivative : callable
        ``(A, xp) -> f(A)``, ``(H, xp) -> f'(A)`` from ``H = f(A)`` and
        ``(A, xp) -> F(A)`` in any array-API namespace ``xp``, returning new
        arrays (the standard has no ``out=``): the twins of ``value``,
        ``slope_from_value`` and ``antiderivative`` for arrays off NumPy
        (:mod:`sklearn_dsm._xp`).
    xp_curvature : callable or None
        ``(H, xp) -> f''(A)`` from ``H = f(A)``; None where ``f''`` is zero
        wherever it exists (ReLU).
    """

    name: str
    value: object
    slope_from_value: object
    antiderivative: object
    inner: float
    outer: float
    shift: float
    unit: object
    unit_slope: object
    unit_curvature: float | None
    smooth: bool
    bounded_growth: bool
    xp_value: object = None
    xp_slope: object = None
    xp_antiderivative: object = None
    xp_curvature: object = None


def _sigmoid_value(A):
    return expit(A, out=A)


def _sigmoid_slope(H):
    H *= 1 - H
    return H


def _softplus(A):
    # softplus(a) = -log_expit(-a): exact for any magnitude, with neither
    # overflow nor an underflow flag for very negative a.
    np.negative(A, out=A)
    log_expit(A, out=A)
    np.negative(A, out=A)
    return A


def _tanh_inplace(Z):
    return np.tanh(Z, out=Z)


def _tanh_slope(T, out):
    np.multiply(T, T, out=out)
    np.subtract(1, out, out=out)
    return out


def _relu_value(A):
    return np.maximum(A, 0, out=A)


def _relu_slope(H):
    # f'(0) = 0: the kink itself is a set of measure zero.
    return np.greater(H, 0, out=H, casting="unsafe")


def _half_square_of_positive_part(A):
    np.maximum(A, 0, out=A)
    A *= A
    A *= 0.5
    return A


def _relu_unit_slope(T, out):
    return np.greater(T, 0, out=out, casting="unsafe")


# The namespace-generic forms. The sigmoid is 0.5 tanh(a / 2) + 0.5, which
# saturates instead of overflowing (exp(-a) would reach inf in float32 at
# a = -89); the softplus is logaddexp(0, a), exact for any magnitude.
def _xp_sigmoid(A, xp):
    return 0.5 * xp.tanh(0.5 * A) + 0.5


def _xp_sigmoid_slope(H, xp):
    return H * (1 - H)


def _xp_sigmoid_curvature(H, xp):
    return H * (1 - H) * (1 - 2 * H)


def _xp_softplus(A, xp):
    return xp.logaddexp(xp.zeros_like(A), A)


def _xp_relu(A, xp):
    return xp.where(A > 0, A, xp.zeros_like(A))


def _xp_relu_slope(H, xp):
    return xp.astype(H > 0, H.dtype)


def _xp_half_square_of_positive_part(A, xp):
    P = _xp_relu(A, xp)
    return 0.5 * P * P


SIGMOID = Activation(
    name="sigmoid",
    value=_sigmoid_value,
    slope_from_value=_sigmoid_slope,
    antiderivative=_softplus,
    inner=0.5,
    outer=0.5,
    shift=0.5,
    unit=_tanh_inplace,
    unit_slope=_tanh_slope,
    unit_curvature=-2.0,
    smooth=True,
    bounded_growth=True,
    xp_value=_xp_sigmoid,
    xp_slope=_xp_sigmoid_slope,
    xp_antiderivative=_xp_softplus,
    xp_curvature=_xp_sigmoid_curvature,
)

RELU = Activation(
    name="relu",
    value=_relu_value,
    slope_from_value=_relu_slope,
    antiderivative=_half_square_of_positive_part,
    inner=1.0,
    outer=1.0,
    shift=0.0,
    unit=_relu_value,
    unit_slope=_relu_unit_slope,
    unit_curvature=None,
    smooth=False,
    bounded_growth=False,
    xp_value=_xp_relu,
    xp_slope=_xp_relu_slope,
    xp_antiderivative=_xp_half_square_of_positive_part,
)

# The registry: a new activation is one declared object and one entry here.
ACTIVATIONS = {a.name: a for a in (SIGMOID, RELU)}


def get_activation(activation):
    """The :class:`Activation` named ``activation`` (or ``activation`` itself)."""
    if isinstance(activation, Activation):
        return activation
    try:
        return ACTIVATIONS[activation]
    except (KeyError, TypeError):
        raise ValueError(
            f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}."
        ) from None
