"""Closed forms of the commuting case (whitenlib.theory) against independent computations.

Independent implementations: numerical quadrature of dt = dm / (dm/dt) (SciPy
``quad``) and numerical integration of the scalar mode ODEs (3.6)–(3.7) with
event detection (SciPy ``solve_ivp``). Property-based over five decades of
γ = m₀/√λ, λ and several decades of ε.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad, solve_ivp

import whitenlib as wl
from whitenlib import theory as th

# the scalar mode ODEs, written here independently of the library
RATES = {
    "direct": lambda m, lam: lam / m**2 - 1.0,
    "interneuron": lambda m, lam: 2.0 * (lam - m**2) / m,
}
TIMES = {"direct": th.direct_convergence_time, "interneuron": th.interneuron_convergence_time}
TRAJECTORIES = {"direct": th.direct_mode_trajectory, "interneuron": th.interneuron_mode_trajectory}

log_gamma = st.floats(-2.5, 2.5)  # five decades of m0/sqrt(lam)
log_lam = st.floats(-2.5, 2.5)  # five decades of lam
log_eps = st.floats(-5.0, math.log10(0.5))
kinds = st.sampled_from(["direct", "interneuron"])
SETTINGS = settings(max_examples=40, deadline=None)


def _band_edge(m0, lam, eps):
    lo, hi = math.sqrt(lam / (1 + eps)), math.sqrt(lam / (1 - eps))
    return hi if m0 > hi else lo if m0 < lo else None


def _quad_time(kind, m0, lam, eps):
    """T = ∫ dm / rate(m) from m0 to the band edge, by adaptive quadrature."""
    edge = _band_edge(m0, lam, eps)
    if edge is None:
        return 0.0
    value, _ = quad(
        lambda m: 1.0 / RATES[kind](m, lam), m0, edge, epsabs=0, epsrel=1e-12, limit=500
    )
    return value


def _ode_time(kind, m0, lam, eps):
    """First time |λ/m² − 1| ≤ ε for the scalar ODE, by DOP853 with an event."""
    if _band_edge(m0, lam, eps) is None:
        return 0.0

    def event(t, y):
        return abs(lam / y[0] ** 2 - 1.0) - eps

    event.terminal, event.direction = True, -1
    # natural time scale: sqrt(lam) for the direct flow, 1 for the interneuron flow
    horizon = 10 * (m0 + math.sqrt(lam) * (2 + math.log(4 / eps))) + 10 * (2 + math.log(1 / eps))
    sol = solve_ivp(lambda t, y: RATES[kind](y, lam), (0, horizon), [m0], method="DOP853",
                    rtol=1e-12, atol=1e-14 * math.sqrt(lam), events=event)
    assert sol.status == 1, sol.message
    return float(sol.t_events[0][0])


@SETTINGS
@given(kind=kinds, lg=log_gamma, ll=log_lam, le=log_eps)
def test_convergence_time_matches_quadrature(kind, lg, ll, le):
    lam, eps = 10.0**ll, 10.0**le
    m0 = 10.0**lg * math.sqrt(lam)
    exact = float(TIMES[kind](m0, lam, eps))
    ref = _quad_time(kind, m0, lam, eps)
    assert exact >= 0
    assert exact == pytest.approx(ref, rel=1e-6, abs=1e-12 * max(1.0, math.sqrt(lam)))


@SETTINGS
@given(kind=kinds, lg=log_gamma, ll=log_lam, le=log_eps)
def test_convergence_time_matches_scalar_ode(kind, lg, ll, le):
    lam, eps = 10.0**ll, 10.0**le
    m0 = 10.0**lg * math.sqrt(lam)
    exact = float(TIMES[kind](m0, lam, eps))
    assert exact == pytest.approx(_ode_time(kind, m0, lam, eps), rel=1e-6, abs=1e-9)


@SETTINGS
@given(kind=kinds, lg=log_gamma, ll=log_lam, lt=st.floats(-3.0, 1.5))
def test_trajectory_matches_scalar_ode(kind, lg, ll, lt):
    lam = 10.0**ll
    m0 = 10.0**lg * math.sqrt(lam)
    scale = math.sqrt(lam) if kind == "direct" else 1.0  # the flow's own time unit
    t = 10.0**lt * scale
    m = float(TRAJECTORIES[kind](m0, lam, t))
    sol = solve_ivp(lambda s, y: RATES[kind](y, lam), (0, t), [m0], method="DOP853",
                    rtol=1e-12, atol=1e-14 * math.sqrt(lam))
    assert m == pytest.approx(sol.y[0, -1], rel=1e-8)
    # the trajectory never crosses the fixed point and moves towards it
    assert (m - math.sqrt(lam)) * (m0 - math.sqrt(lam)) >= 0
    assert abs(m - math.sqrt(lam)) <= abs(m0 - math.sqrt(lam))


@SETTINGS
@given(lg=log_gamma, ll=log_lam, lt=st.floats(-4.0, 1.0))
def test_direct_trajectory_inverts_time_to_reach(lg, ll, lt):
    lam = 10.0**ll
    s = math.sqrt(lam)
    m0 = 10.0**lg * s
    t = 10.0**lt * s
    m = float(th.direct_mode_trajectory(m0, lam, t))
    if abs(m - s) > 1e-6 * s and m != m0:  # t(m) is well conditioned there
        assert float(th.direct_time_to_reach(m0, m, lam)) == pytest.approx(t, rel=1e-7)


def test_trajectories_are_vectorized_and_start_at_m0():
    m0 = np.array([[0.1], [0.9], [1.0], [3.0], [1e3]])
    t = np.linspace(0, 5, 7)
    for traj in TRAJECTORIES.values():
        m = traj(m0, 1.0, t)
        assert m.shape == (5, 7)
        np.testing.assert_array_equal(m[:, 0], m0[:, 0])
        np.testing.assert_allclose(m[2], 1.0)  # the fixed point stays put
        assert np.all(np.diff(np.abs(m - 1.0), axis=1) <= 1e-15)


def test_rates_are_derivatives_of_trajectories():
    m0, lam = np.array([0.2, 0.7, 2.0, 50.0]), np.array([0.5, 1.0, 3.0, 2.0])
    t, h = 0.3, 1e-6
    for kind, traj in TRAJECTORIES.items():
        numeric = (traj(m0, lam, t + h) - traj(m0, lam, t - h)) / (2 * h)
        rate = RATES[kind](traj(m0, lam, t), lam)
        np.testing.assert_allclose(numeric, rate, rtol=1e-6)
    np.testing.assert_allclose(th.direct_mode_rate(m0, lam), RATES["direct"](m0, lam))
    np.testing.assert_allclose(th.interneuron_mode_rate(m0, lam), RATES["interneuron"](m0, lam))


@SETTINGS
@given(lg=st.floats(0.05, 4.0), ll=log_lam, le=st.floats(-5.0, math.log10(0.25)))
def test_direct_asymptote_within_its_bound(lg, ll, le):
    lam, eps = 10.0**ll, 10.0**le
    s = math.sqrt(lam)
    m0 = 10.0**lg * s
    if m0 <= math.sqrt(lam / (1 - eps)):
        return
    exact = float(th.direct_convergence_time(m0, lam, eps))
    approx = float(th.direct_convergence_time_asymptotic(m0, lam, eps))
    bound = float(th.direct_asymptotic_error_bound(m0, lam, eps))
    # the exact difference of corollary 4.1
    r, g = math.sqrt(1 - eps), m0 / s
    gap = s * ((1 / r - 1) + math.log(2 / (1 + r)) + math.atanh(1 / g))
    assert approx - exact == pytest.approx(gap, rel=1e-6, abs=1e-9 * max(1.0, m0))
    assert -1e-9 * max(1.0, m0) <= approx - exact <= bound * (1 + 1e-9) + 1e-9 * max(1.0, m0)


@SETTINGS
@given(lg=st.floats(0.05, 4.0), ll=log_lam, le=st.floats(-5.0, math.log10(0.9)))
def test_interneuron_asymptote_within_its_bound(lg, ll, le):
    lam, eps = 10.0**ll, 10.0**le
    m0 = 10.0**lg * math.sqrt(lam)
    if m0 <= math.sqrt(lam / (1 - eps)):
        return
    exact = float(th.interneuron_convergence_time(m0, lam, eps))
    approx = float(th.interneuron_convergence_time_asymptotic(m0, lam, eps))
    bound = float(th.interneuron_asymptotic_error_bound(m0, lam, eps))
    g2 = m0**2 / lam
    gap = -0.25 * math.log1p(-1 / g2) - 0.25 * math.log1p(-eps)
    assert approx - exact == pytest.approx(gap, rel=1e-6, abs=1e-12)
    assert -1e-12 <= approx - exact <= bound * (1 + 1e-9) + 1e-12


def test_asymptotes_scale_as_stated():
    """Linear in m0 (direct, slope 1) and ½ ln γ (interneuron), with vanishing relative error."""
    lam, eps = 2.0, 1e-2
    m0 = np.sqrt(lam) * np.logspace(2, 6, 5)
    td = th.direct_convergence_time(m0, lam, eps)
    ti = th.interneuron_convergence_time(m0, lam, eps)
    np.testing.assert_allclose(np.diff(td) / np.diff(m0), 1.0, rtol=1e-3)
    np.testing.assert_allclose(np.diff(ti) / np.diff(0.5 * np.log(m0)), 1.0, rtol=1e-3)


@SETTINGS
@given(kind=kinds, lg=log_gamma, ll1=log_lam, ll2=log_lam, le=log_eps)
def test_scale_invariance(kind, lg, ll1, ll2, le):
    """Interneuron time depends on γ only; direct time is √λ × a function of γ."""
    eps = 10.0**le
    t1 = float(TIMES[kind](10.0**lg * 10.0 ** (ll1 / 2), 10.0**ll1, eps))
    t2 = float(TIMES[kind](10.0**lg * 10.0 ** (ll2 / 2), 10.0**ll2, eps))
    if kind == "direct":
        t1, t2 = t1 / 10.0 ** (ll1 / 2), t2 / 10.0 ** (ll2 / 2)
    assert t1 == pytest.approx(t2, rel=1e-9, abs=1e-12)


def test_below_target_times_are_bounded_by_their_limits():
    """From below (γ < 1) both times stay under their γ → 0 limits."""
    lam, eps = 3.0, 1e-3
    s = math.sqrt(lam)
    m0 = s * np.logspace(-8, math.log10(0.99), 50)
    lo = math.sqrt(lam / (1 + eps))
    direct_limit = s * math.atanh(lo / s) - lo
    inter_limit = 0.25 * math.log((1 + eps) / eps)
    td = th.direct_convergence_time(m0, lam, eps)
    ti = th.interneuron_convergence_time(m0, lam, eps)
    assert np.all(td <= direct_limit + 1e-12) and np.all(np.diff(td) <= 1e-12)
    assert np.all(ti <= inter_limit + 1e-12) and np.all(np.diff(ti) <= 1e-12)
    assert td[0] == pytest.approx(direct_limit, rel=1e-6)
    assert ti[0] == pytest.approx(inter_limit, rel=1e-6)


def test_zero_inside_band_and_band_edges():
    lam, eps = 4.0, 0.1
    lo, hi = th.target_band(lam, eps)
    assert th.mode_error(lo, lam) == pytest.approx(eps)
    assert th.mode_error(hi, lam) == pytest.approx(eps)
    inside = np.linspace(lo, hi, 9)
    for times in TIMES.values():
        np.testing.assert_array_equal(times(inside, lam, eps), 0.0)
        assert np.all(times(np.array([0.9 * lo, 1.1 * hi]), lam, eps) > 0)


def test_time_to_reach_is_additive():
    lam = 2.0
    for reach in (th.direct_time_to_reach, th.interneuron_time_to_reach):
        for a, b, c in [(10.0, 3.0, 1.5), (0.1, 0.8, 1.3)]:
            total = float(reach(a, b, lam) + reach(b, c, lam))
            assert total == pytest.approx(float(reach(a, c, lam)), rel=1e-12)
            assert float(reach(a, a, lam)) == 0.0


def test_network_classes_expose_the_closed_forms():
    assert wl.DirectNetwork.mode_rate is th.direct_mode_rate
    assert wl.DirectNetwork.mode_convergence_time is th.direct_convergence_time
    assert wl.InterneuronNetwork.mode_rate is th.interneuron_mode_rate
    assert wl.InterneuronNetwork.mode_convergence_time is th.interneuron_convergence_time
    for Net in wl.NETWORKS:
        t = Net.mode_convergence_time(np.array([5.0, 50.0]), 1.0, 0.01)
        assert t.shape == (2,) and np.all(np.isfinite(t))


@pytest.mark.parametrize(
    "call",
    [
        lambda: th.direct_convergence_time(1.0, 1.0, 0.0),
        lambda: th.interneuron_convergence_time(1.0, 1.0, 1.0),
        lambda: th.direct_convergence_time(-1.0, 1.0, 0.1),
        lambda: th.interneuron_convergence_time(1.0, np.nan, 0.1),
        lambda: th.direct_mode_trajectory(2.0, 1.0, -1.0),
        lambda: th.interneuron_mode_trajectory(2.0, 1.0, np.inf),
        lambda: th.direct_time_to_reach(2.0, 0.5, 1.0),  # crosses the fixed point
        lambda: th.interneuron_time_to_reach(2.0, 3.0, 1.0),  # moves away from it
        lambda: th.target_band(1.0, 1.5),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_commuting_modes_closed_time_and_trajectories():
    rng = np.random.default_rng(18)
    q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    lam = np.array([0.5, 1.0, 2.0, 4.0])
    m0 = np.array([3.0, 0.2, 1.0, 40.0]) * np.sqrt(lam)  # one mode already at its target
    C, M0 = (q * lam) @ q.T, (q * m0) @ q.T
    m, lam_m = th.commuting_modes(M0, C)
    order = np.argsort(lam_m)
    np.testing.assert_allclose(lam_m[order], lam, rtol=1e-12)
    np.testing.assert_allclose(m[order], m0, rtol=1e-12)
    # the matrix time is the slowest mode's, here the one started 40 times too large
    t_dir = th.closed_form_convergence_time(wl.DirectNetwork, M0, C, 0.1)
    assert t_dir == pytest.approx(float(th.direct_convergence_time(m0[3], lam[3], 0.1)), rel=1e-12)
    t = np.linspace(0.0, 2.0, 5)
    traj = th.mode_trajectories(wl.InterneuronNetwork, M0, C, t)
    assert traj.shape == (5, 4)
    np.testing.assert_allclose(traj[:, order], th.interneuron_mode_trajectory(m0, lam, t[:, None]),
                               rtol=1e-12)
    with pytest.raises(ValueError, match="commute"):
        th.commuting_modes(M0 + np.diag([0.0, 0.0, 0.0, 1.0]), C)
