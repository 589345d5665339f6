"""Fuzz every reader: damaged versions of a good file either load or are refused by one line.

Hypothesis mutates a small valid file of each format (bit flips, overwritten, inserted and
deleted bytes, truncation), deterministically and with a bounded number of examples, and runs
the real `visualize` command in this process on each. The contract: exit code 0 with the
outputs written, or exit code 2 with exactly one line `mlplens: error: <file>: ...`, nothing on
stdout and no output folder; any other exception fails the test (it would be a traceback).
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlplens
from mlplens import DenseStack
from mlplens.cli import main

from .make_corpus import dense, weights, write_keras2_h5

ARRAYS = weights([16, 8, 4], seed=21)
STACK = DenseStack.from_arrays(ARRAYS[0::2], ARRAYS[1::2], ["relu", "softmax"])


def seed_file(suffix: str, folder: Path) -> bytes:
    path = folder / f"seed{suffix}"
    if suffix == ".h5":
        write_keras2_h5(path, [dense("d1", 8), dense("d2", 4, "softmax")], 16,
                        {"d1": ARRAYS[:2], "d2": ARRAYS[2:]})
    elif suffix == ".keras":
        from mlplens.keras_backend import import_keras

        keras = import_keras()
        model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(4, activation="softmax")])
        model.set_weights(ARRAYS)
        model.save(path)
    else:
        mlplens.save_stack(STACK, path)
    assert mlplens.load_stack(path).describe() == "16-8-4 (relu, softmax)"
    return path.read_bytes()


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    """A scratch folder and one small valid file's bytes per format, made once per module."""
    folder = tmp_path_factory.mktemp("fuzz")
    return folder, {suffix: seed_file(suffix, folder)
                    for suffix in (".npz", ".safetensors", ".onnx", ".h5", ".keras")}


@st.composite
def damaged(draw, data: bytes) -> bytes:
    """1-3 mutations of `data`, biased towards its headers (the first 512 bytes)."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        if not out:
            break
        near_start = draw(st.booleans())
        limit = min(len(out), 512) if near_start else len(out)
        position = draw(st.integers(0, limit - 1))
        kind = draw(st.sampled_from(["flip", "flip", "overwrite", "insert", "delete",
                                     "truncate"]))
        if kind == "flip":
            out[position] ^= 1 << draw(st.integers(0, 7))
        elif kind == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=8))
            out[position:position + len(chunk)] = chunk
        elif kind == "insert":
            out[position:position] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del out[position:position + draw(st.integers(1, 16))]
        else:
            del out[position:]
    return bytes(out)


def check_contract(suffix: str, data: bytes, scratch: Path) -> int:
    with tempfile.TemporaryDirectory(dir=scratch) as folder:
        path = Path(folder) / f"model{suffix}"
        path.write_bytes(data)
        out = Path(folder) / "out"
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(["visualize", str(path), "--out", str(out)])
        if code == 0:
            assert stdout.getvalue().splitlines()[-1] == str(out / "arrays.npz")
            with np.load(out / "arrays.npz") as arrays:
                assert arrays["image_1"].dtype == np.uint8
            return code
        assert code == 2, (code, stderr.getvalue())
        lines = stderr.getvalue().splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith(f"mlplens: error: {path}: "), lines[0]
        assert stdout.getvalue() == ""
        assert not out.exists()
        return code


# 6,200 examples (1,500 per format, 200 for .keras) ran clean once; the suite runs a bounded share.
EXAMPLES = {".npz": 150, ".safetensors": 150, ".onnx": 150, ".h5": 150, ".keras": 40}


# A RuntimeWarning would print more lines on a user's stderr: here it fails the example.
@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("suffix", sorted(EXAMPLES))
def test_damaged_files_load_or_give_one_line(suffix, seeds):
    scratch, seed_bytes = seeds
    outcomes = []

    @settings(max_examples=EXAMPLES[suffix], derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(damaged(seed_bytes[suffix]))
    def run(data: bytes) -> None:
        outcomes.append(check_contract(suffix, data, scratch))

    run()
    assert len(outcomes) >= EXAMPLES[suffix]
    assert 2 in outcomes  # damage was found and refused, not only harmless changes
    print(f"{suffix}: {len(outcomes)} runs, {outcomes.count(2)} refused, "
          f"{outcomes.count(0)} loaded")


@pytest.mark.parametrize("suffix", sorted(EXAMPLES))
def test_the_undamaged_seed_loads(suffix, seeds):
    scratch, seed_bytes = seeds
    assert check_contract(suffix, seed_bytes[suffix], scratch) == 0
