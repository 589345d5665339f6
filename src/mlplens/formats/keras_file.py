"""Keras 3 `.keras` files: checked as a zip, by their config.json and by the weights inside,
before Keras is imported.

A damaged archive (truncated, a failing CRC-32), a member that would inflate over a hundredfold
(a decompression bomb), a config with foreign layers or huge declared sizes, a weights file that
declares data it does not store, or a model whose loading would not fit in memory is refused
without importing Keras or building anything; a file that passes is loaded by Keras itself
(`keras_model`). An `mlplens.json` member (written by `mlplens train`) holds what
`formats.metadata` records: channels, pixel scale, class names.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from pathlib import Path

from ..core.stack import DenseStack
from ..errors import MlplensError
from ..input_files import MAX_INFLATION, inflates_too_much
from ..memory import format_size
from .common import require_loading
from .keras_h5 import held_bytes
from .keras_layers import check_config
from .metadata import KERAS_MEMBER, NOTHING, Recorded, recorded

MAX_CONFIG = 64 * 2**20
WEIGHTS = "model.weights.h5"
# Importing Keras and JAX and building a model, before any weight: 365 MB measured.
KERAS_BASE = 400 * 10**6


def _check_inflation(archive: zipfile.ZipFile) -> None:
    """From the central directory alone, before anything is inflated (even to check a CRC)."""
    for info in archive.infolist():
        if inflates_too_much(info.file_size, info.compress_size):
            raise MlplensError(f"cannot read this Keras model ({info.filename!r} inflates from "
                               f"{format_size(info.compress_size)} to "
                               f"{format_size(info.file_size)}: mlplens refuses members that "
                               f"inflate over {MAX_INFLATION}x, a decompression bomb)")


def _require_memory(archive: zipfile.ZipFile) -> None:
    """Keras reads model.weights.h5 whole into memory (copying it once on the way), builds every
    variable, reads each weight into an array and hands back copies: about twice the file and
    twice the weights, on top of Keras itself. Each weight is checked from its dataset header
    first (optimizer state is not loaded, so not counted)."""
    import h5py

    size = sum(info.file_size for info in archive.infolist())
    if WEIGHTS not in archive.namelist():  # weights stored another way: about the file's size
        require_loading(KERAS_BASE + 4 * size, size // 4)
        return
    weights = values = 0

    def visit(name: str, item: object) -> None:
        nonlocal weights, values
        if isinstance(item, h5py.Dataset) and not name.startswith("optimizer/"):
            weights += held_bytes(name, item)
            values += item.size

    with archive.open(WEIGHTS) as member, h5py.File(member, "r") as h5:
        h5.visititems(visit)
    require_loading(KERAS_BASE + 2 * size + 2 * weights, values)


def _refuse_python_code(config: object) -> None:
    """A lambda anywhere in the config (a Lambda layer's function, a regulariser, a
    constraint) is Python code that Keras would have to run to build the model: refused by what
    it is, naming the layer and setting, before Keras is asked (whose refusal speaks of
    deserialisation)."""
    pending: list[tuple[object, str, str]] = [(config, "", "")]
    while pending:
        item, layer, key = pending.pop()
        if isinstance(item, dict):
            if item.get("class_name") == "__lambda__" or item.get("function_type") == "lambda":
                where = f" in layer {layer!r}" if layer else ""
                raise MlplensError(f"the model holds Python code (a lambda{where}"
                                   f"{f', its {key}' if key else ''}), which mlplens never "
                                   "runs; save the model without it")
            inner = item.get("config")
            if isinstance(inner, dict) and isinstance(inner.get("name"), str) and \
                    "class_name" in item:
                layer, key = inner["name"], ""
            pending += [(value, layer, key if name in ("config", "value") else name)
                        for name, value in item.items()]
        elif isinstance(item, list):
            pending += [(value, layer, key) for value in item]


def _recorded(archive: zipfile.ZipFile) -> Recorded:
    """The `mlplens.json` member `mlplens train` adds (Keras ignores it), if there is one."""
    if KERAS_MEMBER not in archive.namelist():
        return NOTHING
    if archive.getinfo(KERAS_MEMBER).file_size > MAX_CONFIG:
        raise MlplensError(f"cannot read this Keras model ({KERAS_MEMBER} is over 64 MiB)")
    try:
        text = json.loads(archive.read(KERAS_MEMBER).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        text = None
    if not isinstance(text, dict):
        raise MlplensError(f"{KERAS_MEMBER} in the archive is not a JSON object")
    return recorded({str(key): str(value) for key, value in text.items()})


def read(path: Path, image_shape: tuple[int, int] | None = None,
         activations: tuple[str, ...] | None = None, *, input_names: Sequence[str] = (),
         channels: int | None = None) -> tuple[DenseStack, Recorded]:
    if not zipfile.is_zipfile(path):
        raise MlplensError("cannot read this Keras model (not a zip archive, as a .keras file "
                           "is; truncated?)")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        if "config.json" not in names:
            raise MlplensError("cannot read this Keras model (no config.json in the archive)")
        _check_inflation(archive)
        damaged = archive.testzip()
        if damaged is not None:
            raise MlplensError(f"cannot read this Keras model ({damaged!r} fails its CRC-32 "
                               "check: the file is damaged)")
        if archive.getinfo("config.json").file_size > MAX_CONFIG:
            raise MlplensError("cannot read this Keras model (config.json is over 64 MiB)")
        try:
            config = json.loads(archive.read("config.json").decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MlplensError(f"cannot read this Keras model (config.json is not JSON: "
                               f"{exc})") from None
        _refuse_python_code(config)
        check_config(config)
        found = _recorded(archive)
        _require_memory(archive)
    from .keras_model import load_keras_stack

    stack = load_keras_stack(path, image_shape, activations, channels=channels or found.channels or 1,
                             input_names=input_names or found.feature_names)
    return stack.with_input(pixel_scale=found.pixel_scale), found
