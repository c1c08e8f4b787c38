"""The geometry of the interneuron flow (chapter 7).

    P_M(X) = M X + X M                      the preconditioner of the induced flow (3.4)
    ⟨X, Y⟩_M = Tr(X P_M⁻¹(Y))               the metric in which it is a gradient flow (7.3)

The induced flow of the interneuron network is dM/dt = −P_M(∇f(M)), and so is
the flow of the non-local direct rule (:mod:`whitenlib.networks.control`).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from whitenlib.linalg import symmetrize
from whitenlib.validation import as_array, check_size, check_spd


def lyapunov(m: jnp.ndarray, x: jnp.ndarray) -> jnp.ndarray:
    """P_M(X) = M X + X M without checks (the kernel of :func:`preconditioner`); batch axes lead."""
    return m @ x + x @ m


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
    return lyapunov(m, x)


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


def symmetric_basis(n: int) -> np.ndarray:
    """Orthonormal basis of the symmetric n × n matrices, as rows vec(X); shape (n(n+1)/2, n²).

    E_ii and (E_ij + E_ji)/√2 for i < j, in the order of ``np.triu_indices(n)``
    (orthonormal for ⟨X, Y⟩ = Tr(XY)). For a linear map A on vec(X), B A Bᵀ is
    its matrix on the symmetric matrices.
    """
    n = check_size("n", n)
    rows = []
    for i, j in zip(*np.triu_indices(n), strict=True):
        e = np.zeros((n, n))
        e[i, j] = e[j, i] = 1.0 if i == j else 1.0 / np.sqrt(2.0)
        rows.append(e.ravel())
    return np.array(rows)


def preconditioner_matrix(M) -> np.ndarray:
    """The matrix of P_M on symmetric matrices in an orthonormal basis, shape (n(n+1)/2, n(n+1)/2).

    Basis: :func:`~whitenlib.geometry.symmetric_basis`, E_ii and (E_ij + E_ji)/√2 for i < j.
    Its eigenvalues are those of :func:`preconditioner_eigenvalues`.
    """
    m = np.asarray(as_array("M", M, min_ndim=2))
    check_spd("M", jnp.asarray(m))
    n = m.shape[0]
    basis = symmetric_basis(n).reshape(-1, n, n)
    images = np.einsum("ij,bjk->bik", m, basis) + np.einsum("bij,jk->bik", basis, m)
    return np.einsum("aij,bij->ab", basis, images)


def metric(M, X, Y) -> jnp.ndarray:
    """⟨X, Y⟩_M = Tr(X P_M⁻¹(Y)), eq. (7.3): the metric of the interneuron gradient flow.

    Twice the Bures–Wasserstein metric at M; X, Y symmetric (n, n).
    """
    return jnp.trace(as_array("X", X, min_ndim=2) @ preconditioner_inverse(M, Y))


__all__ = [
    "lyapunov",
    "metric",
    "preconditioner",
    "preconditioner_eigenvalues",
    "preconditioner_inverse",
    "preconditioner_matrix",
    "symmetric_basis",
]
