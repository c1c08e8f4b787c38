"""The interface every whitening network provides, declared once.

A network is an immutable :class:`equinox.Module` (a JAX pytree): its learned
synapses ``weights`` and any fixed parts are leaves, so networks pass through
``jit``, ``vmap`` and ``lax.scan`` and can carry leading batch axes (one run
per entry, :func:`whitenlib.online.stack_networks`). Validation runs in the
constructor, on concrete values only; pytree rebuilds (inside ``jit``) and
:meth:`AbstractNetwork.with_weights` never validate.

What a concrete network declares (the pattern of diffrax's solvers):

* class attributes ``label`` (legends), ``weights_degree`` (the degree p of M
  in the weights, M(s·w) = sᵖ M(w): 1 for direct synapses, 2 for M = W Wᵀ;
  ``None`` when M is not homogeneous in the weights) and
  ``weights_are_factor`` (whether M = weights · weightsᵀ);
* the field or property ``weights`` and the property ``M`` (effective
  recurrent matrix, SPD: the output at equilibrium is ȳ = M⁻¹x);
* two kernels, pure JAX without checks: ``_update(x, eta)`` (the online
  rule for one sample) and ``_mean_flow(c)`` (d weights/dt of the averaged
  dynamics under input covariance C);
* the fast neural dynamics: ``neural_velocity``, ``neural_initial_state``,
  ``neural_output``.

The base turns the kernels into the public, checked methods
:meth:`~AbstractNetwork.step`, :meth:`~AbstractNetwork.flow` and
:meth:`~AbstractNetwork.mean_step`, which check only what is concrete and are
therefore safe inside ``jit``/``vmap``/``scan``.
"""

from __future__ import annotations

import abc
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.scipy.linalg import cho_factor, cho_solve

from whitenlib.objective import _objective, _objective_gradient, _whitening_error
from whitenlib.validation import (
    as_array,
    check_positive,
    check_size,
    check_spd,
    check_vector,
)


def check_sample(x, n: int, *, single: bool = False) -> jnp.ndarray:
    """Input x of shape (n,) (``single``) or (n,)/(T, n) as a float64 array."""
    x = as_array("x", x, min_ndim=1)
    check_vector("x", x, n)
    if single and x.ndim != 1:
        raise ValueError(f"x must be one sample of shape ({n},) for step, got {x.shape}.")
    return x


def check_covariance(c, n: int) -> jnp.ndarray:
    """SPD input covariance C of shape (n, n) (a batch may lead)."""
    c = as_array("C", c, min_ndim=2)
    check_spd("C", c)
    if c.shape[-1] != n:
        raise ValueError(f"C must have shape ({n}, {n}) to match the network, got {c.shape}.")
    return c


def check_eta(eta) -> jnp.ndarray:
    """Learning rate η > 0 as a float64 scalar (a tracer passes unchecked)."""
    check_positive("eta", eta)
    return jnp.asarray(eta, dtype=jnp.float64)


def outer(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
    """Batched outer product a bᵀ: (..., n), (..., k) -> (..., n, k)."""
    return a[..., :, None] * b[..., None, :]


def spd_solve(m: jnp.ndarray, x: jnp.ndarray) -> jnp.ndarray:
    """y = M⁻¹x by Cholesky; M (..., n, n) SPD, x (n,) or (T, n) -> shape of x (batch leading)."""
    factor = cho_factor(m, lower=True)
    out = jnp.swapaxes(cho_solve(factor, jnp.swapaxes(jnp.atleast_2d(x), -1, -2)), -1, -2)
    return out.reshape(out.shape[:-2] + x.shape)  # keeps leading batch axes of m


def direct_flow(m: jnp.ndarray, c: jnp.ndarray) -> jnp.ndarray:
    """−∇f(M) = M⁻¹CM⁻¹ − I, eq. (3.1): the flow of direct synapses and the error signal of all."""
    return -_objective_gradient(m, c)


def random_factor(key: jax.Array, n, gamma=1.0, k=None) -> jnp.ndarray:
    """W₀ = √(γ/k)·A, A standard normal of shape (n, k), k defaults to 2n: E[W₀W₀ᵀ] = γ I.

    The book's random initial condition (paper's protocol); every
    ``Net.random(key, n, gamma, k)`` starts from M₀ = W₀W₀ᵀ of this W₀.
    """
    n = check_size("n", n)
    k = 2 * n if k is None else check_size("k", k)
    check_positive("gamma", gamma)
    a = jax.random.normal(key, (n, k), dtype=jnp.float64)
    return jnp.sqrt(gamma / k) * a


class AbstractNetwork(eqx.Module):
    """A whitening circuit: n primary neurons whose output at equilibrium is ȳ = M⁻¹x.

    Subclasses declare the class attributes and implement the abstract
    members below; everything else (checked public methods, error,
    objective) is shared.
    """

    #: name used in legends and tables
    label: eqx.AbstractClassVar[str]
    #: degree p of M in the weights, M(s w) = sᵖ M(w); None if M is not homogeneous in them
    weights_degree: eqx.AbstractClassVar[int | None]
    #: whether M = weights · weightsᵀ (the weights are a factor of M)
    weights_are_factor: eqx.AbstractClassVar[bool]
    #: whether the network carries a running inverse that :meth:`refresh` recomputes
    carries_inverse: ClassVar[bool] = False

    #: the learned synapses (shape depends on the circuit; leading batch axes allowed)
    weights: eqx.AbstractVar[jax.Array]

    # ------------------------------------------------------------ what each circuit defines

    @property
    @abc.abstractmethod
    def M(self) -> jnp.ndarray:
        """Effective recurrent matrix (SPD), shape (..., n, n)."""

    @abc.abstractmethod
    def _update(self, x: jnp.ndarray, eta) -> AbstractNetwork:
        """The online rule for one sample x (n,) (no checks); returns the new network."""

    @abc.abstractmethod
    def _mean_flow(self, c: jnp.ndarray) -> jnp.ndarray:
        """d(weights)/dt of the averaged dynamics under covariance C (no checks).

        Shaped like ``weights``.
        """

    @abc.abstractmethod
    def neural_velocity(self, state, x, *taus):
        """Right-hand side of the fast neural dynamics at ``state`` for a fixed stimulus x (n,)."""

    @abc.abstractmethod
    def neural_initial_state(self):
        """Neural state before a stimulus (all zero), a pytree of arrays."""

    @abc.abstractmethod
    def neural_output(self, state) -> jnp.ndarray:
        """The primary neurons' activity y (n,) read from a neural state."""

    # ------------------------------------------------------------ shared behaviour

    def with_weights(self, weights) -> AbstractNetwork:
        """The same network with new synapses; no validation (used inside jit/scan/vmap)."""
        return eqx.tree_at(lambda net: net.weights, self, weights)

    def refresh(self) -> AbstractNetwork:
        """Recompute any carried running quantity exactly (here: nothing to do)."""
        return self

    @classmethod
    def from_M(cls, M, k: int | None = None, key: jax.Array | None = None) -> AbstractNetwork:
        """The network of this class whose effective matrix is M (where the class realizes it)."""
        raise ValueError(
            f"{cls.__name__} cannot be built from its effective matrix M: use its constructor."
        )

    @classmethod
    def random(cls, key: jax.Array, n: int, gamma=1.0, k: int | None = None) -> AbstractNetwork:
        """The book's random initial network: M₀ = W₀W₀ᵀ, W₀ = √(γ/k)·A.

        A is drawn by :func:`~whitenlib.networks.base.random_factor`. A class
        whose weights are a factor of M takes W₀ itself as weights; any other
        class is ``from_M(M₀)``. The same key and γ therefore start every class
        at the same M₀.
        """
        w0 = random_factor(key, n, gamma, k)
        if cls.weights_are_factor:
            return cls(w0)
        return cls.from_M(w0 @ w0.T)

    @property
    def n(self) -> int:
        """Number of primary neurons."""
        return self.M.shape[-1]

    def respond(self, x) -> jnp.ndarray:
        """Equilibrium output ȳ = M⁻¹x of the fast dynamics; x of shape (n,) or (T, n)."""
        return self._respond(check_sample(x, self.n))

    def _respond(self, x: jnp.ndarray) -> jnp.ndarray:
        # ȳ = M⁻¹x; circuits with a cheaper or different solve override this kernel
        return spd_solve(self.M, x)

    def step(self, x, eta) -> AbstractNetwork:
        """One online synaptic update from one sample x of shape (n,); returns a new network.

        Checks x and η where they are concrete, so it also runs inside
        ``jit``, ``vmap`` and ``lax.scan``.
        """
        return self._update(check_sample(x, self.n, single=True), check_eta(eta))

    def flow(self, C) -> jnp.ndarray:
        """d(weights)/dt of the continuous (averaged) synaptic dynamics; shaped like ``weights``."""
        return self._mean_flow(check_covariance(C, self.n))

    def mean_step(self, C, eta) -> AbstractNetwork:
        """One step of the averaged (expected) update: weights + η · flow(C)."""
        c = check_covariance(C, self.n)
        return self.with_weights(self.weights + check_eta(eta) * self._mean_flow(c))

    def error(self, C) -> jnp.ndarray:
        """Whitening error ‖M⁻¹ C M⁻¹ − I‖₂ of this network, eq. (1.7)."""
        return _whitening_error(self.M, check_covariance(C, self.n))

    def objective(self, C) -> jnp.ndarray:
        """Objective f(M) = Tr(M⁻¹C + M) at this network's M, eq. (1.3)."""
        return _objective(self.M, check_covariance(C, self.n))


__all__ = [
    "AbstractNetwork",
    "check_covariance",
    "check_eta",
    "check_sample",
    "direct_flow",
    "outer",
    "random_factor",
    "spd_solve",
]
