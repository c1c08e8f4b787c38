"""Unit tests of whitenlib.linalg: SPD powers, random orthogonal matrices, spectra."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import whitenlib as wl
from whitenlib.linalg import operator_norm_sym, spd_power, symmetrize

SEEDS = (0, 1, 2)


def spd(seed: int, n: int, low: float = 0.5, high: float = 5.0) -> np.ndarray:
    """A random SPD matrix with eigenvalues in [low, high] (NumPy array)."""
    return np.asarray(wl.random_covariance(jax.random.key(seed), n, low, high))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", (1, 4))
def test_spd_sqrt_squares_to_input(seed, n):
    a = spd(seed, n, 0.1, 50.0)
    r = np.asarray(wl.spd_sqrt(a))
    np.testing.assert_allclose(r @ r, a, rtol=0, atol=1e-12 * np.abs(a).max())
    # the principal root: symmetric and positive definite
    np.testing.assert_array_equal(r, r.T)
    assert np.linalg.eigvalsh(r).min() > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_spd_sqrt_known_value(seed):
    # A = Q diag(λ) Qᵀ  ->  A^{1/2} = Q diag(√λ) Qᵀ
    q = np.asarray(wl.random_orthogonal(jax.random.key(seed), 4))
    lam = np.array([9.0, 4.0, 0.25, 0.01])
    a = q @ np.diag(lam) @ q.T
    expected = q @ np.diag(np.sqrt(lam)) @ q.T
    np.testing.assert_allclose(np.asarray(wl.spd_sqrt(a)), expected, atol=1e-13)
    np.testing.assert_allclose(
        np.asarray(wl.spd_inv_sqrt(a)), q @ np.diag(lam**-0.5) @ q.T, atol=1e-11
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_spd_inv_sqrt_whitens(seed, n=4):
    a = spd(seed, n, 0.1, 50.0)
    s = np.asarray(wl.spd_inv_sqrt(a))
    np.testing.assert_allclose(s @ a @ s, np.eye(n), rtol=0, atol=1e-12)
    np.testing.assert_allclose(s @ np.asarray(wl.spd_sqrt(a)), np.eye(n), atol=1e-12)


def test_spd_power_batched_matches_loop():
    batch = np.stack([spd(s, 4) for s in range(3)])
    out = np.asarray(spd_power(batch, 0.3))
    assert out.shape == (3, 4, 4)
    for b in range(3):
        lam, q = np.linalg.eigh(batch[b])
        np.testing.assert_allclose(out[b], (q * lam**0.3) @ q.T, atol=1e-13)
    # the public functions accept a batch too
    roots = np.asarray(wl.spd_sqrt(batch))
    np.testing.assert_allclose(roots @ roots, batch, atol=1e-12)


def test_symmetrize_and_operator_norm():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 5))
    s = np.asarray(symmetrize(a))
    np.testing.assert_allclose(s, (a + a.T) / 2, atol=1e-15)
    # indefinite symmetric matrix: norm is the largest |eigenvalue|, which here is negative
    d = np.diag([1.0, -3.0, 2.0])
    q = np.asarray(wl.random_orthogonal(jax.random.key(3), 3))
    np.testing.assert_allclose(float(operator_norm_sym(q @ d @ q.T)), 3.0, rtol=1e-14)
    np.testing.assert_allclose(float(operator_norm_sym(s)), np.linalg.norm(s, 2), rtol=1e-13)


@pytest.mark.parametrize("n", (1, 2, 4, 8))
def test_random_orthogonal_is_orthogonal(n):
    q = np.asarray(wl.random_orthogonal(jax.random.key(n), n))
    assert q.shape == (n, n)
    np.testing.assert_allclose(q.T @ q, np.eye(n), atol=1e-14)
    np.testing.assert_allclose(q @ q.T, np.eye(n), atol=1e-14)
    np.testing.assert_allclose(abs(np.linalg.det(q)), 1.0, rtol=1e-13)


def test_random_orthogonal_depends_on_key_and_is_reproducible():
    a = wl.random_orthogonal(jax.random.key(0), 4)
    b = wl.random_orthogonal(jax.random.key(0), 4)
    c = wl.random_orthogonal(jax.random.key(1), 4)
    np.testing.assert_array_equal(a, b)
    assert np.abs(np.asarray(a) - np.asarray(c)).max() > 1e-3


def test_random_orthogonal_is_haar_distributed():
    # For Haar Q in O(n): E[Q_ij] = 0 and E[Q_ij^2] = 1/n, and det = ±1 equally often.
    # Plain QR without the sign correction gives Q_11 of one sign only.
    n, draws = 3, 1000
    keys = jax.random.split(jax.random.key(42), draws)
    qs = np.asarray(jax.vmap(lambda k: wl.random_orthogonal(k, n))(keys))
    se = np.sqrt(1.0 / n / draws)  # standard error of a mean of Q_ij
    assert np.abs(qs.mean(axis=0)).max() < 5 * se
    np.testing.assert_allclose((qs**2).mean(axis=0), 1.0 / n, atol=0.05)
    dets = np.linalg.det(qs)
    np.testing.assert_allclose(np.abs(dets), 1.0, atol=1e-12)
    assert 0.4 < np.mean(dets > 0) < 0.6


@pytest.mark.parametrize("seed", SEEDS)
def test_covariance_from_spectrum_has_the_spectrum(seed):
    lam = np.array([5.0, 2.0, 0.7, 0.5])
    q = np.asarray(wl.random_orthogonal(jax.random.key(seed), 4))
    c = np.asarray(wl.covariance_from_spectrum(lam, q))
    np.testing.assert_array_equal(c, c.T)
    np.testing.assert_allclose(np.linalg.eigvalsh(c), np.sort(lam), rtol=1e-13)
    # the columns of the basis are the eigenvectors
    np.testing.assert_allclose(c @ q, q * lam, atol=1e-13)


def test_covariance_from_spectrum_default_basis_is_diagonal():
    lam = np.array([3.0, 1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(wl.covariance_from_spectrum(lam)), np.diag(lam))


def test_log_uniform_spectrum_range_and_order():
    lam = np.asarray(wl.log_uniform_spectrum(jax.random.key(0), 2000, 0.5, 5.0))
    assert lam.shape == (2000,)
    assert lam.min() >= 0.5 and lam.max() <= 5.0
    assert np.all(np.diff(lam) <= 0)  # descending
    # log-uniform: log λ is uniform on [log .5, log 5], whose median is log √2.5
    np.testing.assert_allclose(np.median(np.log(lam)), np.log(np.sqrt(2.5)), atol=0.06)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_covariance_is_spd_with_eigenvalues_in_range(seed):
    c = np.asarray(wl.random_covariance(jax.random.key(seed), 4, low=0.2, high=3.0))
    np.testing.assert_array_equal(c, c.T)
    lam = np.linalg.eigvalsh(c)
    assert lam.min() >= 0.2 * (1 - 1e-12) and lam.max() <= 3.0 * (1 + 1e-12)
    # not diagonal: the basis is random
    assert np.abs(c - np.diag(np.diag(c))).max() > 1e-3


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: wl.random_orthogonal(jax.random.key(0), 0), "n must be a positive integer"),
        (lambda: wl.log_uniform_spectrum(jax.random.key(0), 3, 2.0, 1.0), "low"),
        (lambda: wl.log_uniform_spectrum(jax.random.key(0), 3, 0.0, 1.0), "low"),
        (lambda: wl.covariance_from_spectrum([1.0, -1.0]), "eigenvalues"),
        (lambda: wl.covariance_from_spectrum([1.0, 0.0]), "eigenvalues"),
        (lambda: wl.covariance_from_spectrum([1.0, np.nan]), "eigenvalues"),
        (lambda: wl.covariance_from_spectrum([1.0, 2.0], np.eye(3)), "basis"),
        (lambda: wl.spd_sqrt(np.ones((2, 3))), "A must be a square matrix"),
        (lambda: wl.spd_sqrt(np.diag([1.0, -1.0])), "A must be positive definite"),
        (lambda: wl.spd_inv_sqrt(np.array([[1.0, 0.5], [0.0, 1.0]])), "A must be symmetric"),
        (lambda: wl.spd_inv_sqrt(np.diag([1.0, np.inf])), "A contains NaN or inf"),
    ],
)
def test_linalg_rejects_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("n", (1, 2, 5, 8))
def test_small_spd_solve_matches_lapack(n):
    from whitenlib.linalg import small_spd_solve

    rng = np.random.default_rng(n)
    a = np.stack([spd(s, n, 0.01, 100.0) for s in SEEDS])               # batch of 3, cond 1e4
    x = rng.standard_normal((3, n))
    y = np.asarray(small_spd_solve(a, x))
    np.testing.assert_allclose(y, np.linalg.solve(a, x[..., None])[..., 0], rtol=1e-11, atol=0)
    # one M against a batch of samples broadcasts
    yb = np.asarray(small_spd_solve(a[0], x))
    np.testing.assert_allclose(yb, np.linalg.solve(a[0], x.T).T, rtol=1e-11, atol=0)


def test_small_spd_solve_refuses_large_n():
    from whitenlib.linalg import SMALL_SOLVE_MAX_N, small_spd_solve

    n = SMALL_SOLVE_MAX_N + 1
    with pytest.raises(ValueError, match="n <= "):
        small_spd_solve(np.eye(n), np.ones(n))


def test_direct_respond_and_step_agree_with_the_lapack_solve():
    # the online step of the direct synapses (one sample, small n) against the LAPACK solve
    from whitenlib.networks.base import spd_solve

    m, x = spd(3, 5, 0.1, 10.0), np.arange(1.0, 6.0)
    for Net in (wl.DirectNetwork, wl.NonlocalDirectNetwork):
        net = Net(m)
        y_ref = np.asarray(spd_solve(m, x))
        np.testing.assert_allclose(np.asarray(net.respond(x)), y_ref, rtol=1e-12, atol=0)
        out = np.asarray(net.step(x, 0.01).M)
        if Net is wl.DirectNetwork:
            expected = m + 0.01 * (np.outer(y_ref, y_ref) - np.eye(5))
        else:
            expected = m + 0.01 * (np.outer(y_ref, x) + np.outer(x, y_ref) - 2 * m)
        np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-14)
