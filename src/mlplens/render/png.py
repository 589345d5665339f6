"""A small, fast PNG writer for mosaics: 8-bit greyscale or RGB, zlib level 1.

Pillow picks a PNG filter for every row by trying them all (libpng's heuristic); on a mosaic of
512 node pictures that search takes several times as long as the compression. A mosaic's rows
are known in advance, so this writer filters with NumPy:
- a row that repeats the row above (the tile scale repeats every row) gets "Up": all zeros;
- other greyscale rows get "Sub" (differences to the pixel on the left: neighbouring pixels are
  alike, and a scaled tile repeats each pixel), compressed with zlib's run-length strategy;
- other RGB rows are left unfiltered: a colour-mapped picture has at most 256 distinct colours,
  which deflate finds as repeated byte triples, while differences between them look random
  (unfiltered viridis mosaics are half the size of Sub-filtered or Pillow's files).
Compression is zlib level 1: node pictures are noise-like, and level 6 makes files ~2% smaller
at four times the cost. Files are standard PNGs (tests read them back pixel for pixel).
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import BinaryIO

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOUR_TYPE = {1: 0, 3: 2}  # channels -> PNG colour type: greyscale, truecolour
FILTER_NONE, FILTER_SUB, FILTER_UP = 0, 1, 2
COMPRESS_LEVEL = 1


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _filtered(rows: np.ndarray, start: int, stop: int, grey: bool) -> np.ndarray:
    """Rows start..stop of a picture (H, W * channels), each behind its filter byte: Up for a
    row equal to the one above it (all zeros), else Sub for greyscale and None for RGB."""
    piece = rows[start:stop]
    filtered = np.empty((len(piece), piece.shape[1] + 1), np.uint8)
    body = filtered[:, 1:]
    if grey:  # Sub: each byte minus the byte to its left, modulo 256
        body[:, :1] = piece[:, :1]
        np.subtract(piece[:, 1:], piece[:, :-1], out=body[:, 1:])
        filtered[:, 0] = FILTER_SUB
    else:
        body[...] = piece
        filtered[:, 0] = FILTER_NONE
    repeated = np.zeros(len(piece), bool)  # the first row of the picture has none above
    first = 0 if start else 1
    above = rows[start + first - 1:start + len(piece) - 1]
    repeated[first:] = (piece[first:] == above).all(axis=1)
    filtered[repeated, 0] = FILTER_UP
    body[repeated] = 0
    return filtered


def write_png(handle: BinaryIO, pixels: np.ndarray, level: int = COMPRESS_LEVEL) -> None:
    """Write uint8 (H, W) greyscale or (H, W, 3) RGB pixels to an open binary file as a PNG,
    filtering and compressing about a megabyte of rows at a time into its own IDAT chunk, so
    the picture is never copied whole."""
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3) or \
            (pixels.ndim == 3 and pixels.shape[2] != 3) or 0 in pixels.shape:
        raise ValueError(f"expected uint8 (H, W) or (H, W, 3) pixels, got {pixels.dtype} "
                         f"{pixels.shape}")
    height, width = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else 3
    rows = pixels.reshape(height, width * channels)  # a view, whatever the strides of a grey one
    header = struct.pack(">IIBBBBB", width, height, 8, COLOUR_TYPE[channels], 0, 0, 0)
    handle.write(SIGNATURE + _chunk(b"IHDR", header))
    strategy = zlib.Z_RLE if channels == 1 else zlib.Z_DEFAULT_STRATEGY
    compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS, 8, strategy)
    rows_per_piece = max(1, 2**20 // (width * channels + 1))
    for start in range(0, height, rows_per_piece):
        data = compressor.compress(
            _filtered(rows, start, start + rows_per_piece, channels == 1).tobytes())
        if data:
            handle.write(_chunk(b"IDAT", data))
    handle.write(_chunk(b"IDAT", compressor.flush()) + _chunk(b"IEND", b""))


def encode_png(pixels: np.ndarray, level: int = COMPRESS_LEVEL) -> bytes:
    """PNG bytes of uint8 (H, W) greyscale or (H, W, 3) RGB pixels."""
    buffer = io.BytesIO()
    write_png(buffer, pixels, level)
    return buffer.getvalue()
