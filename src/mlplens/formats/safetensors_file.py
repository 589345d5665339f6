"""PyTorch `nn.Sequential` of Linear (and parameter-free) layers saved as `.safetensors`.

Read with NumPy alone, as the format is a JSON header then raw little-endian tensors; torch is
never imported. The header is parsed and every declared size checked (against the cap, the
file's size and the memory available) before any tensor is read; each tensor is then read once,
straight into its array (no memory map, whose pages would count twice). Keys are
`<prefix><index>.weight` (shape (out, in), as torch stores a Linear) and
`<prefix><index>.bias`; layers are ordered by index.
Activations come from `--activations`, else from the metadata key `mlplens.activations`
(`relu,relu,softmax`, what `mlplens.save_stack` writes), else: ReLU where the indices skip one
(nn.Sequential's parameter-free ReLU module sits there), none where they follow on, and logits
at the output. The metadata key `mlplens.image_shape` (`H,W`) gives the input image shape, and
`mlplens.channels`, `mlplens.pixel_scale` and `mlplens.class_names` what `formats.metadata` says.
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..core.stack import DenseStack
from ..errors import MlplensError
from .common import Chain, check_declared, parse_activations, require_loading, shape_from_text
from .metadata import ACTIVATIONS, IMAGE_SHAPE, Recorded, finished, recorded

# The format's type names -> NumPy's; bfloat16, which NumPy lacks, is read as its bits.
DTYPES = {name: np.dtype(code) for name, code in {
    "F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "I64": "<i8", "I32": "<i4",
    "I16": "<i2", "I8": "i1", "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1"}.items()}
MAX_HEADER = 100_000_000  # the safetensors format's own limit
KEY = re.compile(r"^(.*?)(\d+)\.(weight|bias)$")


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
         activations: tuple[str, ...] | None = None, *,
         input_names: Sequence[str] = ()) -> tuple[DenseStack, Recorded]:
    header, metadata, data_start = read_header(path)
    layers: dict[int, dict[str, str]] = {}
    prefixes = set()
    for key in header:
        match = KEY.match(key)
        if not match:
            raise MlplensError(f"tensor {key!r} is not a Linear layer's weight or bias "
                               "(expected keys like 0.weight, 0.bias, 2.weight, 2.bias)")
        prefixes.add(match.group(1))
        layers.setdefault(int(match.group(2)), {})[match.group(3)] = key
    if len(prefixes) > 1:
        raise MlplensError(f"tensors belong to different modules ({', '.join(sorted(prefixes))}); "
                           "mlplens reads one nn.Sequential")
    if not layers:
        raise MlplensError("the file holds no tensors")
    order = sorted(layers)
    require_loading(*_peak(header))
    chain = Chain(owned=True)
    with open(path, "rb") as handle:
        for index in order:
            keys = layers[index]
            if "weight" not in keys:
                raise MlplensError(f"tensor {keys['bias']!r} has no matching weight")
            weight = _tensor(handle, data_start, keys["weight"], header[keys["weight"]])
            if weight.ndim != 2:
                raise MlplensError(f"tensor {keys['weight']!r} has shape {weight.shape}: not a "
                                   "Linear layer's (out, in) weight")
            bias = _tensor(handle, data_start, keys["bias"], header[keys["bias"]]) \
                if "bias" in keys else None
            chain.dense(keys["weight"].rsplit(".", 1)[0], weight.T, bias)
    listed = parse_activations(metadata.get(ACTIVATIONS))
    if listed is not None:
        chain.activations = list(listed)
    else:
        prefix = next(iter(prefixes))
        numbered = prefix == "" or prefix.endswith(".")  # 0.weight, net.2.weight; not fc1.weight
        chain.activations = ["relu" if (not numbered or after - before > 1) else "linear"
                             for before, after in zip(order, order[1:])] + ["linear"]
    if image_shape is None and IMAGE_SHAPE in metadata:
        image_shape = shape_from_text(metadata[IMAGE_SHAPE])
    return finished(chain, image_shape, activations, recorded(metadata), input_names)

