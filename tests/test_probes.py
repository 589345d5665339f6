"""Probes: what users do by mistake, and hostile files, through the real command line.

Each probe is a row: the command, the exit code, a fragment of the message, and the promises
every run keeps: no traceback, one `mlplens: error:` line when it fails, no file left behind
(nothing new in the probe's folder, no `.part` temporary anywhere), and a bound on the child's
peak memory (its own, from `os.wait4` in helpers.run_cli_measured). The bad-input corpus
(tests/corpus/, written by make_corpus.py) joins the table, one probe per file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from mlplens import DenseStack, save_stack

from .helpers import run_cli_measured
from .make_corpus import CORPUS, dense, weights, write_keras2_h5

CORPUS_MANIFEST = json.loads((CORPUS / "manifest.json").read_text())


@dataclass(frozen=True)
class Probe:
    kind: str  # which of the kinds of failure it probes
    name: str
    args: tuple[str, ...]  # {dir} is the probe's scratch folder, {good}/{...} the files below
    code: int = 2
    fragment: str = ""  # in the one error line (failures) or on stderr
    starts: str = ""  # what the error line says first, after `mlplens: error: `
    env: dict[str, str] = field(default_factory=dict)
    max_mb: float = 400
    file_size_limit: int | None = None
    # What must exist afterwards besides what was there before (successful probes only).
    creates: tuple[str, ...] = ()


def _probes() -> list[Probe]:
    long_name = "x" * 300
    p = Probe
    table = [
        # 1. output paths: one line naming the path, exit 2
        p("output", "visualize --out names a file", ("visualize", "{good}", "--out", "{taken}"),
          fragment="{taken}: exists and is a regular file, not a folder (give --out a folder)"),
        p("output", "train --out names a file", ("train", "--out", "{taken}"),
          fragment="{taken}: exists and is a regular file, not a folder"),
        p("output", "evolve --out names a file", ("evolve", "{run}", "--out", "{taken}"),
          fragment="{taken}: exists and is a regular file, not a folder"),
        p("output", "reproduce --quick --out names a file",
          ("reproduce", "--quick", "--out", "{taken}"),
          fragment="{taken}: exists and is a regular file, not a folder"),
        p("output", "explore -o names a folder", ("explore", "{good}", "-o", "{dir}"),
          fragment="{dir}: is a folder"),
        p("output", "explore -o ''", ("explore", "{good}", "-o", ""),
          fragment="--output: the path is empty"),
        p("output", "visualize --out ''", ("visualize", "{good}", "--out", ""),
          fragment="--out: the path is empty"),
        p("output", "visualize --out under /dev/full",
          ("visualize", "{good}", "--out", "/dev/full/x"),
          fragment="/dev/full/x: /dev/full is a character device, not a folder"),
        p("output", "explore -o under /dev/full", ("explore", "{good}", "-o", "/dev/full/x.html"),
          fragment="/dev/full/x.html: /dev/full is a character device, not a folder"),
        p("output", "explore -o /dev/full", ("explore", "{good}", "-o", "/dev/full"),
          fragment="/dev/full: is a character device; mlplens writes regular files only"),
        p("output", "visualize --out under /proc",
          ("visualize", "{good}", "--out", "/proc/mlplens-probe"),
          fragment="/proc/mlplens-probe: cannot write in /proc ("),
        p("output", "explore -o under /proc", ("explore", "{good}", "-o", "/proc/x.html"),
          fragment="/proc/x.html: cannot write in /proc ("),
        p("output", "train --out under /proc", ("train", "--out", "/proc/run"),
          fragment="/proc/run: cannot write in /proc ("),
        p("output", "visualize --out name too long",
          ("visualize", "{good}", "--out", "{dir}/" + long_name),
          fragment="a name in this path is 300 bytes long; the file system allows 255"),
        p("output", "explore -o name too long", ("explore", "{good}", "-o", long_name + ".html"),
          fragment="a name in this path is 305 bytes long; the file system allows 255"),
        p("output", "data fetch --out names a folder", ("data", "fetch", "--out", "{dir}"),
          fragment="{dir}: is a folder"),
        p("output", "data fetch --out under /dev/full",
          ("data", "fetch", "--out", "/dev/full/mnist.npz"),
          fragment="/dev/full is a character device, not a folder"),
        p("output", "data fetch --out ''", ("data", "fetch", "--out", ""),
          fragment="--out: the path is empty"),
        p("output", "MLPLENS_CACHE_DIR names a file", ("data", "info"),
          env={"MLPLENS_CACHE_DIR": "{taken}", "HOME": "{dir}"},
          fragment="MLPLENS_CACHE_DIR={taken}: is a file, not a folder"),
        p("output", "MLPLENS_JAX_CACHE names a file",
          ("train", "--hidden", "4", "--train-samples", "100", "--epochs", "1",
           "--out", "{dir}/run"), env={"MLPLENS_JAX_CACHE": "{taken}"}, max_mb=1200,
          fragment="{taken}: exists and is a regular file, not a folder "
                   "(give MLPLENS_JAX_CACHE a folder)"),
        p("output", "a full disk while writing the PNGs (writes capped at 4 KB)",
          ("visualize", "{good}", "--out", "{dir}/figs"), file_size_limit=4096,
          fragment="cannot write (File too large)"),
        p("output", "a full disk while writing the explorer",
          ("explore", "{good}", "-o", "{dir}/page.html"), file_size_limit=65536, max_mb=700,
          fragment="{dir}/page.html: cannot write (File too large)"),
        p("output", "no space left on a small file system",
          ("visualize", "{good}", "--out", "{tiny_fs}/figs"),
          fragment="cannot write (No space left on device)"),
        # 2. work never thrown away: refused before the long work starts
        p("early", "train into a file: refused before training",
          ("train", "--epochs", "50", "--out", "{taken}"),
          fragment="{taken}: exists and is a regular file", max_mb=200),
        p("early", "visualize: an unknown colormap before the model is read",
          ("visualize", "{missing}", "--cmap", "nope", "--out", "{dir}/x"),
          fragment="unknown colormap 'nope'"),
        p("early", "visualize --scale 0", ("visualize", "{good}", "--scale", "0", "--out", "x"),
          fragment="argument --scale: expected a number of at least 1, got 0"),
        p("early", "visualize --top-k abc", ("visualize", "{good}", "--top-k", "abc",
                                            "--out", "x"),
          fragment="argument --top-k: expected a whole number, got 'abc'"),
        p("early", "train --epochs 0", ("train", "--epochs", "0", "--out", "{dir}/r"),
          fragment="argument --epochs: expected a number of at least 1, got 0"),
        p("early", "explore --frames -3", ("explore", "{good}", "--frames", "-3"),
          fragment="argument --frames: expected a number of at least 1, got -3"),
        p("early", "visualize --nodes 5-2", ("visualize", "{good}", "--nodes", "5-2",
                                            "--out", "x"),
          fragment="argument --nodes: expected node numbers like 0-15"),
        p("early", "an unknown command", ("draw",), fragment="invalid choice: 'draw'"),
        # 3. links: written through, never replaced; never onto a device
        p("links", "explore -o a link to a file writes through it",
          ("explore", "{good}", "-o", "{link_to_file}"), code=0, max_mb=700,
          creates=("target.html",)),
        p("links", "explore -o a link to /dev/null", ("explore", "{good}", "-o", "{link_to_null}"),
          fragment="/dev/null (the target of the link {link_to_null}): is a character device"),
        p("links", "explore -o a link to a folder",
          ("explore", "{good}", "-o", "{link_to_folder}"),
          fragment="is a folder"),
        p("links", "visualize --out a link to a folder writes into it",
          ("visualize", "{good}", "--out", "{link_to_folder}"), code=0,
          creates=("real-folder/layer-1.png", "real-folder/layer-2.png",
                   "real-folder/arrays.npz", "real-folder/.mlplens-manifest.json")),
        # 4. what an input path is, said before it is opened
        p("inputs", "a FIFO as the model", ("visualize", "{fifo}", "--out", "{dir}/x"),
          fragment="{fifo}: is a named pipe (FIFO), not a regular file"),
        p("inputs", "a FIFO as --data", ("visualize", "{good}", "--method", "examples",
                                         "--data", "{fifo}", "--out", "{dir}/x"),
          fragment="{fifo}: is a named pipe (FIFO), not a regular file"),
        p("inputs", "a FIFO as MLPLENS_DATA", ("data", "info"), env={"MLPLENS_DATA": "{fifo}"},
          fragment="$MLPLENS_DATA {fifo}: is a named pipe (FIFO), not a regular file"),
        p("inputs", "a FIFO as --snapshots", ("explore", "{good}", "--snapshots", "{fifo}",
                                              "-o", "{dir}/p.html"),
          fragment="{fifo}: is a named pipe (FIFO), not a regular file"),
        p("inputs", "/dev/zero as the model", ("visualize", "/dev/zero", "--out", "{dir}/x"),
          fragment="/dev/zero: is a character device, not a regular file"),
        p("inputs", "/dev/zero as --data", ("data", "info", "--data", "/dev/zero"),
          fragment="/dev/zero: is a character device, not a regular file"),
        p("inputs", "/dev/null as the model", ("explore", "/dev/null", "-o", "{dir}/p.html"),
          fragment="/dev/null: is a character device, not a regular file"),
        p("inputs", "a loop of links as the model", ("visualize", "{loop}", "--out", "{dir}/x"),
          fragment="{loop}: a loop of symbolic links"),
        p("inputs", "a dangling link as the model", ("visualize", "{dangling}", "--out", "{dir}/x"),
          fragment="{dangling}: a symbolic link to "),
        p("inputs", "a folder as the model", ("visualize", "{dir}", "--out", "{dir}/x"),
          fragment="{dir}: is a folder, not a file"),
        p("inputs", "an empty model file", ("visualize", "{empty}", "--out", "{dir}/x"),
          fragment="{empty}: the file is empty"),
        p("inputs", "a missing model file", ("visualize", "{missing}", "--out", "{dir}/x"),
          fragment="{missing}: no such file"),
        p("inputs", "a folder as the snapshots", ("evolve", "{dir}/no-run", "--out", "{dir}/o"),
          fragment="no training snapshots"),
        p("inputs", "a pickle", ("visualize", "{pickle}", "--out", "{dir}/x"),
          fragment="files are Python pickles, which mlplens never loads"),
        # 6. control characters never reach the terminal
        p("names", "a file name with a newline and ANSI escapes",
          ("visualize", "{ansi_file}", "--out", "{dir}/x"),
          fragment="evil\\n\\x1b[2J.npz: "),
        p("names", "a layer name with ANSI escapes", ("visualize", "{ansi_layer}", "--out",
                                                      "{dir}/x"),
          fragment="layer 'red\\x1b[31m\\nline' (Conv2D) is not supported"),
        # 8. one folder, one run at a time
        p("folders", "a second run into a folder in use",
          ("visualize", "{good}", "--out", "{locked}"),
          fragment="{locked}: another mlplens run is writing into this folder"),
        # 9. the environment
        p("environment", "KERAS_BACKEND=tensorflow: visualize a .keras model",
          ("visualize", "{good_keras}", "--out", "{dir}/figs"), code=0, max_mb=900,
          env={"KERAS_BACKEND": "tensorflow"},
          creates=("figs/layer-1.png", "figs/layer-2.png", "figs/arrays.npz",
                   "figs/.mlplens-manifest.json")),
        p("environment", "KERAS_BACKEND=torch: train", (
            "train", "--hidden", "4", "--train-samples", "100", "--epochs", "1",
            "--out", "{dir}/run"), code=0, max_mb=1200, env={"KERAS_BACKEND": "torch"},
          creates=("run/model.keras", "run/metrics.json", "run/.mlplens-manifest.json")),
        p("environment", "MLPLENS_DATA names a missing file", ("data", "info"),
          env={"MLPLENS_DATA": "{missing}"}, fragment="$MLPLENS_DATA {missing}: no such file"),
        p("environment", "MLPLENS_DATA names /dev/zero", ("data", "info"),
          env={"MLPLENS_DATA": "/dev/zero"},
          fragment="$MLPLENS_DATA /dev/zero: is a character device, not a regular file"),
        # 10. messages that name the file and the real reason
        p("messages", "explore a model with a hidden softmax",
          ("explore", "{softmax}", "-o", "{dir}/page.html"), code=0, max_mb=700,
          creates=("page.html",)),
        p("messages", "maximize through a hidden softmax",
          ("visualize", "{softmax}", "--method", "maximize", "--out", "{dir}/x"),
          fragment="{softmax}: the maximize method follows input-gradients through every "
                   "hidden layer, and layer 1 (W1) applies softmax"),
        p("messages", "gradient through a hidden softmax",
          ("visualize", "{softmax}", "--method", "gradient", "--out", "{dir}/x"),
          fragment="{softmax}: the gradient method follows input-gradients"),
        p("messages", "data fetch from a malformed address",
          ("data", "fetch", "--url", "not a url", "--out", "{dir}/m.npz"),
          fragment="--url 'not a url': not a web address (http://, https:// or ftp://)"),
        p("messages", "data fetch from an unreachable address",
          ("data", "fetch", "--url", "http://127.0.0.1:9/mnist.npz", "--out", "{dir}/m.npz"),
          fragment="cannot download http://127.0.0.1:9/mnist.npz: "),
    ]
    for name, fragment in sorted(CORPUS_MANIFEST.items()):
        table.append(Probe("corpus", f"corpus {name}",
                           ("visualize", str(CORPUS / name), "--out", "{dir}/x"),
                           starts=f"{CORPUS / name}: ", fragment=fragment,
                           max_mb=900 if name.startswith("keras-") else 400))
    return table


PROBES = _probes()


def test_the_table_covers_every_kind_with_over_120_probes():
    kinds = Counter(probe.kind for probe in PROBES)
    assert len(PROBES) >= 120, len(PROBES)
    assert set(kinds) == {"output", "early", "links", "inputs", "names", "folders",
                          "environment", "messages", "corpus"}, kinds
    assert len({probe.name for probe in PROBES}) == len(PROBES)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    """The probes' inputs: a small good model, hostile files and awkward paths."""
    folder = tmp_path_factory.mktemp("probe-inputs")
    arrays = weights([784, 8, 10], seed=5)
    good = save_stack(DenseStack.from_arrays(arrays[0::2], arrays[1::2]), folder / "good.npz")
    softmax = folder / "softmax.npz"
    np.savez(softmax, W1=arrays[0], b1=arrays[1], W2=arrays[2], b2=arrays[3],
             activations=np.array(["softmax", "softmax"]))
    (folder / "taken").write_text("someone's file\n")
    os.mkfifo(folder / "fifo")
    (folder / "loop-a").symlink_to(folder / "loop-b")
    (folder / "loop-b").symlink_to(folder / "loop-a")
    (folder / "dangling.npz").symlink_to(folder / "gone.npz")
    (folder / "empty.npz").touch()
    (folder / "model.pkl").write_bytes(b"\x80\x04N.")
    ansi_file = folder / "evil\n\x1b[2J.npz"
    ansi_file.write_bytes(b"PK\x03\x04 not a zip")
    conv = {"class_name": "Conv2D", "name": "red\x1b[31m\nline",
            "config": {"filters": 2, "kernel_size": [3, 3]}}
    write_keras2_h5(folder / "ansi-layer.h5", [conv, {"class_name": "Flatten", "name": "f"},
                                               dense("d", 10, "softmax")], 784, {})
    from mlplens.keras_backend import import_keras

    keras = import_keras()
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.set_weights(arrays)
    model.save(folder / "good.keras")
    run = folder / "run"
    run.mkdir()
    return {"good": str(good), "softmax": str(softmax), "fifo": str(folder / "fifo"),
            "loop": str(folder / "loop-a"), "dangling": str(folder / "dangling.npz"),
            "empty": str(folder / "empty.npz"), "missing": str(folder / "missing.npz"),
            "pickle": str(folder / "model.pkl"), "ansi_file": str(ansi_file),
            "ansi_layer": str(folder / "ansi-layer.h5"), "good_keras": str(folder / "good.keras"),
            "run": str(run)}


def mount_tiny_fs(mount: Path) -> None:
    """A 64 KiB file system at `mount`: a few figures fill it (mounting needs root, as CI and
    `make test` run; a machine that refuses fails this probe, it never skips it)."""
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                            capture_output=True, text=True)
    assert result.returncode == 0, f"mounting a small tmpfs needs root: {result.stderr}"


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under `folder`: file contents (None for anything else)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        found[name] = path.read_bytes() if path.is_file() and not path.is_symlink() else None
    return found


@pytest.mark.parametrize("probe", PROBES, ids=[probe.name for probe in PROBES])
def test_probe(probe: Probe, files, tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    places = {**files, "dir": str(scratch), "taken": str(scratch / "taken"),
              "locked": str(scratch / "locked"),
              "link_to_file": str(scratch / "link-to-file.html"),
              "link_to_null": str(scratch / "link-to-null.html"),
              "link_to_folder": str(scratch / "link-to-folder")}
    (scratch / "taken").write_text("someone's file\n")
    (scratch / "real-folder").mkdir()
    (scratch / "link-to-folder").symlink_to(scratch / "real-folder")
    (scratch / "target.html").write_text("old page\n")
    (scratch / "link-to-file.html").symlink_to(scratch / "target.html")
    (scratch / "link-to-null.html").symlink_to("/dev/null")
    tiny_fs = scratch / "tiny-fs"
    if "{tiny_fs}" in " ".join(probe.args):
        mount_tiny_fs(tiny_fs)
        places["tiny_fs"] = str(tiny_fs)
    holder = None
    if "{locked}" in " ".join(probe.args):
        (scratch / "locked").mkdir()
        holder = subprocess.Popen(  # another run holding the folder
            [sys.executable, "-c", "import fcntl, os, sys, time\n"
             f"fd = os.open({str(scratch / 'locked')!r}, os.O_RDONLY)\n"
             "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(60)"],
            stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline() == "held\n"

    def fill(text: str) -> str:
        return text.format(**places)

    before = _snapshot(scratch)
    try:
        result, peak = run_cli_measured(
            *[fill(arg) for arg in probe.args], cwd=scratch, address_space=None,
            env={key: fill(value) for key, value in probe.env.items()},
            file_size=probe.file_size_limit)
    finally:
        if holder is not None:
            holder.kill()
            holder.wait()
    after = _snapshot(scratch)
    if tiny_fs.is_mount():
        subprocess.run(["umount", str(tiny_fs)], check=True)
    print(f"{probe.kind}: {probe.name}: exit {result.returncode}, {peak / 2**20:.0f} MB")

    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == probe.code, result.stderr
    assert peak < probe.max_mb * 2**20
    assert not [name for name in after if ".part" in name], after.keys()
    if probe.code == 2:
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith(f"mlplens: error: {fill(probe.starts)}"), lines[0]
        assert fill(probe.fragment) in lines[0], lines[0]
        assert "\x1b" not in result.stderr
        assert result.stdout == ""
        assert after == before, "a refused command left something behind"
    else:
        assert {name for name in after if after[name] != before.get(name)} == \
            set(probe.creates), (after.keys(), result.stderr)
