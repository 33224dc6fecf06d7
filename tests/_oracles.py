"""Exact answers the density tests compare against (doc/math.rst, "Exact
oracles for the tests"): log Z by enumeration when 1 / sigma^2 is an integer,
and by quadrature, with the model's CDF, in one or two dimensions.

Shared by test_sampling.py, test_partition.py and test_ebm.py.
"""

import itertools

import numpy as np
from scipy.special import comb, logsumexp

from sklearn_dsm import _model


def log_z_by_enumeration(W, b, c, sigma):
    """Exact log Z when k = 1 / sigma^2 is a positive integer (doc/math.rst,
    "Exact oracles for the tests").

    (1 + e^a)^k = sum_j C(k, j) e^(j a) turns Z into a sum over h in {0..k}^H of
    Gaussian integrals: (2 pi sigma^2)^(d/2) prod_i C(k, h_i)
    exp(<b, h> + sigma^2 |c / sigma^2 + W^T h|^2 / 2).
    """
    k = round(1 / sigma**2)
    assert np.isclose(k * sigma**2, 1.0)
    H, d = W.shape
    h = np.array(list(itertools.product(range(k + 1), repeat=H)), dtype=float)
    v = c / sigma**2 + h @ W
    terms = np.log(comb(k, h)).sum(axis=1) + h @ b + 0.5 * sigma**2 * np.sum(v * v, 1)
    return 0.5 * d * np.log(2 * np.pi * sigma**2) + logsumexp(terms)


def quadrature_grid(W, c, sigma, n_points):
    """A grid that holds all the mass.

    Modes solve x = c + W^T s(Wx + b), and |W^T s| <= sum_i |W_i| per coordinate.
    """
    reach = np.abs(W).sum(axis=0) + 12 * sigma
    axes = [
        np.linspace(ci - r, ci + r, n_points) for ci, r in zip(c, reach, strict=True)
    ]
    mesh = np.meshgrid(*axes, indexing="ij")
    points = np.column_stack([m.ravel() for m in mesh])
    cell = np.prod([a[1] - a[0] for a in axes])
    return axes, points, cell


def log_z_by_quadrature(W, b, c, sigma, n_points):
    _, points, cell = quadrature_grid(W, c, sigma, n_points)
    return logsumexp(-_model.energy(points, W, b, c, sigma)) + np.log(cell)


def model_cdf_1d(W, b, c, sigma):
    _, points, _ = quadrature_grid(W, c, sigma, 40001)
    log_f = -_model.energy(points, W, b, c, sigma)
    cdf = np.cumsum(np.exp(log_f - logsumexp(log_f)))
    return lambda x: np.interp(x, points[:, 0], cdf)


def random_params(seed, H, d, scale=0.7):
    rng = np.random.default_rng(seed)
    return scale * rng.normal(size=(H, d)), rng.normal(size=H), rng.normal(size=d)
