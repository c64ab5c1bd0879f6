"""The embedded calligraphy dataset, folders of real scans, and ``tf.data`` pipelines.

This is the lowest module of the library: it imports nothing else from it, and TensorFlow only inside the
functions that need it, so that ``import pixelcnn_lib.data`` stays light.

The embedded dataset (``datasets/calligraphy.npz``, built by :func:`pixelcnn_lib.fonts.build_dataset`) holds
the 3,755 GB2312 level-1 characters drawn by several openly licensed calligraphy fonts, binarized at 64x64 and
32x32 pixels with ink = 1. Its npz fields (N images, ordered by font, then character in GB2312 order):

- ``images64``: uint8 (N, 64, 8), ``images32``: uint8 (N, 32, 4): the images bit-packed along the width
  (``np.packbits(images, axis=-1)``);
- ``font``, ``style``: int8 (N,), indices into ``font_names`` and ``style_names`` (unicode arrays);
- ``char``: int32 (N,), Unicode code points;
- ``split``: int8 (N,), 0 train, 1 validation, 2 test (see :func:`split_of`).
"""

from __future__ import annotations

import functools
import hashlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATASET_DIR = Path(__file__).resolve().parent / "datasets"
DATASET_PATH = DATASET_DIR / "calligraphy.npz"
MANIFEST_PATH = DATASET_DIR / "manifest.json"

SIZES = (64, 32)
SPLITS = ("train", "val", "test")
#: Style vocabulary of the embedded dataset, in the order of its ``style`` indices.
STYLES = ("regular", "running", "cursive")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


class DataError(ValueError):
    """A dataset or an image folder cannot be used as asked; the one-line message names the path or value."""


def gb2312_level1() -> list[str]:
    """The 3,755 level-1 characters of GB2312, in GB2312 order (rows 0xB0-0xD7, columns 0xA1-0xFE).

    Row 0xD7 stops at 0xD7F9: its last five slots are unassigned.
    """
    return list(_gb2312_level1())


@functools.cache
def _gb2312_level1() -> tuple[str, ...]:
    chars = tuple(
        bytes((row, col)).decode("gb2312")
        for row in range(0xB0, 0xD8)
        for col in range(0xA1, 0xFF)
        if not (row == 0xD7 and col >= 0xFA)
    )
    if len(chars) != 3755:  # guards against a Python whose codec maps more or fewer slots
        raise RuntimeError(f"expected 3755 GB2312 level-1 characters, the gb2312 codec gave {len(chars)}")
    return chars


def split_of(char: str) -> str:
    """The split of a character: "train", "val" or "test" (80/10/10).

    Decided by the character alone (the first 8 bytes of the SHA-256 of its UTF-8, big-endian, modulo 10:
    0-7 train, 8 val, 9 test), so it is the same in every font and on every machine, and a test character
    is never seen in training in any style.
    """
    bucket = _hash_bucket(char)
    return "train" if bucket < 8 else ("val" if bucket == 8 else "test")


def _hash_bucket(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") % 10


def font_key(name: str) -> str:
    """The registry key of a font display name: lower case, runs of other characters as one "-".

    ``font_key("AR PL UKai") == "ar-pl-ukai"``; :mod:`pixelcnn_lib.fonts` uses these keys, and
    :func:`load_calligraphy` accepts a font by either.
    """
    return re.sub(r"[^0-9a-z]+", "-", name.lower()).strip("-")


@dataclass(frozen=True, eq=False)
class CalligraphyData:
    """Binary character images and what each one is.

    Attributes:
        images: uint8 (N, H, W) in {0, 1}, ink = 1.
        font: int8 (N,), index into ``font_names``.
        style: int8 (N,), index into ``style_names``.
        char: str (N,) unicode array, one character per image ("?" where unknown).
        split: str (N,) unicode array of "train", "val" or "test".
        font_names: names indexed by ``font`` (all of them, also in a subset).
        style_names: names indexed by ``style``.

    Arrays returned by :func:`load_calligraphy` are shared by its cache and read-only.
    """

    images: np.ndarray
    font: np.ndarray
    style: np.ndarray
    char: np.ndarray
    split: np.ndarray
    font_names: tuple[str, ...]
    style_names: tuple[str, ...]

    def __post_init__(self):
        n = len(self.images)
        if self.images.ndim != 3:
            raise DataError(f"images must have shape (N, H, W), got {self.images.shape}")
        for name in ("font", "style", "char", "split"):
            if getattr(self, name).shape != (n,):
                raise DataError(f"{name} must have shape ({n},), got {getattr(self, name).shape}")

    def __len__(self) -> int:
        return len(self.images)

    @property
    def size(self) -> int:
        """Image height in pixels (images are square)."""
        return self.images.shape[1]

    def subset(self, mask) -> CalligraphyData:
        """The images selected by a boolean mask of shape (N,) or an array of indices, with their labels."""
        mask = np.asarray(mask)
        if mask.dtype == bool and mask.shape != (len(self),):
            raise DataError(f"a boolean mask must have shape ({len(self)},), got {mask.shape}")
        return CalligraphyData(
            images=self.images[mask],
            font=self.font[mask],
            style=self.style[mask],
            char=self.char[mask],
            split=self.split[mask],
            font_names=self.font_names,
            style_names=self.style_names,
        )


def load_calligraphy(size: int = 32, split=None, styles=None, fonts=None, path=None) -> CalligraphyData:
    """The embedded calligraphy dataset, or a selection of it.

    Args:
        size: 32 or 64 (pixels per side).
        split: None (all), "train", "val", "test", or several of them.
        styles: None (all), a style name ("regular", "running", "cursive") or several.
        fonts: None (all), a font display name ("Ma Shan Zheng") or key ("ma-shan-zheng"), or several.
        path: an npz written by :func:`pixelcnn_lib.fonts.build_dataset` (default :data:`DATASET_PATH`).

    Returns:
        CalligraphyData with images uint8 (N, size, size) in {0, 1}, ink = 1. The unpacked file is cached
        (keyed by path, modification time and size), so repeated calls are cheap.

    Raises:
        DataError: missing or malformed file, unknown size, split, style or font.
    """
    path = Path(path) if path is not None else DATASET_PATH
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise DataError(
            f"dataset file not found: {path} (rebuild it with pixelcnn_lib.fonts.build_dataset())"
        ) from None
    data = _load_npz(str(path.resolve()), stat.st_mtime_ns, stat.st_size, int(size))
    mask = np.ones(len(data), dtype=bool)
    if split is not None:
        wanted = _as_names(split, SPLITS, "split", path)
        mask &= np.isin(data.split, list(wanted))
    if styles is not None:
        wanted = _as_names(styles, data.style_names, "style", path)
        mask &= np.isin(data.style, [data.style_names.index(s) for s in wanted])
    if fonts is not None:
        by_key = {font_key(name): i for i, name in enumerate(data.font_names)}
        wanted = _as_names(fonts, tuple(by_key), "font", path, normalise=font_key)
        mask &= np.isin(data.font, [by_key[k] for k in wanted])
    return data if mask.all() else data.subset(mask)


def _as_names(value, valid: tuple[str, ...], what: str, path: Path, normalise=lambda s: s) -> list[str]:
    names = [value] if isinstance(value, str) else list(value)
    unknown = [n for n in names if normalise(n) not in valid]
    if unknown:
        raise DataError(f"unknown {what} {unknown!r} for {path}; choose from {list(valid)}")
    return [normalise(n) for n in names]


@functools.lru_cache(maxsize=4)
def _load_npz(path: str, mtime_ns: int, file_size: int, size: int) -> CalligraphyData:
    del mtime_ns, file_size  # only part of the cache key: a rebuilt file is read again
    try:
        with np.load(path) as z:
            key = f"images{size}"
            if key not in z.files:
                sizes = sorted(int(k[6:]) for k in z.files if k.startswith("images"))
                raise DataError(f"size {size} not in {path}; available sizes: {sizes}")
            packed = z[key]
            fields = {k: z[k] for k in ("font", "style", "char", "split", "font_names", "style_names")}
    except DataError:
        raise
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as e:
        raise DataError(f"cannot read dataset {path}: {_one_line(e)}") from e
    images = np.unpackbits(packed, axis=-1, count=size)
    # Code points viewed as UCS-4 give a unicode array without a Python loop.
    chars = fields["char"].astype("<u4").view("<U1")
    splits = np.asarray(SPLITS)[fields["split"]]
    arrays = [images, fields["font"], fields["style"], chars, splits]
    for a in arrays:
        a.setflags(write=False)
    return CalligraphyData(
        *arrays,
        font_names=tuple(str(s) for s in fields["font_names"]),
        style_names=tuple(str(s) for s in fields["style_names"]),
    )


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def make_dataset(images, batch_size: int = 32, shuffle: bool = True, seed: int = 0, repeat: bool = False,
                 labels=None):
    """A ``tf.data`` pipeline of (input, target) batches for a PixelCNN: the target is the input.

    Args:
        images: (N, H, W) or (N, H, W, 1) array in {0, 1} (ink = 1), or a CalligraphyData.
        batch_size: images per batch; the last batch of an epoch may be smaller unless ``repeat``.
        shuffle: visit the images in a new random order every epoch.
        seed: the orders are a function of ``seed`` and the epoch number only (stateless shuffling), so the
            same seed gives the same batches on every run, whatever TensorFlow's global seed.
        repeat: cycle through epochs forever (each epoch in its own order).
        labels: optional int (N,) class labels (e.g. ``data.style``) for a conditional model.

    Returns:
        ``tf.data.Dataset`` of ``(x, x)``, or ``((x, y), x)`` with labels, where x is float32 (B, H, W, 1) in
        {0, 1} and y int32 (B,); prefetched.
    """
    import tensorflow as tf

    if isinstance(images, CalligraphyData):
        images = images.images
    x = np.asarray(images)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 3 or len(x) == 0:
        raise DataError(f"images must be a non-empty (N, H, W) or (N, H, W, 1) array, got shape {x.shape}")
    if batch_size < 1:
        raise DataError(f"batch_size must be positive, got {batch_size}")
    n = len(x)
    if x.dtype == bool:
        x = x.astype(np.uint8)
    x = tf.constant(x)
    y = None
    if labels is not None:
        y = np.asarray(labels)
        if y.shape != (n,):
            raise DataError(f"labels must have shape ({n},), got {y.shape}")
        y = tf.constant(y.astype(np.int32))

    def epoch_order(epoch):
        order = tf.range(n, dtype=tf.int64)
        if shuffle:
            order = tf.random.experimental.stateless_shuffle(order, seed=tf.stack([tf.constant(seed, tf.int64), epoch]))
        return tf.data.Dataset.from_tensor_slices(order)

    def gather(index):
        batch = tf.cast(tf.gather(x, index), tf.float32)[..., None]
        if y is None:
            return batch, batch
        return (batch, tf.gather(y, index)), batch

    epochs = tf.data.Dataset.counter() if repeat else tf.data.Dataset.range(1)
    return (
        epochs.flat_map(epoch_order)
        .batch(batch_size)
        .map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )


def load_image_folder(path, size: int = 32, threshold: float | None = None) -> CalligraphyData:
    """Binarize a folder of scanned characters laid out as one sub-folder per style or calligrapher.

    ``path/<label>/<image>`` with images of any size in PNG, JPEG or BMP, grey or colour (as the Kaggle
    calligraphy sets are). Each image is turned upright (EXIF), made grey, fitted into size x size keeping
    its aspect ratio (area-averaged, padded with paper), and binarized with ink = 1. Light ink on a dark
    scan (detected by a dark border) is inverted first.

    Args:
        path: the root folder.
        size: output side in pixels.
        threshold: ink fraction in (0, 1) at or above which a pixel is ink; None: Otsu's threshold per image.

    Returns:
        CalligraphyData with images uint8 (N, size, size) in {0, 1}, in sorted label then file order; font
        and style both the label index into sorted folder names, char "?", split from a hash of the path
        relative to the root (80/10/10, as :func:`split_of`).

    Raises:
        DataError: the folder is missing, not a folder, has no sub-folders, a sub-folder has no images, or
            holds another file or folder, or an image cannot be read. Files and folders whose names start
            with "." are ignored; nothing else is skipped.
    """
    from PIL import Image

    root = Path(path)
    if not root.exists():
        raise DataError(f"image folder not found: {root}")
    if not root.is_dir():
        raise DataError(f"not a folder: {root}")
    if threshold is not None and not 0.0 < threshold < 1.0:
        raise DataError(f"threshold must be in (0, 1), got {threshold}")
    entries = sorted(p for p in root.iterdir() if not p.name.startswith("."))
    stray = [p for p in entries if not p.is_dir()]
    if stray:
        raise DataError(f"expected only sub-folders (one per style) in {root}, found file {stray[0]}")
    if not entries:
        raise DataError(f"no sub-folders (one per style) in {root}")
    labels = tuple(p.name for p in entries)
    images, label_of, splits = [], [], []
    for label, folder in enumerate(entries):
        files = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
        for p in files:
            if p.is_dir():
                raise DataError(f"unexpected folder inside a style folder: {p}")
            if p.suffix.lower() not in IMAGE_SUFFIXES:
                raise DataError(f"not an image ({', '.join(IMAGE_SUFFIXES)}): {p}")
        if not files:
            raise DataError(f"no images in {folder}")
        for p in files:
            try:
                with Image.open(p) as im:
                    im.load()
                    ink = _ink_map(im)
            except (OSError, EOFError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
                raise DataError(f"cannot read image {p}: {_one_line(e)}") from e
            images.append(_fit_and_binarize(ink, size, threshold))
            label_of.append(label)
            bucket = _hash_bucket(p.relative_to(root).as_posix())
            splits.append(SPLITS[0] if bucket < 8 else SPLITS[1] if bucket == 8 else SPLITS[2])
    label_arr = np.asarray(label_of, dtype=np.int8 if len(labels) < 128 else np.int32)
    return CalligraphyData(
        images=np.stack(images),
        font=label_arr,
        style=label_arr.copy(),
        char=np.full(len(images), "?"),
        split=np.asarray(splits),
        font_names=labels,
        style_names=labels,
    )


def _ink_map(im) -> np.ndarray:
    """uint8 (H, W) ink darkness, 255 = full ink, of a PIL image: upright, grey, paper light or dark."""
    from PIL import Image, ImageOps

    im = ImageOps.exif_transpose(im)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        # Transparent pixels are paper: composite onto white before dropping alpha.
        rgba = im.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(paper, rgba)
    if im.mode.startswith("I;16"):
        # convert("L") would clip 16-bit scans at 255: rescale instead.
        grey = (np.asarray(im, dtype=np.float64) * (255 / 65535)).round().astype(np.uint8)
    else:
        grey = np.asarray(im.convert("L"), dtype=np.uint8)
    h, w = grey.shape
    b = max(1, min(h, w) // 20)
    border = np.concatenate([grey[:b].ravel(), grey[-b:].ravel(), grey[:, :b].ravel(), grey[:, -b:].ravel()])
    # Scans show mostly paper at their edges; a dark border means light ink on dark paper.
    return grey if np.median(border) < 128 else 255 - grey


def _otsu(ink: np.ndarray) -> float:
    """Otsu's threshold of a uint8 image as a fraction in (0, 1): ink is ``value / 255 >= threshold``."""
    hist = np.bincount(ink.ravel(), minlength=256).astype(np.float64)
    levels = np.arange(256, dtype=np.float64)
    w0 = np.cumsum(hist)
    m0 = np.cumsum(hist * levels)
    total, mean_total = w0[-1], m0[-1]
    w1 = total - w0
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean_total * w0 - total * m0) ** 2 / (w0 * w1)
    between[~np.isfinite(between)] = -1.0
    t = int(np.argmax(between))  # classes are [0, t] and [t + 1, 255]
    if between[t] < 0:  # a single grey level: nothing separates ink from paper
        return 0.5
    return (t + 0.5) / 255.0


def _fit_and_binarize(ink: np.ndarray, size: int, threshold: float | None) -> np.ndarray:
    """uint8 (size, size) in {0, 1}: ``ink`` fitted keeping its aspect ratio, centred, thresholded."""
    from PIL import Image

    t = _otsu(ink) if threshold is None else threshold
    h, w = ink.shape
    scale = size / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    small = np.asarray(Image.fromarray(ink).resize((new_w, new_h), Image.Resampling.BOX), dtype=np.float32)
    out = np.zeros((size, size), dtype=np.uint8)
    y0, x0 = (size - new_h) // 2, (size - new_w) // 2
    out[y0 : y0 + new_h, x0 : x0 + new_w] = small / 255.0 >= t
    return out


def describe(data_or_path=None) -> str:
    """A plain-text table of image counts per style and font (rows) and split (columns).

    Args:
        data_or_path: a CalligraphyData, the path of a dataset npz or of an image folder, or None for the
            embedded dataset.
    """
    if isinstance(data_or_path, CalligraphyData):
        data, title = data_or_path, f"{len(data_or_path)} images of {data_or_path.size}x{data_or_path.size}"
    else:
        path = Path(data_or_path) if data_or_path is not None else DATASET_PATH
        data = load_image_folder(path) if path.is_dir() else load_calligraphy(32, path=path)
        title = str(path)
    rows = [("style", "font", *SPLITS, "total")]

    def counts(mask):
        return [int(np.sum(mask & (data.split == s))) for s in SPLITS] + [int(np.sum(mask))]

    for s, style in enumerate(data.style_names):
        in_style = data.style == s
        if not in_style.any():
            continue
        fonts_here = [f for f in range(len(data.font_names)) if np.any(in_style & (data.font == f))]
        if data.font_names != data.style_names:
            for f in fonts_here:
                rows.append((style, data.font_names[f], *map(str, counts(in_style & (data.font == f)))))
        rows.append((style, "all" if data.font_names != data.style_names else "", *map(str, counts(in_style))))
    rows.append(("all", "", *map(str, counts(np.ones(len(data), dtype=bool)))))
    chars = np.unique(data.char)
    n_chars = "unknown" if list(chars) == ["?"] else len(chars)
    counts_line = f"{len(np.unique(data.font))} fonts, {len(np.unique(data.style))} styles, {n_chars} characters"
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [title, counts_line]
    for k, r in enumerate(rows):
        lines.append("  ".join(c.ljust(wd) if i < 2 else c.rjust(wd) for i, (c, wd) in enumerate(zip(r, widths))))
        if k == 0 or (k < len(rows) - 1 and rows[k + 1][0] == "all"):
            lines.append("  ".join("-" * wd for wd in widths))
    return "\n".join(lines)
