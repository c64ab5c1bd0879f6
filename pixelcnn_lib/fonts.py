"""Rendering the embedded calligraphy dataset from openly licensed fonts installed by package name.

The registry :data:`FONTS` names each font's npm or Debian package and version; :func:`find_font` locates
an installed one, :func:`render_glyph` draws one character, and :func:`build_dataset` writes
``datasets/calligraphy.npz`` and ``datasets/manifest.json`` (see :mod:`pixelcnn_lib.data` for the fields).

How a glyph becomes a binary image (:func:`render_glyph`):

1. FreeType (through Pillow, anti-aliased) draws the glyph at the font's ``em_px`` on a 256 px canvas.
   Rendering this large keeps hairline strokes: at 32 px, an 8x8 block of the canvas becomes one pixel.
2. The glyph is centred by its ink's bounding box, not by the font's advance and baseline: calligraphy
   fonts place glyphs very unevenly in their em box, and a PixelCNN should spend its capacity on strokes,
   not on where a character sits.
3. Each font is drawn at one natural size (``em_px``, chosen so that a median character's ink spans about
   75% of the canvas in every font), so that characters keep their relative sizes (一 stays flat, 口 small,
   a character with many strokes large) and fonts look alike in scale. Only a glyph whose ink would not fit
   inside a 16 px margin (2 px at 32x32) is drawn smaller, at the largest size that fits: it is never
   clipped. The manifest records how many glyphs were shrunk.
4. The canvas is area-averaged down (the mean ink coverage of each 4x4 or 8x8 block, as ``Image.reduce``
   computes, but in exact integers) and thresholded: a pixel is ink when at least ``THRESHOLDS[size]`` of
   its block is covered.

Everything is deterministic: the same fonts, Pillow and FreeType give the same bits.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pixelcnn_lib.data import DATASET_DIR, SIZES, SPLITS, STYLES, font_key, gb2312_level1, split_of

#: Render canvas side in pixels; a multiple of every output size, so that area averaging is exact.
CANVAS = 256
#: Blank margin around the ink on the canvas (px): 4 px at 64x64, 2 px at 32x32.
MARGIN = 16
#: Minimum ink coverage of a block for its pixel to be ink, per output size, chosen by looking at contact
#: sheets of every font and counting strokes that break (connected components at 32 or 64 px versus 128 px):
#: the cursive and running fonts join strokes with hairlines a few canvas pixels wide, which cover less
#: than half of a 4x4 block and much less of an 8x8 one. At 64x64, 0.5 broke the hairlines of about one
#: cursive character in four and 0.4 of one in ten, with strokes barely heavier. At 32x32, 0.4 broke
#: one cursive character in three, 0.3 one in twelve (and almost none in the other fonts), while 0.25
#: fills the counters of dense characters (矗, 攘) with ink.
THRESHOLDS = {64: 0.4, 32: 0.3}

_REPO_ROOT = Path(__file__).resolve().parents[1]
_LICENCE_MARKERS = {
    "OFL-1.1": ("SIL OPEN FONT LICENSE", "VERSION 1.1"),
    "Arphic-1999": ("ARPHIC PUBLIC LICENSE",),
}


@dataclass(frozen=True)
class FontSpec:
    """One font of the registry.

    Attributes:
        key: registry key, ``data.font_key(name)``.
        name: display name, as stored in the dataset's ``font_names``.
        style: "regular" (kaishu), "running" (xingshu) or "cursive" (caoshu).
        source: "npm" or "debian".
        package: package name (``@fontsource/...`` or ``fonts-...``).
        version: package version the dataset was built from (npm: required; Debian: recorded).
        files: npm: glob of the font files inside the package; Debian: absolute path of the font file.
        licence: SPDX licence id, checked against the package's licence text.
        em_px: font size in pixels on the :data:`CANVAS`.
        face: face name inside a font collection (.ttc), or None.
    """

    key: str
    name: str
    style: str
    source: str
    package: str
    version: str
    files: str
    licence: str
    em_px: int
    face: str | None = None

    @property
    def install_command(self) -> str:
        if self.source == "npm":
            return f"npm install --prefix .fonts {self.package}@{self.version}"
        return f"apt-get install {self.package}"


def _fontsource(key: str, name: str, style: str, version: str, em_px: int) -> FontSpec:
    return FontSpec(key, name, style, "npm", f"@fontsource/{key}", version, f"files/{key}-*-400-normal.woff2",
                    "OFL-1.1", em_px)


#: The fonts of the embedded dataset, in the order of its ``font`` indices. ``em_px`` puts the median
#: character's ink extent near 192 px of the 256 px canvas (measured over the 3,755 characters).
FONTS: tuple[FontSpec, ...] = (
    _fontsource("ma-shan-zheng", "Ma Shan Zheng", "regular", "5.3.1", em_px=211),
    FontSpec("ar-pl-ukai", "AR PL UKai", "regular", "debian", "fonts-arphic-ukai", "0.2.20080216.2-5",
             "/usr/share/fonts/truetype/arphic/ukai.ttc", "Arphic-1999", em_px=218, face="AR PL UKai CN"),
    FontSpec("lxgw-wenkai", "LXGW WenKai", "regular", "debian", "fonts-lxgw-wenkai", "1.250+repack-1",
             "/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf", "OFL-1.1", em_px=209),
    _fontsource("zhi-mang-xing", "Zhi Mang Xing", "running", "5.3.0", em_px=232),
    _fontsource("long-cang", "Long Cang", "running", "5.3.0", em_px=214),
    _fontsource("liu-jian-mao-cao", "Liu Jian Mao Cao", "cursive", "5.3.0", em_px=204),
)


class FontNotFoundError(FileNotFoundError):
    """A registry font is not installed; the message names the font and the command that installs it."""


class GlyphNotInFontError(LookupError):
    """The font has no glyph for the character (it is not in the font's cmap)."""


@dataclass(frozen=True)
class InstalledFont:
    """A registry font found on this machine.

    Attributes:
        spec: the registry entry.
        files: the font files, in lookup order (npm: numbered Unicode-range subsets first).
        face_index: face of a collection (0 for single fonts).
        version: installed package version.
        licence_file: the package's licence (npm ``LICENSE``, Debian ``copyright``).
    """

    spec: FontSpec
    files: tuple[Path, ...]
    face_index: int
    version: str
    licence_file: Path


def get_spec(font) -> FontSpec:
    """The registry entry of a FontSpec, InstalledFont, key or display name."""
    if isinstance(font, InstalledFont):
        return font.spec
    if isinstance(font, FontSpec):
        return font
    for spec in FONTS:
        if font_key(str(font)) == spec.key:
            return spec
    raise ValueError(f"unknown font {font!r}; registry fonts: {[s.key for s in FONTS]}")


def font_search_dirs(fonts_dir=None) -> list[Path]:
    """Folders searched for npm font packages, in order: ``fonts_dir``, $PIXELCNN_FONTS_DIR, ./.fonts and
    the repository's .fonts. A package is looked for at ``<dir>/node_modules/<package>`` and ``<dir>/<package>``.
    """
    dirs = [Path(fonts_dir)] if fonts_dir is not None else []
    if os.environ.get("PIXELCNN_FONTS_DIR"):
        dirs.append(Path(os.environ["PIXELCNN_FONTS_DIR"]))
    dirs += [Path.cwd() / ".fonts", _REPO_ROOT / ".fonts"]
    unique = []
    for d in dirs:
        if d.resolve() not in [u.resolve() for u in unique]:
            unique.append(d)
    return unique


def find_font(spec, fonts_dir=None) -> InstalledFont:
    """Locate an installed registry font.

    Args:
        spec: FontSpec, key ("ma-shan-zheng") or display name ("Ma Shan Zheng").
        fonts_dir: searched first for npm packages (see :func:`font_search_dirs`). Debian fonts are read
            from their system path.

    Raises:
        FontNotFoundError: naming the font, where it was looked for and the install command.
    """
    spec = get_spec(spec)
    if spec.source == "npm":
        return _find_npm(spec, fonts_dir)
    return _find_debian(spec)


def _not_found(spec: FontSpec, detail: str) -> FontNotFoundError:
    return FontNotFoundError(
        f"font {spec.name!r} ({spec.source} package {spec.package} {spec.version}) not found: {detail}; "
        f"install it with: {spec.install_command}"
    )


def _find_npm(spec: FontSpec, fonts_dir) -> InstalledFont:
    looked, wrong = [], []
    for d in font_search_dirs(fonts_dir):
        for pkg_dir in (d / "node_modules" / spec.package, d / spec.package):
            looked.append(str(pkg_dir))
            try:
                version = json.loads((pkg_dir / "package.json").read_text(encoding="utf-8"))["version"]
            except (OSError, ValueError, KeyError):
                continue
            if version != spec.version:
                wrong.append(f"version {version} at {pkg_dir}")
                continue
            files = sorted(pkg_dir.glob(spec.files), key=_subset_order)
            if not files:
                raise _not_found(spec, f"{pkg_dir} has no files matching {spec.files}")
            return InstalledFont(spec, tuple(files), 0, version, pkg_dir / "LICENSE")
    found = f" (found {', '.join(wrong)})" if wrong else ""
    raise _not_found(spec, f"looked in {', '.join(looked)}{found}")


def _subset_order(path: Path):
    # fontsource splits a font into numbered Unicode-range subsets, which together cover the whole font,
    # plus named ones (latin, chinese-simplified) that repeat some of its glyphs: numbered ones come first.
    m = re.search(r"-(\d+)-\d+-normal\.woff2$", path.name)
    return (0, int(m.group(1)), path.name) if m else (1, 0, path.name)


def _find_debian(spec: FontSpec) -> InstalledFont:
    path = Path(spec.files)
    if not path.is_file():
        raise _not_found(spec, f"no file {path}")
    return InstalledFont(spec, (path,), _face_index(path, spec.face), _dpkg_version(spec.package),
                         Path("/usr/share/doc") / spec.package / "copyright")


def _face_index(path: Path, face: str | None) -> int:
    if face is None:
        return 0
    from fontTools.ttLib import TTCollection

    with TTCollection(str(path), lazy=True) as collection:
        names = [f["name"].getDebugName(4) for f in collection.fonts]
    if face not in names:
        raise FontNotFoundError(f"face {face!r} not in {path} (it has {names})")
    return names.index(face)


def _dpkg_version(package: str) -> str:
    try:
        status = Path("/var/lib/dpkg/status").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "unknown"
    for stanza in status.split("\n\n"):
        if re.search(rf"^Package: {re.escape(package)}$", stanza, re.M):
            m = re.search(r"^Version: (\S+)$", stanza, re.M)
            return m.group(1) if m else "unknown"
    return "unknown"


class _Glyphs:
    """Which file of an installed font draws each character, and Pillow faces for those files."""

    def __init__(self, font: InstalledFont):
        from fontTools.ttLib import TTFont

        self.font = font
        self.file_of: dict[int, int] = {}
        for i, path in enumerate(font.files):
            with TTFont(str(path), fontNumber=font.face_index if path.suffix == ".ttc" else -1, lazy=True) as tt:
                for codepoint in tt.getBestCmap():
                    self.file_of.setdefault(codepoint, i)
        self._faces = {}

    def face(self, char: str, em_px: int):
        """The Pillow face that draws ``char`` at ``em_px`` pixels per em."""
        if ord(char) not in self.file_of:
            raise GlyphNotInFontError(f"{self.font.spec.name} has no glyph for {char!r} (U+{ord(char):04X})")
        key = (self.file_of[ord(char)], em_px)
        if em_px != self.font.spec.em_px:  # a shrunk glyph: sizes too varied to be worth caching
            return self._load(*key)
        if key not in self._faces:
            self._faces[key] = self._load(*key)
        return self._faces[key]

    def _load(self, file_index: int, em_px: int):
        from PIL import ImageFont

        return ImageFont.truetype(str(self.font.files[file_index]), em_px, index=self.font.face_index,
                                  layout_engine=ImageFont.Layout.BASIC)


@functools.lru_cache(maxsize=8)
def _glyphs(font: InstalledFont) -> _Glyphs:
    return _Glyphs(font)


def _draw_ink(face, char: str) -> np.ndarray | None:
    """uint8 coverage (0-255) of one glyph cropped to its ink's bounding box, or None when it draws nothing."""
    from PIL import Image, ImageDraw

    left, top, right, bottom = face.getbbox(char)
    pad = 2
    im = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 0)
    ImageDraw.Draw(im).text((pad - left, pad - top), char, font=face, fill=255)
    a = np.asarray(im)
    rows, cols = np.flatnonzero(a.any(axis=1)), np.flatnonzero(a.any(axis=0))
    if rows.size == 0:
        return None
    if rows[0] == 0 or cols[0] == 0 or rows[-1] == a.shape[0] - 1 or cols[-1] == a.shape[1] - 1:
        raise RuntimeError(f"{char!r} drew beyond the bounding box FreeType reported; its ink may be clipped")
    return a[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def render_canvas(font, char: str, fonts_dir=None) -> tuple[np.ndarray, int]:
    """One glyph centred on the render canvas.

    Returns:
        (coverage, em_px): uint8 (CANVAS, CANVAS) ink coverage 0-255 (all 0 for a glyph without ink), and the
        font size in pixels it was drawn at (below the font's ``em_px`` when shrunk to fit the margin).

    Raises:
        GlyphNotInFontError: the font does not map ``char``.
    """
    installed = font if isinstance(font, InstalledFont) else find_font(font, fonts_dir)
    glyphs = _glyphs(installed)
    em = installed.spec.em_px
    fit = CANVAS - 2 * MARGIN
    canvas = np.zeros((CANVAS, CANVAS), dtype=np.uint8)
    ink = _draw_ink(glyphs.face(char, em), char)
    if ink is None:
        return canvas, em
    while max(ink.shape) > fit:
        # Ink does not scale exactly with the em (hinting, rounding), hence the loop.
        em = min(em - 1, int(em * fit / max(ink.shape)))
        ink = _draw_ink(glyphs.face(char, em), char)
    h, w = ink.shape
    y, x = (CANVAS - h) // 2, (CANVAS - w) // 2
    canvas[y : y + h, x : x + w] = ink
    return canvas, em


def downsample(coverage: np.ndarray, size: int, threshold: float) -> np.ndarray:
    """Area-average a (CANVAS, CANVAS) uint8 coverage canvas to (size, size) and binarize.

    Returns:
        uint8 (size, size) in {0, 1}: 1 where the block's mean coverage is at least ``threshold`` (0-1).
    """
    if CANVAS % size:
        raise ValueError(f"size must divide the {CANVAS} px canvas, got {size}")
    f = CANVAS // size
    block_sums = coverage.reshape(size, f, size, f).sum(axis=(1, 3), dtype=np.int64)
    return (block_sums >= threshold * 255 * f * f).astype(np.uint8)


def render_glyph(font, char: str, sizes=SIZES, thresholds=None, fonts_dir=None) -> dict[int, np.ndarray]:
    """Draw one character of a registry font as binary images.

    Args:
        font: FontSpec, InstalledFont, key or display name; pass the InstalledFont from :func:`find_font`
            when drawing many characters, to look the font up once.
        char: one character.
        sizes: output sides in pixels, each dividing :data:`CANVAS`.
        thresholds: {size: coverage threshold}; default :data:`THRESHOLDS`.
        fonts_dir: where to look for npm fonts first (see :func:`find_font`).

    Returns:
        {size: uint8 (size, size) array in {0, 1}, ink = 1}; all 0 when the font's glyph draws nothing.

    Raises:
        FontNotFoundError, GlyphNotInFontError, ValueError (a size without a threshold).
    """
    thresholds = THRESHOLDS if thresholds is None else thresholds
    missing = [s for s in sizes if s not in thresholds]
    if missing:
        raise ValueError(f"no threshold for sizes {missing}; pass thresholds={{size: fraction}}")
    coverage, _ = render_canvas(font, char, fonts_dir)
    return {s: downsample(coverage, s, thresholds[s]) for s in sizes}


def licence_info(font: InstalledFont) -> dict:
    """The package's licence, checked: id, licence file, its SHA-256 and the copyright line.

    Raises:
        ValueError: the licence text is missing or is not the licence the registry states.
    """
    path = font.licence_file
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ValueError(f"cannot read the licence of {font.spec.name} at {path}: {e}") from e
    text = raw.decode("utf-8", errors="replace")
    flat = " ".join(text.upper().split())
    if not all(marker in flat for marker in _LICENCE_MARKERS[font.spec.licence]):
        raise ValueError(f"{path} does not contain the {font.spec.licence} licence that the registry states")
    m = re.search(r"Copyright:?[ \t]*(?:\([cC]\)|©)?[ \t]*\n?[ \t]*(\d{4}[^\n]*)", text)
    return {
        "licence": font.spec.licence,
        "licence_file": path.name if font.spec.source == "npm" else str(path),
        "licence_sha256": hashlib.sha256(raw).hexdigest(),
        "copyright": m.group(1).strip() if m else None,
    }


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _ordered_chars(chars) -> list[str]:
    level1 = gb2312_level1()
    if chars is None:
        return level1
    position = {c: i for i, c in enumerate(level1)}
    chars = set(chars)
    if not chars:
        raise ValueError("no characters to draw")
    outside = sorted(c for c in chars if c not in position)
    if outside:
        raise ValueError(f"not GB2312 level-1 characters: {''.join(outside[:20])!r}")
    return sorted(chars, key=position.__getitem__)


def build_dataset(out_dir=DATASET_DIR, fonts=None, chars=None, fonts_dir=None, progress: bool = True) -> Path:
    """Render the dataset and write ``calligraphy.npz`` and ``manifest.json`` into ``out_dir``, atomically.

    Args:
        out_dir: destination folder (default: the library's ``datasets`` folder, the shipped dataset).
        fonts: registry fonts (keys, names or FontSpecs) in the order of the ``font`` index; None: all.
        chars: characters to draw (GB2312 level 1, stored in GB2312 order); None: all 3,755.
        fonts_dir: where to look for npm fonts first (see :func:`find_font`).
        progress: show a tqdm progress bar.

    Glyphs that the font does not map, or that leave no ink at some size, are dropped and counted in the
    manifest. Every font is located, and its licence checked, before anything is drawn.

    Returns:
        Path of the npz.
    """
    from PIL import __version__ as pillow_version
    from PIL import features
    from fontTools import version as fonttools_version
    from tqdm import tqdm

    specs = [get_spec(f) for f in fonts] if fonts is not None else list(FONTS)
    chars = _ordered_chars(chars)
    installed = [find_font(s, fonts_dir) for s in specs]
    licences = [licence_info(f) for f in installed]
    split_index = {s: i for i, s in enumerate(SPLITS)}

    images = {s: [] for s in SIZES}
    font_idx, style_idx, codepoints, splits, font_entries = [], [], [], [], []
    bar = tqdm(total=len(specs) * len(chars), disable=not progress, unit="glyph", desc="rendering")
    for f, (font, licence) in enumerate(zip(installed, licences)):
        bar.set_postfix_str(font.spec.name)
        glyphs = _glyphs(font)
        dropped = {"not_in_font": [], "no_ink": []}
        used_files, shrunk, kept = set(), 0, 0
        for char in chars:
            bar.update()
            if ord(char) not in glyphs.file_of:
                dropped["not_in_font"].append(char)
                continue
            coverage, em = render_canvas(font, char)
            small = {s: downsample(coverage, s, THRESHOLDS[s]) for s in SIZES}
            if not all(a.any() for a in small.values()):
                dropped["no_ink"].append(char)
                continue
            kept += 1
            shrunk += em != font.spec.em_px
            used_files.add(font.files[glyphs.file_of[ord(char)]])
            for s in SIZES:
                images[s].append(small[s])
            font_idx.append(f)
            style_idx.append(STYLES.index(font.spec.style))
            codepoints.append(ord(char))
            splits.append(split_index[split_of(char)])
        font_entries.append(_font_entry(font, licence, used_files, kept, shrunk, dropped))
    bar.close()
    if not codepoints:
        raise ValueError(f"no glyph drew ink: {font_entries}")

    arrays = {
        **{f"images{s}": np.packbits(np.stack(images[s]).astype(np.uint8), axis=-1) for s in SIZES},
        "font": np.asarray(font_idx, dtype=np.int8),
        "style": np.asarray(style_idx, dtype=np.int8),
        "char": np.asarray(codepoints, dtype=np.int32),
        "split": np.asarray(splits, dtype=np.int8),
        "font_names": np.asarray([s.name for s in specs]),
        "style_names": np.asarray(STYLES),
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    npz_path = out_dir / "calligraphy.npz"
    _write_npz(npz_path, arrays)
    manifest = {
        "dataset": npz_path.name,
        "npz_sha256": _sha256_file(npz_path),
        "images": len(codepoints),
        "characters": {
            "set": "GB2312 level 1 (rows 0xB0-0xD7, columns 0xA1-0xFE, less 0xD7FA-0xD7FE)",
            "count": len(chars),
            "split_rule": "sha256(utf-8 of the character), first 8 bytes big-endian, mod 10: "
                          "0-7 train, 8 val, 9 test",
            "split_counts": {s: sum(split_of(c) == s for c in chars) for s in SPLITS},
        },
        "build": {
            "canvas_px": CANVAS,
            "margin_px": MARGIN,
            "sizes": list(SIZES),
            "thresholds": {str(s): THRESHOLDS[s] for s in SIZES},
            "downsampling": "mean coverage of each (canvas/size)^2 block (area average)",
            "centring": "ink bounding box centred; shrunk only when the ink does not fit inside the margin",
            "layout_engine": "basic",
            "pillow": pillow_version,
            "freetype": features.version("freetype2"),
            "fonttools": fonttools_version,
            "numpy": np.__version__,
        },
        "fonts": font_entries,
    }
    _write_text(out_dir / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    return npz_path


def _font_entry(font: InstalledFont, licence: dict, used_files, kept: int, shrunk: int, dropped: dict) -> dict:
    spec = font.spec
    if spec.source == "npm":
        # One digest for the many subset files: sha256sum-style lines of the files used, sorted by name.
        listing = "".join(f"{_sha256_file(p)}  {p.name}\n" for p in sorted(used_files, key=lambda p: p.name))
        files = {"pattern": spec.files, "count": len(used_files),
                 "sha256": hashlib.sha256(listing.encode("utf-8")).hexdigest(),
                 "sha256_of": "sorted 'sha256  file name' lines of the woff2 files used"}
    else:
        files = {"path": spec.files, "sha256": _sha256_file(Path(spec.files)),
                 "face": spec.face, "face_index": font.face_index}
    return {
        "key": spec.key,
        "name": spec.name,
        "style": spec.style,
        "source": spec.source,
        "package": spec.package,
        "version": font.version,
        **licence,
        "files": files,
        "em_px": spec.em_px,
        "glyphs_kept": kept,
        "glyphs_shrunk_to_fit": shrunk,
        "glyphs_dropped": {reason: len(cs) for reason, cs in dropped.items()},
        "dropped_chars": {reason: "".join(cs) for reason, cs in dropped.items() if cs},
    }


def _atomic_write(path: Path, write) -> None:
    """Write through a temporary file in the same folder, then rename: readers never see half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".tmp-{path.stem}-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o644)  # mkstemp makes the file private; the dataset is for everyone to read
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _write_text(path: Path, text: str) -> None:
    _atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def _write_npz(path: Path, arrays: dict) -> None:
    """Write what ``np.savez_compressed`` writes, but with fixed zip timestamps, so that a rebuild is
    byte-identical, and maximum compression."""

    def write(f):
        with zipfile.ZipFile(f, "w") as zf:
            for name, array in arrays.items():
                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.asarray(array), allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                zf.writestr(info, buf.getvalue(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)

    _atomic_write(path, write)
