"""NumPy `.npz` weights in the documented layout, read without ever unpickling.

Layout: `W1, b1, W2, b2, ...` with `Wk` of shape (n_{k-1}, n_k) as Keras stores a kernel and `bk`
of shape (n_k,) (optional: zeros). Optional `activations`: a string array, one per layer
(`np.array(["relu", "softmax"])`); optional `image_shape`: two integers; optional `channels`
(one integer, 1 or 3), `pixel_scale` (one string, e.g. "0-16"), `class_names` (a string
array, one per output), `feature_names` (a string array, one per input of a table) and `head`
(one string: classes, binary, multilabel or regression), what `formats.metadata` records.
Optional per layer k, a LayerNorm: `lnk_scale` and `lnk_offset` of shape (n_k,), `lnk_epsilon`
(one number) and `lnk_after` (one boolean: after the activation, not before). Nothing else.
Every member's .npy header is read first: object arrays (pickles), huge declared shapes, data
the member does not hold (its zip entry declares fewer bytes) and compressed data that would
inflate over a hundredfold are refused before any data is read or inflated; the memory the
arrays take is estimated from the headers and checked against what is available. Data is read
with `allow_pickle=False` (zip CRCs checked).
"""

from __future__ import annotations

import json
import math
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core.stack import DenseStack, LayerNorm
from ..errors import MlplensError
from .common import (Chain, check_declared, check_held, default_activations, parse_activations,
                     require_loading)
from .metadata import (
    CHANNELS,
    CLASS_NAMES,
    FEATURE_NAMES,
    HEAD,
    PIXEL_SCALE,
    Recorded,
    finished,
    recorded,
)

NAME = re.compile(r"^([Wb])([1-9][0-9]*)$")
NORM = re.compile(r"^ln([1-9][0-9]*)_(scale|offset|epsilon|after)$")
NORM_PARTS = ("scale", "offset", "epsilon", "after")
HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0,
                  (2, 0): np.lib.format.read_array_header_2_0}
RECORDED = ("activations", "image_shape", "channels", "pixel_scale", "class_names",
            "feature_names", "head")
LAYOUT = (f"W1, b1, W2, b2, ... (optional: {', '.join(RECORDED)}; a LayerNorm of layer k: "
          "lnk_scale, lnk_offset, lnk_epsilon, lnk_after)")


def _sniff(path: Path) -> None:
    with open(path, "rb") as handle:
        head = handle.read(6)
    if head.startswith(b"\x93NUMPY"):
        raise MlplensError(f"a single .npy array, not an .npz archive of {LAYOUT}")
    if head[:1] == b"\x80" or head[:1] in (b"(", b"]", b"}"):
        raise MlplensError("holds a pickle, not an .npz archive; mlplens never unpickles files")
    if not zipfile.is_zipfile(path):
        raise MlplensError("not an .npz file (not a zip archive; truncated?)")


def _headers(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Each member's shape and dtype from its .npy header alone."""
    found = {}
    total = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                raise MlplensError(f"member {info.filename!r} is not a .npy array")
            name = info.filename[:-4]
            with archive.open(info) as member:
                try:
                    version = np.lib.format.read_magic(member)
                    read_header = HEADER_READERS.get(version)
                    if read_header is None:
                        raise ValueError(f".npy format version {version} is not supported")
                    shape, _, dtype = read_header(member)
                except ValueError as exc:
                    raise MlplensError(f"array {name!r} is not a NumPy array ({exc})") from None
                header = member.tell()
            if dtype.hasobject:
                raise MlplensError(f"array {name!r} holds Python objects (a pickle); mlplens "
                                   "never unpickles: save plain number arrays")
            total = check_declared(name, shape, total)
            compressed = info.compress_size if info.compress_type != zipfile.ZIP_STORED else None
            check_held(name, shape, math.prod(shape) * dtype.itemsize, info.file_size - header,
                       compressed)
            found[name] = (shape, dtype)
    if not found:
        raise MlplensError(f"the archive is empty; expected {LAYOUT}")
    return found


def _require_memory(headers: dict[str, tuple[tuple[int, ...], np.dtype]]) -> None:
    """np.load makes each array once, in its own type; the DenseStack keeps float32 arrays as
    they are and converts the others, the originals living until it is built."""
    peak = values = 0
    for shape, dtype in headers.values():
        count = math.prod(shape)
        values += count
        peak += count * dtype.itemsize + (0 if dtype == np.float32 else 4 * count)
    require_loading(peak, values)


def _recorded(arrays: Any, headers: dict[str, Any]) -> Recorded:
    """The `channels`, `pixel_scale`, `class_names` and `feature_names` arrays as
    `formats.metadata` reads them."""
    text: dict[str, str] = {}
    if "channels" in headers:
        value = arrays["channels"]
        if value.size != 1 or value.dtype.kind not in "iu":
            raise MlplensError("array 'channels' must hold one integer (1 or 3)")
        text[CHANNELS] = str(int(value.reshape(())))
    if "pixel_scale" in headers:
        value = arrays["pixel_scale"]
        if value.size != 1 or value.dtype.kind != "U":
            raise MlplensError("array 'pixel_scale' must hold one string, e.g. '0-16'")
        text[PIXEL_SCALE] = str(value.reshape(()))
    if "head" in headers:
        value = arrays["head"]
        if value.size != 1 or value.dtype.kind != "U":
            raise MlplensError("array 'head' must hold one string, e.g. 'binary'")
        text[HEAD] = str(value.reshape(()))
    for name, key in (("class_names", CLASS_NAMES), ("feature_names", FEATURE_NAMES)):
        if name in headers:
            value = arrays[name]
            if value.ndim != 1 or value.dtype.kind != "U":
                raise MlplensError(f"array '{name}' must be a 1-D array of strings")
            text[key] = json.dumps(value.tolist())
    return recorded(text)


def _layer_norm(chain: Chain, arrays: Any, k: int) -> None:
    """Layer k's LayerNorm arrays onto the chain's last layer (its position as recorded)."""
    epsilon, after = arrays[f"ln{k}_epsilon"], arrays[f"ln{k}_after"]
    if epsilon.size != 1 or epsilon.dtype.kind != "f":
        raise MlplensError(f"array 'ln{k}_epsilon' must hold one number")
    if after.size != 1 or after.dtype.kind != "b":
        raise MlplensError(f"array 'ln{k}_after' must hold one boolean")
    chain.norms[-1] = LayerNorm(arrays[f"ln{k}_scale"], arrays[f"ln{k}_offset"],
                                float(epsilon.reshape(())))
    chain.norm_after[-1] = bool(after.reshape(()))


def read(path: Path, image_shape: tuple[int, int] | None = None,
         activations: tuple[str, ...] | None = None, *, input_names: Sequence[str] = (),
         channels: int | None = None) -> tuple[DenseStack, Recorded]:
    _sniff(path)
    headers = _headers(path)
    kernels: dict[int, str] = {}
    biases: dict[int, str] = {}
    norms: dict[int, set[str]] = {}
    for name in headers:
        match = NAME.match(name)
        norm = NORM.match(name)
        if match:
            (kernels if match.group(1) == "W" else biases)[int(match.group(2))] = name
        elif norm:
            norms.setdefault(int(norm.group(1)), set()).add(norm.group(2))
        elif name not in RECORDED:
            raise MlplensError(f"unexpected array {name!r}; the layout is {LAYOUT}")
    if not kernels:
        raise MlplensError(f"no W1 array; the layout is {LAYOUT}")
    count = max(kernels)
    missing = [f"W{k}" for k in range(1, count + 1) if k not in kernels]
    missing += [f"b{k}" for k in biases if k not in kernels]
    missing += [f"W{k}" for k in norms if k not in kernels]
    missing += [f"ln{k}_{part}" for k, parts in sorted(norms.items()) for part in NORM_PARTS
                if part not in parts]
    if missing:
        raise MlplensError(f"{', '.join(missing)} missing; the layout is {LAYOUT}")
    _require_memory(headers)
    chain = Chain(owned=True)
    with np.load(path, allow_pickle=False) as arrays:
        for k in range(1, count + 1):
            chain.dense(f"W{k}", arrays[f"W{k}"], arrays[f"b{k}"] if k in biases else None)
            if k in norms:
                _layer_norm(chain, arrays, k)
        chain.activations = default_activations(count)
        if "activations" in headers:
            listed = arrays["activations"]
            if listed.dtype.kind != "U" or listed.ndim != 1:
                raise MlplensError("array 'activations' must be a 1-D array of strings")
            chain.activations = list(parse_activations(listed.tolist()) or ())
            if len(chain.activations) != count:
                raise MlplensError(f"array 'activations' lists {len(chain.activations)} but "
                                   f"there are {count} layers")
        if "image_shape" in headers and image_shape is None:
            listed = arrays["image_shape"]
            if listed.shape != (2,) or listed.dtype.kind not in "iu":
                raise MlplensError("array 'image_shape' must hold two integers (H, W)")
            image_shape = (int(listed[0]), int(listed[1]))
        found = _recorded(arrays, headers)
    return finished(chain, image_shape, activations, found, input_names, channels)
