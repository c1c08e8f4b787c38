"""Every bad input raises a ValueError whose message names the argument."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import whitenlib as wl
from whitenlib import validation as v

N = 3
GOOD = np.diag([2.0, 1.0, 0.5])  # SPD
NON_SQUARE = np.ones((N, N + 1))
NON_SYMMETRIC = GOOD + np.triu(np.ones((N, N)), 1) * 0.1
INDEFINITE = np.diag([1.0, -0.5, 2.0])
SINGULAR = np.diag([1.0, 0.0, 2.0])
WITH_NAN = np.where(np.eye(N) > 0, GOOD, np.nan)
WITH_INF = GOOD + np.diag([0.0, np.inf, 0.0])
W_GOOD = np.hstack([np.eye(N), np.ones((N, 1))])  # (3, 4), rank 3

BAD_SPD = [
    pytest.param(NON_SQUARE, "must be a square matrix", id="non-square"),
    pytest.param(np.ones(N), "must have at least 2 dimensions", id="vector"),
    pytest.param(NON_SYMMETRIC, "must be symmetric", id="non-symmetric"),
    pytest.param(INDEFINITE, "must be positive definite", id="indefinite"),
    pytest.param(SINGULAR, "must be positive definite", id="singular"),
    pytest.param(WITH_NAN, "contains NaN or inf", id="nan"),
    pytest.param(WITH_INF, "contains NaN or inf", id="inf"),
    pytest.param("abc", "must be a numeric array", id="string"),
    pytest.param(None, "must be a numeric array", id="none"),
]

BAD_ETA = [
    pytest.param(0.0, id="zero"),
    pytest.param(-0.01, id="negative"),
    pytest.param(np.nan, id="nan"),
    pytest.param(np.inf, id="inf"),
    pytest.param(np.array([0.1, 0.2]), id="array"),
]

NETS = [pytest.param(Net, id=Net.__name__) for Net in wl.NETWORKS]


# ------------------------------------------------------------ SPD matrices M and C


@pytest.mark.parametrize("bad, match", BAD_SPD)
def test_direct_network_rejects_bad_M(bad, match):
    with pytest.raises(ValueError, match=f"M {match}"):
        wl.DirectNetwork(bad)


@pytest.mark.parametrize(
    "func", [wl.whitening_error, wl.objective, wl.objective_gradient, wl.output_covariance]
)
@pytest.mark.parametrize("bad, match", BAD_SPD)
def test_objective_functions_reject_bad_M_and_C(func, bad, match):
    with pytest.raises(ValueError, match=f"M {match}"):
        func(bad, GOOD)
    with pytest.raises(ValueError, match=f"C {match}"):
        func(GOOD, bad)


@pytest.mark.parametrize("Net", NETS)
@pytest.mark.parametrize("bad, match", BAD_SPD)
def test_from_M_rejects_bad_M(Net, bad, match):
    with pytest.raises(ValueError, match=match):
        Net.from_M(bad)


@pytest.mark.parametrize("Net", NETS)
@pytest.mark.parametrize("method", ["flow", "error", "objective", "mean_step"])
@pytest.mark.parametrize("bad, match", BAD_SPD)
def test_network_methods_reject_bad_C(Net, method, bad, match):
    net = Net.from_M(GOOD)
    args = (bad, 0.1) if method == "mean_step" else (bad,)
    with pytest.raises(ValueError, match=f"C {match}"):
        getattr(net, method)(*args)


@pytest.mark.parametrize("Net", NETS)
@pytest.mark.parametrize("method", ["flow", "error", "objective", "mean_step"])
def test_network_methods_reject_C_of_wrong_size(Net, method):
    net = Net.from_M(GOOD)
    c = np.eye(N + 1)
    args = (c, 0.1) if method == "mean_step" else (c,)
    with pytest.raises(ValueError, match=rf"C must have shape \({N}, {N}\)"):
        getattr(net, method)(*args)


def test_objective_rejects_size_mismatch():
    with pytest.raises(ValueError, match="M and C must have the same size"):
        wl.whitening_error(GOOD, np.eye(N + 1))
    with pytest.raises(ValueError, match="M and C must have the same size"):
        wl.objective(np.eye(N + 1), GOOD)


# ------------------------------------------------------------ interneuron weights W


@pytest.mark.parametrize(
    "bad, match",
    [
        pytest.param(np.ones((N, N - 1)), r"W has k = 2 interneurons for n = 3", id="k<n"),
        pytest.param(np.hstack([np.eye(N)[:, :2]] * 2), "W must have full row rank", id="rank<n"),
        pytest.param(np.zeros((N, N)), "W must have full row rank", id="zero"),
        pytest.param(np.where(W_GOOD > 0, W_GOOD, np.nan), "W contains NaN or inf", id="nan"),
        pytest.param(W_GOOD + np.inf, "W contains NaN or inf", id="inf"),
        pytest.param(np.ones(N), "W must have at least 2 dimensions", id="vector"),
    ],
)
def test_interneuron_network_rejects_bad_W(bad, match):
    with pytest.raises(ValueError, match=match):
        wl.InterneuronNetwork(bad)
    with pytest.raises(ValueError, match=match):
        wl.interneuron_objective(bad, GOOD)
    with pytest.raises(ValueError, match=match):
        wl.interneuron_objective_gradient(bad, GOOD)


def test_interneuron_from_M_rejects_too_few_interneurons():
    with pytest.raises(ValueError, match="k must be >= n"):
        wl.InterneuronNetwork.from_M(GOOD, k=N - 1)


# ------------------------------------------------------------ samples x and learning rate eta


@pytest.mark.parametrize("Net", NETS)
@pytest.mark.parametrize(
    "bad, match",
    [
        pytest.param(np.ones(N + 1), rf"x must have shape \({N},\) or \(T, {N}\)", id="too-long"),
        pytest.param(np.ones(N - 1), rf"x must have shape \({N},\)", id="too-short"),
        pytest.param(np.ones((2, N + 1)), r"x must have shape", id="batch-wrong-length"),
        pytest.param(np.ones((2, 2, N)), r"x must have shape", id="3d"),
        pytest.param(1.0, r"x must have at least 1 dimensions", id="scalar"),
        pytest.param(np.array([1.0, np.nan, 0.0]), "x contains NaN or inf", id="nan"),
        pytest.param(np.array([1.0, -np.inf, 0.0]), "x contains NaN or inf", id="inf"),
        pytest.param("xyz", "x must be a numeric array", id="string"),
    ],
)
def test_respond_and_step_reject_bad_x(Net, bad, match):
    net = Net.from_M(GOOD)
    with pytest.raises(ValueError, match=match):
        net.respond(bad)
    with pytest.raises(ValueError, match=match):
        net.step(bad, 0.1)


@pytest.mark.parametrize("Net", NETS)
def test_step_rejects_a_batch_of_samples(Net):
    with pytest.raises(ValueError, match=r"x must be one sample of shape \(3,\)"):
        Net.from_M(GOOD).step(np.ones((2, N)), 0.1)


@pytest.mark.parametrize("Net", NETS)
@pytest.mark.parametrize("eta", BAD_ETA)
def test_step_and_mean_step_reject_bad_eta(Net, eta):
    net = Net.from_M(GOOD)
    with pytest.raises(ValueError, match="eta must be"):
        net.step(np.ones(N), eta)
    with pytest.raises(ValueError, match="eta must be"):
        net.mean_step(GOOD, eta)


@pytest.mark.parametrize("Net", NETS)
def test_checks_pass_through_jit(Net):
    # value checks are skipped for tracers; shape checks still run under jit
    net = Net.from_M(GOOD)
    step = jax.jit(lambda nt, x, eta: nt.step(x, eta))
    assert step(net, jnp.ones(N), 0.1).weights.shape == net.weights.shape
    with pytest.raises(ValueError, match="x must have shape"):
        step(net, jnp.ones(N + 1), 0.1)


# ------------------------------------------------------------ neural simulation


@pytest.mark.parametrize(
    "kwargs, match",
    [
        pytest.param({"x": np.ones(N + 1)}, "x must have shape", id="x-length"),
        pytest.param({"x": np.ones((2, N))}, "x must be one stimulus", id="x-batch"),
        pytest.param({"x": np.array([np.nan, 0, 0])}, "x contains NaN", id="x-nan"),
        pytest.param({"t_end": 0.0}, "t_end must be a positive", id="t_end-zero"),
        pytest.param({"t_end": np.inf}, "t_end must be a positive", id="t_end-inf"),
        pytest.param({"dt": -0.1}, "dt must be a positive", id="dt-negative"),
        pytest.param({"dt": np.nan}, "dt must be a positive", id="dt-nan"),
    ],
)
def test_simulate_neural_dynamics_rejects_bad_input(kwargs, match):
    args = {"x": np.ones(N), "t_end": 1.0, "dt": 0.1} | kwargs
    with pytest.raises(ValueError, match=match):
        wl.simulate_neural_dynamics(wl.DirectNetwork(GOOD), args["x"], args["t_end"], args["dt"])


@pytest.mark.parametrize("tau", [0.0, -1.0, np.nan])
def test_simulate_neural_dynamics_rejects_bad_tau(tau):
    with pytest.raises(ValueError, match="tau must be a positive"):
        wl.simulate_neural_dynamics(wl.DirectNetwork(GOOD), np.ones(N), 1.0, 0.1, tau)


# ------------------------------------------------------------ linalg and theory


@pytest.mark.parametrize("bad, match", BAD_SPD)
def test_spd_roots_reject_bad_input(bad, match):
    with pytest.raises(ValueError, match=f"A {match}"):
        wl.spd_sqrt(bad)
    with pytest.raises(ValueError, match=f"A {match}"):
        wl.spd_inv_sqrt(bad)


@pytest.mark.parametrize("eps", [0.0, 1.0, -0.1, 1.5, np.nan])
def test_theory_rejects_eps_outside_unit_interval(eps):
    for func in (
        wl.theory.direct_convergence_time,
        wl.theory.interneuron_convergence_time,
        wl.theory.target_band,
    ):
        args = (1.0, eps) if func is wl.theory.target_band else (2.0, 1.0, eps)
        with pytest.raises(ValueError, match="eps must lie strictly between 0 and 1"):
            func(*args)


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan, np.inf])
def test_theory_rejects_non_positive_eigenvalues(bad):
    with pytest.raises(ValueError, match="lam must contain positive"):
        wl.theory.mode_error(1.0, bad)
    with pytest.raises(ValueError, match="m0 must contain positive"):
        wl.theory.interneuron_mode_trajectory(bad, 1.0, 0.5)
    with pytest.raises(ValueError, match="m must contain positive"):
        wl.theory.direct_mode_rate(bad, 1.0)


def test_theory_rejects_negative_times():
    for traj in (wl.theory.direct_mode_trajectory, wl.theory.interneuron_mode_trajectory):
        with pytest.raises(ValueError, match="t must be finite and non-negative"):
            traj(2.0, 1.0, -0.1)
        with pytest.raises(ValueError, match="t must be finite and non-negative"):
            traj(2.0, 1.0, np.nan)


# ------------------------------------------------------------ the helpers themselves


def test_validation_helpers():
    assert v.as_array("a", [1, 2]).dtype == jnp.float64
    v.check_spd("S", GOOD)
    v.check_spd("S", np.stack([GOOD, 2 * GOOD]))  # a batch
    with pytest.raises(ValueError, match="S must be positive definite"):
        v.check_spd("S", np.stack([GOOD, INDEFINITE]))
    v.check_full_row_rank("W", W_GOOD)
    v.check_positive("eta", 0.5)
    v.check_unit_interval("eps", [0.1, 0.9])
    with pytest.raises(ValueError, match="eps must lie strictly"):
        v.check_unit_interval("eps", [0.1, 1.0])
    v.check_positive_array("lam", [1e-300, 1e300])
    with pytest.raises(ValueError, match="lam must contain positive"):
        v.check_positive_array("lam", [1.0, 0.0])
    assert v.is_concrete(jnp.ones(2))
    assert jax.jit(lambda a: jnp.asarray(not v.is_concrete(a)))(jnp.ones(2))
    # a round-off asymmetry well below the tolerance is accepted
    v.check_spd("S", GOOD + np.triu(np.ones((N, N)), 1) * 1e-14)
