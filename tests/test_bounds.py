"""Bounds on convergence times from every start (whitenlib.theory, chapter 4 and appendix).

The inequalities of the proofs are checked on random non-commuting matrices with
quantities computed here from their definitions, and the time bounds against
convergence times of the integrated flows (SciPy, one flow at a time) and against
the exact closed forms of the commuting case.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad, solve_ivp

import whitenlib as wl
from whitenlib import theory as th


def _sym_power(a, p):
    lam, q = np.linalg.eigh(a)
    return (q * lam**p) @ q.T


def _random_problem(rng, n, kappa_max=1e3, log_gamma=(-2.0, 2.0), k=None):
    """A covariance with condition number up to kappa_max in a random basis, and W0 (n, k)."""
    k = 2 * n if k is None else k
    lam = np.exp(rng.uniform(0.0, np.log(kappa_max), n)) * 10 ** rng.uniform(-1, 1)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    C = (q * lam) @ q.T
    W = rng.standard_normal((n, k)) * np.sqrt(10 ** rng.uniform(*log_gamma) / k)
    return C, W


def test_gap_inequalities_on_random_matrices():
    rng = np.random.default_rng(0)
    for _ in range(400):
        n = int(rng.integers(1, 7))
        C, W = _random_problem(rng, n, log_gamma=(-3, 3))
        M = W @ W.T
        R, P = _sym_power(C, 0.5), np.linalg.inv(M)
        D, G = M - R, np.eye(n) - P @ C @ P
        V = th.objective_gap(M, C)
        f = np.trace(P @ C) + np.trace(M) - 2 * np.trace(R)
        assert V == pytest.approx(f, rel=1e-8, abs=1e-10)                       # item 1
        lam_M = np.linalg.eigvalsh(M)
        d2 = np.linalg.norm(D, 2)
        assert d2**2 <= lam_M[-1] * V * (1 + 1e-9)
        err = np.abs(np.linalg.eigvalsh(G)).max()                               # item 2
        delta = d2 / lam_M[0]
        assert err <= (2 * delta + delta**2) * (1 + 1e-9)
        u = np.linalg.eigvalsh(_sym_power(C, 0.25) @ P @ _sym_power(C, 0.25))[0]  # item 3
        assert np.trace(G @ M @ G) >= (1 + u) ** 2 * V * (1 - 1e-9)
        assert u >= 1 / (1 + d2 / np.sqrt(np.linalg.eigvalsh(C)[0])) * (1 - 1e-12)


def test_tolerance_radius_and_region():
    """||M - C^1/2|| <= eta sqrt(c_min) gives error <= eps; error <= eps gives the Loewner band."""
    rng = np.random.default_rng(1)
    for _ in range(300):
        n = int(rng.integers(1, 6))
        C, _ = _random_problem(rng, n, kappa_max=100)
        eps = 10 ** rng.uniform(-4, np.log10(0.9))
        eta = th.error_tolerance_radius(eps)
        R, c_min = _sym_power(C, 0.5), np.linalg.eigvalsh(C)[0]
        H = rng.standard_normal((n, n))
        H = (H + H.T) / 2
        M = R + eta * np.sqrt(c_min) * rng.uniform(0, 1) * H / np.linalg.norm(H, 2)
        Pm = np.linalg.inv(M)
        err = np.abs(np.linalg.eigvalsh(Pm @ C @ Pm - np.eye(n))).max()
        assert err <= eps * (1 + 1e-9)
        # lemma lem-tolerance-region: C^1/2/sqrt(1+eps) <= M <= C^1/2/sqrt(1-eps)
        assert np.linalg.eigvalsh(R / np.sqrt(1 - err) - M)[0] >= -1e-10
        assert np.linalg.eigvalsh(M - R / np.sqrt(1 + err))[0] >= -1e-10


def test_local_phase_time_is_the_scalar_ode_time():
    rng = np.random.default_rng(2)
    for _ in range(20):
        z1, z2 = 10 ** rng.uniform(-1, 3), 10 ** rng.uniform(-5, -1)
        ref = quad(lambda z: (1 + z) ** 2 / (z * (z + 2) ** 2), z2, z1, epsrel=1e-12, limit=200)[0]
        assert th.local_phase_time(z1, z2) == pytest.approx(ref, rel=1e-9)
    sol = solve_ivp(lambda t, z: -z * (1 + 1 / (1 + z)) ** 2, (0, 50), [300.0], rtol=1e-12,
                    atol=1e-14, events=lambda t, z: z[0] - 1e-3)
    assert th.local_phase_time(300.0, 1e-3) == pytest.approx(sol.t_events[0][0], rel=1e-8)
    assert th.local_phase_time(1e-4, 1e-3) == 0.0


def test_bounds_against_commuting_closed_forms():
    """For commuting M0 the exact time is the slowest mode's: every bound must bracket it."""
    rng = np.random.default_rng(3)
    for _ in range(300):
        n = int(rng.integers(1, 9))
        lam = np.exp(rng.uniform(0, np.log(1e3), n)) * 10 ** rng.uniform(-1, 1)
        q, _ = np.linalg.qr(rng.standard_normal((n, n)))
        m0 = np.sqrt(lam) * 10 ** rng.uniform(-3, 3, n)
        C, M0 = (q * lam) @ q.T, (q * m0) @ q.T
        eps = 10 ** rng.uniform(-4, np.log10(0.5))
        T_dir = th.direct_convergence_time(m0, lam, eps).max()
        T_int = th.interneuron_convergence_time(m0, lam, eps).max()
        assert th.direct_time_lower_bound(M0, C, eps) <= T_dir * (1 + 1e-9) + 1e-12
        assert T_dir <= th.direct_time_upper_bound(M0, C, eps)
        assert th.interneuron_time_lower_bound(M0, C, eps) <= T_int + 1e-12
        assert T_int <= th.interneuron_time_upper_bound(M0, C, eps)


@pytest.mark.parametrize("Net", wl.NETWORKS, ids=lambda c: c.__name__)
def test_bounds_against_integrated_flows(Net):
    rng = np.random.default_rng(4)
    eps = 0.01
    for i in range(4):
        C, W = _random_problem(rng, 2 + i % 2, kappa_max=1e3, log_gamma=(-2, 2))
        M0 = W @ W.T
        net = wl.InterneuronNetwork(W) if Net is wl.InterneuronNetwork else wl.DirectNetwork(M0)
        T = wl.convergence_time(net, C, eps, method="LSODA")
        if Net is wl.DirectNetwork:
            lo, hi = th.direct_time_lower_bound(M0, C, eps), th.direct_time_upper_bound(M0, C, eps)
        else:
            lo, hi = (th.interneuron_time_lower_bound(M0, C, eps),
                      th.interneuron_time_upper_bound(M0, C, eps))
        assert lo <= T * (1 + 1e-6) and T <= hi


def test_interneuron_envelopes_and_gap_decay_along_a_trajectory():
    rng = np.random.default_rng(5)
    C, W = _random_problem(rng, 4, kappa_max=1e3, log_gamma=(1.5, 2.5))
    t = np.linspace(0, 3, 61)
    sol = wl.integrate_flow(wl.InterneuronNetwork(W), C, t_max=3.0, t_eval=t)
    lam = np.linalg.eigvalsh(sol.M)
    lo_max, hi_max, lo_min, hi_min = th.interneuron_envelopes(sol.M[0], C, t)
    tol = 1e-8 * hi_max.max()
    assert np.all(lam[:, -1] ** 2 <= hi_max + tol) and np.all(lam[:, -1] ** 2 >= lo_max - tol)
    assert np.all(lam[:, 0] ** 2 <= hi_min + tol) and np.all(lam[:, 0] ** 2 >= lo_min - tol)
    gap = th.objective_gap(sol.M, np.broadcast_to(C, sol.M.shape))
    assert np.all(gap <= gap[0] * np.exp(-2 * t) * (1 + 1e-8))
    # the envelope is not vacuous: the top eigenvalue comes down by orders of magnitude
    assert lam[0, -1] / lam[-1, -1] > 10


def test_leading_terms():
    """Direct: T - lambda_max(M0) bounded both ways; interneurons: T - ln(lambda_max)/2 bounded."""
    rng = np.random.default_rng(6)
    C, W = _random_problem(rng, 5, kappa_max=100)
    A = W @ W.T
    gammas = np.logspace(2, 8, 7)
    M0 = gammas[:, None, None] * A
    top = gammas * np.linalg.eigvalsh(A)[-1]
    d_lo, d_hi = th.direct_time_lower_bound(M0, C, 0.01), th.direct_time_upper_bound(M0, C, 0.01)
    assert np.ptp(d_hi - top) < 1e-3 * top[0] and np.all(d_lo <= top) and np.all(d_lo > top - 10)
    i_lo = th.interneuron_time_lower_bound(M0, C, 0.01)
    i_hi = th.interneuron_time_upper_bound(M0, C, 0.01)
    assert np.allclose(np.diff(i_lo), 0.5 * np.log(10), rtol=1e-6)
    assert np.allclose(np.diff(i_hi), 0.5 * np.log(10), rtol=1e-3)


def test_bad_input_is_rejected():
    C = np.eye(2)
    with pytest.raises(ValueError, match="M0 must be positive definite"):
        th.direct_time_upper_bound(np.diag([1.0, -1.0]), C, 0.1)
    with pytest.raises(ValueError, match="same size"):
        th.interneuron_time_upper_bound(np.eye(3), C, 0.1)
    with pytest.raises(ValueError, match="symmetric"):
        th.objective_gap(np.array([[1.0, 0.5], [0.0, 1.0]]), C)
    with pytest.raises(ValueError, match="eps"):
        th.interneuron_time_lower_bound(np.eye(2), C, 1.5)
    with pytest.raises(ValueError, match="C contains NaN"):
        th.direct_time_lower_bound(np.eye(2), np.full((2, 2), np.nan), 0.1)
