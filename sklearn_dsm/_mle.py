"""Maximum-likelihood refinement after score matching: a step beyond the paper.

Score matching never sees mass where the data never goes (``_diagnostics``).
Likelihood does: for ``p(x) = exp(-E(x)) / Z`` the gradient of the mean
log-likelihood is the data average minus the model average of ``-dE/dtheta``,

    d/dtheta mean log p(x_n) = mean_n g(x_n) - E_p[g(x)],   g = -dE/dtheta,

and for this model ``g`` is closed form (``sigma^2 g``: ``s(x) x^T`` for W,
``s(x)`` for b, ``x`` for c, with ``s = f(W x + b)`` the hidden units). The
model average comes from persistent MALA chains (the package's own sampler),
started from annealed draws of the score-matching fit, so mass far from the
data is found and pushed down. A few hundred Adam steps from the score-matching
solution are enough on the data sets we measured: on digits reduced to 10
standardised principal components, 300 steps lifted held-out log-likelihood
from -32.4 to -12.6 nats per row (``benchmarks/study_mle_refinement.py``).
"""

import numpy as np
from sklearn.utils import check_random_state

from ._activations import get_activation
from ._adam import AdamState
from ._sampling import _adapt, _Chains, sample_model
from ._theta import pack, unpack
from ._xp import copy_array, home, take_rows, to_numpy


def energy_gradient_statistics(X, W, b, weights=None, activation="sigmoid"):
    """Weighted averages of ``sigma^2 * (-dE/dtheta)`` over the rows of X.

    Returns (for W, for b, for c): ``mean s(x) x^T``, ``mean s(x)``, ``mean x``,
    with ``s = f(X W^T + b)`` (``dF/da = f``); ``weights`` (summing to 1)
    replace the mean.
    """
    act = get_activation(activation)
    xp, device = home(X)
    if xp is not np:  # array API dispatch: where X lives
        S = act.xp_value(X @ W.T + b, xp)
        if weights is None:
            n = X.shape[0]
            weights = xp.full((n,), 1.0 / n, dtype=X.dtype, device=device)
        Sw = S * xp.expand_dims(xp.asarray(weights, device=device), axis=1)
        return Sw.T @ X, xp.sum(Sw, axis=0), weights @ X
    S = act.value(X @ W.T + b)
    if weights is None:
        weights = np.full(X.shape[0], 1.0 / X.shape[0])
    Sw = S * weights[:, None]
    return Sw.T @ X, Sw.sum(axis=0), weights @ X


def log_likelihood_gradient(
    W, b, c, sigma, X_data, X_model, model_weights=None, activation="sigmoid"
):
    """Gradient of the mean log-likelihood of ``X_data`` in (W, b, c).

    ``X_model`` (with optional weights) stands for the model's distribution:
    draws from it, or quadrature points weighted by ``p(x)`` in tests.
    """
    data = energy_gradient_statistics(X_data, W, b, activation=activation)
    model = energy_gradient_statistics(X_model, W, b, model_weights, activation)
    return tuple((d - m) / sigma**2 for d, m in zip(data, model, strict=True))


def refine_by_likelihood(
    W,
    b,
    c,
    sigma,
    X,
    *,
    alpha=0.0,
    n_steps=300,
    learning_rate=3e-3,
    n_chains=1000,
    batch_size=1024,
    n_mala=5,
    random_state=None,
    on_step=None,
    sample_weight=None,
    activation="sigmoid",
):
    """Adam ascent on the mean log-likelihood minus ``alpha |W|^2 / 2``.

    Each step moves ``n_chains`` persistent chains ``n_mala`` MALA steps under
    the current parameters (step size steered to acceptance 0.574), then takes
    one Adam step, decayed linearly to zero over the run, with the data average
    over a minibatch of ``batch_size`` rows.
    Runs in float64; returns new (W, b, c). ``on_step(theta)`` is called
    after each step with a copy of the flat parameters (a NumPy vector).
    With ``sample_weight``, minibatch rows are drawn with probability
    proportional to their weights, so the data average is the weighted one.
    Parameters and ``X`` of another array-API namespace (array API dispatch)
    keep the chains, the statistics and Adam there, in the device's widest
    float; the random draws (chains, minibatch rows) come from the host's
    stream either way, so the result is the NumPy run's to rounding.
    """
    rng = check_random_state(random_state)
    n_components, n_features = W.shape
    theta = pack(W, b, c)  # a new vector: Adam updates it in place
    params = unpack(theta, n_components, n_features)
    xp, _ = home(theta)
    if xp is np:
        X = np.asarray(X, dtype=np.float64)
    chains_X = sample_model(
        *params, sigma, n_chains, random_state=rng, activation=activation
    )
    optimizer = AdamState(theta.shape[0], learning_rate).like(theta)
    if sample_weight is not None:
        probabilities = np.asarray(sample_weight, dtype=np.float64)
        probabilities = probabilities / probabilities.sum()
    step = 0.3 * sigma
    for t in range(1, n_steps + 1):
        chains = _Chains(*params, sigma, chains_X, activation=activation)
        for _ in range(n_mala):
            step = _adapt(step, chains.mala_step(1.0, step, rng), sigma)
        chains_X = chains.X
        size = min(batch_size, X.shape[0])
        if sample_weight is None:
            rows = rng.randint(X.shape[0], size=size)
        else:
            rows = rng.choice(X.shape[0], size=size, p=probabilities)
        batch = take_rows(X, rows)
        if xp is not np:  # gathered, then widened: no wide copy of all of X
            batch = xp.astype(batch, theta.dtype)
        grad_W, grad_b, grad_c = log_likelihood_gradient(
            *params, sigma, batch, chains_X, activation=activation
        )
        grad_W -= float(alpha) * params[0]
        # Linear decay to zero: the chains' Monte Carlo noise would otherwise
        # keep the parameters wandering around the optimum.
        optimizer.learning_rate = learning_rate * (1.0 - (t - 1) / n_steps)
        # Ascent on the likelihood is descent on its negative.
        optimizer.step(theta, -pack(grad_W, grad_b, grad_c))
        # NumPy's views follow theta's update; another namespace's need not.
        params = unpack(theta, n_components, n_features)
        if on_step is not None:
            on_step(np.array(to_numpy(theta)))
    return tuple(copy_array(p) for p in params)
