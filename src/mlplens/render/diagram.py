"""A network diagram as a Pillow picture: drawn at twice its size and shrunk by averaging, so the
many thin, slanted edges come out antialiased.

Rendering never computes: the selections and the geometry arrive finished, as a
`layout.diagram` DiagramSpec and Layout (passed in, never imported: layout sits above render
and core).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from .colors import colormap_lut
from .mosaic import _font
from .text import shown

SUPERSAMPLE = 2
INK = (25, 25, 25)
MUTED = (110, 110, 110)
CONNECTOR = (200, 200, 200)
HIGHLIGHT = (230, 150, 0)
EDGE_MAP = "RdBu_r"


def edge_style(value: float, scale: float) -> tuple[tuple[int, int, int], float]:
    """(RGB colour, width at scale 1) of an edge: the diverging map from its lightest visible
    tint to its darkest by |value| / scale, and a width from 0.6 to 5 px; NaN is a plain
    connector."""
    if math.isnan(value):
        return CONNECTOR, 0.8
    strength = min(abs(value) / scale, 1.0) if scale > 0 else 0.0
    offset = int(round(40 + 87 * strength))
    index = 128 + offset if value >= 0 else 127 - offset
    colour = tuple(int(c) for c in colormap_lut(EDGE_MAP)[index])
    return colour, 0.6 + 4.4 * strength  # type: ignore[return-value]


def coloured(images: np.ndarray, cmap: str) -> np.ndarray:
    """uint8 (n, H, W) -> RGB (n, H, W, 3) through a colour map; colour pictures (n, H, W, 3)
    are RGB already and stay as they are."""
    return images if images.ndim == 4 else colormap_lut(cmap)[images]


def _paste(canvas: Image.Image, pixels: np.ndarray, x: float, y: float, side: int) -> None:
    picture = Image.fromarray(pixels, "RGB").resize((side, side), Image.NEAREST)
    canvas.paste(picture, (int(x), int(y)))


def drawing_bytes(width: int, height: int) -> int:
    """The peak of `draw_diagram` for a `width` x `height` picture: the canvas drawn at
    SUPERSAMPLE times the size, the picture it shrinks to and the PNG writer's copy, all RGB."""
    return 3 * (SUPERSAMPLE ** 2 + 2) * width * height


def draw_diagram(spec: Any, layout: Any, thumbnails: Sequence[np.ndarray],
                 inputs: Sequence[np.ndarray]) -> Image.Image:
    """The diagram as an RGB picture `layout.width` wide.

    `thumbnails`: per column, RGB uint8 (n, H, W, 3) for the nodes shown, in order; `inputs`: one
    or two RGB (H, W, 3) pictures for the input column (the image, and what each pixel adds).
    """
    s = SUPERSAMPLE
    canvas = Image.new("RGB", (layout.width * s, layout.height * s), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    small, normal, large = _font(11 * s), _font(13 * s), _font(17 * s)
    draw.text((24 * s, 12 * s), spec.title, fill=INK, font=large)
    draw.text((24 * s, 38 * s), spec.subtitle, fill=MUTED, font=small)

    for edge in sorted(spec.edges, key=lambda e: 0 if math.isnan(e.value) else abs(e.value)):
        _draw_edge(draw, layout, edge, spec.scale_of(edge))

    x, y, side = layout.input_box
    draw.text((x * s, (layout.title_y + 4) * s), spec.input_title, fill=INK, font=normal)
    boxes = [layout.input_box] + ([layout.second_input] if layout.second_input else [])
    for (bx, by, bside), picture, caption in zip(boxes, inputs, spec.input_captions):
        _paste(canvas, picture, bx * s, by * s, bside * s)
        draw.text((bx * s, (by + bside + 2) * s), caption, fill=MUTED, font=small)
        draw.rectangle((bx * s, by * s, (bx + bside) * s, (by + bside) * s), outline=MUTED,
                       width=s)

    node = layout.node
    for index, (column, pictures) in enumerate(zip(spec.columns, thumbnails)):
        cx = layout.columns_x[index]
        draw.text((cx * s, (layout.title_y + 4) * s), column.title, fill=INK, font=normal)
        for position, (ny, label) in enumerate(zip(layout.node_y[index], column.labels)):
            _paste(canvas, pictures[position], cx * s, ny * s, node * s)
            marked = position == column.highlight
            draw.rectangle((cx * s, ny * s, (cx + node) * s, (ny + node) * s),
                           outline=HIGHLIGHT if marked else MUTED, width=(3 if marked else 1) * s)
            draw.text((cx * s, (ny + node + 1) * s), shown(label, 24), fill=INK, font=small)
        if column.more:
            band = layout.band_y[index]
            draw.rounded_rectangle((cx * s, band * s, (cx + 150) * s, (band + 18) * s),
                                   radius=4 * s, fill=(238, 238, 238))
            draw.text(((cx + 5) * s, (band + 3) * s), column.more, fill=MUTED, font=small)
    _draw_legend(draw, layout, spec, small)
    return canvas.reduce(SUPERSAMPLE)


def _draw_edge(draw: ImageDraw.ImageDraw, layout: Any, edge: Any, scale: float) -> None:
    s = SUPERSAMPLE
    x0, y0, x1, y1 = layout.edge_ends(edge)
    colour, width = edge_style(edge.value, scale)
    draw.line((x0 * s, y0 * s, x1 * s, y1 * s), fill=colour, width=max(1, round(width * s)))


LEGEND_SAMPLES = (-1.0, -0.75, -0.5, -0.25, 0.25, 0.5, 0.75, 1.0)


def legend_lines(spec: Any) -> tuple[str, str]:
    """The legend's heading, and what 100% is in each gap between columns."""
    gaps = ", ".join(f"into {column.title.split(':')[0].lower()} {scale:.3g}"
                     for column, scale in zip(spec.columns, spec.edge_scales))
    return (f"Edge colour and width: {spec.edge_meaning}, as a share of the strongest edge "
            "drawn in its gap", f"Strongest edge drawn: {gaps}. Node pictures: what the node "
            f"looks for (linear method, {spec.node_colours})")


def _draw_legend(draw: ImageDraw.ImageDraw, layout: Any, spec: Any,
                 font: object) -> None:
    """Sample strokes from -100% to +100% of each gap's scale, the scales, and what the
    pictures mean."""
    s = SUPERSAMPLE
    x, y, _, _ = layout.legend
    heading, note = legend_lines(spec)
    draw.text((x * s, y * s), heading, fill=INK, font=font)
    for slot, fraction in enumerate(LEGEND_SAMPLES):
        left = x + slot * 64
        colour, stroke = edge_style(fraction, 1.0)
        draw.line((left * s, (y + 24) * s, (left + 44) * s, (y + 24) * s), fill=colour,
                  width=max(1, round(stroke * s)))
        draw.text((left * s, (y + 30) * s), f"{fraction:+.0%}", fill=MUTED, font=font)
    draw.text(((x + len(LEGEND_SAMPLES) * 64 + 16) * s, (y + 18) * s), note, fill=MUTED,
              font=font)
