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
