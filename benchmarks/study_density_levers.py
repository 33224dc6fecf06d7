"""Two levers on the density gap of digits reduced to 10 principal components.

The quality benchmark leaves ``ScoreMatchingEBM`` about a nat behind a
cross-validated ``KernelDensity`` on digits -> StandardScaler -> PCA(10) ->
StandardScaler (doc/quality.rst). This study measures two levers the package
does not ship, on the 70/30 split with ``random_state=0``, printing held-out
and training log-likelihood (nats per row), so that a lever's effect on the
fit and on generalisation can be told apart:

1. sigma continuation with the default criterion (``"ism"``): fit at
   Silverman's sigma, then lower it with warm starts (``warm_start=True``);
2. likelihood refinement whose model averages cross modes: after the
   score-matching fit, Adam ascent on the log-likelihood where every step
   draws fresh chains annealed from the data's Gaussian (annealed importance
   sampling) and weights them by their importance weights, instead of the
   persistent MALA chains of ``mle_steps``, which stay in the modes they
   start in. The data term of every step averages all the training rows.

With ``warm_start=True`` a continuation step also starts from the previous
fit's penalty ``alpha_`` (``alpha="auto"`` only raises it).

Run: ``python benchmarks/study_density_levers.py`` (about 2 minutes on 2 cores).
"""

import time
import warnings

import numpy as np
from scipy.special import softmax
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import KernelDensity
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info

from sklearn_dsm import ScoreMatchingEBM
from sklearn_dsm._adam import AdamState
from sklearn_dsm._chunking import mean_and_spread
from sklearn_dsm._mle import log_likelihood_gradient
from sklearn_dsm._sampling import anneal
from sklearn_dsm._theta import pack, unpack


def digits_pca10():
    X_train, X_test = train_test_split(
        load_digits().data, test_size=0.3, random_state=0
    )
    pre = make_pipeline(StandardScaler(), PCA(10), StandardScaler()).fit(X_train)
    return pre.transform(X_train), pre.transform(X_test)


def report(label, model, X_train, X_test, seconds):
    test = model.score_samples(X_test).mean()
    train = model.score_samples(X_train).mean()
    extra = ""
    if hasattr(model, "far_mass_"):
        extra = (
            f"  alpha_ {model.alpha_:g}, far mass {model.far_mass_:.1%},"
            f" log Z +/- {model.log_partition_std_:.3f}"
        )
    print(f"  {label:<36} {test:8.3f} {train:8.3f}   ({seconds:4.0f} s){extra}")


def refine_with_annealed_draws(
    ebm, X_train, n_steps, learning_rate, n_chains=1000, n_temperatures=100, seed=1
):
    """Adam on the mean log-likelihood, model averages from fresh AIS draws.

    The gradient is the data average minus the model average of ``-dE/dtheta``
    (``sklearn_dsm._mle``); here the model average is the self-normalised
    importance-weighted average over ``n_chains`` chains annealed from the
    data's Gaussian, drawn anew at every step, so every step sees every mode
    in proportion to its mass. Works in the model's (whitened) coordinates and
    re-estimates log Z at the end.
    """
    Z = ebm._to_model(X_train)
    n_components, n_features = ebm.components_.shape
    theta = pack(*ebm._theta).astype(np.float64)
    params = unpack(theta, n_components, n_features)  # views of theta
    mean, spread = mean_and_spread(Z)
    base = (mean, max(spread, ebm.sigma_))
    optimizer = AdamState(theta.size, learning_rate)
    rng = np.random.RandomState(seed)
    ess = []
    for t in range(1, n_steps + 1):
        chains, log_w, _ = anneal(
            *params, ebm.sigma_, n_chains, n_temperatures, rng, base=base
        )
        weights = softmax(log_w)
        ess.append(1.0 / np.sum(weights**2))
        grad_W, grad_b, grad_c = log_likelihood_gradient(
            *params, ebm.sigma_, Z, chains.X, weights
        )
        grad_W -= ebm.alpha_ * params[0]
        optimizer.learning_rate = learning_rate * (1.0 - (t - 1) / n_steps)
        optimizer.step(theta, -pack(grad_W, grad_b, grad_c))
    dtype = ebm.components_.dtype
    ebm.components_, ebm.intercept_hidden_, ebm.intercept_visible_ = (
        p.astype(dtype) for p in params
    )
    # The refined model's log Z and tail, as fit would store them.
    ebm.__dict__.update(ebm._normalisation(Z, np.random.RandomState(seed + 1)))
    return float(np.median(ess))


def main():
    warnings.simplefilter("ignore")
    print("BLAS:", [(i["internal_api"], i["num_threads"]) for i in threadpool_info()])
    X_train, X_test = digits_pca10()
    print(f"digits-PCA10: {X_train.shape[0]} train, {X_test.shape[0]} test rows")
    print(f"  {'model':<36} {'held-out':>8} {'train':>8}   nats per row")

    start = time.perf_counter()
    kde = GridSearchCV(
        KernelDensity(), {"bandwidth": np.geomspace(0.1, 2.0, 12)}, cv=3
    ).fit(X_train)
    label = f"KernelDensity, CV (bandwidth {kde.best_params_['bandwidth']:.2f})"
    report(label, kde.best_estimator_, X_train, X_test, time.perf_counter() - start)

    print("\n1. sigma continuation, objective='ism', 128 units, warm starts")
    ebm = ScoreMatchingEBM(128, warm_start=True, random_state=0)
    for sigma in ("auto", 0.4, 0.3, 0.25, 0.2):
        start = time.perf_counter()
        ebm.set_params(sigma=sigma).fit(X_train)
        label = f"sigma={sigma} (sigma_ {ebm.sigma_:.2f})"
        report(label, ebm, X_train, X_test, time.perf_counter() - start)
    print("   the same sigmas fitted fresh:")
    for sigma in (0.3, 0.25, 0.2):
        start = time.perf_counter()
        fresh = ScoreMatchingEBM(128, sigma=sigma, random_state=0).fit(X_train)
        report(f"sigma={sigma}", fresh, X_train, X_test, time.perf_counter() - start)

    print("\n2. likelihood refinement with annealed draws, from (128, sigma=0.3)")
    for learning_rate in (3e-3, 1e-2):
        start = time.perf_counter()
        ebm = ScoreMatchingEBM(128, sigma=0.3, random_state=0).fit(X_train)
        ess = refine_with_annealed_draws(ebm, X_train, 100, learning_rate)
        label = f"100 steps, learning rate {learning_rate:g}"
        report(label, ebm, X_train, X_test, time.perf_counter() - start)
        print(f"  {'':<36} median effective sample size {ess:.0f} of 1000")


if __name__ == "__main__":
    main()
