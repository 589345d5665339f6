"""A network diagram as SVG text: the same layout as the PNG, scalable, with every node's and
edge's numbers as <title> tooltips (thumbnails embedded as small PNGs)."""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from html import escape
from typing import Any

import numpy as np

from .diagram import HIGHLIGHT, INK, LEGEND_SAMPLES, MUTED, edge_style, legend_lines
from .png import encode_png
from .text import shown


def _rgb(colour: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)


def _image(pixels: np.ndarray, x: float, y: float, side: int) -> str:
    data = base64.b64encode(encode_png(pixels)).decode("ascii")
    return (f'<image x="{x:.0f}" y="{y:.0f}" width="{side}" height="{side}" '
            f'style="image-rendering:pixelated" href="data:image/png;base64,{data}"/>')


def _text(x: float, y: float, text: str, size: int, colour: tuple[int, int, int]) -> str:
    return (f'<text x="{x:.0f}" y="{y + size:.0f}" font-size="{size}" '
            f'fill="{_rgb(colour)}">{escape(text)}</text>')


def diagram_svg(spec: Any, layout: Any, thumbnails: Sequence[np.ndarray],
                inputs: Sequence[np.ndarray]) -> str:
    """The SVG document; arguments as for `render.diagram.draw_diagram`."""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{layout.width}" '
             f'height="{layout.height}" viewBox="0 0 {layout.width} {layout.height}" '
             'font-family="DejaVu Sans, Arial, sans-serif">',
             f'<title>{escape(spec.title)}</title>',
             f'<rect width="{layout.width}" height="{layout.height}" fill="#ffffff"/>',
             _text(24, 12, spec.title, 17, INK), _text(24, 38, spec.subtitle, 11, MUTED)]
    for edge in sorted(spec.edges, key=lambda e: 0 if math.isnan(e.value) else abs(e.value)):
        x0, y0, x1, y1 = layout.edge_ends(edge)
        colour, width = edge_style(edge.value, spec.scale_of(edge))
        tip = "" if math.isnan(edge.value) else \
            f"<title>{escape(spec.edge_meaning)}: {edge.value:+.4f}</title>"
        parts.append(f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" '
                     f'stroke="{_rgb(colour)}" stroke-width="{width:.2f}" '
                     f'stroke-linecap="round">{tip}</line>')
    x, _, _ = layout.input_box
    parts.append(_text(x, layout.title_y + 4, spec.input_title, 13, INK))
    boxes = [layout.input_box] + ([layout.second_input] if layout.second_input else [])
    for (bx, by, side), picture, caption in zip(boxes, inputs, spec.input_captions):
        parts.append(_image(picture, bx, by, side))
        parts.append(_text(bx, by + side + 2, caption, 11, MUTED))
        parts.append(f'<rect x="{bx}" y="{by}" width="{side}" height="{side}" fill="none" '
                     f'stroke="{_rgb(MUTED)}"/>')
    node = layout.node
    for index, (column, pictures) in enumerate(zip(spec.columns, thumbnails)):
        cx = layout.columns_x[index]
        parts.append(_text(cx, layout.title_y + 4, column.title, 13, INK))
        for position, ny in enumerate(layout.node_y[index]):
            marked = position == column.highlight
            parts.append(f'<g><title>{escape(shown(column.tooltips[position], 200))}</title>'
                         + _image(pictures[position], cx, ny, node)
                         + f'<rect x="{cx}" y="{ny}" width="{node}" height="{node}" fill="none" '
                           f'stroke="{_rgb(HIGHLIGHT if marked else MUTED)}" '
                           f'stroke-width="{3 if marked else 1}"/>'
                         + _text(cx, ny + node + 1, shown(column.labels[position], 24), 11,
                                 INK) + '</g>')
        if column.more:
            band = layout.band_y[index]
            parts.append(f'<rect x="{cx}" y="{band}" width="150" height="18" rx="4" '
                         'fill="#eeeeee"/>' + _text(cx + 5, band + 3, column.more, 11, MUTED))
    lx, ly, _, _ = layout.legend
    heading, note = legend_lines(spec)
    parts.append(_text(lx, ly, heading, 11, INK))
    for slot, fraction in enumerate(LEGEND_SAMPLES):
        colour, width = edge_style(fraction, 1.0)
        left = lx + slot * 64
        parts.append(f'<line x1="{left}" y1="{ly + 24}" x2="{left + 44}" y2="{ly + 24}" '
                     f'stroke="{_rgb(colour)}" stroke-width="{width:.2f}"/>'
                     + _text(left, ly + 30, f"{fraction:+.0%}", 11, MUTED))
    parts.append(_text(lx + len(LEGEND_SAMPLES) * 64 + 16, ly + 18, note, 11, MUTED))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
