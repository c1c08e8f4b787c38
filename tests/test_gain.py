"""Unit tests of whitenlib.networks.gain: the gain-modulating network (chapter 9).

The shared interface (respond/step/flow under jit, scan and vmap, pytree
round trips, the flow as the mean step) is tested for every class of
``wl.ALL_NETWORKS`` in test_networks.py; this file checks what is specific to
the gains (the rule is gradient descent in g, the frame, from_M, the fixed
point, the fast dynamics) and every bad input.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_validation import BAD_ETA, BAD_SPD

import whitenlib as wl
from whitenlib.networks.gain import n_symmetric
from whitenlib.objective import _objective

N = 4
KS = n_symmetric(N)  # 10
SEEDS = (0, 1, 2)
GN = wl.GainNetwork


def spd(seed: int, n: int = N, low: float = 0.5, high: float = 5.0) -> np.ndarray:
    return np.asarray(wl.random_covariance(jax.random.key(seed), n, low, high))


def sigma_points(c) -> np.ndarray:
    """2n points ±√n C^{1/2} e_i: their mean of x xᵀ is exactly C."""
    rows = np.sqrt(c.shape[-1]) * np.asarray(wl.spd_sqrt(c))
    return np.concatenate([rows, -rows])


def numpy_gain_rule(w, g, x, eta):
    m = np.eye(len(x)) + w @ np.diag(g) @ w.T
    z = w.T @ np.linalg.solve(m, x)
    return g + eta * (z**2 - 1)


FRAMES = [pytest.param(None, id="deterministic"), pytest.param(3, id="random")]


def key_of(seed):
    return None if seed is None else jax.random.key(seed)


# ------------------------------------------------------------ the mathematics


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("frame_seed", (None, 5))
def test_step_is_the_gain_rule(seed, frame_seed):
    net = GN.from_M(spd(seed), key=key_of(frame_seed))
    x = np.random.default_rng(seed).standard_normal(N)
    for eta in (0.01, 0.2):
        new = net.step(x, eta)
        ref = numpy_gain_rule(np.asarray(net.W), np.asarray(net.g), x, eta)
        np.testing.assert_allclose(new.g, ref, rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(new.W, net.W)  # the synapses never learn


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("frame_seed", (None, 5))
def test_flow_is_minus_gradient_in_g(seed, frame_seed):
    m, c = spd(seed), spd(seed + 100)
    net = GN.from_M(m, key=key_of(frame_seed))
    auto = jax.grad(lambda g: _objective(net.with_weights(g).M, jnp.asarray(c)))(net.g)
    np.testing.assert_allclose(net.flow(c), -auto, rtol=1e-10, atol=1e-12)
    # explicit form: dg_i/dt = w_iᵀ M⁻¹CM⁻¹ w_i − 1
    cyy = np.asarray(wl.output_covariance(m, c))
    w = np.asarray(net.W)
    np.testing.assert_allclose(net.flow(c), np.einsum("ik,ij,jk->k", w, cyy, w) - 1, rtol=1e-10)
    np.testing.assert_allclose(
        net.objective_of_gains(net.g, c), wl.objective(m, c), rtol=1e-12
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_flow_is_exact_mean_of_steps(seed):
    m, c = spd(seed), spd(seed + 100)
    net = GN.from_M(m, key=jax.random.key(seed))
    eta = 0.05
    new = jax.vmap(lambda x: net.step(x, eta).g)(jnp.asarray(sigma_points(c)))
    mean_update = (new.mean(axis=0) - net.g) / eta
    np.testing.assert_allclose(mean_update, net.flow(c), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_induced_M_flow_is_frame_preconditioned_direct_flow(seed):
    # dM/dt = 𝒫(M⁻¹CM⁻¹ − I), 𝒫(X) = Σ_i (w_iᵀXw_i) w_i w_iᵀ
    m, c = spd(seed), spd(seed + 100)
    net = GN.from_M(m, key=jax.random.key(seed))
    _, dm = jax.jvp(lambda g: net.with_weights(g).M, (net.g,), (net.flow(c),))
    w = np.asarray(net.W)
    x = np.asarray(wl.DirectNetwork(m).flow(c))
    p_x = (w * np.einsum("ik,ij,jk->k", w, x, w)) @ w.T
    np.testing.assert_allclose(dm, p_x, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("frame_seed", (None, 11))
@pytest.mark.parametrize("seed", SEEDS)
def test_from_M_round_trip(seed, frame_seed):
    m = spd(seed)
    net = GN.from_M(m, key=key_of(frame_seed))
    assert net.k == KS and net.n == N and net.g.shape == (KS,) and net.W.shape == (N, KS)
    np.testing.assert_allclose(net.M, m, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(net.W, axis=0), 1.0, atol=1e-14)
    again = GN(net.W, net.g)
    np.testing.assert_array_equal(again.M, net.M)
    # over-complete frame: minimum-norm gains, same M
    over = GN.from_M(m, k=2 * KS, key=jax.random.key(seed))
    np.testing.assert_allclose(over.M, m, atol=1e-11)


def test_deterministic_frame():
    w = np.asarray(GN.frame(3))
    s = 1 / np.sqrt(2)
    expected = np.array([[1, 0, 0, s, s, 0], [0, 1, 0, s, 0, s], [0, 0, 1, 0, s, s]])
    np.testing.assert_allclose(w, expected, atol=1e-15)
    np.testing.assert_array_equal(GN.frame(3, 4), w[:, :4])
    big = np.asarray(GN.frame(3, 12))  # 9 structured vectors, 3 random ones
    np.testing.assert_allclose(np.linalg.norm(big, axis=0), 1.0, atol=1e-14)
    np.testing.assert_array_equal(big, np.asarray(GN.frame(3, 12)))
    # the first n(n+1)/2 outer products are a basis of the symmetric matrices
    outer = np.einsum("ik,jk->kij", w, w).reshape(6, 9)
    assert np.linalg.matrix_rank(outer) == 6


def test_from_M_with_too_few_interneurons():
    # a diagonal M needs only the n axis-aligned vectors
    diag = np.diag([2.0, 1.0, 3.0, 0.5])
    np.testing.assert_allclose(GN.from_M(diag, k=N).M, diag, atol=1e-14)
    with pytest.raises(ValueError, match=r"M cannot be written as I \+ W diag\(g\) W\^T"):
        GN.from_M(spd(0), k=KS - 1)
    with pytest.raises(ValueError, match="k >= n\\(n\\+1\\)/2 = 10"):
        GN.from_M(spd(0), k=N, key=jax.random.key(0))


@pytest.mark.parametrize("seed", SEEDS)
def test_optimal_gains_whiten_iff_frame_spans(seed):
    c = spd(seed + 100)
    full = GN(GN.frame(N, KS, jax.random.key(seed)), np.zeros(KS)).optimal(c)
    assert float(full.error(c)) < 1e-9
    np.testing.assert_allclose(full.M, wl.spd_sqrt(c), atol=1e-9)
    k = KS - 3
    few = GN(GN.frame(N, k, jax.random.key(seed)), np.zeros(k)).optimal(c)
    assert float(jnp.abs(few.flow(c)).max()) < 1e-9  # a fixed point of the gain flow ...
    assert float(few.error(c)) > 0.05  # ... that does not whiten
    # every frame direction has unit output variance there
    cyy = np.asarray(wl.output_covariance(few.M, c))
    w = np.asarray(few.W)
    np.testing.assert_allclose(np.einsum("ik,ij,jk->k", w, cyy, w), 1.0, atol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_hessian_is_schur_product_and_psd(seed):
    m, c = spd(seed), spd(seed + 100)
    net = GN.from_M(m, k=KS + 3, key=jax.random.key(seed))
    auto = jax.hessian(lambda g: _objective(net.with_weights(g).M, jnp.asarray(c)))(net.g)
    h = net.hessian(c)
    np.testing.assert_allclose(h, auto, rtol=1e-9, atol=1e-11)
    assert np.linalg.eigvalsh(np.asarray(h))[0] > -1e-10  # convex in g


def test_optimal_with_active_gains_is_the_smaller_network():
    c = spd(7)
    w = GN.frame(N, KS, jax.random.key(8))
    k = KS - 4
    small = GN(w[:, :k], np.zeros(k)).optimal(c)
    active = np.arange(KS) < k
    masked = GN(w, np.zeros(KS)).optimal(c, active=active)
    np.testing.assert_allclose(masked.g[:k], small.g, rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(masked.g[k:], 0.0)
    np.testing.assert_allclose(masked.M, small.M, atol=1e-10)
    # vmapped over masks: one compiled call
    masks = jnp.asarray(np.arange(KS)[None, :] < np.array([k, KS])[:, None], dtype=float)
    errs = jax.vmap(lambda a: GN(w, np.zeros(KS)).optimal(jnp.asarray(c), active=a).error(c))(masks)
    assert float(errs[0]) > 0.05 and float(errs[1]) < 1e-9
    with pytest.raises(ValueError, match=r"active must have shape \(10,\)"):
        GN(w, np.zeros(KS)).optimal(c, active=np.ones(3))


def test_neural_dynamics_settle_and_negative_gains():
    # M = I + W diag(g) Wᵀ ≻ 0 with some negative gains: the circuit still settles to M⁻¹x
    w = GN.frame(N, KS, jax.random.key(4))
    g = np.linspace(-0.3, 2.0, KS)
    net = GN(w, g)
    assert np.linalg.eigvalsh(np.asarray(net.M))[0] > 0 and g.min() < 0
    x = np.array([1.0, -2.0, 0.5, 3.0])
    _, (y, z) = wl.simulate_neural_dynamics(net, x, 60.0, 0.02)
    assert z.shape == (3001, KS)
    np.testing.assert_allclose(y[-1], net.respond(x), atol=1e-6)
    np.testing.assert_allclose(z[-1], net.respond_interneurons(x), atol=1e-6)
    assert float(jnp.max(jnp.real(wl.neural_eigenvalues(net)))) < 0


def test_jitted_scan_equals_python_loop():
    c = spd(12)
    net0 = GN.from_M(spd(13), key=jax.random.key(1))
    xs = np.random.default_rng(3).standard_normal((40, N)) @ np.linalg.cholesky(c).T
    scanned = jax.jit(
        lambda nt, x: jax.lax.scan(lambda n_, xi: (n_.step(xi, 0.02), None), nt, x)[0]
    )(net0, jnp.asarray(xs))
    net = net0
    for x in xs:
        net = net.step(x, 0.02)
    assert type(scanned) is GN
    np.testing.assert_allclose(scanned.g, net.g, rtol=1e-11, atol=1e-13)
    np.testing.assert_array_equal(scanned.W, net0.W)


def test_batched_gains_and_vmap_over_gains():
    w = GN.frame(N)
    gs = np.stack([np.asarray(GN.from_M(spd(s)).g) for s in range(3)])
    batch = GN(w, gs)
    assert batch.M.shape == (3, N, N) and batch.n == N and batch.k == KS
    x = np.arange(1.0, N + 1)
    ys = batch.respond(x)
    stepped = jax.vmap(lambda g: GN(w, g).step(jnp.asarray(x), 0.01).g)(jnp.asarray(gs))
    for i in range(3):
        np.testing.assert_allclose(ys[i], np.linalg.solve(spd(i), x), rtol=1e-10)
        np.testing.assert_allclose(
            stepped[i], numpy_gain_rule(np.asarray(w), gs[i], x, 0.01), rtol=1e-12
        )


def test_a_step_out_of_the_cone_gives_nan_not_a_silent_number():
    net = GN(GN.frame(2, 3), np.zeros(3))
    # a large step on a tiny sample drives every gain to −η: M indefinite for η ≥ 1
    bad = net.step(np.zeros(2), 5.0)
    assert np.linalg.eigvalsh(np.asarray(bad.M))[0] < 0
    assert not np.all(np.isfinite(np.asarray(bad.respond(np.ones(2)))))


# ------------------------------------------------------------ bad input


def test_rejects_bad_frame():
    g = np.zeros(3)
    with pytest.raises(ValueError, match="W must have unit-norm columns"):
        GN(2 * GN.frame(2, 3), g)
    with pytest.raises(ValueError, match="W must have unit-norm columns"):
        GN(np.zeros((2, 3)), g)
    with pytest.raises(ValueError, match="W contains NaN or inf"):
        GN(np.full((2, 3), np.nan), g)
    with pytest.raises(ValueError, match="W must have at least 2 dimensions"):
        GN(np.ones(3), g)
    with pytest.raises(ValueError, match="W must have shape"):
        GN(np.ones((2, 0)), np.zeros(0))
    with pytest.raises(ValueError, match="W must be a numeric array"):
        GN("frame", g)


def test_rejects_bad_gains():
    w = GN.frame(2, 3)
    with pytest.raises(ValueError, match=r"g must have one gain per column of W: shape \(3,\)"):
        GN(w, np.zeros(4))
    with pytest.raises(ValueError, match="g contains NaN or inf"):
        GN(w, np.array([0.0, np.inf, 0.0]))
    with pytest.raises(ValueError, match="g must have at least 1 dimensions"):
        GN(w, 0.0)
    with pytest.raises(ValueError, match="g makes M = I \\+ W diag\\(g\\) W\\^T indefinite"):
        GN(w, np.array([-1.5, 0.0, 0.0]))
    GN(w, np.array([-0.5, 0.0, 0.0]))  # negative gains are fine while M ≻ 0


def test_rejects_bad_frame_sizes():
    with pytest.raises(ValueError, match="n must be a positive integer"):
        GN.frame(0)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        GN.frame(3, 0)


@pytest.mark.parametrize("bad, match", BAD_SPD)
def test_from_M_and_methods_reject_bad_matrices(bad, match):
    with pytest.raises(ValueError, match=f"M {match}"):
        GN.from_M(bad)
    net = GN.from_M(np.diag([2.0, 1.0, 0.5]))
    for method, args in [
        ("flow", ()), ("error", ()), ("objective", ()), ("mean_step", (0.1,)), ("optimal", ())
    ]:
        with pytest.raises(ValueError, match=f"C {match}"):
            getattr(net, method)(bad, *args)


def test_rejects_bad_samples_and_sizes():
    net = GN.from_M(np.diag([2.0, 1.0, 0.5]))
    for bad in (np.ones(4), np.ones((2, 4)), np.array([1.0, np.nan, 0.0])):
        with pytest.raises(ValueError, match="x "):
            net.respond(bad)
        with pytest.raises(ValueError, match="x "):
            net.step(bad, 0.1)
    with pytest.raises(ValueError, match=r"x must be one sample of shape \(3,\)"):
        net.step(np.ones((2, 3)), 0.1)
    with pytest.raises(ValueError, match=r"C must have shape \(3, 3\)"):
        net.flow(np.eye(4))
    with pytest.raises(ValueError, match="M must be one matrix"):
        GN.from_M(np.stack([np.eye(3)] * 2))


@pytest.mark.parametrize("eta", BAD_ETA)
def test_rejects_bad_eta(eta):
    net = GN.from_M(np.diag([2.0, 1.0, 0.5]))
    with pytest.raises(ValueError, match="eta must be"):
        net.step(np.ones(3), eta)
    with pytest.raises(ValueError, match="eta must be"):
        net.mean_step(np.eye(3), eta)


def test_checks_pass_through_jit():
    net = GN.from_M(np.diag([2.0, 1.0, 0.5]))
    step = jax.jit(lambda nt, x, eta: nt.step(x, eta))
    assert step(net, jnp.ones(3), 0.1).g.shape == (6,)
    with pytest.raises(ValueError, match="x must have shape"):
        step(net, jnp.ones(4), 0.1)
    # a network built inside jit skips value checks but keeps the shape checks
    built = jax.jit(lambda w, g: GN(w, g).M)(GN.frame(3), jnp.zeros(6))
    np.testing.assert_allclose(built, np.eye(3), atol=1e-15)


def test_frame_operator_is_the_sum_of_projections_onto_the_frame():
    # F(X) = sum_i (w_i^T X w_i) w_i w_i^T, eq. (9.5), as a matrix acting on vec(X)
    w = np.asarray(GN.frame(N, KS + 3, jax.random.key(4)))
    f = np.asarray(wl.networks.frame_operator(w))
    x = spd(9) - np.eye(N)
    direct = sum((w[:, i] @ x @ w[:, i]) * np.outer(w[:, i], w[:, i]) for i in range(w.shape[1]))
    np.testing.assert_allclose((f @ x.ravel()).reshape(N, N), direct, rtol=1e-12, atol=1e-12)
    assert np.linalg.eigvalsh(f)[0] > -1e-12  # positive semidefinite
    # the n(n+1)/2 basis frame spans the symmetric matrices; one vector fewer does not
    basis = wl.geometry.symmetric_basis(N)

    def on_sym(ww):
        return np.linalg.eigvalsh(basis @ np.asarray(wl.networks.frame_operator(ww)) @ basis.T)[0]

    assert on_sym(GN.frame(N)) > 1e-3 and abs(on_sym(GN.frame(N)[:, :-1])) < 1e-12
    with pytest.raises(ValueError, match="W must be one frame"):
        wl.networks.frame_operator(np.ones((2, N, KS)))
