"""Likelihood in the units the course uses.

A PixelCNN for black/white images gives every pixel a Bernoulli probability ``p = sigmoid(logit)``. The
negative log-likelihood of an image is the sum over its pixels of the binary cross-entropy, in *nats* (natural
log). Dividing by the number of pixels and by ln 2 gives *bits per dimension* (bits/dim): the average number
of bits an ideal arithmetic coder driven by the model would spend per pixel. A fair coin costs 1 bit/dim.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from pixelcnn_lib.layers import PACKAGE

LN2 = math.log(2.0)


def bce_from_logits(targets, logits):
    """Per-pixel binary cross-entropy in nats, numerically stable. Same shape as the inputs, float32."""
    targets = ops.cast(targets, "float32")
    logits = ops.cast(logits, "float32")
    # max(l, 0) - l*t + log(1 + exp(-|l|)) never overflows.
    return ops.maximum(logits, 0.0) - logits * targets + ops.log1p(ops.exp(-ops.abs(logits)))


@keras.saving.register_keras_serializable(package=PACKAGE)
class BitsPerDim(keras.metrics.Mean):
    """Mean negative log-likelihood in bits/dim of binary targets under per-pixel logits."""

    def __init__(self, name="bits_per_dim", **kwargs):
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        return super().update_state(bce_from_logits(y_true, y_pred) / LN2, sample_weight=sample_weight)


def pixel_accuracy():
    """Per-pixel accuracy of predicting ``logit > 0`` (that is, p > 1/2) against the true pixel."""
    return keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)


def uniform_bits_per_dim() -> float:
    """A fair coin per pixel: exactly 1 bit/dim, whatever the data."""
    return 1.0


def bernoulli_baseline_bits_per_dim(train_images, test_images, eps: float = 1e-3) -> float:
    """Bits/dim of ``test_images`` under independent per-pixel Bernoulli variables fitted to ``train_images``.

    Each pixel's probability of ink is its mean over the training images (clipped to [eps, 1-eps] so that a
    pixel never inked in training does not cost infinitely many bits). Images: ``(N, H, W)`` in {0, 1}.
    """
    p = np.clip(np.asarray(train_images, dtype=np.float64).mean(axis=0), eps, 1.0 - eps)
    x = np.asarray(test_images, dtype=np.float64)
    nll = -(x * np.log(p) + (1.0 - x) * np.log(1.0 - p))
    return float(nll.mean() / LN2)


def per_pixel_bits(model, images, batch_size: int = 64) -> np.ndarray:
    """Surprise map: bits each pixel of each image costs under ``model``. ``(N, H, W)`` in -> same, float32."""
    images = np.asarray(images, dtype=np.float32)
    out = []
    for k in range(0, len(images), batch_size):
        x = images[k : k + batch_size, ..., None]
        out.append(ops.convert_to_numpy(bce_from_logits(x, model(x, training=False)))[..., 0] / LN2)
    return np.concatenate(out, axis=0).astype(np.float32)
