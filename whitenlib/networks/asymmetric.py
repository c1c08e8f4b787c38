"""Interneurons with separate feedback W (n × k) and feedforward V (k × n) synapses (chapter 8).

Fast dynamics (8.1)  τ dy/dt = x − W n,  τₙ dn/dt = V y − n → ȳ = (W V)⁻¹ x, n̄ = V ȳ.
Local rules          W ← W + η (y nᵀ − W),  V ← V + η (n yᵀ − V);
the asymmetry D = W − Vᵀ then obeys D ← (1 − η) D exactly, at every step (8.2).
"""

from __future__ import annotations

from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from whitenlib.linalg import spd_power, symmetrize
from whitenlib.networks.base import AbstractNetwork, outer
from whitenlib.validation import as_array, is_concrete


class AsymmetricInterneuronNetwork(AbstractNetwork):
    """Interneurons with separate feedback W (n × k) and feedforward V (k × n) synapses.

    Fast dynamics (8.1): τ dy/dt = x − W n,  τₙ dn/dt = V y − n  →  ȳ = (W V)⁻¹ x,
    n̄ = V ȳ. Local rules: W ← W + η (y nᵀ − W), V ← V + η (n yᵀ − V).
    Both W and Vᵀ receive the same Hebbian term y nᵀ, so the asymmetry
    D = W − Vᵀ decays as D ← (1 − η) D, whatever the samples (8.2).

    ``weights = [W | Vᵀ]``, shape (n, 2k). The circuit's matrix W V
    (``M_circuit``) is not symmetric in general; ``M`` is its symmetric polar
    factor, which has the same whitening error, so the error, the flow
    integrator and the online sweeps treat this class like the others.
    """

    weights: jax.Array
    label: ClassVar[str] = "asymmetric"
    weights_degree: ClassVar[int] = 2
    weights_are_factor: ClassVar[bool] = False

    def __init__(self, W, V):
        w = as_array("W", W, min_ndim=2)
        v = as_array("V", V, min_ndim=2)
        if v.shape[-2:] != w.shape[-2:][::-1]:
            raise ValueError(
                f"V must have shape (k, n) = {w.shape[-2:][::-1]} to match W, got {v.shape}."
            )
        m = w @ v
        if is_concrete(m):
            sv = np.linalg.svd(np.asarray(m), compute_uv=False)
            if np.min(sv[..., -1]) <= 1e-12 * max(float(np.max(sv[..., 0])), 1e-300):
                raise ValueError(
                    "W V is singular: the circuit has no equilibrium. "
                    "Use k >= n and generic W, V."
                )
        self.weights = jnp.concatenate([w, jnp.swapaxes(v, -1, -2)], axis=-1)

    @property
    def k(self) -> int:
        """Number of interneurons."""
        return self.weights.shape[-1] // 2

    @property
    def W(self) -> jnp.ndarray:
        """Feedback synapses (interneuron → primary, inhibitory), shape (..., n, k)."""
        return self.weights[..., : self.k]

    @property
    def V(self) -> jnp.ndarray:
        """Feedforward synapses (primary → interneuron), shape (..., k, n)."""
        return jnp.swapaxes(self.weights[..., self.k :], -1, -2)

    @property
    def M_circuit(self) -> jnp.ndarray:
        """The circuit's recurrent matrix W V (not symmetric in general), shape (..., n, n)."""
        return self.W @ self.V

    @property
    def M(self) -> jnp.ndarray:
        """Symmetric polar factor P = ((WV)(WV)ᵀ)^{1/2} of W V = P U, shape (..., n, n).

        The output y = (WV)⁻¹x = Uᵀ P⁻¹ x is P⁻¹x rotated, so
        ‖P⁻¹CP⁻¹ − I‖₂ is the whitening error of the circuit, and P is SPD
        exactly when W V is invertible. At W = Vᵀ, P = W V = W Wᵀ.
        """
        m = self.M_circuit
        return spd_power(m @ jnp.swapaxes(m, -1, -2), 0.5)

    def asymmetry(self) -> jnp.ndarray:
        """D = W − Vᵀ, shape (..., n, k)."""
        return self.weights[..., : self.k] - self.weights[..., self.k :]

    def _respond(self, x):
        xs = jnp.atleast_2d(x)
        out = jnp.swapaxes(jnp.linalg.solve(self.M_circuit, jnp.swapaxes(xs, -1, -2)), -1, -2)
        return out.reshape(out.shape[:-2] + x.shape)

    def _update(self, x, eta):
        # eq. (8.2): both halves of [W | Vᵀ] receive y nᵀ
        y = self._respond(x)
        n_act = self.V @ y
        hebb = outer(y, n_act)
        both = jnp.concatenate([hebb, hebb], axis=-1)
        return self.with_weights(self.weights + eta * (both - self.weights))

    def _mean_flow(self, c):
        # E[y nᵀ] = M⁻¹CM⁻ᵀ Vᵀ (M = W V) for both halves, minus the decay
        # M = W V is not symmetric, so objective's Cholesky solves do not apply: LU solves
        a = self.M_circuit
        a_inv_c = jnp.linalg.solve(a, c)
        cyy = symmetrize(jnp.swapaxes(jnp.linalg.solve(a, jnp.swapaxes(a_inv_c, -1, -2)), -1, -2))
        hebb = cyy @ self.weights[..., self.k :]
        return jnp.concatenate([hebb, hebb], axis=-1) - self.weights

    def neural_velocity(self, state, x, tau: float = 1.0, tau_n: float = 1.0):
        """Fast dynamics (8.1): dy/dt = (x − W n)/τ, dn/dt = (V y − n)/τₙ.

        The state is (y (n,), n (k,)).
        """
        y, n_act = state
        return ((x - self.W @ n_act) / tau, (self.V @ y - n_act) / tau_n)

    def neural_initial_state(self):
        """y = 0, n = 0."""
        return (jnp.zeros(self.n), jnp.zeros(self.k))

    def neural_output(self, state):
        """The primary neurons' activity y."""
        return state[0]


__all__ = ["AsymmetricInterneuronNetwork"]
