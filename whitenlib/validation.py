"""Input checks shared by the whole library, one per kind of argument.

* arrays (:func:`as_array`): real numbers only (complex, boolean, text and
  ``None`` are refused before any cast), finite, of a minimum rank;
* scalars (:func:`as_scalar`, :func:`check_positive`): one real number;
* sizes (:func:`check_size`): a whole number ≥ a minimum (``n``, ``k``).

Shape and dtype checks always run (both are static under ``jit``); value
checks (finite, symmetric, positive definite, full rank) run only where values
are concrete, i.e. outside ``jit``/``vmap``. Every failure is a ``ValueError``
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


def _check_real_dtype(name: str, a, what: str) -> None:
    """Refuse text, None, booleans and complex numbers before any cast (a cast would hide them)."""
    if isinstance(a, (str, bytes)) or a is None:
        raise ValueError(f"{name} must be a numeric {what}, got {type(a).__name__}.")
    dtype = getattr(a, "dtype", None)
    if dtype is None:
        try:
            dtype = np.asarray(a).dtype
        except (TypeError, ValueError):
            return  # ragged or odd input: the cast below reports it
    try:
        kind = np.dtype(dtype).kind
    except TypeError:
        raise ValueError(f"{name} must be a numeric {what}, got dtype {dtype}.") from None
    if kind == "c":
        raise ValueError(
            f"{name} must be real, got complex dtype {dtype}: pass the real part "
            f"(jnp.real) if the imaginary part is round-off."
        )
    if kind == "b":
        raise ValueError(f"{name} must be a real number {what}, got booleans: pass floats.")
    if kind in "USOV":
        raise ValueError(f"{name} must be a numeric {what}, got dtype {dtype}.")


def check_real(name: str, a) -> None:
    """``a`` holds real numbers (not text, None, booleans or complex): checked before a cast."""
    _check_real_dtype(name, a, "array")


def as_array(name: str, a, *, min_ndim: int = 0) -> jnp.ndarray:
    """Convert ``a`` to a float64 JAX array; check dtype (real), rank and finiteness."""
    require_float64()
    _check_real_dtype(name, a, "array")
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


def as_scalar(name: str, v) -> float | jax.Array:
    """One real finite number: a float, or the tracer itself inside ``jit``/``vmap``."""
    _check_real_dtype(name, v, "scalar")
    if not is_concrete(v):
        if jnp.ndim(v) != 0:
            raise ValueError(f"{name} must be a scalar, got shape {jnp.shape(v)}.")
        return v
    val = np.asarray(v, dtype=float)
    if val.ndim != 0:
        raise ValueError(f"{name} must be a scalar, got shape {val.shape}.")
    if not np.isfinite(val):
        raise ValueError(f"{name} must be a finite number, got {float(val)}.")
    return float(val)


def check_positive(name: str, v) -> None:
    """A positive finite scalar (values checked when concrete)."""
    _check_real_dtype(name, v, "scalar")
    if not is_concrete(v):
        if jnp.ndim(v) != 0:
            raise ValueError(f"{name} must be a scalar, got shape {jnp.shape(v)}.")
        return
    val = np.asarray(v, dtype=float)
    if val.ndim != 0:
        raise ValueError(f"{name} must be a scalar, got shape {val.shape}.")
    if not np.isfinite(val) or val <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {float(val)}.")


def check_size(name: str, v, minimum: int = 1) -> int:
    """A whole number ≥ ``minimum`` (a size such as n or k); returns it as an ``int``.

    Text, booleans, fractions (2.5) and negative numbers are refused; an
    integral float (2.0) is accepted.
    """
    what = "a positive integer" if minimum == 1 else f"a whole number >= {minimum}"
    if isinstance(v, (bool, np.bool_, str, bytes)) or v is None:
        raise ValueError(f"{name} must be {what}, got {v!r}.")
    if not is_concrete(v):
        raise ValueError(f"{name} must be a Python integer (a static size), not a traced value.")
    try:
        val = np.asarray(v)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be {what}, got {v!r}.") from None
    if val.ndim != 0 or val.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be {what}, got {v!r}.")
    if not np.isfinite(val) or float(val) != int(val) or int(val) < minimum:
        raise ValueError(f"{name} must be {what}, got {v!r}.")
    return int(val)


def check_unit_interval(name: str, v) -> None:
    """All values strictly inside (0, 1) (checked when concrete)."""
    _check_real_dtype(name, v, "value")
    if is_concrete(v):
        val = np.asarray(v, dtype=float)
        if not np.all(np.isfinite(val)) or np.any(val <= 0) or np.any(val >= 1):
            raise ValueError(f"{name} must lie strictly between 0 and 1, got {val}.")


def check_positive_array(name: str, v) -> None:
    """All values positive and finite (checked when concrete)."""
    _check_real_dtype(name, v, "array")
    if is_concrete(v):
        val = np.asarray(v, dtype=float)
        if not np.all(np.isfinite(val)) or np.any(val <= 0):
            raise ValueError(f"{name} must contain positive finite numbers only, got {val}.")


__all__ = [
    "SYMMETRY_RTOL",
    "as_array",
    "as_scalar",
    "check_full_row_rank",
    "check_positive",
    "check_positive_array",
    "check_real",
    "check_size",
    "check_spd",
    "check_square",
    "check_unit_interval",
    "check_vector",
    "is_concrete",
]
