"""Primary neurons with direct recurrent synapses M (n × n, SPD).

Fast dynamics (2.1)  τ dy/dt = x − M y          → ȳ = M⁻¹ x
Algorithm 1 (2.3)    M ← M + η (y yᵀ − I)
Synaptic flow (3.1)  dM/dt = M⁻¹ C M⁻¹ − I = −∇f(M)
"""

from __future__ import annotations

from typing import ClassVar

import jax
import jax.numpy as jnp

from whitenlib import theory
from whitenlib.linalg import SMALL_SOLVE_MAX_N, small_spd_solve
from whitenlib.networks.base import AbstractNetwork, direct_flow, outer
from whitenlib.validation import as_array, check_spd


class AbstractDirectSynapses(AbstractNetwork):
    """Shared part of circuits whose learned synapses are M itself (SPD, shape (n, n)).

    The fast dynamics (2.1) are those of :class:`DirectNetwork`; subclasses
    choose the learning rule (``_update``, ``_mean_flow``) and the label.
    """

    weights: jax.Array
    weights_degree: ClassVar[int] = 1
    weights_are_factor: ClassVar[bool] = False

    def __init__(self, M):
        m = as_array("M", M, min_ndim=2)
        check_spd("M", m)
        self.weights = m

    @classmethod
    def from_M(cls, M, k: int | None = None, key: jax.Array | None = None):
        """The network whose recurrent matrix is M.

        ``k`` and ``key`` are accepted, and ignored, so that ``Net.from_M(M, k=k, key=key)``
        works for every network class.
        """
        return cls(M)

    @property
    def M(self) -> jnp.ndarray:
        """Effective recurrent matrix (the synapses themselves), shape (..., n, n)."""
        return self.weights

    def _respond(self, x):
        # ȳ = M⁻¹x. One sample against a small M (the online step, once per sample): the
        # unrolled Cholesky, several times faster than a LAPACK call inside a vmapped scan.
        if x.ndim == 1 and self.weights.ndim == 2 and self.n <= SMALL_SOLVE_MAX_N:
            return small_spd_solve(self.weights, x)
        return super()._respond(x)

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


class DirectNetwork(AbstractDirectSynapses):
    """Primary neurons with direct recurrent synapses M (SPD, shape (n, n)), Algorithm 1."""

    label: ClassVar[str] = "direct"

    def _update(self, x, eta):
        # Algorithm 1, eq. (2.3): M ← M + η (y yᵀ − I), y = M⁻¹x
        y = self._respond(x)
        eye = jnp.eye(self.weights.shape[-1], dtype=self.weights.dtype)
        return self.with_weights(self.weights + eta * (outer(y, y) - eye))

    def _mean_flow(self, c):
        # eq. (3.1): dM/dt = M⁻¹ C M⁻¹ − I = −∇f(M)
        return direct_flow(self.weights, c)

    mode_rate = staticmethod(theory.direct_mode_rate)
    mode_convergence_time = staticmethod(theory.direct_convergence_time)
    mode_trajectory = staticmethod(theory.direct_mode_trajectory)


__all__ = ["AbstractDirectSynapses", "DirectNetwork"]
