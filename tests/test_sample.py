"""Sampling: seeds, temperature, completion, and the cached sampler's equivalence with the naive one."""

import tracemalloc

import numpy as np
import pytest

from pixelcnn_lib.model import build_model
from pixelcnn_lib.sample import cache_nbytes, sample, sample_cached, sample_naive


def scaled_model(filters, n_block, n_resnet, size, seed, scale=6.0):
    """A random-weight model whose output layer is scaled so that logits spread over a few units.

    With Keras' default initialisation the logits stay near 0 and every pixel is a coin flip; scaling the
    output makes pixels depend strongly on their context, which is what the equivalence tests must exercise.
    """
    model = build_model(filters, n_block, n_resnet, size=size, seed=seed)
    kernel, bias = model.out_dense.get_weights()
    model.out_dense.set_weights([kernel * scale, bias])
    return model


@pytest.fixture(scope="module")
def small():
    return scaled_model(8, 1, 2, size=10, seed=0)


def test_same_seed_same_samples_and_other_seed_other_samples(small):
    a = sample_cached(small, n=3, size=10, seed=7)
    b = sample_cached(small, n=3, size=10, seed=7)
    c = sample_cached(small, n=3, size=10, seed=8)
    assert a.dtype == np.uint8 and a.shape == (3, 10, 10) and set(np.unique(a)) <= {0, 1}
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.array_equal(sample_naive(small, n=2, size=10, seed=3), sample_naive(small, n=2, size=10, seed=3))


@pytest.mark.parametrize("filters,n_block,n_resnet,size", [(4, 1, 1, 8), (8, 2, 2, 12), (16, 3, 2, 32)])
def test_cached_equals_naive_images_and_logits(filters, n_block, n_resnet, size):
    model = scaled_model(filters, n_block, n_resnet, size=size, seed=filters)
    n = 3 if size < 32 else 2
    a, la = sample_naive(model, n=n, size=size, seed=11, return_logits=True)
    b, lb = sample_cached(model, n=n, size=size, seed=11, return_logits=True)
    assert np.array_equal(a, b)
    np.testing.assert_allclose(la, lb, atol=1e-4, rtol=0)
    assert 0.05 < a.mean() < 0.95, "degenerate samples would make the comparison weak"


def test_cached_equals_naive_at_64x64():
    model = scaled_model(4, 1, 1, size=64, seed=2)
    a, la = sample_naive(model, n=2, size=64, seed=5, return_logits=True)
    b, lb = sample_cached(model, n=2, size=64, seed=5, return_logits=True)
    assert np.array_equal(a, b)
    np.testing.assert_allclose(la, lb, atol=1e-4, rtol=0)


def test_completion_keeps_given_pixels_and_agrees(small):
    rng = np.random.default_rng(0)
    given = (rng.random((3, 10, 10)) > 0.5).astype(np.float32)
    mask = np.zeros((3, 10, 10), bool)
    mask[:, :5] = True
    a, la = sample_naive(small, n=3, size=10, seed=1, given=given, given_mask=mask, return_logits=True)
    b, lb = sample_cached(small, n=3, size=10, seed=1, given=given, given_mask=mask, return_logits=True)
    assert np.array_equal(a[:, :5], given[:, :5]) and np.array_equal(a, b)
    np.testing.assert_allclose(la[:, 5:], lb[:, 5:], atol=1e-4)
    assert np.isnan(la[:, :5]).all(), "the naive sampler runs no forward pass for given rows"


def test_temperature_sharpens(small):
    hot = sample_cached(small, n=8, size=10, seed=0, temperature=5.0)
    cold = sample_cached(small, n=8, size=10, seed=0, temperature=0.05)
    # Near zero temperature every image follows the most likely pixel, so images agree with each other.
    assert np.mean(cold != cold[:1]) < np.mean(hot != hot[:1])
    with pytest.raises(ValueError, match="temperature"):
        sample_cached(small, n=1, size=10, temperature=0.0)


def test_sample_dispatch_and_errors(small):
    assert np.array_equal(sample(small, n=2, size=10, seed=4), sample_cached(small, n=2, size=10, seed=4))
    with pytest.raises(ValueError, match="unknown sampling method"):
        sample(small, n=1, size=10, method="fast")


def test_cache_memory_is_two_rows_per_layer_and_does_not_leak(small):
    # 2 resnets x 2 convolutions x (2 rows + one row of partial sums) + the first layer's encoded rows.
    n, size, f = 4, 10, 8
    per_conv_in = 2 * n * (size + 1) * f * 4
    assert cache_nbytes(small, n, size) == pytest.approx(
        2 * (per_conv_in + n * size * f * 4) + 2 * (per_conv_in + n * size * 2 * f * 4)
        + 2 * n * (size + 2) * 2 * 4 + n * size * f * 4)
    sample_cached(small, n=n, size=size, seed=0)
    tracemalloc.start()
    try:
        sample_cached(small, n=n, size=size, seed=0)
        first, _ = tracemalloc.get_traced_memory()
        for _ in range(5):
            sample_cached(small, n=n, size=size, seed=0)
        last, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert last - first < 64 * 1024
