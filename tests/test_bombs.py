"""Memory bounded by what is real: small hostile files and huge requests are refused by the real
command line, in one line with the exact fragment, before the child holds more than
PEAK_BOUND of memory.

Every child runs under a hard address-space and CPU limit (helpers.run_cli_measured), so a
regression fails here by its peak, never by exhausting the machine. Bombs bigger than a
megabyte on disk are made in the test run; time is not asserted (benchmarks/memory.py
measures it).
"""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from mlplens.datasets.mnist import IDX_NAMES

from .helpers import assert_one_error_line, run_cli_measured
from .make_corpus import CORPUS, deflated_zeros, npy_header_only, zip_bytes

pytestmark = pytest.mark.slow  # each test starts new interpreters

PEAK_BOUND = 300 * 10**6
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())
BOMBS = sorted(name for name in MANIFEST
               if any(kind in name for kind in ("bomb", "forged", "short", "unwritten")))
LIMIT = {"MLPLENS_MEMORY_LIMIT": "2G"}
UNDER_LIMIT = "is available under MLPLENS_MEMORY_LIMIT=2G"


def refused(*args: str, env: dict[str, str] | None = None) -> str:
    """The one error line of a command that must refuse within PEAK_BOUND."""
    result, peak = run_cli_measured(*args, env=env)
    line = assert_one_error_line(result)
    assert peak < PEAK_BOUND, (peak, line)
    return line


def test_the_corpus_has_every_kind_of_bomb():
    assert BOMBS == ["h5-bomb.h5", "h5-unwritten.h5", "keras-bomb.keras",
                     "keras-unwritten.keras", "npz-bomb.npz", "npz-forged.npz", "npz-short.npz"]


@pytest.mark.parametrize("name", BOMBS)
def test_a_model_bomb_is_refused_from_its_headers(name, tmp_path):
    line = refused("visualize", str(CORPUS / name), "--out", str(tmp_path / "out"))
    assert line.startswith(f"mlplens: error: {CORPUS / name}: {MANIFEST[name]}"), line


# ---- MNIST: IDX (gzipped or not) and npz -----------------------------------------------------

def idx_header(*shape: int) -> bytes:
    return struct.pack(f">BBBB{len(shape)}I", 0, 0, 0x08, len(shape), *shape)


def gzip_zeros(prefix: bytes, zeros: int) -> bytes:
    """A gzip file of `prefix` then `zeros` zero bytes, made without inflating anything."""
    stream, crc = deflated_zeros(prefix, zeros)
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + stream
            + struct.pack("<II", crc, (len(prefix) + zeros) & 0xFFFFFFFF))


def images_file(folder: Path, content: bytes, gz: bool) -> Path:
    """The hostile training images, beside small honest training labels."""
    folder.mkdir()
    (folder / IDX_NAMES["y_train"][0]).write_bytes(idx_header(3) + bytes(3))
    path = folder / f"{IDX_NAMES['x_train'][0]}{'.gz' if gz else ''}"
    path.write_bytes(content)
    return path


def test_gzipped_idx_that_inflates_past_its_header_is_cut_short(tmp_path):
    """3 MB inflating to 3 GB behind an honest MNIST header: read up to the header's size."""
    path = images_file(tmp_path / "idx", gzip_zeros(idx_header(60000, 28, 28), 3 * 10**9), True)
    assert path.stat().st_size < 4 * 10**6
    line = refused("data", "info", "--data", str(tmp_path / "idx"))
    assert line == (f"mlplens: error: {path}: the file holds more data than the 47,040,000 "
                    "values its IDX header declares")


def test_gzipped_idx_declaring_more_than_it_can_hold_is_never_inflated(tmp_path):
    """--data is the user's own data, bounded not by MNIST's sizes but by what its compressed
    size can honestly inflate to."""
    path = images_file(tmp_path / "idx", gzip_zeros(idx_header(5_000_000, 28, 28), 10**6), True)
    line = refused("data", "info", "--data", str(tmp_path / "idx"))
    assert line == (f"mlplens: error: {path}: IDX header declares shape (5000000, 28, 28) "
                    f"(3,920,000,000 bytes) from {path.stat().st_size:,} bytes of compressed "
                    "data: mlplens refuses data that inflates over 100x (a decompression bomb)")


def test_a_5_gb_idx_file_is_judged_by_its_size(tmp_path):
    """A sparse file: 5 GB long, nothing on disk."""
    path = images_file(tmp_path / "idx", idx_header(60000, 28, 28), False)
    with open(path, "r+b") as handle:
        handle.truncate(5 * 10**9)
    line = refused("data", "info", "--data", str(tmp_path / "idx"))
    assert line == (f"mlplens: error: {path}: IDX header declares 47040000 values but the file "
                    f"holds {5 * 10**9 - 16}")


def test_mnist_npz_arrays_are_checked_before_np_load(tmp_path):
    huge = npy_header_only((5_000_000, 28, 28), "|u1")
    stream, crc = deflated_zeros(huge, 5_000_000 * 784)
    path = tmp_path / "mnist.npz"
    path.write_bytes(zip_bytes([("x_train.npy", stream, zipfile.ZIP_DEFLATED, crc,
                                 len(huge) + 5_000_000 * 784)]))
    assert path.stat().st_size < 4 * 10**6
    line = refused("data", "info", "--data", str(path))
    assert line == (f"mlplens: error: {path}: array 'x_train' declares shape (5000000, 28, 28) "
                    f"(3,920,000,000 bytes) from {len(stream):,} bytes of compressed data: "
                    "mlplens refuses data that inflates over 100x (a decompression bomb)")
    short = npy_header_only((60000, 28, 28), "|u1") + bytes(100)
    path.write_bytes(zip_bytes([("x_train.npy", short, zipfile.ZIP_STORED, zlib.crc32(short),
                                 len(short))]))
    line = refused("data", "info", "--data", str(path))
    assert line == (f"mlplens: error: {path}: array 'x_train' declares shape (60000, 28, 28) "
                    "but its zip member holds 100 bytes of data")


# ---- commands: the work their options ask for ------------------------------------------------

def model(path: Path, *sizes: int) -> Path:
    """A random float32 net saved as .npz (stored, so its data is real)."""
    rng = np.random.default_rng(0)
    np.savez(path, **{f"W{k}": rng.normal(0, 0.05, shape).astype(np.float32)
                      for k, shape in enumerate(zip(sizes, sizes[1:]), start=1)})
    return path


@pytest.fixture(scope="module")
def mnist_npz(tmp_path_factory, mnist) -> Path:
    """The real MNIST as an npz for --data: no command depends on the cache's state."""
    path = tmp_path_factory.mktemp("mnist") / "mnist.npz"
    np.savez(path, **mnist.arrays())
    return path


def test_a_huge_scale_is_refused(tmp_path):
    line = refused("visualize", str(model(tmp_path / "m.npz", 784, 16, 10)), "--scale", "1000",
                   "--out", str(tmp_path / "out"), env=LIMIT)
    assert line.startswith("mlplens: error: drawing the 784-16-10 model with --method linear "
                           "--scale 1000 needs about "), line
    assert line.endswith(UNDER_LIMIT), line


def test_examples_with_a_huge_top_k_are_refused(tmp_path, mnist_npz):
    line = refused("visualize", str(model(tmp_path / "m.npz", 784, 64, 10)), "--method",
                   "examples", "--top-k", "10000", "--reference", "10000", "--data",
                   str(mnist_npz), "--out", str(tmp_path / "out"), env=LIMIT)
    assert line.startswith("mlplens: error: drawing the 784-64-10 model with --method examples "
                           "--top-k 10000 --reference 10000 needs about "), line
    assert line.endswith(UNDER_LIMIT), line


def test_gradient_on_wide_layers_is_refused(tmp_path, mnist_npz):
    """Layer 3's per-batch inner products are (128, 1500, 1500) floats, a few at once (layer
    2's are summed without them)."""
    line = refused("visualize", str(model(tmp_path / "m.npz", 784, 1500, 1500, 1500, 10)),
                   "--method", "gradient", "--data", str(mnist_npz), "--out",
                   str(tmp_path / "out"), env=LIMIT)
    assert line.startswith("mlplens: error: drawing the 784-1500-1500-1500-10 model with --method "
                           "gradient --reference 1000 needs about "), line
    assert line.endswith(UNDER_LIMIT), line


def test_an_explorer_too_big_for_the_limit_is_refused(tmp_path, mnist_npz):
    path = model(tmp_path / "wide.npz", 784, 8000, 10)
    line = refused("explore", str(path), "--data", str(mnist_npz), "-o",
                   str(tmp_path / "x.html"), env={"MLPLENS_MEMORY_LIMIT": "500M"})
    assert line.startswith("mlplens: error: the explorer page of wide.npz (784-8000-10) needs "
                           "about "), line
    assert line.endswith("is available under MLPLENS_MEMORY_LIMIT=500M"), line
    assert not (tmp_path / "x.html").exists()


def test_a_bad_limit_names_the_variable(tmp_path):
    path = model(tmp_path / "m.npz", 16, 4)
    line = refused("visualize", str(path), "--out", str(tmp_path / "out"),
                   env={"MLPLENS_MEMORY_LIMIT": "lots"})
    assert line == (f"mlplens: error: {path}: MLPLENS_MEMORY_LIMIT='lots' is not a memory size; "
                    "write it like 2G, 500M, 1.5GiB or a number of bytes")


def test_a_valid_model_still_draws_under_a_limit(tmp_path):
    path = model(tmp_path / "m.npz", 784, 32, 10)
    result, peak = run_cli_measured("visualize", str(path), "--out", str(tmp_path / "out"),
                                    env={"MLPLENS_MEMORY_LIMIT": "1G"})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "layer-1.png").is_file()
    assert peak < PEAK_BOUND
