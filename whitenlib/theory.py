"""Closed forms for the commuting case: one eigenvalue m of M per input eigenvalue λ.

When M₀ shares the eigenvectors of C, M(t) keeps them and each eigenvalue
follows a scalar ODE (chapter 3):

* direct       (3.6)  dm/dt = λ/m² − 1
* interneuron  (3.7)  dm/dt = 2(λ − m²)/m,  i.e.  d(m²)/dt = 4(λ − m²)

solved by

* direct       (3.8)  t(m) = (m₀ − m) + √λ [artanh_λ(m) − artanh_λ(m₀)],
                      artanh_λ(m) = ½ ln|(m + √λ)/(m − √λ)|
* interneuron  (3.9)  m(t)² = λ + (m₀² − λ) e^{−4t}

:func:`commuting_modes` reads the joint eigenvalues (m₀, λ) off a commuting
pair (M₀, C); :func:`closed_form_convergence_time` and :func:`mode_trajectories`
apply a network class's per-mode closed form (its ``mode_convergence_time``,
``mode_trajectory``) to every mode.

The per-mode whitening error is ``e(m) = |λ/m² − 1|``, and the convergence time
to tolerance ε is the first time e(m(t)) ≤ ε (chapter 4: theorems 4.1–4.2,
corollaries 4.1–4.2). The large-γ asymptotes come with explicit error bounds
(``*_asymptotic_error_bound``), γ = m₀/√λ.

All functions are vectorized NumPy (they broadcast over their arguments) and
return float64 arrays. The expressions are written so that no two large
numbers are subtracted: relative accuracy is close to machine precision over
many decades of m₀, λ and ε.
"""

from __future__ import annotations

import numpy as np

from whitenlib.linalg import symmetrize
from whitenlib.validation import (
    as_array,
    check_positive_array,
    check_real,
    check_spd,
    check_unit_interval,
)


def _positive(name, v) -> np.ndarray:
    check_positive_array(name, v)
    return np.asarray(v, dtype=np.float64)


def _eps(eps) -> np.ndarray:
    check_unit_interval("eps", eps)
    return np.asarray(eps, dtype=np.float64)


def _times(t) -> np.ndarray:
    check_real("t", t)
    t = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError("t must be finite and non-negative.")
    return t


def mode_error(m, lam) -> np.ndarray:
    """Per-mode whitening error ``|λ/m² − 1|`` (the commuting-case form of eq. (1.7))."""
    m, lam = _positive("m", m), _positive("lam", lam)
    return np.abs(lam / m**2 - 1.0)


def target_band(lam, eps):
    """The band ``|λ/m² − 1| ≤ ε`` of eq. (4.1): its edges (√(λ/(1+ε)), √(λ/(1−ε)))."""
    lam = _positive("lam", lam)
    eps = _eps(eps)
    return np.sqrt(lam / (1.0 + eps)), np.sqrt(lam / (1.0 - eps))


def _band_edge(m0, lam, eps):
    """The band edge that a trajectory from m₀ meets first, and whether m₀ is inside."""
    lo, hi = target_band(lam, eps)
    inside = (m0 >= lo) & (m0 <= hi)
    edge = np.where(m0 > hi, hi, np.where(m0 < lo, lo, m0))
    return edge, inside


# ---------------------------------------------------------------- direct network


def direct_mode_rate(m, lam) -> np.ndarray:
    """dm/dt = λ/m² − 1 for the direct network (commuting case), eq. (3.6)."""
    m, lam = _positive("m", m), _positive("lam", lam)
    return lam / m**2 - 1.0


def _direct_time(m0, m, s):
    """t(m₀ → m) of eq. (3.8) for m between m₀ and s = √λ (same side), without cancellation.

    Uses artanh_λ(m) − artanh_λ(m₀) = ``artanh(s |m₀ − m| / |m m₀ − s²|)``, valid on
    either side of s; both terms of t are then computed directly.
    """
    d = m0 - m
    with np.errstate(divide="ignore", invalid="ignore"):
        q = s * np.abs(d) / np.abs(m * m0 - s**2)
        return d + s * np.arctanh(np.minimum(q, 1.0))


def direct_time_to_reach(m0, m, lam) -> np.ndarray:
    """Exact time for the direct flow to go from m₀ to m, eq. (3.8).

    t = (m₀ − m) + (√λ/2) [ln|(m + √λ)/(m − √λ)| − ln|(m₀ + √λ)/(m₀ − √λ)|],
    for m between m₀ and √λ (the flow never crosses its fixed point √λ).

    Parameters
    ----------
    m0, m, lam : array_like
        Positive; broadcast together.
    """
    m0, m, lam = _positive("m0", m0), _positive("m", m), _positive("lam", lam)
    s = np.sqrt(lam)
    if np.any(((m0 - s) * (m - s) <= 0) & (m != m0)) or np.any(np.abs(m - s) > np.abs(m0 - s)):
        raise ValueError(
            "m must lie between m0 and sqrt(lam), strictly on m0's side of sqrt(lam): "
            "the flow never crosses its fixed point."
        )
    return np.where(m == m0, 0.0, _direct_time(m0, m, s))


def direct_convergence_time(m0, lam, eps) -> np.ndarray:
    """Exact time until ``|λ/m² − 1| ≤ ε`` under dm/dt = λ/m² − 1, from m₀ (theorem 4.1).

    Zero when m₀ is already within ε; otherwise the time (3.8) to reach the
    nearer edge of the band: √(λ/(1−ε)) from above, √(λ/(1+ε)) from below.

    Parameters
    ----------
    m0, lam : array_like
        Initial eigenvalue of M and eigenvalue of C (positive); broadcast.
    eps : float or array_like
        Tolerance in (0, 1).
    """
    m0, lam = _positive("m0", m0), _positive("lam", lam)
    eps = _eps(eps)
    m0, lam, eps = np.broadcast_arrays(m0, lam, eps)
    edge, inside = _band_edge(m0, lam, eps)
    t = _direct_time(m0, edge, np.sqrt(lam))
    return np.where(inside, 0.0, t)


def direct_convergence_time_asymptotic(m0, lam, eps) -> np.ndarray:
    """Large-m₀ asymptote T ≈ m₀ − √λ + (√λ/2) ln(4/ε) (corollary 4.1).

    It over-estimates the exact time by at most
    :func:`direct_asymptotic_error_bound`.
    """
    m0, lam = _positive("m0", m0), _positive("lam", lam)
    eps = _eps(eps)
    s = np.sqrt(lam)
    return m0 - s + 0.5 * s * np.log(4.0 / eps)


def direct_asymptotic_error_bound(m0, lam, eps) -> np.ndarray:
    """Bound on asymptote − exact time, direct network (corollary 4.1), for m₀ above the band.

    With γ = m₀/√λ and r = √(1 − ε), the difference is exactly
    √λ [(1/r − 1) + ln(2/(1 + r)) + artanh(1/γ)] ≥ 0, and this is at most
    √λ [ε/(r(1 + r)) + ε/(1 + r)² + γ/(γ² − 1)], the value returned.
    """
    m0, lam = _positive("m0", m0), _positive("lam", lam)
    eps = _eps(eps)
    s = np.sqrt(lam)
    g = m0 / s
    r = np.sqrt(1.0 - eps)
    with np.errstate(divide="ignore"):
        return s * (eps / (r * (1.0 + r)) + eps / (1.0 + r) ** 2 + g / (g**2 - 1.0))


def direct_mode_trajectory(m0, lam, t) -> np.ndarray:
    """m(t) of the direct flow from m₀: the exact inversion of t(m), eq. (3.8).

    t(m) is monotone in ℓ = ln|m − √λ|, and in that variable the logarithm of
    (3.8) is exact even when m is within round-off of √λ; bisection on ℓ
    (vectorized, 120 halvings) then resolves m to machine precision for every
    t ≥ 0. Broadcasts over m₀, λ and t.
    """
    m0, lam, t = _positive("m0", m0), _positive("lam", lam), _times(t)
    m0, lam, t = np.broadcast_arrays(m0, lam, t)
    s = np.sqrt(lam)
    sign = np.where(m0 >= s, 1.0, -1.0)
    u0 = np.abs(m0 - s)
    at_target = u0 == 0
    u0 = np.where(at_target, 1.0, u0)  # placeholder; those entries return m₀
    hi = np.log(u0)  # ℓ at t = 0
    # t(ℓ) = (m₀ − m) + (s/2)[ln(m + s) − ℓ − ln|(m₀ + s)/(m₀ − s)|],  m = s + sign e^ℓ
    c0 = np.log((m0 + s) / u0)

    def t_of(ell):
        m = s + sign * np.exp(ell)
        return (m0 - m) + 0.5 * s * (np.log(m + s) - ell - c0)

    # lower end of the bracket: for m between m₀ and s, t(ℓ) ≥ −u₀ + (s/2)(ln s − ℓ − c0),
    # which exceeds t once ℓ ≤ ln u₀ + ln(s/(m₀ + s)) − 2(t + u₀)/s.
    lo = hi + np.log(s / (m0 + s)) - 2.0 * (t + u0) / s - 1.0
    for _ in range(120):
        mid = 0.5 * (lo + hi)
        late = t_of(mid) < t  # not yet at time t: the solution is closer to s
        hi = np.where(late, mid, hi)
        lo = np.where(late, lo, mid)
    m = s + sign * np.exp(0.5 * (lo + hi))
    return np.where(at_target | (t == 0), m0, m)


# ----------------------------------------------------------- interneuron network


def interneuron_mode_rate(m, lam) -> np.ndarray:
    """dm/dt = 2(λ − m²)/m for the interneuron network (commuting case), eq. (3.7)."""
    m, lam = _positive("m", m), _positive("lam", lam)
    return 2.0 * (lam - m**2) / m


def interneuron_mode_trajectory(m0, lam, t) -> np.ndarray:
    """m(t) = √(λ + (m₀² − λ) e^{−4t}), eq. (3.9)."""
    m0, lam, t = _positive("m0", m0), _positive("lam", lam), _times(t)
    m0, lam, t = np.broadcast_arrays(m0, lam, t)
    return np.where(t == 0, m0, np.sqrt(lam + (m0**2 - lam) * np.exp(-4.0 * t)))


def interneuron_time_to_reach(m0, m, lam) -> np.ndarray:
    """Exact time of the interneuron flow from m₀ to m, t = ¼ ln[(m₀² − λ)/(m² − λ)], eq. (3.9)."""
    m0, m, lam = _positive("m0", m0), _positive("m", m), _positive("lam", lam)
    a, b = m0**2 - lam, m**2 - lam
    if np.any((a * b <= 0) & (m != m0)) or np.any(np.abs(b) > np.abs(a)):
        raise ValueError(
            "m must lie between m0 and sqrt(lam), strictly on m0's side of sqrt(lam): "
            "the flow never crosses its fixed point."
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(m == m0, 0.0, 0.25 * np.log(a / b))


def interneuron_convergence_time(m0, lam, eps) -> np.ndarray:
    """Exact time until ``|λ/m² − 1| ≤ ε`` under d(m²)/dt = 4(λ − m²) (theorem 4.2).

    With γ = m₀/√λ:  T = ¼ ln[(γ² − 1)(1 − ε)/ε] for γ² > 1/(1−ε),
    T = ¼ ln[(1 − γ²)(1 + ε)/ε] for γ² < 1/(1+ε), and 0 in between.
    It depends on m₀ and λ only through γ.
    """
    m0, lam = _positive("m0", m0), _positive("lam", lam)
    eps = _eps(eps)
    m0, lam, eps = np.broadcast_arrays(m0, lam, eps)
    g2 = (m0 / np.sqrt(lam)) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        above = 0.25 * np.log((g2 - 1.0) * (1.0 - eps) / eps)
        below = 0.25 * np.log((1.0 - g2) * (1.0 + eps) / eps)
    return np.where(g2 * (1 - eps) > 1.0, above, np.where(g2 * (1 + eps) < 1.0, below, 0.0))


def interneuron_convergence_time_asymptotic(m0, lam, eps) -> np.ndarray:
    """Large-γ asymptote T ≈ ½ ln γ + ¼ ln(1/ε) (corollary 4.2).

    It over-estimates the exact time by at most
    :func:`interneuron_asymptotic_error_bound`.
    """
    m0, lam = _positive("m0", m0), _positive("lam", lam)
    eps = _eps(eps)
    return 0.5 * np.log(m0 / np.sqrt(lam)) + 0.25 * np.log(1.0 / eps)


def interneuron_asymptotic_error_bound(m0, lam, eps) -> np.ndarray:
    """Bound on asymptote − exact time for the interneuron network (corollary 4.2), γ² > 1/(1 − ε).

    The difference is exactly −¼ ln(1 − 1/γ²) − ¼ ln(1 − ε) ≥ 0, at most
    ¼ [1/(γ² − 1) + ε/(1 − ε)], the value returned.
    """
    m0, lam = _positive("m0", m0), _positive("lam", lam)
    eps = _eps(eps)
    g2 = (m0 / np.sqrt(lam)) ** 2
    with np.errstate(divide="ignore"):
        return 0.25 * (1.0 / (g2 - 1.0) + eps / (1.0 - eps))


# ------------------------------------------------------- matrices that commute with C


def commuting_modes(M, C, rtol: float = 1e-10):
    """Joint eigenvalues (m, λ) of commuting SPD matrices M and C, each of shape (n,).

    Raises ``ValueError`` when ‖MC − CM‖ > rtol ‖M‖ ‖C‖ (the matrices do not commute).
    """
    m = np.asarray(as_array("M", M, min_ndim=2))
    c = np.asarray(as_array("C", C, min_ndim=2))
    check_spd("M", m)
    check_spd("C", c)
    scale = np.linalg.norm(m) * np.linalg.norm(c)
    if np.linalg.norm(m @ c - c @ m) > rtol * scale:
        raise ValueError(
            "M and C must commute (share eigenvectors) for the closed forms of chapter 3."
        )
    # a generic combination has the joint eigenvectors and (generically) distinct eigenvalues
    combo = m / np.linalg.norm(m) + np.pi * c / np.linalg.norm(c)
    _, q = np.linalg.eigh(np.asarray(symmetrize(combo)))
    return np.einsum("ji,jk,ki->i", q, m, q), np.einsum("ji,jk,ki->i", q, c, q)


def closed_form_convergence_time(Net, M0, C, eps) -> float:
    """Exact convergence time of the flow from a commuting M₀: the largest of the mode times.

    The error ‖M⁻¹CM⁻¹ − I‖₂ is ``max_i |λ_i/m_i² − 1|`` and each mode error
    decreases monotonically, so the matrix first reaches ε when its slowest
    mode does (theorems 4.1–4.2). ``Net`` is a network class with a
    ``mode_convergence_time`` (the per-mode closed form above).
    """
    m0, lam = commuting_modes(M0, C)
    return float(np.max(Net.mode_convergence_time(m0, lam, eps)))


def mode_trajectories(Net, M0, C, t) -> np.ndarray:
    """Closed-form eigenvalues m_i(t) from a commuting M₀, shape (len(t), n), eqs. (3.8)–(3.9)."""
    m0, lam = commuting_modes(M0, C)
    t = np.asarray(t, dtype=np.float64)
    return Net.mode_trajectory(m0[None, :], lam[None, :], t[:, None])


# ------------------------------------------------ online noise floor at the target (chapter 5)


def _noise_floor(lam, eta, gain):
    lam = _positive("lam", lam)
    if lam.ndim != 1:
        raise ValueError(f"lam must be a 1-d array of the eigenvalues of C; got shape {lam.shape}.")
    eta = float(eta)
    if not (np.isfinite(eta) and eta > 0):
        raise ValueError(f"eta must be a positive finite learning rate; got {eta}.")
    s = np.sqrt(lam)
    rate = 1.0 / s[:, None] + 1.0 / s[None, :]  # a_ij: the direct drift's rate on entry ij
    # Var of (y yᵀ − I)_ij for white Gaussian y: 2 on the diagonal, 1 off it
    kicks = 1.0 + np.eye(len(s))
    return np.sqrt(0.5 * eta * gain(s) * kicks * rate)


def direct_noise_floor(lam, eta) -> np.ndarray:
    """Stationary s.d. of each entry of the whitening error at the target, direct rule (chapter 5).

    Linearize Algorithm 1 at M = C^{1/2} in the eigenbasis of C, M = diag(s) + Δ with
    s = √λ. The error is E = M⁻¹CM⁻¹ − I ≈ −(a_ij Δ_ij) with a_ij = 1/s_i + 1/s_j,
    and each entry is an AR(1) process, Δ_ij ← (1 − η a_ij) Δ_ij + η ξ_ij, whose kick
    ξ = yyᵀ − I has variance v_ij = 1 + δ_ij for Gaussian inputs. To first order in η
    its stationary variance is η v_ij / (2 a_ij), so

        sd(E_ij) = √(η v_ij a_ij / 2)        (the diagonal: √(2η/s_i), ∝ λ_i^{-1/4}).

    Parameters
    ----------
    lam : array_like, shape (n,)
        Eigenvalues of C (positive).
    eta : float
        Learning rate (positive).

    Returns
    -------
    ndarray, shape (n, n)
        sd(E_ij) in the eigenbasis of C.
    """
    return _noise_floor(lam, eta, lambda s: np.ones((len(s), len(s))))


def interneuron_noise_floor(lam, eta) -> np.ndarray:
    """Stationary s.d. of each entry of the whitening error at the target, interneuron rule.

    Algorithm 2 moves M = WWᵀ by η[(yyᵀ − I)M + M(yyᵀ − I)] + O(η²): at M = diag(s)
    both the kick and the drift of entry ij of the direct rule are multiplied by
    s_i + s_j (= m_i + m_j at the target). The stationary variance, kick² over rate, is
    therefore multiplied by s_i + s_j:

        sd(E_ij) = √(η v_ij a_ij (s_i + s_j) / 2)   (the diagonal: √(4η), free of λ).

    Same parameters and shape as :func:`direct_noise_floor`.
    """
    return _noise_floor(lam, eta, lambda s: s[:, None] + s[None, :])


# ---------------------------------------------------------------- balanced chain (chapter 7)


def chain_mode_rate(m, lam) -> np.ndarray:
    """dm/dt = 4 (λ − m²)/√m for a balanced chain that commutes with C, eq. (7.10)."""
    m, lam = _positive("m", m), _positive("lam", lam)
    return 4.0 * (lam - m**2) / np.sqrt(m)


def chain_time_to_reach(m0, m, lam) -> np.ndarray:
    """Time for the balanced chain's mode to go from m₀ to m (same side of √λ), eq. (7.11).

    ``t = ¼ |F(√m₀) − F(√m)|`` with a = λ^{1/4} and
    F(s) = (1/2a) ln|(s − a)/(s + a)| + (1/a) arctan(s/a),
    written as ln and arctan of ratios, without cancellation.
    """
    m0, m, lam = _positive("m0", m0), _positive("m", m), _positive("lam", lam)
    a = lam**0.25
    s0, s = np.sqrt(m0), np.sqrt(m)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_part = 0.5 * np.log(np.abs((s0 - a) * (s + a) / ((s0 + a) * (s - a))))
        atan_part = np.arctan(a * (s0 - s) / (a * a + s * s0))
        t = 0.25 * np.abs(log_part + atan_part) / a
    return np.where(m == m0, 0.0, t)


def chain_convergence_time(m0, lam, eps) -> np.ndarray:
    """Exact time until ``|λ/m² − 1| ≤ ε`` under dm/dt = 4(λ − m²)/√m, from m₀ (eq. (7.11)).

    ``t(m₀ → m) = ¼ |F(√m₀) − F(√m)|``
    (:func:`~whitenlib.theory.chain_time_to_reach`); from above it
    stays below (π/2 − arctan(√m_e/a) − ½ ln|(√m_e − a)/(√m_e + a)|)/(4a),
    m_e the band edge, however large m₀ is (:func:`~whitenlib.theory.chain_convergence_time_limit`).
    """
    m0, lam = _positive("m0", m0), _positive("lam", lam)
    eps = _eps(eps)
    m0, lam, eps = np.broadcast_arrays(m0, lam, eps)
    edge, inside = _band_edge(m0, lam, eps)
    return np.where(inside, 0.0, chain_time_to_reach(m0, edge, lam))


def chain_convergence_time_limit(lam, eps) -> np.ndarray:
    """Limit of :func:`~whitenlib.theory.chain_convergence_time` as m₀ → ∞.

    The saturation time, eq. (7.11).
    """
    lam = _positive("lam", lam)
    eps = _eps(eps)
    a = lam**0.25
    s = (lam / (1.0 - eps)) ** 0.25  # √(upper band edge)
    return (0.5 * np.pi - np.arctan(s / a) - 0.5 * np.log((s - a) / (s + a))) / (4.0 * a)




# ------------------------------------------- every initialization (non-commuting)
#
# Bounds on the convergence time T_ε(M₀) of the matrix flows from any SPD M₀
# (chapter 4, "Every start, not only the commuting one"; proofs in the
# appendix). Notation: c_min, c_max the extreme eigenvalues of C, R = C^{1/2},
# Λ₀ = λ_max(M₀), V(M) = f(M) − f(R) = Tr(M⁻¹(M − R)²) the objective gap, and
# η = 1 − (1 + ε)^{-1/2}: ‖M − R‖₂ ≤ η √c_min implies error ≤ ε (appendix,
# lem-gap-inequalities). Each function takes one M₀ (n, n) or a stack
# (..., n, n) with C (n, n) or (..., n, n), and returns float64 of shape (...).


def _spd_stack(name, a) -> np.ndarray:
    """A finite SPD matrix (n, n) or stack (..., n, n) as float64 NumPy, symmetrized."""
    arr = as_array(name, a, min_ndim=2)
    check_spd(name, arr)
    arr = np.asarray(arr)
    return 0.5 * (arr + np.swapaxes(arr, -1, -2))


def _pair(M0, C):
    m, c = _spd_stack("M0", M0), _spd_stack("C", C)
    if m.shape[-1] != c.shape[-1]:
        raise ValueError(f"M0 and C must have the same size n, got {m.shape} and {c.shape}.")
    return m, c


def _sqrt_psd(a):
    lam, q = np.linalg.eigh(a)
    return (q * np.sqrt(np.maximum(lam, 0.0))[..., None, :]) @ np.swapaxes(q, -1, -2)


def objective_gap(M, C) -> np.ndarray:
    """V(M) = f(M) − f(C^{1/2}) = Tr(M⁻¹(M − C^{1/2})²) ≥ 0, eq. (eq-objective-gap) of chapter 4.

    The Lyapunov function of both flows, written as a sum of squares (no
    cancellation between f(M) and 2 Tr C^{1/2}). Shapes (..., n, n) -> (...).
    """
    m, c = _pair(M, C)
    d = m - _sqrt_psd(c)
    return np.einsum("...ij,...ji->...", np.linalg.solve(m, d), d)


def error_tolerance_radius(eps) -> np.ndarray:
    """η = 1 − (1 + ε)^{-1/2}: ‖M − C^{1/2}‖₂ ≤ η √c_min implies error ≤ ε.

    Appendix, lem-gap-inequalities.
    """
    eps = _eps(eps)
    return 1.0 - 1.0 / np.sqrt(1.0 + eps)


def local_phase_time(z1, z2) -> np.ndarray:
    """τ(z₁, z₂): time for ζ' = −ζ (1 + 1/(1 + ζ))² to go from z₁ down to z₂ (0 if z₁ ≤ z₂).

    τ = ¼ ln(z₁/z₂) + ¾ ln((z₁ + 2)/(z₂ + 2)) + ½ [1/(z₁ + 2) − 1/(z₂ + 2)],
    the integral of (1 + z)²/(z (z + 2)²) from z₂ to z₁ (appendix, local phase).
    """
    z1, z2 = _positive("z1", z1), _positive("z2", z2)
    z1 = np.maximum(z1, z2)
    return (0.25 * np.log(z1 / z2) + 0.75 * np.log((z1 + 2.0) / (z2 + 2.0))
            + 0.5 * (1.0 / (z1 + 2.0) - 1.0 / (z2 + 2.0)))


def _extremes(m, c):
    lm, lc = np.linalg.eigvalsh(m), np.linalg.eigvalsh(c)
    return lm[..., 0], lm[..., -1], lc[..., 0], lc[..., -1]


def direct_time_lower_bound(M0, C, eps) -> np.ndarray:
    """T_dir ≥ λ_max(M₀ − C^{1/2}/√(1 − ε)) ≥ λ_max(M₀) − √(c_max/(1 − ε)).

    Chapter 4, thm-direct-every-start.

    Clipped at 0. Holds for every SPD M₀: Ṁ ⪰ −I gives M_t ⪰ M₀ − tI, and
    error ≤ ε forces M ⪯ C^{1/2}/√(1 − ε).
    """
    m, c = _pair(M0, C)
    eps = _eps(eps)
    gap = m - _sqrt_psd(c) / np.sqrt(1.0 - eps)[..., None, None]
    return np.maximum(np.linalg.eigvalsh(gap)[..., -1], 0.0)


def direct_time_upper_bound(M0, C, eps) -> np.ndarray:
    """Upper bound on the direct network's convergence time from any SPD M₀.

    Chapter 4, thm-direct-every-start.

    With b₁ = √(2 c_max): t₁ = time of dm/dt = c_max/m² − 1 from Λ₀ down to b₁
    (0 if Λ₀ ≤ b₁), V₁ = V(M₀) min(1, √(c_max/(Λ₀² − c_max))), z₁ = √(b₁ V₁/c_min);
    T_dir ≤ t₁ + 2 b₁ τ(z₁, η).
    """
    m, c = _pair(M0, C)
    eps = _eps(eps)
    _, lam_max, c_min, c_max = _extremes(m, c)
    b1 = np.sqrt(2.0 * c_max)
    above = lam_max > b1
    start = np.where(above, lam_max, 2.0 * b1)  # placeholder where unused
    t1 = np.where(above, direct_time_to_reach(start, b1, c_max), 0.0)
    shrink = np.where(above, np.sqrt(c_max / np.maximum(lam_max**2 - c_max, c_max)), 1.0)
    z1 = np.sqrt(b1 * objective_gap(m, c) * shrink / c_min)
    eta = error_tolerance_radius(eps)
    return t1 + 2.0 * b1 * local_phase_time(np.maximum(z1, 1e-300), eta)


def interneuron_envelopes(M0, C, t):
    """Bounds on the extreme eigenvalues of M_t along the interneuron flow.

    Chapter 4, thm-interneuron-every-start, item 1.

    Returns (lo_max², hi_max², lo_min², hi_min²): for every t ≥ 0,
    c_min + (λ² − c_min) e^{−4t} ≤ λ(M_t)² ≤ c_max + (λ² − c_max) e^{−4t}, with
    λ = λ_max(M₀) for λ_max(M_t) and λ = λ_min(M₀) for λ_min(M_t).
    Shapes: M₀ (..., n, n), t (T,) -> each (..., T).
    """
    m, c = _pair(M0, C)
    t = _times(t)
    lam_min, lam_max, c_min, c_max = (x[..., None] for x in _extremes(m, c))
    decay = np.exp(-4.0 * t)
    return (c_min + (lam_max**2 - c_min) * decay, c_max + (lam_max**2 - c_max) * decay,
            c_min + (lam_min**2 - c_min) * decay, c_max + (lam_min**2 - c_max) * decay)


def interneuron_time_lower_bound(M0, C, eps) -> np.ndarray:
    """T_int ≥ ¼ ln[(λ_max(M₀)² − c_min)/(c_max/(1 − ε) − c_min)], clipped at 0.

    Chapter 4, thm-interneuron-every-start, item 2.
    """
    m, c = _pair(M0, C)
    eps = _eps(eps)
    _, lam_max, c_min, c_max = _extremes(m, c)
    ratio = (lam_max**2 - c_min) / (c_max / (1.0 - eps) - c_min)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ratio > 1.0, 0.25 * np.log(np.maximum(ratio, 1.0)), 0.0)


def interneuron_time_upper_bound(M0, C, eps) -> np.ndarray:
    """Upper bound on the interneuron network's convergence time from any SPD M₀.

    Chapter 4, thm-interneuron-every-start, item 3.

    t₁ = ¼ ln max(2, Λ₀²/c_max − 1); at t₁, λ_max² ≤ 2 c_max and λ_min² ≥ c_min/2, so
    V₁ = min(V(M₀) e^{−2t₁}, √2 Tr C/√c_min + n √(2 c_max) − 2 Tr C^{1/2});
    z₁ = √(√(2 c_max) V₁/c_min); T_int ≤ t₁ + τ(z₁, η).
    """
    m, c = _pair(M0, C)
    eps = _eps(eps)
    n = m.shape[-1]
    _, lam_max, c_min, c_max = _extremes(m, c)
    t1 = 0.25 * np.log(np.maximum(2.0, lam_max**2 / c_max - 1.0))
    tr_c = np.trace(c, axis1=-2, axis2=-1)
    tr_r = np.sum(np.sqrt(np.linalg.eigvalsh(c)), axis=-1)
    v_env = np.sqrt(2.0) * tr_c / np.sqrt(c_min) + n * np.sqrt(2.0 * c_max) - 2.0 * tr_r
    v1 = np.minimum(objective_gap(m, c) * np.exp(-2.0 * t1), v_env)
    z1 = np.sqrt(np.sqrt(2.0 * c_max) * v1 / c_min)
    eta = error_tolerance_radius(eps)
    return t1 + local_phase_time(np.maximum(z1, 1e-300), eta)


# ---------------------------------------------------------------- the non-local control (chapter 5)


def nonlocal_direct_noise_floor(lam, eta) -> np.ndarray:
    """Stationary s.d. of each entry of the whitening error at the target, non-local control rule.

    The rule ΔM = η (y xᵀ + x yᵀ − 2M) of :class:`~whitenlib.NonlocalDirectNetwork`
    is, sample by sample, the interneuron rule's update of M = WWᵀ without its
    O(η²) term: with B = yyᵀ − I and x = M y,

        y xᵀ + x yᵀ − 2M = B M + M B,    (I + ηB) M (I + ηB) = M + η(BM + MB) + η² BMB.

    Linearized at M = diag(s), s = √λ, in the eigenbasis of C, the kick of entry ij is
    (s_i + s_j) ξ_ij and its drift rate (s_i + s_j) a_ij, as for the interneurons:
    the stationary variance, kick² over rate, is that of the interneuron rule,

        sd(E_ij) = √(η v_ij a_ij (s_i + s_j) / 2)   (the diagonal: √(4η), free of λ),

    to first order in η. Same parameters and shape as :func:`direct_noise_floor`.
    """
    return interneuron_noise_floor(lam, eta)


__all__ = [
    "chain_convergence_time",
    "chain_convergence_time_limit",
    "chain_mode_rate",
    "chain_time_to_reach",
    "closed_form_convergence_time",
    "commuting_modes",
    "direct_asymptotic_error_bound",
    "direct_convergence_time",
    "direct_convergence_time_asymptotic",
    "direct_mode_rate",
    "direct_mode_trajectory",
    "direct_noise_floor",
    "direct_time_lower_bound",
    "direct_time_to_reach",
    "direct_time_upper_bound",
    "error_tolerance_radius",
    "interneuron_asymptotic_error_bound",
    "interneuron_convergence_time",
    "interneuron_convergence_time_asymptotic",
    "interneuron_envelopes",
    "interneuron_mode_rate",
    "interneuron_mode_trajectory",
    "interneuron_noise_floor",
    "interneuron_time_lower_bound",
    "interneuron_time_to_reach",
    "interneuron_time_upper_bound",
    "local_phase_time",
    "mode_trajectories",
    "mode_error",
    "nonlocal_direct_noise_floor",
    "objective_gap",
    "target_band",
]
