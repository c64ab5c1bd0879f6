"""The seed model: shapes, causality of the whole network, its pinned blind spot, save/load."""

import keras
import numpy as np
import pytest

from pixelcnn_lib.layers import dependency_map
from pixelcnn_lib.model import PixelCNN, build_model, count_2x2_layers, encode_inputs, receptive_field


@pytest.fixture(scope="module")
def model():
    return build_model(filters=8, n_block=2, n_resnet=1, size=12, seed=1)


def test_shapes_and_parameters(model):
    x = np.zeros((3, 12, 12, 1), "float32")
    assert model(x).shape == (3, 12, 12, 1)
    assert model(np.zeros((1, 20, 9, 1), "float32")).shape == (1, 20, 9, 1)  # fully convolutional
    assert model.count_params() == build_model(8, 2, 1, size=32).count_params()


def test_encoding_distinguishes_padding_from_paper():
    enc = keras.ops.convert_to_numpy(encode_inputs(np.array([0.0, 1.0]).reshape(1, 1, 2, 1)))
    assert enc[0, 0].tolist() == [[-1.0, 1.0], [1.0, 1.0]]  # padding would read (0, 0)


@pytest.mark.parametrize("i,j", [(0, 0), (0, 11), (1, 0), (5, 5), (11, 3), (3, 11), (11, 11)])
def test_whole_model_is_causal_and_sees_exactly_its_receptive_field(model, i, j):
    seen = dependency_map(lambda x: model(x), (12, 12, 1), i, j)
    order = np.arange(144).reshape(12, 12)
    assert not np.any(seen & (order >= i * 12 + j)), "output depends on the current or a later pixel"
    np.testing.assert_array_equal(seen, receptive_field(count_2x2_layers(model), i, j, 12, 12))


def test_blind_spot_is_everything_up_and_right_of_column_j_plus_1(model):
    """The seed's single stack never sees pixels above and more than one column to the right.

    Pinned because the course teaches it: PixelCNN++ and the gated PixelCNN add a vertical stack to fix it.
    """
    i, j = 8, 4
    seen = dependency_map(lambda x: model(x), (12, 12, 1), i, j)
    before = np.arange(144).reshape(12, 12) < i * 12 + j
    blind = before & ~seen
    assert blind[:i, j + 2 :].all(), "pixels up-right of (i, j+1) should all be invisible"
    assert seen[i - 1, j + 1] and seen[i, j - 1] and seen[i - 1, j]
    assert not blind[i - 4 : i, j - 3 : j + 2].any(), "near pixels above and to the left are all seen"


def test_save_load_round_trip_gives_identical_logits(model, tmp_path):
    x = (np.random.default_rng(0).random((2, 12, 12, 1)) > 0.6).astype("float32")
    path = tmp_path / "pixelcnn.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, PixelCNN)
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model(x)), keras.ops.convert_to_numpy(loaded(x)))


def test_same_seed_same_weights():
    a = build_model(8, 1, 1, size=8, seed=5).get_weights()
    b = build_model(8, 1, 1, size=8, seed=5).get_weights()
    c = build_model(8, 1, 1, size=8, seed=6).get_weights()
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not all(np.array_equal(u, v) for u, v in zip(a, c))
