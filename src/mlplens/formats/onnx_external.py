"""ONNX weights kept outside the graph (`torch.onnx.export(..., dynamo=True)` writes them to
`model.onnx.data`): read only from files in the model's own folder, sized before reading.

A model names its data files itself, so a hostile one could name `/etc/shadow`, `../../x` or a
link that leads out of its folder, or declare a tensor bigger than the file; each is refused in
one line before any byte is read. Every location is checked, and every (offset, length) against
the real file size and the tensor's declared shape, before the first tensor is read.
"""

from __future__ import annotations

import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MlplensError
from ..memory import format_size
from .common import check_declared

ONLY_BESIDE = "mlplens reads external data only from files in the model's own folder"


@dataclass(frozen=True)
class Source:
    """Where one tensor's bytes are: a regular file inside the model's folder, a byte range."""

    path: Path
    offset: int
    size: int  # bytes, from the declared shape and type
    dtype: np.dtype
    shape: tuple[int, ...]

    def read(self) -> np.ndarray:
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            data = handle.read(self.size)
        if len(data) != self.size:  # the file shrank after it was checked
            raise MlplensError(f"external data {self.path.name!r} ended early")
        return np.frombuffer(data, dtype=self.dtype).reshape(self.shape)


def _entries(tensor: Any) -> dict[str, str]:
    return {entry.key: entry.value for entry in tensor.external_data}


def _inside(folder: Path, name: str, location: str) -> Path:
    """The file `location` names, refused unless it is a regular file in `folder` itself or
    below it, reached without leaving it (no absolute path, no `..` out, no link out)."""
    where = f"tensor {name!r}: external data {location!r}"
    if not location or os.path.isabs(location) or Path(location).drive:
        raise MlplensError(f"{where} is an absolute path; {ONLY_BESIDE}")
    root = folder.resolve()
    lexical = Path(os.path.normpath(root / location))
    if not lexical.is_relative_to(root):
        raise MlplensError(f"{where} leads out of the model's folder; {ONLY_BESIDE}")
    resolved = lexical.resolve()
    if not resolved.is_relative_to(root):
        raise MlplensError(f"{where} is a link to {str(resolved)!r}, outside the model's "
                           f"folder; {ONLY_BESIDE}")
    try:
        mode = resolved.stat().st_mode
    except OSError:
        raise MlplensError(f"{where} is not in the model's folder") from None
    if not stat.S_ISREG(mode):
        raise MlplensError(f"{where} is not a regular file")
    return resolved


def _number(entries: dict[str, str], key: str, where: str) -> int | None:
    if key not in entries:
        return None
    try:
        value = int(entries[key])
    except ValueError:
        value = -1
    if value < 0:
        raise MlplensError(f"{where}: its external data {key} {entries[key]!r} is not a "
                           "byte count")
    return value


def sources(tensors: list[Any], folder: Path) -> dict[str, Source]:
    """Every external tensor's Source, all checked (location, declared size, the file's real
    size, offset and length) before any is read."""
    from onnx import helper

    found: dict[str, Source] = {}
    total = 0
    for tensor in tensors:
        name = tensor.name
        entries = _entries(tensor)
        path = _inside(folder, name, entries.get("location", ""))
        total = check_declared(name, tensor.dims, total)
        try:
            dtype = np.dtype(helper.tensor_dtype_to_np_dtype(tensor.data_type)).newbyteorder("<")
        except (KeyError, ValueError):
            raise MlplensError(f"tensor {name!r} has an unknown data type "
                               f"{tensor.data_type}") from None
        shape = tuple(int(size) for size in tensor.dims)
        declared = math.prod(shape) * dtype.itemsize
        offset = _number(entries, "offset", f"tensor {name!r}") or 0
        length = _number(entries, "length", f"tensor {name!r}")
        if length is not None and length != declared:
            raise MlplensError(f"tensor {name!r}: its external data length {length:,} bytes "
                               f"does not match its shape {shape} ({declared:,} bytes)")
        held = max(0, path.stat().st_size - offset)
        if held < declared:
            raise MlplensError(f"tensor {name!r} declares shape {shape} "
                               f"({format_size(declared)}) but {path.name!r} holds "
                               f"{format_size(held)} from offset {offset:,}")
        found[name] = Source(path, offset, declared, dtype, shape)
    return found
