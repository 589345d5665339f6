"""Training images as the network takes them, in memory JAX's CPU client can share."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.pixel_scale import UNIT, PixelScale

ALIGNMENT = 64  # bytes: JAX's CPU client shares host memory this aligned instead of copying


def aligned_empty(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """An uninitialised C-contiguous array whose data start on an ALIGNMENT-byte boundary."""
    dtype = np.dtype(dtype)
    size = math.prod(shape) * dtype.itemsize
    buffer = np.empty(size + ALIGNMENT, np.uint8)
    offset = -buffer.ctypes.data % ALIGNMENT
    return buffer[offset:offset + size].view(dtype).reshape(shape)


def as_inputs(images: np.ndarray, scale: PixelScale = UNIT) -> np.ndarray:
    """Flatten images (brightness: uint8 0-255 or floats in [0, 1]) onto the pixel scale the
    network trains on (the article's: 0-1), into aligned memory."""
    flat = images.reshape(len(images), -1)
    out = aligned_empty(flat.shape, np.float32)
    if flat.dtype == np.uint8:
        np.divide(flat, np.float32(255), out=out, dtype=np.float32)
    else:
        out[...] = flat
    return scale.scaled(out, in_place=True)
