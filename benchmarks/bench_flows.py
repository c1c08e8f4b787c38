"""Speed of the batched flows: one vmapped diffrax integration against SciPy one flow at a time.

Run from the repository root:

    .venv/bin/python benchmarks/bench_flows.py                 # several minutes on two cores
    .venv/bin/python benchmarks/bench_flows.py --runs 8 --sizes 4 8 --method Dopri8

Part 1 (n = 12, k = 24 interneurons, R runs per network class, initial scales γ
log-spaced from 1 to 10³, W₀ = √(γ/k)·A, one random covariance with spectrum in
[0.5, 5], ε = 0.05): the convergence times of the same flows computed

* by ``wl.convergence_time`` on the stack (``wl.online.stack_networks``): one
  compiled, vmapped diffrax integration with event detection, with the class's
  default method (``Rodas4Sylvester`` for the direct network, ``Dopri8`` for the
  interneuron network) and, for the direct network, with ``Dopri8`` too; timed on
  the first call (with compilation) and on a second call;
* by SciPy one flow at a time (``method="LSODA"`` and DOP853, the single-network
  default, on every run).

It asserts that the times agree with DOP853's to 1e-6 (relative) and prints the ratios.

Part 1b (``--direct-sizes``, default n = 32): the direct network alone, R/2 runs,
the default batch method against the Dopri8 batch (and against LSODA one at a time
with ``--scipy-large``); agreement asserted against the Dopri8 batch (rtol 10⁻¹⁰,
itself within 10⁻⁹ of DOP853 at n = 12).

Part 2: the comparison against LSODA for n in ``--sizes`` with fewer runs and
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


def compare(Net, n, gammas, seed, method, group, scipy_methods=("LSODA",), subset=None,
            also=()):
    """Time the batched integration (``method``, then each of ``also``) and SciPy's, one row."""
    nets, stack = stack_of(Net, n, gammas, seed)
    C = wl.random_covariance(jax.random.key(seed), n, 0.5, 5.0)
    row = {"net": Net.label, "n": n, "R": len(nets)}
    batched = {}
    for i, bm in enumerate((method,) + tuple(also)):
        def run(bm=bm):
            return flows.integrate_flow(stack, C, EPS, method=bm, group=group)

        first, _ = timed(run)
        again, batch = timed(run)
        key = "batched" if i == 0 else bm
        row[key], row[key + " first"] = again, first
        row[key + " steps"] = (int(batch.steps.max()), int(batch.steps.sum()))
        row[key + " method"] = batch.method
        batched[key] = batch.convergence_time
    for key in list(batched)[1:]:  # the other batch methods against the first
        row[key + " rel"] = float(np.max(np.abs(batched["batched"] / batched[key] - 1)))
    for sm in scipy_methods:
        idx = np.arange(len(nets)) if subset is None else subset
        flows.convergence_time(nets[0], C, EPS, method=sm)  # compile the SciPy kernels
        t, ref = timed(lambda sm=sm, idx=idx: np.array(
            [flows.convergence_time(nets[i], C, EPS, method=sm) for i in idx]))
        for key, times in batched.items():
            rel = float(np.max(np.abs(times[idx] / ref - 1)))
            assert rel <= 1e-6, f"{Net.label}, n = {n}: {key} and {sm} differ by {rel:.2e}"
            row[f"{key} {sm} rel"] = rel
        row[sm] = t * len(nets) / len(idx)  # per the same R flows
        row[sm + " rel"] = row[f"batched {sm} rel"]
    return row


def describe(r, key="batched"):
    first, steps = r[key + " first"], r[key + " steps"]
    return (f"{r[key + ' method']:15s} {r[key]:7.2f} s (first call {first:6.2f} s; steps "
            f"longest run {steps[0]}, all {steps[1]})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=24, help="runs per class in part 1")
    parser.add_argument("--method", default=None, choices=flows.BATCH_METHODS,
                        help="batch method (default: each class's, flows.BATCH_METHOD_FOR)")
    parser.add_argument("--group", type=int, default=flows.BATCH_GROUP)
    parser.add_argument("--sizes", type=int, nargs="*", default=[4, 8, 16, 24])
    parser.add_argument("--size-runs", type=int, default=8, help="runs per class in part 2")
    parser.add_argument("--direct-sizes", type=int, nargs="*", default=[32],
                        help="n of part 1b (direct network: default method against Dopri8)")
    parser.add_argument("--long-runs", action="store_true",
                        help="part 1b: also n = 5 with gamma up to 1e4 (chapter 4's range)")
    parser.add_argument("--scipy-large", action="store_true",
                        help="part 1b: also LSODA one flow at a time (minutes at n = 32)")
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"jax {jax.__version__}, devices {jax.local_devices()}; method {args.method}, "
          f"group {args.group}")

    print(f"\nPart 1: n = 12, k = 24, {args.runs} runs per class, gamma 1 .. 1e3, eps = {EPS}")
    gammas = np.logspace(0.0, 3.0, args.runs)
    total = {"batched": 0.0, "LSODA": 0.0, "DOP853": 0.0}
    for Net in wl.NETWORKS:
        also = ("Rodas4Sylvester", "Dopri8") if Net is wl.DirectNetwork and not args.method else ()
        r = compare(Net, 12, gammas, 1, args.method, args.group, ("LSODA", "DOP853"),
                    also=also)
        for key in total:
            total[key] += r[key]
        print(f"  {r['net']:11s} batched {describe(r)}")
        print(f"  {'':11s} SciPy   LSODA {r['LSODA']:7.2f} s -> {r['LSODA'] / r['batched']:5.1f}x "
              f"(max rel diff {r['LSODA rel']:.1e}) | DOP853 {r['DOP853']:7.2f} s -> "
              f"{r['DOP853'] / r['batched']:5.1f}x (max rel diff {r['DOP853 rel']:.1e})")
        for key in also:
            print(f"  {'':11s} batched {describe(r, key)}: {r[key] / r['batched']:4.1f}x the "
                  f"default's time; DOP853 / it = {r['DOP853'] / r[key]:4.1f}x (rel "
                  f"{r[key + ' DOP853 rel']:.1e}); default vs it: rel {r[key + ' rel']:.1e}")
    print(f"  both classes: LSODA / batched = {total['LSODA'] / total['batched']:.1f}x, "
          f"DOP853 / batched = {total['DOP853'] / total['batched']:.1f}x")

    large = [(n, 3.0, max(args.runs // 2, 2)) for n in args.direct_sizes]
    large += [(5, 4.0, args.runs)] if args.long_runs else []
    for n, decades, runs in large:
        print(f"\nPart 1b: direct network, n = {n}, k = {2 * n}, {runs} runs, "
              f"gamma 1 .. 1e{decades:.0f}")
        r = compare(wl.DirectNetwork, n, np.logspace(0.0, decades, runs), 1, args.method,
                    args.group, ("LSODA",) if args.scipy_large else (),
                    also=("Rodas4Sylvester", "Dopri8"))
        for key in ("Rodas4Sylvester", "Dopri8"):
            assert r[key + " rel"] <= 1e-6, f"n = {n}: default and {key} differ: {r[key + ' rel']}"
        print(f"  batched {describe(r)}")
        for key in ("Rodas4Sylvester", "Dopri8"):
            print(f"  batched {describe(r, key)}: {r[key] / r['batched']:4.1f}x the "
                  f"default's time; max rel diff {r[key + ' rel']:.1e}", flush=True)
        if args.scipy_large:
            print(f"  SciPy LSODA {r['LSODA']:7.2f} s -> {r['LSODA'] / r['batched']:5.1f}x "
                  f"(max rel diff {r['LSODA rel']:.1e})")

    if args.sizes:
        print(f"\nPart 2: {args.size_runs} runs per class, gamma 1 .. 1e2, against LSODA")
        for n in args.sizes:
            for Net in wl.NETWORKS:
                r = compare(Net, n, np.logspace(0.0, 2.0, args.size_runs), 2, args.method,
                            args.group)
                print(f"  n = {n:3d} {r['net']:11s} batched {r['batched']:7.2f} s "
                      f"(first {r['batched first']:6.2f} s) | LSODA {r['LSODA']:7.2f} s -> "
                      f"{r['LSODA'] / r['batched']:5.1f}x", flush=True)


if __name__ == "__main__":
    main()
