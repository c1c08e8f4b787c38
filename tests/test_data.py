"""Unit tests of whitenlib.data: streams, context switches, natural-image patches."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from whitenlib import data


def test_long_gaussian_stream_has_covariance_C():
    c = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, -0.3], [0.0, -0.3, 0.5]])
    stream = data.GaussianStream(c)
    x = np.asarray(data.draw(stream, jax.random.key(0), 40_000))
    assert x.shape == (40_000, 3)
    np.testing.assert_allclose(x.T @ x / len(x), c, atol=0.05)
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=0.03)
    # the t-th sample depends on (key, t) only
    tail = np.asarray(data.draw(stream, jax.random.key(0), 10, start=39_990))
    np.testing.assert_array_equal(tail, x[-10:])


def test_context_switches_happen_at_the_given_steps():
    small, big = np.eye(2) * 0.01, np.eye(2) * 100.0
    rot = np.array([[50.0, 49.0], [49.0, 50.0]])
    stream = data.GaussianStream(np.stack([small, big, rot]), switch_times=[300, 700])
    assert stream.n_contexts == 3 and stream.n == 2
    np.testing.assert_array_equal(
        stream.context(np.array([0, 299, 300, 699, 700, 5000])), [0, 0, 1, 1, 2, 2]
    )
    np.testing.assert_allclose(stream.covariance(300), big)
    x = np.asarray(data.draw(stream, jax.random.key(1), 1000))
    assert np.abs(x[:300]).max() < 1.0 and np.abs(x[300:700]).std() > 5.0
    late = x[700:]
    assert np.corrcoef(late.T)[0, 1] > 0.9  # the rotated context correlates the two inputs


def test_patch_stream_covariance_is_the_exact_second_moment():
    rng = np.random.default_rng(0)
    patches = rng.standard_normal((500, 4)) @ np.diag([3.0, 1.0, 0.5, 0.1]) + 2.0
    stream = data.PatchStream(patches)
    centred = patches - patches.mean(axis=0)
    np.testing.assert_allclose(stream.covs[0], centred.T @ centred / 500, atol=1e-12)
    x = np.asarray(data.draw(stream, jax.random.key(0), 50))
    # every draw is one of the centred patches
    d = np.abs(x[:, None, :] - np.asarray(stream.patches[0])[None]).sum(-1).min(axis=1)
    assert d.max() < 1e-12


def test_natural_image_patches_have_a_steep_spectrum():
    img = data.sample_image()
    assert img.ndim == 2 and 0.0 <= img.min() and img.max() <= 1.0
    patches = data.image_patches(img, 4)
    h, w = img.shape
    assert patches.shape == ((h // 4) * (w // 4), 16)
    np.testing.assert_allclose(patches.mean(axis=0), 0.0, atol=1e-12)
    lam = np.linalg.eigvalsh(patches.T @ patches / len(patches))[::-1]
    assert lam[0] / lam[-1] > 100.0  # steeply falling spectrum of natural images


def test_stack_streams_and_fixed_samples():
    a = data.GaussianStream(np.eye(2))
    b = data.GaussianStream(2.0 * np.eye(2))
    s = data.stack_streams([a, b])
    assert s.batched and s.covs.shape == (2, 1, 2, 2)
    f = data.FixedSamples(np.ones((5, 2)), np.eye(2))
    assert f.length == 5 and np.asarray(f.sample(None, 3)).tolist() == [1.0, 1.0]


def test_bad_inputs_raise_value_errors_naming_the_argument():
    with pytest.raises(ValueError, match="covs"):
        data.GaussianStream(np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="covs"):
        data.GaussianStream(np.ones(3))
    with pytest.raises(ValueError, match="switch_times"):
        data.GaussianStream(np.stack([np.eye(2)] * 3), switch_times=[10])
    with pytest.raises(ValueError, match="switch_times"):
        data.GaussianStream(np.stack([np.eye(2)] * 3), switch_times=[10, 5])
    with pytest.raises(ValueError, match="switch_times"):
        data.GaussianStream(np.stack([np.eye(2)] * 2), switch_times=[2.5])
    with pytest.raises(ValueError, match="patches"):
        data.PatchStream(np.ones((3, 4)))
    with pytest.raises(ValueError, match="samples"):
        data.FixedSamples(np.ones(4), np.eye(4))
    with pytest.raises(ValueError, match="covs"):
        data.FixedSamples(np.ones((5, 3)), np.eye(2))
    with pytest.raises(ValueError, match="streams"):
        data.stack_streams([data.GaussianStream(np.eye(2)), data.GaussianStream(np.eye(3))])
    with pytest.raises(ValueError, match="size"):
        data.image_patches(np.ones((8, 8)), 10)
    with pytest.raises(ValueError, match="image"):
        data.image_patches(np.ones(8), 2)
    with pytest.raises(ValueError, match="name"):
        data.sample_image("no_such_image.png")
    with pytest.raises(ValueError, match="n_steps"):
        data.draw(data.GaussianStream(np.eye(2)), jax.random.key(0), 0)


def test_streams_are_equinox_modules_without_hand_written_pytree_code():
    import equinox as eqx

    for kind in data.STREAMS:
        assert issubclass(kind, eqx.Module)
        assert "tree_flatten" not in vars(kind) and "tree_unflatten" not in vars(kind)
    stream = data.PatchStream(np.random.default_rng(0).standard_normal((20, 3)))
    leaves, treedef = jax.tree_util.tree_flatten(stream)
    rebuilt = jax.tree_util.tree_unflatten(treedef, leaves)
    assert type(rebuilt) is data.PatchStream and data.is_stream(rebuilt)
    np.testing.assert_array_equal(data.draw(rebuilt, 5, 7), data.draw(stream, 5, 7))


def test_natural_patches_shapes_and_determinism():
    p = data.natural_patches(8, ("camera", "grace_hopper"), per_image=300, key=4)
    assert p.shape == (600, 64) and p.dtype == np.float64
    np.testing.assert_allclose(p.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_array_equal(p, data.natural_patches(8, ("camera", "grace_hopper"),
                                                          per_image=300, key=4))
    assert not np.allclose(p, data.natural_patches(8, ("camera", "grace_hopper"),
                                                   per_image=300, key=5))
    q = data.natural_patches(4, "chelsea", per_image=50, key=jax.random.key(0))
    assert q.shape == (50, 16)
    for name in data.NATURAL_IMAGES:
        img = data.natural_image(name)
        assert img.ndim == 2 and min(img.shape) >= 300 and 0.0 <= img.min() <= img.max() <= 1.0
    # usable as a stream: its covariance is positive definite
    assert data.PatchStream(p).n == 64


def test_natural_patch_spectrum_is_a_power_law():
    p = data.natural_patches(8, key=0)          # all nine images
    lam = np.linalg.eigvalsh(p.T @ p / len(p))[::-1]
    ranks = np.arange(1, 65)
    slope, intercept = np.polyfit(np.log(ranks[1:]), np.log(lam[1:]), 1)
    assert -2.5 < slope < -1.2                  # λ_r ∝ r^(-α), α between 1 and 2.5
    resid = np.log(lam[1:]) - (slope * np.log(ranks[1:]) + intercept)
    assert np.std(resid) < 0.3                  # a straight line on log-log axes
    assert lam[0] > 5 * lam[1]                  # mean brightness of the patch leads


def test_natural_patches_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="images"):
        data.natural_patches(8, ("camera", "no_such_image"))
    with pytest.raises(ValueError, match="images"):
        data.natural_patches(8, ())
    with pytest.raises(ValueError, match="images"):
        data.natural_patches(8, 3)
    with pytest.raises(ValueError, match="size"):
        data.natural_patches(0)
    with pytest.raises(ValueError, match="size"):
        data.natural_patches(301, "chelsea")    # chelsea is 300 pixels high
    with pytest.raises(ValueError, match="size"):
        data.natural_patches(2.5)
    with pytest.raises(ValueError, match="per_image"):
        data.natural_patches(8, per_image=-1)
    with pytest.raises(ValueError, match="key"):
        data.natural_patches(8, key=-3)
    with pytest.raises(ValueError, match="name"):
        data.natural_image("lena")
