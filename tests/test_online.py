"""Unit tests of whitenlib.online: compiled scans against plain loops, divergence, convergence.

Networks come from ``wl.NETWORKS`` (and ``wl.ALL_NETWORKS`` where any network class must
work); the code under test only uses the shared network interface, so the tests loop over
classes rather than branch on them.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

import whitenlib as wl
from whitenlib import data, online

N, K, T = 3, 6, 240


def covariance(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((N, N)))
    return (q * np.array([4.0, 1.5, 0.6])) @ q.T


def fixed_stream(seed: int = 0, length: int = T):
    c = covariance(seed)
    x = np.random.default_rng(seed + 10).standard_normal((length, N)) @ np.linalg.cholesky(c).T
    return data.FixedSamples(x, c), x, c


def numpy_reference(Net, weights0, xs, eta):
    """A straightforward per-sample NumPy loop of Algorithm 1 or 2 (solve + outer products)."""
    w = np.array(weights0, dtype=float)
    for x in xs:
        if Net is wl.DirectNetwork:
            y = np.linalg.solve(w, x)
            w = w + eta * (np.outer(y, y) - np.eye(len(x)))
        else:
            y = np.linalg.solve(w @ w.T, x)
            w = w + eta * (np.outer(y, y @ w) - w)
    return w


@pytest.mark.parametrize("Net", wl.NETWORKS, ids=lambda c: c.label)
def test_scan_reproduces_numpy_per_sample_loop(Net):
    stream, xs, _ = fixed_stream()
    nets = online.initial_networks(Net, 0, N, [1.5], k=K)
    # refresh every 50 steps, record every 40: the scan cuts the run into blocks of 10
    traj = online.sweep(nets, stream, 0.01, T, record_every=40, refresh_every=50)
    reference = numpy_reference(Net, nets.weights[0], xs, 0.01)
    np.testing.assert_allclose(np.asarray(traj.final.weights[0]), reference, rtol=0, atol=1e-8)
    assert not traj.diverged.any()


@pytest.mark.parametrize("Net", wl.ALL_NETWORKS, ids=lambda c: c.label)
def test_train_matches_loop_of_step(Net):
    """`net.step` scanned by lax.scan equals the same `step` called in a Python loop."""
    stream, xs, c = fixed_stream(1, 60)
    net = Net.from_M(wl.spd_sqrt(c) * 2.0)
    traj = online.train(net, stream, 0.02, 60, record_every=20)
    loop = net
    errors = [float(loop.error(c))]
    for i, x in enumerate(xs):
        loop = loop.step(x, 0.02)
        if (i + 1) % 20 == 0:
            errors.append(float(loop.error(c)))
    np.testing.assert_allclose(np.asarray(traj.final.weights), np.asarray(loop.weights), atol=1e-8)
    np.testing.assert_allclose(traj.errors, errors, rtol=1e-8)
    assert traj.errors.shape == (4,) and traj.steps.tolist() == [0, 20, 40, 60]


@pytest.mark.parametrize("Net", wl.NETWORKS, ids=lambda c: c.label)
def test_mean_update_matches_loop_of_mean_step(Net):
    c = covariance(2)
    stream = data.GaussianStream(c)
    net = Net.from_M(np.diag([3.0, 0.5, 1.0]))
    traj = online.train(net, stream, 0.05, 100, record_every=50, mean=True)
    loop = net
    for _ in range(100):
        loop = loop.mean_step(c, 0.05)
    np.testing.assert_allclose(np.asarray(traj.final.M), np.asarray(loop.M), atol=1e-10)


def test_sweep_equals_separate_runs_and_gaussian_stream_is_reproducible():
    c = covariance(3)
    stream = data.GaussianStream(c)
    nets = online.initial_networks(wl.InterneuronNetwork, 4, N, [0.5, 2.0], k=K)
    keys = jax.random.split(jax.random.key(7), 2)
    traj = online.sweep(nets, stream, [0.01, 0.02], 200, key=keys, record_every=50)
    for i in range(2):
        net_i = jax.tree_util.tree_map(lambda a, i=i: a[i], nets)
        one = online.train(net_i, stream, [0.01, 0.02][i], 200, key=keys[i], record_every=100)
        np.testing.assert_allclose(traj.errors[i, ::2], one.errors, rtol=1e-9)
        # the same samples, drawn explicitly, through a NumPy loop
        xs = np.asarray(data.draw(stream, keys[i], 200))
        ref = numpy_reference(wl.InterneuronNetwork, net_i.weights, xs, [0.01, 0.02][i])
        np.testing.assert_allclose(np.asarray(one.final.weights), ref, atol=1e-8)


def test_divergence_is_detected_frozen_and_reported():
    c = covariance(0)
    stream = data.GaussianStream(c)
    gammas = np.array([0.05, 0.05, 2.0])
    etas = np.array([1e-3, 0.5, 0.01])
    nets = online.initial_networks(wl.DirectNetwork, 0, N, gammas, k=K)
    traj = online.sweep(nets, stream, etas, 400, record_every=20, params={"gamma": gammas})
    assert traj.diverged.tolist() == [False, True, False]
    assert traj.diverged_at[1] == 20 and traj.diverged_at[0] == -1
    assert not np.isnan(traj.errors).any()
    assert np.isinf(traj.errors[1, 1:]).all() and np.isfinite(traj.errors[[0, 2]]).all()
    assert np.isfinite(np.asarray(traj.final.weights)).all()
    (row,) = traj.divergence_report()
    assert row["run"] == (1,) and row["eta"] == 0.5 and row["gamma"] == 0.05 and row["step"] == 20
    assert "eta = 0.5" in traj.summary() and "gamma = 0.05" in traj.summary()
    assert np.isinf(traj.steps_to_threshold(0.5)[1])


def test_steps_to_threshold_on_a_constructed_trace():
    steps = np.arange(6) * 10
    errors = np.array([[5.0, 0.4, 0.2, 0.35, 0.1, 0.05], [3.0, 2.0, 1.0, 0.9, 0.8, 0.7],
                       [1.0, 0.1, np.inf, np.inf, np.inf, np.inf]])
    np.testing.assert_array_equal(
        online.steps_to_threshold(steps, errors, 0.3), [40, np.inf, np.inf]
    )
    np.testing.assert_array_equal(
        online.steps_to_threshold(steps, errors, 0.3, stay=False), [20, np.inf, 10]
    )
    med, lo, hi = online.median_and_spread([[1.0, 2.0, 3.0, np.inf], [1.0, np.inf, np.inf, np.inf]])
    assert med[0] == 2.5 and np.isinf(med[1]) and not np.isnan([med, lo, hi]).any()
    with pytest.raises(ValueError, match="eps"):
        online.steps_to_threshold(steps, errors, -1.0)
    with pytest.raises(ValueError, match="errors"):
        online.steps_to_threshold(steps, errors[:, :3], 0.3)


def test_reshape_and_time():
    stream, _, _ = fixed_stream()
    nets = online.initial_networks(wl.DirectNetwork, 0, N, [1.0, 2.0, 3.0, 4.0], k=K)
    traj = online.sweep(nets, stream, 0.01, 100, record_every=50, params={"gamma": [1, 2, 3, 4]})
    sq = traj.reshape(2, 2)
    assert sq.errors.shape == (2, 2, 3) and sq.final.weights.shape == (2, 2, N, N)
    assert sq.params["gamma"].tolist() == [[1, 2], [3, 4]]
    np.testing.assert_allclose(traj.time()[0], [0.0, 0.5, 1.0])


def test_initial_networks_share_M0_across_classes():
    g = np.array([0.5, 3.0])
    ms = [np.asarray(online.initial_networks(Net, 5, N, g, k=K).M) for Net in wl.NETWORKS]
    np.testing.assert_allclose(ms[0], ms[1], atol=1e-12)
    np.testing.assert_allclose(ms[0], online.initial_M(5, N, g, k=K), atol=1e-12)


def test_bad_inputs_raise_value_errors_naming_the_argument():
    stream, _, _ = fixed_stream()
    nets = online.initial_networks(wl.DirectNetwork, 0, N, [1.0, 2.0], k=K)
    with pytest.raises(ValueError, match="eta"):
        online.sweep(nets, stream, -0.1, 100)
    with pytest.raises(ValueError, match="eta"):
        online.sweep(nets, stream, [0.1, 0.1, 0.1], 100)
    with pytest.raises(ValueError, match="record_every"):
        online.sweep(nets, stream, 0.1, 110, record_every=20)
    with pytest.raises(ValueError, match="n_steps"):
        online.sweep(nets, stream, 0.1, 0)
    with pytest.raises(ValueError, match="n_steps"):
        online.sweep(nets, stream, 0.1, 2 * T, record_every=T)
    with pytest.raises(ValueError, match="stream"):
        online.sweep(nets, np.eye(N), 0.1, 100)
    with pytest.raises(ValueError, match="net"):
        online.sweep(wl.DirectNetwork(np.eye(N)), stream, 0.1, 100)
    with pytest.raises(ValueError, match="eta"):
        online.train(wl.DirectNetwork(np.eye(N)), stream, 0.0, 100)
    with pytest.raises(ValueError, match="gamma"):
        online.initial_M(0, N, [-1.0])
    with pytest.raises(ValueError, match="rng"):
        online.initial_M("seed", N, [1.0])
    with pytest.raises(ValueError, match="k >= n"):
        online.initial_M(0, N, [1.0], k=N - 1)


def test_one_key_gives_each_run_its_own_reproducible_samples():
    c = covariance(4)
    stream = data.GaussianStream(c)
    nets = online.initial_networks(wl.InterneuronNetwork, 3, N, [1.0, 1.0], k=K)
    traj = online.sweep(nets, stream, 0.01, 100, key=jax.random.key(3), record_every=100)
    w = np.asarray(traj.final.weights)
    assert not np.allclose(w[0], w[1])                       # the runs saw different samples
    for r in range(2):
        xs = np.asarray(data.draw(stream, jax.random.key(3), 100, run=r))
        ref = numpy_reference(wl.InterneuronNetwork, nets.weights[r], xs, 0.01)
        np.testing.assert_allclose(w[r], ref, atol=1e-8)
    # an int seed works as a key, and the same seed gives the same result
    again = online.sweep(nets, stream, 0.01, 100, key=5, record_every=100)
    np.testing.assert_array_equal(np.asarray(again.final.weights),
                                  np.asarray(online.sweep(nets, stream, 0.01, 100, key=5,
                                                          record_every=100).final.weights))


def test_rewhitening_steps_after_switches():
    steps = np.arange(0, 100, 10)
    errors = np.array([[0.1, 0.1, 5.0, 0.2, 0.1, 0.1, 3.0, 2.0, 0.1, 0.1]])
    traj = online.Trajectory(steps=steps, errors=errors, final=None, diverged=np.array([False]),
                             diverged_at=np.array([-1]), eta=np.array([0.1]))
    np.testing.assert_array_equal(traj.rewhitening_steps([20, 60], 0.5), [[10, 20]])
    np.testing.assert_array_equal(traj.rewhitening_steps([20, 60], 0.15), [[20, 20]])
    np.testing.assert_array_equal(traj.steps_to_threshold(0.15, start=20, stop=60), [20])
    with pytest.raises(ValueError, match="window"):
        traj.steps_to_threshold(0.5, start=200)
