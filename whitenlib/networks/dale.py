"""The interneuron network with sign-constrained synapses W ≥ 0 (Dale's principle, chapter 8).

Wᵀ (primary → interneuron) is excitatory and −W (interneuron → primary)
inhibitory; every update is projected, W ← max(0, W + η (y nᵀ − W))  (8.3).
"""

from __future__ import annotations

from typing import ClassVar

import jax
import jax.numpy as jnp

from whitenlib.networks.base import outer, random_factor
from whitenlib.networks.interneuron import InterneuronNetwork
from whitenlib.validation import as_array, is_concrete


class DaleInterneuronNetwork(InterneuronNetwork):
    """The interneuron network with nonnegative synapses W ≥ 0 (inhibitory interneurons).

    Wᵀ (primary → interneuron) is excitatory and −W (interneuron → primary)
    inhibitory. Every new weight matrix is projected onto W ≥ 0
    (:meth:`with_weights` clips at zero), so the online step and the averaged
    step are the projected rules (8.3): W ← max(0, W + η (y nᵀ − W)).
    M = W Wᵀ then has nonnegative entries.
    """

    label: ClassVar[str] = "dale"

    def __init__(self, W):
        w = as_array("W", W, min_ndim=2)
        if is_concrete(w) and bool(jnp.any(w < 0)):
            raise ValueError(
                "W must be elementwise nonnegative (Dale's principle): pass jnp.abs(W)."
            )
        super().__init__(w)

    def with_weights(self, weights) -> DaleInterneuronNetwork:
        """A network with synapses max(0, weights) and their exact M⁻¹ (no validation)."""
        return super().with_weights(jnp.maximum(weights, 0.0))

    @classmethod
    def random(
        cls, key: jax.Array, n: int, gamma=1.0, k: int | None = None
    ) -> DaleInterneuronNetwork:
        """W₀ = ``√(γ/k)·|A|``, A standard normal (n × k), k defaults to 2n: nonnegative weights.

        ``|A|`` of the same A as :func:`~whitenlib.networks.base.random_factor`.
        """
        return cls(jnp.abs(random_factor(key, n, gamma, k)))

    def _update(self, x, eta):
        # eq. (8.3): projected Hebbian step (the Woodbury update does not survive the projection)
        y = self.M_inv @ x
        n_act = y @ self.weights
        return self.with_weights((1.0 - eta) * self.weights + eta * outer(y, n_act))


__all__ = ["DaleInterneuronNetwork"]
