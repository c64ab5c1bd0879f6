"""Pictures: image grids, PNG writing, dependency maps and plots.

Imports no other module of the library but ``data``; matplotlib is imported inside the functions that use it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np


def image_grid(images, ncols: int | None = None, pad: int = 1, pad_value: float = 0.5) -> np.ndarray:
    """Tile images into one array.

    Args:
        images: array of shape (N, H, W) or (N, H, W, 1), values in [0, 1] with ink = 1.
        ncols: images per row (default: ceil(sqrt(N))).
        pad: pixels of ``pad_value`` between tiles.

    Returns:
        float32 array of shape (rows*(H+pad)+pad, ncols*(W+pad)+pad), ink = 1.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 4:
        images = images[..., 0]
    if images.ndim != 3:
        raise ValueError(f"image_grid expects (N, H, W) or (N, H, W, 1), got shape {images.shape}")
    n, h, w = images.shape
    ncols = ncols or int(np.ceil(np.sqrt(max(n, 1))))
    nrows = int(np.ceil(n / ncols))
    grid = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad), pad_value, dtype=np.float32)
    for k in range(n):
        r, c = divmod(k, ncols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        grid[y : y + h, x : x + w] = images[k]
    return grid


def save_png(array, path, scale: int = 1, ink_black: bool = True) -> Path:
    """Write a 2-D array in [0, 1] (ink = 1) as a grey-scale PNG, atomically.

    ``ink_black`` draws ink as black on white paper, as calligraphy is seen; ``scale`` enlarges by pixel
    repetition so that small images stay crisp.
    """
    from PIL import Image

    a = np.clip(np.asarray(array, dtype=np.float32), 0.0, 1.0)
    if ink_black:
        a = 1.0 - a
    if scale > 1:
        a = np.kron(a, np.ones((scale, scale), dtype=np.float32))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".png")
    os.close(fd)
    try:
        Image.fromarray((a * 255).round().astype(np.uint8), mode="L").save(tmp, format="PNG")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def plot_history(csv_path, out_path=None, title: str | None = None):
    """Plot the loss curves of a run's ``metrics.csv`` (written by Keras' CSVLogger).

    Draws training and validation bits/dim per epoch. Returns the matplotlib figure; with ``out_path``
    also writes it as a PNG (atomically).
    """
    import csv

    import matplotlib.pyplot as plt

    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    fig, ax = plt.subplots(figsize=(5, 3.2))
    if rows:
        epochs = [int(r["epoch"]) + 1 for r in rows]
        for key, label in (("bits_per_dim", "training"), ("val_bits_per_dim", "validation")):
            if key in rows[0] and rows[0][key] != "":
                ax.plot(epochs, [float(r[key]) for r in rows], marker="o", label=label)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("bits/dim")
    ax.set_title(title or "Negative log-likelihood")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    if out_path is not None:
        out_path = Path(out_path)
        tmp = out_path.with_name(".tmp-" + out_path.name)
        fig.savefig(tmp, dpi=120, format="png")
        os.replace(tmp, out_path)
    return fig


# The embedded dataset at a glance ------------------------------------------------------------------------

# Fonts that matplotlib may find on a system and that draw Chinese, best first: the column titles need one.
_CJK_FONT_HINTS = ("LXGW WenKai", "AR PL UKai", "AR PL UMing", "Noto Sans CJK", "Noto Serif CJK", "Source Han",
                   "WenQuanYi", "Droid Sans Fallback", "PingFang", "Heiti", "Microsoft YaHei", "SimSun")


def _cjk_font_properties():
    """matplotlib FontProperties of an installed font that draws Chinese, or None."""
    from matplotlib import font_manager

    for hint in _CJK_FONT_HINTS:
        for entry in sorted(font_manager.fontManager.ttflist, key=lambda e: e.fname):
            if entry.name.startswith(hint) and entry.style == "normal" and entry.weight in (400, "normal"):
                return font_manager.FontProperties(fname=entry.fname)
    return None


def style_sheet(data=None, n_chars: int = 8, size: int = 64, seed: int = 0):
    """Every font of a dataset drawing the same characters: one row per font, labelled with font and style.

    Args:
        data: a ``data.CalligraphyData`` (e.g. ``data.load_calligraphy(64)``); None loads the embedded
            dataset at ``size`` x ``size``.
        n_chars: columns; characters drawn at random (``seed``) among those that every font has.
        size: image side (32 or 64), only used when ``data`` is None.
        seed: picks the characters.

    Returns:
        A ``matplotlib.figure.Figure``, not attached to pyplot (so it is never left open); notebooks display
        it, ``fig.savefig(path)`` writes it. Column titles show each character, or its code point when no
        font that draws Chinese is installed for matplotlib.
    """
    from matplotlib.figure import Figure

    from pixelcnn_lib import data as data_lib

    if data is None:
        data = data_lib.load_calligraphy(size=size)
    fonts = [f for f in range(len(data.font_names)) if np.any(data.font == f)]
    if not fonts:
        raise ValueError("style_sheet needs a non-empty dataset")
    common = sorted(set.intersection(*(set(data.char[data.font == f]) for f in fonts)))
    if not common:
        raise ValueError("no character is drawn by every font of this dataset")
    rng = np.random.default_rng(seed)
    chars = [common[i] for i in sorted(rng.choice(len(common), size=min(n_chars, len(common)), replace=False))]
    title_font = _cjk_font_properties()

    fig = Figure(figsize=(1.0 * len(chars) + 1.9, 1.0 * len(fonts) + 0.5), layout="constrained")
    axes = fig.subplots(len(fonts), len(chars), squeeze=False)
    for r, f in enumerate(fonts):
        of_font = data.font == f
        for c, char in enumerate(chars):
            ax = axes[r, c]
            k = np.flatnonzero(of_font & (data.char == char))[0]
            ax.imshow(1 - data.images[k], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_color("0.8")
            if r == 0:
                if title_font is not None:
                    ax.set_title(char, fontproperties=title_font, fontsize=15)
                else:
                    ax.set_title(f"U+{ord(char):04X}", fontsize=9)
        style = data.style_names[int(data.style[np.flatnonzero(of_font)[0]])]
        axes[r, 0].set_ylabel(f"{data.font_names[f]}\n{style}", rotation=0, ha="right", va="center", fontsize=10)
    return fig


# Dependency maps: which input pixels an output pixel sees ------------------------------------------------

# Categories of an input pixel relative to an output pixel (i, j), as returned by ``dependency_categories``.
NOT_SEEN = 0  #: earlier than (i, j) in raster order, not seen
SEEN = 1  #: earlier than (i, j), seen: what the prediction may use
BLIND = 2  #: earlier, not seen, and in the given blind spot (never seen at any depth)
LATER = 3  #: (i, j) itself or a later pixel, not seen, as it must be
CHEAT = 4  #: (i, j) itself or a later pixel that is seen: a violation of causality

#: Colour of each category (index = category): white, blue, orange, light grey, wine red (colour-blind safe).
CATEGORY_COLOURS = ("white", "#0072B2", "#E69F00", "#D9D9D9", "#882255")
#: Legend label of each category (index = category).
CATEGORY_NAMES = ("earlier, not seen", "earlier, seen", "blind spot: never seen",
                  "the pixel itself and later", "itself or later, seen (cheating!)")


def dependency_categories(seen, i: int, j: int, blind=None) -> np.ndarray:
    """Sort the input pixels of an H x W image by what output pixel ``(i, j)`` may and does see.

    Args:
        seen: bool array of shape (H, W), True where output ``(i, j)`` depends on the input pixel (as returned
            by ``pixelcnn_lib.layers.dependency_map``).
        i, j: row and column of the output pixel.
        blind: optional bool array of shape (H, W) marking a blind spot (earlier pixels that no depth reaches).

    Returns:
        int array of shape (H, W) with values ``NOT_SEEN`` (0), ``SEEN`` (1), ``BLIND`` (2), ``LATER`` (3) or
        ``CHEAT`` (4). "Earlier" means before ``(i, j)`` in raster order (row by row, left to right). A pixel
        that is seen is ``SEEN`` if earlier and ``CHEAT`` otherwise, whatever ``blind`` says; ``blind`` only
        recolours earlier pixels that are not seen.
    """
    seen = np.asarray(seen, dtype=bool)
    if seen.ndim != 2:
        raise ValueError(f"seen must have shape (H, W), got {seen.shape}")
    h, w = seen.shape
    if not (0 <= i < h and 0 <= j < w):
        raise ValueError(f"pixel ({i}, {j}) is outside the {h}x{w} map")
    after = np.arange(h * w).reshape(h, w) >= i * w + j  # the pixel itself and every later pixel
    cat = np.where(after, LATER, NOT_SEEN)
    if blind is not None:
        blind = np.asarray(blind, dtype=bool)
        if blind.shape != seen.shape:
            raise ValueError(f"blind must have shape {seen.shape}, got {blind.shape}")
        cat[blind & ~after] = BLIND
    cat[seen & ~after] = SEEN
    cat[seen & after] = CHEAT
    return cat


def plot_dependency_map(ax, seen, i: int, j: int, title: str | None = None, blind=None, background=None,
                        alpha: float = 0.6, grid: bool | None = None):
    """Draw which input pixels output pixel ``(i, j)`` sees, in the colours of ``CATEGORY_COLOURS``.

    Args:
        ax: a matplotlib Axes.
        seen, i, j, blind: as for ``dependency_categories``; ``seen`` and ``blind`` have shape (H, W).
        title: axes title (10 pt), or None for none.
        background: optional (H, W) image in [0, 1], ink = 1, drawn ink black on white under translucent
            category colours (opacity ``alpha``; "earlier, not seen" pixels are left uncoloured).
        grid: draw thin lines between pixels; default: only for maps of at most 16 x 16 pixels.

    The pixel ``(i, j)`` is outlined in black; ticks are hidden. Returns ``ax``.
    """
    from matplotlib.colors import ListedColormap, to_rgba
    from matplotlib.patches import Rectangle

    cat = dependency_categories(seen, i, j, blind)
    h, w = cat.shape
    if background is None:
        ax.imshow(cat, cmap=ListedColormap(CATEGORY_COLOURS), vmin=-0.5, vmax=len(CATEGORY_COLOURS) - 0.5,
                  interpolation="nearest")
    else:
        background = np.asarray(background, dtype=np.float32)
        if background.shape != (h, w):
            raise ValueError(f"background must have shape {(h, w)}, got {background.shape}")
        rgba = np.array([to_rgba(c, alpha) for c in CATEGORY_COLOURS])
        rgba[NOT_SEEN, 3] = 0.0
        ax.imshow(background, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        ax.imshow(rgba[cat], interpolation="nearest")
    ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=2))
    if grid is None:
        grid = max(h, w) <= 16
    if grid:
        ax.set_xticks(np.arange(-0.5, w), minor=True)
        ax.set_yticks(np.arange(-0.5, h), minor=True)
        ax.grid(which="minor", color="0.75", linewidth=0.5)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    if title is not None:
        ax.set_title(title, fontsize=10)
    return ax


def dependency_legend(fig, used, ncol: int = 5, alpha: float = 1.0, extra=()):
    """Add a legend of dependency-map categories at the bottom centre of ``fig`` (9 pt, no frame).

    Args:
        fig: a matplotlib Figure; leave room at its bottom, e.g. ``fig.tight_layout(rect=(0, 0.1, 1, 1))``.
        used: the categories to list, in order (e.g. ``[SEEN, NOT_SEEN, LATER, CHEAT]``).
        ncol: legend columns.
        alpha: opacity of the colour patches (use the map's ``alpha`` when it has a ``background``).
        extra: further legend handles (e.g. a ``matplotlib.patches.Patch``) appended after the categories.

    Returns the matplotlib Legend.
    """
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=CATEGORY_COLOURS[c], edgecolor="0.5", alpha=alpha, label=CATEGORY_NAMES[c])
               for c in used]
    return fig.legend(handles=[*handles, *extra], loc="lower center", ncol=ncol, frameon=False, fontsize=9)
