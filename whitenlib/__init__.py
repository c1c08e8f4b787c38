"""whitenlib: the mathematics of the book *Interneurons accelerate whitening*.

Call :func:`whitenlib.setup` first: it switches JAX to float64 (importing the
package does not) and applies the book's plotting style.

Modules
-------
config      precision, seeds, compilation cache
linalg      SPD powers, random orthogonal matrices, covariances with a spectrum
objective   f(M) = Tr(M⁻¹C + M), its gradients, the whitening error
networks    DirectNetwork, InterneuronNetwork (respond, step, flow)
gain        GainNetwork: fixed synapses, learned interneuron gains (chapter 9)
neural      the fast neural dynamics simulated in time
theory      closed forms of the commuting case and convergence times
flows       the continuous synaptic dynamics integrated (ODE solver, event detection)
plotting    the book's figure style and schematic circuits
data        sample streams (Gaussian, context switches, natural-image patches)
online      online learning as compiled scans, vmapped sweeps, convergence steps
variants    beyond the paper: deeper chains, separate W and V, Dale's principle,
            leaky circuits with few interneurons, finite settling (chapters 7-8)
"""

from whitenlib.config import enable_float64, float64_enabled, setup
from whitenlib.linalg import (
    covariance_from_spectrum,
    log_uniform_spectrum,
    random_covariance,
    random_orthogonal,
    spd_inv_sqrt,
    spd_sqrt,
)
from whitenlib.networks import NETWORKS, DirectNetwork, InterneuronNetwork
from whitenlib.gain import GainNetwork
from whitenlib.neural import neural_eigenvalues, simulate_neural_dynamics
from whitenlib.objective import (
    interneuron_objective,
    interneuron_objective_gradient,
    objective,
    objective_gradient,
    output_covariance,
    whitening_error,
)
from whitenlib import theory
from whitenlib import flows
from whitenlib.flows import convergence_time, convergence_time_sweep, integrate_flow
from whitenlib import data, online
from whitenlib import variants

#: the paper's two networks and the third mechanism of chapter 9
ALL_NETWORKS = (DirectNetwork, InterneuronNetwork, GainNetwork)

__version__ = "1.0.0"

__all__ = [
    "ALL_NETWORKS",
    "DirectNetwork",
    "GainNetwork",
    "InterneuronNetwork",
    "NETWORKS",
    "convergence_time",
    "convergence_time_sweep",
    "covariance_from_spectrum",
    "data",
    "enable_float64",
    "float64_enabled",
    "flows",
    "integrate_flow",
    "interneuron_objective",
    "interneuron_objective_gradient",
    "log_uniform_spectrum",
    "neural_eigenvalues",
    "objective",
    "objective_gradient",
    "online",
    "output_covariance",
    "random_covariance",
    "random_orthogonal",
    "setup",
    "simulate_neural_dynamics",
    "spd_inv_sqrt",
    "spd_sqrt",
    "theory",
    "variants",
    "whitening_error",
]
