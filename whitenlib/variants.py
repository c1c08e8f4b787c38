"""The circuits and geometry of chapters 7 and 8, under their earlier module name.

A thin re-export: the circuits live in :mod:`whitenlib.networks` (one module
each), the geometry of the interneuron flow in :mod:`whitenlib.geometry` and
the closed forms of the chain in :mod:`whitenlib.theory`.
"""

from whitenlib.geometry import (
    metric,
    preconditioner,
    preconditioner_eigenvalues,
    preconditioner_inverse,
    preconditioner_matrix,
)
from whitenlib.networks.asymmetric import AsymmetricInterneuronNetwork
from whitenlib.networks.chain import ChainNetwork
from whitenlib.networks.dale import DaleInterneuronNetwork
from whitenlib.networks.leaky import LeakyInterneuronNetwork, leaky_fixed_point
from whitenlib.networks.settling import FiniteSettling, settled_response
from whitenlib.theory import chain_time_to_reach

__all__ = [
    "AsymmetricInterneuronNetwork",
    "ChainNetwork",
    "DaleInterneuronNetwork",
    "FiniteSettling",
    "LeakyInterneuronNetwork",
    "chain_time_to_reach",
    "leaky_fixed_point",
    "metric",
    "preconditioner",
    "preconditioner_eigenvalues",
    "preconditioner_inverse",
    "preconditioner_matrix",
    "settled_response",
]
