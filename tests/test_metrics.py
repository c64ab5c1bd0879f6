"""Units: nats, bits/dim, baselines."""

import math

import keras
import numpy as np

from pixelcnn_lib.metrics import BitsPerDim, bce_from_logits, bernoulli_baseline_bits_per_dim, per_pixel_bits


def test_bce_matches_keras_and_the_definition():
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=5, size=(4, 6, 6, 1)).astype("float32")
    x = (rng.random((4, 6, 6, 1)) > 0.5).astype("float32")
    ours = keras.ops.convert_to_numpy(bce_from_logits(x, logits))
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    direct = -(x * np.log(p) + (1 - x) * np.log(1 - p))
    np.testing.assert_allclose(ours, direct, rtol=1e-5, atol=1e-6)
    keras_mean = float(keras.losses.BinaryCrossentropy(from_logits=True)(x, logits))
    np.testing.assert_allclose(ours.mean(), keras_mean, rtol=1e-5)
    assert np.isfinite(keras.ops.convert_to_numpy(bce_from_logits(np.ones(1), np.array([-1e4])))).all()


def test_a_fair_coin_costs_one_bit_per_pixel():
    m = BitsPerDim()
    m.update_state(np.ones((2, 4, 4, 1)), np.zeros((2, 4, 4, 1)))
    assert math.isclose(float(m.result()), 1.0, rel_tol=1e-6)


def test_bernoulli_baseline():
    train = np.zeros((10, 2, 2))
    train[:5, 0, 0] = 1  # pixel (0,0) inked half the time, the others never
    test = np.zeros((1, 2, 2))
    test[0, 0, 0] = 1
    expected = (1.0 + 3 * -math.log2(1 - 1e-3)) / 4
    assert math.isclose(bernoulli_baseline_bits_per_dim(train, test), expected, rel_tol=1e-9)


def test_per_pixel_bits_shape_and_mean():
    model = lambda x, training=False: np.zeros_like(x)  # noqa: E731  a model that always says p = 1/2
    bits = per_pixel_bits(model, np.ones((3, 5, 5)), batch_size=2)
    assert bits.shape == (3, 5, 5)
    np.testing.assert_allclose(bits, 1.0, rtol=1e-6)
