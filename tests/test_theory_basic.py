"""Basic checks of whitenlib.theory against the networks and the ODEs it solves.

The mode functions are reached through each network class (``Net.mode_rate``,
``Net.mode_trajectory``, ``Net.mode_convergence_time``), so every class in
``wl.NETWORKS`` is checked against its own synaptic flow.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import whitenlib as wl
from whitenlib import theory

NETS = [pytest.param(Net, id=Net.__name__) for Net in wl.NETWORKS]
LAM = np.array([0.5, 1.0, 2.0, 5.0])
M0 = np.array([3.0, 0.2, 1.9, 40.0])  # above, below, inside-ish, far above √λ
EPS = 0.1


@pytest.mark.parametrize("Net", NETS)
@pytest.mark.parametrize("seed", (0, 1))
def test_mode_rate_is_the_flow_restricted_to_commuting_matrices(Net, seed):
    q = np.asarray(wl.random_orthogonal(jax.random.key(seed), len(LAM)))
    m = np.random.default_rng(seed).uniform(0.3, 4.0, len(LAM))
    c = q @ np.diag(LAM) @ q.T
    net = Net.from_M(q @ np.diag(m) @ q.T)
    _, dm = jax.jvp(lambda w: net.with_weights(w).M, (net.weights,), (net.flow(c),))
    dm_eig = q.T @ np.asarray(dm) @ q
    # M keeps C's eigenvectors: dM/dt is diagonal in that basis, with the per-mode rates on it
    np.testing.assert_allclose(dm_eig - np.diag(np.diag(dm_eig)), 0, atol=1e-11)
    np.testing.assert_allclose(np.diag(dm_eig), Net.mode_rate(m, LAM), rtol=1e-11, atol=1e-12)


def test_mode_rates_closed_form():
    m = np.array([0.5, 1.0, 3.0])
    lam = np.array([1.0, 1.0, 4.0])
    np.testing.assert_allclose(theory.direct_mode_rate(m, lam), [3.0, 0.0, 4 / 9 - 1], rtol=1e-15)
    np.testing.assert_allclose(
        theory.interneuron_mode_rate(m, lam), [3.0, 0.0, -10 / 3], rtol=1e-15
    )
    np.testing.assert_allclose(theory.mode_error(m, lam), [3.0, 0.0, 5 / 9], rtol=1e-15)


@pytest.mark.parametrize("Net", NETS)
def test_mode_trajectory_solves_the_ode(Net):
    t = np.array([0.05, 0.3, 1.0, 2.5])[:, None]
    m0, lam = M0[None, :], LAM[None, :]
    m = Net.mode_trajectory(m0, lam, t)
    assert m.shape == (4, len(LAM))
    np.testing.assert_allclose(Net.mode_trajectory(M0, LAM, 0.0), M0, rtol=1e-15)
    h = 1e-5
    fd = (Net.mode_trajectory(m0, lam, t + h) - Net.mode_trajectory(m0, lam, t - h)) / (2 * h)
    rate = Net.mode_rate(m, lam)
    np.testing.assert_allclose(fd, rate, rtol=1e-6, atol=1e-6)
    # it moves monotonically towards √λ and gets there
    assert np.all(np.abs(m[1:] - np.sqrt(lam)) <= np.abs(m[:-1] - np.sqrt(lam)) + 1e-15)
    np.testing.assert_allclose(Net.mode_trajectory(M0, LAM, 200.0), np.sqrt(LAM), rtol=1e-9)


@pytest.mark.parametrize("Net", NETS)
def test_mode_trajectory_matches_the_network_flow(Net):
    # Euler steps of the matrix flow with a tiny step follow the closed-form trajectory
    lam, m0, t_end, steps = LAM[:3], M0[:3], 0.5, 2000
    c = np.diag(lam)
    net = Net.from_M(np.diag(m0))

    def euler(_, nt):
        return nt.with_weights(nt.weights + (t_end / steps) * nt.flow(jnp.asarray(c)))

    @jax.jit
    def run(net_):
        return jax.lax.fori_loop(0, steps, euler, net_)

    m_end = np.diag(np.asarray(run(net).M))
    np.testing.assert_allclose(m_end, Net.mode_trajectory(m0, lam, t_end), rtol=2e-3)


@pytest.mark.parametrize("Net", NETS)
@pytest.mark.parametrize("eps", (0.01, 0.1, 0.5))
def test_convergence_time_lands_on_the_band_edge(Net, eps):
    lo, hi = theory.target_band(LAM, eps)
    m0 = np.concatenate([3.0 * hi, 0.5 * lo, [100 * hi[0]]])
    lam = np.concatenate([LAM, LAM, LAM[:1]])
    T = Net.mode_convergence_time(m0, lam, eps)
    assert np.all(T > 0)
    error_at_T = theory.mode_error(Net.mode_trajectory(m0, lam, T), lam)
    np.testing.assert_allclose(error_at_T, eps, rtol=1e-9)
    # the first time: before T the error is still above eps
    assert np.all(theory.mode_error(Net.mode_trajectory(m0, lam, 0.999 * T), lam) > eps)


@pytest.mark.parametrize("Net", NETS)
def test_convergence_time_is_zero_inside_the_band(Net):
    lo, hi = theory.target_band(LAM, EPS)
    for m0 in (np.sqrt(LAM), 0.5 * (lo + hi), 0.99 * hi, 1.01 * lo):
        np.testing.assert_array_equal(Net.mode_convergence_time(m0, LAM, EPS), 0.0)
    for m0 in (lo, hi):  # on the edges: zero up to round-off in the band test
        np.testing.assert_allclose(Net.mode_convergence_time(m0, LAM, EPS), 0.0, atol=1e-12)
    assert np.all(theory.mode_error(lo, LAM) <= EPS * (1 + 1e-12))
    assert np.all(theory.mode_error(hi, LAM) <= EPS * (1 + 1e-12))


@pytest.mark.parametrize("Net", NETS)
@pytest.mark.parametrize("eps", (0.0, 1.0, -0.5, 2.0, np.nan))
def test_convergence_time_rejects_eps_outside_unit_interval(Net, eps):
    with pytest.raises(ValueError, match="eps"):
        Net.mode_convergence_time(2.0, 1.0, eps)


def test_direct_time_to_reach_inverts_the_trajectory():
    t = np.array([0.1, 1.0, 3.0])
    m = theory.direct_mode_trajectory(M0[0], LAM[0], t)
    np.testing.assert_allclose(theory.direct_time_to_reach(M0[0], m, LAM[0]), t, rtol=1e-9)
    with pytest.raises(ValueError, match="m must lie between m0"):
        theory.direct_time_to_reach(3.0, 0.5, 1.0)  # across the fixed point


def test_interneuron_closed_forms():
    # d(m²)/dt = 4(λ − m²): m(t)² − λ decays as e^{−4t}, and T depends on m₀, λ only via γ = m₀/√λ
    t = np.linspace(0, 2, 5)
    m = theory.interneuron_mode_trajectory(3.0, 2.0, t)
    np.testing.assert_allclose(m**2 - 2.0, 7.0 * np.exp(-4 * t), rtol=1e-12)
    g, eps = 7.0, 0.05
    T = theory.interneuron_convergence_time(g * np.sqrt(LAM), LAM, eps)
    np.testing.assert_allclose(T, 0.25 * np.log((g**2 - 1) * (1 - eps) / eps), rtol=1e-13)
    np.testing.assert_allclose(T, T[0], rtol=1e-13)


def test_asymptotic_times_approach_the_exact_ones():
    eps, s = 0.05, np.sqrt(LAM)
    r = np.sqrt(1 - eps)
    g = 1e6
    # direct: asymptote − exact = √λ [(1/r − 1) + ln(2/(1 + r)) + artanh(1/γ)] (linear in m₀ both)
    gap = theory.direct_convergence_time_asymptotic(
        g * s, LAM, eps
    ) - theory.direct_convergence_time(g * s, LAM, eps)
    expected = s * ((1 / r - 1) + np.log(2 / (1 + r)) + np.arctanh(1 / g))
    np.testing.assert_allclose(gap, expected, rtol=1e-8)
    # interneuron: asymptote − exact → −¼ ln(1 − ε)
    gap = theory.interneuron_convergence_time_asymptotic(
        g * s, LAM, eps
    ) - theory.interneuron_convergence_time(g * s, LAM, eps)
    np.testing.assert_allclose(gap, -0.25 * np.log(1 - eps), rtol=1e-6)
    # linear versus logarithmic growth in m₀
    m0 = np.array([100.0, 1000.0, 10000.0])
    assert np.all(np.diff(theory.direct_convergence_time(m0, 1.0, eps)) > 0.8 * np.diff(m0))
    np.testing.assert_allclose(
        np.diff(theory.interneuron_convergence_time(m0, 1.0, eps)), 0.5 * np.log(10), rtol=1e-3
    )
