"""Causal building blocks of a PixelCNN, as serializable Keras 3 layers.

All tensors are channels-last, ``(batch, height, width, channels)``, float32. "Causal" means: in raster order
(row by row, left to right), the output at pixel (i, j) may depend only on inputs at pixels that come *before*
(i, j) -- or, for the layers used after the first one, at (i, j) itself too, because by then position (i, j)
holds features that were computed from strictly earlier pixels.

Two ways to get there are implemented:

- masked convolutions (van den Oord et al., 2016): a normal "same" convolution whose kernel is multiplied by
  a 0/1 mask (type A hides the centre, type B keeps it);
- shifted convolutions (Salimans et al., 2017, PixelCNN++): pad only at the top (and left), run a "valid"
  convolution, and shift the result down (or right) by one pixel. No weight is ever multiplied by zero, so no
  compute is wasted on masked-out taps.
"""

from __future__ import annotations

import keras
from keras import layers, ops

PACKAGE = "pixelcnn_lib"


def down_shift(x):
    """Move every row down by one: row 0 becomes zeros, the last row falls off.

    ``(B, H, W, C) -> (B, H, W, C)``. Afterwards position (i, j) holds what was at (i-1, j), so it can no
    longer see anything in row i.
    """
    return ops.pad(x, [[0, 0], [1, 0], [0, 0], [0, 0]])[:, :-1, :, :]


def right_shift(x):
    """Move every column right by one: column 0 becomes zeros, the last column falls off.

    ``(B, H, W, C) -> (B, H, W, C)``. Afterwards position (i, j) holds what was at (i, j-1).
    """
    return ops.pad(x, [[0, 0], [0, 0], [1, 0], [0, 0]])[:, :, :-1, :]


@keras.saving.register_keras_serializable(package=PACKAGE)
class DownShift(layers.Layer):
    """Layer form of :func:`down_shift`."""

    def call(self, x):
        return down_shift(x)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package=PACKAGE)
class RightShift(layers.Layer):
    """Layer form of :func:`right_shift`."""

    def call(self, x):
        return right_shift(x)

    def compute_output_shape(self, input_shape):
        return input_shape


class _PaddedConv2D(layers.Layer):
    """A 'valid' convolution after asymmetric zero padding; subclasses choose the padding."""

    def __init__(self, filters: int, kernel_size=(2, 3), **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = tuple(int(k) for k in kernel_size)
        self.conv = layers.Conv2D(self.filters, self.kernel_size, padding="valid", name="conv")

    def padding(self):
        """((top, bottom), (left, right)) zero padding in pixels."""
        raise NotImplementedError

    def build(self, input_shape):
        (top, bottom), (left, right) = self.padding()
        b, h, w, c = input_shape
        padded = (b, None if h is None else h + top + bottom, None if w is None else w + left + right, c)
        self.conv.build(padded)

    def call(self, x):
        (top, bottom), (left, right) = self.padding()
        x = ops.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]])
        return self.conv(x)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": list(self.kernel_size)}


@keras.saving.register_keras_serializable(package=PACKAGE)
class DownShiftedConv2D(_PaddedConv2D):
    """Convolution whose output at (i, j) sees rows i-kh+1..i and columns j-(kw-1)//2..j+(kw-1)//2.

    Padding ``kh-1`` rows on top only (and the width's half on each side) makes the window end at the
    current row: nothing *below* row i is seen. Rows at or above i, to the left *and right*, are seen, so
    this is causal only when followed by :func:`down_shift` (as in the first layer) or when row i holds
    features of earlier pixels. ``(B, H, W, C_in) -> (B, H, W, filters)``; ``kw`` must be odd.
    """

    def __init__(self, filters: int, kernel_size=(2, 3), **kwargs):
        super().__init__(filters, kernel_size, **kwargs)
        if self.kernel_size[1] % 2 != 1:
            raise ValueError(f"DownShiftedConv2D needs an odd kernel width, got kernel_size={self.kernel_size}")

    def padding(self):
        kh, kw = self.kernel_size
        return (kh - 1, 0), ((kw - 1) // 2, (kw - 1) // 2)


@keras.saving.register_keras_serializable(package=PACKAGE)
class DownRightShiftedConv2D(_PaddedConv2D):
    """Convolution whose output at (i, j) sees rows i-kh+1..i and columns j-kw+1..j: up and to the left.

    Padding on top and on the left only. Nothing below row i and nothing right of column j is seen; (i, j)
    itself is seen, so the first layer follows it with :func:`right_shift`.
    ``(B, H, W, C_in) -> (B, H, W, filters)``.
    """

    def __init__(self, filters: int, kernel_size=(2, 2), **kwargs):
        super().__init__(filters, kernel_size, **kwargs)

    def padding(self):
        kh, kw = self.kernel_size
        return (kh - 1, 0), (kw - 1, 0)


def causal_mask(kernel_size, mask_type: str):
    """0/1 mask of shape ``(kh, kw)`` for a masked convolution centred on (kh//2, kw//2).

    Type "A" keeps the rows above the centre and the pixels left of it (the first layer: a pixel must not
    see itself). Type "B" also keeps the centre (later layers: the centre holds features of earlier pixels).
    """
    import numpy as np

    if mask_type not in ("A", "B"):
        raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}")
    kh, kw = kernel_size
    if kh % 2 != 1 or kw % 2 != 1:
        raise ValueError(f"masked convolutions need odd kernel sizes, got {kernel_size}")
    mask = np.zeros((kh, kw), dtype="float32")
    ci, cj = kh // 2, kw // 2
    mask[:ci, :] = 1.0
    mask[ci, :cj] = 1.0
    if mask_type == "B":
        mask[ci, cj] = 1.0
    return mask


@keras.saving.register_keras_serializable(package=PACKAGE)
class MaskedConv2D(layers.Layer):
    """A "same" convolution whose kernel is multiplied by :func:`causal_mask` on every call.

    For one-channel (black/white) images the mask is the same for every input and output channel.
    ``(B, H, W, C_in) -> (B, H, W, filters)``.
    """

    def __init__(self, filters: int, kernel_size=(3, 3), mask_type: str = "B", **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = tuple(int(k) for k in kernel_size)
        self.mask_type = mask_type
        self.mask = causal_mask(self.kernel_size, mask_type)

    def build(self, input_shape):
        c_in = input_shape[-1]
        self.kernel = self.add_weight(
            name="kernel", shape=(*self.kernel_size, c_in, self.filters), initializer="glorot_uniform"
        )
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")

    def call(self, x):
        kernel = self.kernel * ops.convert_to_tensor(self.mask)[:, :, None, None]
        return ops.conv(x, kernel, padding="same") + self.bias

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "mask_type": self.mask_type,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class GatedResnet(layers.Layer):
    """PixelCNN++'s gated residual block on one causal stream.

    ``h = conv1(elu(x)); h = dropout(elu(h)); a, b = split(conv2(h)); return x + a * sigmoid(b)``

    Both convolutions are :class:`DownRightShiftedConv2D` (2x2 by default), so the block is causal with the
    centre included (type-B-like) and grows the receptive field by ``kh-1`` rows up and ``kw-1`` columns
    left per convolution. The sigmoid gate lets each channel decide how much of ``a`` to let through; the
    residual path keeps gradients flowing through deep stacks. ``(B, H, W, filters) -> same``.
    """

    def __init__(self, filters: int, dropout: float = 0.0, kernel_size=(2, 2), **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.dropout = float(dropout)
        self.kernel_size = tuple(int(k) for k in kernel_size)
        self.conv1 = DownRightShiftedConv2D(self.filters, self.kernel_size, name="conv1")
        self.drop = layers.Dropout(self.dropout, name="dropout")
        self.conv2 = DownRightShiftedConv2D(2 * self.filters, self.kernel_size, name="conv2")

    def build(self, input_shape):
        if input_shape[-1] != self.filters:
            raise ValueError(f"GatedResnet({self.filters}) got {input_shape[-1]} input channels")
        self.conv1.build(input_shape)
        self.conv2.build((*input_shape[:-1], self.filters))

    def call(self, x, training=None):
        h = ops.elu(self.conv1(ops.elu(x)))
        h = self.drop(h, training=training)
        a, b = ops.split(self.conv2(h), 2, axis=-1)
        return x + a * ops.sigmoid(b)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "dropout": self.dropout,
            "kernel_size": list(self.kernel_size),
        }


def dependency_map(fn, input_shape, i: int, j: int, seed: int = 0):
    """Which input pixels output pixel (i, j) of ``fn`` depends on, measured by gradients.

    ``fn`` maps a ``(1, H, W, C)`` float32 tensor to ``(1, H, W, C_out)``; ``input_shape`` is ``(H, W, C)``.
    The gradient of the sum of the output's channels at (i, j) with respect to a random input is taken;
    a pixel counts as seen when any of its channels has a non-zero gradient. Exact zeros are what causality
    promises: a masked or shifted-away input contributes nothing, not merely a little.

    Returns a ``(H, W)`` bool NumPy array.
    """
    import numpy as np
    import tensorflow as tf

    x = tf.constant(np.random.default_rng(seed).normal(size=(1, *input_shape)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
        target = tf.reduce_sum(y[0, i, j, :])
    grad = tape.gradient(target, x)
    if grad is None:
        return np.zeros(input_shape[:2], dtype=bool)
    return np.any(grad.numpy()[0] != 0, axis=-1)
