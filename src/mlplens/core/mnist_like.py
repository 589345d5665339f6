"""An ink image -> a 28x28 MNIST-style input (`mnist_like`), as `diagram --image` and the
explorer's page make one.

MNIST's digits were made by fitting each stroke image into a 20x20 box (keeping its aspect ratio,
anti-aliased) and placing that box in a 28x28 field so that its centre of mass is at the centre
(`place_by_mass`): `mnist_like` crops an ink image (a scan, a loaded picture) and resizes it
into the box, so its strokes get as thick as the resizing makes them. The page does the same
(report/assets/js/mnist_like.js); its drawing pen (`PEN`, MNIST's mean stroke width) and the
least ink it takes for a digit (`MIN_ROWS`, `MIN_INK`) are defined here and sent to it. The
NumPy references of the page's other algorithms (the pen, the as-is loader, the ink check)
live with the tests that hold the JavaScript to them (tests/mnist_like_reference.py).
"""

from __future__ import annotations

import math

import numpy as np

FIELD = 28
BOX = 20
# The pen's diameter in the 28x28 field. With it, `mean_stroke_width` of drawn digits equals
# that of MNIST's training digits, 2.86 px (see tests/test_explorer.py and
# tests/mnist_like_reference.py).
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
