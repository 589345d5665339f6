"""Probes, round three: the user's own data, class and feature names, the newer commands.

Each probe is a row, as in test_probes.py: the command, the exit code, a fragment of the one
error line, and the promises every run keeps: no traceback, no escape codes, nothing new in the
probe's folder when it fails (nothing outside --out touched when it works) and a bound on the
memory it grows by. Most run in this process (`cli.main`), measured by the peak of this
process' resident memory, which Linux resets on request (/proc/self/clear_refs); a probe whose
point is the process itself (a pipe as stdout, matplotlib's warnings) runs as a child. Memory
refusals run under MLPLENS_MEMORY_LIMIT set to what this process holds plus 500 MB, so that they
are refused the same way on any machine.

Pictures: real MNIST test digits as a phone's EXIF-rotated JPEG and as a 16-bit PNG are read as
those digits (by the shared small trained net), where a reader that ignored the orientation or
clipped at 255 would not.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import struct
import warnings
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mlplens import DenseStack, load_stack, save_stack
from mlplens.cli import main
from mlplens.core.forward import as_inputs, predict
from mlplens.digit_image import read_digit
from mlplens.render.text import MAX_LABEL, fitted, shown

from .helpers import paper_photo, run_cli_measured, save_16_bit_png, save_turned_jpeg

pytestmark = pytest.mark.slow  # Keras, the shared trained net and two new interpreters

LONG_NAME = "x" * 200_000


@dataclass(frozen=True)
class Probe:
    kind: str  # which of the issue's kinds of failure it probes
    name: str
    args: tuple[str, ...]  # {dir} is the probe's scratch folder, {...} the files below
    code: int = 2
    fragment: str = ""  # in the one error line (failures)
    env: dict[str, str] = field(default_factory=dict)
    max_mb: float = 300  # what the run may add to the memory it started with
    child: bool = False  # run as a child process (its own stdout, its own warnings)
    # Successful probes: the paths that must be new or changed afterwards.
    creates: tuple[str, ...] = ()


LIMITED = {"MLPLENS_MEMORY_LIMIT": "{limit}"}


def _probes() -> list[Probe]:
    p = Probe
    return [
        # 1. a small input, unbounded work: asked of memory (or size) before the work
        p("memory", "data info: one label of 999999999", ("data", "info", "--data", "{big_label}"),
          env=LIMITED, fragment="{big_label}: 1,000,000,000 classes (labels are class numbers "
                                "0..K-1, and the largest is 999999999) needs about 100 GB"),
        p("memory", "train: one label of 999999999",
          ("train", "--data", "{big_label}", "--out", "{dir}/run"), env=LIMITED,
          fragment="1,000,000,000 classes (labels are class numbers"),
        p("memory", "50 PNGs of 6000x6000 zeros", ("data", "info", "--data", "{zeros}"),
          fragment="{zeros}: its 50 images of 6000x6000 grey would decode to 1.8 GB from "
                   "1.8 MB on disk, over 100 times"),
        p("memory", "10,000 classes of one 4x4 image each",
          ("train", "--data", "{many_classes}", "--hidden", "4", "--out", "{dir}/run"),
          env=LIMITED, max_mb=600,
          fragment="training a 16-4-10000 net on 8,000 images of 10,000 classes needs about "
                   "962 MB of memory"),
        p("memory", "--feature-names @ a 10 GB file",
          ("visualize", "{table}", "--feature-names", "@{sparse}", "--out", "{dir}/x"),
          env=LIMITED, fragment="reading the feature names in {sparse} needs about 300 GB"),
        p("memory", "features --size 5000000",
          ("features", "{narrow}", "--layer", "1", "--size", "5000000", "--out", "{dir}/f"),
          env=LIMITED, fragment="a dictionary of 5,000,000 features of layer 1 (--size) needs "
                                "about 91 GB"),
        p("memory", "diagram --width 10000000",
          ("diagram", "{good}", "--width", "10000000", "--out", "{dir}/d"), env=LIMITED,
          fragment="drawing the 10000000x836 pixel diagram (--width, --nodes) needs about "
                   "150 GB"),
        p("memory", "explore a 784-100000-10 net", ("explore", "{wide}", "-o", "{dir}/p.html"),
          max_mb=700, fragment="(784-100000-10) would make an explorer page of about 844 MB, "
                               "more than a browser can open (at most 200 MB)"),
        # 2. text fitted in time that does not grow with it
        p("text", "a 200,000-character class name", (
            "visualize", "{good}", "--method", "examples", "--data", "{long_name}",
            "--out", "{dir}/figs"), code=0,
          creates=("figs/layer-1.png", "figs/layer-2.png", "figs/examples-1.png",
                   "figs/examples-2.png", "figs/arrays.npz", "figs/nodes.json",
                   "figs/nodes.csv", "figs/.mlplens-manifest.json")),
        # 3. every named file through the input checks
        p("inputs", "--feature-names @ a FIFO",
          ("visualize", "{table}", "--feature-names", "@{fifo}", "--out", "{dir}/x"),
          fragment="{fifo}: is a named pipe (FIFO), not a regular file"),
        p("inputs", "--feature-names @/dev/zero",
          ("visualize", "{table}", "--feature-names", "@/dev/zero", "--out", "{dir}/x"),
          fragment="/dev/zero: is a character device, not a regular file"),
        p("inputs", "diagram --image a PNG of 20000x20000 pixels (Pillow's bomb)",
          ("diagram", "{good}", "--image", "{png_bomb}", "--out", "{dir}/d"),
          fragment="{png_bomb}: the picture is too large (at most 40,000,000 pixels)"),
        p("inputs", "an image folder holding a PNG of 20000x20000 pixels",
          ("data", "info", "--data", "{bomb_folder}"),
          fragment="the picture is too large (at most 40,000,000 pixels)"),
        # 4. no write leaves the output folder
        p("links", "a link inside --out to a file outside it is replaced, not written through",
          ("visualize", "{good}", "--out", "{dir}/figs"), code=0,
          creates=("figs/layer-1.png", "figs/layer-2.png", "figs/arrays.npz",
                   "figs/.mlplens-manifest.json")),
        p("links", "a pipe behind -o", ("explore", "{good}", "-o", "/dev/stdout"), child=True,
          fragment="/dev/stdout: is a named pipe (FIFO); mlplens writes regular files only"),
        # 5, 9. data fetch
        p("messages", "data fetch --url 'http://[::1'", ("data", "fetch", "--url", "http://[::1"),
          fragment="--url 'http://[::1': not a web address (http://, https:// or ftp://)"),
        p("leftovers", "a failed data fetch leaves no cache folder",
          ("data", "fetch", "kmnist", "--url", "http://127.0.0.1:9/"),
          env={"MLPLENS_CACHE_DIR": "{dir}/cache"},
          fragment="cannot download http://127.0.0.1:9/train-images-idx3-ubyte.gz: "),
        # 6. bad input accepted
        *[p("options", f"visualize --method linear {' '.join(given)}",
            ("visualize", "{good}", *given, "--out", "{dir}/x"),
            fragment=f"{given[0]} is an option of --method {takers}; --method linear does "
                     "not take it")
          for given, takers in ((("--per-class",), "gradient"), (("--top-k", "3"), "examples"),
                                (("--nodes", "0-3"), "maximize"), (("--layers", "1"), "maximize"),
                                (("--seed", "3"), "maximize"),
                                (("--reference", "5"), "gradient or examples"))],
        p("options", "visualize --method gradient --top-k 3",
          ("visualize", "{good}", "--method", "gradient", "--top-k", "3", "--out", "{dir}/x"),
          fragment="--top-k is an option of --method examples; --method gradient does not "
                   "take it"),
        p("options", "data info --pixel-scale abc", ("data", "info", "--pixel-scale", "abc"),
          fragment="unknown pixel scale 'abc'"),
        p("options", "duplicate class names", ("data", "info", "--data", "{twice}"),
          fragment="{twice}: classes 0 and 1 are both named 'a'; class names must differ"),
        p("options", "an empty class name", ("data", "info", "--data", "{unnamed}"),
          fragment="{unnamed}: class 1 has an empty name; give every class a name"),
        p("options", "training on a single class", (
            "train", "--data", "{one_class}", "--hidden", "4", "--out", "{dir}/run"),
          fragment="{one_class}: all 24 training images are of one class ('0'); a classifier "
                   "needs at least two"),
        # 7. messages that name the real thing, and defaults that fit the model
        p("messages", "features of a model of breast-cancer's table", (
            "features", "{cancer}", "--layer", "1", "--data", "breast-cancer", "--out",
            "{dir}/f"),
          fragment="{cancer}: takes 30 features (a table); mlplens features draws a "
                   "dictionary's features as pictures, so it needs a model of images"),
        p("defaults", "features with default --k and --size on a 20-node layer", (
            "features", "{narrow}", "--layer", "1", "--steps", "20", "--show", "4",
            "--reference", "20", "--out", "{dir}/f"), code=0, max_mb=900,
          creates=("f", "f/dictionary.safetensors", "f/features-linear.png",
                   "f/features-gradient.png", "f/features-examples.png",
                   "f/features-maximize.png", "f/polysemantic-nodes.png", "f/features.json",
                   "f/features.npz", "f/.mlplens-manifest.json")),
        p("messages", "a lambda in a regulariser", ("visualize", "{lambda}", "--out", "{dir}/x"),
          fragment="{lambda}: the model holds Python code (a lambda in layer 'dense', its "
                   "kernel_regularizer), which mlplens never runs"),
        # 8. control characters never reach matplotlib (nor its warnings, nor the terminal)
        p("names", "feature names holding ESC and BEL",
          ("visualize", "{table}", "--feature-names", "red\x1b[31m,bell\x07,plain",
           "--out", "{dir}/bars"), code=0, child=True,
          creates=("bars", "bars/layer-1.png", "bars/layer-1.csv", "bars/layer-2.png",
                   "bars/layer-2.csv", "bars/arrays.npz", "bars/.mlplens-manifest.json")),
    ]


PROBES = _probes()


def test_every_kind_of_the_issue_is_probed():
    kinds = Counter(probe.kind for probe in PROBES)
    assert set(kinds) == {"memory", "text", "inputs", "links", "messages", "leftovers",
                          "options", "defaults", "names"}, kinds
    assert len({probe.name for probe in PROBES}) == len(PROBES) == 32


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that declares width x height grey pixels and holds one empty row: Pillow refuses
    it as a decompression bomb from its header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(
        ">IIBBBBB", width, height, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(bytes(2)))
        + chunk(b"IEND", b""))
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    """The probes' inputs, made once."""
    folder = tmp_path_factory.mktemp("round3")
    rng = np.random.default_rng(3)

    def stack(*widths: int, names: tuple[str, ...] = ()) -> DenseStack:
        kernels = [rng.standard_normal((a, b)).astype(np.float32) * 0.1
                   for a, b in zip(widths, widths[1:])]
        return DenseStack.from_arrays(kernels, [np.zeros(b, np.float32) for b in widths[1:]],
                                      input_names=names)

    save_stack(stack(784, 8, 10), folder / "good.npz")
    save_stack(stack(784, 20, 10), folder / "narrow.npz")
    save_stack(stack(3, 4, 2, names=("a", "b", "c")), folder / "table.npz")
    save_stack(stack(30, 16, 2, names=tuple(f"f{i}" for i in range(30))), folder / "cancer.npz")
    np.savez(folder / "wide.npz", W1=np.full((784, 100_000), 1e-3, np.float32),
             b1=np.zeros(100_000, np.float32), W2=np.full((100_000, 10), 1e-3, np.float32),
             b2=np.zeros(10, np.float32))
    np.savez(folder / "big-label.npz", x=np.zeros((3, 4, 4), np.uint8),
             y=np.array([0, 1, 999_999_999]))
    np.savez(folder / "many-classes.npz", x=np.zeros((10_000, 4, 4), np.uint8),
             y=np.arange(10_000))
    np.savez(folder / "one-class.npz", x=np.zeros((30, 28, 28), np.uint8),
             y=np.zeros(30, np.int64))
    for name, names in (("twice", ["a", "a"]), ("unnamed", ["a", " "])):
        np.savez(folder / f"{name}.npz", x=np.zeros((30, 4, 4), np.uint8), y=np.arange(30) % 2,
                 class_names=np.array(names))
    np.savez(folder / "long-name.npz", x=rng.integers(0, 256, (30, 28, 28), dtype=np.uint8),
             y=np.arange(30) % 10, class_names=np.array([LONG_NAME, *map(str, range(1, 10))]))
    zeros = folder / "zeros"
    for part in ("a", "b"):
        (zeros / part).mkdir(parents=True)
    Image.fromarray(np.zeros((6000, 6000), np.uint8)).save(zeros / "a" / "0.png")
    for index in range(1, 50):
        shutil.copyfile(zeros / "a" / "0.png", zeros / "ab"[index % 2] / f"{index}.png")
    png_header_only(folder / "bomb.png", 20_000, 20_000)
    for part in ("a", "b"):
        (folder / "bomb-folder" / part).mkdir(parents=True)
    png_header_only(folder / "bomb-folder" / "a" / "0.png", 20_000, 20_000)
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(folder / "bomb-folder" / "b" / "1.png")
    with open(folder / "ten-gigabytes.txt", "wb") as sparse:
        sparse.truncate(10 * 10**9)
    os.mkfifo(folder / "fifo")
    from mlplens.keras_backend import import_keras

    keras = import_keras()
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(
        8, activation="relu", name="dense",  # named: Keras' counter depends on earlier tests
        kernel_regularizer=lambda w: 0.01 * keras.ops.sum(w)),
        keras.layers.Dense(10, activation="softmax", name="output")])
    with warnings.catch_warnings():  # Keras warns that the lambda cannot be loaded safely
        warnings.simplefilter("ignore")
        model.save(folder / "lambda.keras")
    return {"good": str(folder / "good.npz"), "narrow": str(folder / "narrow.npz"),
            "table": str(folder / "table.npz"), "cancer": str(folder / "cancer.npz"),
            "wide": str(folder / "wide.npz"),
            "big_label": str(folder / "big-label.npz"),
            "many_classes": str(folder / "many-classes.npz"),
            "one_class": str(folder / "one-class.npz"), "twice": str(folder / "twice.npz"),
            "unnamed": str(folder / "unnamed.npz"), "long_name": str(folder / "long-name.npz"),
            "zeros": str(zeros), "png_bomb": str(folder / "bomb.png"),
            "bomb_folder": str(folder / "bomb-folder"),
            "sparse": str(folder / "ten-gigabytes.txt"), "fifo": str(folder / "fifo"),
            "lambda": str(folder / "lambda.keras")}


def _resident() -> int:
    return int(re.search(r"VmRSS:\s+(\d+) kB", Path("/proc/self/status").read_text())[1]) * 1024


def _run_here(args: list[str], env: dict[str, str], cwd: Path,
              monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str, int]:
    """`cli.main(args)` in this process: exit code, stdout, stderr and how far the peak of this
    process' resident memory rose above what it held when the run began."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(cwd)
    out, err = io.StringIO(), io.StringIO()
    Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) starts again from here
    start = _resident()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    peak = int(re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text())[1]) * 1024
    return code, out.getvalue(), err.getvalue(), peak - start


def _snapshot(folder: Path) -> dict[str, bytes | str | None]:
    """Every path under `folder`: a file's bytes, a link's target, None for a folder."""
    found: dict[str, bytes | str | None] = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        found[name] = f"-> {os.readlink(path)}" if path.is_symlink() else \
            path.read_bytes() if path.is_file() else None
    return found


@pytest.mark.parametrize("probe", PROBES, ids=[probe.name for probe in PROBES])
def test_probe(probe: Probe, files, tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    (scratch / "figs").mkdir(parents=True)
    (scratch / "notes.txt").write_text("someone's notes\n")
    (scratch / "figs" / "layer-1.png").symlink_to("../notes.txt")
    places = {**files, "dir": str(scratch), "limit": str(_resident() + 500 * 10**6)}

    def fill(text: str) -> str:
        return text.format(**places)

    args = [fill(arg) for arg in probe.args]
    env = {key: fill(value) for key, value in probe.env.items()}
    before = _snapshot(scratch)
    if probe.child:
        result, grown = run_cli_measured(*args, env=env, cwd=scratch, address_space=None)
        code, stdout, stderr = result.returncode, result.stdout, result.stderr
    else:
        code, stdout, stderr, grown = _run_here(args, env, scratch, monkeypatch)
    after = _snapshot(scratch)
    print(f"{probe.kind}: {probe.name}: exit {code}, {grown / 2**20:.0f} MB")

    assert "Traceback" not in stderr, stderr
    assert code == probe.code, stderr
    assert grown < probe.max_mb * 2**20
    assert "\x1b" not in stderr + stdout and "\x07" not in stderr + stdout
    assert after["notes.txt"] == b"someone's notes\n"  # outside --out: never touched
    if probe.code == 2:
        lines = stderr.splitlines()
        assert len(lines) == 1, stderr
        assert lines[0].startswith("mlplens: error: "), lines[0]
        assert fill(probe.fragment) in lines[0], lines[0]
        assert after == before, "a refused command left something behind"
    else:
        assert "Glyph" not in stderr, stderr
        assert {name for name in after if name not in before or after[name] != before[name]
                } == set(probe.creates), (after.keys(), stderr)


# ---- text fitting and names ------------------------------------------------------------------

def test_a_long_name_is_fitted_in_a_few_measurements():
    """The longest prefix that fits, found by halving: 18 measurements for 200,000 characters
    (each character 7 px wide, 100 px of room), where one character at a time took 199,987."""
    measured: list[int] = []

    def measure(text: str) -> int:
        measured.append(len(text))
        return 7 * len(text)

    assert fitted(LONG_NAME, 100, measure) == "x" * 13 + "…"
    assert len(measured) == 18
    assert fitted("short", 100, measure) == "short"


def test_names_are_shown_without_control_characters_and_cut_before_measuring():
    assert shown("red\x1b[31m\x07") == "red\\x1b[31m\\x07"
    assert shown(LONG_NAME) == "x" * (MAX_LABEL - 1) + "…"
    assert shown("\x1b" * 1000) == ("\\x1b" * 20)[:MAX_LABEL - 1] + "…"
    assert len(shown("\x1b" * 1000)) == MAX_LABEL


# ---- pictures: orientation and bit depth --------------------------------------------------------

# Real MNIST test images, one of each class: the first the shared small net reads right from a
# photo of paper (it misreads some others, 18 and 8 among them).
DIGITS = (3, 2, 1, 30, 4, 15, 11, 0, 61, 12)


def _predicted(net: DenseStack, digits: list[np.ndarray]) -> np.ndarray:
    return predict(net, as_inputs(net, np.stack(digits))).argmax(axis=1)


def test_a_phones_exif_rotated_jpeg_is_read_upright(small_run, mnist, tmp_path):
    """Each photo is stored turned a quarter and tagged "turn 90 degrees clockwise to view" (EXIF
    orientation 6), as phones save them: read as the digit it shows, where the same pixels
    without the tag (what a reader that ignores it sees) are read as other digits."""
    net = load_stack(small_run / "model.keras")
    read, ignored = [], []
    for index in DIGITS:
        photo = paper_photo(mnist.x_test[index])
        read.append(read_digit(save_turned_jpeg(photo, tmp_path / "photo.jpg")))
        ignored.append(read_digit(save_turned_jpeg(photo, tmp_path / "untagged.jpg", False)))
        np.testing.assert_array_equal(read[-1], np.rot90(ignored[-1], -1))
    labels = mnist.y_test[list(DIGITS)].tolist()
    assert _predicted(net, read).tolist() == labels
    misread = _predicted(net, ignored)
    assert (misread != labels).sum() >= 9, misread


def test_a_16_bit_png_is_read_with_its_full_range(small_run, mnist, tmp_path):
    """A 16-bit grey PNG (mode I;16, 65535 white) of each digit: read exactly as its 8-bit
    twin, where clipping at 255 makes every grey of the paper white and the digit another."""
    net = load_stack(small_run / "model.keras")
    read, clipped = [], []
    for index in DIGITS:
        paper = np.asarray(paper_photo(mnist.x_test[index]).convert("L"))
        deep = save_16_bit_png(paper, tmp_path / "deep.png")
        Image.fromarray(paper).save(tmp_path / "flat.png")
        with Image.open(deep) as opened:
            assert opened.mode == "I;16"
            Image.fromarray(np.minimum(np.asarray(opened), 255).astype(np.uint8)).save(
                tmp_path / "clipped.png")
        read.append(read_digit(deep))
        np.testing.assert_array_equal(read[-1], read_digit(tmp_path / "flat.png"))
        clipped.append(read_digit(tmp_path / "clipped.png"))
    labels = mnist.y_test[list(DIGITS)].tolist()
    assert _predicted(net, read).tolist() == labels
    misread = _predicted(net, clipped)
    assert (misread != labels).sum() >= 5, misread


# ---- output folders ------------------------------------------------------------------------------

def test_a_folder_inside_out_that_leads_out_of_it_is_refused(tmp_path):
    from mlplens.destination import claimed_folder
    from mlplens.errors import MlplensError
    from mlplens.output import write_text

    (tmp_path / "elsewhere").mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").symlink_to("../elsewhere")
    with pytest.raises(MlplensError) as caught, claimed_folder(out, "probe"):
        write_text(out / "sub" / "page.html", "text")
    assert str(caught.value) == (f"{out / 'sub' / 'page.html'}: leads out of the output folder "
                                 f"{out} through a symbolic link; remove the link")
    assert list((tmp_path / "elsewhere").iterdir()) == []
