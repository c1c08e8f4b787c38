"""Continuous synaptic dynamics: the matrix flows, integrated with an adaptive ODE solver.

The averaged learning rules become ordinary differential equations in the
synapses (chapter 3; time t = η × number of updates):

* direct       (3.1)  dM/dt = M⁻¹ C M⁻¹ − I
* interneuron  (3.2)  dW/dt = (M⁻¹ C M⁻¹ − I) W,   M = W Wᵀ
* induced on M (3.3)  dM/dt = M⁻¹C + CM⁻¹ − 2M

:func:`integrate_flow` integrates a network's own flow (``net.flow``) on its
flattened weights with SciPy's 8th-order Dormand–Prince method (DOP853),
tight tolerances and dense output, and locates the first time at which the
whitening error ‖M⁻¹CM⁻¹ − I‖₂ falls to ε as a root of the event function
error − ε (not on a grid). It works for any initial network, commuting with C
or not, and any number of interneurons k ≥ n.

The vector field, its Jacobian, the error and their batched versions are
compiled once per network class (JAX retraces per shape) and take the network
itself as an argument, so any class with the networks' interface (``weights``,
``M``, ``with_weights``, ``flow``, ``error``) integrates the same way; the
solver itself runs in SciPy.

Arguments come in one order here and in :mod:`whitenlib.online`: the network
(and the scales of a sweep), what it learns from (C here, a stream there), the
learning rate (online only), the tolerance ``eps`` of the whitening error, the
horizon (``t_max`` here, ``n_steps`` there); solver options are keyword-only.
The closed forms of the commuting case live in :mod:`whitenlib.theory`.

A stack of R networks (a leading run axis on every array, as built by
:func:`whitenlib.online.stack_networks`) integrates instead in one compiled,
``vmap``-ed diffrax integration, with the same event located by bisection on
the step's dense output; runs are sorted by expected length and integrated in
groups, and the run axis is sharded over every local device.
:func:`integrate_flow` then returns a :class:`FlowBatch` of end states and
:func:`convergence_time` an array (R,). The direct network's flow, stiff once
its modes converge, is integrated by :class:`Rodas4Sylvester` (a linearly
implicit 4th-order Rosenbrock method whose stage equations are Sylvester
equations, solved in M's eigenbasis); the other classes by the explicit
8th-order Dormand–Prince method (``Dopri8``).
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from scipy.integrate import solve_ivp

from whitenlib.networks.base import AbstractNetwork
from whitenlib.networks.direct import DirectNetwork
from whitenlib.validation import as_array, check_positive, check_spd, check_unit_interval

#: default tolerances of the ODE solver (relative, absolute)
RTOL = 1e-10
ATOL = 1e-12
#: SciPy methods accepted by :func:`integrate_flow`
METHODS = ("DOP853", "Radau", "BDF", "LSODA")
#: diffrax solvers accepted for stacks of networks (one vmapped, compiled integration):
#: explicit Runge–Kutta pairs of order 8(5,3), 5(4) and 5(4), the implicit (L-stable)
#: ESDIRK Kvaerno5 with a dense Jacobian (slow here: benchmarks/README.md), and
#: "Rodas4Sylvester", the linearly implicit RODAS4 whose stage equations are solved as
#: Sylvester equations in M's eigenbasis (:class:`Rodas4Sylvester`; direct network only)
BATCH_METHODS = ("Dopri8", "Tsit5", "Dopri5", "Kvaerno5", "Rodas4Sylvester")
#: default method for stacks of networks (measured fastest, see benchmarks/README.md)
BATCH_METHOD = "Dopri8"
#: network classes with a faster default: the stiff direct flow (3.1) goes to the
#: linearly implicit solver built on its Jacobian's structure (benchmarks/README.md)
BATCH_METHOD_FOR = {DirectNetwork: "auto"}
#: "auto" sends a direct run to "Rodas4Sylvester" when λ_max(M₀) ≥ RODAS_SWITCH √λ_max(C):
#: its linear phase (about λ_max(M₀) long) then dominates, where the implicit steps are
#: 10–100× longer than Dopri8's; shorter runs are dominated by fast transients, where the
#: 8th-order explicit steps are longer. The measured crossover of the integration alone is
#: near 300; above it, by 1000, the gain also pays the solver's compilation (~10 s per
#: shape) in sweeps of a few dozen runs (benchmarks/README.md)
RODAS_SWITCH = 1000.0
#: default tolerances (relative, absolute) of "Rodas4Sylvester": a 4th-order method needs
#: far fewer steps at these; convergence times agree with DOP853 at RTOL to ~1e-8
#: (benchmarks/README.md)
RODAS_RTOL = 1e-7
RODAS_ATOL = 1e-9
#: runs per vmapped call; runs are sorted by expected length first (see _run_stack)
BATCH_GROUP = 8
#: default step budget per run
MAX_STEPS = 100_000
#: from this circuit size on, a group's runs are integrated one after another inside the
#: compiled call (``lax.map``) instead of vmapped. Two reasons, both measured
#: (benchmarks/README.md): a vmapped while loop runs every lane until the slowest stops, and
#: from n = 16 one run's matrices keep the CPU busy without batching (direct network, n = 32,
#: γ ≤ 10^{5/2}: 14 s against 39 s); and jaxlib 0.10.2 splits a batched LAPACK call over
#: XLA's intra-op thread pool and waits for it, so two such calls running at once (the
#: event's eigenvalues and the next stage's Cholesky factorization are independent) can wait
#: for each other forever on a small CPU (at n = 64, two of three vmapped sweeps hung)
SEQUENTIAL_FROM = 16


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
        return jnp.ravel(net_of(net, y).flow(c))

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
        # on stacks of networks (a leading run axis on every leaf)
        "stack_error": jax.jit(jax.vmap(lambda net, c: net.error(c))),
        "stack_M": jax.jit(jax.vmap(lambda net: net.M)),
    }


def _check_net_and_C(net, C):
    if not isinstance(net, AbstractNetwork) or not hasattr(net, "with_weights"):
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


def _default_t_max(m0, c, eps):
    """A generous horizon, 2 λ_max(M₀) + 50 (1 + √λ_max(C)) (1 + ln(1/ε)).

    Several times the slowest commuting-case estimate (chapter 4). Shapes
    (..., n, n), (..., n, n) and (...) -> (...).
    """
    s_max = np.sqrt(np.linalg.eigvalsh(c)[..., -1])
    return 2.0 * np.linalg.eigvalsh(m0)[..., -1] + 50.0 * (1.0 + s_max) * (1.0 + np.log(1.0 / eps))


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
        """Synapses at time(s) t from the dense output; shape ``(*t.shape, *weights.shape)``."""
        t = np.asarray(t, dtype=np.float64)
        if np.any(t < self.t[0]) or np.any(t > self.t[-1] * (1 + 1e-12)):
            raise ValueError(f"t must lie in the integrated interval [{self.t[0]}, {self.t[-1]}].")
        flat = np.asarray(self._dense(np.ravel(t))).T  # (len, size)
        return flat.reshape(t.shape + self._shape)

    def M_at(self, t) -> np.ndarray:
        """Effective recurrent matrix at time(s) t; shape ``(*t.shape, n, n)``."""
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
    """Effective recurrent matrices along stacked synapses.

    Shape ``(T, *net.weights.shape)`` -> (T, n, n).
    """
    return _batched(_kernels(type(net))["batch_M"], net, weights)


# ------------------------------------------------------------------ integration


def integrate_flow(
    net,
    C,
    eps: float | None = None,
    t_max: float | None = None,
    *,
    t_eval=None,
    rtol: float | None = None,
    atol: float | None = None,
    method: str | None = None,
    max_steps: int = MAX_STEPS,
    group: int = BATCH_GROUP,
):
    """Integrate the continuous synaptic dynamics of ``net`` (one network or a stack).

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
    eps : float in (0, 1), optional
        Tolerance of the convergence event.
    t_max : float, optional
        Integration horizon. Required without ``eps``; with ``eps`` it defaults
        to a generous bound, 2 λ_max(M₀) + 50 (1 + √λ_max(C)) (1 + ln(1/ε)).
    t_eval : array, optional
        Times at which to report the trajectory (within [0, t_max]); default:
        the solver's own steps. Any time is available afterwards through the
        dense output (:meth:`FlowSolution.weights_at`).
    rtol, atol : float, optional
        Solver tolerances on the weights; default ``RTOL``, ``ATOL`` (10⁻¹⁰, 10⁻¹²), and
        ``RODAS_RTOL``, ``RODAS_ATOL`` (10⁻⁷, 10⁻⁹) for "Rodas4Sylvester", whose 4th-order
        steps give convergence times as accurate at these (benchmarks/README.md).
    method : {"DOP853", "Radau", "BDF", "LSODA"}, one of ``BATCH_METHODS``, or "auto"
        One network: a SciPy method. The explicit DOP853 (default) is the most
        accurate per step; the implicit methods receive the exact Jacobian (JAX)
        and keep their cost flat when the flow is stiff, as the direct network's
        is from large initializations (chapter 4).
        A stack: a diffrax method, all runs in one compiled, vmapped
        integration per group of runs. By default (``BATCH_METHOD_FOR``) the direct
        network's long runs, λ_max(M₀) ≥ ``RODAS_SWITCH`` √λ_max(C), go to
        "Rodas4Sylvester" (:class:`Rodas4Sylvester`, for its stiff flow) and the
        others to ``BATCH_METHOD`` (Dopri8), as do every other class's runs; a SciPy
        method integrates the runs one at a time (the reference).
    max_steps, group : int
        Stacks only: the step budget per run, and how many runs share one vmapped
        call (runs are sorted by expected length, λ_max(M₀), and grouped).

    Returns
    -------
    FlowSolution (one network) or FlowBatch (a stack)

    Notes
    -----
    Stacks of R networks (a leading run axis on every array, as built by
    :func:`whitenlib.online.stack_networks`) take C of shape (n, n) (shared) or
    (R, n, n), ε a scalar or shape (R,), and return a :class:`FlowBatch` of end
    states with ``convergence_time`` of shape (R,). The run axis is sharded
    over every local device.
    """
    if is_stack(net):
        return _integrate_stack(net, C, eps, t_max, t_eval=t_eval, rtol=rtol, atol=atol,
                                method=method, max_steps=max_steps, group=group)
    if method in BATCH_METHODS + ("auto",):
        raise ValueError(
            f"method {method!r} integrates stacks of networks; for one network use one of "
            f"{METHODS}, or stack it (wl.online.stack_networks([net]))."
        )
    method = "DOP853" if method is None else method
    rtol = RTOL if rtol is None else rtol
    atol = ATOL if atol is None else atol
    w0, c = _check_net_and_C(net, C)
    if eps is not None:
        check_unit_interval("eps", eps)
        eps = float(eps)
    if t_max is None:
        if eps is None:
            raise ValueError(
                "t_max is required when no eps is given: pass t_max=... (a positive time)."
            )
        t_max = float(_default_t_max(np.asarray(net.M), c, eps))
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

        w0_flat = w0.ravel()

        def dense(t):
            return np.repeat(w0_flat[:, None], np.size(t), axis=1)

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


# ------------------------------------------------------------------ a linearly implicit solver


def _rodas4_coefficients():
    """RODAS4 in the transformed form of Hairer & Wanner (1996), §IV.7 eq. (7.25).

    Coefficients of ``rodas.f`` (Hairer & Wanner, *Solving ODEs II*, 2nd ed., §VI.4, method 1):
    6 stages, order 4 with an embedded order-3 solution, γ = 1/4, L-stable and stiffly
    accurate. Returns γ, a (6 × 6, strictly lower), c (6 × 6, strictly lower), the weights m
    of the solution and m̂ of the embedded one.
    """
    a5 = [1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950]
    a = np.array([
        [0, 0, 0, 0, 0, 0],
        [1.544, 0, 0, 0, 0, 0],
        [0.9466785280815826, 0.2557011698983284, 0, 0, 0, 0],
        [3.314825187068521, 2.896124015972201, 0.9986419139977817, 0, 0, 0],
        a5 + [0, 0],
        a5 + [1.0, 0],
    ])
    c = np.array([
        [0, 0, 0, 0, 0, 0],
        [-5.6688, 0, 0, 0, 0, 0],
        [-2.430093356833875, -0.2063599157091915, 0, 0, 0, 0],
        [-0.1073529058151375, -9.594562251023355, -20.47028614809616, 0, 0, 0],
        [7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160, 0, 0],
        [8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136,
         -6.058818238834054, 0],
    ])
    # the 5th stage point plus U₅ is the embedded (order 3) solution, plus U₆ the solution
    return 0.25, a, c, np.array(a5 + [1.0, 1.0]), np.array(a5 + [1.0, 0.0])


class Rodas4Sylvester(diffrax.AbstractAdaptiveSolver):
    """RODAS4 for the direct flow dM/dt = f(M) = M⁻¹CM⁻¹ − I (3.1), its stages solved as
    Sylvester equations in M's eigenbasis.

    One step of size h from M₀ (a linearly implicit Rosenbrock method in transformed form,
    Hairer & Wanner 1996, §IV.7 eq. (7.25)), for i = 1, …, 6::

        (I/(hγ) − J) Uᵢ = f(M₀ + Σ_{j<i} a_ij U_j) + Σ_{j<i} (c_ij / h) U_j
        M₁ = M₀ + Σᵢ mᵢ Uᵢ,      local error estimate U₆ (embedded order 3)

    with the coefficients of RODAS4 (:func:`_rodas4_coefficients`, γ = 1/4, order 4,
    L-stable) and J the Jacobian of the flow at M₀,

        J[H] = −(P H S + S H P),   P = M₀⁻¹,  S = M₀⁻¹ C M₀⁻¹   (H symmetric).

    L-stability lets the step grow far beyond the explicit methods' stability limit while
    modes that have converged relax at rates up to 2/√λ(C) (chapter 4).

    **The stage solve.** (I/(hγ) − J) U = R is the Sylvester equation
    αU + PUS + SUP = R (α = 1/(hγ)), whose operator is symmetric positive definite for the
    Frobenius inner product (⟨H, PHS⟩ = ‖P^½ H S^½‖²_F). The whole step runs in M₀'s
    eigenbasis, M₀ = V diag(μ) Vᵀ, where P = diag(p) (p = 1/μ) and S = P Ĉ P (Ĉ = VᵀCV);
    were S diagonal there too (as when M₀ commutes with C, or near the fixed point where
    S → I), the solution would be, entry by entry,

        Û_ij = R̂_ij / (α + p_i s_j + s_i p_j),   s = diag(VᵀSV),

    and in general this division preconditions conjugate gradients on the exact operator
    (to a relative residual ``tolerance``, at most ``max_iterations``), whose products cost
    one n × n matrix product each: one eigendecomposition per step, no n² × n² matrix.
    RODAS4 is not a W-method: with the diagonal solve alone (an approximate Jacobian) its
    order drops and it takes ten times more steps (benchmarks/README.md).

    Dense output (for the convergence event): the cubic Hermite interpolant of M₀, f(M₀),
    M₁, f(M₁); f(M₁) is carried over to the next step (first same as last).

    Why our own solver: diffrax 0.7.2 has no Rosenbrock methods, and its implicit Runge–Kutta
    solvers solve their stages with a dense n² × n² Jacobian or with lineax's Krylov solvers
    on a linearised vector field (which does not trace here; benchmarks/README.md).

    ``y`` is M flattened (n² entries); ``c`` is C, shape (n, n). The method pays where the
    flow is stiff for long (λ_max(M₀) ≫ √λ(C)); on short runs, dominated by fast transients,
    the 8th-order explicit ``Dopri8`` takes fewer steps (see ``RODAS_SWITCH``).
    """

    c: jax.Array
    tolerance: float = eqx.field(static=True, default=1e-10)
    max_iterations: int = eqx.field(static=True, default=30)

    term_structure: ClassVar = diffrax.AbstractTerm
    interpolation_cls: ClassVar = diffrax.ThirdOrderHermitePolynomialInterpolation

    def order(self, terms):
        return 4

    def init(self, terms, t0, t1, y0, args):
        return terms.vf(t0, y0, args)  # f(M₀), the first stage's right-hand side

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        del made_jump  # the flow is autonomous and smooth
        gamma, a, c, m, m_hat = _rodas4_coefficients()
        n = self.c.shape[-1]
        h = t1 - t0
        alpha = 1.0 / (h * gamma)
        # the whole step runs in M₀'s eigenbasis (hats): there P̂ = diag(p) and the
        # preconditioner is a division entry by entry, J an elementwise scaling and a product
        mu, V = jnp.linalg.eigh(jnp.reshape(y0, (n, n)))
        p = 1.0 / mu
        c_hat = V.T @ self.c @ V
        s_hat = (p[:, None] * c_hat) * p[None, :]  # VᵀSV
        s = jnp.diagonal(s_hat)
        denom = alpha + p[:, None] * s[None, :] + s[:, None] * p[None, :]
        eye = jnp.eye(n, dtype=y0.dtype)

        def w_apply(u):  # (αI − J) U = αU + PUS + SUP
            x = p[:, None] * (u @ s_hat)
            return alpha * u + x + x.T

        def w_solve(r):
            # αI − J is symmetric positive definite for the Frobenius inner product
            # (⟨H, PHS⟩ = ‖P^½HS^½‖²), so conjugate gradients preconditioned by the
            # diagonal solve converge monotonically, however far S is from diagonal
            def cond(state):
                k, _, res, _, rz = state
                return (k < self.max_iterations) & (
                    jnp.vdot(res, res) > self.tolerance**2 * jnp.vdot(r, r))

            def body(state):
                k, u, res, d, rz = state
                wd = w_apply(d)
                step = rz / jnp.vdot(d, wd)
                u, res = u + step * d, res - step * wd
                z = res / denom
                rz_new = jnp.vdot(res, z)
                return k + 1, u, res, z + (rz_new / rz) * d, rz_new

            z = r / denom
            u0 = z
            res0 = r - w_apply(u0)
            z0 = res0 / denom
            state = (0, u0, res0, z0, jnp.vdot(res0, z0))
            return jax.lax.while_loop(cond, body, state)[1]

        def field(m_hat_):  # f = M⁻¹CM⁻¹ − I in the eigenbasis (3.1)
            factor = jax.scipy.linalg.cho_factor(m_hat_)
            b = jax.scipy.linalg.cho_solve(factor, c_hat)
            f = jax.scipy.linalg.cho_solve(factor, b.T)
            return 0.5 * (f + f.T) - eye

        us = []
        for i in range(len(m)):
            if i == 0:
                fi = s_hat - eye  # f(M₀) = P̂ĈP̂ − I with P̂ diagonal
            else:
                fi = field(jnp.diag(mu) + sum(a[i, j] * us[j] for j in range(i) if a[i, j]))
            rhs = fi + sum((c[i, j] / h) * us[j] for j in range(i) if c[i, j])
            us.append(w_solve(rhs))
        step_hat = sum(m[i] * us[i] for i in range(len(m)))
        error_hat = sum((m[i] - m_hat[i]) * us[i] for i in range(len(m)) if m[i] != m_hat[i])
        y1 = y0 + jnp.ravel(V @ step_hat @ V.T)
        y_error = jnp.ravel(V @ error_hat @ V.T)
        f1 = terms.vf(t1, y1, args)
        dense_info = dict(y0=y0, y1=y1, k0=h * solver_state, k1=h * f1)
        return y1, y_error, dense_info, f1, diffrax.RESULTS.successful

    def func(self, terms, t0, y0, args):
        return terms.vf(t0, y0, args)


# ------------------------------------------------------------------ stacks of networks (diffrax)

def is_stack(net) -> bool:
    """True for a stack of networks with a leading run axis (``net.M`` of shape (R, n, n))."""
    return hasattr(net, "M") and np.ndim(net.M) == 3


def _unstack(nets, i: int):
    return jax.tree_util.tree_map(lambda a: a[i], nets)


@dataclass(frozen=True, eq=False)
class FlowBatch:
    """The end states of the flows of a stack of R networks, integrated together.

    Attributes
    ----------
    network : type
        The network class.
    C : ndarray (R, n, n)
        The input covariance of each run.
    eps : ndarray (R,) or None
        Tolerance of each run's convergence event (None: no event).
    t : ndarray (R,)
        Final time of each run: its convergence time when the event fired, else
        the horizon ``t_max`` (or the time the solver stopped).
    weights : ndarray (R, *weights.shape)
        Synapses at the final times.
    M : ndarray (R, n, n)
        Effective recurrent matrices at the final times.
    errors : ndarray (R,)
        Whitening errors ‖M⁻¹CM⁻¹ − I‖₂ at the final times.
    convergence_time : ndarray (R,)
        First time each error falls to ε (0 where it starts there); ``inf`` where it
        does not before ``t_max``, where the solver stopped, or without ε. Never NaN.
    converged, diverged : ndarray (R,) of bool
        Whether each error reached ε; whether each flow failed (non-finite
        weights, M not positive definite, or the solver broke down).
    messages : tuple of str
        The solver's message per run ("" when it reached t_max or its event).
    steps : ndarray (R,) of int
        Accepted and rejected steps per run.
    method : str
        The solver used.
    """

    network: type
    C: np.ndarray
    eps: np.ndarray | None
    t: np.ndarray
    weights: np.ndarray
    M: np.ndarray
    errors: np.ndarray
    convergence_time: np.ndarray
    converged: np.ndarray
    diverged: np.ndarray
    messages: tuple
    steps: np.ndarray
    method: str


def _solve_one(net, c, eps, t_max, *, method, rtol, atol, max_steps, event):
    """Integrate one network's flow with diffrax; vmapped over runs by :func:`_stack_solver`."""
    shape = net.weights.shape

    def at(y):
        return net.with_weights(jnp.reshape(y, shape))

    def field(t, y, args):
        return jnp.ravel(at(y).flow(c))

    def gap(t, y, args, **kwargs):
        # error − ε, with the error ‖M⁻¹CM⁻¹ − I‖₂ = max |eigenvalue| (eq. 1.7): Lipschitz in
        # t, smooth where the top |eigenvalue| is simple, with kinks where two of them swap
        return at(y).error(c) - eps

    ev = None
    if event:
        # the step on which error − ε changes sign brackets the crossing, so bisection on the
        # step's dense output finds it without derivatives, kinks or not
        ev = diffrax.Event(gap, root_finder=optx.Bisection(rtol=1e-14, atol=1e-12),
                           direction=False)
    if method == "Rodas4Sylvester":
        # a PI controller (diffrax's suggestion for implicit solvers): fewer rejected steps
        solver = Rodas4Sylvester(c)
        controller = diffrax.PIDController(rtol=rtol, atol=atol, pcoeff=0.3, icoeff=0.4)
    else:
        solver = getattr(diffrax, method)()
        controller = diffrax.PIDController(rtol=rtol, atol=atol)
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(field), solver, 0.0, t_max, None,
        jnp.ravel(net.weights), saveat=diffrax.SaveAt(t1=True),
        stepsize_controller=controller,
        event=ev, max_steps=max_steps, throw=False,
    )
    fired = sol.event_mask if event else jnp.asarray(False)
    steps = sol.stats["num_accepted_steps"] + sol.stats["num_rejected_steps"]
    return sol.ts[-1], jnp.reshape(sol.ys[-1], shape), fired, sol.result._value, steps


@functools.cache
def _stack_solver(method, rtol, atol, max_steps, event, sequential=False):
    """One compiled integration of a group of runs per (method, tolerances); JAX retraces per
    class/shape. The runs are vmapped, or integrated one after another when ``sequential``
    (see ``SEQUENTIAL_FROM``)."""
    one = functools.partial(
        _solve_one, method=method, rtol=rtol, atol=atol, max_steps=max_steps, event=event)
    if sequential:
        return jax.jit(lambda *runs: jax.lax.map(lambda run: one(*run), runs))
    return jax.jit(jax.vmap(one))


def _run_sharding():
    """Shard the run axis over every local device (a 1-D mesh)."""
    devices = np.array(jax.local_devices())
    mesh = jax.sharding.Mesh(devices, ("runs",))
    return jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("runs")), len(devices)


def _check_stack(nets, C, eps, t_max):
    """Validate a stack, its covariance(s), ε and t_max; return arrays with a run axis."""
    if not isinstance(nets, AbstractNetwork) or not hasattr(nets, "with_weights"):
        raise ValueError(
            f"net must be a whitenlib network or a stack of them, got {type(nets).__name__}."
        )
    R, n = np.shape(nets.M)[0], np.shape(nets.M)[-1]
    if any(np.shape(leaf)[:1] != (R,) for leaf in jax.tree_util.tree_leaves(nets)):
        raise ValueError("net must be a stack with one leading run axis on every array "
                         "(build it with wl.online.stack_networks).")
    c = np.asarray(as_array("C", C, min_ndim=2))
    if c.ndim == 2:
        c = np.broadcast_to(c, (R,) + c.shape)
    if c.shape != (R, n, n):
        raise ValueError(
            f"C must have shape ({n}, {n}) (shared) or ({R}, {n}, {n}) (one per run) to match "
            f"the stack of {R} networks with n = {n}, got {np.shape(C)}."
        )
    check_spd("C", c)
    if eps is not None:
        eps = np.asarray(eps, dtype=np.float64)
        if eps.ndim > 1 or (eps.ndim == 1 and eps.shape != (R,)):
            raise ValueError(f"eps must be a scalar or have shape ({R},), got {eps.shape}.")
        check_unit_interval("eps", eps)
        eps = np.broadcast_to(eps, (R,))
    m0 = np.asarray(nets.M)
    if t_max is None:
        if eps is None:
            raise ValueError(
                "t_max is required when no eps is given: pass t_max=... (a positive time)."
            )
        t_max = _default_t_max(m0, c, eps)
    else:
        check_positive("t_max", t_max)
        t_max = np.full(R, float(t_max))
    return np.array(c), eps, t_max, m0


def _tolerances(method, rtol, atol):
    """The method's default tolerances where none were given, checked."""
    rodas = method == "Rodas4Sylvester"
    rtol = (RODAS_RTOL if rodas else RTOL) if rtol is None else rtol
    atol = (RODAS_ATOL if rodas else ATOL) if atol is None else atol
    check_positive("rtol", rtol)
    check_positive("atol", atol)
    return float(rtol), float(atol)


def _run_stack(nets, C, eps, t_max, *, method, rtol, atol, max_steps, group) -> FlowBatch:
    """Integrate a stack of flows: runs sorted by expected length, vmapped in groups, sharded.

    ``method`` is one of ``BATCH_METHODS``, or "auto" (the direct network's default): long
    runs, λ_max(M₀) ≥ ``RODAS_SWITCH`` √λ_max(C), go to "Rodas4Sylvester", the others to
    "Dopri8" (see ``RODAS_SWITCH``).
    """
    c, eps, t_max, m0 = _check_stack(nets, C, eps, t_max)
    for m in ("Dopri8", "Rodas4Sylvester") if method == "auto" else (method,):
        _tolerances(m, rtol, atol)
    if not isinstance(group, (int, np.integer)) or group < 1:
        raise ValueError(f"group must be a positive integer, got {group!r}.")
    R, n = c.shape[:2]
    Net = type(nets)
    w = np.asarray(nets.weights)
    t_end = np.zeros(R)
    w_end = w.copy()
    fired = np.zeros(R, bool)
    codes = np.zeros(R, int)
    steps = np.zeros(R, int)
    todo = np.arange(R)
    if eps is not None:  # runs that start within ε need no integration
        err0 = np.asarray(_kernels(Net)["stack_error"](nets, jnp.asarray(c)))
        fired[err0 <= eps] = True
        todo = todo[err0 > eps]
    # a vmapped while loop runs until its slowest lane stops, so runs of similar length go
    # together: the direct flow lasts about λ_max(M₀) (chapter 4), the longest of any class
    lam_max = np.linalg.eigvalsh(m0)[:, -1]
    order = todo[np.argsort(lam_max[todo], kind="stable")]
    if method == "auto":  # the long, stiff runs to the implicit method (RODAS_SWITCH)
        long = lam_max[order] >= RODAS_SWITCH * np.sqrt(np.linalg.eigvalsh(c[order])[:, -1])
        parts = [("Dopri8", order[~long]), ("Rodas4Sylvester", order[long])]
    else:
        parts = [(method, order)]
    sharding, n_dev = _run_sharding()
    eps_run = np.zeros(R) if eps is None else eps
    used = []
    for part_method, part in parts:
        if not len(part):
            continue
        used.append(part_method)
        # one compiled shape per power of two up to the group: the parts' sizes vary from
        # call to call ("auto"), and every new size would compile the solver again
        size = min(group, 1 << (len(part) - 1).bit_length())
        size = -(-size // n_dev) * n_dev  # a multiple of the devices
        solve = _stack_solver(part_method, *_tolerances(part_method, rtol, atol),
                              int(max_steps), eps is not None, n >= SEQUENTIAL_FROM)
        for start in range(0, len(part), size):
            idx = part[start : start + size]
            pad = np.concatenate([idx, np.repeat(idx[:1], size - len(idx))])  # the shortest
            args = jax.tree_util.tree_map(
                lambda a, pad=pad: jax.device_put(jnp.asarray(np.asarray(a)[pad]), sharding),
                (nets, c, eps_run, t_max),
            )
            out = jax.device_get(solve(*args))
            k = len(idx)
            t_end[idx], w_end[idx], fired[idx], codes[idx], steps[idx] = (o[:k] for o in out)
    if method == "auto":
        method = "+".join(used) or "Dopri8"
    weights = w_end
    finite = np.all(np.isfinite(weights.reshape(R, -1)), axis=1)
    safe = np.where(finite.reshape((R,) + (1,) * (w.ndim - 1)), weights, w)
    end = nets.with_weights(jnp.asarray(safe))
    M = np.asarray(_kernels(Net)["stack_M"](end))
    errors = np.asarray(_kernels(Net)["stack_error"](end, jnp.asarray(c)))
    pd = np.linalg.eigvalsh(M)[:, 0] > 0
    messages = tuple(_RESULT_MESSAGES[int(k)] for k in codes)
    # reaching t_max or the event is success; running out of steps is "not converged";
    # anything else (step size collapse, non-finite values) is a breakdown of the flow
    broke = ~np.isin(codes, _QUIET_CODES)
    diverged = ~finite | ~pd | broke
    errors = np.where(diverged, np.inf, errors)
    converged = fired & ~diverged
    return FlowBatch(
        network=Net, C=c, eps=None if eps is None else np.array(eps), t=t_end, weights=weights,
        M=M, errors=errors, convergence_time=np.where(converged, t_end, np.inf),
        converged=converged, diverged=diverged, messages=messages, steps=steps, method=method,
    )


_RESULT_MESSAGES = diffrax.RESULTS._index_to_message
_QUIET_CODES = np.array([diffrax.RESULTS.successful._value, diffrax.RESULTS.event_occurred._value,
                         diffrax.RESULTS.max_steps_reached._value])


def _integrate_stack(nets, C, eps, t_max, *, t_eval, rtol, atol, method, max_steps, group):
    Net = type(nets)
    method = BATCH_METHOD_FOR.get(Net, BATCH_METHOD) if method is None else method
    if method == "Rodas4Sylvester" and Net is not DirectNetwork:
        raise ValueError(
            f"method 'Rodas4Sylvester' integrates the direct network's flow (3.1) only, "
            f"got a stack of {Net.__name__}: use one of "
            f"{tuple(m for m in BATCH_METHODS if m != method)}.")
    if t_eval is not None:
        raise ValueError("t_eval is not available for stacks of networks: integrate the "
                         "networks of interest one at a time for their trajectories.")
    if method == "auto" and Net is not DirectNetwork:  # only the direct flow has a switch
        method = BATCH_METHOD
    if method in BATCH_METHODS or method == "auto":
        return _run_stack(nets, C, eps, t_max, method=method, rtol=rtol, atol=atol,
                          max_steps=max_steps, group=group)
    if method not in METHODS:
        raise ValueError(
            f"method must be one of {METHODS + BATCH_METHODS + ('auto',)}, got {method!r}.")
    # SciPy, one flow at a time (the reference the batched integration is measured against)
    c, eps_r, t_max_r, _ = _check_stack(nets, C, eps, t_max)
    sols = [integrate_flow(_unstack(nets, i), c[i], None if eps_r is None else float(eps_r[i]),
                           float(t_max_r[i]),
                           rtol=rtol, atol=atol, method=method)
            for i in range(c.shape[0])]
    return FlowBatch(
        network=type(nets), C=c, eps=eps_r, t=np.array([s.t[-1] for s in sols]),
        weights=np.stack([s.weights[-1] for s in sols]), M=np.stack([s.M[-1] for s in sols]),
        errors=np.array([s.errors[-1] for s in sols]),
        convergence_time=np.array([s.convergence_time for s in sols]),
        converged=np.array([s.converged for s in sols]),
        diverged=np.array([s.diverged for s in sols]),
        messages=tuple(s.message for s in sols), steps=np.array([s.nfev for s in sols]),
        method=method,
    )


def convergence_time(net, C, eps, t_max: float | None = None, **solver):
    """First time the whitening error of the flow from ``net`` falls to ε (event detection).

    One network: a float, ``math.inf`` when the error does not reach ε before
    ``t_max`` (default as in :func:`integrate_flow`); raises ``RuntimeError`` if
    the solver fails (the flow diverged).

    A stack of R networks (see :func:`integrate_flow`; C of shape (n, n) or
    (R, n, n), ε scalar or (R,)): an array (R,) from one compiled, vmapped
    integration, ``inf`` where ε is not reached; runs that diverged are ``inf``
    too, with a ``RuntimeWarning`` naming them (use :func:`integrate_flow` for
    the flags).
    """
    if eps is None:
        raise ValueError("eps must be a tolerance in (0, 1), got None.")
    if is_stack(net):
        batch = integrate_flow(net, C, eps, t_max, **solver)
        if np.any(batch.diverged):
            warnings.warn(
                f"the flows of runs {np.flatnonzero(batch.diverged).tolist()} diverged; their "
                "convergence times are inf.", RuntimeWarning, stacklevel=2)
        return batch.convergence_time
    if solver.get("method") in BATCH_METHODS + ("auto",):  # a diffrax method: a stack of one
        stack = jax.tree_util.tree_map(lambda a: jnp.asarray(a)[None], net)
        _check_net_and_C(net, C)
        return float(convergence_time(stack, C, eps, t_max, **solver)[0])
    sol = integrate_flow(net, C, eps, t_max, **solver)
    if sol.diverged:
        raise RuntimeError(f"the flow from this network diverged: {sol.message}")
    return sol.convergence_time


def scale_network(net, gamma: float):
    """The same network with its effective matrix scaled, M ↦ γ M (W ↦ √γ W for interneurons).

    The degree p of M in the weights (1 for M itself, 2 for W Wᵀ) is the class's
    declared ``weights_degree``; a class whose M is not homogeneous in its weights
    (``weights_degree = None``) cannot be scaled this way.
    """
    check_positive("gamma", gamma)
    p = type(net).weights_degree
    if p is None:
        raise ValueError(
            f"{type(net).__name__}'s M is not a power of its weights; scale its initial "
            f"weights directly instead of using scale_network."
        )
    w = np.asarray(net.weights)
    return net.with_weights(jnp.asarray(w * float(gamma) ** (1.0 / p)))


def convergence_time_sweep(net, scales, C, eps, t_max: float | None = None, **solver) -> np.ndarray:
    """Convergence times of the flows from γ M₀ for each γ in ``scales`` (M₀ = ``net.M``).

    Parameters
    ----------
    net : DirectNetwork or InterneuronNetwork
        The network at scale γ = 1; scale γ uses :func:`scale_network`.
    scales : array (S,)
        Positive initialization scales γ.
    C : array (n, n)
        SPD input covariance.
    eps : float in (0, 1)
        Tolerance.
    **solver
        As for :func:`integrate_flow`. By default (or with a diffrax method) the
        S flows run as one stack (:func:`convergence_time` on a stack); a SciPy
        ``method`` integrates them one at a time.

    Returns
    -------
    ndarray (S,)
        Event-detected convergence times (``inf`` where not reached by ``t_max``).
    """
    scales = np.asarray(scales, dtype=np.float64)
    if scales.ndim != 1 or np.any(~np.isfinite(scales)) or np.any(scales <= 0):
        raise ValueError("scales must be a 1-D array of positive finite numbers.")
    if is_stack(net):
        raise ValueError("net must be one network (the scale-1 start), not a stack.")
    nets = [scale_network(net, g) for g in scales]
    if solver.get("method") in METHODS:
        return np.array([convergence_time(m, C, eps, t_max, **solver) for m in nets])
    from whitenlib.online import stack_networks  # online builds on flows' neighbours

    return convergence_time(stack_networks(nets), C, eps, t_max, **solver)


__all__ = [
    "FlowBatch",
    "FlowSolution",
    "convergence_time",
    "convergence_time_sweep",
    "errors_along",
    "integrate_flow",
    "is_stack",
    "M_along",
    "scale_network",
]
