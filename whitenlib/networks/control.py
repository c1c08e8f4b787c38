"""A control: direct synapses driven by the interneuron network's M-flow through a non-local rule.

``NonlocalDirectNetwork(M)``
    The direct circuit (2.1), τ dy/dt = x − M y → ȳ = M⁻¹x, with the rule::

        M ← M + η (y xᵀ + x yᵀ − 2M),   y = M⁻¹x.

    Its mean, with E[y xᵀ] = M⁻¹C, is the flow::

        dM/dt = M⁻¹C + CM⁻¹ − 2M = −P_M(∇f(M)),   P_M(X) = M X + X M,

    exactly the flow that the interneuron network induces on M = W Wᵀ
    (eq. (3.4)). The update of synapse M_ij needs the input x_j, which is
    not the activity of either neuron it connects: the rule is not local.
    It separates what the interneurons bring (the preconditioned flow) from
    how they bring it (a local rule on a factor of M).

In the commuting case its modes follow dm/dt = 2(λ − m²)/m, those of the
interneuron network (eq. (3.7)), and share their convergence times.
"""

from __future__ import annotations

from typing import ClassVar

import jax.numpy as jnp

from whitenlib import theory
from whitenlib.geometry import lyapunov
from whitenlib.linalg import symmetrize
from whitenlib.networks.base import direct_flow, outer
from whitenlib.networks.direct import AbstractDirectSynapses


class NonlocalDirectNetwork(AbstractDirectSynapses):
    """Direct recurrent synapses M (SPD, (n, n)) with the non-local rule ΔM = η (y xᵀ + x yᵀ − 2M).

    Mean flow dM/dt = M⁻¹C + CM⁻¹ − 2M = −P_M(∇f(M)): the interneuron
    network's induced flow on M, realized on M itself.
    """

    label: ClassVar[str] = "direct, non-local rule"

    def _update(self, x, eta):
        # M ← M + η (y xᵀ + x yᵀ − 2M), y = M⁻¹x
        y = self._respond(x)
        hebb = outer(y, x)
        update = hebb + jnp.swapaxes(hebb, -1, -2) - 2.0 * self.weights
        return self.with_weights(self.weights + eta * update)

    def _mean_flow(self, c):
        # dM/dt = P_M(M⁻¹CM⁻¹ − I) = M⁻¹C + CM⁻¹ − 2M, eq. (3.4)
        m = self.weights
        return symmetrize(lyapunov(m, direct_flow(m, c)))

    mode_rate = staticmethod(theory.interneuron_mode_rate)
    mode_convergence_time = staticmethod(theory.interneuron_convergence_time)
    mode_trajectory = staticmethod(theory.interneuron_mode_trajectory)


__all__ = ["NonlocalDirectNetwork"]
