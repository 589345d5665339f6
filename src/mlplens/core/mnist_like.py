"""A drawn digit -> a 28x28 MNIST-style input: the algorithms the explorer's page runs, in NumPy.

MNIST's digits were made by fitting each stroke image into a 20x20 box (keeping its aspect ratio,
anti-aliased) and placing that box in a 28x28 field so that its centre of mass is at the centre.
Two ways in, one way out (`place_by_mass`):

- `mnist_like`: an ink image (a scan, a loaded picture) is cropped and resized into the box;
  its strokes get as thick as the resizing makes them.
- `strokes_like`: a drawing's strokes (polylines) are scaled into the box and only then drawn,
  with a pen of MNIST's mean stroke width (`PEN`), so the strokes are as thick as MNIST's
  whatever the drawing's size.

And one way around: `as_is`, a loaded picture taken as it is (the explorer's other choice), is
only resized to 28x28 by area averaging: no crop, no centring, its aspect ratio not kept.

The page does exactly this (report/assets/js/mnist_like.js, image_input.js and pen.js); these
functions are the reference its tests compare against. `mean_stroke_width` is the measure `PEN`
was chosen by.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

FIELD = 28
BOX = 20
# The pen's diameter in the 28x28 field. With it, `mean_stroke_width` of drawn digits equals
# that of MNIST's training digits, 2.86 px (see tests/test_explorer.py).
PEN = 2.5
# Less ink than any MNIST digit has: the page asks for a digit instead of predicting one. Each
# of MNIST's 60,000 training digits spans at least 9 rows and holds at least 19.9 pixels' worth
# of ink (sum / 255); a dot drawn with the pen spans 3 rows, a dash across 3 or 4.
MIN_ROWS = 6
MIN_INK = 12.0


def round_half_up(value: float) -> int:
    """floor(x + 0.5): the same rounding in NumPy and JavaScript (Math.floor(x + 0.5))."""
    return int(math.floor(value + 0.5))


def box_weights(source: int, target: int) -> np.ndarray:
    """(target, source) area-averaging weights: output i averages source [i*s, (i+1)*s), s = source/target."""
    step = source / target
    weights = np.zeros((target, source))
    for i in range(target):
        start, stop = i * step, (i + 1) * step
        for r in range(int(math.floor(start)), min(source, int(math.ceil(stop)))):
            overlap = min(stop, r + 1) - max(start, r)
            if overlap > 0:
                weights[i, r] = overlap / step
    return weights


def place_by_mass(small: np.ndarray) -> np.ndarray:
    """Ink (h, w) in [0, 1], h and w at most 28 -> uint8 (28, 28): placed at offset
    round_half_up(13.5 - centre of mass) on each axis (pixel indices; 13.5 is the field's
    centre), clamped so it stays inside the field; pixels = round_half_up(255 * value)."""
    out = np.zeros((FIELD, FIELD))
    mass = small.sum()
    if mass > 0:
        new_h, new_w = small.shape
        centre_y = (small.sum(axis=1) @ np.arange(new_h)) / mass
        centre_x = (small.sum(axis=0) @ np.arange(new_w)) / mass
        top = min(max(round_half_up(13.5 - centre_y), 0), FIELD - new_h)
        left = min(max(round_half_up(13.5 - centre_x), 0), FIELD - new_w)
        out[top:top + new_h, left:left + new_w] = small
    return np.clip(np.floor(out * 255 + 0.5), 0, 255).astype(np.uint8)


def mnist_like(ink: np.ndarray) -> np.ndarray:
    """Ink (H, W) in [0, 1] (any size) -> uint8 (28, 28), fitted into 20x20 and centred by mass.

    1. Crop to the bounding box of the pixels with ink > 0 (no ink: all zeros).
    2. Resize by area averaging so the longer side is 20 pixels and the other keeps the aspect
       ratio: round_half_up(side * 20 / longer), at least 1.
    3. `place_by_mass`.
    """
    ink = np.asarray(ink, dtype=np.float64)
    rows = np.flatnonzero((ink > 0).any(axis=1))
    cols = np.flatnonzero((ink > 0).any(axis=0))
    if rows.size == 0:
        return np.zeros((FIELD, FIELD), np.uint8)
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    height, width = crop.shape
    longer = max(height, width)
    new_h = max(1, round_half_up(height * BOX / longer))
    new_w = max(1, round_half_up(width * BOX / longer))
    return place_by_mass(box_weights(height, new_h) @ crop @ box_weights(width, new_w).T)


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
