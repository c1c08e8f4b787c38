"""Unit tests of whitenlib.neural: the fast neural dynamics settle to the network's response."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import whitenlib as wl
from whitenlib.neural import neural_jacobian

N, K = 4, 8


def spd(seed: int, n: int = N, low: float = 1.0, high: float = 4.0) -> np.ndarray:
    return np.asarray(wl.random_covariance(jax.random.key(seed), n, low, high))


# Every network, plus an over-complete interneuron network with a rotated W.
CASES = [pytest.param(Net, {}, id=Net.__name__) for Net in wl.NETWORKS] + [
    pytest.param(
        wl.InterneuronNetwork, {"k": K, "key": jax.random.key(3)}, id="Interneuron-k8-rotated"
    )
]


@pytest.mark.parametrize("Net, kw", CASES)
def test_neural_dynamics_settle_to_response(Net, kw):
    # M with eigenvalues in [1, 4]: every mode of both circuits decays at rate >= 1/2,
    # so by t = 40 the transient is below e^{-20} ≈ 2e-9 of the response.
    net = Net.from_M(spd(0), **kw)
    x = np.array([1.0, -2.0, 0.5, 3.0])
    times, states = wl.simulate_neural_dynamics(net, x, 40.0, 0.02)
    assert times.shape == (2001,)
    np.testing.assert_allclose(np.asarray(times)[[0, -1]], [0.0, 40.0])
    y = net.neural_output(states)
    assert y.shape == (2001, N)
    np.testing.assert_array_equal(y[0], 0.0)  # from rest
    np.testing.assert_allclose(y[-1], net.respond(x), rtol=0, atol=1e-6)
    # and not yet at the start (the check above can fail)
    assert np.abs(np.asarray(y[10] - net.respond(x))).max() > 1e-2


def test_interneuron_equilibrium():
    w = np.random.default_rng(0).standard_normal((N, K))
    w *= 1.5 / np.linalg.svd(w, compute_uv=False).min()  # singular values >= 1.5
    net = wl.InterneuronNetwork(w)
    x = np.array([0.3, 1.0, -1.0, 2.0])
    _, (y, n_act) = wl.simulate_neural_dynamics(net, x, 40.0, 0.02, 1.0, 0.5)
    assert n_act.shape == (2001, K)
    y_bar = np.linalg.solve(w @ w.T, x)
    np.testing.assert_allclose(y[-1], y_bar, atol=1e-6)
    np.testing.assert_allclose(n_act[-1], w.T @ y_bar, atol=1e-6)  # n̄ = Wᵀȳ
    np.testing.assert_allclose(n_act[-1], net.respond_interneurons(x), atol=1e-6)


def test_direct_dynamics_match_the_exact_solution():
    # τ dy/dt = x − M y from y = 0: y(t) = (I − e^{−Mt/τ}) M⁻¹ x;
    # RK4 with dt = 0.01 is exact to ~1e-10
    m = spd(1)
    tau = 2.0
    x = np.array([1.0, 0.0, -1.0, 0.5])
    times, y = wl.simulate_neural_dynamics(wl.DirectNetwork(m), x, 3.0, 0.01, tau)
    lam, q = np.linalg.eigh(m)
    for i in (50, 150, 300):
        t = float(times[i])
        expm = (q * np.exp(-lam * t / tau)) @ q.T
        exact = (np.eye(N) - expm) @ np.linalg.solve(m, x)
        np.testing.assert_allclose(y[i], exact, rtol=0, atol=1e-10)


@pytest.mark.parametrize("taus", [(1.0,), (0.5,), ()])
def test_direct_eigenvalues_are_minus_eigenvalues_of_M(taus):
    m = spd(2)
    tau = taus[0] if taus else 1.0
    ev = np.asarray(wl.neural_eigenvalues(wl.DirectNetwork(m), *taus))
    np.testing.assert_allclose(np.sort(ev.real), np.sort(-np.linalg.eigvalsh(m) / tau), rtol=1e-12)
    np.testing.assert_allclose(ev.imag, 0, atol=1e-12)


@pytest.mark.parametrize("k", (N, K))
@pytest.mark.parametrize("taus", [(1.0, 1.0), (2.0, 0.3)])
def test_interneuron_eigenvalues_have_negative_real_parts(k, taus):
    w = np.random.default_rng(k).standard_normal((N, k))
    net = wl.InterneuronNetwork(w)
    jac = np.asarray(neural_jacobian(net, *taus))
    tau, tau_n = taus
    expected = np.block([[np.zeros((N, N)), -w / tau], [w.T / tau_n, -np.eye(k) / tau_n]])
    np.testing.assert_allclose(jac, expected, atol=1e-15)
    ev = np.asarray(wl.neural_eigenvalues(net, *taus))
    assert ev.shape == (N + k,)
    assert ev.real.max() < 0
    # each singular value σ of W gives the roots of τ τₙ μ² + τ μ + σ² = 0
    sig = np.linalg.svd(w, compute_uv=False)
    roots = np.concatenate([np.roots([tau * tau_n, tau, s**2]) for s in sig])
    roots = np.concatenate([roots, np.full(k - N, -1.0 / tau_n)])
    remaining = list(ev)
    for r in roots:  # match as multisets
        i = int(np.argmin(np.abs(np.asarray(remaining) - r)))
        assert abs(remaining.pop(i) - r) < 1e-10


def test_rank_deficient_w_has_a_zero_eigenvalue():
    # bypass the constructor's check: a W of rank n − 1 leaves a mode that never settles
    w = np.random.default_rng(0).standard_normal((N, K))
    w[3] = w[0] + w[1]
    good = wl.InterneuronNetwork(np.random.default_rng(1).standard_normal((N, K)))
    net = eqx.tree_at(lambda nt: nt.weights, good, jnp.asarray(w))
    ev = np.asarray(wl.neural_eigenvalues(net))
    assert np.abs(ev).min() < 1e-10


def test_eigenvalues_under_vmap_over_networks():
    ms = np.stack([spd(s) for s in range(3)])
    ev = jax.vmap(lambda nt: wl.neural_eigenvalues(nt))(wl.DirectNetwork(ms))
    assert ev.shape == (3, N)
    for i in range(3):
        expected = np.sort(-np.linalg.eigvalsh(ms[i]))
        np.testing.assert_allclose(np.sort(ev[i].real), expected, rtol=1e-12)
