"""The data sources behind --data (mlplens.datasets): .npz files, IDX folders, folders of class
subfolders of PNG/JPEG images and named datasets fetched from a local HTTP server. Every source
is made in the test; every malformed one must be refused in one line naming the file."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import struct
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mlplens.datasets import load_dataset, named, splitting
from mlplens.datasets.dataset import describe
from mlplens.datasets.mnist import IDX_NAMES

from .helpers import assert_one_error_line, error_of, run_cli


def save_png(path: Path, pixels: np.ndarray, mode: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels, mode).save(path)
    return path


def grey(value: int, size: tuple[int, int] = (4, 3)) -> np.ndarray:
    """A (H, W) = size grey image: `value` plus the pixel's index, so every pixel is known."""
    return (value + np.arange(size[0] * size[1]).reshape(size)).astype(np.uint8)


def write_idx(path: Path, array: np.ndarray, gz: bool = False) -> Path:
    array = np.ascontiguousarray(array, dtype=np.uint8)
    raw = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    raw += struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


# ---- folders of class subfolders --------------------------------------------------------------

def test_a_folder_with_train_and_test_parts_is_read_array_for_array(tmp_path):
    folder = tmp_path / "shapes"
    expected = {"train": ([], []), "test": ([], [])}
    for part, count in (("train", 3), ("test", 2)):
        for label, name in enumerate(("circle", "square", "triangle")):
            for k in range(count):
                value = 100 * (part == "test") + 20 * label + k
                save_png(folder / part / name / f"{k:02d}.png", grey(value))
                expected[part][0].append(grey(value))
                expected[part][1].append(label)
    data = load_dataset(folder)
    assert data.name == "shapes" and data.source == "folder" and data.path == str(folder)
    assert data.class_names == ("circle", "square", "triangle")
    assert data.x_train.dtype == np.uint8 and data.x_train.shape == (9, 4, 3)
    assert np.array_equal(data.x_train, np.stack(expected["train"][0]))
    assert np.array_equal(data.x_test, np.stack(expected["test"][0]))
    assert data.y_train.dtype == np.int64
    assert data.y_train.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert data.y_test.tolist() == [0, 0, 1, 1, 2, 2]
    assert data.channels == 1 and data.describe_shape() == "4x3"


def test_a_folder_without_parts_is_split_the_same_way_every_time(tmp_path):
    folder = tmp_path / "pets"
    images, labels = [], []
    for label, name in enumerate(("dog", "cat")):  # read sorted: cat is class 0
        for k in range(5):
            save_png(folder / name / f"{k}.png", grey(10 * label + k))
    for label, name in enumerate(("cat", "dog")):
        for k in range(5):
            images.append(grey(10 * (name == "cat") + k))
            labels.append(label)
    x_train, y_train, x_test, y_test = splitting.split_test_part(np.stack(images), np.array(labels))
    data = load_dataset(folder)
    assert data.class_names == ("cat", "dog")
    assert (len(data.x_train), len(data.x_test)) == (8, 2)
    assert np.array_equal(data.x_train, x_train) and np.array_equal(data.y_train, y_train)
    assert np.array_equal(data.x_test, x_test) and np.array_equal(data.y_test, y_test)


def test_a_colour_folder_gives_rgb_images(tmp_path):
    red = np.zeros((5, 6, 3), np.uint8)
    red[..., 0] = 200
    blue = np.zeros((5, 6, 3), np.uint8)
    blue[..., 2] = 150
    blue[0, 0] = (1, 2, 3)
    for k in range(2):
        save_png(tmp_path / "c" / "train" / "red" / f"{k}.png", red)
        save_png(tmp_path / "c" / "test" / "red" / f"{k}.png", red)
        save_png(tmp_path / "c" / "train" / "blue" / f"{k}.png", blue)
    opaque = np.concatenate([blue, np.full((5, 6, 1), 255, np.uint8)], axis=2)
    save_png(tmp_path / "c" / "test" / "blue" / "rgba.png", opaque, "RGBA")
    data = load_dataset(tmp_path / "c")
    assert data.x_train.shape == (4, 5, 6, 3) and data.x_test.shape == (3, 5, 6, 3)
    assert data.class_names == ("blue", "red")
    assert np.array_equal(data.x_train, np.stack([blue, blue, red, red]))
    assert np.array_equal(data.x_test, np.stack([blue, red, red]))
    assert data.channels == 3 and data.describe_shape() == "5x6x3"


def test_grey_jpeg_and_one_bit_png_stay_grey(tmp_path):
    folder = tmp_path / "j"
    (folder / "a").mkdir(parents=True)
    (folder / "b").mkdir()
    Image.fromarray(np.full((8, 8), 128, np.uint8)).save(folder / "a" / "x.jpg", quality=95)
    Image.fromarray(np.eye(8, dtype=bool)).save(folder / "b" / "y.png")
    Image.fromarray(np.eye(8, dtype=bool)).save(folder / "b" / "z.png")
    data = load_dataset(folder)
    everything = np.concatenate([data.x_train, data.x_test])
    labels = np.concatenate([data.y_train, data.y_test])
    assert everything.shape == (3, 8, 8)
    assert np.array_equal(everything[labels == 0][0], np.full((8, 8), 128, np.uint8))
    for image in everything[labels == 1]:
        assert np.array_equal(image, np.eye(8, dtype=np.uint8) * 255)


# ---- malformed folders: one line naming the file -------------------------------------------

def test_mixed_image_sizes_name_the_odd_file_and_both_sizes(tmp_path):
    save_png(tmp_path / "f" / "a" / "1.png", grey(0))
    save_png(tmp_path / "f" / "a" / "2.png", grey(0))
    odd = save_png(tmp_path / "f" / "b" / "3.png", grey(0, (5, 3)))
    assert error_of(load_dataset, tmp_path / "f") == (
        f"{odd}: 3x5 grey but {tmp_path / 'f' / 'a' / '1.png'} is 3x4 grey; every image must "
        "have the same size and channels")


def test_mixed_channels_name_the_odd_file(tmp_path):
    first = save_png(tmp_path / "f" / "a" / "1.png", grey(0))
    odd = save_png(tmp_path / "f" / "a" / "2.png", np.zeros((4, 3, 3), np.uint8))
    save_png(tmp_path / "f" / "b" / "3.png", grey(0))
    assert error_of(load_dataset, tmp_path / "f") == (
        f"{odd}: 3x4 colour but {first} is 3x4 grey; every image must have the same size and "
        "channels")


def test_transparent_pixels_are_refused(tmp_path):
    rgba = np.full((4, 3, 4), 255, np.uint8)
    rgba[1, 1, 3] = 0
    bad = save_png(tmp_path / "f" / "a" / "1.png", rgba, "RGBA")
    save_png(tmp_path / "f" / "b" / "2.png", grey(0))
    assert error_of(load_dataset, tmp_path / "f") == (
        f"{bad}: has transparent pixels, which have no brightness; flatten it onto a background "
        "(or save it without alpha)")


def test_a_16_bit_image_is_read_scaled_from_65535(tmp_path):
    deep = tmp_path / "f" / "a" / "1.png"
    deep.parent.mkdir(parents=True)
    levels = np.array([[0, 257, 1000], [32768, 65000, 65535], [128, 129, 255], [256, 384, 640]],
                      np.uint16)
    Image.fromarray(levels).save(deep)
    assert Image.open(deep).mode == "I;16"
    save_png(tmp_path / "f" / "b" / "2.png", grey(0))
    save_png(tmp_path / "f" / "b" / "3.png", grey(1))
    data = load_dataset(tmp_path / "f")
    x = np.concatenate([data.x_train, data.x_test])
    y = np.concatenate([data.y_train, data.y_test])
    assert x[y == 0][0].tolist() == [[0, 1, 4], [128, 253, 255], [0, 1, 1], [1, 1, 2]]


def test_an_empty_class_folder_is_named(tmp_path):
    save_png(tmp_path / "f" / "a" / "1.png", grey(0))
    (tmp_path / "f" / "b").mkdir()
    (tmp_path / "f" / "b" / "notes.txt").write_text("not an image")
    assert error_of(load_dataset, tmp_path / "f") == (
        f"{tmp_path / 'f' / 'b'}: no PNG or JPEG images in this class folder")


def test_a_folder_without_class_folders(tmp_path):
    (tmp_path / "f").mkdir()
    save_png(tmp_path / "f" / "loose.png", grey(0))
    assert error_of(load_dataset, tmp_path / "f") == (
        f"{tmp_path / 'f'}: no class subfolders; put each class's PNG/JPEG images in a subfolder "
        "named after the class")


def test_an_unreadable_image_file(tmp_path):
    save_png(tmp_path / "f" / "a" / "1.png", grey(0))
    broken = tmp_path / "f" / "b" / "2.png"
    broken.parent.mkdir()
    broken.write_bytes(b"\x89PNG\r\n\x1a\n but then nothing a PNG holds")
    assert error_of(load_dataset, tmp_path / "f") == (
        f"{broken}: not a readable PNG or JPEG image (UnidentifiedImageError)")


def test_a_class_folder_that_cannot_be_listed(tmp_path, monkeypatch):
    """As a user without the right to read it (these tests run as root, whom chmod binds not)."""
    save_png(tmp_path / "f" / "a" / "1.png", grey(0))
    locked = tmp_path / "f" / "b"
    locked.mkdir()
    listing = Path.iterdir

    def iterdir(self):
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return listing(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    assert error_of(load_dataset, tmp_path / "f") == f"{locked}: Permission denied"


def test_a_test_class_the_training_part_lacks(tmp_path):
    save_png(tmp_path / "f" / "train" / "a" / "1.png", grey(0))
    save_png(tmp_path / "f" / "test" / "z" / "1.png", grey(0))
    assert error_of(load_dataset, tmp_path / "f") == (
        f"{tmp_path / 'f' / 'test' / 'z'}: a test class that {tmp_path / 'f' / 'train'} does "
        "not have")


def test_too_few_images_to_split(tmp_path):
    save_png(tmp_path / "f" / "a" / "1.png", grey(0))
    save_png(tmp_path / "f" / "b" / "1.png", grey(0))
    assert error_of(load_dataset, tmp_path / "f") == (
        f"{tmp_path / 'f'}: only 2 images, too few to split into training and test parts; give "
        "at least 3 (or a test part)")


def test_a_folder_source_through_the_cli(tmp_path):
    """`data info` on a good folder, then one line (exit 2) for mixed sizes."""
    for k in range(3):
        save_png(tmp_path / "f" / "ok" / f"{k}.png", grey(k))
    result = run_cli("data", "info", "--data", str(tmp_path / "f"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "name: f", "source: folder", f"path: {tmp_path / 'f'}",
        'shapes: {"x_train": [2, 4, 3], "y_train": [2], "x_test": [1, 4, 3], "y_test": [1]}',
        'classes: ["ok"]', "train_label_counts: [2]", "test_label_counts: [1]",
        "pixels: uint8 0 to 13"]
    odd = save_png(tmp_path / "f" / "ok" / "3.png", grey(0, (2, 2)))
    assert_one_error_line(run_cli("data", "info", "--data", str(tmp_path / "f")),
                          f"{odd}: 2x2 grey but {tmp_path / 'f' / 'ok' / '0.png'} is 3x4 grey")


# ---- .npz files ---------------------------------------------------------------------------

def test_npz_with_x_y_and_class_names(tmp_path):
    x = np.arange(6 * 2 * 3, dtype=np.float64).reshape(6, 2, 3) / 35
    y = np.array([0, 1, 2, 0, 1, 2], np.int32)
    path = tmp_path / "mine.npz"
    np.savez(path, x=x, y=y, class_names=np.array(["ant", "bee", "cow"]))
    data = load_dataset(path)
    x_train, y_train, x_test, y_test = splitting.split_test_part(x.astype(np.float32), y.astype(np.int64))
    assert data.name == "mine" and data.class_names == ("ant", "bee", "cow")
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert np.array_equal(data.x_train, x_train) and np.array_equal(data.y_test, y_test)
    assert np.array_equal(data.x_test, x_test) and np.array_equal(data.y_train, y_train)


def test_npz_with_x_only_and_a_test_part(tmp_path):
    path = tmp_path / "plain.npz"
    x = np.arange(4 * 2 * 2 * 3, dtype=np.int64).reshape(4, 2, 2, 3)
    np.savez(path, x=x, x_test=x[:1])
    data = load_dataset(path)
    assert data.x_train.dtype == np.uint8 and data.x_train.shape == (4, 2, 2, 3)
    assert np.array_equal(data.x_train, x) and np.array_equal(data.x_test, x[:1])
    assert data.y_train.tolist() == [0, 0, 0, 0] and data.class_names == ("0",)


def test_npz_with_one_channel_becomes_grey(tmp_path):
    path = tmp_path / "one.npz"
    x = np.arange(5 * 3 * 3, dtype=np.uint8).reshape(5, 3, 3, 1)
    np.savez(path, x=x, y=np.array([0, 1, 2, 3, 4]))
    data = load_dataset(path)
    assert data.x_train.shape == (4, 3, 3) and data.channels == 1
    assert data.class_names == ("0", "1", "2", "3", "4")


def test_keras_layout_that_is_not_mnist_is_the_users_data(tmp_path):
    """Fashion-MNIST has MNIST's shapes: shapes alone must not make a file MNIST."""
    rng = np.random.default_rng(1)
    path = tmp_path / "fashion.npz"
    arrays = {"x_train": rng.integers(0, 256, (60, 28, 28), dtype=np.uint8),
              "y_train": rng.integers(0, 10, 60).astype(np.uint8),
              "x_test": rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
              "y_test": np.arange(10, dtype=np.uint8)}
    np.savez(path, **arrays)
    data = load_dataset(path)
    assert data.name == "fashion" and data.source == "--data"
    assert np.array_equal(data.x_train, arrays["x_train"])
    assert np.array_equal(data.y_test, np.arange(10)) and data.y_test.dtype == np.int64
    assert data.class_names == tuple(str(k) for k in range(10))


def test_keras_layout_of_mnist_itself_is_mnist(tmp_path, mnist):
    path = tmp_path / "m.npz"
    np.savez(path, **mnist.arrays())
    data = load_dataset(path)
    assert data.name == "MNIST" and data.source == "--data" and data.path == str(path)
    for name in ("x_train", "y_train", "x_test", "y_test"):
        assert np.array_equal(getattr(data, name), getattr(mnist, name))
        assert getattr(data, name).dtype == np.uint8  # exactly what load_mnist gives


@pytest.mark.parametrize("arrays, message", [
    ({"x": np.full((4, 2, 2), np.nan)},
     "array 'x': image 0 holds nan at (0, 0); pixels must be finite numbers in [0, 1]"),
    ({"x": np.concatenate([np.zeros((3, 2, 2)), np.full((1, 2, 2), np.inf)])},
     "array 'x': image 3 holds inf at (0, 0); pixels must be finite numbers in [0, 1]"),
    ({"x": np.full((4, 2, 2), 2.5)},
     ("array 'x': pixels run from 2.5 to 2.5; float images must be brightness in [0, 1] "
     "(divide 0-255 pixels by 255)")),
    ({"x": np.full((4, 2, 2), 300)},
     ("array 'x': pixels run from 300 to 300; whole-number images must be 0-255 (or give "
     "floats in [0, 1])")),
    ({"x": np.zeros((4, 2, 2, 2))},
     ("array 'x': images have shape (4, 2, 2, 2); give (N, H, W) for grey or (N, H, W, C) with "
     "C = 1 or 3 channels")),
    ({"x": np.zeros((4, 2, 2)), "y": np.array([0, 1, 2])},
     "array 'y': 3 labels for 4 images"),
    ({"x": np.zeros((4, 2, 2)), "y": np.array([0, -1, 1, 0])},
     "array 'y': label -1 is negative; labels are class numbers 0..K-1"),
    ({"x": np.zeros((4, 2, 2)), "y": np.array([0, 1, 2, 3]), "class_names": np.array(["a", "b"])},
     "label 3 is out of range: there are 2 class names (labels run 0..1)"),
    ({"x": np.zeros((4, 2, 2)), "y": np.array([0.0, 1, 0, 1])},
     "array 'y': labels are float64; give whole numbers 0..K-1"),
    ({"x": np.zeros((2, 2, 2)), "y": np.array([0, 1])},
     ("only 2 images, too few to split into training and test parts; give at least 3 (or a "
      "test part)")),
    ({"x": np.zeros((4, 2, 2)), "y": np.zeros(4, int), "x_test": np.zeros((2, 2, 2))},
     "no array named 'y_test' for the labels of x_test"),
    ({"x_train": np.zeros((4, 2, 2)), "y_train": np.zeros(4, int)},
     "no array named 'x_test' (a Keras-layout .npz holds x_train, y_train, x_test and y_test)"),
    ({"images": np.zeros((4, 2, 2))},
     ("holds no images; name them x (with optional y and class_names) or x_train, y_train, "
     "x_test, y_test (Keras' layout)")),
])
def test_a_malformed_npz_is_one_line_naming_the_file(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    assert error_of(load_dataset, path) == f"{path}: {message}"


def test_an_object_array_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "objects.npz"
    y = np.empty(4, dtype=object)
    y[:] = [0, 1, 0, 1]
    np.savez(path, x=np.zeros((4, 2, 2)), y=y)
    assert error_of(load_dataset, path) == (
        f"{path}: array 'y' holds Python objects, which mlplens never unpickles; save it as "
        "numbers (or strings for class_names)")


def test_malformed_npz_through_the_cli(tmp_path):
    path = tmp_path / "nan.npz"
    x = np.zeros((4, 2, 2), np.float32)
    x[2, 1, 0] = np.nan
    np.savez(path, x=x)
    assert_one_error_line(run_cli("data", "info", "--data", str(path)),
                          f"{path}: array 'x': image 2 holds nan at (1, 0); pixels must be "
                          "finite numbers in [0, 1]")


def test_an_unknown_kind_of_file(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("1,2,3\n")
    assert error_of(load_dataset, path) == (
        f"{path}: not a dataset mlplens reads; give an .npz (Keras layout, or x with optional y "
        "and class_names), a folder of IDX files, or a folder with one subfolder of PNG/JPEG "
        "images per class")


# ---- IDX folders ------------------------------------------------------------------------

def test_a_generic_idx_folder_with_its_own_names(tmp_path):
    rng = np.random.default_rng(2)
    folder = tmp_path / "letters"
    folder.mkdir()
    arrays = {"train-images": rng.integers(0, 256, (7, 5, 4), dtype=np.uint8),
              "train-labels": np.array([0, 1, 2, 3, 4, 5, 25], np.uint8),
              "test-images": rng.integers(0, 256, (2, 5, 4), dtype=np.uint8),
              "test-labels": np.array([25, 3], np.uint8)}
    for stem, array in arrays.items():
        write_idx(folder / f"emnist-letters-{stem}-idx{array.ndim}-ubyte.gz", array,
                  gz=stem.endswith("images"))
    data = load_dataset(folder)
    assert data.name == "letters" and data.path == str(folder)
    assert np.array_equal(data.x_train, arrays["train-images"])
    assert np.array_equal(data.x_test, arrays["test-images"])
    assert data.y_train.tolist() == [0, 1, 2, 3, 4, 5, 25] and data.y_test.tolist() == [25, 3]
    assert len(data.class_names) == 26


def test_an_idx_folder_without_a_test_part_is_split(tmp_path):
    images = np.arange(5 * 2 * 2, dtype=np.uint8).reshape(5, 2, 2)
    write_idx(tmp_path / "train-images-idx3-ubyte", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.array([0, 1, 0, 1, 0]))
    data = load_dataset(tmp_path)
    x_train, _, x_test, _ = splitting.split_test_part(images, np.array([0, 1, 0, 1, 0]))
    assert np.array_equal(data.x_train, x_train) and np.array_equal(data.x_test, x_test)


def test_malformed_idx_folders(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((5, 2, 2)))
    labels = write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(4))
    assert error_of(load_dataset, tmp_path) == f"{labels}: 4 labels for 5 images"
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((1, 2, 2)))
    assert error_of(load_dataset, tmp_path) == (
        f"{tmp_path}: test images but no IDX file of test labels")
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((5, 2, 2)), gz=True)
    assert error_of(load_dataset, tmp_path) == (
        f"{tmp_path}: two IDX files of train images: train-images-idx3-ubyte and "
        "train-images-idx3-ubyte.gz")


def test_a_gzipped_idx_bomb_of_the_users_data_is_never_inflated(tmp_path):
    """Bounded not by MNIST's sizes but by what its compressed size can honestly hold."""
    header = struct.pack(">BBBB3I", 0, 0, 0x08, 3, 100_000, 100, 100)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(header + bytes(1000)))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(3))
    size = path.stat().st_size
    assert error_of(load_dataset, tmp_path) == (
        f"{path}: IDX header declares shape (100000, 100, 100) (1,000,000,000 bytes) from "
        f"{size:,} bytes of compressed data: mlplens refuses data that inflates over 100x (a "
        "decompression bomb)")


# ---- named datasets, fetched from a local server ---------------------------------------------

@pytest.fixture
def served(tmp_path):
    """Four small IDX files on 127.0.0.1, and a registry entry pinned to their digests."""
    root = tmp_path / "served"
    root.mkdir()
    rng = np.random.default_rng(3)
    arrays = {"x_train": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
              "y_train": np.array([0, 1, 2, 0, 1, 2], np.uint8),
              "x_test": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
              "y_test": np.array([2, 1, 0], np.uint8)}
    digests = {}
    for part, file_name in named.IDX_FILES.items():
        path = write_idx(root / file_name, arrays[part], gz=True)
        digests[file_name] = hashlib.sha256(path.read_bytes()).hexdigest()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{httpd.server_address[1]}/", "arrays": arrays,
               "digests": digests}
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("MLPLENS_CACHE_DIR", str(folder))
    return folder


def test_a_named_dataset_is_fetched_verified_and_loaded_from_the_cache(served, cache,
                                                                       monkeypatch):
    entry = named.Named("Test-MNIST", "http://127.0.0.1:1/unused/", served["digests"],
                        ("a", "b", "c"))
    monkeypatch.setitem(named.NAMED, "test-mnist", entry)
    message = error_of(load_dataset, "test-mnist")
    assert message == (f"Test-MNIST is not downloaded yet "
                       f"({cache / 'datasets' / 'test-mnist' / 'train-images-idx3-ubyte.gz'} is "
                       "missing); run 'mlplens data fetch test-mnist'")
    got = named.fetch_named("test-mnist", served["url"])
    folder = cache / "datasets" / "test-mnist"
    assert got == [folder / name for name in served["digests"]]
    assert sorted(p.name for p in folder.iterdir()) == sorted(served["digests"])
    data = load_dataset("test-mnist")
    assert data.name == "Test-MNIST" and data.source == "cache" and data.path == str(folder)
    assert data.class_names == ("a", "b", "c")
    for part, array in served["arrays"].items():
        assert np.array_equal(getattr(data, part), array), part
    # A cached file changed afterwards is refused, by its pinned digest.
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(struct.pack(">BBBBI", 0, 0, 8, 1, 3) + bytes([0, 1, 1])))
    assert error_of(load_dataset, "test-mnist") == (
        f"{folder / 't10k-labels-idx1-ubyte.gz'}: not the published Test-MNIST file (SHA-256 "
        "mismatch); run 'mlplens data fetch test-mnist' again")


def test_a_wrong_hash_is_refused_and_nothing_is_kept(served, cache, monkeypatch):
    digests = dict(served["digests"], **{"train-labels-idx1-ubyte.gz": "0" * 64})
    monkeypatch.setitem(named.NAMED, "test-mnist",
                        named.Named("Test-MNIST", served["url"], digests, ("a", "b", "c")))
    message = error_of(named.fetch_named, "test-mnist")
    assert message.startswith(f"download from {served['url']}train-labels-idx1-ubyte.gz failed "
                              "verification: the file is not Test-MNIST's "
                              "train-labels-idx1-ubyte.gz (")
    assert "\n" not in message
    # The file before it was verified and kept; nothing of the refused one is.
    assert sorted(p.name for p in (cache / "datasets" / "test-mnist").iterdir()) == [
        "train-images-idx3-ubyte.gz"]


def test_an_archived_dataset_is_taken_out_of_its_verified_archive(served, cache, monkeypatch):
    """EMNIST's way: one pinned archive holding the IDX files, images stored column by column."""
    archive = cache.parent / "served" / "bundle.zip"  # served beside the IDX files
    with zipfile.ZipFile(archive, "w") as bundle:
        for file_name in named.IDX_FILES.values():
            bundle.write(cache.parent / "served" / file_name, f"inner/{file_name}")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    entry = named.Named("Test-EMNIST", served["url"], {"bundle.zip": digest}, ("a", "b", "c"),
                        members={name: f"inner/{name}" for name in named.IDX_FILES.values()},
                        transposed=True)
    monkeypatch.setitem(named.NAMED, "test-emnist", entry)
    folder = cache / "datasets" / "test-emnist"
    got = named.fetch_named("test-emnist")
    assert got == [folder / name for name in named.IDX_FILES.values()]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*named.IDX_FILES.values(), "extracted.json"])  # the archive is gone
    data = load_dataset("test-emnist")
    assert np.array_equal(data.x_train, served["arrays"]["x_train"].transpose(0, 2, 1))
    assert np.array_equal(data.x_test, served["arrays"]["x_test"].transpose(0, 2, 1))
    assert data.y_test.tolist() == [2, 1, 0]
    # Fetched once: a second fetch downloads nothing (the server is not asked).
    monkeypatch.setitem(named.NAMED, "test-emnist",
                        named.Named("Test-EMNIST", "http://127.0.0.1:1/", {"bundle.zip": digest},
                                    ("a", "b", "c"), members=entry.members, transposed=True))
    assert named.fetch_named("test-emnist") == got
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(b"changed")
    assert error_of(load_dataset, "test-emnist") == (
        f"{folder / 'train-labels-idx1-ubyte.gz'}: not the published Test-EMNIST file (SHA-256 "
        "mismatch); run 'mlplens data fetch test-emnist' again")


def test_the_registry_pins_published_digests():
    assert sorted(named.NAMED) == ["emnist-digits", "fashion-mnist", "kmnist"]
    assert named.NAMED["emnist-digits"].sha256 == {
        "gzip.zip": "fb9bb67e33772a9cc0b895e4ecf36d2cf35be8b709693c3564cea2a019fcda8e"}
    assert named.NAMED["emnist-digits"].members["t10k-images-idx3-ubyte.gz"] == (
        "gzip/emnist-digits-test-images-idx3-ubyte.gz")
    fashion = named.NAMED["fashion-mnist"]
    assert fashion.sha256["train-images-idx3-ubyte.gz"] == (
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84")
    assert fashion.class_names[9] == "Ankle boot"
    assert named.NAMED["kmnist"].sha256["t10k-labels-idx1-ubyte.gz"] == (
        "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c")
    for entry in named.NAMED.values():
        assert sorted(entry.members or entry.sha256) == sorted(named.IDX_FILES.values())
        assert len(entry.class_names) == 10


def test_named_datasets_through_the_cli(served, tmp_path):
    """The real Fashion-MNIST digests refuse the local server's files: one line, nothing kept (no
    empty cache folder either);
    --data NAME before a fetch says how to fetch."""
    env = {"MLPLENS_CACHE_DIR": str(tmp_path / "c")}
    result = run_cli("data", "fetch", "fashion-mnist", "--url", served["url"], env=env)
    assert_one_error_line(result, f"download from {served['url']}train-images-idx3-ubyte.gz "
                                  "failed verification: the file is not Fashion-MNIST's "
                                  "train-images-idx3-ubyte.gz")
    assert not (tmp_path / "c").exists()  # nor the cache folders made for it
    assert_one_error_line(run_cli("data", "info", "--data", "kmnist", env=env),
                          "KMNIST is not downloaded yet (", "run 'mlplens data fetch kmnist'")
    assert_one_error_line(run_cli("data", "fetch", "cifar", env=env),
                          "no dataset named 'cifar'; mlplens fetches emnist-digits, "
                          "fashion-mnist, kmnist")


def test_describe_a_table():
    info = describe(load_dataset("wine"))
    assert info["name"] == "scikit-learn wine"
    assert info["shapes"] == {"x_train": [142, 13], "y_train": [142], "x_test": [36, 13],
                              "y_test": [36]}
    assert info["classes"] == ["class_0", "class_1", "class_2"]
    assert info["features"][0] == "alcohol" and len(info["features"]) == 13
    assert str(info["values"]).startswith("float32 ")


def test_an_idx_folder_of_mnist_itself_is_mnist(tmp_path, mnist):
    for name, (stem, _) in IDX_NAMES.items():
        write_idx(tmp_path / stem, getattr(mnist, name))
    data = load_dataset(tmp_path)
    assert data.name == "MNIST" and data.path == str(tmp_path)
    for name in IDX_NAMES:
        assert np.array_equal(getattr(data, name), getattr(mnist, name))
        assert getattr(data, name).dtype == np.uint8


def test_fetch_help_names_every_registered_dataset():
    result = run_cli("data", "fetch", "--help")
    assert result.returncode == 0
    assert f"a named dataset: {', '.join(sorted(named.NAMED))} (default: MNIST)" in " ".join(
        result.stdout.split())


def test_a_name_wins_over_a_folder_of_that_name_which_dot_slash_reaches(tmp_path, monkeypatch):
    """Run folders are often named after their data: `--data wine` is still scikit-learn's."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "wine").mkdir()
    (tmp_path / "wine" / "metrics.json").write_text("{}")
    data = load_dataset("wine")
    assert (data.name, data.x_test.shape, data.class_names) == (
        "scikit-learn wine", (36, 13), ("class_0", "class_1", "class_2"))
    assert error_of(load_dataset, "./wine").startswith("wine: ")
