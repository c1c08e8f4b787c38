"""Input checks shared by the whole library.

Shape checks always run (shapes are static under ``jit``); value checks
(finite, symmetric, positive definite, full rank) run only where values are
concrete, i.e. outside ``jit``/``vmap``. Every failure is a ``ValueError``
that names the argument and says how to fix it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from whitenlib.config import require_float64

SYMMETRY_RTOL = 1e-8


def is_concrete(a) -> bool:
    """True when ``a`` holds values (not a JAX tracer inside jit/vmap/grad)."""
    return not isinstance(a, jax.core.Tracer)


def as_array(name: str, a, *, min_ndim: int = 0) -> jnp.ndarray:
    """Convert ``a`` to a float64 JAX array; check rank and finiteness."""
    require_float64()
    if isinstance(a, (str, bytes)) or a is None:
        raise ValueError(f"{name} must be a numeric array, got {type(a).__name__}.")
    try:
        arr = jnp.asarray(a, dtype=jnp.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a numeric array ({err}).") from None
    if arr.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimensions, got shape {arr.shape}."
        )
    if is_concrete(arr) and not np.all(np.isfinite(np.asarray(arr))):
        raise ValueError(f"{name} contains NaN or inf: pass finite values only.")
    return arr


def check_square(name: str, a: jnp.ndarray) -> None:
    """The trailing two axes of ``a`` must be equal (a batch may lead)."""
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(
            f"{name} must be a square matrix (shape (n, n)), got shape {a.shape}."
        )


def check_spd(name: str, a: jnp.ndarray) -> None:
    """Symmetric positive definite on the trailing two axes (values checked if concrete)."""
    check_square(name, a)
    if not is_concrete(a):
        return
    arr = np.asarray(a)
    scale = max(float(np.max(np.abs(arr))), 1e-300)
    asym = float(np.max(np.abs(arr - np.swapaxes(arr, -1, -2))))
    if asym > SYMMETRY_RTOL * scale:
        raise ValueError(
            f"{name} must be symmetric (max |{name} - {name}.T| = {asym:.3g}); "
            f"pass (A + A.T) / 2 if the asymmetry is round-off."
        )
    eig_min = float(np.min(np.linalg.eigvalsh(arr)))
    if eig_min <= 0.0:
        raise ValueError(
            f"{name} must be positive definite (smallest eigenvalue {eig_min:.3g}); "
            f"pass a matrix with positive eigenvalues, e.g. A @ A.T + c * I."
        )


def check_full_row_rank(name: str, w: jnp.ndarray) -> None:
    """``w`` of shape (..., n, k) must have k >= n and rank n."""
    if w.ndim < 2:
        raise ValueError(f"{name} must be a matrix of shape (n, k), got shape {w.shape}.")
    n, k = w.shape[-2], w.shape[-1]
    if k < n:
        raise ValueError(
            f"{name} has k = {k} interneurons for n = {n} primary neurons: W W^T then "
            f"has rank < n and cannot whiten. Use k >= n (shape (n, k) with k >= {n})."
        )
    if not is_concrete(w):
        return
    sv = np.linalg.svd(np.asarray(w), compute_uv=False)
    smin = float(np.min(sv[..., -1]))
    smax = float(np.max(sv[..., 0]))
    if smin <= 1e-12 * max(smax, 1e-300):
        raise ValueError(
            f"{name} must have full row rank n = {n} (smallest singular value "
            f"{smin:.3g}); W W^T is then singular. Use a generic W, e.g. a Gaussian matrix."
        )


def check_vector(name: str, x: jnp.ndarray, n: int) -> None:
    """``x`` must have shape (n,) or (T, n)."""
    if x.ndim not in (1, 2) or x.shape[-1] != n:
        raise ValueError(
            f"{name} must have shape ({n},) or (T, {n}) to match the network, got {x.shape}."
        )


def check_positive(name: str, v) -> None:
    """A positive finite scalar (checked when concrete)."""
    if is_concrete(v):
        val = np.asarray(v)
        if val.ndim != 0:
            raise ValueError(f"{name} must be a scalar, got shape {val.shape}.")
        if not np.isfinite(val) or val <= 0:
            raise ValueError(f"{name} must be a positive finite number, got {float(val)}.")


def check_unit_interval(name: str, v) -> None:
    """All values strictly inside (0, 1) (checked when concrete)."""
    if is_concrete(v):
        val = np.asarray(v, dtype=float)
        if not np.all(np.isfinite(val)) or np.any(val <= 0) or np.any(val >= 1):
            raise ValueError(f"{name} must lie strictly between 0 and 1, got {val}.")


def check_positive_array(name: str, v) -> None:
    """All values positive and finite (checked when concrete)."""
    if is_concrete(v):
        val = np.asarray(v, dtype=float)
        if not np.all(np.isfinite(val)) or np.any(val <= 0):
            raise ValueError(f"{name} must contain positive finite numbers only, got {val}.")
