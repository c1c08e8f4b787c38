"""Sample streams for online learning, and natural-image patches.

A *stream* is a small immutable :class:`equinox.Module` (a JAX pytree,
:class:`AbstractStream`) that yields one input x ∈ ℝⁿ per
step of online learning. Every stream is piecewise stationary: it has P ≥ 1
*contexts* with covariances ``covs`` (P, n, n), and context p + 1 starts at step
``switch_times[p]`` (P − 1 increasing positive integers). One stream
interface serves every sweep:

* ``stream.sample(key, t)``: the t-th sample x_t, shape (n,) — a pure
  function of a run's seed and t (a counter-based generator, see
  :func:`sampling_keys`), so it never depends on how a run is cut into blocks;
* ``stream.covariance(t)``: covariance of the context active at step t, (n, n);
* ``stream.context(t)``: index of that context, in 0 … P − 1.

Three kinds:

* :class:`GaussianStream` — x_t = L_p z_t, z_t ~ N(0, I), L_p the Cholesky
  factor of C_p: stationary (P = 1) or switching context at given steps.
* :class:`PatchStream` — x_t drawn uniformly (with replacement) from a finite
  set of centred vectors (e.g. image patches); its covariance is the exact
  second moment of that set.
* :class:`FixedSamples` — a given array of samples (T, n), used in order: the
  same inputs can then be fed to a reference NumPy loop.

Streams built by the constructors are validated; :func:`stack_streams` stacks
streams of one kind along a new leading axis so that a sweep can ``vmap``
over input statistics (e.g. several spectra in one compiled call).

Natural images: :func:`sample_image` loads a photograph that ships inside
matplotlib (no download), :func:`image_patches` cuts it into centred patches
whose covariance has the steeply falling spectrum of natural images;
:func:`natural_patches` draws random patches from several images bundled with
scikit-image and matplotlib (:data:`NATURAL_IMAGES`, credited there).
"""

from __future__ import annotations

import abc
from functools import cache
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from whitenlib.linalg import symmetrize
from whitenlib.validation import as_array, check_size, check_spd

# ------------------------------------------------------------------ helpers


def _check_covs(covs) -> jnp.ndarray:
    c = as_array("covs", covs, min_ndim=2)
    if c.ndim == 2:
        c = c[None]
    if c.ndim != 3:
        raise ValueError(
            f"covs must have shape (n, n) or (P, n, n) (one covariance per context), got {c.shape}."
        )
    check_spd("covs", c)
    return c


def _check_switch_times(switch_times, n_contexts: int) -> jnp.ndarray:
    s = np.asarray(switch_times if switch_times is not None else [], dtype=float).reshape(-1)
    if s.size != n_contexts - 1:
        raise ValueError(
            f"switch_times must list P - 1 = {n_contexts - 1} steps (one per context after "
            f"the first), got {s.size}."
        )
    if s.size and (
        not np.all(np.isfinite(s)) or np.any(s != np.round(s))
        or s[0] <= 0 or np.any(np.diff(s) <= 0)
    ):
        raise ValueError(
            f"switch_times must be strictly increasing positive integers, got {s.tolist()}."
        )
    return jnp.asarray(s.astype(np.int64))


class AbstractStream(eqx.Module):
    """Context bookkeeping shared by every stream (subclasses define ``sample``).

    A stream is an :class:`equinox.Module`: its arrays are pytree leaves, so
    streams pass through ``jit`` and ``vmap`` and can be stacked along a batch
    axis (:func:`stack_streams`). Constructors validate; pytree rebuilds
    (inside ``jit``, or by ``tree_map``) do not.
    """

    #: covariance of each context, (P, n, n) (a batch axis may lead)
    covs: eqx.AbstractVar[jax.Array]
    #: step at which each later context starts, (P − 1,) int
    switch_times: eqx.AbstractVar[jax.Array]

    @abc.abstractmethod
    def sample(self, key, t) -> jnp.ndarray:
        """The t-th sample x_t of the run with sampling seed ``key``, shape (n,)."""

    @property
    def n(self) -> int:
        """Input dimension."""
        return self.covs.shape[-1]

    @property
    def n_contexts(self) -> int:
        """Number of contexts P."""
        return self.covs.shape[-3]

    @property
    def batched(self) -> bool:
        """Whether the stream carries a leading batch axis (made by :func:`stack_streams`)."""
        return self.covs.ndim == 4

    def context(self, t) -> jnp.ndarray:
        """Index of the context active at step t: the number of switch times ≤ t."""
        return jnp.sum(jnp.asarray(t)[..., None] >= self.switch_times, axis=-1)

    def covariance(self, t) -> jnp.ndarray:
        """Covariance of the context active at step t, shape (n, n)."""
        return self.covs[self.context(t)]


class GaussianStream(AbstractStream):
    """Gaussian inputs x_t ~ N(0, C_p), piecewise stationary.

    Parameters
    ----------
    covs : array (n, n) or (P, n, n)
        SPD covariance of each context.
    switch_times : sequence of P − 1 ints, optional
        Step at which each later context starts (strictly increasing, > 0).

    Attributes
    ----------
    covs : (P, n, n);  factors : (P, n, n) lower Cholesky factors;
    switch_times : (P − 1,) int.
    """

    covs: jax.Array
    factors: jax.Array
    switch_times: jax.Array

    def __init__(self, covs, switch_times=None):
        c = _check_covs(covs)
        self.covs = c
        self.factors = jnp.linalg.cholesky(c)
        self.switch_times = _check_switch_times(switch_times, c.shape[0])

    def sample(self, key, t) -> jnp.ndarray:
        """x_t = L_p z, z = :func:`normals` (key, t); shape (n,)."""
        return self.factors[self.context(t)] @ normals(key, t, self.n)


class PatchStream(AbstractStream):
    """Inputs drawn uniformly, with replacement, from a finite set of vectors per context.

    Each context's set is centred on construction (its mean vector is
    subtracted), so the stream has mean zero and covariance exactly
    C_p = (1/N) Σ_j p_j p_jᵀ.

    Parameters
    ----------
    patches : array (N, n) or (P, N, n)
        The vectors of each context (e.g. image patches flattened, from
        :func:`image_patches` or :func:`natural_patches`).
    switch_times : sequence of P − 1 ints, optional
        Step at which each later context starts.

    Attributes
    ----------
    patches : (P, N, n) centred;  covs : (P, n, n);  switch_times : (P − 1,) int.
    """

    patches: jax.Array
    covs: jax.Array
    switch_times: jax.Array

    def __init__(self, patches, switch_times=None):
        p = as_array("patches", patches, min_ndim=2)
        if p.ndim == 2:
            p = p[None]
        if p.ndim != 3:
            raise ValueError(f"patches must have shape (N, n) or (P, N, n), got {p.shape}.")
        if p.shape[1] <= p.shape[2]:
            raise ValueError(
                f"patches must hold more vectors than dimensions (N > n) for a positive definite "
                f"covariance, got N = {p.shape[1]}, n = {p.shape[2]}."
            )
        p = p - jnp.mean(p, axis=1, keepdims=True)
        covs = symmetrize(jnp.einsum("pji,pjk->pik", p, p) / p.shape[1])
        check_spd("covariance of patches", covs)
        self.patches = p
        self.covs = covs
        self.switch_times = _check_switch_times(switch_times, p.shape[0])

    def sample(self, key, t) -> jnp.ndarray:
        """One vector of the active context, shape (n,); index from :func:`uniforms` (key, t)."""
        size = self.patches.shape[-2]
        j = jnp.minimum((uniforms(key, t, 1)[0] * size).astype(jnp.int64), size - 1)
        return self.patches[self.context(t), j]


class FixedSamples(AbstractStream):
    """Given samples used in order (x_t = samples[t]; the key is ignored).

    Parameters
    ----------
    samples : array (T, n)
        The inputs, one row per step; a run may use at most T steps.
    covs : array (n, n) or (P, n, n)
        Covariance(s) against which the whitening error is measured.
    switch_times : sequence of P − 1 ints, optional
        Steps at which the covariance used for the error changes.
    """

    samples: jax.Array
    covs: jax.Array
    switch_times: jax.Array

    def __init__(self, samples, covs, switch_times=None):
        x = as_array("samples", samples, min_ndim=2)
        if x.ndim != 2:
            raise ValueError(f"samples must have shape (T, n), got {x.shape}.")
        c = _check_covs(covs)
        if c.shape[-1] != x.shape[-1]:
            raise ValueError(
                f"covs must have size n = {x.shape[-1]} to match samples, got {c.shape}."
            )
        self.samples = x
        self.covs = c
        self.switch_times = _check_switch_times(switch_times, c.shape[0])

    @property
    def length(self) -> int:
        """Number of samples T."""
        return self.samples.shape[-2]

    def sample(self, key, t) -> jnp.ndarray:
        """x_t = samples[t]; shape (n,)."""
        return self.samples[t]


STREAMS = (GaussianStream, PatchStream, FixedSamples)


def is_stream(obj) -> bool:
    """Whether ``obj`` is one of the library's streams."""
    return isinstance(obj, AbstractStream)


def stack_streams(streams) -> AbstractStream:
    """Stack streams of one kind and shape along a new leading axis (for a vmapped sweep).

    Parameters
    ----------
    streams : sequence of streams
        Same class, same number of contexts, same shapes.

    Returns
    -------
    A stream whose every array has a leading axis of length ``len(streams)``;
    ``stream.batched`` is True.
    """
    streams = list(streams)
    if not streams or not all(is_stream(s) for s in streams):
        raise ValueError("streams must be a non-empty sequence of whitenlib streams.")
    kind = type(streams[0])
    if any(type(s) is not kind for s in streams) or any(s.batched for s in streams):
        raise ValueError("streams must all be unbatched streams of the same class.")
    shapes = {tuple(leaf.shape for leaf in jax.tree_util.tree_leaves(s)) for s in streams}
    if len(shapes) != 1:
        raise ValueError(f"streams must all have the same shapes, got {sorted(shapes)}.")
    return jax.tree_util.tree_map(lambda *a: jnp.stack(a), *streams)


# ------------------------------------------------------------ random numbers
#
# Samples are drawn by a counter-based generator: the t-th sample of a run is a
# hash of (run seed, t), so it does not depend on how a run is cut into blocks,
# on vmap, or on the platform (integer arithmetic only; the Gaussian transform
# uses log, cos and sin). The hash is splitmix64's finalizer (Steele, Lea &
# Flood 2014), uniforms take its top 53 bits, Gaussians come from the
# Box–Muller transform. It compiles in a fraction of the time of JAX's default
# threefry keys, which dominates short compiled sweeps; and JAX's
# RngBitGenerator keys are not usable here because vmap shares one key
# across a batch.

_GOLDEN = 0x9E3779B97F4A7C15
_MIX1, _MIX2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


def _mix(z):
    """splitmix64 finalizer on uint64 (JAX arrays)."""
    z = (z ^ (z >> jnp.uint64(30))) * jnp.uint64(_MIX1)
    z = (z ^ (z >> jnp.uint64(27))) * jnp.uint64(_MIX2)
    return z ^ (z >> jnp.uint64(31))


def _mix_np(z: np.ndarray) -> np.ndarray:
    """The same finalizer in NumPy (wrapping uint64 arithmetic)."""
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(_MIX1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(_MIX2)
    return z ^ (z >> np.uint64(31))


def uniforms(seed, t, m: int) -> jnp.ndarray:
    """m uniforms in (0, 1) for step t of the run with ``seed`` (uint64); shape (m,)."""
    g = jnp.uint64(_GOLDEN)
    base = _mix(jnp.asarray(seed, jnp.uint64) ^ _mix(jnp.asarray(t).astype(jnp.uint64) * g + g))
    h = _mix(base + (jnp.arange(m, dtype=jnp.uint64) + jnp.uint64(1)) * g)
    return ((h >> jnp.uint64(11)).astype(jnp.float64) + 0.5) * (2.0**-53)


def normals(seed, t, n: int) -> jnp.ndarray:
    """n standard Gaussians for step t of the run with ``seed`` (Box–Muller); shape (n,)."""
    m = (n + 1) // 2
    u = uniforms(seed, t, 2 * m)
    r = jnp.sqrt(-2.0 * jnp.log(u[:m]))
    theta = 2.0 * jnp.pi * u[m:]
    return jnp.concatenate([r * jnp.cos(theta), r * jnp.sin(theta)])[:n]


def sampling_keys(key, runs: int | None = None) -> jnp.ndarray:
    """The per-run seeds (uint64) with which streams draw, from a JAX key or an int seed.

    Parameters
    ----------
    key : a JAX key (any implementation; one key or an array of R keys), a
        legacy uint32 key of shape (2,) or (R, 2), a non-negative int, or
        uint64 seeds returned by this function (passed through).
    runs : int, optional
        For a single ``key``: derive ``runs`` seeds, one per run r = 0 … runs − 1.

    Returns
    -------
    uint64 array: shape () for one key, (runs,) or (R,) otherwise. Run r of a
    sweep with one ``key`` sees the samples of ``draw(stream, key, ..., run=r)``;
    a sweep with R keys, run r those of ``draw(stream, keys[r], ...)``.
    """
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        if key < 0:
            raise ValueError(f"key must be a JAX key or a non-negative int seed, got {key}.")
        words = np.array([int(key) >> 32, int(key) & 0xFFFFFFFF], dtype=np.uint64)
    else:
        dtype = getattr(key, "dtype", None)
        if dtype is not None and jnp.issubdtype(dtype, jax.dtypes.prng_key):
            words = np.asarray(jax.random.key_data(key)).astype(np.uint64)
        elif dtype is not None and np.dtype(dtype) == np.uint64:
            seeds = np.asarray(key, dtype=np.uint64)
            if runs is None:
                return jnp.asarray(seeds)
            words = seeds[..., None]
        elif dtype is not None and np.dtype(dtype) == np.uint32 and np.ndim(key) >= 1:
            words = np.asarray(key).astype(np.uint64)
        else:
            raise ValueError(
                "key must be a JAX key (jax.random.key(seed)) or an int seed, "
                f"got {type(key).__name__}."
            )
    batch = words.shape[:-1]
    base = np.zeros(batch, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i in range(words.shape[-1]):
            base = _mix_np(base ^ (words[..., i] + np.uint64(_GOLDEN)))
        if runs is not None:
            if batch:
                raise ValueError(
                    "runs applies to a single key only; pass one key, or one key per run."
                )
            runs = int(runs)
            if runs < 1:
                raise ValueError(f"runs must be a positive integer, got {runs}.")
            r = np.arange(runs, dtype=np.uint64)
        else:
            r = np.zeros(batch, dtype=np.uint64)
        seeds = _mix_np(base ^ _mix_np((r + np.uint64(1)) * np.uint64(_GOLDEN)))
    return jnp.asarray(seeds)


def draw(stream, key, n_steps: int, start: int = 0, run: int = 0) -> jnp.ndarray:
    """The samples x_start … x_{start+n_steps−1} that run ``run`` of online training sees.

    ``key`` is the key given to :func:`whitenlib.online.train` or
    :func:`whitenlib.online.sweep` (one key: ``run`` selects the run; see
    :func:`sampling_keys`). Returns shape (n_steps, n).
    """
    if not is_stream(stream) or stream.batched:
        raise ValueError("stream must be an unbatched whitenlib stream.")
    n_steps = int(n_steps)
    if n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps}.")
    k = sampling_keys(key, int(run) + 1)[int(run)]
    ts = jnp.arange(start, start + n_steps)
    return jax.jit(jax.vmap(stream.sample, in_axes=(None, 0)))(k, ts)


# ------------------------------------------------------------ natural images


def sample_image(name: str = "grace_hopper.jpg") -> np.ndarray:
    """A photograph bundled with matplotlib, as grayscale floats in [0, 1], shape (H, W).

    Read from matplotlib's sample data (installed with the package, no
    download); colour images are converted with the ITU-R 601 luma weights.
    """
    import matplotlib.cbook as cbook
    import matplotlib.pyplot as plt

    path = Path(cbook.get_sample_data(str(name), asfileobj=False))
    if not path.is_file():
        raise ValueError(
            f"name must be an image in matplotlib's sample data, e.g. 'grace_hopper.jpg'; "
            f"{name!r} is not there."
        )
    img = np.asarray(plt.imread(path), dtype=np.float64)
    if img.ndim == 3:
        img = img[..., :3] @ np.array([0.299, 0.587, 0.114])
    if img.max() > 1.0:
        img = img / 255.0
    return img


def image_patches(image, size: int, *, stride: int | None = None) -> np.ndarray:
    """All size × size patches of an image on a grid, flattened and centred.

    Parameters
    ----------
    image : array (H, W)
        Grayscale image.
    size : int
        Patch side; each patch becomes a vector of n = size² pixels (row-major).
    stride : int, optional
        Grid spacing (default ``size``: non-overlapping patches).

    Returns
    -------
    array (N, size²)
        Patches minus their mean patch (so the set has mean zero).
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 2 or not np.all(np.isfinite(img)):
        raise ValueError(f"image must be a finite 2-D grayscale array, got shape {img.shape}.")
    size = int(size)
    stride = size if stride is None else int(stride)
    if size < 1 or stride < 1 or size > min(img.shape):
        raise ValueError(
            f"size and stride must be positive and size <= min(image.shape) = {min(img.shape)}, "
            f"got size = {size}, stride = {stride}."
        )
    win = np.lib.stride_tricks.sliding_window_view(img, (size, size))[::stride, ::stride]
    patches = win.reshape(-1, size * size)
    return patches - patches.mean(axis=0)



#: The natural images :func:`natural_patches` draws from, all installed with
#: scikit-image (``skimage.data``, bundled files, no download) or matplotlib
#: (its sample photo), and free of copyright restrictions:
#:
#: * ``camera``: a photographer behind a camera on a tripod (Lav Varshney, CC0), scikit-image;
#: * ``astronaut``: the astronaut Eileen Collins (NASA, public domain), scikit-image;
#: * ``coffee``: a coffee cup (Rachel Michetti, courtesy of Pikolo Espresso Bar, CC0), scikit-image;
#: * ``chelsea``: Chelsea the cat (Stefan van der Walt, CC0), scikit-image;
#: * ``rocket``: the launch of DSCOVR on a Falcon 9 (SpaceX, public domain), scikit-image;
#: * ``brick``, ``gravel``: textures from CC0Textures (CC0), scikit-image;
#: * ``grass``: a texture by linolafett on DeviantArt (CC0), scikit-image;
#: * ``grace_hopper``: the computer scientist Grace Hopper (U.S. Navy, public domain),
#:   matplotlib's sample data.
NATURAL_IMAGES = (
    "camera", "astronaut", "coffee", "chelsea", "rocket", "brick", "grass", "gravel",
    "grace_hopper",
)


def _gray(img) -> np.ndarray:
    """Grayscale floats in [0, 1]: ITU-R 601 luma of RGB(A), 8-bit values divided by 255."""
    img = np.asarray(img)
    scale = 255.0 if img.dtype == np.uint8 else 1.0
    img = img.astype(np.float64) / scale
    if img.ndim == 3:
        img = img[..., :3] @ np.array([0.299, 0.587, 0.114])
    return img


@cache
def _natural_image(name: str) -> np.ndarray:
    if name == "grace_hopper":
        img = sample_image()
    else:
        import skimage.data

        img = _gray(getattr(skimage.data, name)())
    img.setflags(write=False)  # cached: shared by every caller
    return img


def natural_image(name: str) -> np.ndarray:
    """One of the :data:`NATURAL_IMAGES`, as grayscale floats in [0, 1], shape (H, W).

    Colour photographs are converted with the ITU-R 601 luma weights (as
    :func:`sample_image`); the array is cached and read-only.
    """
    if not isinstance(name, str) or name not in NATURAL_IMAGES:
        raise ValueError(f"name must be one of {NATURAL_IMAGES}, got {name!r}.")
    return _natural_image(name)


def natural_patches(size=8, images=NATURAL_IMAGES, *, per_image=2000, key=0) -> np.ndarray:
    """Random size × size patches from several natural images, flattened, with mean patch zero.

    Each image of ``images`` (names from :data:`NATURAL_IMAGES`, credited
    there) is read as grayscale in [0, 1] (:func:`natural_image`), and
    ``per_image`` patches are cut from it at uniformly random positions, so
    every image weighs the same whatever its size. The set's mean patch is
    subtracted (the stream of :class:`PatchStream` has mean zero anyway). The
    mean brightness *of each patch* is kept: it is the leading principal
    component of natural-image patches, the top of their power-law spectrum,
    and removing it would leave a singular covariance (zero variance along the
    all-ones direction) that no circuit can whiten. Pixel values are not
    rescaled: contrast differences between images remain part of the
    statistics.

    Parameters
    ----------
    size : int
        Patch side; each patch is a vector of n = size² pixels (row-major).
        At most the smallest side of the chosen images.
    images : str or sequence of str
        Image names from :data:`NATURAL_IMAGES` (default: all nine).
    per_image : int
        Patches cut from each image.
    key : JAX key or non-negative int seed
        Randomness of the positions (converted by :func:`sampling_keys`):
        the same key gives the same patches.

    Returns
    -------
    ndarray (len(images) · per_image, size²)
        The patches of the first image first, minus the mean patch of the set;
        usable as one context of :class:`PatchStream`.
    """
    names = (images,) if isinstance(images, str) else images
    try:
        names = tuple(names)
    except TypeError:
        raise ValueError(f"images must be names from {NATURAL_IMAGES}, got {images!r}.") from None
    if not names or any(not isinstance(m, str) or m not in NATURAL_IMAGES for m in names):
        raise ValueError(
            f"images must be a non-empty sequence of names from {NATURAL_IMAGES}, got {images!r}."
        )
    size = check_size("size", size)
    per_image = check_size("per_image", per_image)
    pictures = [natural_image(m) for m in names]
    smallest = min(min(pic.shape) for pic in pictures)
    if size > smallest:
        raise ValueError(
            f"size must be at most the smallest image side, {smallest} pixels, got {size}."
        )
    rng = np.random.default_rng(int(sampling_keys(key)))
    out = []
    for pic in pictures:
        win = np.lib.stride_tricks.sliding_window_view(pic, (size, size))
        rows = rng.integers(0, win.shape[0], per_image)
        cols = rng.integers(0, win.shape[1], per_image)
        out.append(win[rows, cols].reshape(per_image, size * size))
    patches = np.concatenate(out)
    return patches - patches.mean(axis=0)

__all__ = [
    "AbstractStream",
    "FixedSamples",
    "GaussianStream",
    "NATURAL_IMAGES",
    "PatchStream",
    "STREAMS",
    "draw",
    "image_patches",
    "is_stream",
    "natural_image",
    "natural_patches",
    "normals",
    "sample_image",
    "sampling_keys",
    "stack_streams",
    "uniforms",
]
