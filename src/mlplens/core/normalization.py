"""Display normalisation: each node's row of values -> uint8 pixels, row by row.

`minmax` is the article's; `symmetric` and `layer` keep the sign (0 is mid-grey), which fixes
the article's own complaint that an all-negative node still shows the full 0-255 range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MODES = ("minmax", "symmetric", "layer")
MID_GREY = 128
# normalize's peak per value of the rows: a float64 copy and, in the signed modes, up to four
# float64 temporaries at once (min-max: float32 ones), then the uint8 pixels.
NORMALIZE_BYTES_PER_VALUE = 41


@dataclass(frozen=True)
class Normalized:
    """Pixels per node, plus the nodes whose row was constant (drawn flat, never NaN)."""

    pixels: np.ndarray  # uint8 (n_nodes, n_pixels)
    constant_rows: np.ndarray  # int indices of rows with max == min

    @property
    def constant_count(self) -> int:
        return int(self.constant_rows.size)


def rownorm(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The article's trunc((r - min r) * 255 / max(r - min r)), in float32, kept as floats.

    A constant row would divide by zero in the notebook; here it becomes zeros and is flagged.
    Returns (normalised rows, boolean mask of constant rows).
    """
    rows = np.asarray(rows, dtype=np.float32)
    shifted = rows - rows.min(axis=1, keepdims=True)
    span = shifted.max(axis=1, keepdims=True)
    constant = span[:, 0] == 0
    safe_span = np.where(span == 0, np.float32(1), span)
    scaled = np.trunc(shifted * np.float32(255) / safe_span)
    scaled[constant] = 0
    return scaled, constant


def _signed(rows: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Map [-scale, scale] to [1, 255] with 0 at exactly MID_GREY, rounding half away from 0."""
    safe = np.where(scale == 0, 1.0, scale)
    steps = rows / safe * 127.0
    rounded = np.sign(steps) * np.floor(np.abs(steps) + 0.5)
    return (MID_GREY + rounded).astype(np.uint8)


def normalize(rows: np.ndarray, mode: str = "minmax") -> Normalized:
    """Turn a layer's rows (n_nodes, n_pixels) into uint8 pixels with the chosen mode."""
    if mode not in MODES:
        raise ValueError(f"unknown normalisation {mode!r}; choose from {', '.join(MODES)}")
    rows = np.asarray(rows, dtype=np.float64)
    if rows.ndim != 2:
        raise ValueError(f"rows must be 2-D (nodes, pixels), got shape {rows.shape}")
    constant = np.flatnonzero(rows.max(axis=1) == rows.min(axis=1))
    if mode == "minmax":
        scaled, _ = rownorm(rows.astype(np.float32))
        pixels = scaled.astype(np.uint8)
    elif mode == "symmetric":
        pixels = _signed(rows, np.abs(rows).max(axis=1, keepdims=True))
    else:
        pixels = _signed(rows, np.abs(rows).max(keepdims=True))
    return Normalized(pixels, constant)
