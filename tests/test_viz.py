"""Pictures: dependency-map categories and plots, image grids, PNG writing, the style sheet."""

import numpy as np
import pytest
from PIL import Image

from pixelcnn_lib import viz
from pixelcnn_lib.data import CalligraphyData
from pixelcnn_lib.viz import BLIND, CHEAT, LATER, NOT_SEEN, SEEN


@pytest.fixture
def agg():
    """matplotlib with the non-interactive Agg backend; closes every pyplot figure afterwards."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


# Dependency categories ------------------------------------------------------------------------------------


def test_dependency_categories_sorts_every_pixel_of_a_small_map():
    # a 3x4 map, output pixel (1, 2): earlier = row 0 and (1, 0), (1, 1)
    seen = np.zeros((3, 4), dtype=bool)
    seen[0, 1] = seen[1, 1] = True  # two earlier pixels seen
    blind = np.zeros((3, 4), dtype=bool)
    blind[0, 3] = True  # one earlier pixel in the blind spot
    expected = np.array([[NOT_SEEN, SEEN, NOT_SEEN, BLIND],
                         [NOT_SEEN, SEEN, LATER, LATER],
                         [LATER, LATER, LATER, LATER]])
    cat = viz.dependency_categories(seen, 1, 2, blind=blind)
    assert cat.shape == (3, 4) and np.issubdtype(cat.dtype, np.integer)
    assert np.array_equal(cat, expected)
    # without a blind spot, the blind pixel is simply an earlier pixel not seen
    expected[0, 3] = NOT_SEEN
    assert np.array_equal(viz.dependency_categories(seen, 1, 2), expected)


def test_dependency_categories_flags_the_pixel_itself_and_later_pixels_that_are_seen():
    seen = np.zeros((3, 3), dtype=bool)
    seen[1, 1] = seen[2, 0] = seen[0, 0] = True  # itself, a later pixel, an earlier pixel
    cat = viz.dependency_categories(seen, 1, 1)
    assert cat[1, 1] == CHEAT and cat[2, 0] == CHEAT and cat[0, 0] == SEEN
    assert (cat == CHEAT).sum() == 2
    # a seen pixel is SEEN or CHEAT whatever the blind spot says; the blind spot never covers later pixels
    blind = np.ones((3, 3), dtype=bool)
    cat = viz.dependency_categories(seen, 1, 1, blind=blind)
    assert cat[0, 0] == SEEN and cat[1, 1] == CHEAT and cat[2, 0] == CHEAT
    assert cat[0, 1] == BLIND and cat[1, 2] == LATER and cat[2, 2] == LATER


def test_dependency_categories_at_the_first_pixel_has_nothing_earlier():
    cat = viz.dependency_categories(np.zeros((2, 2), dtype=bool), 0, 0)
    assert np.array_equal(cat, np.full((2, 2), LATER))


def test_dependency_categories_rejects_bad_shapes():
    with pytest.raises(ValueError):
        viz.dependency_categories(np.zeros((2, 2, 1), dtype=bool), 0, 0)
    with pytest.raises(ValueError):
        viz.dependency_categories(np.zeros((2, 2), dtype=bool), 2, 0)
    with pytest.raises(ValueError):
        viz.dependency_categories(np.zeros((2, 2), dtype=bool), 1, 1, blind=np.zeros((3, 3), dtype=bool))


def test_category_colours_and_names_cover_every_category():
    assert len(viz.CATEGORY_COLOURS) == len(viz.CATEGORY_NAMES) == 5
    assert sorted((NOT_SEEN, SEEN, BLIND, LATER, CHEAT)) == list(range(5))


# Image grid ---------------------------------------------------------------------------------------------


def test_image_grid_shape_padding_and_placement():
    images = np.stack([np.full((2, 3), k / 10, dtype=np.float32) for k in range(1, 6)])  # 5 images, 2x3
    grid = viz.image_grid(images, ncols=3, pad=1, pad_value=0.5)
    assert grid.dtype == np.float32
    assert grid.shape == (2 * (2 + 1) + 1, 3 * (3 + 1) + 1)  # 2 rows of 3
    for k in range(5):
        r, c = divmod(k, 3)
        y, x = 1 + r * 3, 1 + c * 4
        np.testing.assert_allclose(grid[y : y + 2, x : x + 3], (k + 1) / 10, rtol=1e-6)
    # padding: the borders, the gaps between tiles, and the empty sixth tile
    assert np.all(grid[0] == 0.5) and np.all(grid[:, 0] == 0.5) and np.all(grid[3] == 0.5)
    assert np.all(grid[:, 4] == 0.5)
    assert np.all(grid[4:6, 9:12] == 0.5)


def test_image_grid_accepts_a_channel_axis_and_defaults_to_a_square():
    images = np.ones((4, 5, 5, 1))
    grid = viz.image_grid(images, pad=0)
    assert grid.shape == (10, 10) and np.all(grid == 1)
    with pytest.raises(ValueError):
        viz.image_grid(np.ones((5, 5)))


# PNG writing ----------------------------------------------------------------------------------------------


def test_save_png_draws_ink_black_and_leaves_no_temporary_file(tmp_path):
    a = np.zeros((2, 3), dtype=np.float32)
    a[0, 0] = 1.0  # ink
    a[1, 2] = 0.5
    path = viz.save_png(a, tmp_path / "sub" / "x.png", scale=2)
    assert path == tmp_path / "sub" / "x.png"
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["x.png"]  # no .tmp-* left behind
    with Image.open(path) as im:
        assert im.format == "PNG" and im.mode == "L" and im.size == (6, 4)
        pixels = np.asarray(im)
    assert np.all(pixels[:2, :2] == 0)  # ink is black
    assert np.all(pixels[:2, 2:] == 255)  # paper is white
    assert np.all(pixels[2:, 4:] == 128)
    viz.save_png(a, tmp_path / "white.png", ink_black=False)
    with Image.open(tmp_path / "white.png") as im:
        assert np.asarray(im)[0, 0] == 255
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub", "white.png"]


# Plots ----------------------------------------------------------------------------------------------------


def test_plot_dependency_map_and_legend_draw_on_small_inputs(agg):
    seen = np.zeros((5, 6), dtype=bool)
    seen[1, 1:4] = seen[3, 5] = True
    blind = np.zeros((5, 6), dtype=bool)
    blind[0, 4:] = True
    fig, axes = agg.subplots(1, 2)
    assert viz.plot_dependency_map(axes[0], seen, 2, 3, title="plain", blind=blind) is axes[0]
    background = np.random.default_rng(0).random((5, 6))
    viz.plot_dependency_map(axes[1], seen, 2, 3, blind=blind, background=background, grid=False)
    assert axes[0].get_title() == "plain" and axes[1].get_title() == ""
    assert len(axes[0].images) == 1 and len(axes[1].images) == 2  # the overlay sits on the background
    overlay = axes[1].images[1].get_array()
    assert overlay.shape == (5, 6, 4)
    assert overlay[0, 0, 3] == 0.0 and overlay[1, 1, 3] == pytest.approx(0.6)  # "not seen" left uncoloured
    legend = viz.dependency_legend(fig, [SEEN, NOT_SEEN, BLIND, LATER, CHEAT], ncol=2, alpha=0.6)
    assert [t.get_text() for t in legend.get_texts()] == [viz.CATEGORY_NAMES[c] for c in (1, 0, 2, 3, 4)]
    fig.canvas.draw()
    with pytest.raises(ValueError):
        viz.plot_dependency_map(axes[1], seen, 2, 3, background=np.zeros((6, 5)))


def test_style_sheet_draws_one_row_per_font(agg):
    rng = np.random.default_rng(0)
    chars = np.array(list("永字八法") * 2)
    images = (rng.random((8, 8, 8)) < 0.3).astype(np.uint8)
    small = CalligraphyData(images=images, font=np.repeat(np.array([0, 1], dtype=np.int8), 4),
                            style=np.repeat(np.array([0, 1], dtype=np.int8), 4), char=chars,
                            split=np.array(["train"] * 8), font_names=("Font A", "Font B"),
                            style_names=("regular", "running"))
    fig = viz.style_sheet(small, n_chars=3, seed=0)
    assert len(fig.axes) == 2 * 3
    assert fig.axes[0].get_ylabel() == "Font A\nregular" and fig.axes[3].get_ylabel() == "Font B\nrunning"
    fig.canvas.draw()
