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


# A mosaic's peak, per pixel of its canvas: the NumPy canvas (3 bytes), the coloured tiles (up to
# 3), Pillow's copy (4: it stores RGB as RGBX); saving holds Pillow's copy and one array (3).
BYTES_PER_PIXEL = 10


@dataclass(frozen=True)
class Layout:
    """Where everything of a mosaic goes: the grid, the tiles, the label, title and legend
    bands, and the canvas they make."""

    rows: int
    columns: int
    tile_w: int
    gap: int
    label_size: int
    label_h: int
    title_size: int
    title_h: int
    legend_h: int
    cell_h: int
    cell_w: int
    canvas_h: int
    canvas_w: int

    @classmethod
    def of(cls, count: int, height: int, width: int, scale: int, columns: int | None,
           labelled: bool, title: str | None, legend: bool) -> "Layout":
        rows, columns = grid_shape(count, columns)
        tile_h, tile_w = height * scale, width * scale
        gap = max(2, scale * 2)
        label_size = max(9, min(16, 4 + 3 * scale)) if labelled else 0
        label_h = label_size + 3 if labelled else 0
        title_size = 18
        title_h = title_size + 12 if title else 0
        legend_h = 44 if legend else 0
        cell_h, cell_w = label_h + tile_h + gap, tile_w + gap
        title_w = int(_font(title_size).getlength(title)) + 2 * gap if title else 0
        canvas_w = max(columns * cell_w + gap, 320 if (title or legend) else 0, title_w)
        canvas_h = title_h + rows * cell_h + gap + legend_h
        return cls(rows, columns, tile_w, gap, label_size, label_h, title_size, title_h, legend_h,
                   cell_h, cell_w, canvas_h, canvas_w)


def mosaic_bytes(count: int, height: int, width: int, scale: int, columns: int | None = None,
                 labelled: bool = True, title: str | None = None, legend: bool = True) -> int:
    """The memory `node_mosaic` and saving its PNG take at their peak, from the layout alone."""
    layout = Layout.of(count, height, width, scale, columns, labelled, title, legend)
    return BYTES_PER_PIXEL * layout.canvas_h * layout.canvas_w


def _blank(shape: tuple[int, int, int], colour: tuple[int, int, int]) -> np.ndarray:
    """A canvas of one colour; a grey one (e.g. white) is a single fast fill."""
    if len(set(colour)) == 1:
        return np.full(shape, colour[0], dtype=np.uint8)
    return np.full(shape, colour, dtype=np.uint8)


def _tile_view(canvas: np.ndarray, top: int, left: int, rows: int, columns: int, cell_h: int,
               cell_w: int, height: int, row_bytes: int, scale: int) -> np.ndarray:
    """A writable (rows, columns, height, scale, row_bytes) view of a block of tiles.

    Element [r, c, y, dy, b] is byte b of canvas row top + r*cell_h + y*scale + dy, counted
    from column left + c*cell_w: assigning (rows, columns, height, 1, row_bytes) tile rows to it
    draws each tile row `scale` times. The canvas is C-contiguous (H, W, 3) uint8.
    """
    row_stride = canvas.strides[0]
    return np.lib.stride_tricks.as_strided(
        canvas[top:, left:], shape=(rows, columns, height, scale, row_bytes),
        strides=(cell_h * row_stride, cell_w * 3, scale * row_stride, row_stride, 1))


@dataclass(frozen=True)
class _Glyph:
    """One digit of the label font: its coverage mask, where the mask sits relative to the
    text origin, its advance, and its bounding box's left and right edges."""

    mask: np.ndarray  # uint8 (h, w) antialiased coverage
    left: int
    top: int
    advance: int
    box_left: int
    box_right: int


DIGITS = "0123456789"


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


@lru_cache(maxsize=None)
def _digit_glyphs(size: int) -> dict[str, _Glyph] | None:
    """The label font's digits, for drawing node numbers by pasting cached glyphs.

    Pillow lays text out glyph by glyph at whole-pixel pen positions. When the digits have
    whole-pixel advances and no kerning between them (checked here), a number drawn from the
    cached digit masks has exactly the pixels `ImageDraw.text` gives (a test compares them),
    for a small part of the cost: otherwise the labels take longer than the rest of a 512-node
    mosaic. None when the font does not qualify: labels are then drawn with Pillow.
    """
    font = _font(size)
    advances = {digit: font.getlength(digit) for digit in DIGITS}
    if any(advance != int(advance) for advance in advances.values()):
        return None
    if any(font.getlength(a + b) != advances[a] + advances[b] for a in DIGITS for b in DIGITS):
        return None
    glyphs = {}
    pad = 2 * size
    for digit in DIGITS:
        sheet = Image.new("L", (int(advances[digit]) + 2 * pad, 4 * size), 0)
        ImageDraw.Draw(sheet).text((pad, pad), digit, fill=255, font=font)
        coverage = np.asarray(sheet)
        rows, columns = np.nonzero(coverage)
        box_left, _, box_right, _ = font.getbbox(digit)
        glyphs[digit] = _Glyph(
            coverage[rows.min():rows.max() + 1, columns.min():columns.max() + 1].copy(),
            int(columns.min()) - pad, int(rows.min()) - pad, int(advances[digit]),
            int(box_left), int(box_right))
    return glyphs


def _draw_numbers(picture: Image.Image, texts: Sequence[str], origins: Sequence[tuple[int, int]],
                  tile_w: int, label_h: int, glyphs: dict[str, _Glyph]) -> None:
    """Each number centred above its tile, as `ImageDraw.text` would draw it, in one blend."""
    coverage = np.zeros((picture.height, picture.width), np.uint8)
    for (left, top), text in zip(origins, texts):
        first, last = glyphs[text[0]], glyphs[text[-1]]
        width = sum(glyphs[digit].advance for digit in text[:-1]) + last.box_right \
            - first.box_left
        pen_x, pen_y = left + (tile_w - width) // 2, top - label_h
        for digit in text:
            glyph = glyphs[digit]
            x, y = pen_x + glyph.left, pen_y + glyph.top
            height, glyph_w = glyph.mask.shape
            if x >= 0 and y >= 0:
                region = coverage[y:y + height, x:x + glyph_w]
                np.maximum(region, glyph.mask[:region.shape[0], :region.shape[1]], out=region)
            pen_x += glyph.advance
    picture.paste(TEXT, (0, 0), Image.fromarray(coverage, "L"))


def _text_width(draw: ImageDraw.ImageDraw, text: str, font) -> int:
    left, _, right, _ = draw.textbbox((0, 0), text, font=font)
    return int(right - left)


def _fitted(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    """`text`, cut short with an ellipsis if it is wider than `width` (a class name under its
    tile would otherwise run into the next tile's)."""
    if _text_width(draw, text, font) <= width:
        return text
    while len(text) > 1 and _text_width(draw, text + "…", font) > width:
        text = text[:-1]
    return text + "…"


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
    layout = Layout.of(count, height, width, scale, columns, labels is not None, title,
                       legend is not None)
    columns, tile_w, gap = layout.columns, layout.tile_w, layout.gap
    label_size, label_h, title_h = layout.label_size, layout.label_h, layout.title_h
    cell_h, cell_w = layout.cell_h, layout.cell_w
    canvas_h, canvas_w, legend_h = layout.canvas_h, layout.canvas_w, layout.legend_h
    canvas = _blank((canvas_h, canvas_w, 3), BACKGROUND)

    # Colour with one table lookup for the layer and widen each row by the scale, then write
    # every tile through one strided view of the canvas that repeats each row `scale` times:
    # no per-tile loop, and each copied run is a whole tile row.
    coloured = lut[images].repeat(scale, axis=2).reshape(count, height, tile_w * 3)
    top, left = title_h + gap + label_h, gap
    full_rows, rest = divmod(count, columns)
    for first_row, row_count, column_count in ((0, full_rows, columns), (full_rows, 1, rest)):
        if row_count and column_count:
            first = first_row * columns
            tiles = coloured[first:first + row_count * column_count]
            _tile_view(canvas, top + first_row * cell_h, left, row_count, column_count, cell_h,
                       cell_w, height, tile_w * 3, scale)[...] = tiles.reshape(
                row_count, column_count, height, 1, tile_w * 3)
    origins = [(left + (index % columns) * cell_w, top + (index // columns) * cell_h)
               for index in range(count)]

    if legend:
        bar_top, bar_left = canvas_h - legend_h + 6, gap + 40
        bar_w = min(256 * 2, canvas_w - 2 * bar_left)
        ramp = lut[np.linspace(0, 255, bar_w).round().astype(np.uint8)]
        canvas[bar_top:bar_top + 12, bar_left:bar_left + bar_w] = ramp[None, :, :]

    picture = Image.fromarray(canvas, "RGB")
    draw = ImageDraw.Draw(picture)
    if title:
        draw.text((gap, 6), title, fill=TEXT, font=_font(layout.title_size))
    if labels is not None:
        texts = [str(label) for label in labels]
        glyphs = _digit_glyphs(label_size) if all(map(_is_number, texts)) else None
        if glyphs is not None:
            _draw_numbers(picture, texts, origins, tile_w, label_h, glyphs)
        else:
            font = _font(label_size)
            for (left, top), text in zip(origins, texts):
                text = _fitted(draw, text, font, tile_w + gap)
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


def stacked(panels: Sequence[tuple[str, Image.Image]], gap: int = 8) -> Image.Image:
    """Put pictures one under another, each under its own heading (e.g. a row per
    randomisation step)."""
    heading_size = 16
    heading_h = heading_size + 8
    font = _font(heading_size)
    width = max(max(image.width, int(font.getlength(heading)) + 2 * gap)
                for heading, image in panels)
    height = sum(heading_h + image.height + gap for _, image in panels)
    picture = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(picture)
    top = 0
    for heading, image in panels:
        draw.text((gap, top + 4), heading, fill=TEXT, font=font)
        picture.paste(image, (0, top + heading_h))
        top += heading_h + image.height + gap
    return picture
