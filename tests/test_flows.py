"""The integrated matrix flows (whitenlib.flows) against the closed forms and the book's claims."""

from __future__ import annotations

import inspect
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import whitenlib as wl
from whitenlib import flows

N, K = 4, 8
SETTINGS = settings(max_examples=12, deadline=None)


def covariance(seed: int, n: int = N, low: float = 0.5, high: float = 5.0) -> jnp.ndarray:
    return wl.random_covariance(jax.random.key(seed), n, low, high)


def commuting_network(Net, C, gammas, k: int = K, seed: int = 0):
    """M₀ = Q diag(γ_i √λ_i) Qᵀ, sharing C's eigenvectors (an interneuron W₀ with k columns)."""
    lam, q = np.linalg.eigh(np.asarray(C))
    M0 = (q * (np.asarray(gammas) * np.sqrt(lam))) @ q.T
    M0 = 0.5 * (M0 + M0.T)
    if Net is wl.InterneuronNetwork:
        return Net.from_M(M0, k=k, key=jax.random.key(seed))
    return Net.from_M(M0)


def random_network(Net, gamma: float, seed: int, k: int = K, n: int = N):
    """The book's non-commuting initialization: W₀ = √(γ/k) A, M₀ = W₀W₀ᵀ."""
    w0 = math.sqrt(gamma / k) * jax.random.normal(jax.random.key(seed), (n, k))
    net = wl.InterneuronNetwork(w0)
    return net if Net is wl.InterneuronNetwork else wl.DirectNetwork(net.M)


nets = st.sampled_from(wl.NETWORKS)


@SETTINGS
@given(Net=nets, lg=st.lists(st.floats(-2.0, 3.0), min_size=N, max_size=N),
       le=st.floats(-4.0, math.log10(0.5)), seed=st.integers(0, 5))
def test_commuting_flow_time_matches_closed_form(Net, lg, le, seed):
    C = covariance(seed)
    eps = 10.0**le
    net = commuting_network(Net, C, 10.0 ** np.array(lg), seed=seed)
    sol = flows.integrate_flow(net, C, eps=eps)
    exact = wl.theory.closed_form_convergence_time(Net, net.M, C, eps)
    assert sol.converged and not sol.diverged
    assert sol.convergence_time == pytest.approx(exact, rel=1e-6, abs=1e-9)


@SETTINGS
@given(Net=nets, lg=st.lists(st.floats(-2.0, 3.0), min_size=N, max_size=N), seed=st.integers(0, 5))
def test_commuting_flow_eigenvalues_follow_closed_form(Net, lg, seed):
    C = covariance(seed)
    net = commuting_network(Net, C, 10.0 ** np.array(lg), seed=seed)
    t = np.linspace(0.0, 3.0, 13)
    sol = flows.integrate_flow(net, C, t_max=3.0, t_eval=t)
    lam, q = np.linalg.eigh(np.asarray(C))
    # M(t) keeps C's eigenvectors: QᵀM(t)Q stays diagonal
    rotated = np.einsum("ji,tjk,kl->til", q, sol.M, q)
    off = rotated - np.einsum("tii->ti", rotated)[:, :, None] * np.eye(N)
    scale = np.abs(rotated).max(axis=(1, 2))[:, None, None]
    assert np.all(np.abs(off) <= 1e-8 * scale)
    m0 = np.einsum("ii->i", q.T @ np.asarray(net.M) @ q)
    closed = Net.mode_trajectory(m0[None, :], lam[None, :], t[:, None])
    # the solver controls errors relative to the largest entries of M
    np.testing.assert_allclose(
        np.einsum("tii->ti", rotated), closed, rtol=1e-7, atol=1e-8 * scale.max()
    )


@pytest.mark.parametrize("Net", wl.NETWORKS)
def test_event_time_is_the_first_crossing(Net):
    C = covariance(1)
    eps = 0.05
    sol = flows.integrate_flow(random_network(Net, 30.0, seed=2), C, eps=eps)
    T = sol.convergence_time
    assert sol.converged and math.isfinite(T)
    assert sol.t[-1] == pytest.approx(T)
    assert sol.errors[-1] == pytest.approx(eps, abs=1e-9)
    grid = np.linspace(0.0, T, 400)[:-1]
    assert np.all(sol.errors_at(grid) > eps)


@pytest.mark.parametrize("Net", wl.NETWORKS)
def test_objective_decreases_and_M_stays_positive_definite(Net):
    """f is a Lyapunov function of both flows (chapter 3)."""
    C = covariance(3)
    net = random_network(Net, 50.0, seed=4)
    t_max = 30.0 + 2.0 * float(np.linalg.eigvalsh(net.M)[-1])  # ample for both flows
    sol = flows.integrate_flow(net, C, t_max=t_max)
    f = np.asarray(wl.objective(sol.M, C))
    assert np.all(np.diff(f) <= 1e-10 * np.abs(f[:-1]))
    assert np.all(np.linalg.eigvalsh(sol.M)[:, 0] > 0)
    np.testing.assert_allclose(sol.M[-1], wl.spd_sqrt(C), atol=1e-6)


def test_induced_flow_does_not_depend_on_k_or_on_W():
    """M = WWᵀ follows dM/dt = M⁻¹C + CM⁻¹ − 2M whatever W realizes M₀ (chapter 4)."""
    C = covariance(5)
    M0 = np.asarray(random_network(wl.DirectNetwork, 20.0, seed=6).M)
    t = np.linspace(0.0, 4.0, 41)
    ms = []
    for k, seed in [(N, 0), (3 * N, 1), (3 * N, 2)]:
        net = wl.InterneuronNetwork.from_M(M0, k=k, key=jax.random.key(seed))
        ms.append(flows.integrate_flow(net, C, t_max=4.0, t_eval=t, rtol=1e-12, atol=1e-14).M)
    for m in ms[1:]:
        rel = np.linalg.norm(m - ms[0], axis=(1, 2)) / np.linalg.norm(ms[0], axis=(1, 2))
        assert rel.max() < 1e-8


def test_induced_flow_formula():
    C = covariance(7)
    net = random_network(wl.InterneuronNetwork, 3.0, seed=8)
    W, M = net.weights, net.M
    dW = net.flow(C)
    dM = dW @ W.T + W @ dW.T
    Minv_C = jnp.linalg.solve(M, C)
    np.testing.assert_allclose(dM, Minv_C + Minv_C.T - 2 * M, atol=1e-12)
    # preconditioning: dM/dt = −(∇f M + M ∇f)
    grad = wl.objective_gradient(M, C)
    np.testing.assert_allclose(dM, -(grad @ M + M @ grad), atol=1e-12)


@pytest.mark.parametrize("method", ["LSODA", "Radau"])
def test_implicit_methods_agree_and_stay_cheap(method):
    C = covariance(9)
    net = random_network(wl.DirectNetwork, 2000.0, seed=10)
    ref = flows.integrate_flow(net, C, eps=0.1)
    alt = flows.integrate_flow(net, C, eps=0.1, method=method)
    assert alt.convergence_time == pytest.approx(ref.convergence_time, rel=1e-7)
    assert alt.nfev < ref.nfev


def test_scale_network_scales_M_for_every_class():
    C = covariance(0)
    for Net in wl.NETWORKS:
        net = random_network(Net, 1.0, seed=11)
        np.testing.assert_allclose(flows.scale_network(net, 7.5).M, 7.5 * net.M, rtol=1e-12)
    with pytest.raises(ValueError):
        flows.scale_network(random_network(wl.DirectNetwork, 1.0, seed=11), -1.0)
    del C


def test_sweep_matches_single_calls_and_is_monotone():
    C = covariance(12)
    gammas = np.array([3.0, 30.0, 300.0])
    for Net in wl.NETWORKS:
        base = random_network(Net, 1.0, seed=13)
        times = flows.convergence_time_sweep(base, gammas, C, 0.1)
        assert times.shape == (3,) and np.all(np.diff(times) > 0)
        single = flows.convergence_time(flows.scale_network(base, gammas[1]), C, 0.1)
        assert times[1] == pytest.approx(single, rel=1e-8)  # batched (diffrax) against SciPy
        scipy = flows.convergence_time_sweep(base, gammas, C, 0.1, method="DOP853")
        assert scipy[1] == pytest.approx(single, rel=1e-12)


def test_not_reached_and_already_converged():
    C = covariance(14)
    net = random_network(wl.InterneuronNetwork, 100.0, seed=15)
    sol = flows.integrate_flow(net, C, t_max=0.5, eps=0.01)
    assert not sol.converged and sol.convergence_time == math.inf and not sol.diverged
    at_target = wl.DirectNetwork(wl.spd_sqrt(C))
    sol = flows.integrate_flow(at_target, C, eps=0.01)
    assert sol.converged and sol.convergence_time == 0.0 and sol.nfev == 0
    assert flows.convergence_time(at_target, C, 0.01) == 0.0


def test_dense_output_and_networks_along_the_way():
    C = covariance(16)
    net = random_network(wl.InterneuronNetwork, 10.0, seed=17)
    sol = flows.integrate_flow(net, C, t_max=2.0)
    t = np.array([0.0, 0.37, 1.9])
    w = sol.weights_at(t)
    assert w.shape == (3, N, K)
    np.testing.assert_allclose(w[0], net.weights, rtol=1e-14)
    mid = sol.network_at(0.37)
    assert isinstance(mid, wl.InterneuronNetwork)
    np.testing.assert_allclose(mid.M, sol.M_at(0.37), rtol=1e-12)
    np.testing.assert_allclose(sol.errors_at(t), wl.whitening_error(sol.M_at(t), C), rtol=1e-10)
    np.testing.assert_allclose(
        flows.errors_along(net, sol.weights, C), wl.whitening_error(sol.M, C), rtol=1e-10
    )
    with pytest.raises(ValueError):
        sol.weights_at(5.0)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(eps=0.0),
        dict(eps=1.5),
        dict(),  # neither eps nor t_max
        dict(t_max=-1.0),
        dict(eps=0.1, method="Euler"),
        dict(eps=0.1, t_eval=[0.0, 2.0, 1.0]),
    ],
)
def test_bad_arguments_raise_value_error(kwargs):
    C = covariance(20)
    with pytest.raises(ValueError):
        flows.integrate_flow(random_network(wl.DirectNetwork, 2.0, seed=21), C, **kwargs)


def test_bad_covariance_raises_value_error():
    net = random_network(wl.DirectNetwork, 2.0, seed=22)
    with pytest.raises(ValueError):
        flows.integrate_flow(net, np.eye(N + 1), eps=0.1)
    with pytest.raises(ValueError):
        flows.integrate_flow(net, -np.eye(N), eps=0.1)


def test_any_network_class_with_the_interface_integrates():
    """The kernels take the network as an argument: fixed parts (a gain frame) travel with it."""
    C = covariance(23, n=3)
    net = wl.GainNetwork.from_M(2.0 * wl.spd_sqrt(C))
    sol = flows.integrate_flow(net, C, eps=0.05)
    assert sol.converged and sol.errors[-1] == pytest.approx(0.05, abs=1e-9)
    assert np.all(np.diff(np.asarray(wl.objective(sol.M, C))) <= 1e-10)
    with pytest.raises(ValueError, match="not a power"):
        flows.scale_network(net, 2.0)


# ------------------------------------------------------------------ stacks of networks


def random_stack(Net, gammas, seed: int, n: int = N, k: int = K):
    nets = [random_network(Net, g, seed + i, k=k, n=n) for i, g in enumerate(gammas)]
    return nets, wl.online.stack_networks(nets)


@pytest.mark.parametrize("Net", wl.NETWORKS)
@pytest.mark.parametrize("per_run_C", [False, True])
def test_stack_matches_single_runs(Net, per_run_C):
    """One vmapped diffrax integration gives each run's SciPy convergence time."""
    gammas = [1.0, 300.0, 8.0, 60.0, 2.0]  # R = 5, not a multiple of 2 devices; unsorted
    nets, stack = random_stack(Net, gammas, seed=30)
    Cs = jnp.stack([covariance(40 + i) for i in range(len(nets))]) if per_run_C else covariance(40)
    eps = 0.05
    times = flows.convergence_time(stack, Cs, eps)
    assert times.shape == (5,)
    # these runs are short (λ_max(M₀) < RODAS_SWITCH √λ_max(C)): Dopri8 for both classes
    method = flows.BATCH_METHOD
    rel = 1e-8
    for i, net in enumerate(nets):
        single = flows.convergence_time(net, Cs[i] if per_run_C else Cs, eps)
        assert times[i] == pytest.approx(single, rel=rel)
    batch = flows.integrate_flow(stack, Cs, eps=eps)
    assert isinstance(batch, flows.FlowBatch) and batch.method == method
    assert np.all(batch.converged) and not np.any(batch.diverged)
    np.testing.assert_allclose(batch.errors, eps, atol=1e-9)  # stopped on the crossing
    np.testing.assert_array_equal(batch.convergence_time, times)
    np.testing.assert_allclose(batch.M, wl.online.stack_networks(
        [net.with_weights(w) for net, w in zip(nets, batch.weights, strict=True)]).M, rtol=1e-12)


@pytest.mark.parametrize("Net", wl.NETWORKS)
def test_large_circuits_run_one_after_another_with_the_vmapped_results(Net, monkeypatch):
    """From SEQUENTIAL_FROM on, a group's runs go through lax.map: same times, end states."""
    n = flows.SEQUENTIAL_FROM
    nets, stack = random_stack(Net, [3.0, 1.0, 20.0], seed=70, n=n, k=2 * n)
    C = covariance(71, n=n)
    sequential = flows.integrate_flow(stack, C, eps=0.1, group=2)  # padded last group
    monkeypatch.setattr(flows, "SEQUENTIAL_FROM", n + 1)
    vmapped = flows.integrate_flow(stack, C, eps=0.1, group=2)
    assert np.all(sequential.converged)
    np.testing.assert_allclose(sequential.convergence_time, vmapped.convergence_time, rtol=1e-12)
    np.testing.assert_allclose(sequential.weights, vmapped.weights, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(sequential.steps, vmapped.steps)


def test_stack_without_eps_matches_single_end_states():
    nets, stack = random_stack(wl.InterneuronNetwork, [0.5, 20.0, 3.0], seed=50)
    C = covariance(51)
    batch = flows.integrate_flow(stack, C, t_max=1.5)
    assert batch.eps is None and not np.any(batch.converged)
    assert np.all(np.isinf(batch.convergence_time)) and np.all(batch.t == 1.5)
    for i, net in enumerate(nets):
        np.testing.assert_allclose(batch.M[i], flows.integrate_flow(net, C, t_max=1.5).M[-1],
                                   rtol=1e-8, atol=1e-9)


def test_stack_start_inside_not_reached_and_per_run_eps():
    C = covariance(52)
    inside = wl.DirectNetwork(wl.spd_sqrt(C))
    far = random_network(wl.DirectNetwork, 100.0, seed=53)
    stack = wl.online.stack_networks([inside, far, far])
    batch = flows.integrate_flow(stack, C, t_max=5.0, eps=0.1)
    assert batch.convergence_time[0] == 0.0 and batch.converged[0]
    assert not np.any(batch.converged[1:]) and not np.any(batch.diverged)
    assert np.all(np.isinf(batch.convergence_time[1:])) and np.all(batch.errors[1:] > 0.1)
    times = flows.convergence_time(stack, C, np.array([0.1, 0.1, 0.01]))
    assert times[0] == 0.0 and times[2] > times[1] > 0
    assert times[2] == pytest.approx(flows.convergence_time(far, C, 0.01), rel=1e-6)
    # a single network through a diffrax method (a stack of one)
    assert flows.convergence_time(far, C, 0.1, method="Dopri8") == pytest.approx(times[1], rel=1e-6)


def test_stack_scipy_method_runs_one_at_a_time():
    nets, stack = random_stack(wl.DirectNetwork, [2.0, 40.0], seed=54)
    C = covariance(55)
    batch = flows.integrate_flow(stack, C, eps=0.1, method="LSODA")
    assert batch.method == "LSODA"
    for i, net in enumerate(nets):
        assert batch.convergence_time[i] == flows.convergence_time(net, C, 0.1, method="LSODA")


_SHARDED = """
import numpy as np, jax, jax.numpy as jnp, whitenlib as wl
wl.setup(plotting=False)
from whitenlib import flows
assert jax.local_device_count() == 2, jax.local_devices()
C = wl.random_covariance(jax.random.key(3), 4, 0.5, 5.0)
nets = [wl.DirectNetwork(wl.InterneuronNetwork(w).M)
        for w in wl.online.initial_factors(7, 4, np.array([1.0, 30.0, 200.0]), 8)]
times = flows.convergence_time(wl.online.stack_networks(nets), C, 0.05)   # R = 3 on 2 devices
single = np.array([flows.convergence_time(n, C, 0.05) for n in nets])
assert np.allclose(times, single, rtol=1e-6, atol=0), (times, single)
print("sharded-ok", times)
"""


def test_stack_is_sharded_over_two_host_devices(tmp_path):
    """The run axis is split over every local device; R = 3 is padded to a multiple of 2."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2",
               JAX_PLATFORMS="cpu")
    script = tmp_path / "sharded.py"
    script.write_text(_SHARDED)
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True,
                         timeout=600, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "sharded-ok" in out.stdout


@pytest.mark.parametrize(
    "C_shape, kwargs, match",
    [
        ((3, N, N), dict(eps=0.1), "C must have shape"),      # R = 2 runs, 3 covariances
        ((N + 1, N + 1), dict(eps=0.1), "C must have shape"),
        ((N, N), dict(eps=0.0), "eps"),
        ((N, N), dict(eps=1.0), "eps"),
        ((N, N), dict(eps=np.array([0.1, 0.1, 0.1])), "eps"),
        ((N, N), dict(), "t_max"),
        ((N, N), dict(eps=0.1, t_eval=[0.0, 1.0]), "t_eval"),
        ((N, N), dict(eps=0.1, method="Euler"), "method"),
        ((N, N), dict(eps=0.1, group=0), "group"),
    ],
)
def test_stack_bad_arguments_raise_value_error(C_shape, kwargs, match):
    _, stack = random_stack(wl.DirectNetwork, [1.0, 2.0], seed=56)
    C = np.broadcast_to(np.eye(C_shape[-1]), C_shape)
    with pytest.raises(ValueError, match=match):
        flows.integrate_flow(stack, C, **kwargs)


def test_stack_non_spd_covariance_and_diffrax_method_on_one_network():
    nets, stack = random_stack(wl.DirectNetwork, [1.0, 2.0], seed=57)
    Cs = np.stack([np.eye(N), -np.eye(N)])
    with pytest.raises(ValueError, match="C must be positive definite"):
        flows.convergence_time(stack, Cs, 0.1)
    with pytest.raises(ValueError, match="method"):
        flows.integrate_flow(nets[0], np.eye(N), eps=0.1, method="Tsit5")


def test_one_argument_order_in_flows_and_online():
    """Network, input, (η), tolerance eps, horizon: one order in flows and online."""
    def params(f):
        return list(inspect.signature(f).parameters)

    for f in (flows.integrate_flow, flows.convergence_time, flows.convergence_time_sweep):
        p = params(f)
        assert p[0] == "net" and p.index("C") < p.index("eps") < p.index("t_max"), f.__name__
    assert params(flows.convergence_time_sweep)[:2] == ["net", "scales"]
    assert params(wl.online.sweep)[:4] == params(wl.online.train)[:4] == [
        "net", "stream", "eta", "n_steps"]
    assert params(wl.online.steps_to_threshold)[:3] == ["steps", "errors", "eps"]
    assert params(wl.online.Trajectory.rewhitening_steps)[1:3] == ["switch_times", "eps"]


def _non_commuting_direct_stack(n, gammas, seed):
    """Direct networks from W₀ = √(γ/k) A (k = 2n): M₀ does not share C's eigenvectors."""
    w0 = wl.online.initial_factors(seed, n, np.asarray(gammas), 2 * n)
    nets = [wl.DirectNetwork(wl.InterneuronNetwork(w).M) for w in w0]
    return nets, wl.online.stack_networks(nets)


@pytest.mark.parametrize("n, seed", [(3, 60), (6, 61)])
def test_rodas_sylvester_agrees_with_scipy(n, seed):
    """The linearly implicit batch method gives DOP853's convergence times to 1e-6 (its goal)."""
    gammas = [1.0, 700.0, 5.0, 40.0, 0.3]  # unsorted, γ from 0.3 to 700
    nets, stack = _non_commuting_direct_stack(n, gammas, seed)
    C = covariance(seed, n)
    batch = flows.integrate_flow(stack, C, eps=0.05, method="Rodas4Sylvester")
    assert batch.method == "Rodas4Sylvester"
    assert np.all(batch.converged) and not np.any(batch.diverged)
    single = np.array([flows.convergence_time(net, C, 0.05, method="DOP853") for net in nets])
    np.testing.assert_allclose(batch.convergence_time, single, rtol=1e-6)
    np.testing.assert_allclose(batch.errors, 0.05, atol=1e-9)  # stopped on the crossing


def test_rodas_sylvester_follows_the_flow_without_eps():
    """End states at a horizon match DOP853's to the method's tolerance, per-run C."""
    nets, stack = _non_commuting_direct_stack(4, [2.0, 30.0], seed=62)
    Cs = jnp.stack([covariance(63, 4), covariance(64, 4)])
    batch = flows.integrate_flow(stack, Cs, t_max=12.0, method="Rodas4Sylvester",
                                 rtol=1e-9, atol=1e-11)
    for i, net in enumerate(nets):
        ref = flows.integrate_flow(net, Cs[i], t_max=12.0).M[-1]
        np.testing.assert_allclose(batch.M[i], ref, rtol=1e-6, atol=1e-8)


def test_rodas_sylvester_bad_input_raises_value_error():
    C = covariance(65)
    _, stack = random_stack(wl.InterneuronNetwork, [1.0, 2.0], seed=66)
    with pytest.raises(ValueError, match="Rodas4Sylvester.*direct network"):
        flows.convergence_time(stack, C, 0.1, method="Rodas4Sylvester")
    _, stack = random_stack(wl.DirectNetwork, [1.0, 2.0], seed=67)
    with pytest.raises(ValueError, match="rtol"):
        flows.convergence_time(stack, C, 0.1, method="Rodas4Sylvester", rtol=-1.0)
    with pytest.raises(ValueError, match="C must have shape"):
        flows.convergence_time(stack, np.eye(N + 1), 0.1, method="Rodas4Sylvester")


def test_direct_default_sends_long_runs_to_rodas_sylvester():
    """"auto": λ_max(M₀) ≥ RODAS_SWITCH √λ_max(C) to Rodas4Sylvester, the rest to Dopri8."""
    assert flows.BATCH_METHOD_FOR[wl.DirectNetwork] == "auto"
    C = covariance(68)
    switch = flows.RODAS_SWITCH * np.sqrt(np.linalg.eigvalsh(np.asarray(C))[-1])
    _, unit = _non_commuting_direct_stack(N, [1.0, 1.0, 1.0], seed=69)
    top = np.linalg.eigvalsh(np.asarray(unit.M))[1, -1]  # the middle run, 1.3 × the switch
    nets, stack = _non_commuting_direct_stack(N, [1.0, 1.3 * switch / top, 20.0], seed=69)
    lam_max = np.linalg.eigvalsh(np.asarray(stack.M))[:, -1]
    assert np.sum(lam_max >= switch) == 1  # one long run, two short ones
    batch = flows.integrate_flow(stack, C, eps=0.05)
    assert batch.method == "Dopri8+Rodas4Sylvester" and np.all(batch.converged)
    single = np.array([flows.convergence_time(net, C, 0.05) for net in nets])
    np.testing.assert_allclose(batch.convergence_time, single, rtol=1e-6)
    # on the long run the implicit steps are longer than the explicit ones (stiff linear phase)
    explicit = flows.integrate_flow(stack, C, eps=0.05, method="Dopri8")
    long = np.argmax(lam_max)
    assert batch.steps[long] < explicit.steps[long] / 2
    # the interneuron network keeps Dopri8, "auto" included
    assert wl.InterneuronNetwork not in flows.BATCH_METHOD_FOR
    _, inter = random_stack(wl.InterneuronNetwork, [1.0, 2.0 * switch], seed=70)
    assert flows.integrate_flow(inter, C, eps=0.05, method="auto").method == "Dopri8"
