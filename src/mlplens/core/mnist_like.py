"""A drawn digit -> a 28x28 MNIST-style input: the algorithm the explorer's page runs, in NumPy.

MNIST's digits were made by fitting each stroke image into a 20x20 box (keeping its aspect ratio,
anti-aliased) and placing that box in a 28x28 field so that its centre of mass is at the centre.
The page does exactly this to the ink of its drawing canvas (`mnistLike` in
report/assets/js/mnist_like.js); this function is the reference its tests compare against, and a
way to feed scanned digits in Python.
"""

from __future__ import annotations

import math

import numpy as np

FIELD = 28
BOX = 20


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


def mnist_like(ink: np.ndarray) -> np.ndarray:
    """Ink (H, W) in [0, 1] (any size) -> uint8 (28, 28), fitted into 20x20 and centred by mass.

    1. Crop to the bounding box of the pixels with ink > 0 (no ink: all zeros).
    2. Resize by area averaging so the longer side is 20 pixels and the other keeps the aspect
       ratio: round_half_up(side * 20 / longer), at least 1.
    3. Place it in 28x28 at offset round_half_up(13.5 - centre of mass) on each axis (pixel
       indices; 13.5 is the field's centre), clamped so the box stays inside the field.
    4. Pixels = round_half_up(255 * value).
    """
    ink = np.asarray(ink, dtype=np.float64)
    rows = np.flatnonzero((ink > 0).any(axis=1))
    cols = np.flatnonzero((ink > 0).any(axis=0))
    out = np.zeros((FIELD, FIELD))
    if rows.size == 0:
        return out.astype(np.uint8)
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    height, width = crop.shape
    longer = max(height, width)
    new_h = max(1, round_half_up(height * BOX / longer))
    new_w = max(1, round_half_up(width * BOX / longer))
    small = box_weights(height, new_h) @ crop @ box_weights(width, new_w).T
    mass = small.sum()
    centre_y = (small.sum(axis=1) @ np.arange(new_h)) / mass
    centre_x = (small.sum(axis=0) @ np.arange(new_w)) / mass
    top = min(max(round_half_up(13.5 - centre_y), 0), FIELD - new_h)
    left = min(max(round_half_up(13.5 - centre_x), 0), FIELD - new_w)
    out[top:top + new_h, left:left + new_w] = small
    return np.clip(np.floor(out * 255 + 0.5), 0, 255).astype(np.uint8)
