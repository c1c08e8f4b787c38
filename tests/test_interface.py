"""The declared network interface (whitenlib.networks.base): every circuit honours it.

Each concrete class declares ``label``, ``weights_degree`` and
``weights_are_factor``; these are checked here against what the numbers say,
so a declaration cannot drift from the mathematics. Also: networks are
equinox Modules (no hand-written pytree code), ``with_weights`` never
validates, public ``step``/``flow``/``mean_step`` run under jit/vmap/scan, and
``Net.random`` is one convention.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import pytest

import whitenlib as wl
from whitenlib.networks import AbstractNetwork, random_factor

N = 3
C = np.diag([3.0, 1.0, 0.4])


def examples():
    """One network of every concrete class, generic (not at the whitening solution)."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((N, 2 * N))
    m = w @ w.T
    return {
        wl.DirectNetwork: wl.DirectNetwork(m),
        wl.NonlocalDirectNetwork: wl.NonlocalDirectNetwork(m),
        wl.InterneuronNetwork: wl.InterneuronNetwork(w),
        wl.DaleInterneuronNetwork: wl.DaleInterneuronNetwork(np.abs(w)),
        wl.GainNetwork: wl.GainNetwork.from_M(m),
        wl.ChainNetwork: wl.ChainNetwork(np.eye(N) + 0.1 * rng.standard_normal((N, N)),
                                         rng.standard_normal((N, N + 1))),
        wl.AsymmetricInterneuronNetwork: wl.AsymmetricInterneuronNetwork(w, w.T + 0.1),
        wl.LeakyInterneuronNetwork: wl.LeakyInterneuronNetwork(w[:, :2], 0.5),
        wl.FiniteSettling: wl.FiniteSettling(wl.InterneuronNetwork(w), 3.0),
    }


NETS = examples()
CLASSES = [pytest.param(Net, id=Net.__name__) for Net in NETS]


def test_every_exported_network_class_is_covered():
    exported = {obj for name in wl.networks.__all__
                if isinstance(obj := getattr(wl.networks, name), type)
                and issubclass(obj, AbstractNetwork) and not name.startswith("Abstract")}
    assert exported == set(NETS)


@pytest.mark.parametrize("Net", CLASSES)
def test_networks_are_equinox_modules_with_declared_attributes(Net):
    assert issubclass(Net, eqx.Module) and issubclass(Net, AbstractNetwork)
    assert "tree_flatten" not in vars(Net) and "tree_unflatten" not in vars(Net)
    assert Net.weights_degree in (None, 1, 2, 4)
    assert isinstance(Net.weights_are_factor, bool)
    assert isinstance(NETS[Net].label, str) and NETS[Net].label


@pytest.mark.parametrize("Net", CLASSES)
def test_weights_degree_is_what_M_does_under_scaling(Net):
    net = NETS[Net]
    m1 = np.asarray(net.M)
    m2 = np.asarray(net.with_weights(2.0 * net.weights).M)
    if Net.weights_degree is None:
        assert not any(np.allclose(m2, 2.0**p * m1, rtol=1e-10) for p in range(1, 6))
    else:
        np.testing.assert_allclose(m2, 2.0**Net.weights_degree * m1, rtol=1e-10)


@pytest.mark.parametrize("Net", CLASSES)
def test_weights_are_factor_is_what_M_is(Net):
    net = NETS[Net]
    w = np.asarray(net.weights)
    is_factor = w.ndim == 2 and w.shape[0] == N and np.allclose(w @ w.T, np.asarray(net.M))
    assert is_factor == Net.weights_are_factor


@pytest.mark.parametrize("Net", CLASSES)
def test_with_weights_never_validates(Net):
    net = NETS[Net]
    bad = jnp.full(net.weights.shape, jnp.nan)
    out = jax.jit(lambda nt, w: nt.with_weights(w))(net, bad)  # no error inside jit
    assert type(out) is Net
    assert type(net.with_weights(bad)) is Net                  # nor outside


@pytest.mark.parametrize("Net", CLASSES)
def test_public_methods_under_jit_vmap_and_scan(Net):
    net = NETS[Net]
    x = jnp.array([0.3, -1.0, 0.5])
    eta = 0.01
    eager = net.step(x, eta)
    jitted = jax.jit(lambda nt, x_, e: nt.step(x_, e))(net, x, eta)
    np.testing.assert_allclose(jitted.weights, eager.weights, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(jax.jit(lambda nt: nt.flow(C))(net), net.flow(C),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(jax.jit(lambda nt: nt.mean_step(C, eta))(net).weights,
                               net.mean_step(C, eta).weights, rtol=1e-12, atol=1e-14)
    xs = jnp.stack([x, -x, 2 * x])
    scanned = jax.lax.scan(lambda nt, xi: (nt.step(xi, eta), None), net, xs)[0]
    looped = net.step(x, eta).step(-x, eta).step(2 * x, eta)
    np.testing.assert_allclose(scanned.weights, looped.weights, rtol=1e-10, atol=1e-13)
    batched = jax.vmap(lambda xi: net.step(xi, eta).weights)(xs)
    np.testing.assert_allclose(batched[1], net.step(-x, eta).weights, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("Net", CLASSES)
def test_neural_dynamics_settle_to_m_inverse_x(Net):
    if Net is wl.FiniteSettling:
        pytest.skip("its neural dynamics are the wrapped network's; its M is the truncated map")
    net = NETS[Net]
    if Net is wl.AsymmetricInterneuronNetwork:
        expected = np.linalg.solve(np.asarray(net.M_circuit), np.ones(N))
    else:
        expected = np.linalg.solve(np.asarray(net.M), np.ones(N))
    jac = wl.neural.neural_jacobian(net)
    s0 = net.neural_initial_state()
    flat0, unravel = jax.flatten_util.ravel_pytree(s0)
    def velocity_of_input(x):
        return jax.flatten_util.ravel_pytree(net.neural_velocity(unravel(flat0), x))[0]

    b = jax.jacfwd(velocity_of_input)(jnp.ones(N))
    fixed = unravel(-np.linalg.solve(np.asarray(jac), np.asarray(b) @ np.ones(N)))
    np.testing.assert_allclose(net.neural_output(fixed), expected, rtol=1e-9)


def test_random_is_one_convention():
    key = jax.random.key(11)
    w0 = np.asarray(random_factor(key, N, 2.0, 5))
    np.testing.assert_allclose(wl.InterneuronNetwork.random(key, N, 2.0, 5).weights, w0, rtol=0)
    np.testing.assert_allclose(wl.DaleInterneuronNetwork.random(key, N, 2.0, 5).weights,
                               np.abs(w0), rtol=0)
    for Net in (wl.DirectNetwork, wl.GainNetwork, wl.ChainNetwork, wl.NonlocalDirectNetwork):
        np.testing.assert_allclose(Net.random(key, N, 2.0, 5).M, w0 @ w0.T, rtol=1e-10, atol=1e-12)
    # W0 = sqrt(gamma / k) A with A standard normal (k defaults to 2n)
    a = np.asarray(jax.random.normal(key, (N, 2 * N), dtype=jnp.float64))
    np.testing.assert_allclose(random_factor(key, N, 3.0), np.sqrt(3.0 / (2 * N)) * a, rtol=1e-15)
    with pytest.raises(ValueError, match="cannot be built from its effective matrix"):
        wl.LeakyInterneuronNetwork.random(key, N)


def test_initial_networks_follow_the_declared_factor_attribute():
    # the interneuron weights are W0 itself; the direct network starts at the same M0 = W0 W0^T
    gammas = np.array([0.5, 4.0])
    w0 = wl.online.initial_factors(5, N, gammas, 2 * N)
    inter = wl.online.initial_networks(wl.InterneuronNetwork, 5, N, gammas)
    direct = wl.online.initial_networks(wl.DirectNetwork, 5, N, gammas)
    np.testing.assert_array_equal(inter.weights, w0)
    np.testing.assert_allclose(direct.M, inter.M, rtol=1e-13)
    gain = wl.online.initial_networks(wl.GainNetwork, 5, N, gammas)
    assert gain.W.shape == (2, N, 2 * N)  # k passed on to from_M: a frame of 2n vectors
    np.testing.assert_allclose(gain.M, inter.M, rtol=1e-9)
