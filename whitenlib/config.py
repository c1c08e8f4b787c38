"""Precision and reproducibility set-up, made once and visibly.

Every chapter, test and script starts with ``whitenlib.setup()``, which calls
:func:`configure` (this module: float64, seeds, compilation cache) and then
applies the plotting style (:mod:`whitenlib.plotting`); this module knows
nothing of plotting. Importing ``whitenlib`` changes nothing: float64 is
switched on by that call only, so a reader always sees where the precision of
the book is decided.
"""

from __future__ import annotations

import os

import jax
import numpy as np

DEFAULT_SEED = 0


def enable_float64() -> None:
    """Switch JAX to float64 (``jax_enable_x64``).

    Must run before any JAX array exists: float64 changes the random stream of
    a given key, not only the dtype.
    """
    jax.config.update("jax_enable_x64", True)


def float64_enabled() -> bool:
    """Whether JAX computes in float64."""
    return bool(jax.config.read("jax_enable_x64"))


def require_float64() -> None:
    """Raise a clear error when float64 has not been switched on."""
    if not float64_enabled():
        raise RuntimeError(
            "whitenlib computes in float64: call whitenlib.setup() (or "
            "whitenlib.enable_float64()) once, before creating any array."
        )


def configure(seed: int = DEFAULT_SEED) -> np.random.Generator:
    """Set precision and compilation cache; return a seeded NumPy generator.

    Parameters
    ----------
    seed : int
        Seed of the returned ``numpy.random.Generator``. JAX keys are made
        explicitly from seeds where they are used (``jax.random.key(seed)``).
    """
    enable_float64()
    cache_dir = os.environ.get("WHITENLIB_JAX_CACHE")
    if cache_dir:
        jax.config.update("jax_compilation_cache_dir", cache_dir)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    return np.random.default_rng(seed)


__all__ = ["DEFAULT_SEED", "configure", "enable_float64", "float64_enabled", "require_float64"]
