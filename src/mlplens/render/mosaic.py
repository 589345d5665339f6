"""Pillow mosaics: every node of a layer as one labelled picture, fast enough for 512 nodes; grey
pictures through a colormap, colour ones as they are or channel by channel side by side."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .text import fitted, shown

BACKGROUND = (255, 255, 255)
TEXT = (20, 20, 20)


@dataclass(frozen=True)
class Legend:
    """A colour bar under the mosaic: what pixel 0, 128 and 255 mean, e.g. ('-0.42', '0', '+0.42').

    For colour pictures drawn as they are, `channel_base` makes the bar three ramps, one per
    channel, the other two channels held at that pixel value (0, or 128 where mid-grey is 0);
    `note` is a line under the bar saying what the colours mean.
    """

    low: str
    middle: str
    high: str
    channel_base: int | None = None
    note: str = ""


CHANNEL_LETTERS = "RGB"
CHANNEL_GAP = 1  # image pixels between a node's channels drawn side by side
LEGEND_H, RAMP_H, NOTE_H = 44, 8, 16


def _legend_height(legend: Legend | bool | None) -> int:
    if not legend:
        return 0
    if not isinstance(legend, Legend):
        return LEGEND_H
    ramps = 3 * (RAMP_H + 1) - 12 if legend.channel_base is not None else 0
    return LEGEND_H + ramps + (NOTE_H if legend.note else 0)


def picture_width(width: int, channels: int, side_by_side: bool) -> int:
    """A tile's width in image pixels: the picture's, or its channels' side by side."""
    return channels * width + (channels - 1) * CHANNEL_GAP if side_by_side else width


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
    letters_h: int = 0  # the band of channel letters under each tile (channels side by side)

    @classmethod
    def of(cls, count: int, height: int, width: int, scale: int, columns: int | None,
           labelled: bool, title: str | None, legend: Legend | bool | None,
           channels: int = 1, side_by_side: bool = False) -> "Layout":
        if side_by_side and columns is None and count > 10:  # tiles a node's channels wide
            columns = grid_shape(count)[1] // 2
        rows, columns = grid_shape(count, columns)
        tile_h, tile_w = height * scale, picture_width(width, channels, side_by_side) * scale
        gap = max(2, scale * 2)
        label_size = max(9, min(16, 4 + 3 * scale)) if labelled else 0
        label_h = label_size + 3 if labelled else 0
        letters_h = max(9, min(16, 4 + 3 * scale)) + 2 if side_by_side else 0
        title_size = 18
        title_h = title_size + 12 if title else 0
        legend_h = _legend_height(legend)
        # Side by side, nodes stand further apart than a node's channels do.
        cell_h, cell_w = label_h + tile_h + letters_h + gap, tile_w + gap * (2 if side_by_side
                                                                             else 1)
        title_w = int(_font(title_size).getlength(title)) + 2 * gap if title else 0
        note = legend.note if isinstance(legend, Legend) else ""
        note_w = int(_font(12).getlength(note)) + 2 * gap if note else 0
        canvas_w = max(columns * cell_w + gap, 320 if (title or legend) else 0, title_w, note_w)
        canvas_h = title_h + rows * cell_h + gap + legend_h
        return cls(rows, columns, tile_w, gap, label_size, label_h, title_size, title_h, legend_h,
                   cell_h, cell_w, canvas_h, canvas_w, letters_h)


def mosaic_bytes(count: int, height: int, width: int, scale: int, columns: int | None = None,
                 labelled: bool = True, title: str | None = None,
                 legend: Legend | bool | None = True, channels: int = 1,
                 side_by_side: bool = False) -> int:
    """The memory `node_mosaic` and saving its PNG take at their peak, from the layout alone."""
    layout = Layout.of(count, height, width, scale, columns, labelled, title, legend, channels,
                       side_by_side)
    return BYTES_PER_PIXEL * layout.canvas_h * layout.canvas_w


def _blank(shape: tuple[int, ...], colour: tuple[int, int, int]) -> np.ndarray:
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


def coloured_tiles(images: np.ndarray, lut: np.ndarray, side_by_side: bool = False) -> np.ndarray:
    """(n, H, W', 3) RGB tiles: grey images (n, H, W) through the colour table; colour images
    (n, H, W, C) as they are or, side by side, each channel through the table next to the
    others with CHANNEL_GAP background pixels between them."""
    if images.ndim == 3:
        return lut[images]
    if not side_by_side:
        return images
    count, height, width, channels = images.shape
    tiles = _blank((count, height, channels, width + CHANNEL_GAP, 3), BACKGROUND)
    tiles[:, :, :, :width] = lut[images.transpose(0, 1, 3, 2)]
    return tiles.reshape(count, height, -1, 3)[:, :, :picture_width(width, channels, True)]


def _channel_letters(layout: Layout, width: int, channels: int, scale: int) -> np.ndarray:
    """The band under a side-by-side tile: R, G, B centred under each channel's picture."""
    band = Image.new("RGB", (layout.tile_w, layout.letters_h), BACKGROUND)
    draw = ImageDraw.Draw(band)
    font = _font(layout.letters_h - 2)
    for channel, letter in zip(range(channels), CHANNEL_LETTERS):
        centre = (channel * (width + CHANNEL_GAP) * scale) + width * scale // 2
        draw.text((centre - _text_width(draw, letter, font) // 2, 0), letter, fill=TEXT,
                  font=font)
    return np.asarray(band)


def _legend_bar(canvas: np.ndarray, lut: np.ndarray, legend: Legend, top: int, left: int,
                width: int) -> int:
    """Draw the legend's bar; returns the row under it. Through the colour table, or for colour
    pictures one ramp per channel, the other channels held at `legend.channel_base`."""
    ramp = np.linspace(0, 255, width).round().astype(np.uint8)
    if legend.channel_base is None:
        canvas[top:top + 12, left:left + width] = lut[ramp][None, :, :]
        return top + 12
    for channel in range(3):
        colours = np.full((width, 3), legend.channel_base, np.uint8)
        colours[:, channel] = ramp
        row = top + channel * (RAMP_H + 1)
        canvas[row:row + RAMP_H, left:left + width] = colours[None, :, :]
    return top + 3 * (RAMP_H + 1)


def node_mosaic(
    images: np.ndarray,
    lut: np.ndarray,
    labels: Sequence[str] | None = None,
    columns: int | None = None,
    scale: int = 2,
    title: str | None = None,
    legend: Legend | None = None,
    side_by_side: bool = False,
    fit_labels: bool = False,
) -> Image.Image:
    """Tile uint8 images (n, H, W) through a (256, 3) colour table, each under its label.

    Colour images (n, H, W, 3) are drawn as they are, or with `side_by_side` each channel
    through the table next to the others, lettered R, G, B underneath. With `fit_labels`
    (names of the user's choosing, such as class names) a label wider than its tile is cut short
    with an ellipsis; mlplens' own captions are drawn whole.
    """
    images = np.asarray(images)
    colour = images.ndim == 4 and images.shape[3] == 3
    if not (images.ndim == 3 or colour) or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (n, H, W) or (n, H, W, 3), got {images.dtype} "
                         f"{images.shape}")
    if side_by_side and not colour:
        raise ValueError("only colour images (n, H, W, 3) have channels to draw side by side")
    if scale < 1:
        raise ValueError(f"scale must be at least 1, got {scale}")
    count, height, width = images.shape[:3]
    channels = 3 if colour else 1
    layout = Layout.of(count, height, width, scale, columns, labels is not None, title,
                       legend, channels, side_by_side)
    columns, tile_w, gap = layout.columns, layout.tile_w, layout.gap
    label_size, label_h, title_h = layout.label_size, layout.label_h, layout.title_h
    cell_h, cell_w = layout.cell_h, layout.cell_w
    canvas_h, canvas_w, legend_h = layout.canvas_h, layout.canvas_w, layout.legend_h
    canvas = _blank((canvas_h, canvas_w, 3), BACKGROUND)

    # Colour with one table lookup for the layer and widen each row by the scale, then write
    # every tile through one strided view of the canvas that repeats each row `scale` times:
    # no per-tile loop, and each copied run is a whole tile row.
    coloured = coloured_tiles(images, lut, side_by_side).repeat(scale, axis=2).reshape(
        count, height, tile_w * 3)
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
    if side_by_side:
        letters = _channel_letters(layout, width, channels, scale)
        below = height * scale
        for x, y in origins:
            canvas[y + below:y + below + layout.letters_h, x:x + tile_w] = letters

    if legend:
        bar_top, bar_left = canvas_h - legend_h + 6, gap + 40
        bar_w = min(256 * 2, canvas_w - 2 * bar_left)
        bar_bottom = _legend_bar(canvas, lut, legend, bar_top, bar_left, bar_w)

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
                if fit_labels:
                    text = fitted(shown(text), tile_w + gap,
                                  lambda part: _text_width(draw, part, font))
                x = left + (tile_w - _text_width(draw, text, font)) // 2
                draw.text((x, top - label_h), text, fill=TEXT, font=font)
    if legend:
        font = _font(12)
        for fraction, text in ((0.0, legend.low), (0.5, legend.middle), (1.0, legend.high)):
            text_w = _text_width(draw, text, font)
            x = bar_left + int(fraction * (bar_w - 1)) - text_w // 2
            x = max(2, min(x, canvas_w - text_w - 2))  # keep end labels inside the picture
            draw.text((x, bar_bottom + 4), text, fill=TEXT, font=font)
        if legend.channel_base is not None:
            small = _font(9)
            for channel, letter in enumerate(CHANNEL_LETTERS):
                draw.text((bar_left - 10, bar_top + channel * (RAMP_H + 1) - 1), letter,
                          fill=TEXT, font=small)
        if legend.note:
            draw.text((gap, bar_bottom + 4 + NOTE_H), legend.note, fill=TEXT, font=font)
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
