"""Variants of the interneuron circuit beyond the paper (chapters 7 and 8).

Geometry of the interneuron flow (chapter 7)
    P_M(X) = M X + X M                      the preconditioner of the induced flow (3.4)
    ⟨X, Y⟩_M = Tr(X P_M⁻¹(Y))               the metric in which it is a gradient flow (7.3)

``ChainNetwork(W1, W2)``  (chapter 7)
    A deeper pathway: M = A Aᵀ, A = W₁W₂, W₁ (n × n), W₂ (n × p), p ≥ n.
    Flow (7.7)  dW₁/dt = E A W₂ᵀ,  dW₂/dt = W₁ᵀ E A,  E = M⁻¹CM⁻¹ − I
    (−½ the gradient of f(AAᵀ)). Balanced, commuting, one mode:
    dm/dt = 4 (λ − m²)/√m  (7.10)

``AsymmetricInterneuronNetwork(W, V)``  (chapter 8)
    Separate feedback W (n × k, interneuron → primary, sign −) and feedforward
    V (k × n, primary → interneuron). Fast dynamics τ dy/dt = x − W n,
    τₙ dn/dt = V y − n → ȳ = (W V)⁻¹ x, n̄ = V ȳ. Local rules
    W ← W + η (y nᵀ − W),  V ← V + η (n yᵀ − V);  the asymmetry D = W − Vᵀ
    then obeys D ← (1 − η) D exactly, at every step (8.2).

``DaleInterneuronNetwork(W)``  (chapter 8)
    The interneuron network with sign-constrained synapses W ≥ 0 (inhibitory
    interneurons): every update is projected, W ← max(0, W + η (y nᵀ − W)).

``LeakyInterneuronNetwork(W, leak)``  (chapter 8)
    Any number k ≥ 1 of interneurons, and a leak ε > 0 in the primary neurons:
    τ dy/dt = x − ε y − W n → ȳ = (ε I + W Wᵀ)⁻¹ x. Same local rule as the
    interneuron network; with k < n it whitens the top-k principal subspace.

``FiniteSettling(net, settle_time)``  (chapter 8)
    A network whose learning sees the neural state after a finite time s of
    its fast dynamics from rest, instead of the equilibrium.

Every class shares the interface of :mod:`whitenlib.networks` (``weights``,
``M``, ``respond``, ``_step``, ``_flow``, ``with_weights``, ``error``), so
:func:`whitenlib.online.train`, :func:`whitenlib.online.sweep` and
:func:`whitenlib.flows.integrate_flow` run them unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jax.scipy.linalg import cho_factor, cho_solve

from whitenlib.linalg import spd_power, symmetrize
from whitenlib.networks import DirectNetwork, InterneuronNetwork, _Network, _outer
from whitenlib.objective import _output_covariance
from whitenlib.theory import _band_edge, _eps, _positive
from whitenlib.validation import as_array, check_positive, check_spd, is_concrete

# ------------------------------------------------------------------ geometry (chapter 7)


def _eig_frame(M):
    m = as_array("M", M, min_ndim=2)
    check_spd("M", m)
    lam, q = jnp.linalg.eigh(symmetrize(m))
    return lam, q


def preconditioner(M, X) -> jnp.ndarray:
    """The Lyapunov operator P_M(X) = M X + X M, eq. (3.4); M SPD (n, n), X (n, n).

    In the eigenbasis of M it multiplies entry (i, j) of X by m_i + m_j.
    """
    m = as_array("M", M, min_ndim=2)
    check_spd("M", m)
    x = as_array("X", X, min_ndim=2)
    return m @ x + x @ m


def preconditioner_inverse(M, Y) -> jnp.ndarray:
    """P_M⁻¹(Y): the X with M X + X M = Y (a Lyapunov equation), shape (n, n).

    Solved in the eigenbasis of M, M = Q diag(m) Qᵀ: X = Q [ (QᵀYQ)_ij / (m_i + m_j) ] Qᵀ.
    """
    lam, q = _eig_frame(M)
    y = as_array("Y", Y, min_ndim=2)
    yt = q.T @ y @ q
    return q @ (yt / (lam[:, None] + lam[None, :])) @ q.T


def preconditioner_eigenvalues(M) -> np.ndarray:
    """Eigenvalues m_i + m_j (i ≤ j) of P_M on symmetric matrices, sorted; shape (n(n+1)/2,)."""
    lam, _ = _eig_frame(M)
    lam = np.asarray(lam)
    i, j = np.triu_indices(lam.shape[0])
    return np.sort(lam[i] + lam[j])


def preconditioner_matrix(M) -> np.ndarray:
    """The matrix of P_M on symmetric matrices in an orthonormal basis, shape (n(n+1)/2, n(n+1)/2).

    Basis: E_ii and (E_ij + E_ji)/√2 for i < j (orthonormal for ⟨X, Y⟩ = Tr(XY)).
    Its eigenvalues are those of :func:`preconditioner_eigenvalues`.
    """
    m = np.asarray(as_array("M", M, min_ndim=2))
    check_spd("M", jnp.asarray(m))
    n = m.shape[0]
    basis = []
    for i in range(n):
        for j in range(i, n):
            e = np.zeros((n, n))
            if i == j:
                e[i, i] = 1.0
            else:
                e[i, j] = e[j, i] = 1.0 / np.sqrt(2.0)
            basis.append(e)
    basis = np.stack(basis)
    images = np.einsum("ij,bjk->bik", m, basis) + np.einsum("bij,jk->bik", basis, m)
    return np.einsum("aij,bij->ab", basis, images)


def metric(M, X, Y) -> jnp.ndarray:
    """⟨X, Y⟩_M = Tr(X P_M⁻¹(Y)), eq. (7.3): the metric of the interneuron gradient flow.

    Twice the Bures–Wasserstein metric at M; X, Y symmetric (n, n).
    """
    return jnp.trace(as_array("X", X, min_ndim=2) @ preconditioner_inverse(M, Y))


# ------------------------------------------------------------------ a deeper chain (chapter 7)


def _split_chain(w):
    n = w.shape[-2]
    return w[..., :, :n], w[..., :, n:]


@jax.tree_util.register_pytree_node_class
@dataclass(frozen=True, init=False, eq=False)
class ChainNetwork(_Network):
    """A deeper interneuron pathway: M = A Aᵀ, A = W₁ W₂, W₁ (n × n), W₂ (n × p), p ≥ n.

    The signal goes primary → (W₁ᵀ) → a first interneuron layer → (W₂ᵀ) → a
    second layer → (W₂) → back to the first → (−W₁) → primary neurons; at
    equilibrium ȳ = M⁻¹x as for the other networks. The learned synapses
    are stored side by side, ``weights = [W₁ | W₂]`` of shape (n, n + p), so
    the flow integrator of :mod:`whitenlib.flows` runs this class unchanged.

    Flow, eq. (7.7):  dW₁/dt = E A W₂ᵀ,  dW₂/dt = W₁ᵀ E A,  E = M⁻¹CM⁻¹ − I,
    which is −½ the gradient of f(AAᵀ) in (W₁, W₂). It conserves
    W₁ᵀW₁ − W₂W₂ᵀ (the imbalance); on the balanced set W₁ᵀW₁ = W₂W₂ᵀ,
    W₁W₁ᵀ = M^{1/2} and the induced flow is eq. (7.9).
    """

    weights: jnp.ndarray
    label = "chain"

    def __init__(self, W1, W2):
        w1 = as_array("W1", W1, min_ndim=2)
        w2 = as_array("W2", W2, min_ndim=2)
        n = w1.shape[-2]
        if w1.shape[-1] != n:
            raise ValueError(f"W1 must be square (n, n), got {w1.shape}.")
        if w2.shape[-2] != n or w2.shape[-1] < n:
            raise ValueError(f"W2 must have shape ({n}, p) with p >= {n}, got {w2.shape}.")
        w = jnp.concatenate([w1, w2], axis=-1)
        check_spd("M = A A^T of the chain", _chain_M(w))
        object.__setattr__(self, "weights", w)

    def tree_flatten(self):
        return (self.weights,), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        obj = object.__new__(cls)
        object.__setattr__(obj, "weights", children[0])
        return obj

    def with_weights(self, weights) -> "ChainNetwork":
        """A chain with new synapses [W₁ | W₂] (no validation)."""
        return self.tree_unflatten(None, (weights,))

    @classmethod
    def from_M(cls, M, p: int | None = None, key: jax.Array | None = None) -> "ChainNetwork":
        """A balanced chain with A Aᵀ = M: W₁ = M^{1/4}, W₂ = M^{1/4} [I, 0] Vᵀ (Haar V if ``key``)."""
        m = as_array("M", M, min_ndim=2)
        check_spd("M", m)
        n = m.shape[-1]
        p = n if p is None else int(p)
        if p < n:
            raise ValueError(f"p must be >= n = {n}, got p = {p}.")
        quarter = spd_power(m, 0.25)
        w2 = jnp.concatenate([quarter, jnp.zeros(quarter.shape[:-1] + (p - n,))], axis=-1)
        if key is not None:
            from whitenlib.linalg import random_orthogonal

            w2 = w2 @ random_orthogonal(key, p).T
        return cls(quarter, w2)

    @property
    def W1(self) -> jnp.ndarray:
        """First factor, shape (..., n, n)."""
        return _split_chain(self.weights)[0]

    @property
    def W2(self) -> jnp.ndarray:
        """Second factor, shape (..., n, p)."""
        return _split_chain(self.weights)[1]

    @property
    def A(self) -> jnp.ndarray:
        """A = W₁W₂, shape (..., n, p)."""
        return self.W1 @ self.W2

    @property
    def M(self) -> jnp.ndarray:
        """M = A Aᵀ, shape (..., n, n)."""
        return _chain_M(self.weights)

    def imbalance(self) -> jnp.ndarray:
        """W₁ᵀW₁ − W₂W₂ᵀ (n × n), conserved by the flow."""
        w1, w2 = self.W1, self.W2
        return jnp.swapaxes(w1, -1, -2) @ w1 - w2 @ jnp.swapaxes(w2, -1, -2)

    def _respond(self, x):
        return DirectNetwork.tree_unflatten(None, (self.M,))._respond(x)

    def _step(self, x, eta):
        # sample version of eq. (7.7), E ≈ y yᵀ − I: with n₂ = Aᵀy,
        # W₁ ← W₁ + η (y (W₂n₂)ᵀ − W₁W₂W₂ᵀ),  W₂ ← W₂ + η ((W₁ᵀy) n₂ᵀ − W₁ᵀW₁W₂)
        w1, w2 = self.W1, self.W2
        y = self._respond(x)
        n2 = y @ (w1 @ w2)
        dw1 = _outer(y, w2 @ n2) - w1 @ w2 @ w2.T
        dw2 = _outer(y @ w1, n2) - w1.T @ w1 @ w2
        return self.with_weights(self.weights + eta * jnp.concatenate([dw1, dw2], axis=-1))

    def _flow(self, c):
        # eq. (7.7)
        w1, w2 = self.W1, self.W2
        a = w1 @ w2
        e = DirectNetwork.tree_unflatten(None, (self.M,))._flow(c)
        return jnp.concatenate([e @ a @ jnp.swapaxes(w2, -1, -2),
                                jnp.swapaxes(w1, -1, -2) @ e @ a], axis=-1)

    @staticmethod
    def mode_rate(m, lam) -> np.ndarray:
        """dm/dt = 4 (λ − m²)/√m for a balanced chain that commutes with C, eq. (7.10)."""
        m, lam = _positive("m", m), _positive("lam", lam)
        return 4.0 * (lam - m**2) / np.sqrt(m)

    @staticmethod
    def mode_convergence_time(m0, lam, eps) -> np.ndarray:
        """Exact time until |λ/m² − 1| ≤ ε under dm/dt = 4(λ − m²)/√m, from m₀ (eq. (7.11)).

        With a = λ^{1/4} and F(s) = (1/2a) ln|(s − a)/(s + a)| + (1/a) arctan(s/a),
        t(m₀ → m) = ¼ |F(√m₀) − F(√m)|; from above it stays below
        (π/2 − arctan(√m_e/a) − ½ ln|(√m_e − a)/(√m_e + a)|)/(4a), m_e the band edge,
        however large m₀ is.
        """
        m0, lam = _positive("m0", m0), _positive("lam", lam)
        eps = _eps(eps)
        m0, lam, eps = np.broadcast_arrays(m0, lam, eps)
        edge, inside = _band_edge(m0, lam, eps)
        return np.where(inside, 0.0, chain_time_to_reach(m0, edge, lam))

    @staticmethod
    def mode_convergence_time_limit(lam, eps) -> np.ndarray:
        """Limit of :meth:`mode_convergence_time` as m₀ → ∞: the saturation time, eq. (7.11)."""
        lam = _positive("lam", lam)
        eps = _eps(eps)
        a = lam**0.25
        s = (lam / (1.0 - eps)) ** 0.25  # √(upper band edge)
        return (0.5 * np.pi - np.arctan(s / a) - 0.5 * np.log((s - a) / (s + a))) / (4.0 * a)


def _chain_M(w):
    w1, w2 = _split_chain(w)
    a = w1 @ w2
    return symmetrize(a @ jnp.swapaxes(a, -1, -2))


def chain_time_to_reach(m0, m, lam) -> np.ndarray:
    """Time for the balanced chain's mode to go from m₀ to m (same side of √λ), eq. (7.11).

    t = ¼ |F(√m₀) − F(√m)|, F as in :meth:`ChainNetwork.mode_convergence_time`,
    written as ln and arctan of ratios, without cancellation.
    """
    m0, m, lam = _positive("m0", m0), _positive("m", m), _positive("lam", lam)
    a = lam**0.25
    s0, s = np.sqrt(m0), np.sqrt(m)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_part = 0.5 * np.log(np.abs((s0 - a) * (s + a) / ((s0 + a) * (s - a))))
        atan_part = np.arctan(a * (s0 - s) / (a * a + s * s0))
        t = 0.25 * np.abs(log_part + atan_part) / a
    return np.where(m == m0, 0.0, t)


# ------------------------------------------------------------------ separate feedforward and feedback


@jax.tree_util.register_pytree_node_class
@dataclass(frozen=True, init=False, eq=False)
class AsymmetricInterneuronNetwork(_Network):
    """Interneurons with separate feedback W (n × k) and feedforward V (k × n) synapses.

    Fast dynamics (8.1): τ dy/dt = x − W n,  τₙ dn/dt = V y − n  →  ȳ = (W V)⁻¹ x,
    n̄ = V ȳ. Local rules: W ← W + η (y nᵀ − W), V ← V + η (n yᵀ − V).
    Both W and Vᵀ receive the same Hebbian term y nᵀ, so the asymmetry
    D = W − Vᵀ decays as D ← (1 − η) D, whatever the samples (8.2).

    ``weights = [W | Vᵀ]``, shape (n, 2k). The circuit's matrix W V
    (``M_circuit``) is not symmetric in general; ``M`` is its symmetric polar
    factor, which has the same whitening error, so the error, the flow
    integrator and the online sweeps treat this class like the others.
    """

    weights: jnp.ndarray
    label = "asymmetric"

    def __init__(self, W, V):
        w = as_array("W", W, min_ndim=2)
        v = as_array("V", V, min_ndim=2)
        if v.shape[-2:] != w.shape[-2:][::-1]:
            raise ValueError(f"V must have shape (k, n) = {w.shape[-2:][::-1]} to match W, got {v.shape}.")
        m = w @ v
        if is_concrete(m):
            sv = np.linalg.svd(np.asarray(m), compute_uv=False)
            if np.min(sv[..., -1]) <= 1e-12 * max(float(np.max(sv[..., 0])), 1e-300):
                raise ValueError("W V is singular: the circuit has no equilibrium. Use k >= n and generic W, V.")
        object.__setattr__(self, "weights", jnp.concatenate([w, jnp.swapaxes(v, -1, -2)], axis=-1))

    def tree_flatten(self):
        return (self.weights,), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        obj = object.__new__(cls)
        object.__setattr__(obj, "weights", children[0])
        return obj

    def with_weights(self, weights) -> "AsymmetricInterneuronNetwork":
        """A network with new synapses [W | Vᵀ] (no validation)."""
        return self.tree_unflatten(None, (weights,))

    @property
    def k(self) -> int:
        """Number of interneurons."""
        return self.weights.shape[-1] // 2

    @property
    def W(self) -> jnp.ndarray:
        """Feedback synapses (interneuron → primary, inhibitory), shape (..., n, k)."""
        return self.weights[..., : self.k]

    @property
    def V(self) -> jnp.ndarray:
        """Feedforward synapses (primary → interneuron), shape (..., k, n)."""
        return jnp.swapaxes(self.weights[..., self.k :], -1, -2)

    @property
    def M_circuit(self) -> jnp.ndarray:
        """The circuit's recurrent matrix W V (not symmetric in general), shape (..., n, n)."""
        return self.W @ self.V

    @property
    def M(self) -> jnp.ndarray:
        """Symmetric polar factor P = ((WV)(WV)ᵀ)^{1/2} of W V = P U, shape (..., n, n).

        The output y = (WV)⁻¹x = Uᵀ P⁻¹ x is P⁻¹x rotated, so
        ‖P⁻¹CP⁻¹ − I‖₂ is the whitening error of the circuit, and P is SPD
        exactly when W V is invertible. At W = Vᵀ, P = W V = W Wᵀ.
        """
        m = self.M_circuit
        return spd_power(m @ jnp.swapaxes(m, -1, -2), 0.5)

    def asymmetry(self) -> jnp.ndarray:
        """D = W − Vᵀ, shape (..., n, k)."""
        return self.weights[..., : self.k] - self.weights[..., self.k :]

    def _respond(self, x):
        xs = jnp.atleast_2d(x)
        out = jnp.swapaxes(jnp.linalg.solve(self.M_circuit, jnp.swapaxes(xs, -1, -2)), -1, -2)
        return out.reshape(out.shape[:-2] + x.shape)

    def _step(self, x, eta):
        # eq. (8.2): both halves of [W | Vᵀ] receive y nᵀ
        y = self._respond(x)
        n_act = self.V @ y
        hebb = _outer(y, n_act)
        both = jnp.concatenate([hebb, hebb], axis=-1)
        return self.with_weights(self.weights + eta * (both - self.weights))

    def _flow(self, c):
        # E[y nᵀ] = M⁻¹CM⁻ᵀ Vᵀ (M = W V) for both halves, minus the decay
        cyy = _output_covariance(self.M_circuit, c)
        hebb = cyy @ self.weights[..., self.k :]
        return jnp.concatenate([hebb, hebb], axis=-1) - self.weights

    def neural_velocity(self, state, x, tau: float = 1.0, tau_n: float = 1.0):
        """Fast dynamics (8.1): dy/dt = (x − W n)/τ, dn/dt = (V y − n)/τₙ; state (y (n,), n (k,))."""
        y, n_act = state
        return ((x - self.W @ n_act) / tau, (self.V @ y - n_act) / tau_n)

    def neural_initial_state(self):
        """y = 0, n = 0."""
        return (jnp.zeros(self.n), jnp.zeros(self.k))

    def neural_output(self, state):
        """The primary neurons' activity y."""
        return state[0]


# ------------------------------------------------------------------ Dale's principle


@jax.tree_util.register_pytree_node_class
@dataclass(frozen=True, init=False, eq=False)
class DaleInterneuronNetwork(InterneuronNetwork):
    """The interneuron network with nonnegative synapses W ≥ 0 (inhibitory interneurons).

    Wᵀ (primary → interneuron) is excitatory and −W (interneuron → primary)
    inhibitory. Every new weight matrix is projected onto W ≥ 0
    (:meth:`with_weights` clips at zero), so the online step and the averaged
    step are the projected rules (8.3): W ← max(0, W + η (y nᵀ − W)).
    M = W Wᵀ then has nonnegative entries.
    """

    label = "dale"

    def __init__(self, W):
        w = as_array("W", W, min_ndim=2)
        if is_concrete(w) and bool(jnp.any(w < 0)):
            raise ValueError("W must be elementwise nonnegative (Dale's principle): pass jnp.abs(W).")
        super().__init__(w)

    def with_weights(self, weights) -> "DaleInterneuronNetwork":
        """A network with synapses max(0, weights) and their exact M⁻¹ (no validation)."""
        return super().with_weights(jnp.maximum(weights, 0.0))

    @classmethod
    def random(cls, key: jax.Array, n: int, k: int, gamma: float = 1.0) -> "DaleInterneuronNetwork":
        """W₀ = √(γ/k)·|A|, A standard normal (n × k): a random nonnegative initialization."""
        a = jnp.abs(jax.random.normal(key, (int(n), int(k)), dtype=jnp.float64))
        return cls(jnp.sqrt(gamma / k) * a)

    def _step(self, x, eta):
        # eq. (8.3): projected Hebbian step (the Woodbury update does not survive the projection)
        y = self.M_inv @ x
        n_act = y @ self.weights
        return self.with_weights((1.0 - eta) * self.weights + eta * _outer(y, n_act))


# ------------------------------------------------------------------ a leak, any number of interneurons


@jax.tree_util.register_pytree_node_class
@dataclass(frozen=True, init=False, eq=False)
class LeakyInterneuronNetwork(_Network):
    """Primary neurons with a leak ε and k ≥ 1 interneurons: M = ε I + W Wᵀ, W (n × k).

    Fast dynamics (8.4): τ dy/dt = x − ε y − W n, τₙ dn/dt = Wᵀ y − n →
    ȳ = (ε I + W Wᵀ)⁻¹ x. Rule and flow as for the interneuron network,
    W ← W + η (y nᵀ − W), dW/dt = (M⁻¹CM⁻¹ − I) W = −½ ∇_W f(ε I + W Wᵀ).
    M is SPD for every W, so any k (even k < n) gives a well-defined circuit.
    """

    weights: jnp.ndarray
    leak: jnp.ndarray
    label = "leaky"

    def __init__(self, W, leak: float = 1.0):
        w = as_array("W", W, min_ndim=2)
        check_positive("leak", leak)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "leak", jnp.asarray(leak, dtype=jnp.float64))

    def tree_flatten(self):
        return (self.weights, self.leak), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        obj = object.__new__(cls)
        object.__setattr__(obj, "weights", children[0])
        object.__setattr__(obj, "leak", children[1])
        return obj

    def with_weights(self, weights) -> "LeakyInterneuronNetwork":
        """The same leak with new synapses (no validation)."""
        return self.tree_unflatten(None, (weights, self.leak))

    @property
    def k(self) -> int:
        """Number of interneurons."""
        return self.weights.shape[-1]

    @property
    def M(self) -> jnp.ndarray:
        """M = ε I + W Wᵀ, shape (..., n, n)."""
        w = self.weights
        eye = jnp.eye(w.shape[-2], dtype=w.dtype)
        return jnp.asarray(self.leak)[..., None, None] * eye + w @ jnp.swapaxes(w, -1, -2)

    def _respond(self, x):
        factor = cho_factor(self.M, lower=True)
        out = jnp.swapaxes(cho_solve(factor, jnp.swapaxes(jnp.atleast_2d(x), -1, -2)), -1, -2)
        return out.reshape(out.shape[:-2] + x.shape)

    def _step(self, x, eta):
        y = self._respond(x)
        n_act = y @ self.weights
        return self.with_weights((1.0 - eta) * self.weights + eta * _outer(y, n_act))

    def _flow(self, c):
        return DirectNetwork.tree_unflatten(None, (self.M,))._flow(c) @ self.weights

    def neural_velocity(self, state, x, tau: float = 1.0, tau_n: float = 1.0):
        """Fast dynamics (8.4): dy/dt = (x − ε y − W n)/τ, dn/dt = (Wᵀ y − n)/τₙ."""
        y, n_act = state
        return ((x - self.leak * y - self.weights @ n_act) / tau, (y @ self.weights - n_act) / tau_n)

    def neural_initial_state(self):
        """y = 0, n = 0."""
        return (jnp.zeros(self.n), jnp.zeros(self.k))

    def neural_output(self, state):
        """The primary neurons' activity y."""
        return state[0]


def leaky_fixed_point(C, k: int, leak: float):
    """Learned M of the leaky network with k interneurons: ε I + Σ_{i≤k} (√λ_i − ε)₊ q_i q_iᵀ.

    The k largest-variance directions q_i of C are whitened (output variance 1)
    where √λ_i > ε; every other direction keeps m = ε (output variance λ/ε²).
    Returns M (n, n) and the predicted output covariance M⁻¹CM⁻¹ (n, n).
    """
    c = as_array("C", C, min_ndim=2)
    check_spd("C", c)
    check_positive("leak", leak)
    lam, q = jnp.linalg.eigh(c)
    lam, q = lam[::-1], q[:, ::-1]
    keep = jnp.arange(lam.shape[0]) < int(k)
    m = jnp.where(keep, jnp.maximum(jnp.sqrt(lam), leak), leak)
    M = symmetrize((q * m) @ q.T)
    return M, _output_covariance(M, c)


# ------------------------------------------------------------------ finite settling of the fast dynamics


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


@jax.tree_util.register_pytree_node_class
@dataclass(frozen=True, init=False, eq=False)
class FiniteSettling(_Network):
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

    net: object
    settle_time: jnp.ndarray
    taus: tuple

    def __init__(self, net, settle_time: float, taus: tuple = ()):
        if not isinstance(net, (DirectNetwork, InterneuronNetwork)):
            raise ValueError(f"net must be a DirectNetwork or an InterneuronNetwork, got {type(net).__name__}.")
        check_positive("settle_time", settle_time)
        for t in taus:
            check_positive("tau", t)
        object.__setattr__(self, "net", net)
        object.__setattr__(self, "settle_time", jnp.asarray(settle_time, dtype=jnp.float64))
        object.__setattr__(self, "taus", tuple(float(t) for t in taus))

    def tree_flatten(self):
        return (self.net, self.settle_time), self.taus

    @classmethod
    def tree_unflatten(cls, aux, children):
        obj = object.__new__(cls)
        object.__setattr__(obj, "net", children[0])
        object.__setattr__(obj, "settle_time", children[1])
        object.__setattr__(obj, "taus", aux)
        return obj

    @property
    def label(self) -> str:
        """The wrapped network's label."""
        return self.net.label

    @property
    def weights(self) -> jnp.ndarray:
        """The wrapped network's synapses."""
        return self.net.weights

    def with_weights(self, weights) -> "FiniteSettling":
        """The same settling time around ``net.with_weights(weights)``."""
        return self.tree_unflatten(self.taus, (self.net.with_weights(weights), self.settle_time))

    def _maps(self):
        lead = self.weights.shape[:-2]
        fn = lambda nt, ss: _settled_maps(nt, ss, self.taus)  # noqa: E731
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

    def _step(self, x, eta):
        r_y, r_n = self._maps()
        y = r_y @ x
        if r_n is None:  # direct: M ← M + η (y yᵀ − I)
            update = _outer(y, y) - jnp.eye(self.n, dtype=y.dtype)
        else:            # interneurons: W ← W + η (y nᵀ − W)
            update = _outer(y, r_n @ x) - self.weights
        return self.with_weights(self.weights + eta * update)

    def _flow(self, c):
        r_y, r_n = self._maps()
        if r_n is None:
            return r_y @ c @ r_y.T - jnp.eye(self.n, dtype=c.dtype)
        return r_y @ c @ r_n.T - self.weights


__all__ = [
    "AsymmetricInterneuronNetwork",
    "ChainNetwork",
    "DaleInterneuronNetwork",
    "FiniteSettling",
    "LeakyInterneuronNetwork",
    "chain_time_to_reach",
    "leaky_fixed_point",
    "metric",
    "preconditioner",
    "preconditioner_eigenvalues",
    "preconditioner_inverse",
    "preconditioner_matrix",
    "settled_response",
]
