"""An .npz of images: Keras' layout (x_train, y_train, x_test, y_test) or `x` with optional
`y`, `class_names` and a test part (x_test, y_test). Nothing is ever unpickled.

A Keras-layout file whose four arrays are exactly MNIST's (shapes and digests) is MNIST; any
other is the user's own data, named after the file: Fashion-MNIST has MNIST's shapes, so shapes
alone say nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import MlplensError
from ..readers.npz import read_npz
from .dataset import Dataset
from .mnist import MNIST_CLASSES, is_canonical
from .sources import assemble, brightness, labels

KERAS_LAYOUT = ("x_train", "y_train", "x_test", "y_test")


def read_npz_source(path: Path) -> Dataset:
    arrays = read_npz(path)
    if "x_train" in arrays:
        for name in KERAS_LAYOUT:
            if name not in arrays:
                raise MlplensError(f"{path}: no array named {name!r} (a Keras-layout .npz "
                                   "holds x_train, y_train, x_test and y_test)")
        if is_canonical(arrays):
            return Dataset("MNIST", *(arrays[name] for name in KERAS_LAYOUT), MNIST_CLASSES,
                           source="--data", path=str(path))
        parts = {"train": ("x_train", "y_train"), "test": ("x_test", "y_test")}
    elif "x" in arrays:
        parts = {"train": ("x", "y")}
        if "x_test" in arrays:
            parts["test"] = ("x_test", "y_test")
    else:
        raise MlplensError(f"{path}: holds no images; name them x (with optional y and "
                           "class_names) or x_train, y_train, x_test, y_test (Keras' layout)")
    labelled = "y" in arrays or "y_train" in arrays
    read = {}
    for part, (x_name, y_name) in parts.items():
        x = brightness(arrays[x_name], f"{path}: array {x_name!r}")
        if y_name in arrays:
            y = labels(arrays[y_name], f"{path}: array {y_name!r}", len(x))
        elif labelled:
            raise MlplensError(f"{path}: no array named {y_name!r} for the labels of {x_name}")
        else:
            y = np.zeros(len(x), np.int64)  # unlabelled: every image is class 0
        read[part] = (x, y)
    return assemble(path.stem, path, "--data", read["train"], read.get("test"),
                    _class_names(arrays, path))


def _class_names(arrays: dict[str, np.ndarray], path: Path) -> tuple[str, ...] | None:
    if "class_names" not in arrays:
        return None
    names = arrays["class_names"]
    if names.dtype.kind not in "US" or names.ndim != 1 or len(names) == 0:
        raise MlplensError(f"{path}: array 'class_names' is {names.dtype} {names.shape}; give a "
                           "1-D array of strings, one per class")
    return tuple(name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
                 for name in names.tolist())
