"""Datasets from files: what `--data PATH` reads, and the checks every file source shares.

A path is read by what it is: an `.npz` (Keras layout, or `x` with optional `y`), a folder of
IDX files, or a folder with one subfolder of PNG/JPEG images per class. Whatever the source,
images come out as brightness (uint8 0-255, or float32 in [0, 1]) and labels as int64 class
indices; anything else is one line naming the file and what to do.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..destination import describe_os_error
from ..errors import MlplensError
from ..input_files import checked_input
from ..memory import require
from .dataset import Dataset
from .splitting import split_test_part

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
IDX_MARK = "idx"  # every IDX file's name says so: train-images-idx3-ubyte, ...


def read_source(path: str) -> Dataset:
    """The dataset at `path` (see the module docstring)."""
    named = checked_input(path, folder_ok=True)
    if named.is_dir():
        try:
            return _read_folder(named)
        except OSError as exc:  # a folder inside that cannot be listed
            raise MlplensError(f"{exc.filename or named}: {describe_os_error(exc)}") from None
    if named.suffix.lower() == ".npz":
        from .npz_source import read_npz_source

        return read_npz_source(named)
    raise MlplensError(f"{named}: not a dataset mlplens reads; give an .npz (Keras layout, or "
                       "x with optional y and class_names), a folder of IDX files, or a folder "
                       "with one subfolder of PNG/JPEG images per class")


def _read_folder(folder: Path) -> Dataset:
    if any(IDX_MARK in child.name.lower() for child in folder.iterdir() if child.is_file()):
        from .idx_source import read_idx_folder

        return read_idx_folder(folder)
    from .folder import read_image_folder

    return read_image_folder(folder)


def brightness(x: np.ndarray, where: str) -> np.ndarray:
    """Images as a Dataset holds them: (n, H, W) grey or (n, H, W, 3) colour ((n, H, W, 1)
    becomes grey); uint8 kept, whole numbers 0-255 made uint8, floats finite in [0, 1] made
    float32. Anything else is refused naming `where` (the file and array)."""
    if x.dtype.hasobject or x.dtype.kind not in "uif":
        raise MlplensError(f"{where}: images are {x.dtype}; give uint8 0-255 or floats in [0, 1]")
    if x.ndim == 4 and x.shape[3] == 1:
        x = x[..., 0]
    if x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[3] != 3):
        raise MlplensError(f"{where}: images have shape {x.shape}; give (N, H, W) for grey or "
                           "(N, H, W, C) with C = 1 or 3 channels")
    if 0 in x.shape:
        raise MlplensError(f"{where}: holds no images (shape {x.shape})")
    if x.dtype == np.uint8:
        return x
    if x.dtype.kind == "f":
        finite = np.isfinite(x)
        if not finite.all():
            first = tuple(int(i) for i in np.argwhere(~finite)[0])
            raise MlplensError(f"{where}: image {first[0]} holds {x[first]} at {first[1:]}; "
                               "pixels must be finite numbers in [0, 1]")
        low, high = float(x.min()), float(x.max())
        if low < 0 or high > 1:
            raise MlplensError(f"{where}: pixels run from {low:g} to {high:g}; float images must "
                               "be brightness in [0, 1] (divide 0-255 pixels by 255)")
        return x.astype(np.float32)
    low, high = int(x.min()), int(x.max())
    if low < 0 or high > 255:
        raise MlplensError(f"{where}: pixels run from {low} to {high}; whole-number images must "
                           "be 0-255 (or give floats in [0, 1])")
    return x.astype(np.uint8)


def labels(y: np.ndarray, where: str, count: int) -> np.ndarray:
    """Class indices as int64, one per image; refused naming `where` when they are not."""
    if y.dtype.hasobject or y.dtype.kind not in "iu":
        raise MlplensError(f"{where}: labels are {y.dtype}; give whole numbers 0..K-1")
    if y.ndim != 1:
        raise MlplensError(f"{where}: labels have shape {y.shape}; give one label per image")
    if len(y) != count:
        raise MlplensError(f"{where}: {len(y)} labels for {count} images")
    if len(y) and int(y.min()) < 0:
        raise MlplensError(f"{where}: label {int(y.min())} is negative; labels are class "
                           "numbers 0..K-1")
    return y.astype(np.int64)


# What one class costs wherever classes are counted: its name, its label counts, a column of
# one-hot targets and an output node's row are each about this many bytes or more.
CLASS_BYTES = 100


def class_names_for(parts: list[np.ndarray], names: tuple[str, ...] | None,
                    where: str) -> tuple[str, ...]:
    """The given class names (every label below their count; each named, no two alike), else
    "0".."K-1", whose count the largest label sets: asked of memory before they are made."""
    top = max(int(y.max()) if len(y) else -1 for y in parts)
    if names is None:
        require(CLASS_BYTES * (top + 1), f"{where}: {top + 1:,} classes (labels are class "
                                         f"numbers 0..K-1, and the largest is {top})")
        return tuple(str(k) for k in range(top + 1))
    if top >= len(names):
        raise MlplensError(f"{where}: label {top} is out of range: there are {len(names)} class "
                           f"names (labels run 0..{len(names) - 1})")
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if not name.strip():
            raise MlplensError(f"{where}: class {index} has an empty name; give every class a "
                               "name")
        if name in seen:
            raise MlplensError(f"{where}: classes {seen[name]} and {index} are both named "
                               f"{name!r}; class names must differ")
        seen[name] = index
    return names


def assemble(name: str, path: Path, source: str, train: tuple[np.ndarray, np.ndarray],
             test: tuple[np.ndarray, np.ndarray] | None,
             names: tuple[str, ...] | None = None) -> Dataset:
    """A Dataset from checked images and labels: the test part split off the training part
    (`splitting.split_test_part`, the same for every run) when the source has none."""
    where = str(path)
    classes = class_names_for([train[1]] + ([test[1]] if test is not None else []), names,
                              where)
    if test is None:
        count = len(train[0])
        if count < 3:
            raise MlplensError(f"{where}: only {count} image{'s' * (count != 1)}, too few to split "
                               "into training and test parts; give at least 3 (or a test part)")
        x_train, y_train, x_test, y_test = split_test_part(*train)
    else:
        (x_train, y_train), (x_test, y_test) = train, test
        if x_train.shape[1:] != x_test.shape[1:]:
            raise MlplensError(f"{where}: training images are {_shape(x_train)} but test images "
                               f"are {_shape(x_test)}")
        if x_train.dtype != x_test.dtype:
            raise MlplensError(f"{where}: training images are {x_train.dtype} but test images "
                               f"are {x_test.dtype}; give both parts the same pixel type")
    return Dataset(name, x_train, y_train, x_test, y_test, classes, source=source, path=where)


def _shape(x: np.ndarray) -> str:
    return "x".join(str(size) for size in x.shape[1:])
