"""Speed of online learning: the library's compiled, vmapped scan against plain NumPy loops.

Run from the repository root (takes about a minute on two cores):

    .venv/bin/python benchmarks/bench_online.py

Part 1 (n = 5, k = 10, 32 runs of 20 000 samples): the same sweep, from the same
initial synapses and on the same samples, with

* ``wl.online.sweep`` (one jitted ``lax.scan`` per run, ``vmap``-ed over runs);
* a straightforward NumPy loop over runs and samples (``np.linalg.solve`` for
  y = M⁻¹x and outer-product updates): the reference the speed-up is quoted against;
* for comparison, a NumPy loop over samples that handles the 32 runs at once
  (batched ``np.linalg.solve``).

It checks that the final weights agree to 1e-8 and prints samples per second
(runs × samples / wall time) and the ratios, for both networks.

Part 2 (n = 64, k = 128, 32 runs of 20 000 Gaussian samples drawn inside the
compiled call): samples per second of the interneuron network and the fraction
of this machine's measured dense matmul throughput (float64) that the sweep reaches.

This is a benchmark, not a test: it never runs in the test suite.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from functools import partial

import numpy as np

import whitenlib as wl

wl.setup(plotting=False)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from whitenlib import data, online  # noqa: E402

ETA = 1e-3


def timed(fn, repeats: int = 1):
    """Best wall time of ``repeats`` calls of fn (results blocked until ready), last result."""
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - t0)
    return best, out


def library_sweep(nets, stream, samples):
    """The library's batched online learning, the final synapses of every run."""
    return online.sweep(nets, stream, ETA, samples, record_every=samples,
                        refresh_every=500).final.weights


def numpy_loop(Net, w0, xs, eta):
    """Per run, per sample: y = solve(M, x); Algorithm 1 or 2 with outer products."""
    out = np.empty_like(w0)
    for r in range(w0.shape[0]):
        w = w0[r].copy()
        eye = np.eye(w.shape[0])
        for x in xs[r]:
            if Net is wl.DirectNetwork:
                y = np.linalg.solve(w, x)
                w += eta * (np.outer(y, y) - eye)
            else:
                y = np.linalg.solve(w @ w.T, x)
                w += eta * (np.outer(y, y @ w) - w)
        out[r] = w
    return out


def numpy_batched_loop(Net, w0, xs, eta):
    """Per sample, all runs at once (batched solve)."""
    w = w0.copy()
    eye = np.eye(w.shape[1])
    for t in range(xs.shape[1]):
        x = xs[:, t, :, None]
        if Net is wl.DirectNetwork:
            y = np.linalg.solve(w, x)[..., 0]
            w += eta * (y[:, :, None] * y[:, None, :] - eye)
        else:
            y = np.linalg.solve(w @ np.swapaxes(w, 1, 2), x)[..., 0]
            n_act = np.einsum("ri,rik->rk", y, w)
            w += eta * (y[:, :, None] * n_act[:, None, :] - w)
    return w


def part1(runs: int, samples: int, n: int = 5, k: int = 10):
    print(f"\n== Part 1: n = {n}, k = {k}, {runs} runs x {samples} samples, eta = {ETA}")
    rng = np.random.default_rng(0)
    C = np.asarray(wl.random_covariance(jax.random.key(5), n))
    L = np.linalg.cholesky(C)
    xs = rng.standard_normal((runs, samples, n)) @ L.T            # the same samples for everyone
    stream = data.stack_streams([data.FixedSamples(x, C) for x in xs])
    total = runs * samples
    rows = []
    for Net in wl.NETWORKS:
        nets = online.initial_networks(Net, 1, n, np.full(runs, 2.0), k)
        w0 = np.asarray(nets.weights)

        library = partial(library_sweep, nets, stream, samples)
        t_first, _ = timed(library)                                   # includes compilation
        t_lib, w_lib = timed(library, repeats=3)
        t_np, w_np = timed(partial(numpy_loop, Net, w0, xs, ETA))
        t_nb, w_nb = timed(partial(numpy_batched_loop, Net, w0, xs, ETA))
        err = float(np.max(np.abs(np.asarray(w_lib) - w_np)))
        err_b = float(np.max(np.abs(w_nb - w_np)))
        assert err < 1e-8 and err_b < 1e-8, (Net.label, err, err_b)
        rows.append((Net.label, total / t_lib, total / t_first, total / t_np, total / t_nb, err))
    print(f"{'network':12s} {'library':>12s} {'(1st call)':>12s} {'NumPy loop':>12s} "
          f"{'NumPy batched':>14s} {'speed-up':>9s} {'vs batched':>10s} {'max |dW|':>9s}")
    for label, lib, first, np_loop, np_b, err in rows:
        print(f"{label:12s} {lib:12.3g} {first:12.3g} {np_loop:12.3g} {np_b:14.3g} "
              f"{lib / np_loop:8.1f}x {lib / np_b:9.1f}x {err:9.1e}")
    print("(samples/second; speed-up = library / NumPy loop, compilation excluded; "
          "weights agree to the last column)")
    return rows


def matmul_gflops(size: int = 1024) -> float:
    """Dense float64 matmul throughput of this machine through XLA (GFLOP/s), best of 5."""
    a = jax.random.normal(jax.random.key(0), (size, size))
    b = jax.random.normal(jax.random.key(1), (size, size))
    f = jax.jit(jnp.matmul)
    f(a, b).block_until_ready()
    t, _ = timed(lambda: f(a, b), repeats=5)
    return 2 * size**3 / t / 1e9


def interneuron_flops_per_sample(n: int, k: int) -> int:
    """Arithmetic of one online interneuron step with the Woodbury inverse, plus drawing x = Lz.

    y = M⁻¹x (2n²), n = Wᵀy (2nk), W ← (1−η)W + η y nᵀ (3nk), z = M⁻¹y (2n²),
    the rank-2 update of M⁻¹ (four scaled outer products and a rescaling, 9n²),
    x = L z with L triangular (n²).
    """
    return 14 * n * n + 5 * n * k


def part2(runs: int, samples: int, n: int = 64, k: int = 128):
    print(f"\n== Part 2: interneuron network, n = {n}, k = {k}, {runs} runs x {samples} samples "
          "(Gaussian samples drawn inside the compiled call)")
    C = np.asarray(wl.random_covariance(jax.random.key(7), n))
    stream = data.GaussianStream(C)
    nets = online.initial_networks(wl.InterneuronNetwork, 2, n, np.full(runs, 2.0), k)

    def library():
        return online.sweep(nets, stream, ETA, samples, key=0, record_every=samples // 10,
                            refresh_every=samples // 10).final.weights

    t_first, _ = timed(library)
    t_lib, _ = timed(library, repeats=3)
    rate = runs * samples / t_lib
    flops = interneuron_flops_per_sample(n, k)
    peak = matmul_gflops()
    achieved = rate * flops / 1e9
    first = runs * samples / t_first
    print(f"samples/second {rate:.3g} (first call, with compilation: {first:.3g})")
    print(f"arithmetic {flops} flop/sample -> {achieved:.2f} GFLOP/s; dense matmul "
          f"(1024 x 1024, float64) {peak:.1f} GFLOP/s; fraction {achieved / peak:.1%}")
    return rate, achieved, peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=32)
    parser.add_argument("--samples", type=int, default=20_000)
    args = parser.parse_args()
    print(f"whitenlib {wl.__version__}, jax {jax.__version__}, numpy {np.__version__}, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
          f"device {jax.devices()[0].platform}")
    part1(args.runs, args.samples)
    part2(args.runs, args.samples)


if __name__ == "__main__":
    main()
