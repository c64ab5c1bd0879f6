"""The embedded calligraphy dataset, its splits, the tf.data pipeline and the image-folder loader."""

import hashlib
import json

import numpy as np
import pytest
from PIL import Image

from pixelcnn_lib import data
from pixelcnn_lib.data import DataError


# Characters and splits --------------------------------------------------------------------------------


def test_gb2312_level1_has_3755_characters_in_gb2312_order():
    chars = data.gb2312_level1()
    assert len(chars) == 3755 == len(set(chars))
    assert chars[0] == "啊" and chars[-1] == "座"  # 0xB0A1 and 0xD7F9, the last assigned slot
    codes = [c.encode("gb2312") for c in chars]
    assert codes == sorted(codes)


def test_split_of_is_sha256_of_the_character():
    for char in ("啊", "座", "永", "书"):
        bucket = int.from_bytes(hashlib.sha256(char.encode("utf-8")).digest()[:8], "big") % 10
        assert data.split_of(char) == ("train" if bucket < 8 else "val" if bucket == 8 else "test")


def test_split_fractions_are_about_80_10_10():
    splits = [data.split_of(c) for c in data.gb2312_level1()]
    n = len(splits)
    assert 0.77 < splits.count("train") / n < 0.83
    assert 0.08 < splits.count("val") / n < 0.12
    assert 0.08 < splits.count("test") / n < 0.12


# The shipped dataset -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def d32():
    return data.load_calligraphy(32)


@pytest.fixture(scope="module")
def d64():
    return data.load_calligraphy(64)


@pytest.fixture(scope="module")
def manifest():
    return json.loads(data.MANIFEST_PATH.read_text(encoding="utf-8"))


def test_shipped_files_fit_the_size_budget_and_match_the_manifest(manifest):
    npz = data.DATASET_PATH
    assert npz.stat().st_size + data.MANIFEST_PATH.stat().st_size <= 12 * 2**20
    assert hashlib.sha256(npz.read_bytes()).hexdigest() == manifest["npz_sha256"]
    with np.load(npz) as z:
        assert z["images64"].shape[1:] == (64, 8) and z["images32"].shape[1:] == (32, 4)
        assert z["font"].dtype == np.int8 and z["style"].dtype == np.int8 and z["split"].dtype == np.int8
        assert z["char"].dtype == np.int32 and z["font_names"].dtype.kind == "U"


@pytest.mark.parametrize("size", [32, 64])
def test_loaded_arrays_have_documented_shapes_and_dtypes(size, manifest, request):
    d = request.getfixturevalue(f"d{size}")
    n = sum(f["glyphs_kept"] for f in manifest["fonts"])
    assert len(d) == n and d.size == size
    assert d.images.shape == (n, size, size) and d.images.dtype == np.uint8
    assert set(np.unique(d.images)) == {0, 1}
    assert d.font.shape == d.style.shape == d.char.shape == d.split.shape == (n,)
    assert d.font.dtype == np.int8 and d.style.dtype == np.int8
    assert d.char.dtype.kind == "U" and d.split.dtype.kind == "U"
    assert set(np.unique(d.split)) == set(data.SPLITS)
    assert d.font_names == tuple(f["name"] for f in manifest["fonts"])
    assert d.style_names == data.STYLES
    assert not d.images.flags.writeable  # shared by the cache


@pytest.mark.parametrize("size", [32, 64])
def test_every_image_has_ink_and_none_touches_the_margin(size, request):
    d = request.getfixturevalue(f"d{size}")
    assert d.images.reshape(len(d), -1).any(axis=1).all()
    m = size // 16  # the 16 px canvas margin: nothing was clipped
    assert not d.images[:, :m].any() and not d.images[:, -m:].any()
    assert not d.images[:, :, :m].any() and not d.images[:, :, -m:].any()


def test_both_sizes_describe_the_same_images(d32, d64):
    for name in ("font", "style", "char", "split"):
        np.testing.assert_array_equal(getattr(d32, name), getattr(d64, name))


def test_order_is_font_then_gb2312(d32):
    assert np.all(np.diff(d32.font) >= 0)
    position = {c: i for i, c in enumerate(data.gb2312_level1())}
    for f in np.unique(d32.font):
        pos = [position[c] for c in d32.char[d32.font == f]]
        assert pos == sorted(pos) and len(set(pos)) == len(pos)


def test_split_is_by_character_and_the_same_in_every_font(d32):
    expected = np.array([data.split_of(c) for c in d32.char])
    np.testing.assert_array_equal(d32.split, expected)
    by_split = {s: set(d32.char[d32.split == s]) for s in data.SPLITS}
    assert not by_split["train"] & by_split["val"]
    assert not by_split["train"] & by_split["test"]
    assert not by_split["val"] & by_split["test"]
    for f in np.unique(d32.font):
        of_font = d32.font == f
        assert dict(zip(d32.char[of_font], d32.split[of_font])) == {
            c: data.split_of(c) for c in d32.char[of_font]
        }


def test_style_follows_font(d32):
    for f in np.unique(d32.font):
        assert len(np.unique(d32.style[d32.font == f])) == 1


def test_load_is_cached_and_filters(d32):
    assert data.load_calligraphy(32) is d32
    test = data.load_calligraphy(32, split="test")
    assert set(test.split) == {"test"} and len(test) == np.sum(d32.split == "test")
    cursive = data.load_calligraphy(32, styles="cursive")
    assert set(cursive.style_names[s] for s in cursive.style) == {"cursive"}
    two = data.load_calligraphy(32, split=["val", "test"], fonts=["long-cang", "Ma Shan Zheng"])
    assert {two.font_names[f] for f in two.font} == {"Long Cang", "Ma Shan Zheng"}
    assert set(two.split) == {"val", "test"}
    assert two.font_names == d32.font_names  # indices stay valid in a selection


@pytest.mark.parametrize("kwargs", [{"split": "dev"}, {"styles": "seal"}, {"fonts": "Comic Sans"}, {"size": 48}])
def test_load_rejects_unknown_selections(kwargs):
    with pytest.raises(DataError):
        data.load_calligraphy(**{"size": 32, **kwargs})


def test_load_names_a_missing_file(tmp_path):
    missing = tmp_path / "nope.npz"
    with pytest.raises(DataError, match="nope.npz"):
        data.load_calligraphy(path=missing)


def test_subset_keeps_labels_aligned(d32):
    mask = d32.char == "永"
    sub = d32.subset(mask)
    assert len(sub) == mask.sum() == len(d32.font_names)
    np.testing.assert_array_equal(sub.images, d32.images[mask])
    assert set(sub.char) == {"永"}
    with pytest.raises(DataError):
        d32.subset(mask[:-1])


def test_describe_counts_fonts_styles_and_splits(d32):
    text = data.describe()
    for name in d32.font_names + d32.style_names + data.SPLITS:
        assert name in text
    assert str(len(d32)) in text
    assert "Long Cang" in data.describe(data.load_calligraphy(32, fonts="long-cang"))


# tf.data ------------------------------------------------------------------------------------------------


def _batches(ds):
    return [tuple(np.asarray(t) for t in (x, y)) for x, y in ds]


def test_make_dataset_yields_float_pairs_in_batches():
    images = (np.arange(10 * 4 * 4).reshape(10, 4, 4) % 3 == 0).astype(np.uint8)
    batches = _batches(data.make_dataset(images, batch_size=4, shuffle=False))
    assert [b[0].shape for b in batches] == [(4, 4, 4, 1), (4, 4, 4, 1), (2, 4, 4, 1)]
    for x, y in batches:
        assert x.dtype == np.float32 and set(np.unique(x)) <= {0.0, 1.0}
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches])[..., 0], images)


def test_make_dataset_shuffles_deterministically_per_seed():
    images = np.eye(16, dtype=np.uint8)[:, None, :].repeat(2, axis=1)  # image k has ink at column k

    def order(seed, epochs=1):
        ds = data.make_dataset(images, batch_size=5, seed=seed, repeat=epochs > 1)
        xs = np.concatenate([x for x, _ in _batches(ds.take(int(np.ceil(16 * epochs / 5))))])
        return xs[: 16 * epochs, 0, :, 0].argmax(axis=1)

    first = order(0)
    assert sorted(first) == list(range(16))  # every image once per epoch
    np.testing.assert_array_equal(first, order(0))
    assert not np.array_equal(first, order(1))
    two = order(0, epochs=2)
    np.testing.assert_array_equal(two[:16], first)
    assert sorted(two[16:]) == list(range(16)) and not np.array_equal(two[16:], first)


def test_make_dataset_with_labels_and_calligraphy_data(d32):
    small = d32.subset(np.arange(0, len(d32), 997))
    (x, y), target = next(iter(data.make_dataset(small, batch_size=8, labels=small.style)))
    assert x.shape == (8, 32, 32, 1) and y.shape == (8,) and y.dtype.name == "int32"
    np.testing.assert_array_equal(np.asarray(x), np.asarray(target))


def test_make_dataset_rejects_bad_input():
    with pytest.raises(DataError):
        data.make_dataset(np.zeros((3, 4)))
    with pytest.raises(DataError):
        data.make_dataset(np.zeros((3, 4, 4)), labels=np.zeros(2))


# Folders of scans -----------------------------------------------------------------------------------------


def _scan(w, h, ink_box, dark_ink=True):
    """A grey page (uint8 (h, w)) with a filled rectangle of ink, the way a photographed character looks."""
    page = np.full((h, w), 235 if dark_ink else 20, dtype=np.uint8)
    x0, y0, x1, y1 = ink_box
    page[y0:y1, x0:x1] = 30 if dark_ink else 225
    return page


@pytest.fixture
def scans(tmp_path):
    root = tmp_path / "scans"
    (root / "kaishu").mkdir(parents=True)
    (root / "caoshu").mkdir()
    bar = _scan(80, 50, (20, 20, 60, 30))  # wide, non-square, a horizontal bar in the middle
    colour = np.stack([bar, bar // 2 + 100, bar], axis=-1)
    Image.fromarray(colour, "RGB").save(root / "kaishu" / "a.jpg", quality=95)
    Image.fromarray(bar).save(root / "kaishu" / "b.png")
    Image.fromarray(bar).convert("RGB").save(root / "kaishu" / "c.BMP")
    Image.fromarray(_scan(80, 50, (20, 20, 60, 30), dark_ink=False)).save(root / "caoshu" / "inverted.png")
    Image.fromarray(bar.astype(np.uint16) * 257).save(root / "caoshu" / "sixteen_bit.png")
    (root / "caoshu" / ".DS_Store").write_bytes(b"\0\1")
    return root


def test_image_folder_loads_labels_shapes_and_ink(scans):
    d = data.load_image_folder(scans, size=32)
    assert d.images.shape == (5, 32, 32) and d.images.dtype == np.uint8
    assert d.style_names == d.font_names == ("caoshu", "kaishu")
    assert list(d.style) == [0, 0, 1, 1, 1] and list(d.font) == list(d.style)
    assert set(d.char) == {"?"} and set(d.split) <= set(data.SPLITS)
    assert "kaishu" in data.describe(scans) and "caoshu" in data.describe(d)
    # 80x50 scaled by 32/80: the bar spans x 8..24, y 8..12 of a 20-row picture centred in 32 rows.
    expected = np.zeros((32, 32), dtype=np.uint8)
    expected[14:18, 8:24] = 1
    for image in d.images:  # dark ink on paper or light on dark; colour, grey, 16-bit grey, BMP: all alike
        assert image.sum() == pytest.approx(expected.sum(), abs=8)
        assert (image & expected).sum() >= expected.sum() - 8
        assert image[0].sum() == image[-1].sum() == image[:, 0].sum() == 0


def test_image_folder_is_deterministic_and_honours_a_threshold(scans):
    a, b = data.load_image_folder(scans, size=16), data.load_image_folder(scans, size=16, threshold=0.9)
    np.testing.assert_array_equal(a.images, data.load_image_folder(scans, size=16).images)
    np.testing.assert_array_equal(a.split, data.load_image_folder(scans, size=16).split)
    assert b.images.sum() <= a.images.sum()


def test_image_folder_turns_images_upright(tmp_path):
    (tmp_path / "s").mkdir()
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: stored sideways, displayed rotated by 90 degrees
    Image.fromarray(_scan(60, 60, (10, 25, 50, 35))).save(tmp_path / "s" / "x.jpg", exif=exif, quality=95)
    image = data.load_image_folder(tmp_path, size=30).images[0]
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    assert len(rows) > 3 * len(cols)  # the horizontal bar became vertical


def _one_line_error(path, fragment):
    with pytest.raises(DataError) as info:
        data.load_image_folder(path)
    message = str(info.value)
    assert "\n" not in message and str(fragment) in message
    return message


def test_image_folder_errors_name_the_path(tmp_path, scans):
    _one_line_error(tmp_path / "missing", tmp_path / "missing")
    (tmp_path / "file.png").write_bytes(b"x")
    _one_line_error(tmp_path / "file.png", tmp_path / "file.png")
    (tmp_path / "empty").mkdir()
    _one_line_error(tmp_path / "empty", tmp_path / "empty")
    (tmp_path / "nosub" / "style").mkdir(parents=True)
    _one_line_error(tmp_path / "nosub", tmp_path / "nosub" / "style")


@pytest.mark.parametrize(
    "name, content",
    [("kaishu/broken.png", b"not a png at all"), ("kaishu/truncated.jpg", None), ("kaishu/notes.txt", b"hi"),
     ("stray.jpg", None), ("kaishu/nested/d.png", None)],
)
def test_bad_entries_raise_naming_them(scans, name, content):
    path = scans / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if content is None:
        Image.fromarray(_scan(40, 40, (5, 5, 30, 30))).save(path)
        if name.endswith("truncated.jpg"):
            path.write_bytes(path.read_bytes()[:200])
    else:
        path.write_bytes(content)
    offending = path.parent if name.endswith("d.png") else path
    _one_line_error(scans, offending)
