"""What many tests share: the tiny hand-made net, running the real command line, the bad-input
contract, Debian's Chromium, and comparisons of stacks. Tests import this module, never each
other or conftest (which holds only fixtures)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from mlplens import DenseStack, MlplensError

REPO = Path(__file__).resolve().parents[1]

# A 2x2-pixel net: 4 inputs -> 2 hidden (relu) -> 3 outputs (softmax). Small enough to
# compute every projection by hand in test_project.py.
W1 = np.array([[1, 0], [2, -1], [0, 1], [-1, 3]], dtype=np.float32)
B1 = np.array([1, -2], dtype=np.float32)
W2 = np.array([[1, 0, 2], [0, 1, -1]], dtype=np.float32)
B2 = np.array([0, 1, -1], dtype=np.float32)


def tiny_net() -> DenseStack:
    return DenseStack.from_arrays([W1, W2], [B1, B2], ["relu", "softmax"])


def run_cli(*args: str, env: dict[str, str] | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run `python -m mlplens ARGS` as a user would, capturing its output."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "mlplens", *args], capture_output=True,
                          text=True, env=full_env, timeout=timeout, cwd=REPO)


# A child that must refuse gets this much address space and CPU time: a regression dies there
# (MemoryError, SIGXCPU), never taking the shared machine with it.
CHILD_ADDRESS_SPACE = 2 * 2**30
CHILD_CPU_SECONDS = 120
# Linux counts in a child's peak the parent's memory it was forked with, so the child is started
# by this small launcher, a fresh interpreter, which sets its limits, waits for it (wait4) and
# writes its exit code and peak resident memory (ru_maxrss, KiB) to the file named first.
LAUNCHER = """
import json, os, resource, subprocess, sys
limits = json.loads(sys.argv[2])
def limit():
    for name, value in limits.items():
        resource.setrlimit(getattr(resource, name), (value, value))
child = subprocess.Popen(sys.argv[3:], preexec_fn=limit)
_, status, usage = os.wait4(child.pid, 0)
child.returncode = os.waitstatus_to_exitcode(status)
with open(sys.argv[1], "w") as report:
    report.write(f"{child.returncode} {usage.ru_maxrss}")
"""


def run_cli_measured(*args: str, env: dict[str, str] | None = None, cwd: Path = REPO,
                     address_space: int | None = CHILD_ADDRESS_SPACE,
                     file_size: int | None = None
                     ) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run `python -m mlplens ARGS` under hard limits; its output and its peak resident memory
    in bytes. `address_space` None lifts that limit (JAX reserves far more than it uses);
    `file_size` caps every file the child writes (EFBIG past it, as on a full disk)."""
    limits = {"RLIMIT_CPU": CHILD_CPU_SECONDS}
    if address_space is not None:
        limits["RLIMIT_AS"] = address_space
    if file_size is not None:
        limits["RLIMIT_FSIZE"] = file_size
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report"
        command = [sys.executable, "-m", "mlplens", *args]
        launched = subprocess.run([sys.executable, "-c", LAUNCHER, str(report),
                                   json.dumps(limits), *command],
                                  capture_output=True, text=True, cwd=cwd,
                                  env={**os.environ, **(env or {})})
        code, peak_kib = (int(value) for value in report.read_text().split())
    return subprocess.CompletedProcess(command, code, launched.stdout, launched.stderr), \
        peak_kib * 1024


def assert_one_error_line(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """The contract for bad input: exit 2, one `mlplens: error:` line on stderr, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mlplens: error: "), lines[0]
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


CHROMIUM = Path("/usr/bin/chromium")
# Debian's Chromium, never a browser that a tool downloads; no network, no first-run work.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-default-apps", "--disable-extensions"]


def launch_chromium(playwright):
    """Chromium from Debian (`make setup-test` installs it). Missing is a failure, not a skip."""
    assert CHROMIUM.is_file(), ("the browser tests need Debian's Chromium at /usr/bin/chromium: "
                                "run `make setup-test` (apt-get install -y chromium)")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def error_of(call, *args, **kwargs) -> str:
    """Run `call`, which must raise MlplensError, and give back its message."""
    with pytest.raises(MlplensError) as caught:
        call(*args, **kwargs)
    return str(caught.value)


def assert_message(message: str, *fragments: str) -> None:
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def assert_same_stack(a: DenseStack, b: DenseStack) -> None:
    assert a.image_shape == b.image_shape
    assert a.widths == b.widths
    assert len(a.layers) == len(b.layers)
    for la, lb in zip(a.layers, b.layers):
        assert la.name == lb.name
        assert la.activation == lb.activation
        assert la.kernel.dtype == lb.kernel.dtype == np.float32
        assert la.bias.dtype == lb.bias.dtype == np.float32
        assert np.array_equal(la.kernel, lb.kernel)
        assert np.array_equal(la.bias, lb.bias)
        assert (la.norm is None) == (lb.norm is None) and la.norm_after == lb.norm_after
        if la.norm is not None:
            assert la.norm.epsilon == lb.norm.epsilon
            assert np.array_equal(la.norm.scale, lb.norm.scale)
            assert np.array_equal(la.norm.offset, lb.norm.offset)
    assert a.head_kind == b.head_kind


def numpy_forward(stack: DenseStack, x: np.ndarray) -> np.ndarray:
    """The stack's own meaning, y = act(x @ kernel + bias) layer by layer, in float64."""
    h = x.reshape(len(x), -1).astype(np.float64)
    for layer in stack.layers:
        h = h @ layer.kernel.astype(np.float64) + layer.bias.astype(np.float64)
        if layer.activation == "relu":
            h = np.maximum(h, 0)
        elif layer.activation == "softmax":
            e = np.exp(h - h.max(axis=1, keepdims=True))
            h = e / e.sum(axis=1, keepdims=True)
        elif layer.activation == "sigmoid":
            h = 1 / (1 + np.exp(-h))
        elif layer.activation == "tanh":
            h = np.tanh(h)
        else:
            assert layer.activation == "linear"
    return h


class LazyKeras:
    """Keras (or one of its modules, e.g. "layers"), imported with the JAX backend when a test
    first touches it: collecting the tests, as `make check` does for the ones it leaves out,
    never pays for importing Keras."""

    def __init__(self, module: str = "") -> None:
        self._module = module

    def __getattr__(self, name: str):
        from mlplens.keras_backend import import_keras

        keras = import_keras()
        return getattr(getattr(keras, self._module) if self._module else keras, name)



# ---- pictures as people's files hold them -------------------------------------------------------

EXIF_ORIENTATION = 0x0112  # 6: "turn 90 degrees clockwise to view", as phones save photos


def paper_photo(digit: np.ndarray) -> "Image.Image":
    """An MNIST digit as a photo of paper is: dark ink on white, 84x84, in colour."""
    from PIL import Image

    return Image.fromarray(255 - digit).resize((84, 84), Image.Resampling.BICUBIC).convert("RGB")


def save_turned_jpeg(picture: "Image.Image", path: Path, tagged: bool = True) -> Path:
    """`picture` stored a quarter turn anticlockwise and, `tagged`, with EXIF orientation 6, so
    a reader that honours the tag sees `picture` again; one that ignores it sees it turned."""
    from PIL import Image

    exif = Image.Exif()
    if tagged:
        exif[EXIF_ORIENTATION] = 6
    picture.transpose(Image.Transpose.ROTATE_90).save(path, quality=95, exif=exif.tobytes())
    return path


def save_16_bit_png(grey: np.ndarray, path: Path) -> Path:
    """uint8 grey as a 16-bit grey PNG (mode I;16) of the same brightness: 255 -> 65535."""
    from PIL import Image

    Image.fromarray(grey.astype(np.uint16) * 257).save(path)
    return path
