"""The whitening circuits, one module per circuit, all implementing :class:`AbstractNetwork`.

* ``base``: :class:`AbstractNetwork`, the declared interface;
* ``direct``: :class:`DirectNetwork`, direct synapses M, Algorithm 1 (chapter 2);
* ``interneuron``: :class:`InterneuronNetwork`, M = W Wᵀ, Algorithm 2 (chapter 2);
* ``control``: :class:`NonlocalDirectNetwork`, M with the interneuron M-flow, through a
  non-local rule (chapters 3 and 7);
* ``chain``: :class:`ChainNetwork`, M = (W₁W₂)(W₁W₂)ᵀ (chapter 7);
* ``asymmetric``: :class:`AsymmetricInterneuronNetwork`, W ≠ Vᵀ (chapter 8);
* ``dale``: :class:`DaleInterneuronNetwork`, W ≥ 0 (chapter 8);
* ``leaky``: :class:`LeakyInterneuronNetwork`, M = ε I + W Wᵀ (chapter 8);
* ``settling``: :class:`FiniteSettling`, finite settling time (chapter 8);
* ``gain``: :class:`GainNetwork`, fixed frame, learned gains (chapter 9).
"""

from whitenlib.networks.asymmetric import AsymmetricInterneuronNetwork
from whitenlib.networks.base import AbstractNetwork, random_factor
from whitenlib.networks.chain import ChainNetwork
from whitenlib.networks.control import NonlocalDirectNetwork
from whitenlib.networks.dale import DaleInterneuronNetwork
from whitenlib.networks.direct import AbstractDirectSynapses, DirectNetwork
from whitenlib.networks.gain import GainNetwork, frame_operator, n_symmetric
from whitenlib.networks.interneuron import InterneuronNetwork
from whitenlib.networks.leaky import LeakyInterneuronNetwork, leaky_fixed_point
from whitenlib.networks.settling import FiniteSettling, settled_response

#: the paper's two networks (chapters loop over them)
NETWORKS = (DirectNetwork, InterneuronNetwork)
#: the paper's two networks and the third mechanism of chapter 9
ALL_NETWORKS = (DirectNetwork, InterneuronNetwork, GainNetwork)
#: controls that separate the flow from the circuit realizing it
CONTROL_NETWORKS = (NonlocalDirectNetwork,)

__all__ = [
    "ALL_NETWORKS",
    "CONTROL_NETWORKS",
    "NETWORKS",
    "AbstractDirectSynapses",
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
    "frame_operator",
    "leaky_fixed_point",
    "n_symmetric",
    "random_factor",
    "settled_response",
]
