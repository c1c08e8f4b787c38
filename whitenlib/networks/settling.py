"""Finite settling of the fast dynamics (chapter 8).

``FiniteSettling(net, settle_time)`` learns from the neural state after a
finite time s of its fast dynamics from rest instead of the equilibrium: the
dynamics are linear, so the state after time s is a linear map of the
stimulus, given in closed form from the eigenvalues of M (eq. (8.5)) or, for
any network, by a matrix exponential (:func:`settled_response`).
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from whitenlib.linalg import symmetrize
from whitenlib.networks.base import AbstractNetwork, outer
from whitenlib.networks.direct import DirectNetwork
from whitenlib.networks.interneuron import InterneuronNetwork
from whitenlib.validation import check_positive


def _expm(a: jnp.ndarray) -> jnp.ndarray:
    """Matrix exponential by scaling and squaring: Taylor polynomial of degree 12 on a/2^q.

    q is chosen from the 1-norm so that ‖a/2^q‖₁ ≤ 1/8 (truncation error below
    10⁻²⁰ relative); cheaper to compile than a Padé scheme, and accurate to
    round-off for the small generators of the fast dynamics.
    """
    norm = jnp.max(jnp.sum(jnp.abs(a), axis=-2))
    q = jnp.maximum(0, jnp.ceil(jnp.log2(jnp.maximum(norm, 1e-300)) + 3)).astype(jnp.int32)
    b = a / (2.0 ** q)
    eye = jnp.eye(a.shape[-1], dtype=a.dtype)
    out, term = eye, eye
    for j in range(1, 13):
        term = term @ b / j
        out = out + term
    return jax.lax.fori_loop(0, q, lambda _, m: m @ m, out)


def settled_response(net, settle_time, *taus) -> jnp.ndarray:
    """Linear map from a stimulus x to the neural state after time s from rest, shape (N, n).

    The fast dynamics are linear, ds/dt = J s + B x with s(0) = 0, so
    s(t) = (∫₀ᵗ e^{uJ} du) B x, read off the top-right block of
    exp(t [[J, B], [0, 0]]) (eq. (8.5)). N is the size of the flattened
    neural state (n for the direct network, n + k with interneurons, in the
    order of ``net.neural_initial_state()``). J and B come from
    ``net.neural_velocity`` by automatic differentiation.
    """
    state0 = net.neural_initial_state()
    flat0, unravel = ravel_pytree(state0)
    x0 = jnp.zeros(net.n)

    def vel(flat, x):
        return ravel_pytree(net.neural_velocity(unravel(flat), x, *taus))[0]

    jac = jax.jacfwd(vel, argnums=0)(flat0, x0)
    b = jax.jacfwd(vel, argnums=1)(flat0, x0)
    size, n = jac.shape[0], b.shape[1]
    gen = jnp.zeros((size + n, size + n), dtype=jac.dtype)
    gen = gen.at[:size, :size].set(jac).at[:size, size:].set(b)
    return _expm(settle_time * gen)[:size, size:]


def _phi(mu, s):
    """∫₀ˢ e^{uμ} du = expm1(sμ)/μ (→ s as μ → 0); μ real or complex, elementwise."""
    small = jnp.abs(mu) * s < 1e-8
    safe = jnp.where(small, 1.0, mu)
    return jnp.where(small, s * (1.0 + 0.5 * s * mu), jnp.expm1(s * safe) / safe)


def _dphi(mu, s):
    """d/dμ of :func:`_phi`: (s e^{sμ} μ − expm1(sμ))/μ² (→ s²/2 as μ → 0)."""
    small = jnp.abs(mu) * s < 1e-4
    safe = jnp.where(small, 1.0, mu)
    big = (s * jnp.exp(s * safe) * safe - jnp.expm1(s * safe)) / safe**2
    return jnp.where(small, s * s * (0.5 + s * mu / 3.0), big)


def _settling_modes(m, s, tau, tau_n):
    """Responses after time s from rest along one eigenvalue m of M (chapter 8); elementwise.

    Direct (``tau_n`` None): τ a' = 1 − m a, so a(s) = ∫₀ˢ e^{−um/τ} du / τ.
    Interneurons: τ a' = 1 − m c, τₙ c' = a − c (a: y along the eigenvector,
    c: n = Wᵀ c(M) x along it). With Ã = [[0, −m/τ], [1/τₙ, −1/τₙ]],
    ∫₀ˢ e^{uÃ} du = α I + β Ã (Cayley–Hamilton), α, β from φ(μ) = ∫₀ˢ e^{uμ} du
    at the two eigenvalues μ of Ã, so (a, c) = (α/τ, β/(τ τₙ)). No division by
    m: the maps stay accurate as m → 0. At equilibrium a = c = 1/m.
    """
    if tau_n is None:
        return _phi(-m / tau, s) / tau, None
    mu = -0.5 / tau_n
    delta = jnp.sqrt((mu * mu - m / (tau * tau_n)).astype(jnp.complex128))
    mu1, mu2 = mu + delta, mu - delta
    f1, f2 = _phi(mu1, s), _phi(mu2, s)
    tiny = jnp.abs(delta) * s < 1e-6
    safe = jnp.where(tiny, 1.0, delta)
    beta = jnp.where(tiny, _dphi(mu + 0 * delta, s), (f1 - f2) / (2.0 * safe))
    alpha = f1 - beta * mu1
    return jnp.real(alpha) / tau, jnp.real(beta) / (tau * tau_n)


def _settled_maps(net, s, taus):
    """(R_y, R_n): y(s) = R_y x (n × n, symmetric), n(s) = R_n x (k × n; None if direct)."""
    tau = taus[0] if len(taus) > 0 else 1.0
    if isinstance(net, DirectNetwork):
        m, q = jnp.linalg.eigh(symmetrize(net.M))
        a, _ = _settling_modes(m, s, tau, None)
        return (q * a) @ q.T, None
    tau_n = taus[1] if len(taus) > 1 else 1.0
    m, q = jnp.linalg.eigh(symmetrize(net.M))
    a, c = _settling_modes(m, s, tau, tau_n)
    return (q * a) @ q.T, net.weights.T @ ((q * c) @ q.T)


class FiniteSettling(AbstractNetwork):
    """A network that learns from its neural state after a finite settling time s (in units of τ).

    For each sample the fast dynamics run from rest for time s, and the state
    after that time drives the network's own rule (chapter 8): direct
    M ← M + η (y yᵀ − I) with y = y(s); interneuron W ← W + η (y nᵀ − W)
    with y = y(s), n = n(s). The averaged flow replaces x xᵀ by C. The fast
    dynamics are linear and, for these two networks, functions of M, so
    y(s) = R_y x and n(s) = R_n x follow in closed form from the eigenvalues
    of M (:func:`settled_response` computes the same maps for any network by
    a matrix exponential). The circuit's output is y(s), so ``M`` is the
    effective matrix R_y⁻¹ and ``error`` measures ‖R_y C R_yᵀ − I‖₂. As
    s → ∞ the network becomes the wrapped one.

    Parameters
    ----------
    net : DirectNetwork or InterneuronNetwork
    settle_time : float
        Time s > 0 the fast dynamics run per sample.
    taus : tuple of float
        Time constants (τ,) for the direct network, (τ, τₙ) for the
        interneuron network; default all 1.
    """

    net: AbstractNetwork
    settle_time: jax.Array
    taus: tuple = eqx.field(static=True)
    weights_degree: ClassVar[None] = None
    weights_are_factor: ClassVar[bool] = False

    def __init__(self, net, settle_time: float, taus: tuple = ()):
        if not isinstance(net, (DirectNetwork, InterneuronNetwork)):
            raise ValueError(
                f"net must be a DirectNetwork or an InterneuronNetwork, got {type(net).__name__}."
            )
        check_positive("settle_time", settle_time)
        for t in taus:
            check_positive("tau", t)
        self.net = net
        self.settle_time = jnp.asarray(settle_time, dtype=jnp.float64)
        self.taus = tuple(float(t) for t in taus)

    @property
    def label(self) -> str:
        """The wrapped network's label."""
        return self.net.label

    @property
    def weights(self) -> jnp.ndarray:
        """The wrapped network's synapses."""
        return self.net.weights

    def with_weights(self, weights) -> FiniteSettling:
        """The same settling time around ``net.with_weights(weights)``."""
        return eqx.tree_at(lambda s: s.net, self, self.net.with_weights(weights))

    def _maps(self):
        lead = self.weights.shape[:-2]

        def fn(nt, ss):
            return _settled_maps(nt, ss, self.taus)

        for _ in lead:
            fn = jax.vmap(fn)
        return fn(self.net, jnp.broadcast_to(self.settle_time, lead))

    def response(self) -> jnp.ndarray:
        """R (N × n): the neural state after time s from rest is R x (y first, then n)."""
        r_y, r_n = self._maps()
        return r_y if r_n is None else jnp.concatenate([r_y, r_n], axis=-2)

    @property
    def M(self) -> jnp.ndarray:
        """Effective matrix of the output map, y(s) = M⁻¹ x: M = R_y⁻¹, shape (..., n, n)."""
        return symmetrize(jnp.linalg.inv(self._maps()[0]))

    @property
    def n(self) -> int:
        """Number of primary neurons."""
        return self.net.n

    def _respond(self, x):
        return x @ jnp.swapaxes(self._maps()[0], -1, -2)

    def _update(self, x, eta):
        r_y, r_n = self._maps()
        y = r_y @ x
        if r_n is None:  # direct: M ← M + η (y yᵀ − I)
            update = outer(y, y) - jnp.eye(self.n, dtype=y.dtype)
        else:            # interneurons: W ← W + η (y nᵀ − W)
            update = outer(y, r_n @ x) - self.weights
        return self.with_weights(self.weights + eta * update)

    def neural_velocity(self, state, x, *taus):
        """The wrapped network's fast dynamics (time constants default to ``taus``)."""
        return self.net.neural_velocity(state, x, *(taus or self.taus))

    def neural_initial_state(self):
        """The wrapped network's state at rest."""
        return self.net.neural_initial_state()

    def neural_output(self, state):
        """The primary neurons' activity y."""
        return self.net.neural_output(state)

    def _mean_flow(self, c):
        r_y, r_n = self._maps()
        if r_n is None:
            return r_y @ c @ r_y.T - jnp.eye(self.n, dtype=c.dtype)
        return r_y @ c @ r_n.T - self.weights


__all__ = ["FiniteSettling", "settled_response"]
