"""Pillow mosaics: every node of a layer as one labelled picture, fast enough for 512 nodes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

BACKGROUND = (255, 255, 255)
TEXT = (20, 20, 20)


@dataclass(frozen=True)
class Legend:
    """A colour bar under the mosaic: what pixel 0, 128 and 255 mean, e.g. ('-0.42', '0', '+0.42')."""

    low: str
    middle: str
    high: str


@lru_cache(maxsize=None)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def grid_shape(count: int, columns: int | None = None) -> tuple[int, int]:
    """(rows, columns): 5 per row up to 10 nodes, else about twice as wide as tall in powers of 2."""
    if columns is None:
        if count <= 10:
            columns = min(count, 5)
        else:
            columns = 2 ** math.ceil(math.log2(math.sqrt(2 * count)))
    columns = max(1, min(columns, count))
    return math.ceil(count / columns), columns


def _text_width(draw: ImageDraw.ImageDraw, text: str, font) -> int:
    left, _, right, _ = draw.textbbox((0, 0), text, font=font)
    return int(right - left)


def node_mosaic(
    images: np.ndarray,
    lut: np.ndarray,
    labels: Sequence[str] | None = None,
    columns: int | None = None,
    scale: int = 2,
    title: str | None = None,
    legend: Legend | None = None,
) -> Image.Image:
    """Tile uint8 images (n, H, W) through a (256, 3) colour table, each under its label."""
    images = np.asarray(images)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (n, H, W), got {images.dtype} {images.shape}")
    if scale < 1:
        raise ValueError(f"scale must be at least 1, got {scale}")
    count, height, width = images.shape
    rows, columns = grid_shape(count, columns)
    tile_h, tile_w = height * scale, width * scale
    gap = max(2, scale * 2)
    label_size = max(9, min(16, 4 + 3 * scale)) if labels is not None else 0
    label_h = label_size + 3 if labels is not None else 0
    title_size = 18
    title_h = title_size + 12 if title else 0
    legend_h = 44 if legend else 0
    cell_h, cell_w = label_h + tile_h + gap, tile_w + gap
    title_w = int(_font(title_size).getlength(title)) + 2 * gap if title else 0
    canvas_w = max(columns * cell_w + gap, 320 if (title or legend) else 0, title_w)
    canvas_h = title_h + rows * cell_h + gap + legend_h
    canvas = np.full((canvas_h, canvas_w, 3), BACKGROUND, dtype=np.uint8)

    coloured = lut[images]  # (n, H, W, 3)
    if scale > 1:
        coloured = coloured.repeat(scale, axis=1).repeat(scale, axis=2)
    origins = []
    for index in range(count):
        row, column = divmod(index, columns)
        top = title_h + gap + row * cell_h + label_h
        left = gap + column * cell_w
        canvas[top:top + tile_h, left:left + tile_w] = coloured[index]
        origins.append((left, top))

    if legend:
        bar_top, bar_left = canvas_h - legend_h + 6, gap + 40
        bar_w = min(256 * 2, canvas_w - 2 * bar_left)
        ramp = lut[np.linspace(0, 255, bar_w).round().astype(np.uint8)]
        canvas[bar_top:bar_top + 12, bar_left:bar_left + bar_w] = ramp[None, :, :]

    picture = Image.fromarray(canvas, "RGB")
    draw = ImageDraw.Draw(picture)
    if title:
        draw.text((gap, 6), title, fill=TEXT, font=_font(title_size))
    if labels is not None:
        font = _font(label_size)
        for (left, top), label in zip(origins, labels):
            text = str(label)
            x = left + (tile_w - _text_width(draw, text, font)) // 2
            draw.text((x, top - label_h), text, fill=TEXT, font=font)
    if legend:
        font = _font(12)
        for fraction, text in ((0.0, legend.low), (0.5, legend.middle), (1.0, legend.high)):
            text_w = _text_width(draw, text, font)
            x = bar_left + int(fraction * (bar_w - 1)) - text_w // 2
            x = max(2, min(x, canvas_w - text_w - 2))  # keep end labels inside the picture
            draw.text((x, bar_top + 16), text, fill=TEXT, font=font)
    return picture


def side_by_side(panels: Sequence[tuple[str, Image.Image]], gap: int = 24) -> Image.Image:
    """Put pictures next to each other, each under its own heading (e.g. 500 vs 60,000 images)."""
    heading_size = 18
    heading_h = heading_size + 12
    font = _font(heading_size)
    # Each panel's slot is as wide as its picture or its heading, whichever is wider.
    slots = [max(image.width, int(font.getlength(heading))) for heading, image in panels]
    width = sum(slots) + gap * (len(panels) + 1)
    height = heading_h + max(image.height for _, image in panels) + gap
    picture = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(picture)
    left = gap
    for (heading, image), slot in zip(panels, slots):
        draw.text((left, 6), heading, fill=TEXT, font=font)
        picture.paste(image, (left, heading_h))
        left += slot + gap
    return picture
