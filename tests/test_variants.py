"""Unit tests of whitenlib.variants: the geometry of chapter 7 and the circuits of chapters 7-8."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import whitenlib as wl
from whitenlib import data, flows, online
from whitenlib import variants as wv

N, K = 4, 8


def spd(seed: int, n: int = N, low: float = 0.5, high: float = 5.0) -> jnp.ndarray:
    return wl.random_covariance(jax.random.key(seed), n, low, high)


def sigma_points(c) -> np.ndarray:
    """2n points ±√n C^{1/2} e_i whose mean of x xᵀ is exactly C."""
    rows = np.sqrt(c.shape[-1]) * np.asarray(wl.spd_sqrt(c))
    return np.concatenate([rows, -rows])


def mean_update(net, c, eta=1e-3):
    """Average over sigma points of (step(x) − weights)/η: the expected update direction."""
    xs = jnp.asarray(sigma_points(c))
    steps = jax.vmap(lambda x: net.step(x, eta).weights)(xs)
    return (jnp.mean(steps, axis=0) - net.weights) / eta


def objective_np(m, c) -> float:
    return float(np.trace(np.linalg.solve(m, c)) + np.trace(m))


# ------------------------------------------------------------------ geometry


def test_preconditioner_eigenvalues_and_inverse():
    m = spd(1)
    lam = np.linalg.eigvalsh(np.asarray(m))
    i, j = np.triu_indices(N)
    expected = np.sort(lam[i] + lam[j])
    assert np.allclose(wv.preconditioner_eigenvalues(m), expected, rtol=1e-12)
    assert np.allclose(np.linalg.eigvalsh(wv.preconditioner_matrix(m)), expected, rtol=1e-10)
    y = np.random.default_rng(0).standard_normal((N, N))
    y = y + y.T
    x = wv.preconditioner_inverse(m, y)
    assert np.allclose(wv.preconditioner(m, x), y, atol=1e-11)


def test_symmetric_basis_is_orthonormal_and_spans_the_symmetric_matrices():
    b = wl.geometry.symmetric_basis(N)
    assert b.shape == (N * (N + 1) // 2, N * N)
    np.testing.assert_allclose(b @ b.T, np.eye(len(b)), atol=1e-14)
    x = np.random.default_rng(3).standard_normal((N, N))
    x = x + x.T
    np.testing.assert_allclose(b.T @ (b @ x.ravel()), x.ravel(), atol=1e-12)  # x is in the span


def test_metric_gradient_identity_and_positivity():
    m, c = spd(2), spd(3)
    g = wl.objective_gradient(m, c)
    rng = np.random.default_rng(1)
    for _ in range(3):
        y = rng.standard_normal((N, N))
        y = y + y.T
        assert np.isclose(wv.metric(m, wv.preconditioner(m, g), y), np.trace(g @ y), rtol=1e-9)
        assert float(wv.metric(m, y, y)) > 0


def test_preconditioner_rejects_non_spd():
    with pytest.raises(ValueError, match="positive definite"):
        wv.preconditioner(-jnp.eye(N), jnp.eye(N))


# ------------------------------------------------------------------ chain


def test_chain_from_M_is_balanced_and_realizes_M():
    m = spd(4)
    ch = wv.ChainNetwork.from_M(m, p=N + 2, key=jax.random.key(0))
    assert ch.weights.shape == (N, 2 * N + 2)
    assert np.allclose(ch.M, m, atol=1e-12)
    assert np.abs(ch.imbalance()).max() < 1e-12
    assert np.allclose(ch.W1 @ ch.W1.T, wl.spd_sqrt(m), atol=1e-12)


def test_chain_flow_is_half_minus_gradient_and_induced_flow():
    c = spd(5)
    rng = np.random.default_rng(2)
    w1, w2 = rng.standard_normal((N, N)), rng.standard_normal((N, N + 1))
    ch = wv.ChainNetwork(w1, w2)

    def f_of(w1_, w2_):
        a = w1_ @ w2_
        mm = a @ a.T
        return jnp.trace(jnp.linalg.solve(mm, c)) + jnp.trace(mm)

    g1, g2 = jax.grad(f_of, argnums=(0, 1))(jnp.asarray(w1), jnp.asarray(w2))
    flow = ch.flow(c)
    assert np.allclose(flow[:, :N], -0.5 * g1, rtol=1e-9, atol=1e-12)
    assert np.allclose(flow[:, N:], -0.5 * g2, rtol=1e-9, atol=1e-12)
    # balanced: the closed induced flow (7.9)
    bal = wv.ChainNetwork.from_M(ch.M, p=N + 1, key=jax.random.key(1))
    m, g = bal.M, wl.objective_gradient(bal.M, c)
    dw = bal.flow(c)
    a_dot = dw[:, :N] @ bal.W2 + bal.W1 @ dw[:, N:]
    m_dot = a_dot @ bal.A.T + bal.A @ a_dot.T
    half = wl.spd_sqrt(m)
    m32 = half @ m
    assert np.allclose(m_dot, -(g @ m32 + m32 @ g + half @ g @ m + m @ g @ half), atol=1e-9)


def test_chain_step_averages_to_flow():
    c = spd(6)
    ch = wv.ChainNetwork.from_M(spd(7), key=jax.random.key(2))
    assert np.allclose(mean_update(ch, c), ch.flow(c), rtol=1e-6, atol=1e-6)


def test_chain_imbalance_is_conserved():
    rng = np.random.default_rng(3)
    ch = wv.ChainNetwork(rng.standard_normal((N, N)), rng.standard_normal((N, N)))
    sol = flows.integrate_flow(ch, spd(8), t_max=1.0)
    imb = np.array([np.asarray(ch.with_weights(jnp.asarray(w)).imbalance()) for w in sol.weights])
    assert np.abs(imb - imb[0]).max() < 1e-8


def test_chain_closed_form_time_and_saturation():
    lam = np.array([0.5, 1.0, 2.0, 4.0])
    c = jnp.diag(lam)
    for g in (3.0, 300.0):
        m0 = g * jnp.eye(N)
        t_flow = flows.convergence_time(wv.ChainNetwork.from_M(m0), c, 0.1)
        t_closed = wl.theory.closed_form_convergence_time(wv.ChainNetwork, m0, c, 0.1)
        assert abs(t_flow - t_closed) < 1e-7
    m0s = np.logspace(1, 8, 8)
    times = wv.ChainNetwork.mode_convergence_time(m0s, 2.0, 0.1)
    limit = wv.ChainNetwork.mode_convergence_time_limit(2.0, 0.1)
    assert np.all(np.diff(times) > 0) and np.all(times < limit) and limit - times[-1] < 1e-3
    # from below the target as well: time to reach the lower band edge
    lo = np.sqrt(2.0 / 1.1)
    t_below = wv.ChainNetwork.mode_convergence_time(0.1, 2.0, 0.1)
    grid = np.linspace(0.1, lo, 20001)
    t_quad = np.trapezoid(np.sqrt(grid) / (4 * (2.0 - grid**2)), grid)
    assert abs(t_below - t_quad) < 1e-6


def test_chain_rejects_bad_shapes():
    with pytest.raises(ValueError, match="square"):
        wv.ChainNetwork(np.ones((N, N + 1)), np.ones((N + 1, N)))
    with pytest.raises(ValueError, match="p >="):
        wv.ChainNetwork(np.eye(N), np.ones((N, N - 1)))


# ------------------------------------------------------------------ separate W and V


def asym_net(seed=0, rho=0.3):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((N, K)) / np.sqrt(K) + np.eye(N, K)        # well conditioned
    v = (w + rho * rng.standard_normal((N, K)) / np.sqrt(K)).T
    return wv.AsymmetricInterneuronNetwork(w, v)


def test_asymmetry_decays_exactly_each_step():
    net = asym_net()
    d0 = np.asarray(net.asymmetry())
    xs = np.random.default_rng(4).standard_normal((50, N))
    eta = 0.05
    for x in xs:
        net = net.step(jnp.asarray(x), eta)
    assert np.allclose(net.asymmetry(), (1 - eta) ** 50 * d0, rtol=1e-9, atol=1e-14)


def test_asymmetric_flow_and_respond():
    c = spd(9)
    net = asym_net(1)
    fl = net.flow(c)
    assert np.allclose(fl[:, :K] - fl[:, K:], -net.asymmetry(), atol=1e-12)
    assert np.allclose(mean_update(net, c), fl, rtol=1e-6, atol=1e-6)
    x = np.random.default_rng(5).standard_normal((3, N))
    m_circuit = np.asarray(net.M_circuit)
    assert np.allclose(net.respond(x), np.linalg.solve(m_circuit, x.T).T, atol=1e-10)
    # the polar factor has the circuit's whitening error
    y_cov = np.linalg.solve(m_circuit, np.linalg.solve(m_circuit, np.asarray(c)).T)
    assert np.isclose(net.error(c), np.abs(np.linalg.eigvalsh(y_cov - np.eye(N))).max(), rtol=1e-8)
    # with W = V^T it is the interneuron network
    w = np.asarray(net.W)
    sym = wv.AsymmetricInterneuronNetwork(w, w.T)
    ref = wl.InterneuronNetwork(w).flow(c)
    assert np.allclose(sym.flow(c)[:, :K], ref, atol=1e-12)
    assert np.allclose(sym.flow(c)[:, K:], ref, atol=1e-12)
    assert np.allclose(sym.M, wl.InterneuronNetwork(w).M, atol=1e-10)


def test_asymmetric_neural_dynamics_settle_to_the_equilibrium():
    net = asym_net(2)
    assert float(jnp.max(wl.neural_eigenvalues(net).real)) < 0
    x = jnp.asarray(np.random.default_rng(6).standard_normal(N))
    _, states = wl.simulate_neural_dynamics(net, x, 150.0, 0.02)
    assert np.allclose(states[0][-1], net.respond(x), atol=1e-6)


def test_asymmetric_rejects_bad_input():
    with pytest.raises(ValueError, match="shape"):
        wv.AsymmetricInterneuronNetwork(np.ones((N, K)), np.ones((N, K)))
    with pytest.raises(ValueError, match="singular"):
        wv.AsymmetricInterneuronNetwork(np.ones((N, K)), np.ones((K, N)))


# ------------------------------------------------------------------ Dale


def test_dale_projection_and_validation():
    net = wv.DaleInterneuronNetwork.random(jax.random.key(3), N, K)
    assert float(net.weights.min()) >= 0
    clipped = net.with_weights(net.weights.at[0, 0].set(-1.0))
    assert float(clipped.weights[0, 0]) == 0.0 and float(clipped.weights.min()) == 0.0
    assert np.allclose(clipped.M_inv @ clipped.M, np.eye(N), atol=1e-8)
    stepped = net.step(jnp.asarray(np.random.default_rng(7).standard_normal(N)), 0.2)
    assert float(stepped.weights.min()) >= 0
    with pytest.raises(ValueError, match="nonnegative"):
        wv.DaleInterneuronNetwork(-np.ones((N, K)))


def test_dale_two_inputs_negative_correlation():
    rho = -0.5
    c = jnp.array([[1.0, rho * np.sqrt(2.0)], [rho * np.sqrt(2.0), 2.0]])
    nets = online.stack_networks([wv.DaleInterneuronNetwork.random(jax.random.key(4), 2, 4)])
    tr = online.sweep(nets, data.GaussianStream(c), 0.05, 2000, record_every=500, mean=True)
    m = np.asarray(tr.final.M[0])
    assert np.allclose(m, np.diag(np.sqrt([1.0, 2.0])), atol=1e-6)
    assert abs(tr.errors[0, -1] - abs(rho)) < 1e-6


# ------------------------------------------------------------------ leaky, few interneurons


def test_leaky_flow_is_half_minus_gradient():
    c = spd(10)
    w = np.random.default_rng(8).standard_normal((N, 2))
    net = wv.LeakyInterneuronNetwork(w, 0.3)
    assert np.allclose(net.M, 0.3 * np.eye(N) + w @ w.T)
    grad = jax.grad(lambda w_: jnp.trace(jnp.linalg.solve(0.3 * jnp.eye(N) + w_ @ w_.T, c))
                    + jnp.trace(0.3 * jnp.eye(N) + w_ @ w_.T))(jnp.asarray(w))
    assert np.allclose(net.flow(c), -0.5 * grad, rtol=1e-9, atol=1e-12)
    assert np.allclose(mean_update(net, c), net.flow(c), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("k", [1, 2, 4])
def test_leaky_fixed_point_is_a_fixed_point(k):
    lam = np.array([6.0, 3.0, 1.5, 0.8])
    q = np.asarray(wl.random_orthogonal(jax.random.key(11), N))
    c = wl.covariance_from_spectrum(lam, q)
    leak = 0.5
    w = q[:, :k] * np.sqrt(np.sqrt(lam[:k]) - leak)
    net = wv.LeakyInterneuronNetwork(w, leak)
    m_pred, cyy_pred = wv.leaky_fixed_point(c, k, leak)
    assert np.allclose(net.M, m_pred, atol=1e-12)
    assert np.abs(net.flow(c)).max() < 1e-12
    var = np.einsum("ji,jk,ki->i", q, np.asarray(cyy_pred), q)
    assert np.allclose(var, np.where(np.arange(N) < k, 1.0, lam / leak**2))


def test_leaky_rejects_bad_leak():
    with pytest.raises(ValueError, match="leak"):
        wv.LeakyInterneuronNetwork(np.ones((N, 2)), 0.0)


# ------------------------------------------------------------------ finite settling


@pytest.mark.parametrize("s", [0.5, 20.0])
def test_finite_settling_closed_forms_match_matrix_exponential(s):
    w = np.random.default_rng(9).standard_normal((N, K)) / np.sqrt(K)
    for base, taus in [(wl.DirectNetwork(w @ w.T), ()), (wl.DirectNetwork(5 * w @ w.T), (0.5,)),
                       (wl.InterneuronNetwork(w), ()), (wl.InterneuronNetwork(3 * w), (1.0, 0.25)),
                       (wl.InterneuronNetwork(0.05 * w), (1.0, 2.0))]:
        fs = wv.FiniteSettling(base, s, taus)
        generic = wv.settled_response(base, s, *taus)
        assert np.allclose(fs.response(), generic, rtol=1e-9, atol=1e-12 * np.abs(generic).max())


def test_finite_settling_tends_to_the_equilibrium_network():
    c = spd(12)
    w = np.random.default_rng(10).standard_normal((N, K)) / np.sqrt(K)
    for base in (wl.DirectNetwork(w @ w.T + 0.5 * np.eye(N)), wl.InterneuronNetwork(w)):
        fs = wv.FiniteSettling(base, 80.0)
        assert np.allclose(fs.M, base.M, rtol=1e-8)
        assert np.allclose(fs.flow(c), base.flow(c), rtol=1e-7, atol=1e-10)
        assert np.allclose(mean_update(fs, c), fs.flow(c), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("s", [1.0, 4.0])
def test_finite_settling_direct_is_unbiased_and_interneurons_are_not(s):
    from scipy.optimize import brentq

    lam = np.array([0.5, 1.5, 2.0, 4.0])
    c = jnp.diag(lam)
    r = lambda m: -np.expm1(-s * m) / m if m != 0 else s  # noqa: E731  y(s) = r(m) x
    # the direct fixed point: r(m_i) = 1/sqrt(lam_i); m_i < 0 exactly when 1/sqrt(lam_i) > s
    m = np.array([brentq(lambda mm, li=li: r(mm) - 1 / np.sqrt(li), -20.0, 50.0) for li in lam])
    assert np.array_equal(m > 0, 1 / np.sqrt(lam) < s)
    direct = wl.DirectNetwork(np.diag(np.abs(m) + 1.0)).with_weights(jnp.diag(m))
    fixed = wv.FiniteSettling(direct, s)
    assert np.abs(fixed.flow(c)).max() < 1e-10 and float(fixed.error(c)) < 1e-10
    # the interneuron rule is not at rest at the exact whitening solution
    inter = wv.FiniteSettling(wl.InterneuronNetwork.from_M(wl.spd_sqrt(c)), s)
    assert np.abs(inter.flow(c)).max() > 1e-3


def test_finite_settling_in_an_online_sweep():
    c = spd(14)
    base = wl.InterneuronNetwork(np.random.default_rng(12).standard_normal((N, K)) / np.sqrt(K))
    tr = online.train(wv.FiniteSettling(base, 30.0), data.GaussianStream(c), 0.02, 400,
                      record_every=100, mean=True)
    assert not tr.diverged and tr.errors[-1] < 1e-3


def test_finite_settling_rejects_bad_input():
    with pytest.raises(ValueError, match="settle_time"):
        wv.FiniteSettling(wl.DirectNetwork(np.eye(N)), -1.0)
    with pytest.raises(ValueError, match="DirectNetwork"):
        wv.FiniteSettling(wv.LeakyInterneuronNetwork(np.ones((N, 1))), 1.0)
