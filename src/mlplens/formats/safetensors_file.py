"""PyTorch state_dicts (and mlplens' own files) saved as `.safetensors`.

Read with NumPy alone, as the format is a JSON header then raw little-endian tensors; torch is
never imported. The header is parsed and every declared size checked (against the cap, the
file's size and the memory available) before any tensor is read; each tensor is then read once,
straight into its array (no memory map, whose pages would count twice). Which tensors are
which module, in what order, and where the activations go is worked out by `state_dict` from
the keys and shapes alone; activations come from `--activations` (or `--layer-order`), else the
metadata key `mlplens.activations` (what `mlplens.save_stack` writes). The metadata key
`mlplens.image_shape` (`H,W`) gives the input image shape, and `mlplens.channels`,
`mlplens.pixel_scale`, `mlplens.class_names`, `mlplens.head` and `mlplens.norms` what
`formats.metadata` says.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..core.stack import DenseStack
from ..errors import MlplensError
from .common import check_declared, parse_activations, require_loading, shape_from_text
from .metadata import ACTIVATIONS, IMAGE_SHAPE, Recorded, finished, recorded
from .state_dict import Module, epsilon_note, modules, plan
from .torch_layers import Activation, BatchNorm, LayerNorm, Linear, Step, to_chain

# The format's type names -> NumPy's; bfloat16, which NumPy lacks, is read as its bits.
DTYPES = {name: np.dtype(code) for name, code in {
    "F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "I64": "<i8", "I32": "<i4",
    "I16": "<i2", "I8": "i1", "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1"}.items()}
MAX_HEADER = 100_000_000  # the safetensors format's own limit


def read_header(path: Path) -> tuple[dict[str, dict], dict[str, str], int]:
    """(tensors, metadata, data start) from the header, with every entry checked against the
    file's size; no tensor data is read."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        prefix = handle.read(8)
        if len(prefix) < 8:
            raise MlplensError("not a safetensors file (shorter than its 8-byte header length)")
        (length,) = struct.unpack("<Q", prefix)
        if length > MAX_HEADER or 8 + length > size:
            raise MlplensError(f"not a safetensors file, or truncated: its header claims "
                               f"{length:,} bytes but the file has {size:,}")
        raw = handle.read(length)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MlplensError(f"not a safetensors file: its header is not JSON ({exc})") from None
    if not isinstance(header, dict):
        raise MlplensError("not a safetensors file: its header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict):
        raise MlplensError("the safetensors __metadata__ is not a mapping")
    data_size = size - 8 - length
    total = 0
    for key, entry in header.items():
        if not (isinstance(entry, dict) and isinstance(entry.get("shape"), list)
                and isinstance(entry.get("data_offsets"), list)
                and len(entry["data_offsets"]) == 2
                and all(isinstance(v, int) for v in entry["shape"] + entry["data_offsets"])):
            raise MlplensError(f"tensor {key!r}: malformed header entry {str(entry)[:100]}")
        dtype = entry.get("dtype")
        if dtype not in DTYPES:
            raise MlplensError(f"tensor {key!r} has dtype {dtype!r}, not a number type mlplens "
                               "reads")
        total = check_declared(key, entry["shape"], total)
        start, end = entry["data_offsets"]
        if not 0 <= start <= end <= data_size:
            raise MlplensError(f"tensor {key!r}: its data ({start}..{end}) lies outside the "
                               f"file's {data_size:,} data bytes (truncated?)")
        if end - start != math.prod(entry["shape"]) * DTYPES[dtype].itemsize:
            raise MlplensError(f"tensor {key!r}: {end - start} bytes of data for shape "
                               f"{tuple(entry['shape'])} in {dtype}")
    return header, metadata, 8 + length


def _peak(header: dict[str, dict]) -> tuple[int, int]:
    """(bytes, values): each tensor read once in its own type; bfloat16 widened beside its bits;
    the DenseStack keeps float32 as it is and converts the rest, the originals still held."""
    peak = values = 0
    for entry in header.values():
        count = math.prod(entry["shape"])
        values += count
        peak += count * DTYPES[entry["dtype"]].itemsize + (0 if entry["dtype"] == "F32"
                                                           else 4 * count)
    return peak, values


def _tensor(handle: BinaryIO, start: int, key: str, entry: dict) -> np.ndarray:
    """One tensor, read straight into its array; bfloat16 (float32's upper half) widened."""
    first, last = entry["data_offsets"]
    array = np.empty(math.prod(entry["shape"]), DTYPES[entry["dtype"]])
    handle.seek(start + first)
    if handle.readinto(memoryview(array).cast("B")) != last - first:
        raise MlplensError(f"tensor {key!r}: the file ends inside its data (truncated?)")
    if entry["dtype"] == "BF16":
        array = array.astype(np.uint32)
        array <<= 16
        array = array.view(np.float32)
    return array.reshape(entry["shape"])


def read(path: Path, image_shape: tuple[int, int] | None = None,
         activations: tuple[str, ...] | None = None, *, input_names: Sequence[str] = (),
         channels: int | None = None, layer_order: str | None = None
         ) -> tuple[DenseStack, Recorded]:
    header, metadata, data_start = read_header(path)
    found_modules = modules({key: entry["shape"] for key, entry in header.items()})
    told = plan(found_modules, layer_order, activations,
                parse_activations(metadata.get(ACTIVATIONS)))
    require_loading(*_peak(header))
    with open(path, "rb") as handle:
        def tensor(module: Module, suffix: str) -> np.ndarray | None:
            key = module.keys.get(suffix)
            return None if key is None else _tensor(handle, data_start, key, header[key])

        chain = to_chain((_step(step, tensor) for step in told.steps), owned=True)
    if image_shape is None and IMAGE_SHAPE in metadata:
        image_shape = shape_from_text(metadata[IMAGE_SHAPE])
    found = recorded(metadata)
    # mlplens' own files record their LayerNorms' epsilons (`metadata.NORMS`); others do not
    found = replace(found, notes=tuple(told.notes) + tuple(
        () if found.norms else epsilon_note(found_modules)))
    return finished(chain, image_shape, None, found, input_names, channels)


def _step(step: Module | str, tensor: Callable[[Module, str], np.ndarray | None]) -> Step:
    """A planned module, its tensors read, or an activation."""
    if isinstance(step, str):
        return Activation(step, f"activation {step}")

    def required(suffix: str) -> np.ndarray:
        array = tensor(step, suffix)  # type: ignore[arg-type]
        assert array is not None  # `state_dict.modules` checked that the module has it
        return array

    if step.kind == "Linear":
        return Linear(step.prefix, required("weight"), tensor(step, "bias"))
    scale, offset = tensor(step, "weight"), tensor(step, "bias")
    scale = np.ones(step.gives, np.float32) if scale is None else scale
    offset = np.zeros(step.gives, np.float32) if offset is None else offset
    if step.kind == "LayerNorm":
        return LayerNorm(step.prefix, scale, offset)
    return BatchNorm(step.prefix, scale, offset, required("running_mean"),
                     required("running_var"))
