"""Dense linear algebra for symmetric positive definite (SPD) matrices.

All functions act on the trailing two axes and accept leading batch axes.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from whitenlib.validation import (
    as_array,
    check_positive,
    check_positive_array,
    check_size,
    check_spd,
)


def symmetrize(a: jnp.ndarray) -> jnp.ndarray:
    """(A + Aᵀ)/2 on the trailing two axes."""
    return 0.5 * (a + jnp.swapaxes(a, -1, -2))


def spd_power(a: jnp.ndarray, p: float) -> jnp.ndarray:
    """A^p = Q diag(λ^p) Qᵀ for SPD A of shape (..., n, n)."""
    lam, q = jnp.linalg.eigh(symmetrize(a))
    return symmetrize((q * lam[..., None, :] ** p) @ jnp.swapaxes(q, -1, -2))


def spd_sqrt(a) -> jnp.ndarray:
    """Principal square root A^{1/2} of an SPD matrix, shape (..., n, n)."""
    a = as_array("A", a, min_ndim=2)
    check_spd("A", a)
    return spd_power(a, 0.5)


def spd_inv_sqrt(a) -> jnp.ndarray:
    """Inverse principal square root A^{-1/2} of an SPD matrix, shape (..., n, n)."""
    a = as_array("A", a, min_ndim=2)
    check_spd("A", a)
    return spd_power(a, -0.5)


def random_orthogonal(key: jax.Array, n: int) -> jnp.ndarray:
    """A Haar-distributed random orthogonal matrix of shape (n, n).

    QR of a standard Gaussian matrix, with the signs of R's diagonal moved
    into Q so that the distribution is uniform (Mezzadri 2007).
    """
    n = check_size("n", n)
    a = jax.random.normal(key, (n, n), dtype=jnp.float64)
    q, r = jnp.linalg.qr(a)
    return q * jnp.sign(jnp.diagonal(r))[None, :]


def covariance_from_spectrum(eigenvalues, basis=None) -> jnp.ndarray:
    """C = Q diag(λ) Qᵀ, shape (n, n); Q defaults to the identity.

    Parameters
    ----------
    eigenvalues : array (n,)
        Positive eigenvalues λ.
    basis : array (n, n), optional
        Orthogonal matrix Q whose columns are the eigenvectors.
    """
    lam = as_array("eigenvalues", eigenvalues, min_ndim=1)
    check_positive_array("eigenvalues", lam)
    if basis is None:
        return jnp.diag(lam)
    q = as_array("basis", basis, min_ndim=2)
    if q.shape[-2:] != (lam.shape[-1], lam.shape[-1]):
        raise ValueError(
            f"basis must have shape ({lam.shape[-1]}, {lam.shape[-1]}) to match "
            f"eigenvalues, got {q.shape}."
        )
    return symmetrize((q * lam[..., None, :]) @ jnp.swapaxes(q, -1, -2))


def log_uniform_spectrum(key: jax.Array, n: int, low: float = 0.5, high: float = 5.0):
    """n eigenvalues drawn log-uniformly in [low, high], sorted descending."""
    n = check_size("n", n)
    check_positive("low", low)
    check_positive("high", high)
    if not low <= high:
        raise ValueError(f"need 0 < low <= high, got low={low}, high={high}.")
    u = jax.random.uniform(key, (n,), dtype=jnp.float64)
    return jnp.sort(jnp.exp(jnp.log(low) + u * (jnp.log(high) - jnp.log(low))))[::-1]


def random_covariance(key: jax.Array, n: int, low: float = 0.5, high: float = 5.0):
    """A random covariance C = Q diag(λ) Qᵀ: Haar Q, log-uniform λ in [low, high]."""
    n = check_size("n", n)
    k_lam, k_q = jax.random.split(key)
    return covariance_from_spectrum(
        log_uniform_spectrum(k_lam, n, low, high), random_orthogonal(k_q, n)
    )


#: largest n for which :func:`small_spd_solve` unrolls the factorization (its graph grows like n³)
SMALL_SOLVE_MAX_N = 8


def small_spd_solve(m: jnp.ndarray, x: jnp.ndarray) -> jnp.ndarray:
    """y = M⁻¹x for SPD M (..., n, n) and x (..., n), by Cholesky written out entry by entry.

    The algorithm of LAPACK's potrf/potrs: M = LLᵀ, then Lz = x and Lᵀy = z,
    unrolled into scalar JAX operations for n ≤ ``SMALL_SOLVE_MAX_N`` (8)
    (leading axes of M and x broadcast). Why: online learning solves one small
    system per sample inside a vmapped ``lax.scan``; there, on CPU, the three
    batched LAPACK calls of a Cholesky solve cost several times the arithmetic
    (per-call overhead), while the unrolled form is elementwise over the batch
    and fuses into one kernel. The result agrees with the LAPACK solve up to
    float64 round-off (summation order).
    """
    n = m.shape[-1]
    if n > SMALL_SOLVE_MAX_N:
        raise ValueError(
            f"small_spd_solve unrolls the factorization for n <= {SMALL_SOLVE_MAX_N}, got n = {n}; "
            "use a LAPACK solve (jax.scipy.linalg.cho_solve) for larger matrices."
        )
    low = [[None] * n for _ in range(n)]  # L[i][j], i >= j
    for j in range(n):
        low[j][j] = jnp.sqrt(m[..., j, j] - sum(low[j][p] ** 2 for p in range(j)))
        for i in range(j + 1, n):
            low[i][j] = (m[..., i, j] - sum(low[i][p] * low[j][p] for p in range(j))) / low[j][j]
    z = [None] * n
    for i in range(n):  # forward substitution, L z = x
        z[i] = (x[..., i] - sum(low[i][p] * z[p] for p in range(i))) / low[i][i]
    y = [None] * n
    for i in reversed(range(n)):  # back substitution, Lᵀ y = z
        y[i] = (z[i] - sum(low[p][i] * y[p] for p in range(i + 1, n))) / low[i][i]
    return jnp.stack(jnp.broadcast_arrays(*y), axis=-1)


def operator_norm_sym(a: jnp.ndarray) -> jnp.ndarray:
    """Operator (spectral) norm of a symmetric matrix: ``max |eigenvalue|``."""
    return jnp.max(jnp.abs(jnp.linalg.eigvalsh(symmetrize(a))), axis=-1)


__all__ = [
    "covariance_from_spectrum",
    "log_uniform_spectrum",
    "operator_norm_sym",
    "random_covariance",
    "random_orthogonal",
    "small_spd_solve",
    "spd_inv_sqrt",
    "spd_power",
    "spd_sqrt",
    "symmetrize",
]
