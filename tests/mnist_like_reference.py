"""NumPy references of the explorer's drawing algorithms (report/assets/js/image_input.js, pen.js
and enough_ink.js), which only the tests call: the page's JavaScript is held to them.

- `strokes_like`: a drawing's strokes (polylines) are scaled into MNIST's 20x20 box and only
  then drawn, with a pen of MNIST's mean stroke width (`PEN`), so the strokes are as thick as
  MNIST's whatever the drawing's size; then placed by mass like `mnist_like`.
- `as_is`: a loaded picture taken as it is (the explorer's other choice), only resized by area
  averaging: no crop, no centring, its aspect ratio not kept.
- `enough_ink`: whether an input holds ink enough to be a digit.
- `mean_stroke_width`: the measure `PEN` was chosen by.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from mlplens.core.mnist_like import (
    BOX,
    FIELD,
    MIN_INK,
    MIN_ROWS,
    PEN,
    box_weights,
    place_by_mass,
)


def as_is(picture: np.ndarray, shape: tuple[int, int] = (FIELD, FIELD)) -> np.ndarray:
    """A picture in [0, 1] (any size), greyscale (H, W) or colour (H, W, C) -> uint8 `shape`
    (28x28 unless told), with the channels kept, by area averaging alone;
    pixels = round_half_up(255 * value)."""
    picture = np.asarray(picture, dtype=np.float64)
    height, width = picture.shape[:2]
    rows, columns = box_weights(height, shape[0]), box_weights(width, shape[1])
    if picture.ndim == 2:
        small = rows @ picture @ columns.T
    else:
        small = np.stack([rows @ picture[:, :, c] @ columns.T
                          for c in range(picture.shape[2])], axis=-1)
    return np.clip(np.floor(small * 255 + 0.5), 0, 255).astype(np.uint8)


def pen_ink(strokes: Sequence[np.ndarray], shape: tuple[int, int], pen: float = PEN
            ) -> np.ndarray:
    """Strokes ((n, 2) arrays of x, y; one point is a dot) drawn with a round pen of diameter
    `pen` onto a grid of `shape` whose pixel (i, j) has its centre at (j + 0.5, i + 0.5).

    A pixel's ink is clip(pen / 2 + 0.5 - d, 0, 1), d its centre's distance to the nearest
    stroke: full inside the pen, fading over one pixel at the edge, so the ink across a
    straight stroke adds up to exactly `pen`.
    """
    rows, cols = shape
    y, x = np.mgrid[0:rows, 0:cols]
    px, py = (x + 0.5).ravel(), (y + 0.5).ravel()
    nearest = np.full(px.shape, np.inf)
    for stroke in strokes:
        stroke = np.asarray(stroke, dtype=np.float64).reshape(-1, 2)
        ends = stroke[1:] if len(stroke) > 1 else stroke
        for (ax, ay), (bx, by) in zip(stroke, ends):
            dx, dy = bx - ax, by - ay
            length2 = dx * dx + dy * dy
            t = (np.clip(((px - ax) * dx + (py - ay) * dy) / length2, 0, 1) if length2 > 0
                 else np.zeros_like(px))
            ex, ey = ax + t * dx - px, ay + t * dy - py
            nearest = np.minimum(nearest, np.sqrt(ex * ex + ey * ey))
    return np.clip(pen / 2 + 0.5 - nearest, 0, 1).reshape(shape)


def strokes_like(strokes: Sequence[np.ndarray], pen: float = PEN) -> np.ndarray:
    """A drawing's strokes (x, y in any units) -> uint8 (28, 28), drawn at MNIST's stroke width.

    1. Scale the points so that their bounding box's longer side is 20 - pen: drawn with the
       pen, the ink's longer side is 20, as MNIST's (a single dot keeps scale 20 - pen).
    2. Draw them with `pen_ink` onto the smallest grid that holds the ink.
    3. `place_by_mass`.
    """
    strokes = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in strokes]
    if not strokes or not sum(len(s) for s in strokes):
        return np.zeros((FIELD, FIELD), np.uint8)
    points = np.concatenate(strokes)
    low = points.min(axis=0)
    extent = points.max(axis=0) - low
    scale = (BOX - pen) / max(float(extent.max()), 1.0)
    shape = (math.ceil(extent[1] * scale + pen), math.ceil(extent[0] * scale + pen))
    return place_by_mass(pen_ink([(s - low) * scale + pen / 2 for s in strokes], shape, pen))


def strokes_onto(pixels: np.ndarray, strokes: Sequence[np.ndarray], scale: float,
                 pen: float = PEN) -> np.ndarray:
    """Strokes on a uint8 (28, 28) digit, where they are (points times `scale`), with the pen:
    each pixel the more inked of the two."""
    ink = pen_ink([np.asarray(s, dtype=np.float64).reshape(-1, 2) * scale for s in strokes],
                  (FIELD, FIELD), pen)
    return np.maximum(np.asarray(pixels, np.uint8), np.floor(ink * 255 + 0.5).astype(np.uint8))


def enough_ink(pixels: np.ndarray) -> bool:
    """Whether a uint8 28x28 input has ink enough to be a digit (`MIN_ROWS`, `MIN_INK`)."""
    pixels = np.asarray(pixels, dtype=np.float64)
    rows = np.flatnonzero(pixels.any(axis=1))
    return bool(rows.size and rows[-1] - rows[0] + 1 >= MIN_ROWS
                and pixels.sum() / 255 >= MIN_INK)


def _thin(binary: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning: the one-pixel-wide skeleton of a binary image."""
    image = np.pad(binary.astype(bool), 1)
    while True:
        changed = False
        for step in (0, 1):
            p = image
            # The 8 neighbours clockwise from north: P2..P9 of Zhang and Suen (1984).
            n = [np.roll(p, shift, axis=(0, 1)) for shift in
                 ((1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1))]
            count = sum(k.astype(int) for k in n)
            turns = sum((~n[i] & n[(i + 1) % 8]).astype(int) for i in range(8))
            p2, p4, p6, p8 = n[0], n[2], n[4], n[6]
            if step == 0:
                keep = (p2 & p4 & p6) | (p4 & p6 & p8)
            else:
                keep = (p2 & p4 & p8) | (p2 & p6 & p8)
            remove = p & (count >= 2) & (count <= 6) & (turns == 1) & ~keep
            if remove.any():
                image = p & ~remove
                changed = True
        if not changed:
            return image[1:-1, 1:-1]


def mean_stroke_width(image: np.ndarray) -> float:
    """A digit's mean stroke width in pixels: its ink area (the sum of its pixels / 255) over
    its stroke length (the pixel count of the skeleton of its pixels >= 128)."""
    image = np.asarray(image, dtype=np.float64)
    length = int(_thin(image >= 128).sum())
    return float(image.sum() / 255 / length) if length else 0.0
