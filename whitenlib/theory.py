"""Closed forms for the commuting case: one eigenvalue m of M per input eigenvalue λ.

When M₀ shares the eigenvectors of C, M(t) keeps them and each eigenvalue
follows a scalar ODE (chapter 3):

* direct       (3.6)  dm/dt = λ/m² − 1
* interneuron  (3.7)  dm/dt = 2(λ − m²)/m,  i.e.  d(m²)/dt = 4(λ − m²)

The per-mode whitening error is e(m) = |λ/m² − 1|, and the convergence time
to tolerance ε is the first time e(m(t)) ≤ ε (chapter 4, theorems 4.1–4.2).

All functions are vectorized NumPy (they broadcast over their arguments) and
return float64 arrays.
"""

from __future__ import annotations

import numpy as np

from whitenlib.validation import check_positive_array, check_unit_interval


def _positive(name, v) -> np.ndarray:
    arr = np.asarray(v, dtype=np.float64)
    check_positive_array(name, arr)
    return arr


def mode_error(m, lam) -> np.ndarray:
    """Per-mode whitening error |λ/m² − 1|."""
    m, lam = _positive("m", m), _positive("lam", lam)
    return np.abs(lam / m**2 - 1.0)


def target_band(lam, eps):
    """The band of m where |λ/m² − 1| ≤ ε: [√(λ/(1+ε)), √(λ/(1−ε))]."""
    lam = _positive("lam", lam)
    check_unit_interval("eps", eps)
    eps = np.asarray(eps, dtype=np.float64)
    return np.sqrt(lam / (1.0 + eps)), np.sqrt(lam / (1.0 - eps))


# ---------------------------------------------------------------- direct network


def direct_mode_rate(m, lam) -> np.ndarray:
    """dm/dt = λ/m² − 1 for the direct network (commuting case), eq. (3.6)."""
    m, lam = _positive("m", m), _positive("lam", lam)
    return lam / m**2 - 1.0


def _direct_primitive(m, s):
    """F(m) with t(m) = F(m₀) − F(m), F(m) = m − (s/2) ln|(m + s)/(m − s)|, s = √λ."""
    return m - 0.5 * s * np.log(np.abs((m + s) / (m - s)))


def direct_time_to_reach(m0, m, lam) -> np.ndarray:
    """Exact time for the direct flow to go from m₀ to m (both on the same side of √λ), eq. (3.8).

    t = (m₀ − m) + (√λ/2) [ln|(m + √λ)/(m − √λ)| − ln|(m₀ + √λ)/(m₀ − √λ)|].
    """
    m0, m, lam = _positive("m0", m0), _positive("m", m), _positive("lam", lam)
    s = np.sqrt(lam)
    if np.any((m0 - s) * (m - s) <= 0) or np.any(np.abs(m - s) > np.abs(m0 - s)):
        raise ValueError(
            "m must lie between m0 and sqrt(lam), strictly on m0's side of sqrt(lam): "
            "the flow never crosses its fixed point."
        )
    return _direct_primitive(m0, s) - _direct_primitive(m, s)


def direct_convergence_time(m0, lam, eps) -> np.ndarray:
    """Exact time until |λ/m² − 1| ≤ ε under dm/dt = λ/m² − 1, from m₀ (theorem 4.1).

    Zero when m₀ is already within ε; otherwise the time to reach the nearer
    edge of the band, √(λ/(1−ε)) from above or √(λ/(1+ε)) from below.
    """
    m0, lam = np.broadcast_arrays(_positive("m0", m0), _positive("lam", lam))
    check_unit_interval("eps", eps)
    lo, hi = target_band(lam, eps)
    edge = np.where(m0 > hi, hi, np.where(m0 < lo, lo, m0))
    inside = (m0 >= lo) & (m0 <= hi)
    s = np.sqrt(lam)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = _direct_primitive(m0, s) - _direct_primitive(edge, s)
    return np.where(inside, 0.0, t)


def direct_convergence_time_asymptotic(m0, lam, eps) -> np.ndarray:
    """Large-m₀ asymptote T ≈ m₀ − √λ + (√λ/2) ln(4/ε) (corollary 4.3)."""
    m0, lam = _positive("m0", m0), _positive("lam", lam)
    check_unit_interval("eps", eps)
    s = np.sqrt(lam)
    return m0 - s + 0.5 * s * np.log(4.0 / np.asarray(eps, dtype=np.float64))


def direct_mode_trajectory(m0, lam, t) -> np.ndarray:
    """m(t) of the direct flow from m₀, by bisection on the exact t(m) (monotone), eq. (3.8).

    Broadcasts over m₀, λ and t; accurate to machine precision in m.
    """
    m0, lam = _positive("m0", m0), _positive("lam", lam)
    t = np.asarray(t, dtype=np.float64)
    if np.any(t < 0) or not np.all(np.isfinite(t)):
        raise ValueError("t must be finite and non-negative.")
    m0, lam, t = np.broadcast_arrays(m0, lam, t)
    s = np.sqrt(lam)
    # m stays strictly between m0 and s; bracket in u = |m - s|, on a log scale.
    above = m0 > s
    sign = np.where(above, 1.0, -1.0)
    u0 = np.abs(m0 - s)
    lo = np.full_like(u0, -800.0)  # log u
    hi = np.log(np.maximum(u0, 1e-300))
    f0 = _direct_primitive(m0, s)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        m_mid = s + sign * np.exp(mid)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            t_mid = f0 - _direct_primitive(m_mid, s)
        # t(m) decreases as u grows: too early -> go closer to s
        go_closer = t_mid < t
        hi = np.where(go_closer, mid, hi)
        lo = np.where(go_closer, lo, mid)
    m = s + sign * np.exp(0.5 * (lo + hi))
    return np.where((u0 == 0) | (t == 0), m0, m)


# ----------------------------------------------------------- interneuron network


def interneuron_mode_rate(m, lam) -> np.ndarray:
    """dm/dt = 2(λ − m²)/m for the interneuron network (commuting case), eq. (3.7)."""
    m, lam = _positive("m", m), _positive("lam", lam)
    return 2.0 * (lam - m**2) / m


def interneuron_mode_trajectory(m0, lam, t) -> np.ndarray:
    """m(t) = √(λ + (m₀² − λ) e^{−4t}), eq. (3.9)."""
    m0, lam = _positive("m0", m0), _positive("lam", lam)
    t = np.asarray(t, dtype=np.float64)
    if np.any(t < 0) or not np.all(np.isfinite(t)):
        raise ValueError("t must be finite and non-negative.")
    return np.sqrt(lam + (m0**2 - lam) * np.exp(-4.0 * t))


def interneuron_convergence_time(m0, lam, eps) -> np.ndarray:
    """Exact time until |λ/m² − 1| ≤ ε under d(m²)/dt = 4(λ − m²) (theorem 4.2).

    With γ = m₀/√λ:  T = ¼ ln[(γ² − 1)(1 − ε)/ε] for γ² > 1/(1−ε),
    T = ¼ ln[(1 − γ²)(1 + ε)/ε] for γ² < 1/(1+ε), and 0 in between.
    """
    m0, lam = np.broadcast_arrays(_positive("m0", m0), _positive("lam", lam))
    check_unit_interval("eps", eps)
    eps = np.asarray(eps, dtype=np.float64)
    g2 = m0**2 / lam
    with np.errstate(divide="ignore", invalid="ignore"):
        above = 0.25 * np.log((g2 - 1.0) * (1.0 - eps) / eps)
        below = 0.25 * np.log((1.0 - g2) * (1.0 + eps) / eps)
    return np.where(g2 * (1 - eps) > 1.0, above, np.where(g2 * (1 + eps) < 1.0, below, 0.0))


def interneuron_convergence_time_asymptotic(m0, lam, eps) -> np.ndarray:
    """Large-γ asymptote T ≈ ½ ln γ + ¼ ln(1/ε) (corollary 4.4)."""
    m0, lam = _positive("m0", m0), _positive("lam", lam)
    check_unit_interval("eps", eps)
    return 0.5 * np.log(m0 / np.sqrt(lam)) + 0.25 * np.log(1.0 / np.asarray(eps, dtype=np.float64))
