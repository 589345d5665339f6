"""PyTorch `nn.Sequential` of Linear (and parameter-free) layers saved as `.safetensors`.

Read with the `safetensors` NumPy API; torch is never imported. The header is parsed and every
declared size checked before any tensor is read. Keys are `<prefix><index>.weight` (shape
(out, in), as torch stores a Linear) and `<prefix><index>.bias`; layers are ordered by index.
Activations come from `--activations`, else from the metadata key `mlplens.activations`
(`relu,relu,softmax`, what `mlplens.save_stack` writes), else: ReLU where the indices skip one
(nn.Sequential's parameter-free ReLU module sits there), none where they follow on, and logits
at the output. The metadata key `mlplens.image_shape` (`H,W`) gives the input image shape.
"""

from __future__ import annotations

import json
import math
import re
import struct
from pathlib import Path

import numpy as np

from ..core.stack import DenseStack
from ..errors import MlplensError
from .common import Chain, check_declared, parse_activations, shape_from_text

ITEMSIZE = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
            "U64": 8, "U32": 4, "U16": 2, "U8": 1}
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
        if dtype not in ITEMSIZE:
            raise MlplensError(f"tensor {key!r} has dtype {dtype!r}, not a number type mlplens "
                               "reads")
        total = check_declared(key, entry["shape"], total)
        start, end = entry["data_offsets"]
        if not 0 <= start <= end <= data_size:
            raise MlplensError(f"tensor {key!r}: its data ({start}..{end}) lies outside the "
                               f"file's {data_size:,} data bytes (truncated?)")
        if end - start != math.prod(entry["shape"]) * ITEMSIZE[dtype]:
            raise MlplensError(f"tensor {key!r}: {end - start} bytes of data for shape "
                               f"{tuple(entry['shape'])} in {dtype}")
    return header, metadata, 8 + length


def _bf16(path: Path, start: int, entry: dict) -> np.ndarray:
    """bfloat16 is float32's upper half: NumPy has no such type, so widen it by hand."""
    with open(path, "rb") as handle:
        handle.seek(start + entry["data_offsets"][0])
        raw = np.frombuffer(handle.read(entry["data_offsets"][1] - entry["data_offsets"][0]),
                            dtype="<u2")
    return (raw.astype(np.uint32) << 16).view(np.float32).reshape(entry["shape"])


def read(path: Path, image_shape: tuple[int, int] | None = None,
         activations: tuple[str, ...] | None = None) -> DenseStack:
    from safetensors import safe_open

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
    chain = Chain()
    with safe_open(path, framework="numpy") as tensors:
        for index in order:
            keys = layers[index]
            if "weight" not in keys:
                raise MlplensError(f"tensor {keys['bias']!r} has no matching weight")

            def get(key: str) -> np.ndarray:
                if header[key]["dtype"] == "BF16":
                    return _bf16(path, data_start, header[key])
                return tensors.get_tensor(key)

            weight = get(keys["weight"])
            if weight.ndim != 2:
                raise MlplensError(f"tensor {keys['weight']!r} has shape {weight.shape}: not a "
                                   "Linear layer's (out, in) weight")
            bias = get(keys["bias"]) if "bias" in keys else None
            chain.dense(keys["weight"].rsplit(".", 1)[0], weight.T, bias)
    recorded = parse_activations(metadata.get("mlplens.activations"))
    if recorded is not None:
        chain.activations = list(recorded)
    else:
        prefix = next(iter(prefixes))
        numbered = prefix == "" or prefix.endswith(".")  # 0.weight, net.2.weight; not fc1.weight
        chain.activations = ["relu" if (not numbered or after - before > 1) else "linear"
                             for before, after in zip(order, order[1:])] + ["linear"]
    if image_shape is None and "mlplens.image_shape" in metadata:
        image_shape = shape_from_text(metadata["mlplens.image_shape"])
    return chain.stack(image_shape, activations)

