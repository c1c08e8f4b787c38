"""Unit tests of whitenlib.objective: f, g, their gradients and the whitening error."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import whitenlib as wl
from whitenlib.objective import _objective

SEEDS = (0, 1, 2)
N = 4


def spd(seed: int, n: int = N, low: float = 0.5, high: float = 5.0) -> np.ndarray:
    return np.asarray(wl.random_covariance(jax.random.key(seed), n, low, high))


def sigma_points(c: np.ndarray) -> np.ndarray:
    """2n points ±√n C^{1/2} e_i whose second moment is exactly C (shape (2n, n))."""
    n = c.shape[-1]
    rows = np.sqrt(n) * np.asarray(wl.spd_sqrt(c))
    return np.concatenate([rows, -rows])


def rel_err(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(np.abs(a - b).max() / np.abs(b).max())


# ------------------------------------------------------------------ gradients


@pytest.mark.parametrize("seed", SEEDS)
def test_objective_gradient_equals_autodiff(seed):
    m, c = spd(seed), spd(seed + 100)
    # at symmetric M, the unconstrained gradient of Tr(M⁻¹C + M) is I − M⁻ᵀCM⁻ᵀ: symmetric
    auto = jax.grad(_objective)(jnp.asarray(m), jnp.asarray(c))
    grad = wl.objective_gradient(m, c)
    assert rel_err(grad, auto) < 1e-10
    m_inv = np.linalg.inv(m)
    np.testing.assert_allclose(grad, np.eye(N) - m_inv @ c @ m_inv, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_objective_gradient_matches_finite_differences(seed):
    # independent of JAX: a symmetric perturbation E gives df = <∇f, E>_F
    m, c = spd(seed), spd(seed + 100)
    rng = np.random.default_rng(seed)
    e = rng.standard_normal((N, N))
    e = (e + e.T) / 2

    def f(a):
        return np.trace(np.linalg.solve(a, c)) + np.trace(a)

    h = 1e-5
    fd = (f(m + h * e) - f(m - h * e)) / (2 * h)
    assert abs(fd - np.sum(np.asarray(wl.objective_gradient(m, c)) * e)) < 1e-7 * max(1, abs(fd))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", (N, 2 * N))
def test_interneuron_gradient_equals_autodiff(seed, k):
    w = np.random.default_rng(seed).standard_normal((N, k))
    c = spd(seed + 100)
    auto = jax.grad(lambda w_: _objective(w_ @ w_.T, jnp.asarray(c)))(jnp.asarray(w))
    grad = wl.interneuron_objective_gradient(w, c)
    assert grad.shape == (N, k)
    assert rel_err(grad, auto) < 1e-10
    # chain rule: ∇g(W) = 2 ∇f(WWᵀ) W
    chain = 2 * np.asarray(wl.objective_gradient(w @ w.T, c)) @ w
    np.testing.assert_allclose(grad, chain, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_interneuron_objective_is_f_of_wwt(seed):
    w = np.random.default_rng(seed).standard_normal((N, 2 * N))
    c = spd(seed + 100)
    m = w @ w.T
    expected = np.trace(np.linalg.solve(m, c)) + np.trace(m)
    np.testing.assert_allclose(float(wl.interneuron_objective(w, c)), expected, rtol=1e-13)
    np.testing.assert_allclose(float(wl.objective(m, c)), expected, rtol=1e-13)


# ------------------------------------------------------------------ objective


@pytest.mark.parametrize("seed", SEEDS)
def test_objective_minimum_is_at_sqrt_c(seed):
    c = spd(seed)
    root = np.asarray(wl.spd_sqrt(c))
    f_min = float(wl.objective(root, c))
    np.testing.assert_allclose(f_min, 2 * np.trace(root), rtol=1e-13)
    np.testing.assert_allclose(np.asarray(wl.objective_gradient(root, c)), 0, atol=1e-12)
    rng = np.random.default_rng(seed)
    for scale in (1e-3, 1e-1, 0.4):
        e = rng.standard_normal((N, N))
        e = scale * (e + e.T) / 2 * np.linalg.eigvalsh(root).min() / np.linalg.norm(e, 2)
        assert float(wl.objective(root + e, c)) > f_min
    for s in (0.5, 0.99, 1.01, 3.0):  # along the ray M = s C^{1/2}: f = (s + 1/s) Tr C^{1/2}
        expected = (s + 1 / s) * np.trace(root)
        np.testing.assert_allclose(float(wl.objective(s * root, c)), expected, rtol=1e-13)


@pytest.mark.parametrize("seed", SEEDS)
def test_objective_min_max_form(seed):
    # f(M) = E_x[max_y (2xᵀy − yᵀMy)] + Tr M, the max at y = M⁻¹x; exact over sigma points
    m, c = spd(seed), spd(seed + 100)
    xs = sigma_points(c)
    np.testing.assert_allclose(xs.T @ xs / len(xs), c, atol=1e-12)
    ys = np.asarray(wl.DirectNetwork(m).respond(xs))
    inner = np.mean(2 * np.sum(xs * ys, axis=1) - np.einsum("ti,ij,tj->t", ys, m, ys))
    np.testing.assert_allclose(inner + np.trace(m), float(wl.objective(m, c)), rtol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_output_covariance(seed):
    m, c = spd(seed), spd(seed + 100)
    m_inv = np.linalg.inv(m)
    cyy = np.asarray(wl.output_covariance(m, c))
    np.testing.assert_allclose(cyy, m_inv @ c @ m_inv, rtol=1e-12, atol=1e-13)
    np.testing.assert_array_equal(cyy, cyy.T)


# ------------------------------------------------------------------ whitening error


@pytest.mark.parametrize("seed", SEEDS)
def test_whitening_error_zero_at_sqrt_c(seed):
    c = spd(seed, low=0.01, high=100.0)
    assert float(wl.whitening_error(wl.spd_sqrt(c), c)) < 1e-12
    assert float(wl.whitening_error(np.eye(N), np.eye(N))) == 0.0


@pytest.mark.parametrize("seed", SEEDS)
def test_whitening_error_commuting_case(seed):
    q = np.asarray(wl.random_orthogonal(jax.random.key(seed), N))
    rng = np.random.default_rng(seed)
    lam, m = rng.uniform(0.5, 5, N), rng.uniform(0.2, 4, N)
    c, mm = q @ np.diag(lam) @ q.T, q @ np.diag(m) @ q.T
    expected = np.max(np.abs(lam / m**2 - 1))
    np.testing.assert_allclose(float(wl.whitening_error(mm, c)), expected, rtol=1e-12)
    np.testing.assert_allclose(
        float(wl.whitening_error(mm, c)), wl.theory.mode_error(m, lam).max(), rtol=1e-12
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_whitening_error_is_operator_norm(seed):
    m, c = spd(seed), spd(seed + 100)
    m_inv = np.linalg.inv(m)
    expected = np.linalg.norm(m_inv @ c @ m_inv - np.eye(N), 2)
    np.testing.assert_allclose(float(wl.whitening_error(m, c)), expected, rtol=1e-12)


@pytest.mark.parametrize("batch", (3, N))  # batch == n would expose vector/matrix confusion
def test_batched_error_and_objective_match_loop(batch):
    ms = np.stack([spd(s) for s in range(batch)])
    c = spd(100)
    errs, objs = np.asarray(wl.whitening_error(ms, c)), np.asarray(wl.objective(ms, c))
    assert errs.shape == objs.shape == (batch,)
    for b in range(batch):
        np.testing.assert_allclose(errs[b], float(wl.whitening_error(ms[b], c)), rtol=1e-13)
        np.testing.assert_allclose(objs[b], float(wl.objective(ms[b], c)), rtol=1e-13)
