"""n primary neurons and k ≥ n interneurons: synapses W (n × k), effective M = W Wᵀ.

Wᵀ (k × n) carries primary → interneuron, −W (n × k) interneuron → primary::

    Fast dynamics (2.2)  τ dy/dt = x − W n,  τₙ dn/dt = Wᵀ y − n
                         → n̄ = Wᵀ ȳ, ȳ = (W Wᵀ)⁻¹ x
    Algorithm 2 (2.4)    W ← W + η (y nᵀ − W)
    Synaptic flow (3.2)  dW/dt = (M⁻¹ C M⁻¹ − I) W = −½ ∇g(W)
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.scipy.linalg import cho_factor, cho_solve

from whitenlib import theory
from whitenlib.linalg import random_orthogonal, spd_sqrt, symmetrize
from whitenlib.networks.base import AbstractNetwork, direct_flow, outer
from whitenlib.validation import (
    as_array,
    check_full_row_rank,
    check_positive,
    check_size,
    is_concrete,
)


def exact_inverse(w: jnp.ndarray) -> jnp.ndarray:
    """(W Wᵀ)⁻¹ by Cholesky, symmetrized; w (..., n, k) -> (..., n, n)."""
    m = w @ jnp.swapaxes(w, -1, -2)
    eye = jnp.broadcast_to(jnp.eye(m.shape[-1], dtype=m.dtype), m.shape)
    factor = cho_factor(m, lower=True)
    return symmetrize(cho_solve(factor, eye))


class InterneuronNetwork(AbstractNetwork):
    """Primary neurons and k ≥ n interneurons; synapses W of shape (n, k), rank n.

    The network also carries M⁻¹ = (W Wᵀ)⁻¹ (attribute ``M_inv``), updated in
    O(n²) per online step by the Woodbury identity; :meth:`refresh` recomputes
    it exactly, which long runs do every few hundred steps.
    """

    weights: jax.Array
    M_inv: jax.Array
    label: ClassVar[str] = "interneuron"
    weights_degree: ClassVar[int] = 2
    weights_are_factor: ClassVar[bool] = True
    carries_inverse: ClassVar[bool] = True

    def __init__(self, W):
        w = as_array("W", W, min_ndim=2)
        check_full_row_rank("W", w)
        self.weights = w
        self.M_inv = exact_inverse(w)

    def with_weights(self, weights) -> InterneuronNetwork:
        """A network with new synapses and their exact M⁻¹ (no validation)."""
        return _replace(self, weights, exact_inverse(weights))

    def refresh(self) -> InterneuronNetwork:
        """Recompute the carried M⁻¹ exactly from W (removes Woodbury round-off drift)."""
        return self.with_weights(self.weights)

    @classmethod
    def from_M(cls, M, k: int | None = None, key: jax.Array | None = None) -> InterneuronNetwork:
        """An interneuron network with W Wᵀ = M.

        W = M^{1/2} [I_n, 0] Vᵀ for a random orthogonal V (k × k) when ``key``
        is given, else W = [M^{1/2}, 0]. Every such W gives the same M-dynamics
        (chapter 3).
        """
        m_half = spd_sqrt(M)
        n = m_half.shape[-1]
        k = n if k is None else check_size("k", k)
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
        """Equilibrium interneuron activity n̄ = Wᵀ ȳ; x (n,) or (T, n) -> (k,) or (T, k)."""
        return self.respond(x) @ self.weights

    def step(self, x, eta) -> InterneuronNetwork:
        """One online update (Algorithm 2) from one sample x of shape (n,); needs 0 < η < 1."""
        if is_concrete(eta):
            check_positive("eta", eta)
            if float(eta) >= 1.0:
                raise ValueError(
                    f"eta must be < 1 for the interneuron network (got {float(eta)}): at eta = 1 "
                    "the decay term erases W and W becomes rank one. Use a small eta such as 1e-3."
                )
        return super().step(x, eta)

    def _update(self, x, eta):
        # Algorithm 2, eq. (2.4): W ← (1 − η) W + η y nᵀ, y = M⁻¹x, n = Wᵀy.
        w, m_inv = self.weights, self.M_inv
        y = m_inv @ x
        n_act = y @ w
        w_new = (1.0 - eta) * w + eta * outer(y, n_act)
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
            r11 * outer(ay, ay) + r12 * outer(ay, az) + r21 * outer(az, ay) + r22 * outer(az, az)
        )
        return _replace(self, w_new, symmetrize(m_inv_new))

    def _mean_flow(self, c):
        # eq. (3.2): dW/dt = (M⁻¹ C M⁻¹ − I) W = −∇f(M) W
        return direct_flow(self.M, c) @ self.weights

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


def _replace(net: InterneuronNetwork, weights, m_inv) -> InterneuronNetwork:
    """``net`` with new W and M⁻¹ (no validation, no recomputation)."""
    return eqx.tree_at(lambda nt: (nt.weights, nt.M_inv), net, (weights, m_inv))


__all__ = ["InterneuronNetwork", "exact_inverse"]
