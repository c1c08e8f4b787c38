"""Online learning at full speed: compiled scans over sample streams, vmapped sweeps.

One run of online learning feeds a network one sample per step,

* stochastic (Algorithms 1 and 2):  net ← ``net.step(x_t, η)``
* expected (averaged update):       net ← ``net.mean_step(C_t, η)``,
  that is weights + η · flow(C_t)  (eq. 5.1)

where x_t and C_t come from a stream (:mod:`whitenlib.data`). The run is one
jitted ``lax.scan`` in three levels:

    records  (n_steps / record_every)     whitening error, divergence check
      └ blocks (record_every / block)     ``net.refresh()`` where the network carries an inverse
          └ steps (block)                 one update per sample

with ``block = gcd(record_every, refresh_every)``, so the O(n³) error
evaluation and the exact refresh of a carried inverse stay off the
per-sample path. :func:`sweep` ``vmap``-s the same scan over runs (seeds,
initializations, learning rates, input statistics) in one compiled call.

Arguments follow the order of :mod:`whitenlib.flows` (network, input, learning
rate η, tolerance ``eps``, horizon): ``sweep(net, stream, eta, n_steps)``,
``steps_to_threshold(steps, errors, eps)``; options are keyword-only.

The code only uses the declared network interface
(:class:`whitenlib.networks.AbstractNetwork`): ``step``, ``mean_step``,
``weights``, ``with_weights``, ``M``, ``refresh`` and the class attributes
``carries_inverse`` and ``weights_are_factor``; any network class implementing
it can be trained.

Divergence. At every record the run is declared diverged when its weights are
not finite, its M is not positive definite, or its error exceeds
``error_bound``. A diverged run is frozen at its last good recorded state (so
no NaN propagates), its later errors are ``inf``, and the step of the record
where it was caught is kept in ``diverged_at``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from whitenlib.data import is_stream, sampling_keys
from whitenlib.linalg import symmetrize
from whitenlib.validation import check_positive, check_positive_array, check_size

DEFAULT_ERROR_BOUND = 1e10

# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class Trajectory:
    """The result of online training: recorded errors, final network, divergence.

    Shapes use ``B`` for the batch shape of the runs (``()`` for :func:`train`,
    ``(R,)`` for :func:`sweep`, anything after :meth:`reshape`) and ``S`` for
    the number of records, ``n_steps // record_every + 1``.

    Attributes
    ----------
    steps : ndarray (S,) of int
        Step of each record: 0, record_every, 2 record_every, …, n_steps.
    errors : ndarray (*B, S)
        Whitening error ‖M⁻¹ C_t M⁻¹ − I‖₂ at each record, against the
        covariance of the context active at that step; ``inf`` once a run has
        diverged, never NaN.
    final : network
        The network after the last step (the last good state of a diverged
        run); its weights carry the leading axes ``B``.
    diverged : ndarray (*B,) of bool
        Whether the run diverged.
    diverged_at : ndarray (*B,) of int
        Step of the record at which divergence was caught; −1 for runs that
        did not diverge.
    eta : ndarray (*B,)
        Learning rate of each run.
    params : dict of str → ndarray (*B,)
        Labels of the runs (e.g. ``gamma``, ``seed``), carried along for reports.
    """

    steps: np.ndarray
    errors: np.ndarray
    final: object
    diverged: np.ndarray
    diverged_at: np.ndarray
    eta: np.ndarray
    params: dict = field(default_factory=dict)

    @property
    def batch_shape(self) -> tuple:
        """Shape B of the runs."""
        return self.diverged.shape

    def time(self) -> np.ndarray:
        """Continuous time t = η × steps of each record, shape ``(*B, S)``."""
        return self.eta[..., None] * self.steps

    def steps_to_threshold(self, eps: float, *, stay: bool = True, start: float = 0,
                           stop: float | None = None) -> np.ndarray:
        """Steps until the error reaches ε; see :func:`steps_to_threshold`. Shape B."""
        return steps_to_threshold(self.steps, self.errors, eps,
                                  stay=stay, start=start, stop=stop)

    def rewhitening_steps(self, switch_times, eps: float, *, stay: bool = True) -> np.ndarray:
        """Steps after each context switch until the error stays at most ε.

        The window of switch p runs from ``switch_times[p]`` to the next switch
        (or the end of the run). Returns shape ``(*B, len(switch_times))``;
        ``inf`` where the network did not re-whiten within the window.
        """
        t = [float(v) for v in np.asarray(switch_times).reshape(-1)] + [None]
        return np.stack([self.steps_to_threshold(eps, stay=stay, start=a, stop=b)
                         for a, b in itertools.pairwise(t)], axis=-1)

    def reshape(self, *shape) -> Trajectory:
        """The same runs with batch shape ``shape`` (e.g. (len(gammas), n_seeds))."""
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], tuple) else shape
        nb = len(self.batch_shape)

        def rs(a):
            a = np.asarray(a) if not isinstance(a, jax.Array) else a
            return a.reshape(shape + a.shape[nb:])

        return replace(
            self,
            errors=rs(self.errors),
            final=jax.tree_util.tree_map(rs, self.final),
            diverged=rs(self.diverged),
            diverged_at=rs(self.diverged_at),
            eta=rs(self.eta),
            params={k: rs(v) for k, v in self.params.items()},
        )

    def divergence_report(self) -> list[dict]:
        """One dict per diverged run: its index, the step, η and every label in ``params``."""
        out = []
        for idx in zip(*np.nonzero(self.diverged), strict=True):
            row = {"run": tuple(int(i) for i in idx), "step": int(self.diverged_at[idx]),
                   "eta": float(self.eta[idx])}
            row.update({k: float(v[idx]) for k, v in self.params.items()})
            out.append(row)
        return out

    def summary(self) -> str:
        """A one-line count of diverged runs followed by one line per diverged run."""
        report = self.divergence_report()
        lines = [f"{len(report)} of {self.diverged.size} runs diverged"]
        for row in report:
            labels = ", ".join(f"{k} = {v:.3g}" for k, v in row.items() if k not in ("run", "step"))
            lines.append(f"  run {row['run']}: diverged by step {row['step']} ({labels})")
        return "\n".join(lines)


def steps_to_threshold(steps, errors, eps: float, *, stay: bool = True,
                       start: float = 0, stop: float | None = None) -> np.ndarray:
    """Steps until the error reaches the tolerance ε, counted from ``start``.

    Parameters
    ----------
    steps : array (S,)
        Recorded steps, increasing.
    errors : array (*B, S)
        Errors at those steps (``inf`` for diverged records).
    eps : float
        Tolerance ε > 0 of the whitening error (the ε of :func:`whitenlib.flows.convergence_time`).
    stay : bool
        If True (the book's definition of convergence), the first recorded
        step from which the error stays ≤ ε at every later record of the
        window; if False, the first recorded step of the window with error ≤ ε.
    start, stop : float, optional
        Only the records with start ≤ step < stop count (default: all); the
        result is measured from ``start``. Use the switch times of a stream to
        measure re-whitening after each switch.

    Returns
    -------
    ndarray (*B,)
        The number of steps after ``start``, as a float; ``np.inf`` where the
        tolerance is never reached (or not kept until the end of the window).
        Never NaN.
    """
    check_positive("eps", eps)
    steps = np.asarray(steps, dtype=float)
    errors = np.asarray(errors)
    if errors.shape[-1] != steps.shape[-1]:
        raise ValueError(
            f"errors must have {steps.shape[-1]} records on its last axis to match steps, "
            f"got shape {errors.shape}."
        )
    window = (steps >= start) & (steps < (np.inf if stop is None else stop))
    if not window.any():
        raise ValueError(f"no recorded step lies in the window [{start}, {stop}).")
    steps, below = steps[window], errors[..., window] <= eps
    if stay:
        # below from here to the end of the window: reverse cumulative AND
        below = np.flip(np.logical_and.accumulate(np.flip(below, -1), axis=-1), -1)
    reached = below.any(axis=-1)
    first = np.argmax(below, axis=-1)
    return np.where(reached, steps[first] - start, np.inf)


def median_and_spread(values, axis: int = -1, q: tuple = (0.25, 0.75)):
    """Median and a quantile range along ``axis``, with ``inf`` (not reached) kept as ``inf``.

    Returns
    -------
    (median, low, high) : three arrays with ``axis`` removed
        ``low``/``high`` are the quantiles ``q`` (default the quartiles). A
        quantile that falls among the unreached runs is ``inf``, never NaN.
    """
    v = np.asarray(values, dtype=float)
    if np.isnan(v).any():
        raise ValueError("values must not contain NaN (use inf for runs that never converged).")
    big = np.finfo(float).max
    w = np.where(np.isinf(v), big, v)
    out = np.quantile(w, [0.5, *q], axis=axis)
    out = np.where(out >= big / 4, np.inf, out)
    return out[0], out[1], out[2]


# ------------------------------------------------------------------ the scan


def _tree_where(cond, a, b):
    return jax.tree_util.tree_map(lambda u, v: jnp.where(cond, u, v), a, b)


def _check(net, c, bound):
    """Whitening error ‖M⁻¹CM⁻¹ − I‖₂ of ``net`` and whether the run is healthy.

    Healthy: finite weights, M positive definite, error finite and ≤ ``bound``.
    Computed from one eigendecomposition M = VΛVᵀ, since
    M⁻¹CM⁻¹ = V (Λ⁻¹ VᵀCV Λ⁻¹) Vᵀ, so the error is the largest ``|eigenvalue − 1|``
    of Λ⁻¹VᵀCVΛ⁻¹ (eq. 1.7).

    Every LAPACK call of a sweep depends on the one before: jaxlib 0.10.2 can
    deadlock on a small CPU when two batched LAPACK calls run concurrently
    (each splits its batch over the intra-op thread pool and waits for it).
    XLA runs independent operations concurrently, and an optimization
    barrier orders nothing at run time, so the order is made by data: the
    eigendecomposition reads a flag computed from every leaf of the network
    (e.g. a refreshed inverse), two independent ``solve`` calls (two LU
    factorizations of M) are avoided, and the initial check travels in the
    scan's carry.
    """
    leaves = jax.tree_util.tree_leaves(net)
    finite = jnp.all(jnp.array([jnp.all(jnp.isfinite(leaf)) for leaf in leaves]))
    m = net.M
    eye = jnp.eye(m.shape[-1], dtype=m.dtype)
    # depends on every leaf (e.g. a refreshed inverse), so it runs after all of them
    m = jnp.where(finite & jnp.all(jnp.isfinite(m)), m, eye)
    lam, v = jnp.linalg.eigh(symmetrize(m))
    pd = lam[0] > 0
    inv = 1.0 / jnp.where(lam > 0, lam, 1.0)
    b = (v.T @ c @ v) * inv[:, None] * inv[None, :]
    b = jnp.where(jnp.isfinite(b), b, 0.0)
    err = jnp.max(jnp.abs(jnp.linalg.eigvalsh(symmetrize(b)) - 1.0))
    err = jnp.where(pd, err, jnp.inf)
    return err, finite & pd & jnp.isfinite(err) & (err <= bound)


def _run(net, stream, eta, key, bound, *, n_records, record_every, block, mean):
    """One run (no batch axes): returns (final net, errors (S,), diverged, diverged_at)."""
    has_refresh = type(net).carries_inverse

    def one_block(net, t0):
        ts = t0 + jnp.arange(block)
        if mean:
            def mean_step(n, t):
                return n.mean_step(stream.covariance(t), eta), None

            net, _ = jax.lax.scan(mean_step, net, ts)
        else:
            xs = jax.vmap(stream.sample, in_axes=(None, 0))(key, ts)
            net, _ = jax.lax.scan(lambda n, x: (n.step(x, eta), None), net, xs)
        if has_refresh:
            net = net.refresh()
        return net, None

    def one_record(carry, r):
        net, div, div_at, err_prev = carry
        t0 = r * record_every
        if record_every == block:
            new, _ = one_block(net, t0)
        else:
            new, _ = jax.lax.scan(one_block, net, t0 + block * jnp.arange(record_every // block))
        t_end = t0 + record_every
        err, ok = _check(new, stream.covariance(t_end), bound)
        bad = ~ok
        div_at = jnp.where(bad & ~div, t_end, div_at)
        div = div | bad
        net = _tree_where(div, net, new)
        err = jnp.where(div, jnp.inf, err)
        return (net, div, div_at, err), err

    err0, _ = _check(net, stream.covariance(0), bound)
    # err0 travels in the carry: the loop (and its linear algebra) starts after it
    init = (net, jnp.array(False), jnp.array(-1, dtype=jnp.int64), err0)
    (net, div, div_at, _), errs = jax.lax.scan(one_record, init, jnp.arange(n_records))
    return net, jnp.concatenate([err0[None], errs]), div, div_at


@partial(jax.jit, static_argnames=("n_records", "record_every", "block", "mean", "batched_stream"))
def _sweep_compiled(net, stream, eta, keys, bound, *,
                    n_records, record_every, block, mean, batched_stream):
    run = partial(_run, n_records=n_records, record_every=record_every, block=block, mean=mean)
    return jax.vmap(run, in_axes=(0, 0 if batched_stream else None, 0, 0, None))(
        net, stream, eta, keys, bound
    )


# ------------------------------------------------------------------ public entry points


def _check_schedule(n_steps, record_every, refresh_every, stream):
    schedule = {"n_steps": n_steps, "record_every": record_every, "refresh_every": refresh_every}
    for name, v in schedule.items():
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}.")
    if n_steps % record_every:
        raise ValueError(
            f"n_steps = {n_steps} must be a multiple of record_every = {record_every}."
        )
    if not is_stream(stream):
        raise ValueError(
            "stream must be a whitenlib stream (GaussianStream, PatchStream or FixedSamples), "
            f"got {type(stream).__name__}."
        )
    length = getattr(stream, "length", None)
    if length is not None and n_steps > length:
        raise ValueError(f"n_steps = {n_steps} exceeds the {length} samples of the stream.")


def _batch_size(net) -> int:
    m = getattr(net, "M", None)
    if m is None or m.ndim != 3:
        raise ValueError(
            "net must be a network with one leading run axis (M of shape (R, n, n)); "
            "build it with initial_networks or stack_networks, or use train for one run."
        )
    return int(m.shape[0])


def _run_keys(key, r: int):
    """One sampling seed per run: from one key (None: seed 0) or from R keys."""
    if key is None or isinstance(key, (int, np.integer)):
        return sampling_keys(0 if key is None else key, r)
    dtype = getattr(key, "dtype", None)
    typed = dtype is not None and jnp.issubdtype(dtype, jax.dtypes.prng_key)
    seeds = dtype is not None and np.dtype(dtype) == np.uint64 if not typed else False
    single = (np.ndim(key) == 0) if (typed or seeds) else (np.ndim(key) == 1)
    if single:
        return sampling_keys(key, r)
    keys = sampling_keys(key)
    if keys.shape != (r,):
        raise ValueError(f"key must be one key or one key per run ({r}), got shape {keys.shape}.")
    return keys


def sweep(net, stream, eta, n_steps: int, *, key=None, record_every: int = 100,
          refresh_every: int = 500, mean: bool = False,
          error_bound: float = DEFAULT_ERROR_BOUND, params: dict | None = None) -> Trajectory:
    """Train R networks at once (one compiled, vmapped scan) and record their errors.

    Parameters
    ----------
    net : network with a leading run axis R
        E.g. from :func:`initial_networks` or :func:`stack_networks`.
    stream : stream
        Unbatched (every run sees its own draws from the same statistics) or
        batched with leading axis R (see :func:`whitenlib.data.stack_streams`).
    eta : float or array (R,)
        Learning rate(s), positive.
    n_steps : int
        Samples per run; a multiple of ``record_every``.
    key : JAX key, int seed, or array of R keys, optional
        Randomness of the samples. One key (default seed 0) gives each run r
        its own samples, those of ``data.draw(stream, key, ..., run=r)``; R
        keys give run r the samples of ``data.draw(stream, keys[r], ...)``,
        e.g. the same key twice for two runs that should see the same
        samples. Keys are converted with :func:`whitenlib.data.sampling_keys`.
    record_every : int
        Steps between recorded errors.
    refresh_every : int
        Steps between calls to ``net.refresh()`` (networks that carry an
        inverse); the scan refreshes every gcd(record_every, refresh_every) steps.
    mean : bool
        Use the expected update weights + η flow(C_t) instead of samples.
    error_bound : float
        A record with error above this counts as divergence.
    params : dict of str → array (R,), optional
        Labels carried into the result (e.g. ``{"gamma": gammas}``).

    Returns
    -------
    Trajectory
        With batch shape (R,).
    """
    _check_schedule(n_steps, record_every, refresh_every, stream)
    check_positive("error_bound", error_bound)
    r = _batch_size(net)
    eta_arr = np.asarray(eta, dtype=float)
    eta_arr = np.broadcast_to(eta_arr, (r,)) if eta_arr.ndim == 0 else eta_arr
    if eta_arr.shape != (r,):
        raise ValueError(
            f"eta must be a scalar or have shape ({r},) (one per run), got {np.shape(eta)}."
        )
    if not np.all(np.isfinite(eta_arr)) or np.any(eta_arr <= 0):
        raise ValueError(f"eta must contain positive finite learning rates, got {eta_arr}.")
    if stream.batched and stream.covs.shape[0] != r:
        raise ValueError(
            f"stream is batched with {stream.covs.shape[0]} entries but net has {r} runs."
        )
    if stream.n != net.M.shape[-1]:
        raise ValueError(f"stream has n = {stream.n} but the network has n = {net.M.shape[-1]}.")
    keys = _run_keys(key, r)
    params = {k: np.broadcast_to(np.asarray(v), (r,)).copy() for k, v in (params or {}).items()}
    block = math.gcd(record_every, refresh_every) if type(net).carries_inverse else record_every
    final, errors, div, div_at = _sweep_compiled(
        net, stream, jnp.asarray(eta_arr), keys, float(error_bound),
        n_records=n_steps // record_every, record_every=record_every, block=block,
        mean=bool(mean), batched_stream=stream.batched,
    )
    errors = np.asarray(errors)
    return Trajectory(
        steps=np.arange(0, n_steps + 1, record_every),
        errors=errors, final=final, diverged=np.asarray(div), diverged_at=np.asarray(div_at),
        eta=eta_arr.copy(), params=params,
    )


def train(net, stream, eta, n_steps: int, *, key=None, record_every: int = 100,
          refresh_every: int = 500, mean: bool = False,
          error_bound: float = DEFAULT_ERROR_BOUND) -> Trajectory:
    """Train one network on a stream (one compiled scan); see :func:`sweep` for the arguments.

    ``net`` and ``stream`` carry no batch axis; ``eta`` is a scalar. Returns a
    :class:`Trajectory` with batch shape ().
    """
    if not is_stream(stream) or stream.batched:
        raise ValueError("stream must be an unbatched whitenlib stream; use sweep for batches.")
    check_positive("eta", eta)
    batched = jax.tree_util.tree_map(lambda a: a[None], net)
    keys = sampling_keys(0 if key is None else key, 1)  # run 0 of this key
    out = sweep(batched, stream, float(eta), n_steps, key=keys, record_every=record_every,
                refresh_every=refresh_every, mean=mean, error_bound=error_bound)
    return out.reshape(())


# ------------------------------------------------------------------ building batches of runs


def stack_networks(nets):
    """Stack networks of one class along a new leading run axis (for :func:`sweep`)."""
    nets = list(nets)
    if not nets or any(type(n) is not type(nets[0]) for n in nets):
        raise ValueError("nets must be a non-empty sequence of networks of one class.")
    return jax.tree_util.tree_map(lambda *a: jnp.stack(a), *nets)


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise ValueError(
        f"rng must be a numpy.random.Generator or a non-negative int seed, got {seed!r}."
    )


def initial_factors(rng, n: int, gamma, k: int | None = None) -> np.ndarray:
    """Random factors W₀ = √(γ/k)·A, A standard normal of shape (n, k); k defaults to 2n.

    Drawn with NumPy (``rng`` a ``numpy.random.Generator`` or an int seed), so
    building initial conditions compiles nothing. ``gamma`` is a scalar or an
    array (R,); returns shape (n, k) or (R, n, k), one independent A per entry.
    """
    n = check_size("n", n)
    k = 2 * n if k is None else check_size("k", k)
    if k < n:
        raise ValueError(f"need k >= n for an SPD M0 = W0 W0^T, got n = {n}, k = {k}.")
    check_positive_array("gamma", gamma)
    g = np.asarray(gamma, dtype=float)
    a = _rng(rng).standard_normal(g.shape + (n, k))
    return np.sqrt(g / k)[..., None, None] * a


def initial_M(rng, n: int, gamma, k: int | None = None) -> np.ndarray:
    """Random initial recurrent matrices M₀ = W₀W₀ᵀ with W₀ from :func:`initial_factors`.

    E[M₀] = γ I; the eigenvalues of M₀/γ follow the Marchenko–Pastur law of
    ratio n/k. Shape (n, n) or (R, n, n).
    """
    w = initial_factors(rng, n, gamma, k)
    return w @ np.swapaxes(w, -1, -2)


def _from_M(Net, M, k):
    """``Net.from_M(M, k=k)``, or ``Net.from_M(M)`` when no k is given."""
    return Net.from_M(M) if k is None else Net.from_M(M, k=check_size("k", k))


def networks_from_M(Net, M, k: int | None = None, rng=None):
    """A batch of networks of class ``Net`` with given effective matrices M.

    Parameters
    ----------
    Net : network class
    M : array (n, n) or (R, n, n)
        SPD effective recurrent matrices, one per run.
    k : int, optional
        Passed to ``Net.from_M`` (number of interneurons; ignored by the direct networks).
    rng : numpy.random.Generator or int, optional
        For networks whose weights are a factor of M (M = W Wᵀ): rotate each
        W by an independent Haar-random orthogonal k × k matrix, W = M^{1/2}[I, 0]Vᵀ
        (same M, generic W). Without it W = [M^{1/2}, 0].

    Returns
    -------
    network whose leaves carry the leading axis R.
    """
    m = np.asarray(M, dtype=float)
    m = m[None] if m.ndim == 2 else m
    if m.ndim != 3 or m.shape[-1] != m.shape[-2]:
        raise ValueError(f"M must have shape (n, n) or (R, n, n), got {np.shape(M)}.")
    template = _from_M(Net, m[0], k)  # validates the first
    if Net.weights_are_factor:
        # W = M^{1/2} [I, 0] Vᵀ, computed in NumPy; one compiled with_weights for the batch
        lam, q = np.linalg.eigh(m)
        if np.any(lam <= 0):
            raise ValueError("M must be positive definite (every matrix of the batch).")
        half = (q * np.sqrt(lam)[:, None, :]) @ np.swapaxes(q, -1, -2)
        kk = template.weights.shape[-1]
        w = np.concatenate([half, np.zeros(half.shape[:-1] + (kk - half.shape[-1],))], axis=-1)
        if rng is not None:
            z, r = np.linalg.qr(_rng(rng).standard_normal((m.shape[0], kk, kk)))
            v = z * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[:, None, :]  # Haar (Mezzadri 2007)
            w = w @ np.swapaxes(v, -1, -2)
        return jax.jit(jax.vmap(template.with_weights))(jnp.asarray(w))
    try:  # one vectorized construction when from_M is pure JAX
        return jax.jit(jax.vmap(lambda mm: _from_M(Net, mm, k)))(jnp.asarray(m))
    except (jax.errors.JAXTypeError, TypeError, ValueError):  # e.g. a NumPy solve inside from_M
        return stack_networks([_from_M(Net, mm, k) for mm in m])


def initial_networks(Net, rng, n: int, gamma, k: int | None = None):
    """A batch of networks of class ``Net`` with M₀ = W₀W₀ᵀ, W₀ = √(γ/k)·A (the book's protocol).

    When a network's weights are themselves a factor of M (the class declares
    ``weights_are_factor``, as :class:`~whitenlib.networks.InterneuronNetwork`
    does), its weights are W₀; otherwise the network is ``Net.from_M(M₀, k=k)``.
    The same ``rng`` seed and γ therefore start every class at the same M₀.
    This is the batched, NumPy-drawn form of ``Net.random(key, n, gamma, k)``
    (the same protocol, drawn from a NumPy generator: it compiles nothing).

    Parameters
    ----------
    Net : network class
    rng : numpy.random.Generator or int
    n : int
    gamma : array (R,)
        Initialization scales; E[M₀] = γ I.
    k : int, optional
        Columns of W₀ (interneurons); default 2n.

    Returns
    -------
    network whose leaves carry the leading axis R.
    """
    n = check_size("n", n)
    k = 2 * n if k is None else check_size("k", k)
    check_positive_array("gamma", gamma)
    w0 = initial_factors(rng, n, np.atleast_1d(np.asarray(gamma, dtype=float)), k)
    if Net.weights_are_factor:
        template = Net(w0[0])  # validates the first
        return jax.jit(jax.vmap(template.with_weights))(jnp.asarray(w0))
    return networks_from_M(Net, w0 @ np.swapaxes(w0, -1, -2), k)


__all__ = [
    "DEFAULT_ERROR_BOUND",
    "Trajectory",
    "initial_M",
    "initial_factors",
    "initial_networks",
    "median_and_spread",
    "networks_from_M",
    "stack_networks",
    "steps_to_threshold",
    "sweep",
    "train",
]
