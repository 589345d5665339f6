"""A folder of IDX files (gzipped or not): MNIST's four names, or any images and labels named
by their part, e.g. emnist-digits-train-images-idx3-ubyte.gz and emnist-digits-test-labels-...

Read by `mlplens.readers.idx.read_idx` bounded by memory and by what compressed data can honestly
inflate to (not by MNIST's sizes). The four canonical MNIST arrays are MNIST; anything else is
the user's data, named after the folder. Without a test part, one is split off.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import MlplensError
from ..input_files import checked_input
from ..readers.idx import read_idx
from .dataset import Dataset
from .mnist import MNIST_CLASSES, is_canonical
from .sources import IDX_MARK, assemble, brightness, labels

PARTS = {"train": ("train",), "test": ("t10k", "test")}
KINDS = {"images": ("images", "idx3"), "labels": ("labels", "idx1")}


def idx_files(folder: Path) -> dict[tuple[str, str], Path]:
    """(part, kind) -> the one file of that part and kind, by its name."""
    found: dict[tuple[str, str], Path] = {}
    for child in sorted(folder.iterdir()):
        name = child.name.lower()
        if IDX_MARK not in name or not child.is_file():
            continue
        part = next((p for p, words in PARTS.items() if any(w in name for w in words)), None)
        kind = next((k for k, words in KINDS.items() if any(w in name for w in words)), None)
        if part is None or kind is None:
            raise MlplensError(f"{child}: an IDX file whose name says neither its part (train, "
                               "test or t10k) and its kind (images or labels)")
        if (part, kind) in found:
            raise MlplensError(f"{folder}: two IDX files of {part} {kind}: "
                               f"{found[part, kind].name} and {child.name}")
        found[part, kind] = child
    for kind in KINDS:
        if ("train", kind) not in found:
            raise MlplensError(f"{folder}: no IDX file of training {kind} (a name with 'train' "
                               f"and '{kind}', like train-{kind}-idx{3 if kind == 'images' else 1}"
                               "-ubyte.gz)")
    present = [kind for kind in KINDS if ("test", kind) in found]
    if len(present) == 1:
        other = "labels" if present[0] == "images" else "images"
        raise MlplensError(f"{folder}: test {present[0]} but no IDX file of test {other}")
    return found


def read_idx_folder(folder: Path) -> Dataset:
    files = idx_files(folder)
    raw = {key: read_idx(checked_input(path)) for key, path in files.items()}
    arrays = {f"{'x' if kind == 'images' else 'y'}_{part}": array
              for (part, kind), array in raw.items()}
    if len(arrays) == 4 and is_canonical(arrays):
        return Dataset("MNIST", arrays["x_train"], arrays["y_train"], arrays["x_test"],
                       arrays["y_test"], MNIST_CLASSES, source="--data", path=str(folder))
    read = {}
    for part in PARTS:
        if (part, "images") in files:
            x = brightness(raw[part, "images"], str(files[part, "images"]))
            read[part] = (x, labels(raw[part, "labels"], str(files[part, "labels"]), len(x)))
    return assemble(folder.name, folder, "--data", read["train"], read.get("test"))
