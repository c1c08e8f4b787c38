"""Primary neurons with a leak ε and any number k ≥ 1 of interneurons (chapter 8).

Fast dynamics (8.4)  τ dy/dt = x − ε y − W n,  τₙ dn/dt = Wᵀ y − n → ȳ = (ε I + W Wᵀ)⁻¹ x.
Same local rule as the interneuron network; with k < n it whitens the top-k
principal subspace (:func:`leaky_fixed_point`).
"""

from __future__ import annotations

from typing import ClassVar

import jax
import jax.numpy as jnp

from whitenlib.linalg import symmetrize
from whitenlib.networks.base import AbstractNetwork, direct_flow, outer
from whitenlib.objective import _output_covariance
from whitenlib.validation import as_array, check_positive, check_size, check_spd


class LeakyInterneuronNetwork(AbstractNetwork):
    """Primary neurons with a leak ε and k ≥ 1 interneurons: M = ε I + W Wᵀ, W (n × k).

    Fast dynamics (8.4): τ dy/dt = x − ε y − W n, τₙ dn/dt = Wᵀ y − n →
    ȳ = (ε I + W Wᵀ)⁻¹ x. Rule and flow as for the interneuron network,
    W ← W + η (y nᵀ − W), dW/dt = (M⁻¹CM⁻¹ − I) W = −½ ∇_W f(ε I + W Wᵀ).
    M is SPD for every W, so any k (even k < n) gives a well-defined circuit.
    M is not homogeneous in W (the leak stays): ``weights_degree`` is None.
    """

    weights: jax.Array
    leak: jax.Array
    label: ClassVar[str] = "leaky"
    weights_degree: ClassVar[None] = None
    weights_are_factor: ClassVar[bool] = False

    def __init__(self, W, leak: float = 1.0):
        w = as_array("W", W, min_ndim=2)
        check_positive("leak", leak)
        self.weights = w
        self.leak = jnp.asarray(leak, dtype=jnp.float64)

    @property
    def k(self) -> int:
        """Number of interneurons."""
        return self.weights.shape[-1]

    @property
    def M(self) -> jnp.ndarray:
        """M = ε I + W Wᵀ, shape (..., n, n)."""
        w = self.weights
        eye = jnp.eye(w.shape[-2], dtype=w.dtype)
        return jnp.asarray(self.leak)[..., None, None] * eye + w @ jnp.swapaxes(w, -1, -2)

    def _update(self, x, eta):
        y = self._respond(x)
        n_act = y @ self.weights
        return self.with_weights((1.0 - eta) * self.weights + eta * outer(y, n_act))

    def _mean_flow(self, c):
        return direct_flow(self.M, c) @ self.weights

    def neural_velocity(self, state, x, tau: float = 1.0, tau_n: float = 1.0):
        """Fast dynamics (8.4): dy/dt = (x − ε y − W n)/τ, dn/dt = (Wᵀ y − n)/τₙ."""
        y, n_act = state
        dy = (x - self.leak * y - self.weights @ n_act) / tau
        return (dy, (y @ self.weights - n_act) / tau_n)

    def neural_initial_state(self):
        """y = 0, n = 0."""
        return (jnp.zeros(self.n), jnp.zeros(self.k))

    def neural_output(self, state):
        """The primary neurons' activity y."""
        return state[0]


def leaky_fixed_point(C, k: int, leak: float):
    """Learned M of the leaky network with k interneurons: ε I + Σ_{i≤k} (√λ_i − ε)₊ q_i q_iᵀ.

    The k largest-variance directions q_i of C are whitened (output variance 1)
    where √λ_i > ε; every other direction keeps m = ε (output variance λ/ε²).
    Returns M (n, n) and the predicted output covariance M⁻¹CM⁻¹ (n, n).
    """
    c = as_array("C", C, min_ndim=2)
    check_spd("C", c)
    check_positive("leak", leak)
    k = check_size("k", k, minimum=0)
    lam, q = jnp.linalg.eigh(c)
    lam, q = lam[::-1], q[:, ::-1]
    keep = jnp.arange(lam.shape[0]) < k
    m = jnp.where(keep, jnp.maximum(jnp.sqrt(lam), leak), leak)
    M = symmetrize((q * m) @ q.T)
    return M, _output_covariance(M, c)


__all__ = ["LeakyInterneuronNetwork", "leaky_fixed_point"]
