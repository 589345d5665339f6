"""An IDX file of unsigned bytes (gzipped or not) read safely: its header checked before any
data is read, then read once, a chunk at a time, straight into its array."""

from __future__ import annotations

import gzip
import io
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from ..errors import MlplensError, reason
from ..memory import require
from .limits import Expected, check_inflation, check_sized

CHUNK = 1 << 20  # IDX data is read (and inflated) this many bytes at a time


def read_idx(path: Path, expected: Expected | None = None) -> np.ndarray:
    """One IDX file (gzipped or not) of unsigned bytes, read once, straight into its array.

    The header is checked before any data is read: the values it declares against the file's
    size (uncompressed), a known dataset's largest array (`expected`) or, for the user's own
    data, what its compressed size can honestly inflate to, and the memory available. Gzipped
    data is inflated a chunk at a time and never past one byte beyond what the header declares,
    so data that inflates beyond its header is refused, not held.
    """
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        packed = handle.read(2) == b"\x1f\x8b"
        handle.seek(0)
        if not packed:
            return _read_idx_stream(path, handle, size, expected)
        try:
            with gzip.GzipFile(fileobj=handle, mode="rb") as stream:
                return _read_idx_stream(path, stream, None, expected, compressed=size)
        except (OSError, EOFError, zlib.error) as exc:
            raise MlplensError(f"{path}: corrupt gzip data ({reason(exc)})") from None


def _read_idx_stream(path: Path, stream: io.BufferedIOBase | gzip.GzipFile,
                     size: int | None, expected: Expected | None,
                     compressed: int | None = None) -> np.ndarray:
    """`size`: the file's size when it is not compressed (checked before reading any data);
    `compressed`: its size on disk when it is."""
    magic = stream.read(4)
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0:
        raise MlplensError(f"{path}: not an IDX file (bad magic number)")
    if magic[2] != 0x08:
        raise MlplensError(f"{path}: IDX element type 0x{magic[2]:02x} is not unsigned bytes")
    ndim = magic[3]
    dims = stream.read(4 * ndim)
    if ndim == 0 or len(dims) < 4 * ndim:
        raise MlplensError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", dims)
    count = math.prod(shape)  # Python ints: a crafted header cannot overflow
    if size is not None and size - 4 - 4 * ndim != count:
        raise MlplensError(f"{path}: IDX header declares {count} values but the file holds "
                           f"{size - 4 - 4 * ndim}")
    if expected is not None:
        check_sized(f"{path}: IDX header", shape, count, expected)
    elif compressed is not None:
        check_inflation(f"{path}: IDX header", shape, count, compressed)
    require(count + CHUNK, f"{path}: reading its IDX data")
    array = np.empty(count, np.uint8)
    filled = 0
    while filled < count:
        chunk = stream.read(min(CHUNK, count - filled))
        if not chunk:
            raise MlplensError(f"{path}: IDX header declares {count} values but the file holds "
                               f"{filled}")
        array[filled:filled + len(chunk)] = np.frombuffer(chunk, np.uint8)
        filled += len(chunk)
    if stream.read(1):
        raise MlplensError(f"{path}: the file holds more data than the {count:,} values its "
                           "IDX header declares")
    return array.reshape(shape)
