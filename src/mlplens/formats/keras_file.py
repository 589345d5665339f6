"""Keras 3 `.keras` files: checked as a zip and by their config.json before Keras is imported.

A damaged archive (truncated, a failing CRC-32) or a config with foreign layers or huge declared
sizes is refused without importing Keras or building anything; a file that passes is loaded by
Keras itself (`keras_model`).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from ..core.stack import DenseStack
from ..errors import MlplensError
from .keras_layers import check_config

MAX_CONFIG = 64 * 2**20


def read(path: Path, image_shape: tuple[int, int] | None = None,
         activations: tuple[str, ...] | None = None) -> DenseStack:
    if not zipfile.is_zipfile(path):
        raise MlplensError("cannot read this Keras model (not a zip archive, as a .keras file "
                           "is; truncated?)")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        if "config.json" not in names:
            raise MlplensError("cannot read this Keras model (no config.json in the archive)")
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
    check_config(config)
    from .keras_model import load_keras_stack

    return load_keras_stack(path, image_shape, activations)
