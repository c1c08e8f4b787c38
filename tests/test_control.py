"""Unit tests of whitenlib.networks.control: the non-local direct rule (a control).

NonlocalDirectNetwork learns M itself with ΔM = η (y xᵀ + x yᵀ − 2M), y = M⁻¹x;
its mean flow must be exactly the M-flow the interneuron network induces,
M⁻¹C + CM⁻¹ − 2M = −P_M(∇f(M)), and its commuting modes those of eq. (3.7).
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

import whitenlib as wl
from whitenlib import flows, theory

N = 4
SEEDS = (0, 1, 2)


def spd(seed: int, n: int = N) -> np.ndarray:
    return np.asarray(wl.random_covariance(jax.random.key(seed), n))


def sigma_points(c) -> np.ndarray:
    """2n points ±√n C^{1/2} e_i; their mean of x xᵀ is exactly C."""
    rows = np.sqrt(c.shape[-1]) * np.asarray(wl.spd_sqrt(c))
    return np.concatenate([rows, -rows])


def rel_err(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


def test_declared_like_the_direct_network():
    Net = wl.NonlocalDirectNetwork
    assert Net.weights_degree == 1 and not Net.weights_are_factor
    assert Net.label != wl.DirectNetwork.label
    assert Net in wl.CONTROL_NETWORKS
    assert Net not in wl.NETWORKS and Net not in wl.ALL_NETWORKS  # chapters' loops unchanged
    assert not isinstance(Net(np.eye(N)), wl.DirectNetwork)


@pytest.mark.parametrize("seed", SEEDS)
def test_step_is_the_nonlocal_rule(seed):
    m, x, eta = spd(seed), np.random.default_rng(seed).standard_normal(N), 0.03
    new = wl.NonlocalDirectNetwork(m).step(x, eta)
    y = np.linalg.solve(m, x)
    expected = m + eta * (np.outer(y, x) + np.outer(x, y) - 2 * m)
    assert rel_err(new.weights, expected) < 1e-12
    np.testing.assert_array_equal(new.weights, np.asarray(new.weights).T)  # stays symmetric


@pytest.mark.parametrize("seed", SEEDS)
def test_mean_of_y_x_is_m_inverse_c(seed):
    # E[y xᵀ] = M⁻¹ E[x xᵀ] = M⁻¹C, exactly over sigma points
    m, c = spd(seed), spd(seed + 100)
    xs = sigma_points(c)
    ys = wl.NonlocalDirectNetwork(m).respond(xs)
    mean_yx = np.einsum("si,sj->ij", ys, xs) / len(xs)
    assert rel_err(mean_yx, np.linalg.solve(m, c)) < 1e-11


@pytest.mark.parametrize("seed", SEEDS)
def test_mean_flow_is_the_interneuron_induced_m_flow(seed):
    w = np.random.default_rng(seed).standard_normal((N, 2 * N))
    c = spd(seed + 100)
    inter = wl.InterneuronNetwork(w)
    m = np.asarray(inter.M)
    # d(W Wᵀ)/dt along the interneuron flow, by differentiating M(W)
    _, induced = jax.jvp(lambda w_: inter.with_weights(w_).M, (inter.weights,), (inter.flow(c),))
    control = wl.NonlocalDirectNetwork(m).flow(c)
    assert rel_err(control, induced) < 1e-11
    m_inv_c = np.linalg.solve(m, c)
    assert rel_err(control, m_inv_c + m_inv_c.T - 2 * m) < 1e-11
    # = −P_M(∇f(M)), the preconditioned gradient of chapter 7
    grad = wl.objective_gradient(m, c)
    assert rel_err(control, -wl.geometry.preconditioner(m, grad)) < 1e-11


def test_commuting_modes_are_the_interneuron_modes():
    m, lam, eps = np.array([0.3, 2.0, 9.0]), np.array([1.0, 0.5, 4.0]), 0.05
    assert np.array_equal(wl.NonlocalDirectNetwork.mode_rate(m, lam),
                          wl.InterneuronNetwork.mode_rate(m, lam))
    assert np.array_equal(wl.NonlocalDirectNetwork.mode_convergence_time(m, lam, eps),
                          theory.interneuron_convergence_time(m, lam, eps))
    # the flow itself, diagonal: dm/dt = 2(λ − m²)/m
    flow = np.diag(np.asarray(wl.NonlocalDirectNetwork(np.diag(m)).flow(np.diag(lam))))
    assert rel_err(flow, 2 * (lam - m**2) / m) < 1e-13


def test_integrated_flow_meets_the_interneuron_closed_form():
    lam = np.array([3.0, 1.0, 0.4])
    m0 = np.array([20.0, 0.1, 2.0])
    eps = 0.01
    net = wl.NonlocalDirectNetwork(np.diag(m0))
    t_flow = flows.convergence_time(net, np.diag(lam), eps)
    t_closed = float(np.max(theory.interneuron_convergence_time(m0, lam, eps)))
    assert abs(t_flow / t_closed - 1) < 1e-6
    # and not the direct network's time (the check can fail)
    assert abs(t_flow / float(np.max(theory.direct_convergence_time(m0, lam, eps))) - 1) > 0.1


def test_random_starts_where_the_direct_and_interneuron_networks_start():
    key = jax.random.key(3)
    w0 = wl.networks.random_factor(key, N, 2.0)
    for Net in (wl.DirectNetwork, wl.NonlocalDirectNetwork, wl.InterneuronNetwork):
        np.testing.assert_allclose(Net.random(key, N, 2.0).M, w0 @ w0.T, rtol=1e-13)


def test_online_sweep_of_the_control_whitens():
    c = spd(7, 3)
    nets = wl.online.initial_networks(wl.NonlocalDirectNetwork, 0, 3, np.array([0.5, 2.0]))
    tr = wl.online.sweep(nets, wl.data.GaussianStream(c), 0.05, 400, record_every=100, mean=True)
    assert not tr.diverged.any()
    assert np.all(tr.errors[:, -1] < 1e-6)
    assert np.all(tr.errors[:, 0] > 0.1)
