"""Property-based: every public function and constructor refuses malformed arguments.

Each case names a callable, good arguments, and the kind of each argument
(an array, a scalar, a size). Hypothesis replaces one argument by a malformed
value of its kind (NaN or inf entries, complex or boolean arrays, text, None;
non-numeric, non-finite or non-positive scalars; negative, zero, fractional,
boolean or textual sizes) and requires the same clear ``ValueError`` that
names the argument; never a ``TypeError``, a warning-and-cast or NaN.
"""

from __future__ import annotations

import warnings

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import whitenlib as wl
from whitenlib import data, geometry, online, theory
from whitenlib.networks import leaky_fixed_point

N = 3
KEY = jax.random.key(0)
M = np.diag([2.0, 1.0, 0.5])
C = np.diag([3.0, 1.0, 0.4])
W = np.hstack([np.eye(N), np.ones((N, 1))])
X = np.array([0.5, -1.0, 2.0])
NETS = {
    "direct": wl.DirectNetwork(M),
    "interneuron": wl.InterneuronNetwork(W),
    "control": wl.NonlocalDirectNetwork(M),
    "gain": wl.GainNetwork.from_M(M),
    "chain": wl.ChainNetwork.from_M(M),
    "leaky": wl.LeakyInterneuronNetwork(W, 0.5),
}

A, S, Z = "array", "scalar", "size"  # kinds of argument; None: not varied
AO, ZO = "optional array", "optional size"  # None is a valid value of these
V, T = "positive values", "times"  # vectorized (theory): arrays are valid; times may be 0
CASES = [
    # linalg
    ("spd_sqrt", wl.spd_sqrt, (M,), (A,)),
    ("spd_inv_sqrt", wl.spd_inv_sqrt, (M,), (A,)),
    ("random_orthogonal", wl.random_orthogonal, (KEY, N), (None, Z)),
    ("random_covariance", wl.random_covariance, (KEY, N, 0.5, 5.0), (None, Z, S, S)),
    ("log_uniform_spectrum", wl.log_uniform_spectrum, (KEY, N, 0.5, 5.0), (None, Z, S, S)),
    ("covariance_from_spectrum", wl.covariance_from_spectrum, (np.ones(N), np.eye(N)), (A, AO)),
    # objective
    ("whitening_error", wl.whitening_error, (M, C), (A, A)),
    ("objective", wl.objective, (M, C), (A, A)),
    ("objective_gradient", wl.objective_gradient, (M, C), (A, A)),
    ("output_covariance", wl.output_covariance, (M, C), (A, A)),
    ("interneuron_objective", wl.interneuron_objective, (W, C), (A, A)),
    ("interneuron_objective_gradient", wl.interneuron_objective_gradient, (W, C), (A, A)),
    # constructors and random initial networks
    ("DirectNetwork", wl.DirectNetwork, (M,), (A,)),
    ("NonlocalDirectNetwork", wl.NonlocalDirectNetwork, (M,), (A,)),
    ("InterneuronNetwork", wl.InterneuronNetwork, (W,), (A,)),
    ("DaleInterneuronNetwork", wl.DaleInterneuronNetwork, (W,), (A,)),
    ("GainNetwork", wl.GainNetwork, (wl.GainNetwork.frame(N), np.zeros(6)), (A, A)),
    ("GainNetwork.frame", wl.GainNetwork.frame, (N, 6), (Z, ZO)),
    ("ChainNetwork", wl.ChainNetwork, (np.eye(N), np.eye(N)), (A, A)),
    ("AsymmetricInterneuronNetwork", wl.AsymmetricInterneuronNetwork, (W, W.T), (A, A)),
    ("LeakyInterneuronNetwork", wl.LeakyInterneuronNetwork, (W, 0.5), (A, S)),
    ("FiniteSettling", wl.FiniteSettling, (NETS["direct"], 2.0), (None, S)),
    ("InterneuronNetwork.from_M", wl.InterneuronNetwork.from_M, (M, 4), (A, ZO)),
    ("GainNetwork.from_M", wl.GainNetwork.from_M, (M, 6), (A, ZO)),
    ("ChainNetwork.from_M", wl.ChainNetwork.from_M, (M, 4), (A, ZO)),
    ("DirectNetwork.random", wl.DirectNetwork.random, (KEY, N, 1.0, 4), (None, Z, S, ZO)),
    ("InterneuronNetwork.random", wl.InterneuronNetwork.random, (KEY, N, 1.0, 4), (None, Z, S, ZO)),
    ("DaleInterneuronNetwork.random", wl.DaleInterneuronNetwork.random, (KEY, N, 1.0, 4),
     (None, Z, S, ZO)),
    ("NonlocalDirectNetwork.random", wl.NonlocalDirectNetwork.random, (KEY, N, 1.0), (None, Z, S)),
    # geometry, theory
    ("preconditioner", geometry.preconditioner, (M, C), (A, A)),
    ("preconditioner_inverse", geometry.preconditioner_inverse, (M, C), (A, A)),
    ("preconditioner_eigenvalues", geometry.preconditioner_eigenvalues, (M,), (A,)),
    ("preconditioner_matrix", geometry.preconditioner_matrix, (M,), (A,)),
    ("metric", geometry.metric, (M, C, C), (A, A, A)),
    ("symmetric_basis", geometry.symmetric_basis, (N,), (Z,)),
    ("frame_operator", wl.networks.frame_operator, (W,), (A,)),
    ("leaky_fixed_point", leaky_fixed_point, (C, 2, 0.5), (A, Z, S)),
    ("mode_error", theory.mode_error, (2.0, 1.0), (V, V)),
    ("target_band", theory.target_band, (1.0, 0.1), (V, V)),
    ("direct_convergence_time", theory.direct_convergence_time, (3.0, 1.0, 0.1), (V, V, V)),
    ("interneuron_convergence_time", theory.interneuron_convergence_time, (3.0, 1.0, 0.1),
     (V, V, V)),
    ("chain_convergence_time", theory.chain_convergence_time, (3.0, 1.0, 0.1), (V, V, V)),
    ("chain_time_to_reach", theory.chain_time_to_reach, (3.0, 2.0, 1.0), (V, V, V)),
    ("direct_mode_trajectory", theory.direct_mode_trajectory, (3.0, 1.0, 0.5), (V, V, T)),
    ("interneuron_mode_trajectory", theory.interneuron_mode_trajectory, (3.0, 1.0, 0.5),
     (V, V, T)),
    # data
    ("natural_patches", lambda size, per_image: data.natural_patches(size, "camera",
                                                                     per_image=per_image),
     (4, 50), (Z, Z)),
    # online
    ("initial_factors", online.initial_factors, (0, N, 1.0, 4), (None, Z, V, ZO)),
    ("initial_M", online.initial_M, (0, N, 1.0, 4), (None, Z, V, ZO)),
    ("initial_networks", lambda n, g, k: online.initial_networks(wl.InterneuronNetwork, 0, n, g, k),
     (N, 1.0, 4), (Z, V, ZO)),
]
# the methods of every network
for _name, _net in NETS.items():
    CASES += [
        (f"{_name}.step", _net.step, (X, 0.01), (A, S)),
        (f"{_name}.mean_step", _net.mean_step, (C, 0.01), (A, S)),
        (f"{_name}.flow", _net.flow, (C,), (A,)),
        (f"{_name}.respond", _net.respond, (X,), (A,)),
        (f"{_name}.error", _net.error, (C,), (A,)),
        (f"{_name}.objective", _net.objective, (C,), (A,)),
    ]
CASES += [("simulate_neural_dynamics",
           lambda x, t, dt: wl.simulate_neural_dynamics(NETS["direct"], x, t, dt),
           (X, 1.0, 0.1), (A, S, S))]


def _array_variants(good, optional=False):
    good = np.asarray(good, dtype=float)
    nan = good.copy()
    nan.flat[0] = np.nan
    inf = good.copy()
    inf.flat[-1] = -np.inf
    values = [nan, inf, good + 1j, good.astype(complex), good > 0, "abc", "0.1", b"x"]
    return st.sampled_from(values + ([] if optional else [None]))


_NON_NUMBERS = [np.nan, np.inf, -np.inf, "0.1", None, 0.1 + 0.2j, True, False, np.bool_(True)]
SCALARS = st.one_of(
    st.sampled_from(_NON_NUMBERS + [np.array([0.1, 0.2])]),
    st.floats(max_value=0.0, allow_nan=False),  # zero and negative
)
VALUES = st.one_of(
    st.sampled_from(_NON_NUMBERS + [np.array([0.1, np.nan]), np.array([1.0 + 0j])]),
    st.floats(max_value=0.0, allow_nan=False),
)
TIMES = st.one_of(
    st.sampled_from(_NON_NUMBERS + [np.array([0.1, np.nan])]),
    st.floats(max_value=-1e-9, allow_nan=False),
)
_SIZES = [
    st.sampled_from(["3", True, np.nan, np.inf, 2.5, 3 + 0j, np.array([2, 3])]),
    st.integers(max_value=0),
    st.floats(min_value=0.01, max_value=1e6).filter(lambda v: v != int(v)),  # fractional
]
SIZES = st.one_of(st.just(None), *_SIZES)


def malformed(kind, good):
    if kind in (A, AO):
        return _array_variants(good, optional=kind == AO)
    if kind == ZO:
        return st.one_of(*_SIZES)
    if kind in (V, T):
        return VALUES if kind == V else TIMES
    # theory's arrays of positive values are scalars here; zero/negative are malformed for them
    return SCALARS if kind == S else SIZES


@st.composite
def bad_call(draw):
    label, fn, args, kinds = draw(st.sampled_from(CASES))
    slot = draw(st.sampled_from([i for i, k in enumerate(kinds) if k is not None]))
    value = draw(malformed(kinds[slot], args[slot]))
    return label, fn, args[:slot] + (value,) + args[slot + 1:], slot


@pytest.mark.parametrize("case", [pytest.param(c, id=c[0]) for c in CASES])
def test_good_arguments_are_accepted(case):
    # the cases are meaningful: with the good arguments each call succeeds
    _, fn, args, _ = case
    fn(*args)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bad_call())
def test_malformed_arguments_raise_a_clear_value_error(call):
    label, fn, args, _ = call
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a cast with a warning (complex to real) is a failure too
        with pytest.raises(ValueError) as info:
            fn(*args)
    message = str(info.value)
    assert len(message) > 20, (label, message)  # a sentence, not NumPy's terse complaint
