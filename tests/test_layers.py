"""Causality of every layer, measured with gradients (after TFP's pixel_cnn_test), and serialization."""

import keras
import numpy as np
import pytest

from pixelcnn_lib.layers import (
    DownRightShiftedConv2D,
    DownShift,
    DownShiftedConv2D,
    GatedResnet,
    MaskedConv2D,
    RightShift,
    causal_mask,
    dependency_map,
    down_shift,
    right_shift,
)

H, W = 7, 8
PIXELS = [(0, 0), (0, 5), (3, 0), (3, 4), (6, 7)]


def raster_after(i, j, at=True):
    """Bool (H, W) map of pixels at-or-after (at=True) / strictly after (at=False) (i, j) in raster order."""
    idx = np.arange(H * W).reshape(H, W)
    return idx >= i * W + j if at else idx > i * W + j


def test_shifts_move_rows_and_columns():
    x = np.arange(2 * 3 * 3).reshape(1, 3, 3, 2).astype("float32")
    d = keras.ops.convert_to_numpy(down_shift(x))
    r = keras.ops.convert_to_numpy(right_shift(x))
    assert np.all(d[:, 0] == 0) and np.array_equal(d[:, 1:], x[:, :-1])
    assert np.all(r[:, :, 0] == 0) and np.array_equal(r[:, :, 1:], x[:, :, :-1])
    assert np.array_equal(keras.ops.convert_to_numpy(DownShift()(x)), d)
    assert np.array_equal(keras.ops.convert_to_numpy(RightShift()(x)), r)


STRICT = {
    "down_shift(DownShiftedConv2D 2x3)": lambda: (lambda c: lambda x: down_shift(c(x)))(DownShiftedConv2D(4, (2, 3))),
    "right_shift(DownRightShiftedConv2D 2x2)": lambda: (lambda c: lambda x: right_shift(c(x)))(
        DownRightShiftedConv2D(4, (2, 2))),
    "MaskedConv2D A 5x5": lambda: MaskedConv2D(4, (5, 5), "A"),
}
INCLUSIVE = {
    "DownRightShiftedConv2D 2x2": lambda: DownRightShiftedConv2D(4, (2, 2)),
    "MaskedConv2D B 3x3": lambda: MaskedConv2D(4, (3, 3), "B"),
    "GatedResnet": lambda: GatedResnet(3),
}


@pytest.mark.parametrize("name", sorted(STRICT))
def test_strictly_causal_layers_never_see_the_current_or_later_pixels(name):
    fn = STRICT[name]()
    for i, j in PIXELS:
        seen = dependency_map(fn, (H, W, 3), i, j)
        assert not np.any(seen & raster_after(i, j, at=True)), (name, i, j)
        if i > 0 and j > 0:  # a down shift blinds row 0, a right shift column 0
            assert seen.any(), f"{name} at {(i, j)} sees nothing: the test would pass vacuously"


@pytest.mark.parametrize("name", sorted(INCLUSIVE))
def test_type_b_layers_see_the_current_pixel_but_nothing_later(name):
    fn = INCLUSIVE[name]()
    for i, j in PIXELS:
        seen = dependency_map(fn, (H, W, 3), i, j)
        assert seen[i, j], (name, i, j)
        assert not np.any(seen & raster_after(i, j, at=False)), (name, i, j)


def test_down_shifted_conv_alone_sees_the_right_neighbour_which_is_why_it_is_shifted():
    seen = dependency_map(DownShiftedConv2D(4, (2, 3)), (H, W, 3), 3, 4)
    assert seen[3, 5] and not seen[4:].any()
    expected = np.zeros((H, W), bool)
    expected[2:4, 3:6] = True
    assert np.array_equal(seen, expected)


def test_masks():
    a, b = causal_mask((3, 3), "A"), causal_mask((3, 3), "B")
    assert a.tolist() == [[1, 1, 1], [1, 0, 0], [0, 0, 0]]
    assert b.tolist() == [[1, 1, 1], [1, 1, 0], [0, 0, 0]]
    with pytest.raises(ValueError, match="mask_type"):
        causal_mask((3, 3), "C")
    with pytest.raises(ValueError, match="odd"):
        causal_mask((2, 3), "A")


@pytest.mark.parametrize("make", [
    lambda: DownShiftedConv2D(5, (2, 3)),
    lambda: DownRightShiftedConv2D(5, (2, 2)),
    lambda: MaskedConv2D(5, (3, 3), "A"),
    lambda: GatedResnet(3, dropout=0.1),
    lambda: DownShift(),
    lambda: RightShift(),
], ids=["down_shifted", "down_right_shifted", "masked", "gated_resnet", "down_shift", "right_shift"])
def test_layers_round_trip_through_keras_serialization(make, tmp_path):
    x = np.random.default_rng(0).normal(size=(2, H, W, 3)).astype("float32")
    inputs = keras.Input((H, W, 3))
    model = keras.Model(inputs, make()(inputs))
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert type(loaded.layers[-1]) is type(model.layers[-1])
    assert loaded.layers[-1].get_config() == model.layers[-1].get_config()
