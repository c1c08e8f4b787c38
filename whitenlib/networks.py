"""The two whitening circuits as immutable JAX pytrees.

``DirectNetwork(M)``
    n primary neurons with direct recurrent synapses M (n × n, SPD).
    Fast dynamics (2.1)  τ dy/dt = x − M y          → ȳ = M⁻¹ x
    Algorithm 1 (2.3)    M ← M + η (y yᵀ − I)
    Synaptic flow (3.1)  dM/dt = M⁻¹ C M⁻¹ − I = −∇f(M)

``InterneuronNetwork(W)``
    n primary neurons and k ≥ n interneurons; Wᵀ (k × n) carries primary →
    interneuron, −W (n × k) interneuron → primary. Effective M = W Wᵀ.
    Fast dynamics (2.2)  τ dy/dt = x − W n,  τₙ dn/dt = Wᵀ y − n
                         → n̄ = Wᵀ ȳ, ȳ = (W Wᵀ)⁻¹ x
    Algorithm 2 (2.4)    W ← W + η (y nᵀ − W)
    Synaptic flow (3.2)  dW/dt = (M⁻¹ C M⁻¹ − I) W = −½ ∇g(W)

Both classes share one interface (``weights``, ``M``, ``respond``, ``step``,
``mean_step``, ``flow``, ``neural_velocity``, ``mode_rate``,
``mode_convergence_time``) so chapters can loop over them without branching
on the kind.

Pytree rebuilds (``jit``, ``vmap``, ``scan``) bypass the constructor, so
validation runs only when a user builds a network, and batched weights with
leading axes are accepted.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
from jax.scipy.linalg import cho_factor, cho_solve

from whitenlib import theory
from whitenlib.linalg import symmetrize
from whitenlib.objective import _objective, _whitening_error
from whitenlib.validation import (
    as_array,
    check_full_row_rank,
    check_positive,
    check_spd,
    check_vector,
    is_concrete,
)


def _check_sample(x, n: int, *, single: bool = False) -> jnp.ndarray:
    x = as_array("x", x, min_ndim=1)
    check_vector("x", x, n)
    if single and x.ndim != 1:
        raise ValueError(f"x must be one sample of shape ({n},) for step, got {x.shape}.")
    return x


def _check_covariance(c, n: int) -> jnp.ndarray:
    c = as_array("C", c, min_ndim=2)
    check_spd("C", c)
    if c.shape[-1] != n:
        raise ValueError(f"C must have shape ({n}, {n}) to match the network, got {c.shape}.")
    return c


def _check_eta(eta) -> jnp.ndarray:
    check_positive("eta", eta)
    return jnp.asarray(eta, dtype=jnp.float64)


def _outer(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
    return a[..., :, None] * b[..., None, :]


class _Network:
    """Shared behaviour; subclasses define the mathematics."""

    #: name used in legends and tables
    label: str = ""

    @property
    def n(self) -> int:
        """Number of primary neurons."""
        return self.M.shape[-1]

    def error(self, C) -> jnp.ndarray:
        """Whitening error ‖M⁻¹ C M⁻¹ − I‖₂ of this network, eq. (1.7)."""
        return _whitening_error(self.M, _check_covariance(C, self.n))

    def objective(self, C) -> jnp.ndarray:
        """Objective f(M) = Tr(M⁻¹C + M) at this network's M, eq. (1.3)."""
        return _objective(self.M, _check_covariance(C, self.n))

    def mean_step(self, C, eta) -> "_Network":
        """One step of the averaged (expected) update: weights + η · flow(C)."""
        c = _check_covariance(C, self.n)
        eta = _check_eta(eta)
        return self.with_weights(self.weights + eta * self._flow(c))

    def flow(self, C) -> jnp.ndarray:
        """d(weights)/dt of the continuous synaptic dynamics; shaped like ``weights``."""
        return self._flow(_check_covariance(C, self.n))

    def step(self, x, eta) -> "_Network":
        """One online synaptic update from one sample x of shape (n,); returns a new network."""
        x = _check_sample(x, self.n, single=True)
        return self._step(x, _check_eta(eta))

    def respond(self, x) -> jnp.ndarray:
        """Equilibrium output ȳ = M⁻¹x of the fast dynamics; x of shape (n,) or (T, n)."""
        return self._respond(_check_sample(x, self.n))


@jax.tree_util.register_pytree_node_class
@dataclass(frozen=True, init=False, eq=False)
class DirectNetwork(_Network):
    """Primary neurons with direct recurrent synapses M (SPD, shape (n, n))."""

    weights: jnp.ndarray
    label = "direct"

    def __init__(self, M):
        m = as_array("M", M, min_ndim=2)
        check_spd("M", m)
        object.__setattr__(self, "weights", m)

    # pytree protocol: rebuilds skip validation
    def tree_flatten(self):
        return (self.weights,), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        obj = object.__new__(cls)
        object.__setattr__(obj, "weights", children[0])
        return obj

    def with_weights(self, weights) -> "DirectNetwork":
        """A network with new synapses (no validation: used inside jitted code)."""
        return self.tree_unflatten(None, (weights,))

    @classmethod
    def from_M(cls, M, k: int | None = None, key: jax.Array | None = None) -> "DirectNetwork":
        """The direct network whose recurrent matrix is M.

        ``k`` and ``key`` are accepted, and ignored, so that ``Net.from_M(M, k=k, key=key)``
        works for both network classes.
        """
        return cls(M)

    @property
    def M(self) -> jnp.ndarray:
        """Effective recurrent matrix (the synapses themselves), shape (..., n, n)."""
        return self.weights

    def _respond(self, x):
        factor = cho_factor(self.weights, lower=True)
        out = jnp.swapaxes(cho_solve(factor, jnp.swapaxes(jnp.atleast_2d(x), -1, -2)), -1, -2)
        return out.reshape(out.shape[:-2] + x.shape)  # keeps leading batch axes of the weights

    def _step(self, x, eta):
        # Algorithm 1, eq. (2.3): M ← M + η (y yᵀ − I), y = M⁻¹x
        y = self._respond(x)
        eye = jnp.eye(self.weights.shape[-1], dtype=self.weights.dtype)
        return self.with_weights(self.weights + eta * (_outer(y, y) - eye))

    def _flow(self, c):
        # eq. (3.1): dM/dt = M⁻¹ C M⁻¹ − I
        m = self.weights
        m_inv_c = jnp.linalg.solve(m, c)
        cyy = symmetrize(jnp.swapaxes(jnp.linalg.solve(m, jnp.swapaxes(m_inv_c, -1, -2)), -1, -2))
        return cyy - jnp.eye(m.shape[-1], dtype=m.dtype)

    def neural_velocity(self, state, x, tau: float = 1.0):
        """Right-hand side of the fast dynamics (2.1): dy/dt = (x − M y)/τ.

        ``state`` is y, shape (n,).
        """
        return (x - self.weights @ state) / tau

    def neural_initial_state(self):
        """Neural state before a stimulus: y = 0."""
        return jnp.zeros(self.n)

    def neural_output(self, state):
        """The primary neurons' activity y from the neural state."""
        return state

    mode_rate = staticmethod(theory.direct_mode_rate)
    mode_convergence_time = staticmethod(theory.direct_convergence_time)
    mode_trajectory = staticmethod(theory.direct_mode_trajectory)


@jax.tree_util.register_pytree_node_class
@dataclass(frozen=True, init=False, eq=False)
class InterneuronNetwork(_Network):
    """Primary neurons and k ≥ n interneurons; synapses W of shape (n, k), rank n.

    The network also carries M⁻¹ = (W Wᵀ)⁻¹ (attribute ``M_inv``), updated in
    O(n²) per online step by the Woodbury identity; :meth:`refresh` recomputes
    it exactly, which long runs do every few hundred steps.
    """

    weights: jnp.ndarray
    M_inv: jnp.ndarray
    label = "interneuron"

    def __init__(self, W):
        w = as_array("W", W, min_ndim=2)
        check_full_row_rank("W", w)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "M_inv", _exact_inverse(w))

    def tree_flatten(self):
        return (self.weights, self.M_inv), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        obj = object.__new__(cls)
        object.__setattr__(obj, "weights", children[0])
        object.__setattr__(obj, "M_inv", children[1])
        return obj

    def with_weights(self, weights) -> "InterneuronNetwork":
        """A network with new synapses and their exact M⁻¹ (no validation)."""
        return self.tree_unflatten(None, (weights, _exact_inverse(weights)))

    def refresh(self) -> "InterneuronNetwork":
        """Recompute the carried M⁻¹ exactly from W (removes Woodbury round-off drift)."""
        return self.with_weights(self.weights)

    @classmethod
    def from_M(cls, M, k: int | None = None, key: jax.Array | None = None) -> "InterneuronNetwork":
        """An interneuron network with W Wᵀ = M.

        W = M^{1/2} [I_n, 0] Vᵀ for a random orthogonal V (k × k) when ``key``
        is given, else W = [M^{1/2}, 0]. Every such W gives the same M-dynamics
        (chapter 3).
        """
        from whitenlib.linalg import random_orthogonal, spd_sqrt

        m_half = spd_sqrt(M)
        n = m_half.shape[-1]
        k = n if k is None else int(k)
        if k < n:
            raise ValueError(f"k must be >= n = {n} to realize an SPD M, got k = {k}.")
        w = jnp.concatenate([m_half, jnp.zeros((n, k - n))], axis=-1)
        if key is not None:
            w = w @ random_orthogonal(key, k).T
        return cls(w)

    @property
    def k(self) -> int:
        """Number of interneurons."""
        return self.weights.shape[-1]

    @property
    def M(self) -> jnp.ndarray:
        """Effective recurrent matrix M = W Wᵀ, shape (..., n, n)."""
        return self.weights @ jnp.swapaxes(self.weights, -1, -2)

    def _respond(self, x):
        return x @ self.M_inv

    def respond_interneurons(self, x) -> jnp.ndarray:
        """Equilibrium interneuron activity n̄ = Wᵀ ȳ; x of shape (n,) or (T, n) -> (k,) or (T, k)."""
        return self.respond(x) @ self.weights

    def step(self, x, eta) -> "InterneuronNetwork":
        """One online update (Algorithm 2) from one sample x of shape (n,); needs 0 < η < 1."""
        if is_concrete(eta) and jnp.ndim(eta) == 0 and float(eta) >= 1.0:
            raise ValueError(
                f"eta must be < 1 for the interneuron network (got {float(eta)}): at eta = 1 the "
                "decay term erases W and W becomes rank one. Use a small eta such as 1e-3."
            )
        return super().step(x, eta)

    def _step(self, x, eta):
        # Algorithm 2, eq. (2.4): W ← (1 − η) W + η y nᵀ, y = M⁻¹x, n = Wᵀy.
        w, m_inv = self.weights, self.M_inv
        y = m_inv @ x
        n_act = y @ w
        w_new = (1.0 - eta) * w + eta * _outer(y, n_act)
        # M' = a M + U S Uᵀ with a = (1−η)², U = [x, y], since W n = M y = x:
        # S = [[0, η(1−η)], [η(1−η), η²‖n‖²]]. Woodbury with A = aM:
        # M'⁻¹ = A⁻¹ − A⁻¹U (I + S Uᵀ A⁻¹ U)⁻¹ S Uᵀ A⁻¹, and A⁻¹U = [y, M⁻¹y]/a.
        a = (1.0 - eta) ** 2
        z = m_inv @ y
        b = eta * (1.0 - eta)
        c = eta**2 * (n_act @ n_act)
        g11, g12, g22 = x @ y / a, y @ y / a, y @ z / a  # Uᵀ A⁻¹ U, symmetric
        # K = I + S G, G = [[g11, g12], [g12, g22]]
        k11, k12 = 1.0 + b * g12, b * g22
        k21, k22 = b * g11 + c * g12, 1.0 + b * g12 + c * g22
        det = k11 * k22 - k12 * k21
        # R = K⁻¹ S  (2 × 2)
        s11, s12, s22 = 0.0, b, c
        r11 = (k22 * s11 - k12 * s12) / det
        r12 = (k22 * s12 - k12 * s22) / det
        r21 = (-k21 * s11 + k11 * s12) / det
        r22 = (-k21 * s12 + k11 * s22) / det
        ay, az = y / a, z / a
        m_inv_new = m_inv / a - (
            r11 * _outer(ay, ay) + r12 * _outer(ay, az) + r21 * _outer(az, ay) + r22 * _outer(az, az)
        )
        return self.tree_unflatten(None, (w_new, symmetrize(m_inv_new)))

    def _flow(self, c):
        # eq. (3.2): dW/dt = (M⁻¹ C M⁻¹ − I) W
        return DirectNetwork.tree_unflatten(None, (self.M,))._flow(c) @ self.weights

    def neural_velocity(self, state, x, tau: float = 1.0, tau_n: float = 1.0):
        """Right-hand side of the fast dynamics (2.2).

        ``state`` is the pair (y, n) with shapes (n,), (k,):
        dy/dt = (x − W n)/τ,  dn/dt = (Wᵀ y − n)/τₙ.
        """
        y, n_act = state
        return ((x - self.weights @ n_act) / tau, (y @ self.weights - n_act) / tau_n)

    def neural_initial_state(self):
        """Neural state before a stimulus: y = 0, n = 0."""
        return (jnp.zeros(self.n), jnp.zeros(self.k))

    def neural_output(self, state):
        """The primary neurons' activity y from the neural state (y, n)."""
        return state[0]

    mode_rate = staticmethod(theory.interneuron_mode_rate)
    mode_convergence_time = staticmethod(theory.interneuron_convergence_time)
    mode_trajectory = staticmethod(theory.interneuron_mode_trajectory)


def _exact_inverse(w: jnp.ndarray) -> jnp.ndarray:
    m = w @ jnp.swapaxes(w, -1, -2)
    eye = jnp.broadcast_to(jnp.eye(m.shape[-1], dtype=m.dtype), m.shape)
    factor = cho_factor(m, lower=True)
    return symmetrize(cho_solve(factor, eye))


NETWORKS = (DirectNetwork, InterneuronNetwork)
