"""whitenlib: the mathematics of the book *Interneurons accelerate whitening*.

Call :func:`whitenlib.setup` first: it switches JAX to float64 (importing the
package does not) and applies the book's plotting style.

Modules
-------
startup     setup(): the one call that starts a chapter (precision, then plotting style)
config      precision, seeds, compilation cache (no plotting)
linalg      SPD powers, random orthogonal matrices, covariances with a spectrum
objective   f(M) = Tr(M⁻¹C + M), its gradients, the whitening error
networks    the circuits, one module each, on one declared interface
            (networks.base.AbstractNetwork): direct, interneuron, control
            (non-local direct rule), chain, asymmetric, dale, leaky, settling, gain
geometry    the preconditioner P_M and metric of the interneuron flow (chapter 7)
neural      the fast neural dynamics simulated in time
theory      closed forms of the commuting case and convergence times
flows       the continuous synaptic dynamics integrated (ODE solver, event detection)
plotting    the book's figure style and schematic circuits
data        sample streams (Gaussian, context switches, natural-image patches)
online      online learning as compiled scans, vmapped sweeps, convergence steps
validation  the shared input checks
variants    the chapter 7-8 circuits and geometry under their earlier module name
"""

from whitenlib import data, flows, geometry, networks, online, theory, variants
from whitenlib.config import enable_float64, float64_enabled
from whitenlib.flows import convergence_time, convergence_time_sweep, integrate_flow
from whitenlib.linalg import (
    covariance_from_spectrum,
    log_uniform_spectrum,
    random_covariance,
    random_orthogonal,
    spd_inv_sqrt,
    spd_sqrt,
)
from whitenlib.networks import (
    ALL_NETWORKS,
    CONTROL_NETWORKS,
    NETWORKS,
    AbstractNetwork,
    AsymmetricInterneuronNetwork,
    ChainNetwork,
    DaleInterneuronNetwork,
    DirectNetwork,
    FiniteSettling,
    GainNetwork,
    InterneuronNetwork,
    LeakyInterneuronNetwork,
    NonlocalDirectNetwork,
)
from whitenlib.neural import neural_eigenvalues, simulate_neural_dynamics
from whitenlib.objective import (
    interneuron_objective,
    interneuron_objective_gradient,
    objective,
    objective_gradient,
    output_covariance,
    whitening_error,
)
from whitenlib.startup import setup

__version__ = "1.0.0"

__all__ = [
    "ALL_NETWORKS",
    "CONTROL_NETWORKS",
    "NETWORKS",
    "AbstractNetwork",
    "AsymmetricInterneuronNetwork",
    "ChainNetwork",
    "DaleInterneuronNetwork",
    "DirectNetwork",
    "FiniteSettling",
    "GainNetwork",
    "InterneuronNetwork",
    "LeakyInterneuronNetwork",
    "NonlocalDirectNetwork",
    "convergence_time",
    "convergence_time_sweep",
    "covariance_from_spectrum",
    "data",
    "enable_float64",
    "float64_enabled",
    "flows",
    "geometry",
    "integrate_flow",
    "interneuron_objective",
    "interneuron_objective_gradient",
    "log_uniform_spectrum",
    "networks",
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
