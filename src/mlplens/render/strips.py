"""Dataset examples drawn as one strip per node: its k most exciting images in a row."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from .mosaic import BACKGROUND, TEXT, _font


def example_strips(images: np.ndarray, captions: Sequence[str], lut: np.ndarray,
                   strip_columns: int = 4, scale: int = 1, title: str | None = None) -> Image.Image:
    """images: uint8 (nodes, k, H, W); one caption per node, drawn above its strip."""
    images = np.asarray(images)
    if images.ndim != 4 or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (nodes, k, H, W), got {images.dtype} "
                         f"{images.shape}")
    nodes, k, height, width = images.shape
    tile_h, tile_w = height * scale, width * scale
    gap, strip_gap, caption_h = 1, 14, 14
    strip_w = k * (tile_w + gap) - gap
    strip_columns = max(1, min(strip_columns, nodes))
    rows = -(-nodes // strip_columns)
    title_h = 30 if title else 0
    cell_h = caption_h + tile_h + 10
    canvas_w = max(strip_columns * (strip_w + strip_gap) + strip_gap, 320 if title else 0)
    canvas = np.full((title_h + rows * cell_h + 6, canvas_w, 3), BACKGROUND, np.uint8)
    coloured = lut[images]
    if scale > 1:
        coloured = coloured.repeat(scale, axis=2).repeat(scale, axis=3)
    origins = []
    for node in range(nodes):
        row, column = divmod(node, strip_columns)
        top = title_h + row * cell_h + caption_h
        left = strip_gap + column * (strip_w + strip_gap)
        for rank in range(k):
            x = left + rank * (tile_w + gap)
            canvas[top:top + tile_h, x:x + tile_w] = coloured[node, rank]
        origins.append((left, top - caption_h))
    picture = Image.fromarray(canvas, "RGB")
    draw = ImageDraw.Draw(picture)
    if title:
        draw.text((strip_gap, 6), title, fill=TEXT, font=_font(18))
    font = _font(11)
    for (left, top), caption in zip(origins, captions):
        draw.text((left, top), caption, fill=TEXT, font=font)
    return picture
