"""The per-mode noise floor of online learning at the target (theory, chapter 5)."""

import jax
import numpy as np
import pytest

import whitenlib as wl
from whitenlib import data, online, theory

wl.setup()


def test_noise_floor_closed_forms():
    lam = np.array([0.25, 1.0, 9.0])
    s = np.sqrt(lam)
    d = theory.direct_noise_floor(lam, 1e-3)
    i = theory.interneuron_noise_floor(lam, 1e-3)
    assert d.shape == i.shape == (3, 3)
    assert np.allclose(np.diag(d), np.sqrt(2e-3 / s))  # lambda^(-1/4) on the diagonal
    assert np.allclose(np.diag(i), np.sqrt(4e-3))  # scale-free on the diagonal
    assert np.allclose((i / d) ** 2, s[:, None] + s[None, :])  # variance ratio m_i + m_j
    assert np.allclose(d, d.T) and np.allclose(i, i.T)
    # scaling: C -> 4C lowers the direct floor by 1/sqrt(2), leaves the interneuron floor
    assert np.allclose(theory.direct_noise_floor(4 * lam, 1e-3) / d, 2**-0.5)
    assert np.allclose(theory.interneuron_noise_floor(4 * lam, 1e-3), i)
    # sqrt(eta)
    assert np.allclose(theory.direct_noise_floor(lam, 4e-3), 2 * d)


def test_nonlocal_floor_is_the_interneuron_floor():
    """The control's kick and drift are both the interneurons' to first order in eta."""
    lam = np.array([0.25, 1.0, 9.0])
    assert np.array_equal(theory.nonlocal_direct_noise_floor(lam, 1e-3),
                          theory.interneuron_noise_floor(lam, 1e-3))
    with pytest.raises(ValueError, match="eta"):
        theory.nonlocal_direct_noise_floor(lam, -1e-3)


def test_nonlocal_step_is_the_interneuron_step_without_its_second_order_term():
    """(I + eta B) M (I + eta B) = M + eta (y x^T + x y^T - 2M) + eta^2 B M B, B = y y^T - I."""
    rng = np.random.default_rng(4)
    W = rng.standard_normal((3, 6))
    x = rng.standard_normal(3)
    eta = 0.05
    inter = wl.InterneuronNetwork(W)
    M = np.asarray(inter.M)
    y = np.linalg.solve(M, x)
    B = np.outer(y, y) - np.eye(3)
    control_next = np.asarray(wl.NonlocalDirectNetwork(M).step(x, eta).M)
    inter_next = np.asarray(inter.step(x, eta).M)
    assert np.allclose(inter_next - control_next, eta**2 * B @ M @ B, atol=1e-12)
    assert np.linalg.eigvalsh(B @ M @ B).min() > -1e-12  # the term the control lacks is PSD


@pytest.mark.parametrize(
    "bad",
    [
        {"lam": [1.0, -1.0], "eta": 1e-3},
        {"lam": [[1.0]], "eta": 1e-3},
        {"lam": [1.0], "eta": 0.0},
        {"lam": [1.0], "eta": np.nan},
    ],
)
def test_noise_floor_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        theory.direct_noise_floor(**bad)


def test_noise_floor_matches_simulation():
    """Ensemble of online runs started at the target, diagonal C: sd of E_ij per entry."""
    lam = np.array([0.5, 2.0, 4.0])
    C = np.diag(lam)
    R, eta = 200, 2e-3
    for Net, floor in (
        (wl.DirectNetwork, theory.direct_noise_floor),
        (wl.InterneuronNetwork, theory.interneuron_noise_floor),
        (wl.NonlocalDirectNetwork, theory.nonlocal_direct_noise_floor),
    ):
        nets = online.networks_from_M(Net, np.repeat(np.sqrt(C)[None], R, 0), 6, rng=0)
        tr = online.sweep(
            nets,
            data.GaussianStream(C),
            np.full(R, eta),
            4000,
            record_every=4000,
            key=jax.random.key(3),
        )
        M = np.asarray(jax.vmap(lambda net: net.M)(tr.final))
        Minv = np.linalg.inv(M)
        E = Minv @ C @ Minv - np.eye(3)
        measured = E.std(axis=0)
        ratio = measured / floor(lam, eta)
        assert np.all(np.abs(ratio - 1) < 0.25), (Net.__name__, ratio)
        assert abs(ratio.mean() - 1) < 0.07, (Net.__name__, ratio.mean())
