"""Unit tests of whitenlib.networks.

The interface tests are parametrized over ``wl.ALL_NETWORKS`` and
``wl.CONTROL_NETWORKS`` and build every network with ``Net.from_M(M)``: a
network class added to either is tested by them automatically. They rely only
on the declared interface (``weights``, ``M``, ``n``, ``respond``, ``step``, ``mean_step``,
``flow``, ``with_weights``, ``error``, ``objective``) and never on the shape of
``weights`` beyond "``flow`` is shaped like ``weights``". Class-specific
tests (Algorithms 1 and 2 against NumPy, the gradient identities, the Woodbury
inverse) follow.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import whitenlib as wl
from whitenlib.objective import _objective

N, K = 4, 8
SEEDS = (0, 1, 2)


def spd(seed: int, n: int = N, low: float = 0.5, high: float = 5.0) -> np.ndarray:
    return np.asarray(wl.random_covariance(jax.random.key(seed), n, low, high))


def sigma_points(c) -> np.ndarray:
    """2n points ±√n C^{1/2} e_i; their mean of x xᵀ is exactly C (shape (2n, n))."""
    n = c.shape[-1]
    rows = np.sqrt(n) * np.asarray(wl.spd_sqrt(c))
    return np.concatenate([rows, -rows])


def samples(seed: int, c, num: int) -> np.ndarray:
    """num Gaussian samples with covariance C, shape (num, n)."""
    z = np.random.default_rng(seed).standard_normal((num, c.shape[-1]))
    return z @ np.linalg.cholesky(c).T


def rel_err(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


def assert_trees_close(a, b, rtol):
    la, ta = jax.tree.flatten(a)
    lb, tb = jax.tree.flatten(b)
    assert ta == tb
    for x, y in zip(la, lb, strict=True):
        assert np.shape(x) == np.shape(y)
        assert rel_err(x, y) <= rtol


def stack(trees):
    return jax.tree.map(lambda *a: jnp.stack(a), *trees)


# Every network of the library, built from its M; plus a rotated, over-complete interneuron one.
CASES = [
    pytest.param(Net, {}, id=Net.__name__) for Net in wl.ALL_NETWORKS + wl.CONTROL_NETWORKS
] + [
    pytest.param(
        wl.InterneuronNetwork, {"k": K, "key": jax.random.key(7)}, id="Interneuron-k8-rotated"
    )
]


def build(Net, kwargs, m):
    return Net.from_M(m, **kwargs)


# ============================================================ shared interface


@pytest.mark.parametrize("Net, kw", CASES)
def test_from_M_realizes_M(Net, kw):
    m = spd(0)
    net = build(Net, kw, m)
    assert isinstance(net, Net)
    assert net.n == N
    np.testing.assert_allclose(net.M, m, atol=1e-12)
    assert isinstance(Net.label, str) and Net.label


@pytest.mark.parametrize("Net, kw", CASES)
def test_respond_is_m_inverse_x(Net, kw):
    m = spd(1)
    net = build(Net, kw, m)
    xs = np.random.default_rng(0).standard_normal((6, N))
    ys = net.respond(xs)
    assert ys.shape == (6, N)
    np.testing.assert_allclose(ys, np.linalg.solve(m, xs.T).T, rtol=1e-11, atol=1e-12)
    y0 = net.respond(xs[0])
    assert y0.shape == (N,)
    np.testing.assert_allclose(y0, ys[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(net.respond(list(xs[0])), ys[0], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("Net, kw", CASES)
@pytest.mark.parametrize("seed", SEEDS)
def test_flow_is_expected_step(Net, kw, seed):
    # Both updates are quadratic in x, so their mean over sigma points with E[xxᵀ] = C is exact.
    m, c = spd(seed), spd(seed + 100)
    net = build(Net, kw, m)
    eta = 0.05
    xs = sigma_points(c)
    new = jax.vmap(lambda x: net.step(x, eta).weights)(jnp.asarray(xs))
    mean_update = (jnp.mean(new, axis=0) - net.weights) / eta
    flow = net.flow(c)
    assert flow.shape == net.weights.shape
    assert rel_err(mean_update, flow) < 1e-10
    # and a single sample does not give the flow (the check above can fail)
    assert rel_err((new[0] - net.weights) / eta, flow) > 1e-3


@pytest.mark.parametrize("Net, kw", CASES)
def test_mean_step_is_euler_step_of_flow(Net, kw):
    m, c = spd(3), spd(103)
    net = build(Net, kw, m)
    eta = 0.03
    new = net.mean_step(c, eta)
    assert type(new) is Net
    np.testing.assert_allclose(new.weights, net.weights + eta * net.flow(c), rtol=1e-14, atol=1e-15)
    # the new network is self-consistent: it responds with its own M
    x = np.arange(1.0, N + 1)
    np.testing.assert_allclose(new.respond(x), np.linalg.solve(np.asarray(new.M), x), rtol=1e-11)


@pytest.mark.parametrize("Net, kw", CASES)
def test_flow_vanishes_at_the_whitening_solution(Net, kw):
    c = spd(4)
    net = build(Net, kw, wl.spd_sqrt(c))
    assert float(jnp.abs(net.flow(c)).max()) < 1e-12
    assert float(net.error(c)) < 1e-12
    assert float(jnp.abs(build(Net, kw, 2 * wl.spd_sqrt(c)).flow(c)).max()) > 0.1


@pytest.mark.parametrize("Net, kw", CASES)
@pytest.mark.parametrize("seed", SEEDS)
def test_objective_decreases_along_the_flow(Net, kw, seed):
    # f is a Lyapunov function of every network's synaptic flow: d f(M(weights))/dt < 0.
    m, c = spd(seed), spd(seed + 100)
    net = build(Net, kw, m)

    def f_of_weights(w):
        return _objective(net.with_weights(w).M, jnp.asarray(c))

    _, df_dt = jax.jvp(f_of_weights, (net.weights,), (net.flow(c),))
    assert float(df_dt) < 0
    # a small averaged step lowers f and the error moves with it
    assert float(net.mean_step(c, 1e-3).objective(c)) < float(net.objective(c))


@pytest.mark.parametrize("Net, kw", CASES)
def test_error_and_objective_methods(Net, kw):
    m, c = spd(5), spd(105)
    net = build(Net, kw, m)
    np.testing.assert_allclose(float(net.error(c)), float(wl.whitening_error(m, c)), rtol=1e-11)
    np.testing.assert_allclose(float(net.objective(c)), float(wl.objective(m, c)), rtol=1e-12)


@pytest.mark.parametrize("Net, kw", CASES)
def test_with_weights_and_pytree_roundtrip(Net, kw):
    net = build(Net, kw, spd(6))
    leaves, treedef = jax.tree.flatten(net)
    assert any(np.shape(leaf) == net.weights.shape for leaf in leaves)
    back = jax.tree.unflatten(treedef, leaves)
    assert type(back) is Net
    assert_trees_close(back, net, 0.0)
    same = net.with_weights(net.weights)
    assert type(same) is Net
    assert_trees_close(same, net, 1e-12)
    doubled = jax.tree.map(lambda a: 2 * a, net)
    np.testing.assert_array_equal(doubled.weights, 2 * net.weights)


@pytest.mark.parametrize("Net, kw", CASES)
def test_jit_step_equals_eager_step(Net, kw):
    m, c = spd(7), spd(107)
    net = build(Net, kw, m)
    x = samples(0, c, 1)[0]
    jitted = jax.jit(lambda net_, x_: net_.step(x_, 0.01))(net, x)
    eager = net.step(x, 0.01)
    assert type(jitted) is Net
    assert_trees_close(jitted, eager, 1e-12)
    assert rel_err(eager.weights, net.weights) > 1e-6  # the step did something


@pytest.mark.parametrize("Net, kw", CASES)
def test_scan_of_steps_equals_python_loop(Net, kw):
    m, c = spd(8), spd(108)
    net0 = build(Net, kw, m)
    xs = samples(1, c, 25)
    eta = 0.02

    @jax.jit
    def run(net, xs_):
        return jax.lax.scan(lambda nt, x: (nt.step(x, eta), None), net, xs_)[0]

    scanned = run(net0, jnp.asarray(xs))
    net = net0
    for x in xs:
        net = net.step(x, eta)
    assert_trees_close(scanned, net, 1e-10)
    np.testing.assert_allclose(scanned.M, net.M, rtol=1e-10)


@pytest.mark.parametrize("Net, kw", CASES)
def test_vmap_over_networks_and_samples(Net, kw):
    nets = [build(Net, kw, spd(s)) for s in range(3)]
    c = spd(109)
    xs = samples(2, c, 3)
    batch = stack(nets)
    assert type(batch) is Net
    eta = 0.01
    stepped = jax.vmap(lambda nt, x: nt.step(x, eta))(batch, jnp.asarray(xs))
    responses = jax.vmap(lambda nt, x: nt.respond(x))(batch, jnp.asarray(xs))
    flows = jax.vmap(lambda nt: nt.flow(c))(batch)
    errors = jax.vmap(lambda nt: nt.error(c))(batch)
    for i, net in enumerate(nets):
        assert_trees_close(jax.tree.map(lambda a, i=i: a[i], stepped), net.step(xs[i], eta), 1e-12)
        np.testing.assert_allclose(responses[i], net.respond(xs[i]), rtol=1e-12)
        np.testing.assert_allclose(flows[i], net.flow(c), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(errors[i], net.error(c), rtol=1e-12)
    # one network, a batch of samples
    ys = jax.vmap(nets[0].respond)(jnp.asarray(xs))
    np.testing.assert_allclose(ys, nets[0].respond(xs), rtol=1e-12)


# ============================================================ DirectNetwork


def numpy_algorithm_1(m, x, eta):
    y = np.linalg.solve(m, x)
    return m + eta * (np.outer(y, y) - np.eye(len(x)))


@pytest.mark.parametrize("seed", SEEDS)
def test_direct_step_is_algorithm_1(seed):
    m, c = spd(seed), spd(seed + 100)
    x = samples(seed, c, 1)[0]
    for eta in (0.01, 0.3):
        new = wl.DirectNetwork(m).step(x, eta)
        assert rel_err(new.weights, numpy_algorithm_1(m, x, eta)) < 1e-12
        np.testing.assert_array_equal(new.weights, new.weights.T)


@pytest.mark.parametrize("seed", SEEDS)
def test_direct_flow_is_minus_gradient(seed):
    m, c = spd(seed), spd(seed + 100)
    flow = wl.DirectNetwork(m).flow(c)
    assert rel_err(flow, -wl.objective_gradient(m, c)) < 1e-12
    m_inv = np.linalg.inv(m)
    assert rel_err(flow, m_inv @ c @ m_inv - np.eye(N)) < 1e-11


def test_direct_constructor_accepts_batched_weights():
    ms = np.stack([spd(s) for s in range(3)])
    batch = wl.DirectNetwork(ms)
    assert batch.weights.shape == (3, N, N) and batch.n == N
    x = np.arange(1.0, N + 1)
    ys = jax.vmap(lambda nt: nt.respond(x))(batch)
    for i in range(3):
        np.testing.assert_allclose(ys[i], np.linalg.solve(ms[i], x), rtol=1e-12)
    # without vmap the batch axis leads: (B, n) for one sample, (B, T, n) for T samples
    np.testing.assert_allclose(batch.respond(x), ys, rtol=1e-12)
    xs = np.stack([x, -2 * x])
    np.testing.assert_allclose(batch.respond(xs), np.stack([ys, -2 * ys], axis=1), rtol=1e-12)
    bad = ms.copy()
    bad[1] = -bad[1]
    with pytest.raises(ValueError, match="M must be positive definite"):
        wl.DirectNetwork(bad)


# ============================================================ InterneuronNetwork


def numpy_algorithm_2(w, x, eta):
    y = np.linalg.solve(w @ w.T, x)
    n_act = w.T @ y
    return w + eta * (np.outer(y, n_act) - w)


def random_w(seed: int, k: int = K) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((N, k))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", (N, K))
def test_interneuron_step_is_algorithm_2(seed, k):
    w, c = random_w(seed, k), spd(seed + 100)
    x = samples(seed, c, 1)[0]
    for eta in (0.01, 0.3):
        new = wl.InterneuronNetwork(w).step(x, eta)
        w_ref = numpy_algorithm_2(w, x, eta)
        assert rel_err(new.weights, w_ref) < 1e-12
        # the Woodbury-updated inverse is the inverse of the new W Wᵀ
        assert rel_err(new.M_inv, np.linalg.inv(w_ref @ w_ref.T)) < 1e-10


@pytest.mark.parametrize("seed", SEEDS)
def test_interneuron_flow_is_half_minus_gradient(seed):
    w, c = random_w(seed), spd(seed + 100)
    net = wl.InterneuronNetwork(w)
    flow = net.flow(c)
    assert flow.shape == (N, K)
    assert rel_err(flow, -0.5 * wl.interneuron_objective_gradient(w, c)) < 1e-12
    auto = jax.grad(lambda w_: _objective(w_ @ w_.T, jnp.asarray(c)))(jnp.asarray(w))
    assert rel_err(flow, -0.5 * auto) < 1e-10


def induced_m_flow(net, c):
    """d(W Wᵀ)/dt = flow Wᵀ + W flowᵀ."""
    f, w = np.asarray(net.flow(c)), np.asarray(net.weights)
    return f @ w.T + w @ f.T


@pytest.mark.parametrize("seed", SEEDS)
def test_induced_m_flow_identity(seed):
    w, c = random_w(seed), spd(seed + 100)
    net = wl.InterneuronNetwork(w)
    m = w @ w.T
    m_inv = np.linalg.inv(m)
    expected = m_inv @ c + c @ m_inv - 2 * m
    assert rel_err(induced_m_flow(net, c), expected) < 1e-11
    # = −(∇f M + M ∇f): the direct gradient preconditioned by X ↦ MX + XM
    g = np.asarray(wl.objective_gradient(m, c))
    assert rel_err(induced_m_flow(net, c), -(g @ m + m @ g)) < 1e-11
    # the same as differentiating net.M along the flow
    _, dm = jax.jvp(lambda w_: net.with_weights(w_).M, (net.weights,), (net.flow(c),))
    assert rel_err(dm, expected) < 1e-11


@pytest.mark.parametrize("seed", SEEDS)
def test_induced_m_flow_independent_of_realization(seed):
    m, c = spd(seed), spd(seed + 100)
    nets = [
        wl.InterneuronNetwork.from_M(m),
        wl.InterneuronNetwork.from_M(m, k=N, key=jax.random.key(seed)),
        wl.InterneuronNetwork.from_M(m, k=3 * N, key=jax.random.key(seed + 1)),
    ]
    w = np.asarray(nets[2].weights)
    v = np.asarray(wl.random_orthogonal(jax.random.key(seed + 2), 3 * N))
    nets.append(wl.InterneuronNetwork(w @ v))
    flows = [induced_m_flow(nt, c) for nt in nets]
    for nt, fl in zip(nets, flows, strict=True):
        np.testing.assert_allclose(nt.M, m, atol=1e-12)
        assert rel_err(fl, flows[0]) < 1e-11
    # while the W-flows themselves differ
    assert rel_err(np.asarray(nets[1].flow(c)), np.asarray(nets[0].flow(c))) > 1e-3


def test_from_M_with_key_is_a_different_w():
    m = spd(10)
    plain = wl.InterneuronNetwork.from_M(m, k=K)
    rotated = wl.InterneuronNetwork.from_M(m, k=K, key=jax.random.key(0))
    assert plain.k == rotated.k == K and plain.weights.shape == (N, K)
    np.testing.assert_allclose(plain.weights[:, N:], 0)
    assert np.abs(np.asarray(rotated.weights[:, N:])).max() > 1e-3
    np.testing.assert_allclose(rotated.M, m, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_respond_interneurons(seed):
    w = random_w(seed)
    net = wl.InterneuronNetwork(w)
    xs = np.random.default_rng(seed).standard_normal((5, N))
    ns = net.respond_interneurons(xs)
    assert ns.shape == (5, K)
    np.testing.assert_allclose(ns, np.linalg.solve(w @ w.T, xs.T).T @ w, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(net.respond_interneurons(xs[0]), ns[0], rtol=1e-12)
    # feeding the interneurons back reconstructs the input: W n̄ = x
    np.testing.assert_allclose(ns @ w.T, xs, atol=1e-12)


def test_woodbury_inverse_stays_exact_over_a_long_scan():
    c = spd(11)
    net0 = wl.InterneuronNetwork(0.7 * random_w(11))
    xs = jnp.asarray(samples(11, c, 5000))
    eta = 0.01

    @jax.jit
    def run(net, xs_):
        def body(nt, x):
            nt = nt.step(x, eta)
            exact = jnp.linalg.inv(nt.M)
            drift = jnp.max(jnp.abs(nt.M_inv - exact)) / jnp.max(jnp.abs(exact))
            return nt, drift

        return jax.lax.scan(body, net, xs_)

    net, drift = run(net0, xs)
    assert drift.shape == (5000,)
    assert float(drift.max()) < 1e-9
    assert rel_err(net.weights, net0.weights) > 0.1  # the weights did move
    refreshed = net.refresh()
    np.testing.assert_array_equal(refreshed.weights, net.weights)
    exact = np.linalg.inv(np.asarray(net.M))
    assert rel_err(refreshed.M_inv, exact) < 1e-13
    assert rel_err(refreshed.M_inv, exact) <= rel_err(net.M_inv, exact)


def test_interneuron_constructor_accepts_batched_weights():
    ws = np.stack([random_w(s) for s in range(3)])
    batch = wl.InterneuronNetwork(ws)
    assert batch.weights.shape == (3, N, K) and batch.M_inv.shape == (3, N, N)
    assert batch.n == N and batch.k == K
    for i in range(3):
        assert rel_err(batch.M_inv[i], np.linalg.inv(ws[i] @ ws[i].T)) < 1e-12
    x = np.arange(1.0, N + 1)
    stepped = jax.vmap(lambda nt: nt.step(jnp.asarray(x), 0.01))(batch)
    for i in range(3):
        assert rel_err(stepped.weights[i], numpy_algorithm_2(ws[i], x, 0.01)) < 1e-12
    ys = batch.respond(x)
    assert ys.shape == (3, N)
    for i in range(3):
        np.testing.assert_allclose(ys[i], np.linalg.solve(ws[i] @ ws[i].T, x), rtol=1e-12)
    bad = ws.copy()
    bad[2, 1] = bad[2, 0]  # two equal rows: rank n − 1
    with pytest.raises(ValueError, match="W must have full row rank"):
        wl.InterneuronNetwork(bad)
