"""Speed of the batched flows: one vmapped diffrax integration against SciPy one flow at a time.

Run from the repository root:

    .venv/bin/python benchmarks/bench_flows.py                 # several minutes on two cores
    .venv/bin/python benchmarks/bench_flows.py --runs 8 --sizes 4 8 --method Dopri8

Part 1 (n = 12, k = 24 interneurons, R runs per network class, initial scales γ
log-spaced from 1 to 10³, W₀ = √(γ/k)·A, one random covariance with spectrum in
[0.5, 5], ε = 0.05): the convergence times of the same flows computed

* by ``wl.convergence_time`` on the stack (``wl.online.stack_networks``): one
  compiled, vmapped diffrax integration with event detection; timed on its
  first call (with compilation) and on a second call;
* by SciPy one flow at a time (``method="LSODA"``, the fastest SciPy method on
  these flows, and DOP853, the single-network default, on a subset).

It asserts that the times agree to 1e-6 (relative) and prints the ratios.

Part 2: the same comparison (LSODA) for n in ``--sizes`` with fewer runs and
γ ≤ 10², to find the n at which the cost turns.

This is a benchmark, not a test: it never runs in the test suite.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import jax
import numpy as np

import whitenlib as wl
from whitenlib import flows, online

wl.setup(plotting=False)

EPS = 0.05


def stack_of(Net, n, gammas, seed):
    """R networks of one class from W₀ = √(γ/k) A (k = 2n), and their stack."""
    w0 = online.initial_factors(seed, n, gammas, 2 * n)
    nets = [wl.InterneuronNetwork(w) for w in w0]
    if Net is wl.DirectNetwork:
        nets = [wl.DirectNetwork(net.M) for net in nets]
    return nets, online.stack_networks(nets)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def compare(Net, n, gammas, seed, method, group, scipy_methods=("LSODA",), subset=None):
    nets, stack = stack_of(Net, n, gammas, seed)
    C = wl.random_covariance(jax.random.key(seed), n, 0.5, 5.0)
    def run():
        return flows.convergence_time(stack, C, EPS, method=method, group=group)

    first, _ = timed(run)
    again, batched = timed(run)
    row = {"net": Net.label, "n": n, "R": len(nets), "first": first, "batched": again}
    for sm in scipy_methods:
        idx = np.arange(len(nets)) if subset is None or sm == "LSODA" else subset
        flows.convergence_time(nets[0], C, EPS, method=sm)  # compile the SciPy kernels
        t, ref = timed(lambda sm=sm, idx=idx: np.array(
            [flows.convergence_time(nets[i], C, EPS, method=sm) for i in idx]))
        rel = float(np.max(np.abs(batched[idx] / ref - 1)))
        assert rel <= 1e-6, f"{Net.label}, n = {n}: batched and {sm} differ by {rel:.2e}"
        row[sm] = t * len(nets) / len(idx)  # per the same R flows
        row[sm + " rel"] = rel
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=24, help="runs per class in part 1")
    parser.add_argument("--method", default=flows.BATCH_METHOD, choices=flows.BATCH_METHODS)
    parser.add_argument("--group", type=int, default=flows.BATCH_GROUP)
    parser.add_argument("--sizes", type=int, nargs="*", default=[4, 8, 16, 24])
    parser.add_argument("--size-runs", type=int, default=8, help="runs per class in part 2")
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"jax {jax.__version__}, devices {jax.local_devices()}; method {args.method}, "
          f"group {args.group}")

    print(f"\nPart 1: n = 12, k = 24, {args.runs} runs per class, gamma 1 .. 1e3, eps = {EPS}")
    gammas = np.logspace(0.0, 3.0, args.runs)
    subset = np.unique(np.linspace(0, args.runs - 1, 4).astype(int))  # includes the longest
    total = {"batched": 0.0, "LSODA": 0.0}
    for Net in wl.NETWORKS:
        r = compare(Net, 12, gammas, 1, args.method, args.group, ("LSODA", "DOP853"), subset)
        for key in total:
            total[key] += r[key]
        print(f"  {r['net']:11s} batched {r['batched']:7.2f} s (first call {r['first']:6.2f} s) | "
              f"LSODA {r['LSODA']:7.2f} s -> {r['LSODA'] / r['batched']:5.1f}x "
              f"(max rel diff {r['LSODA rel']:.1e}) | DOP853 {r['DOP853']:7.2f} s -> "
              f"{r['DOP853'] / r['batched']:5.1f}x (rel {r['DOP853 rel']:.1e}; "
              f"{len(subset)} flows timed, scaled to {args.runs})")
    print(f"  both classes: LSODA / batched = {total['LSODA'] / total['batched']:.1f}x")

    if args.sizes:
        print(f"\nPart 2: {args.size_runs} runs per class, gamma 1 .. 1e2, against LSODA")
        for n in args.sizes:
            for Net in wl.NETWORKS:
                r = compare(Net, n, np.logspace(0.0, 2.0, args.size_runs), 2, args.method,
                            args.group)
                print(f"  n = {n:3d} {r['net']:11s} batched {r['batched']:7.2f} s "
                      f"(first {r['first']:6.2f} s) | LSODA {r['LSODA']:7.2f} s -> "
                      f"{r['LSODA'] / r['batched']:5.1f}x", flush=True)


if __name__ == "__main__":
    main()
