"""The seed's PixelCNN: one causal stream of shifted convolutions and gated residual blocks.

The seed blog post's forward pass, line by line::

    x = down_move(down_moved_conv2d(inputs)) + right_move(down_right_moved_conv2d(inputs))
    for i in range(n_block):
        for j in range(n_resnet):
            x = gated_resnet[i * n_resnet + j](x)
        x = dense_layer[i](x)
    x = elu(x)
    x = out_dense(x)

maps onto :class:`PixelCNN` below. The first two convolutions use the kernel sizes of openai/pixel-cnn's
"up-left" stream, (1, 3) and (2, 1). The output is one logit per pixel: ``p(x_ij = 1 | x_<ij) =
sigmoid(logit_ij)``.
"""

from __future__ import annotations

import itertools

import keras
import numpy as np
from keras import layers, ops

from pixelcnn_lib.layers import PACKAGE, DownRightShiftedConv2D, DownShiftedConv2D, GatedResnet, down_shift, right_shift


def encode_inputs(x):
    """Map a binary image to the network's input channels.

    ``(B, H, W, 1)`` float32 in {0, 1} -> ``(B, H, W, 2)``: the pixel as -1 (paper) / +1 (ink), and a channel
    of ones. The shifted convolutions pad with zeros; with this encoding a padded position reads (0, 0),
    which no real pixel does, so the network can tell the image border from blank paper.
    """
    x = ops.cast(x, "float32")
    return ops.concatenate([2.0 * x - 1.0, ops.ones_like(x)], axis=-1)


@keras.saving.register_keras_serializable(package=PACKAGE)
class PixelCNN(keras.Model):
    """The seed's single-stream PixelCNN for black/white images.

    Args:
        filters: channels of every hidden layer.
        n_block: number of blocks; each is ``n_resnet`` :class:`GatedResnet` layers then a dense (1x1) layer.
        n_resnet: gated residual blocks per block.
        dropout: dropout rate inside the gated residual blocks (training only).

    Call: ``(B, H, W, 1)`` float32 in {0, 1} (ink = 1) -> ``(B, H, W, 1)`` float32 logits. Any H and W work:
    the network is fully convolutional.
    """

    def __init__(self, filters: int = 64, n_block: int = 3, n_resnet: int = 2, dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.n_block = int(n_block)
        self.n_resnet = int(n_resnet)
        self.dropout = float(dropout)
        self.down_shifted_conv = DownShiftedConv2D(self.filters, (1, 3), name="down_shifted_conv")
        self.down_right_shifted_conv = DownRightShiftedConv2D(self.filters, (2, 1), name="down_right_shifted_conv")
        self.gated_resnets = [
            GatedResnet(self.filters, self.dropout, name=f"gated_resnet_{i}_{j}")
            for i, j in itertools.product(range(self.n_block), range(self.n_resnet))
        ]
        self.dense_layers = [layers.Dense(self.filters, name=f"dense_{i}") for i in range(self.n_block)]
        self.out_dense = layers.Dense(1, name="out_dense")

    def build(self, input_shape):
        b, h, w, _ = input_shape
        self.down_shifted_conv.build((b, h, w, 2))
        self.down_right_shifted_conv.build((b, h, w, 2))
        hidden = (b, h, w, self.filters)
        for layer in [*self.gated_resnets, *self.dense_layers, self.out_dense]:
            layer.build(hidden)

    def call(self, inputs, training=None):
        x = encode_inputs(inputs)
        x = down_shift(self.down_shifted_conv(x)) + right_shift(self.down_right_shifted_conv(x))
        for i in range(self.n_block):
            for j in range(self.n_resnet):
                x = self.gated_resnets[i * self.n_resnet + j](x, training=training)
            x = self.dense_layers[i](x)
        x = ops.elu(x)
        return self.out_dense(x)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "n_block": self.n_block,
            "n_resnet": self.n_resnet,
            "dropout": self.dropout,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def build_model(filters=64, n_block=3, n_resnet=2, dropout=0.0, size=32, seed=None) -> PixelCNN:
    """A built :class:`PixelCNN` for ``size`` x ``size`` images; ``seed`` fixes the initial weights."""
    if seed is not None:
        keras.utils.set_random_seed(seed)
    model = PixelCNN(filters=filters, n_block=n_block, n_resnet=n_resnet, dropout=dropout)
    model.build((None, size, size, 1))
    return model


def receptive_field(n_layers_2x2: int, i: int, j: int, height: int, width: int) -> np.ndarray:
    """Which input pixels the seed model's output at (i, j) can depend on, derived from its wiring.

    The first layer sees row i-1 at columns j-1..j+1 (a (1, 3) convolution shifted down) and (i-1, j-1),
    (i, j-1) (a (2, 1) convolution shifted right). Each of the ``n_layers_2x2`` down-right 2x2 convolutions
    (two per gated resnet) adds "one row up and/or one column left". Nothing ever reaches further right than
    column j+1, which is the seed model's *blind spot*: the pixels up and to the right are invisible.

    Returns a ``(height, width)`` bool array, True where the input can influence output (i, j).
    """
    first = [(-1, -1), (-1, 0), (-1, 1), (-1, -1), (0, -1)]
    seen = np.zeros((height, width), dtype=bool)
    for a in range(n_layers_2x2 + 1):
        for b in range(n_layers_2x2 + 1):
            for di, dj in first:
                r, c = i - a + di, j - b + dj
                if 0 <= r < height and 0 <= c < width:
                    seen[r, c] = True
    return seen


def count_2x2_layers(model: PixelCNN) -> int:
    """Number of 2x2 down-right convolutions a signal passes through: two per gated resnet."""
    return 2 * len(model.gated_resnets)
