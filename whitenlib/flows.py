"""Continuous synaptic dynamics: the matrix flows, integrated with an adaptive ODE solver.

The averaged learning rules become ordinary differential equations in the
synapses (chapter 3; time t = η × number of updates):

* direct       (3.1)  dM/dt = M⁻¹ C M⁻¹ − I
* interneuron  (3.2)  dW/dt = (M⁻¹ C M⁻¹ − I) W,   M = W Wᵀ
* induced on M (3.3)  dM/dt = M⁻¹C + CM⁻¹ − 2M

:func:`integrate_flow` integrates a network's own flow (``net._flow``) on its
flattened weights with SciPy's 8th-order Dormand–Prince method (DOP853),
tight tolerances and dense output, and locates the first time at which the
whitening error ‖M⁻¹CM⁻¹ − I‖₂ falls to ε as a root of the event function
error − ε (not on a grid). It works for any initial network, commuting with C
or not, and any number of interneurons k ≥ n.

The vector field, its Jacobian, the error and their batched versions are
compiled once per network class (JAX retraces per shape) and take the network
itself as an argument, so any class with the networks' interface (``weights``,
``M``, ``with_weights``, ``_flow``, ``error``) integrates the same way; the
solver itself runs in SciPy.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from scipy.integrate import solve_ivp

from whitenlib.linalg import symmetrize
from whitenlib.validation import as_array, check_positive, check_spd, check_unit_interval

#: default tolerances of the ODE solver (relative, absolute)
RTOL = 1e-10
ATOL = 1e-12
#: SciPy methods accepted by :func:`integrate_flow`
METHODS = ("DOP853", "Radau", "BDF", "LSODA")


# ------------------------------------------------------------------ compiled kernels


@functools.cache
def _kernels(Net) -> dict[str, Callable]:
    """Jitted vector field, Jacobian, error and batched maps of one network class.

    Each kernel takes a template network (a pytree: its non-learned parts, such
    as a fixed frame, travel with it) and flattened weights ``y``; JAX retraces
    per shape.
    """

    def net_of(net, y):
        return net.with_weights(jnp.reshape(y, net.weights.shape))

    def field_(net, y, c):
        return jnp.ravel(net_of(net, y)._flow(c))

    def error_(net, y, c):
        return net_of(net, y).error(c)

    def m_(net, y):
        return net_of(net, y).M

    return {
        "field": jax.jit(field_),
        "jacobian": jax.jit(jax.jacfwd(field_, argnums=1)),
        "error": jax.jit(error_),
        "batch_error": jax.jit(jax.vmap(error_, in_axes=(None, 0, None))),
        "batch_M": jax.jit(jax.vmap(m_, in_axes=(None, 0))),
    }


def _check_net_and_C(net, C):
    if not hasattr(net, "_flow") or not hasattr(net, "with_weights"):
        raise ValueError(
            f"net must be a whitenlib network (DirectNetwork or InterneuronNetwork), "
            f"got {type(net).__name__}."
        )
    w = np.asarray(net.weights, dtype=np.float64)
    if np.ndim(net.M) != 2:
        raise ValueError(
            f"net must be a single network (M of shape (n, n)), got M of shape "
            f"{np.shape(net.M)}: integrate batched networks one at a time."
        )
    c = as_array("C", C, min_ndim=2)
    check_spd("C", c)
    if c.shape != (net.n, net.n):
        raise ValueError(
            f"C must have shape ({net.n}, {net.n}) to match the network, got {c.shape}."
        )
    return w, np.asarray(c)


def _default_t_max(net, c: np.ndarray, eps: float) -> float:
    """A generous horizon: several times the slowest commuting-case estimate (chapter 4)."""
    m_max = float(np.linalg.eigvalsh(np.asarray(net.M))[-1])
    lam = np.linalg.eigvalsh(c)
    s_max = math.sqrt(float(lam[-1]))
    return 2.0 * m_max + 50.0 * (1.0 + s_max) * (1.0 + math.log(1.0 / eps))


# ------------------------------------------------------------------ results


@dataclass(frozen=True, eq=False)
class FlowSolution:
    """A trajectory of the continuous synaptic dynamics of one network.

    Attributes
    ----------
    network : type
        The network class (``DirectNetwork`` or ``InterneuronNetwork``).
    C : ndarray (n, n)
        The input covariance.
    t : ndarray (T,)
        Times: the solver's steps (or the requested ``t_eval``), ending at the
        convergence time when the event fired.
    weights : ndarray (T, n, n) or (T, n, k)
        The synapses along the trajectory.
    M : ndarray (T, n, n)
        The effective recurrent matrix along the trajectory.
    errors : ndarray (T,)
        Whitening error ‖M⁻¹CM⁻¹ − I‖₂ at each time.
    eps : float or None
        Tolerance of the convergence event (None: no event).
    convergence_time : float
        First time the error falls to ε (0 if it starts there); ``math.inf`` if
        it does not before ``t_max``, or when no ε was given. Never NaN.
    converged : bool
        Whether the error reached ε.
    diverged : bool
        Whether the solver failed (the flow left the SPD cone or blew up).
    message : str
        The solver's message.
    nfev : int
        Number of evaluations of the vector field.
    """

    network: type
    C: np.ndarray
    t: np.ndarray
    weights: np.ndarray
    M: np.ndarray
    errors: np.ndarray
    eps: float | None
    convergence_time: float
    converged: bool
    diverged: bool
    message: str
    nfev: int
    _dense: Any = field(repr=False, default=None)
    _template: Any = field(repr=False, default=None)

    @property
    def _shape(self) -> tuple:
        return tuple(self.weights.shape[1:])

    def weights_at(self, t) -> np.ndarray:
        """Synapses at time(s) t from the dense output; shape (*t.shape, *weights.shape)."""
        t = np.asarray(t, dtype=np.float64)
        if np.any(t < self.t[0]) or np.any(t > self.t[-1] * (1 + 1e-12)):
            raise ValueError(f"t must lie in the integrated interval [{self.t[0]}, {self.t[-1]}].")
        flat = np.asarray(self._dense(np.ravel(t))).T  # (len, size)
        return flat.reshape(t.shape + self._shape)

    def M_at(self, t) -> np.ndarray:
        """Effective recurrent matrix at time(s) t; shape (*t.shape, n, n)."""
        t = np.asarray(t, dtype=np.float64)
        m = M_along(self._template, self.weights_at(np.ravel(t)))
        return m.reshape(t.shape + m.shape[-2:])

    def errors_at(self, t) -> np.ndarray:
        """Whitening error at time(s) t; shape t.shape."""
        t = np.asarray(t, dtype=np.float64)
        return errors_along(self._template, self.weights_at(np.ravel(t)), self.C).reshape(t.shape)

    def network_at(self, t: float):
        """The network (an instance of ``network``) at time t."""
        return self._template.with_weights(jnp.asarray(self.weights_at(float(t))))


_CHUNK = 256


def _batched(kernel, net, weights, *args) -> np.ndarray:
    """Apply a vmapped kernel to stacked weights in fixed-size chunks (one compile per shape)."""
    w = np.asarray(weights, dtype=np.float64)
    if w.shape[1:] != tuple(np.shape(net.weights)):
        raise ValueError(
            f"weights must have shape (T, {', '.join(map(str, np.shape(net.weights)))}) to match "
            f"the network, got {w.shape}."
        )
    flat = w.reshape(w.shape[0], -1)
    rows = flat.shape[0]
    padded = np.concatenate([flat, np.repeat(flat[-1:], (-rows) % _CHUNK, axis=0)])
    out = [np.asarray(kernel(net, jnp.asarray(padded[i : i + _CHUNK]), *args))
           for i in range(0, len(padded), _CHUNK)]
    return np.concatenate(out)[:rows]


def errors_along(net, weights, C) -> np.ndarray:
    """Whitening errors ‖M⁻¹CM⁻¹ − I‖₂ along a stack of synapses, in one vectorized call.

    Parameters
    ----------
    net : network
        Any network of the class (its own weights are ignored; fixed parts such
        as a frame are used).
    weights : array (T, *net.weights.shape)
    C : array (n, n)

    Returns
    -------
    ndarray (T,)
    """
    return _batched(_kernels(type(net))["batch_error"], net, weights, jnp.asarray(C))


def M_along(net, weights) -> np.ndarray:
    """Effective recurrent matrices along stacked synapses, (T, *net.weights.shape) -> (T, n, n)."""
    return _batched(_kernels(type(net))["batch_M"], net, weights)


# ------------------------------------------------------------------ integration


def integrate_flow(
    net,
    C,
    t_max: float | None = None,
    *,
    eps: float | None = None,
    t_eval=None,
    rtol: float = RTOL,
    atol: float = ATOL,
    method: str = "DOP853",
) -> FlowSolution:
    """Integrate the continuous synaptic dynamics of ``net`` from its current weights.

    Direct network: dM/dt = M⁻¹CM⁻¹ − I, eq. (3.1). Interneuron network:
    dW/dt = (M⁻¹CM⁻¹ − I)W, eq. (3.2). DOP853 with dense output; when ``eps``
    is given, integration stops at the first time the whitening error
    ‖M⁻¹CM⁻¹ − I‖₂ reaches ε, located as a root of error − ε.

    Parameters
    ----------
    net : DirectNetwork or InterneuronNetwork
        Initial network (any SPD M₀; any W₀ of shape (n, k), k ≥ n, rank n).
    C : array (n, n)
        SPD input covariance.
    t_max : float, optional
        Integration horizon. Required without ``eps``; with ``eps`` it defaults
        to a generous bound, 2 λ_max(M₀) + 50 (1 + √λ_max(C)) (1 + ln(1/ε)).
    eps : float in (0, 1), optional
        Tolerance of the convergence event.
    t_eval : array, optional
        Times at which to report the trajectory (within [0, t_max]); default:
        the solver's own steps. Any time is available afterwards through the
        dense output (:meth:`FlowSolution.weights_at`).
    rtol, atol : float
        Solver tolerances on the weights.
    method : {"DOP853", "Radau", "BDF", "LSODA"}
        SciPy method. The explicit DOP853 (default) is the most accurate per
        step; the implicit methods receive the exact Jacobian (JAX) and keep
        their cost flat when the flow is stiff, as the direct network's is
        from large initializations (chapter 4).

    Returns
    -------
    FlowSolution
    """
    w0, c = _check_net_and_C(net, C)
    if eps is not None:
        check_unit_interval("eps", eps)
        eps = float(eps)
    if t_max is None:
        if eps is None:
            raise ValueError(
                "t_max is required when no eps is given: pass t_max=... (a positive time)."
            )
        t_max = _default_t_max(net, c, eps)
    check_positive("t_max", t_max)
    check_positive("rtol", rtol)
    check_positive("atol", atol)
    t_max = float(t_max)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}.")

    Net = type(net)
    shape = w0.shape
    k = _kernels(Net)
    cj = jnp.asarray(c)

    def fun(t, y):
        return np.asarray(k["field"](net, y, cj))

    events = None
    err0 = float(k["error"](net, w0.ravel(), cj))
    start_inside = eps is not None and err0 <= eps
    if eps is not None and not start_inside:

        def event(t, y):
            return float(k["error"](net, y, cj)) - eps

        event.terminal = True
        event.direction = -1
        events = [event]

    if t_eval is not None:
        t_eval = np.asarray(t_eval, dtype=np.float64)
        if t_eval.ndim != 1 or np.any(np.diff(t_eval) < 0) or t_eval[0] < 0 or t_eval[-1] > t_max:
            raise ValueError("t_eval must be an increasing 1-D array of times within [0, t_max].")

    if start_inside:
        t_max_run, t_eval_run = 0.0, None
    else:
        t_max_run, t_eval_run = t_max, t_eval
    if t_max_run > 0:
        jac = {}
        if method != "DOP853":
            jac["jac"] = lambda t, y: np.asarray(k["jacobian"](net, y, cj))
        sol = solve_ivp(
            fun, (0.0, t_max_run), w0.ravel(), method=method, rtol=rtol, atol=atol,
            dense_output=True, events=events, t_eval=t_eval_run, **jac,
        )
        ts, ys = sol.t, sol.y.T
        status, message, nfev, dense = sol.status, sol.message, sol.nfev, sol.sol
    else:  # already within eps: nothing to integrate
        ts, ys = np.zeros(1), w0.ravel()[None, :]
        status, message, nfev = 1, "the initial error is already within eps", 0

        def dense(t, _y=w0.ravel()):
            return np.repeat(_y[:, None], np.size(t), axis=1)

    diverged = status == -1 or not np.all(np.isfinite(ys))
    converged = False
    t_conv = math.inf
    if start_inside:
        converged, t_conv = True, 0.0
    elif eps is not None and status == 1 and len(sol.t_events[0]):
        converged, t_conv = True, float(sol.t_events[0][0])
        y_conv = sol.y_events[0][0]
        if ts[-1] < t_conv:  # t_eval given: append the event point
            ts = np.append(ts, t_conv)
            ys = np.vstack([ys, y_conv])

    weights = ys.reshape((-1,) + shape)
    if diverged:
        good = np.all(np.isfinite(ys), axis=1)
        ts, weights = ts[good], weights[good]
    M = M_along(net, weights)
    errors = errors_along(net, weights, c)
    if len(ts) and not np.all(np.linalg.eigvalsh(M)[:, 0] > 0):  # left the SPD cone
        diverged, converged, t_conv = True, False, math.inf
    return FlowSolution(
        network=Net, C=c, t=np.asarray(ts), weights=weights, M=M, errors=errors, eps=eps,
        convergence_time=t_conv, converged=converged, diverged=bool(diverged),
        message=str(message), nfev=int(nfev), _dense=dense, _template=net,
    )


def convergence_time(net, C, eps, t_max: float | None = None, **solver) -> float:
    """First time the whitening error of the flow from ``net`` falls to ε (event detection).

    Returns ``math.inf`` when the error does not reach ε before ``t_max``
    (default as in :func:`integrate_flow`); raises ``RuntimeError`` if the solver
    fails (the flow diverged).
    """
    if eps is None:
        raise ValueError("eps must be a tolerance in (0, 1), got None.")
    sol = integrate_flow(net, C, t_max, eps=eps, **solver)
    if sol.diverged:
        raise RuntimeError(f"the flow from this network diverged: {sol.message}")
    return sol.convergence_time


def scale_network(net, gamma: float):
    """The same network with its effective matrix scaled, M ↦ γ M (W ↦ √γ W for interneurons).

    The degree p of M in the weights (1 for M itself, 2 for W Wᵀ) is read off
    the network, so any network class whose M is homogeneous in its weights works.
    """
    check_positive("gamma", gamma)
    w = np.asarray(net.weights)
    m1, m2 = np.asarray(net.M), np.asarray(net.with_weights(jnp.asarray(2.0 * w)).M)
    p = round(math.log2(np.trace(m2) / np.trace(m1)))
    if p < 1 or not np.allclose(m2, 2.0**p * m1, rtol=1e-12, atol=0):
        raise ValueError(
            f"{type(net).__name__}'s M is not a power of its weights; scale its initial "
            f"weights directly instead of using scale_network."
        )
    return net.with_weights(jnp.asarray(w * float(gamma) ** (1.0 / p)))


def convergence_time_sweep(net, C, scales, eps, t_max: float | None = None, **solver) -> np.ndarray:
    """Convergence times of the flows from γ M₀ for each γ in ``scales`` (M₀ = ``net.M``).

    Parameters
    ----------
    net : DirectNetwork or InterneuronNetwork
        The network at scale γ = 1; scale γ uses :func:`scale_network`.
    C : array (n, n)
        SPD input covariance.
    scales : array (S,)
        Positive initialization scales γ.
    eps : float in (0, 1)
        Tolerance.

    Returns
    -------
    ndarray (S,)
        Event-detected convergence times (``inf`` where not reached by ``t_max``).
    """
    scales = np.asarray(scales, dtype=np.float64)
    if scales.ndim != 1 or np.any(~np.isfinite(scales)) or np.any(scales <= 0):
        raise ValueError("scales must be a 1-D array of positive finite numbers.")
    return np.array(
        [convergence_time(scale_network(net, g), C, eps, t_max, **solver) for g in scales]
    )


# ------------------------------------------------------------------ commuting case


def commuting_modes(M, C, tol: float = 1e-10):
    """Joint eigenvalues (m, λ) of commuting SPD matrices M and C, each of shape (n,).

    Raises ``ValueError`` when ‖MC − CM‖ > tol ‖M‖ ‖C‖ (the matrices do not commute).
    """
    m = np.asarray(as_array("M", M, min_ndim=2))
    c = np.asarray(as_array("C", C, min_ndim=2))
    check_spd("M", m)
    check_spd("C", c)
    scale = np.linalg.norm(m) * np.linalg.norm(c)
    if np.linalg.norm(m @ c - c @ m) > tol * scale:
        raise ValueError(
            "M and C must commute (share eigenvectors) for the closed forms of chapter 3."
        )
    # a generic combination has the joint eigenvectors and (generically) distinct eigenvalues
    combo = m / np.linalg.norm(m) + np.pi * c / np.linalg.norm(c)
    _, q = np.linalg.eigh(np.asarray(symmetrize(combo)))
    return np.einsum("ji,jk,ki->i", q, m, q), np.einsum("ji,jk,ki->i", q, c, q)


def closed_form_convergence_time(Net, M0, C, eps) -> float:
    """Exact convergence time of the flow from a commuting M₀: the largest of the mode times.

    The error ‖M⁻¹CM⁻¹ − I‖₂ is max_i |λ_i/m_i² − 1| and each mode error
    decreases monotonically, so the matrix first reaches ε when its slowest
    mode does (theorems 4.1–4.2).
    """
    m0, lam = commuting_modes(M0, C)
    return float(np.max(Net.mode_convergence_time(m0, lam, eps)))


def mode_trajectories(Net, M0, C, t) -> np.ndarray:
    """Closed-form eigenvalues m_i(t) from a commuting M₀, shape (len(t), n), eqs. (3.8)–(3.9)."""
    m0, lam = commuting_modes(M0, C)
    t = np.asarray(t, dtype=np.float64)
    return Net.mode_trajectory(m0[None, :], lam[None, :], t[:, None])


__all__ = [
    "FlowSolution",
    "closed_form_convergence_time",
    "commuting_modes",
    "convergence_time",
    "convergence_time_sweep",
    "errors_along",
    "integrate_flow",
    "M_along",
    "mode_trajectories",
    "scale_network",
]
