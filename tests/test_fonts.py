"""The font registry, glyph rendering, and rebuilding part of the shipped dataset bit for bit.

The rebuild needs Ma Shan Zheng from npm (``npm install --prefix .fonts @fontsource/ma-shan-zheng@5.3.1``)
and skips, saying so, when it is not installed.
"""

import dataclasses
import json

import numpy as np
import pytest
from PIL import __version__ as pillow_version
from PIL import features

from pixelcnn_lib import data, fonts
from pixelcnn_lib.fonts import FontNotFoundError, GlyphNotInFontError

REBUILT_FONT = "ma-shan-zheng"


@pytest.fixture(scope="module")
def ma_shan_zheng():
    try:
        return fonts.find_font(REBUILT_FONT)
    except FontNotFoundError as e:
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def manifest():
    return json.loads(data.MANIFEST_PATH.read_text(encoding="utf-8"))


def test_registry_is_consistent():
    assert len({s.key for s in fonts.FONTS}) == len(fonts.FONTS) >= 6
    for spec in fonts.FONTS:
        assert spec.key == data.font_key(spec.name)
        assert spec.style in data.STYLES and spec.source in ("npm", "debian")
        assert spec.licence in ("OFL-1.1", "Arphic-1999")
        assert 0 < spec.em_px <= fonts.CANVAS
    assert {s.style for s in fonts.FONTS} == set(data.STYLES)
    assert fonts.get_spec("Ma Shan Zheng") is fonts.get_spec("ma-shan-zheng")
    for size in data.SIZES:
        assert fonts.CANVAS % size == 0 and 0 < fonts.THRESHOLDS[size] < 1


def test_manifest_records_every_font_and_the_build(manifest):
    assert [f["key"] for f in manifest["fonts"]] == [s.key for s in fonts.FONTS]
    for entry, spec in zip(manifest["fonts"], fonts.FONTS):
        assert entry["package"] == spec.package and entry["style"] == spec.style
        assert entry["licence"] == spec.licence and len(entry["licence_sha256"]) == 64
        assert len(entry["files"]["sha256"]) == 64
        if spec.source == "npm":
            assert entry["version"] == spec.version and entry["files"]["count"] > 0
        assert entry["glyphs_kept"] + sum(entry["glyphs_dropped"].values()) == manifest["characters"]["count"]
    build = manifest["build"]
    assert build["canvas_px"] == fonts.CANVAS
    assert build["thresholds"] == {str(k): v for k, v in fonts.THRESHOLDS.items()}
    assert build["pillow"] and build["freetype"]


def test_a_missing_font_names_itself_and_its_install_command(tmp_path):
    npm = dataclasses.replace(fonts.get_spec(REBUILT_FONT), package="@fontsource/no-such-font")
    with pytest.raises(FontNotFoundError) as info:
        fonts.find_font(npm, fonts_dir=tmp_path)
    message = str(info.value)
    assert "Ma Shan Zheng" in message and str(tmp_path) in message
    assert "npm install --prefix .fonts @fontsource/no-such-font@5.3.1" in message

    debian = dataclasses.replace(fonts.get_spec("ar-pl-ukai"), files=str(tmp_path / "ukai.ttc"))
    with pytest.raises(FontNotFoundError, match="apt-get install fonts-arphic-ukai"):
        fonts.find_font(debian)


def test_a_wrong_npm_version_is_not_used(ma_shan_zheng):
    wanted = dataclasses.replace(ma_shan_zheng.spec, version="0.0.1")
    with pytest.raises(FontNotFoundError, match=f"found version {ma_shan_zheng.version}"):
        fonts.find_font(wanted)


def test_render_glyph_returns_binary_images(ma_shan_zheng):
    images = fonts.render_glyph(ma_shan_zheng, "永")
    assert sorted(images) == sorted(data.SIZES)
    for size, image in images.items():
        assert image.shape == (size, size) and image.dtype == np.uint8
        assert set(np.unique(image)) == {0, 1}
    with pytest.raises(GlyphNotInFontError):
        fonts.render_glyph(ma_shan_zheng, "\ue000")
    with pytest.raises(ValueError, match="threshold"):
        fonts.render_glyph(ma_shan_zheng, "永", sizes=(16,))


def test_build_rejects_characters_outside_gb2312_level1(tmp_path):
    with pytest.raises(ValueError, match="GB2312"):
        fonts.build_dataset(tmp_path, fonts=[REBUILT_FONT], chars=["A"], progress=False)


def _slice_chars():
    """40 characters spread over GB2312 level 1, with at least 5 from each split."""
    chars = data.gb2312_level1()
    picked = {s: [c for c in chars[7::17] if data.split_of(c) == s] for s in data.SPLITS}
    return picked["train"][:20] + picked["val"][:10] + picked["test"][:10]


def test_rebuilding_a_slice_reproduces_the_shipped_bits(ma_shan_zheng, manifest, tmp_path):
    build = manifest["build"]
    here = {"pillow": pillow_version, "freetype": features.version("freetype2")}
    if any(build[k] != v for k, v in here.items()):
        pytest.skip(f"the dataset was rendered with Pillow {build['pillow']} / FreeType {build['freetype']}, "
                    f"this is Pillow {here['pillow']} / FreeType {here['freetype']}: bits may differ")
    chars = _slice_chars()
    assert {data.split_of(c) for c in chars} == set(data.SPLITS) and len(chars) == 40
    npz = fonts.build_dataset(tmp_path, fonts=[REBUILT_FONT], chars=chars, progress=False)
    for size in data.SIZES:
        rebuilt = data.load_calligraphy(size, path=npz)
        shipped = data.load_calligraphy(size, fonts=ma_shan_zheng.spec.name)
        shipped = shipped.subset(np.isin(shipped.char, chars))
        assert rebuilt.font_names == (ma_shan_zheng.spec.name,)
        np.testing.assert_array_equal(rebuilt.char, shipped.char)
        np.testing.assert_array_equal(rebuilt.split, shipped.split)
        np.testing.assert_array_equal(rebuilt.style, shipped.style)
        np.testing.assert_array_equal(rebuilt.images, shipped.images, err_msg=f"{size}x{size} images differ")
    entry = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["fonts"][0]
    assert entry["glyphs_kept"] == 40 and entry["version"] == ma_shan_zheng.spec.version
    # A rebuild writes the same bytes: zip entries carry no time stamps.
    first = npz.read_bytes()
    assert fonts.build_dataset(tmp_path, fonts=[REBUILT_FONT], chars=chars, progress=False).read_bytes() == first
