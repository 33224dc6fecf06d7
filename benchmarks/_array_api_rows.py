"""bench_speed.py's array API rows: the estimators on PyTorch tensors.

Under ``sklearn.set_config(array_api_dispatch=True)`` the objective, its
gradient and Adam's step run where the data live. For PyTorch on the CPU
and, when this machine has one, on a CUDA device, this prints:

1. One evaluation (objective and gradient, J_DAE, ReLU) on the device, theta
   there too (Adam's path), next to the NumPy kernel on the same rows and
   the floor: the same five products in PyTorch on that device. Beside them,
   what L-BFGS adds per evaluation: theta to the device and the gradient
   back to a float64 NumPy vector.
2. One Adam epoch (``partial_fit``, batches of 200) on the device next to
   the NumPy one and the five products of every batch in PyTorch, and the
   host's share of the device epoch: each batch's float32 uniforms for the
   noise drawn and moved to the device with the batch's row indices (on a
   CPU device the move shares memory; on a GPU it is a copy). No device
   epoch can be faster.
3. A default ``DenoisingAutoencoder`` fit on 60,000 x 784 and 1,000,000 x 64
   float32 rows, on the device and in NumPy.
4. The density's chains (sigmoid units): AIS (``estimate_log_partition``,
   256 chains, 250 temperatures) and ``sample(256)`` (1000 temperatures and
   500 MALA steps) of one fitted model, in NumPy and moved to the device, with what the
   host's random draws and their copies to the device cost of that run.

Every time is a median of repeats (7 for an evaluation, 3 for an epoch and
for the chains; one fit each), each library's repeats in one block, the
NumPy and device blocks one after the other.
No figure is printed for a device that is not there.
"""

import time
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning

from sklearn_dsm import DenoisingAutoencoder, estimate_log_partition
from sklearn_dsm._minibatch import GaussianNoise
from sklearn_dsm._objectives import corrupt, flat_objective
from sklearn_dsm._theta import initial_theta, pack

SIGMA = 0.2
EVAL_SIZES = [(20_000, 64, 256), (10_000, 784, 256)]
EPOCH_SIZES = [
    (20_000, 64, 64),
    (20_000, 64, 256),
    (10_000, 784, 64),
    (10_000, 784, 256),
]
FIT_SIZES = [(60_000, 784), (1_000_000, 64)]
CHAIN_SIZES = [(64, 64), (784, 256)]
N_CHAINS, AIS_STEPS, SAMPLE_STEPS = 256, 250, 1500
SMOKE = dict(
    eval=[(300, 16, 8)],
    epoch=[(400, 16, 8)],
    fit=[(500, 16)],
    chains=[(16, 8)],
    repeat=2,
)


def devices():
    """The PyTorch devices of this machine: the CPU, and CUDA if present."""
    import torch

    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _data(n, d, seed=0):
    """Rows in [0, 1] with low-rank structure, float32 (bench_speed's)."""
    rng = np.random.RandomState(seed)
    Z = rng.normal(size=(n, 20)).astype(np.float32)
    Z = Z @ rng.normal(size=(20, d)).astype(np.float32) / np.float32(np.sqrt(20))
    return 1.0 / (1.0 + np.exp(-2.0 * Z))


def _timer(device):
    import torch

    def sync():
        if device == "cuda":
            torch.cuda.synchronize()

    def timed(f, repeat):
        f()  # warm up: caches, allocator, kernels
        sync()
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            f()
            sync()
            times.append(time.perf_counter() - start)
        return 1e3 * float(np.median(times))

    return timed


def _eval_row(device, n, d, H, repeat):
    import torch

    timed = _timer(device)
    X = _data(n, d)
    X_noisy = corrupt(X, SIGMA, 1, 0)
    theta = pack(*initial_theta(X, H, np.random.RandomState(0)))
    kw = dict(objective="dae", sigma=SIGMA, alpha=0.1, shape=(H, d))
    kw.update(activation="relu")
    Xn_t, X_t = (torch.asarray(a, device=device) for a in (X_noisy, X))
    theta_t = torch.asarray(theta.astype(np.float32), device=device)
    W_t = theta_t[: H * d].reshape(H, d)

    def numpy_eval():
        flat_objective(theta.astype(np.float32), X_noisy, X, **kw)

    def device_eval():
        with sklearn.config_context(array_api_dispatch=True):
            flat_objective(theta_t, Xn_t, X_t, **kw)

    def lbfgs_eval():  # theta in, gradient out as float64 NumPy
        with sklearn.config_context(array_api_dispatch=True):
            flat_objective(theta, Xn_t, X_t, **kw)

    def round_trip():
        moved = torch.asarray(theta, device=device).to(torch.float32)
        moved.to(torch.float64).cpu().numpy()

    def floor():
        A = Xn_t @ W_t.T
        R = A @ W_t
        A.T @ R
        D = R @ W_t.T
        D.T @ Xn_t

    t = {
        "numpy": timed(numpy_eval, repeat),
        "device": timed(device_eval, repeat),
        "lbfgs": timed(lbfgs_eval, repeat),
        "trip": timed(round_trip, repeat),
        "floor": timed(floor, repeat),
    }
    print(
        f"{device:<7}{f'{n} x {d}':<14}{H:>6}{t['numpy']:>10.2f}"
        f"{t['device']:>10.2f}{t['floor']:>10.2f}"
        f"{t['device'] / t['floor']:>9.2f}{t['lbfgs']:>10.2f}{t['trip']:>9.3f}"
    )


def _epoch_row(device, n, d, H, repeat):
    import torch

    timed = _timer(device)
    X = _data(n, d)
    X_t = torch.asarray(X, device=device)
    W_t = torch.zeros((H, d), device=device)
    params = dict(activation="relu", sigma=SIGMA, random_state=0)
    np_est = DenoisingAutoencoder(H, **params)
    dev_est = DenoisingAutoencoder(H, **params)

    def numpy_epoch():
        np_est.partial_fit(X)

    def device_epoch():
        with sklearn.config_context(array_api_dispatch=True):
            dev_est.partial_fit(X_t)

    def floor():
        for start in range(0, n, 200):
            B = X_t[start : start + 200]
            A = B @ W_t.T
            R = A @ W_t
            A.T @ R
            D = R @ W_t.T
            D.T @ B

    noise = GaussianNoise(np.random.default_rng(0))
    order = np.random.RandomState(0).permutation(n)

    def host_share():
        for start in range(0, n, 200):
            rows = order[start : start + 200]
            uniforms, _ = noise.draw_uniforms(rows.shape[0] * d)
            torch.asarray(uniforms, device=device)
            torch.asarray(rows, device=device)

    t_np, t_dev = timed(numpy_epoch, repeat), timed(device_epoch, repeat)
    t_floor, t_host = timed(floor, repeat), timed(host_share, repeat)
    print(
        f"{device:<7}{f'{n} x {d}':<14}{H:>6}{t_np:>10.1f}{t_dev:>10.1f}"
        f"{t_floor:>10.1f}{t_dev / t_np:>10.2f}{t_dev / t_floor:>11.2f}"
        f"{t_host:>8.1f}"
    )


def _fit_row(device, n, d):
    import torch

    X = _data(n, d)
    X_t = torch.asarray(X, device=device)
    seconds, fitted = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # One fit each (no warm-up run: a fit is seconds to minutes).
        for key, rows in (("numpy", X), ("device", X_t)):
            start = time.perf_counter()
            with sklearn.config_context(array_api_dispatch=True):
                fitted[key] = DenoisingAutoencoder(random_state=0).fit(rows)
            if device == "cuda":
                torch.cuda.synchronize()
            seconds[key] = time.perf_counter() - start
    ref, ours = fitted["numpy"], fitted["device"]
    print(
        f"{device:<7}{f'{n} x {d}':<16}{ref.solver_:<7}{seconds['numpy']:>9.2f}"
        f"{seconds['device']:>10.2f}{seconds['device'] / seconds['numpy']:>8.2f}"
        f"{ref.n_iter_:>7}{ours.n_iter_:>7}  {ref.loss_:.6g} / {ours.loss_:.6g}"
    )


def _chains_row(device, d, H, repeat):
    import torch
    from sklearn.externals.array_api_compat import array_namespace
    from sklearn.utils._array_api import move_estimator_to

    timed = _timer(device)
    X = _data(2000, d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # The sigmoid: every fit of it is a density (a ReLU fit may not be).
        ref = DenoisingAutoencoder(
            H, sigma=SIGMA, activation="sigmoid", max_iter=20, random_state=0
        ).fit(X)
    X_t = torch.asarray(X, device=device)
    est = move_estimator_to(ref, array_namespace(X_t), device)
    log_z, log_z_dev = {}, {}

    def numpy_ais():
        log_z[0] = estimate_log_partition(ref, X, random_state=0)[0]

    def device_ais():
        with sklearn.config_context(array_api_dispatch=True):
            log_z_dev[0] = estimate_log_partition(est, X_t, random_state=0)[0]

    def numpy_sample():
        ref.sample(N_CHAINS, random_state=0)

    def device_sample():
        with sklearn.config_context(array_api_dispatch=True):
            est.sample(N_CHAINS, random_state=0)

    def draws(n_steps):
        # What the host adds per run: one MALA step's normal and uniform
        # draws, made on the host and copied to the device, per temperature.
        def run():
            rng = np.random.RandomState(0)
            for _ in range(n_steps):
                torch.asarray(rng.standard_normal((N_CHAINS, d)), device=device)
                torch.asarray(np.log(rng.uniform(size=N_CHAINS)), device=device)

        return run

    t = {
        "np_ais": timed(numpy_ais, repeat),
        "dev_ais": timed(device_ais, repeat),
        "ais_draws": timed(draws(AIS_STEPS), repeat),
        "np_sample": timed(numpy_sample, repeat),
        "dev_sample": timed(device_sample, repeat),
        "sample_draws": timed(draws(SAMPLE_STEPS), repeat),
    }
    print(
        f"{device:<7}{d:>5}{H:>6}{t['np_ais']:>10.0f}{t['dev_ais']:>10.0f}"
        f"{t['ais_draws']:>9.0f}{t['np_sample']:>10.0f}{t['dev_sample']:>10.0f}"
        f"{t['sample_draws']:>9.0f}  {abs(log_z[0] - log_z_dev[0]):.1e}"
    )


def bench_array_api(smoke=False):
    """Print the four tables for every PyTorch device of this machine."""
    try:
        import torch
    except ImportError:
        print("\n## Array API rows: torch not installed (pip install '.[array-api]')")
        return
    found = devices()
    print(
        f"\n## Array API dispatch on PyTorch {torch.__version__} "
        f"(devices: {', '.join(found)}; torch threads {torch.get_num_threads()})"
    )
    if "cuda" not in found:
        print("  no CUDA device on this machine: CPU rows only")
    eval_sizes = SMOKE["eval"] if smoke else EVAL_SIZES
    epoch_sizes = SMOKE["epoch"] if smoke else EPOCH_SIZES
    fit_sizes = SMOKE["fit"] if smoke else FIT_SIZES
    chain_sizes = SMOKE["chains"] if smoke else CHAIN_SIZES
    repeat = SMOKE["repeat"] if smoke else 7
    print(
        "\n### One evaluation, float32 (ms): NumPy kernel, the device's, the five "
        "products on the device;\n    L-BFGS's evaluation (theta in and the "
        "gradient out, float64 NumPy) and that round trip alone"
    )
    print(
        f"{'device':<7}{'rows x d':<14}{'H':>6}{'NumPy':>10}{'device':>10}"
        f"{'floor':>10}{'dev/flr':>9}{'L-BFGS':>10}{'trip':>9}"
    )
    for device in found:
        for n, d, H in eval_sizes:
            _eval_row(device, n, d, H, repeat)
    print(
        "\n### One Adam epoch (partial_fit, batches of 200, ReLU), float32 (ms);"
        "\n    host: the device epoch's noise uniforms drawn on the host, and "
        "moved with the row indices"
    )
    print(
        f"{'device':<7}{'rows x d':<14}{'H':>6}{'NumPy':>10}{'device':>10}"
        f"{'floor':>10}{'dev/NumPy':>10}{'dev/floor':>11}{'host':>8}"
    )
    for device in found:
        for n, d, H in epoch_sizes:
            _epoch_row(device, n, d, H, max(2, repeat // 2))
    print("\n### Default DenoisingAutoencoder().fit, float32 (s), one fit each")
    print(
        f"{'device':<7}{'rows x d':<16}{'solver':<7}{'NumPy':>9}{'device':>10}"
        f"{'ratio':>8}{'iters':>7}{'iters':>7}  objective NumPy / device"
    )
    for device in found:
        for n, d in fit_sizes:
            _fit_row(device, n, d)
    print(
        f"\n### The density's chains, float64 (ms): AIS ({N_CHAINS} chains, "
        f"{AIS_STEPS} temperatures) and sample({N_CHAINS}) ({SAMPLE_STEPS} "
        "steps);\n    'draws': the host's random draws and their copies within "
        "each; |dlog Z|: device against NumPy"
    )
    print(
        f"{'device':<7}{'d':>5}{'H':>6}{'AIS NumPy':>10}{'device':>10}{'draws':>9}"
        f"{'smp NumPy':>10}{'device':>10}{'draws':>9}  |dlog Z|"
    )
    for device in found:
        for d, H in chain_sizes:
            _chains_row(device, d, H, max(2, repeat // 2))
