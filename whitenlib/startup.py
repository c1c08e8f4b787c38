"""The one call every chapter, test and script starts with: :func:`setup`.

It composes the precision set-up of :mod:`whitenlib.config` with the plotting
style of :mod:`whitenlib.plotting`, which know nothing of each other.
"""

from __future__ import annotations

import numpy as np

from whitenlib.config import DEFAULT_SEED, configure


def setup(seed: int = DEFAULT_SEED, plotting: bool = True) -> np.random.Generator:
    """Set precision, compilation cache and plotting style; return a seeded NumPy generator.

    The one call every chapter, test and script starts with: float64 and the
    compilation cache (:func:`whitenlib.config.configure`), then the book's
    matplotlib style (:func:`whitenlib.plotting.use_book_style`).

    Parameters
    ----------
    seed : int
        Seed of the returned ``numpy.random.Generator``. JAX keys are made
        explicitly from seeds where they are used (``jax.random.key(seed)``).
    plotting : bool
        Apply the book's matplotlib style.
    """
    rng = configure(seed)
    if plotting:
        from whitenlib.plotting import use_book_style

        use_book_style()
    return rng


__all__ = ["setup"]
