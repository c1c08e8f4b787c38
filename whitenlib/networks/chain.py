"""A deeper interneuron pathway (chapter 7): M = A Aᵀ, A = W₁W₂, W₁ (n × n), W₂ (n × p), p ≥ n.

Flow (7.7)  dW₁/dt = E A W₂ᵀ,  dW₂/dt = W₁ᵀ E A,  E = M⁻¹CM⁻¹ − I
(−½ the gradient of f(AAᵀ)). Balanced, commuting, one mode:
dm/dt = 4 (λ − m²)/√m  (7.10), closed forms in :mod:`whitenlib.theory`.
"""

from __future__ import annotations

from typing import ClassVar

import jax
import jax.numpy as jnp

from whitenlib import theory
from whitenlib.linalg import random_orthogonal, spd_power, symmetrize
from whitenlib.networks.base import AbstractNetwork, direct_flow, outer
from whitenlib.validation import as_array, check_size, check_spd


def _split_chain(w):
    n = w.shape[-2]
    return w[..., :, :n], w[..., :, n:]


def _chain_M(w):
    w1, w2 = _split_chain(w)
    a = w1 @ w2
    return symmetrize(a @ jnp.swapaxes(a, -1, -2))


class ChainNetwork(AbstractNetwork):
    """A deeper interneuron pathway: M = A Aᵀ, A = W₁ W₂, W₁ (n × n), W₂ (n × p), p ≥ n.

    The signal goes primary → (W₁ᵀ) → a first interneuron layer → (W₂ᵀ) → a
    second layer → (W₂) → back to the first → (−W₁) → primary neurons; at
    equilibrium ȳ = M⁻¹x as for the other networks. The learned synapses
    are stored side by side, ``weights = [W₁ | W₂]`` of shape (n, n + p), so
    the flow integrator of :mod:`whitenlib.flows` runs this class unchanged.
    M is of degree 4 in the weights.

    Flow, eq. (7.7):  dW₁/dt = E A W₂ᵀ,  dW₂/dt = W₁ᵀ E A,  E = M⁻¹CM⁻¹ − I,
    which is −½ the gradient of f(AAᵀ) in (W₁, W₂). It conserves
    W₁ᵀW₁ − W₂W₂ᵀ (the imbalance); on the balanced set W₁ᵀW₁ = W₂W₂ᵀ,
    W₁W₁ᵀ = M^{1/2} and the induced flow is eq. (7.9).
    """

    weights: jax.Array
    label: ClassVar[str] = "chain"
    weights_degree: ClassVar[int] = 4
    weights_are_factor: ClassVar[bool] = False

    def __init__(self, W1, W2):
        w1 = as_array("W1", W1, min_ndim=2)
        w2 = as_array("W2", W2, min_ndim=2)
        n = w1.shape[-2]
        if w1.shape[-1] != n:
            raise ValueError(f"W1 must be square (n, n), got {w1.shape}.")
        if w2.shape[-2] != n or w2.shape[-1] < n:
            raise ValueError(f"W2 must have shape ({n}, p) with p >= {n}, got {w2.shape}.")
        w = jnp.concatenate([w1, w2], axis=-1)
        check_spd("M = A A^T of the chain", _chain_M(w))
        self.weights = w

    @classmethod
    def from_M(cls, M, p: int | None = None, key: jax.Array | None = None) -> ChainNetwork:
        """A balanced chain with A Aᵀ = M: W₁ = M^{1/4}, W₂ = M^{1/4} [I, 0] Vᵀ.

        V is Haar-random when ``key`` is given, the identity otherwise.
        """
        m = as_array("M", M, min_ndim=2)
        check_spd("M", m)
        n = m.shape[-1]
        p = n if p is None else check_size("p", p)
        if p < n:
            raise ValueError(f"p must be >= n = {n}, got p = {p}.")
        quarter = spd_power(m, 0.25)
        w2 = jnp.concatenate([quarter, jnp.zeros(quarter.shape[:-1] + (p - n,))], axis=-1)
        if key is not None:
            w2 = w2 @ random_orthogonal(key, p).T
        return cls(quarter, w2)

    @property
    def W1(self) -> jnp.ndarray:
        """First factor, shape (..., n, n)."""
        return _split_chain(self.weights)[0]

    @property
    def W2(self) -> jnp.ndarray:
        """Second factor, shape (..., n, p)."""
        return _split_chain(self.weights)[1]

    @property
    def A(self) -> jnp.ndarray:
        """A = W₁W₂, shape (..., n, p)."""
        return self.W1 @ self.W2

    @property
    def M(self) -> jnp.ndarray:
        """M = A Aᵀ, shape (..., n, n)."""
        return _chain_M(self.weights)

    def imbalance(self) -> jnp.ndarray:
        """W₁ᵀW₁ − W₂W₂ᵀ (n × n), conserved by the flow."""
        w1, w2 = self.W1, self.W2
        return jnp.swapaxes(w1, -1, -2) @ w1 - w2 @ jnp.swapaxes(w2, -1, -2)

    def _update(self, x, eta):
        # sample version of eq. (7.7), E ≈ y yᵀ − I: with n₂ = Aᵀy,
        # W₁ ← W₁ + η (y (W₂n₂)ᵀ − W₁W₂W₂ᵀ),  W₂ ← W₂ + η ((W₁ᵀy) n₂ᵀ − W₁ᵀW₁W₂)
        w1, w2 = self.W1, self.W2
        y = self._respond(x)
        n2 = y @ (w1 @ w2)
        dw1 = outer(y, w2 @ n2) - w1 @ w2 @ w2.T
        dw2 = outer(y @ w1, n2) - w1.T @ w1 @ w2
        return self.with_weights(self.weights + eta * jnp.concatenate([dw1, dw2], axis=-1))

    def _mean_flow(self, c):
        # eq. (7.7)
        w1, w2 = self.W1, self.W2
        a = w1 @ w2
        e = direct_flow(self.M, c)
        return jnp.concatenate([e @ a @ jnp.swapaxes(w2, -1, -2),
                                jnp.swapaxes(w1, -1, -2) @ e @ a], axis=-1)

    def neural_velocity(self, state, x, tau: float = 1.0, tau_1: float = 1.0, tau_2: float = 1.0):
        """Fast dynamics of the pathway; ``state`` = (y (n,), u (n,), v (p,)).

        τ dy/dt = x − W₁ u,  τ₁ du/dt = W₂ v − u,  τ₂ dv/dt = W₂ᵀ W₁ᵀ y − v
        (the first layer's feedforward relay W₁ᵀy taken as instantaneous). At
        equilibrium v = Aᵀy, u = W₂Aᵀy and x = AAᵀy, i.e. ȳ = M⁻¹x; the book
        uses only this equilibrium.
        """
        y, u, v = state
        w1, w2 = self.W1, self.W2
        return ((x - w1 @ u) / tau, (w2 @ v - u) / tau_1, ((y @ w1) @ w2 - v) / tau_2)

    def neural_initial_state(self):
        """y = 0, u = 0, v = 0."""
        return (jnp.zeros(self.n), jnp.zeros(self.n), jnp.zeros(self.W2.shape[-1]))

    def neural_output(self, state):
        """The primary neurons' activity y."""
        return state[0]

    mode_rate = staticmethod(theory.chain_mode_rate)
    mode_convergence_time = staticmethod(theory.chain_convergence_time)
    mode_convergence_time_limit = staticmethod(theory.chain_convergence_time_limit)


__all__ = ["ChainNetwork"]
