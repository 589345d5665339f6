"""Dataset examples drawn as one strip per node: its k most exciting images in a row."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from .mosaic import BACKGROUND, BYTES_PER_PIXEL, TEXT, _font
from .text import shown

GAP, STRIP_GAP, CAPTION_H, TITLE_H = 1, 14, 14, 30


def _canvas_shape(nodes: int, k: int, height: int, width: int, strip_columns: int, scale: int,
                  title: bool | str) -> tuple[int, int]:
    strip_w = k * (width * scale + GAP) - GAP
    strip_columns = max(1, min(strip_columns, nodes))
    rows = -(-nodes // strip_columns)
    title_w = int(_font(18).getlength(title)) + 2 * STRIP_GAP if isinstance(title, str) else 0
    canvas_w = max(strip_columns * (strip_w + STRIP_GAP) + STRIP_GAP, 320 if title else 0,
                   title_w)
    return (TITLE_H if title else 0) + rows * (CAPTION_H + height * scale + 10) + 6, canvas_w


def strips_bytes(nodes: int, k: int, height: int, width: int, strip_columns: int = 4,
                 scale: int = 1, title: bool = True) -> int:
    """The memory `example_strips` and saving its PNG take at their peak: the canvas as a
    mosaic's, plus the images given (1 byte a pixel), coloured (3) and scaled (3 x scale^2)."""
    canvas_h, canvas_w = _canvas_shape(nodes, k, height, width, strip_columns, scale, title)
    return BYTES_PER_PIXEL * canvas_h * canvas_w + (4 + 3 * scale**2) * nodes * k * height * width


def example_strips(images: np.ndarray, captions: Sequence[str], lut: np.ndarray,
                   strip_columns: int = 4, scale: int = 1, title: str | None = None) -> Image.Image:
    """images: uint8 (nodes, k, H, W) drawn through the colour table, or colour images
    (nodes, k, H, W, 3) drawn as they are; one caption per node, drawn above its strip."""
    images = np.asarray(images)
    colour = images.ndim == 5 and images.shape[4] == 3
    if not (images.ndim == 4 or colour) or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (nodes, k, H, W) or (nodes, k, H, W, 3), got "
                         f"{images.dtype} {images.shape}")
    nodes, k, height, width = images.shape[:4]
    tile_h, tile_w = height * scale, width * scale
    strip_w = k * (tile_w + GAP) - GAP
    strip_columns = max(1, min(strip_columns, nodes))
    title_h = TITLE_H if title else 0
    cell_h = CAPTION_H + tile_h + 10
    canvas = np.full((*_canvas_shape(nodes, k, height, width, strip_columns, scale,
                                     title or False), 3), BACKGROUND, np.uint8)
    coloured = images if colour else lut[images]
    if scale > 1:
        coloured = coloured.repeat(scale, axis=2).repeat(scale, axis=3)
    origins = []
    for node in range(nodes):
        row, column = divmod(node, strip_columns)
        top = title_h + row * cell_h + CAPTION_H
        left = STRIP_GAP + column * (strip_w + STRIP_GAP)
        for rank in range(k):
            x = left + rank * (tile_w + GAP)
            canvas[top:top + tile_h, x:x + tile_w] = coloured[node, rank]
        origins.append((left, top - CAPTION_H))
    picture = Image.fromarray(canvas, "RGB")
    draw = ImageDraw.Draw(picture)
    if title:
        draw.text((STRIP_GAP, 6), title, fill=TEXT, font=_font(18))
    font = _font(11)
    for (left, top), caption in zip(origins, captions):
        draw.text((left, top), shown(caption), fill=TEXT, font=font)  # may hold a class name
    return picture
