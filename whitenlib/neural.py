"""The fast neural dynamics, simulated in time.

Between synaptic updates the neural activity settles to an equilibrium. Each
network supplies its own vector field (``net.neural_velocity``); this module
integrates it with the classical fourth-order Runge–Kutta scheme inside one
``lax.scan`` and analyses its stability.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from whitenlib.validation import as_array, check_positive, check_vector


@partial(jax.jit, static_argnames=("num_steps",))
def _rk4(net, x, dt, num_steps, taus):
    def velocity(state):
        return net.neural_velocity(state, x, *taus)

    def rk4_step(state, _):
        k1 = velocity(state)
        k2 = velocity(jax.tree.map(lambda s, k: s + 0.5 * dt * k, state, k1))
        k3 = velocity(jax.tree.map(lambda s, k: s + 0.5 * dt * k, state, k2))
        k4 = velocity(jax.tree.map(lambda s, k: s + dt * k, state, k3))
        new = jax.tree.map(
            lambda s, a, b, c, d: s + dt / 6.0 * (a + 2 * b + 2 * c + d), state, k1, k2, k3, k4
        )
        return new, new

    state0 = net.neural_initial_state()
    _, path = jax.lax.scan(rk4_step, state0, None, length=num_steps)
    return jax.tree.map(lambda s0, p: jnp.concatenate([s0[None], p]), state0, path)


def simulate_neural_dynamics(net, x, t_end: float = 20.0, dt: float = 0.01, *taus):
    """Integrate the fast dynamics from rest for one fixed stimulus x.

    Parameters
    ----------
    net : DirectNetwork or InterneuronNetwork
    x : array (n,)
        Stimulus, held constant.
    t_end, dt : float
        Duration and RK4 step, in units of the time constant τ.
    *taus : float
        Time constants passed to ``net.neural_velocity`` (τ for the direct
        network; τ, τₙ for the interneuron network).

    Returns
    -------
    times : array (T + 1,)
    states : pytree of arrays with leading axis T + 1
        y for the direct network; (y, n) for the interneuron network.
    """
    x = as_array("x", x, min_ndim=1)
    check_vector("x", x, net.n)
    if x.ndim != 1:
        raise ValueError(f"x must be one stimulus of shape ({net.n},), got {x.shape}.")
    check_positive("t_end", t_end)
    check_positive("dt", dt)
    for tau in taus:
        check_positive("tau", tau)
    num_steps = int(round(t_end / dt))
    states = _rk4(net, x, jnp.float64(dt), num_steps, tuple(jnp.float64(t) for t in taus))
    return jnp.arange(num_steps + 1) * dt, states


def neural_jacobian(net, *taus) -> jnp.ndarray:
    """Jacobian of the (linear) fast dynamics with respect to the neural state."""
    state0 = net.neural_initial_state()
    flat0, unravel = ravel_pytree(state0)

    def flat_velocity(flat):
        return ravel_pytree(net.neural_velocity(unravel(flat), jnp.zeros(net.n), *taus))[0]

    return jax.jacfwd(flat_velocity)(flat0)


def neural_eigenvalues(net, *taus) -> jnp.ndarray:
    """Eigenvalues of the fast dynamics' Jacobian; all real parts < 0 means the circuit settles."""
    return jnp.linalg.eigvals(neural_jacobian(net, *taus))


__all__ = ["neural_eigenvalues", "neural_jacobian", "simulate_neural_dynamics"]
