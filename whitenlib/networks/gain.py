"""A third whitening circuit: fixed synapses, learned interneuron gains.

``GainNetwork(W, g)``
    n primary neurons and k interneurons. The synapses are a FIXED frame
    W = [w_1 … w_k] of unit-norm columns (shape (n, k)): interneuron i reads
    zᵢ = w_iᵀ y and feeds back −w_i gᵢ zᵢ; only the gains g ∈ ℝᵏ learn
    (Duong, Lipshutz, Heeger, Chklovskii & Simoncelli, ICML 2023).
    Effective M = I + W diag(g) Wᵀ::

        Fast dynamics (9.1)  τ dy/dt = x − y − W (g ∘ z),  τₙ dz/dt = Wᵀ y − z
                             → z̄ = Wᵀ ȳ,  ȳ = (I + W diag(g) Wᵀ)⁻¹ x
        Gain rule            g ← g + η (z ∘ z − 1)   (the algorithm of chapter 9)
        Gain flow (9.4)      dg/dt = diag(Wᵀ M⁻¹ C M⁻¹ W) − 1 = −∇_g f(M(g)); Hessian in (9.3)
        Induced on M (9.5)   dM/dt = 𝓕(M⁻¹ C M⁻¹ − I),
                             𝓕(X) = Σᵢ (w_iᵀ X w_i) w_i w_iᵀ  (frame operator: fixed, PSD)

The gains can be negative; the network is valid while M stays positive
definite, which is also when the fast dynamics settle (for τ = τₙ). An online
step that leaves the positive definite cone makes the next response NaN, which
the sweeps report as a divergence.

Whitening every covariance needs the k outer products w_i w_iᵀ to span the
n(n + 1)/2-dimensional space of symmetric matrices, so k ≥ n(n + 1)/2; with
fewer, the fixed point only sets the output variance along each frame
direction to one (chapter 9).

The class implements :class:`~whitenlib.networks.base.AbstractNetwork`
(``weights`` is g; the frame W is a second leaf and never learns). M is
affine, not homogeneous, in g: ``weights_degree`` is None.
"""

from __future__ import annotations

from functools import partial
from itertools import combinations
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from whitenlib.linalg import symmetrize
from whitenlib.networks.base import AbstractNetwork, check_covariance
from whitenlib.objective import _objective, _output_covariance
from whitenlib.validation import as_array, check_size, check_spd, is_concrete

#: tolerance on the unit norm of the frame's columns
UNIT_NORM_ATOL = 1e-8


def n_symmetric(n: int) -> int:
    """Dimension n(n + 1)/2 of the space of symmetric n × n matrices: the gains needed to whiten."""
    n = check_size("n", n)
    return n * (n + 1) // 2


def _check_frame(w) -> jnp.ndarray:
    w = as_array("W", w, min_ndim=2)
    if w.shape[-1] < 1 or w.shape[-2] < 1:
        raise ValueError(f"W must have shape (n, k) with n, k >= 1, got {w.shape}.")
    if is_concrete(w):
        norms = np.linalg.norm(np.asarray(w), axis=-2).ravel()
        worst = int(np.argmax(np.abs(norms - 1.0)))
        if abs(norms[worst] - 1.0) > UNIT_NORM_ATOL:
            raise ValueError(
                f"W must have unit-norm columns (a column has norm {norms[worst]:.3g}): "
                "the gain rule g <- g + eta (z**2 - 1) descends the objective only then. "
                "Pass W / jnp.linalg.norm(W, axis=-2, keepdims=True), or build one with "
                "GainNetwork.frame."
            )
    return w


def _effective_M(w: jnp.ndarray, g: jnp.ndarray) -> jnp.ndarray:
    """M = I + W diag(g) Wᵀ, eq. (9.2); w (..., n, k), g (..., k) -> (..., n, n)."""
    eye = jnp.eye(w.shape[-2], dtype=w.dtype)
    return eye + symmetrize((w * g[..., None, :]) @ jnp.swapaxes(w, -1, -2))


def _frame_outer_products(w: jnp.ndarray) -> jnp.ndarray:
    """The k matrices w_i w_iᵀ flattened as columns, shape (n², k)."""
    n, k = w.shape[-2], w.shape[-1]
    return jnp.einsum("ik,jk->ijk", w, w).reshape(n * n, k)


def frame_operator(W) -> jnp.ndarray:
    """The frame operator 𝓕(X) = Σᵢ (w_iᵀ X w_i) w_i w_iᵀ of eq. (9.5) as a matrix on vec(X).

    W (n, k) holds the frame's vectors as columns; the result, shape (n², n²),
    is O Oᵀ with O the (n², k) matrix whose columns are vec(w_i w_iᵀ): fixed
    and positive semidefinite. It whitens every covariance exactly when it is
    positive definite on the symmetric matrices (k ≥ n(n + 1)/2 spanning outer
    products).
    """
    w = as_array("W", W, min_ndim=2)
    if w.ndim != 2:
        raise ValueError(f"W must be one frame of shape (n, k), got {w.shape}.")
    o = _frame_outer_products(w)
    return o @ o.T


def _gain_hessian(w, g, c):
    """∇²_g f = 2 (Wᵀ M⁻¹ W) ∘ (Wᵀ M⁻¹CM⁻¹ W) (Hadamard product), eq. (9.3); shape (..., k, k)."""
    m = _effective_M(w, g)
    wt = jnp.swapaxes(w, -1, -2)
    a = wt @ jnp.linalg.solve(m, w)
    b = wt @ _output_covariance(m, c) @ w
    return 2.0 * a * b


@partial(jax.jit, static_argnames=("iters",))
def _newton_minimise(w, g0, c, active, iters):
    """Damped Newton on the convex f(M(g)) over the active gains.

    ``iters`` steps, each the longest of 1, 1/2, … that keeps M ≻ 0 and does
    not raise f; gains where ``active`` is 0 keep their value. The Hessian gets
    a tiny ridge, as it is singular when k > n(n + 1)/2 (then the step is close
    to the minimum-norm one).
    """
    k = g0.shape[-1]

    def value(g):
        m = _effective_M(w, g)
        chol = jnp.linalg.cholesky(m)
        ok = jnp.all(jnp.isfinite(chol))
        f = _objective(jnp.where(ok, m, jnp.eye(m.shape[-1])), c)
        return jnp.where(ok, f, jnp.inf)

    def newton_step(_, g):
        cyy = _output_covariance(_effective_M(w, g), c)
        grad = (1.0 - jnp.einsum("ik,ij,jk->k", w, cyy, w)) * active
        h = _gain_hessian(w, g, c) * active[:, None] * active[None, :] + jnp.diag(1.0 - active)
        ridge = 1e-12 * jnp.trace(h) / k
        step = jnp.linalg.solve(h + ridge * jnp.eye(k), grad)
        # backtracking without a data-dependent loop: try t = 1, 1/2, …, 2⁻³⁰ at once
        ts = 0.5 ** jnp.arange(31.0)
        fs = jax.vmap(lambda t: value(g - t * step))(ts)
        ok = fs <= value(g)
        t = jnp.where(jnp.any(ok), ts[jnp.argmax(ok)], 0.0)
        return g - t * step

    return jax.lax.fori_loop(0, iters, newton_step, g0)


class GainNetwork(AbstractNetwork):
    """n primary neurons, k interneurons: fixed unit-norm frame W (n, k), learned gains g (k,).

    Parameters
    ----------
    W : array (n, k)
        Fixed synapses; column i (unit norm) connects interneuron i to the
        primary neurons (Wᵀ in, −W out). Build one with :meth:`frame`.
    g : array (k,)
        Gains of the interneurons (the learned parameters). Any sign is
        allowed as long as M = I + W diag(g) Wᵀ is positive definite.

    Attributes
    ----------
    weights : (k,) the gains g (what learns; ``g`` is an alias)
    W : (n, k) the fixed frame
    """

    weights: jax.Array
    W: jax.Array
    label: ClassVar[str] = "gain"
    weights_degree: ClassVar[None] = None
    weights_are_factor: ClassVar[bool] = False

    def __init__(self, W, g):
        w = _check_frame(W)
        gains = as_array("g", g, min_ndim=1)
        if gains.shape[-1] != w.shape[-1]:
            raise ValueError(
                f"g must have one gain per column of W: shape ({w.shape[-1]},), got {gains.shape}."
            )
        if is_concrete(gains) and is_concrete(w):
            m = np.asarray(_effective_M(w, gains))
            eig_min = float(np.min(np.linalg.eigvalsh(m)))
            if eig_min <= 0.0:
                raise ValueError(
                    f"g makes M = I + W diag(g) W^T indefinite (smallest eigenvalue "
                    f"{eig_min:.3g}): "
                    "the circuit then has no stable equilibrium. Raise the most negative gains "
                    "(g = 0 gives M = I)."
                )
        self.weights = gains
        self.W = w

    # ------------------------------------------------------------ construction

    @staticmethod
    def frame(n: int, k: int | None = None, key: jax.Array | None = None) -> jnp.ndarray:
        """A frame of k unit-norm vectors in ℝⁿ, shape (n, k); k defaults to n(n + 1)/2.

        With ``key``: independent uniformly random directions (normalised
        Gaussian vectors), whose outer products span the symmetric matrices
        almost surely when k ≥ n(n + 1)/2. Without: the deterministic frame
        e_1 … e_n, then (e_i + e_j)/√2 for i < j, then (e_i − e_j)/√2 for
        i < j (first k of these; random directions from a fixed key past n²).
        Its first n(n + 1)/2 vectors have outer products that form a basis
        of the symmetric matrices.
        """
        n = check_size("n", n)
        k = n_symmetric(n) if k is None else check_size("k", k)
        if key is not None:
            a = jax.random.normal(key, (n, k), dtype=jnp.float64)
            return a / jnp.linalg.norm(a, axis=0, keepdims=True)
        eye = np.eye(n)
        cols = list(eye.T)
        pairs = list(combinations(range(n), 2))
        cols += [(eye[i] + eye[j]) / np.sqrt(2.0) for i, j in pairs]
        cols += [(eye[i] - eye[j]) / np.sqrt(2.0) for i, j in pairs]
        w = np.stack(cols, axis=1)[:, :k]
        if k > w.shape[1]:
            extra = GainNetwork.frame(n, k - w.shape[1], jax.random.key(0))
            w = np.concatenate([w, np.asarray(extra)], axis=1)
        return jnp.asarray(w)

    @classmethod
    def from_M(cls, M, k: int | None = None, key: jax.Array | None = None) -> GainNetwork:
        """The gain network whose effective matrix I + W diag(g) Wᵀ equals M.

        The frame is :meth:`frame` (n, k, key); the gains solve the linear
        system Σᵢ gᵢ w_i w_iᵀ = M − I in the least-squares sense (minimum
        norm when k > n(n + 1)/2).

        Raises
        ------
        ValueError
            If M − I is not in the span of the w_i w_iᵀ (e.g. k < n(n + 1)/2
            and M generic): that M cannot be built with this frame.
        """
        m = as_array("M", M, min_ndim=2)
        check_spd("M", m)
        if m.ndim != 2:
            raise ValueError(f"M must be one matrix of shape (n, n) for from_M, got {m.shape}.")
        n = m.shape[-1]
        w = cls.frame(n, k, key)
        a = np.asarray(_frame_outer_products(w))
        b = np.asarray(m - jnp.eye(n)).ravel()
        g, *_ = np.linalg.lstsq(a, b, rcond=None)
        resid = float(np.linalg.norm(a @ g - b))
        if resid > 1e-9 * max(1.0, float(np.linalg.norm(b))):
            raise ValueError(
                f"M cannot be written as I + W diag(g) W^T with this frame of k = {w.shape[1]} "
                f"vectors (least-squares residual {resid:.3g}). Use k >= n(n+1)/2 = "
                f"{n_symmetric(n)} interneurons, whose outer products span every symmetric matrix."
            )
        return cls(w, g)

    # ------------------------------------------------------------ the circuit

    @property
    def g(self) -> jnp.ndarray:
        """The gains (same as ``weights``), shape (..., k)."""
        return self.weights

    @property
    def n(self) -> int:
        """Number of primary neurons."""
        return self.W.shape[-2]

    @property
    def k(self) -> int:
        """Number of interneurons (gains)."""
        return self.W.shape[-1]

    @property
    def M(self) -> jnp.ndarray:
        """Effective recurrent matrix M = I + W diag(g) Wᵀ, eq. (9.2), shape (..., n, n)."""
        return _effective_M(self.W, self.weights)

    def respond_interneurons(self, x) -> jnp.ndarray:
        """Equilibrium interneuron activity z̄ = Wᵀ ȳ (before the gains).

        x of shape (n,) or (T, n) -> (k,) or (T, k).
        """
        return self.respond(x) @ self.W

    def _update(self, x, eta):
        # gain rule (chapter 9 algorithm): g ← g + η (z ∘ z − 1), z = Wᵀ y, y = M⁻¹ x
        y = self._respond(x)
        z = jnp.einsum("...n,...nk->...k", y, self.W)
        return self.with_weights(self.weights + eta * (z * z - 1.0))

    def _mean_flow(self, c):
        # eq. (9.4): dg/dt = diag(Wᵀ M⁻¹CM⁻¹ W) − 1 = −∇_g f
        cyy = _output_covariance(self.M, c)
        return jnp.einsum("...ik,...ij,...jk->...k", self.W, cyy, self.W) - 1.0

    def objective_of_gains(self, g, C) -> jnp.ndarray:
        """f(M(g)) = Tr(M⁻¹C + M) as a function of gains g (k,) with this frame, eq. (9.2)."""
        c = check_covariance(C, self.n)
        return _objective(_effective_M(self.W, jnp.asarray(g, dtype=jnp.float64)), c)

    def hessian(self, C) -> jnp.ndarray:
        """∇²_g f = 2 (Wᵀ M⁻¹ W) ∘ (Wᵀ M⁻¹CM⁻¹ W), eq. (9.3), shape (k, k); positive semidefinite.

        Minus the Jacobian of the gain flow (9.4) in g. At the optimum its
        nonzero eigenvalues are the local convergence rates of the gain
        network, and 2/(largest eigenvalue) is the largest stable learning
        rate of the averaged update there.
        """
        return _gain_hessian(self.W, self.weights, check_covariance(C, self.n))

    def optimal(self, C, *, active=None, iters: int = 40) -> GainNetwork:
        """The network with this frame at the minimiser of f over the gains (damped Newton).

        f(M(g)) is convex in g (M is affine in g), so the minimiser is the fixed
        point of the gain flow (9.4). With k ≥ n(n + 1)/2 spanning vectors it has
        M = C^{1/2}; with fewer it only satisfies w_iᵀ M⁻¹CM⁻¹ w_i = 1.
        ``active`` (k,) of 0/1 (or booleans), optional, selects the gains that
        learn; the others keep their current value (default: all learn), which
        is the network with only the active interneurons when those gains are 0.
        Works under ``jax.vmap`` (e.g. over frames or masks).

        Starts from the current gains (which must give an SPD M); each of the
        ``iters`` Newton steps is halved until M stays positive definite and f
        does not increase.
        """
        c = check_covariance(C, self.n)
        if self.weights.ndim != 1:
            raise ValueError("optimal needs a single network (gains of shape (k,)), not a batch.")
        if active is None:
            mask = jnp.ones(self.k)
        else:
            flags = active if hasattr(active, "dtype") else np.asarray(active)
            if flags.dtype == bool:  # flags are allowed here: they select, they do not weigh
                flags = jnp.asarray(flags, dtype=jnp.float64)
            mask = as_array("active", flags, min_ndim=1)
            if mask.shape != (self.k,):
                raise ValueError(
                    f"active must have shape ({self.k},) (one flag per gain), got {mask.shape}."
                )
        iters = check_size("iters", iters)
        return self.with_weights(_newton_minimise(self.W, self.weights, c, mask, iters))

    def neural_velocity(self, state, x, tau: float = 1.0, tau_n: float = 1.0):
        """Right-hand side of the fast dynamics (9.1).

        ``state`` is the pair (y, z) with shapes (n,), (k,):
        dy/dt = (x − y − W (g ∘ z))/τ,  dz/dt = (Wᵀ y − z)/τₙ.
        """
        y, z = state
        return (
            (x - y - self.W @ (self.weights * z)) / tau,
            (y @ self.W - z) / tau_n,
        )

    def neural_initial_state(self):
        """Neural state before a stimulus: y = 0, z = 0."""
        return (jnp.zeros(self.n), jnp.zeros(self.k))

    def neural_output(self, state):
        """The primary neurons' activity y from the neural state (y, z)."""
        return state[0]


__all__ = ["GainNetwork", "frame_operator", "n_symmetric"]
