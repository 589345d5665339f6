"""Crash safety: SIGKILL in the middle of `visualize` or `reproduce` leaves no partial file under
a final name. Outputs are written as `.<final>.<random>.part<suffix>` and renamed when whole
(`mlplens.output`); a kill can leave such temporaries, never a damaged `layer-1.png`.
"""

from __future__ import annotations

import csv
import io
import json
import random
import signal
import subprocess
import sys
import time
import xml.dom.minidom
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import mlplens

from .helpers import REPO
from .make_corpus import weights

# Trains real networks or runs the command line in new interpreters: `make test`, not
# `make check`.
pytestmark = pytest.mark.slow


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mlplens", *args], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGKILL)
    return process.wait(timeout=60)


def is_final(path: Path) -> bool:
    """A file under its final name (the manifest of what mlplens wrote counts as one)."""
    return path.name == ".mlplens-manifest.json" or (not path.name.startswith(".") and
                                                     ".part" not in path.name)


def check_complete(out: Path) -> tuple[list[str], list[str]]:
    """Every file with a final name opens and reads whole; returns (final, temporary) names."""
    final, temporary = [], []
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        name = path.relative_to(out).as_posix()
        if not is_final(path):
            temporary.append(name)
            continue
        final.append(name)
        if path.suffix == ".png":
            with Image.open(path) as picture:
                picture.load()  # decodes every row: a truncated PNG raises here
                assert picture.size[0] > 0
        elif path.suffix == ".npz":
            with np.load(path) as arrays:
                assert arrays.files
                for key in arrays.files:
                    arrays[key]  # reads the data, checking each member's CRC-32
        elif path.suffix == ".gif":
            with Image.open(path) as animation:
                for frame in range(animation.n_frames):  # every frame decodes
                    animation.seek(frame)
                    animation.load()
        elif path.suffix == ".csv":
            rows = list(csv.reader(io.StringIO(path.read_text())))
            assert len({len(row) for row in rows}) == 1  # no half-written last row
        elif path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".md":
            assert path.read_text().endswith("(CC BY-SA 3.0).\n")
        elif path.suffix == ".svg":
            xml.dom.minidom.parse(str(path))  # a half-written SVG is not well-formed XML
        elif path.suffix == ".keras":
            assert mlplens.load_stack(path).widths[-1] == 10
        else:
            raise AssertionError(f"unexpected output {name}")
    return final, temporary


@pytest.fixture(scope="module")
def article_npz(tmp_path_factory) -> Path:
    """The article's 784-512-256-10 shape, seeded weights: visualize takes about 1.5 s."""
    arrays = weights([784, 512, 256, 10], seed=0)
    path = tmp_path_factory.mktemp("model") / "article.npz"
    np.savez(path, **{f"W{k}": arrays[2 * k - 2] for k in (1, 2, 3)},
             **{f"b{k}": arrays[2 * k - 1] for k in (1, 2, 3)})
    return path


def test_visualize_killed_at_random_points(article_npz, tmp_path):
    # Kill at random fractions of a whole run's duration, measured here and now, so the kills
    # land mid-run on a fast machine as on a loaded one.
    started = time.monotonic()
    whole = start("visualize", str(article_npz), "--method", "seed", "--out",
                  str(tmp_path / "whole"))
    assert whole.wait(timeout=300) == 0
    duration = time.monotonic() - started
    rng = random.Random(20240601)
    outcomes = []
    for run in range(6):
        out = tmp_path / f"run{run}"
        delay = rng.uniform(0.1, 0.8) * duration
        process = start("visualize", str(article_npz), "--method", "seed", "--out", str(out))
        time.sleep(delay)
        code = kill(process)
        assert code in (-signal.SIGKILL, 0)
        final, temporary = check_complete(out) if out.exists() else ([], [])
        outcomes.append((round(delay, 2), code, len(final), len(temporary)))
    print("visualize kills (delay s, exit code, final files, temporaries):", outcomes)
    assert sum(code == -signal.SIGKILL for _, code, _, _ in outcomes) >= 3


def test_visualize_killed_while_a_temporary_file_is_open(article_npz, tmp_path):
    """Wait for a `.part` file to appear, kill at once: its final name is absent or whole."""
    out = tmp_path / "out"
    process = start("visualize", str(article_npz), "--method", "seed", "--out", str(out))
    deadline = time.monotonic() + 60
    caught = []
    while time.monotonic() < deadline and process.poll() is None:
        caught = [p for p in out.glob("*") if ".part" in p.name] if out.exists() else []
        if caught:
            break
        time.sleep(0.001)
    assert caught, "visualize finished before a temporary file was seen"
    assert kill(process) == -signal.SIGKILL
    final, temporary = check_complete(out)
    assert temporary, "the kill left no temporary: it did not land mid-write"
    for name in temporary:
        assert name.startswith(".") and ".part" in name
    print(f"killed with temporaries {temporary}; whole final files {final}")


def test_reproduce_killed_at_random_points(tmp_path):
    """A kill at a random point after a progress line: the run is ~12-30 s, so it is killed
    once, at a random moment while the figures are drawn (after all three nets were saved)."""
    rng = random.Random(7)
    outcomes = []
    for run, marker in enumerate(("drawing figures",)):
        out = tmp_path / f"article{run}"
        process = subprocess.Popen([sys.executable, "-m", "mlplens", "reproduce", "--quick",
                                    "--out", str(out)], cwd=REPO, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
        for line in process.stderr:
            if marker in line:
                break
        delay = rng.uniform(0.0, 4.0)
        time.sleep(delay)
        code = kill(process)
        process.stderr.close()
        final, temporary = check_complete(out)
        outcomes.append((marker, round(delay, 2), code, final, temporary))
    print("reproduce kills (after, delay s, exit code, final files, temporaries):", outcomes)
    assert all(code in (-signal.SIGKILL, 0) for _, _, code, _, _ in outcomes)
    # The kill came after the sample digits and all three nets were saved whole.
    assert {"digits.png", *(f"{net}/{name}" for net in ("mlp-500", "mlp-2000", "single-2000")
                            for name in ("model.keras", "metrics.json"))} <= set(outcomes[0][3])


def test_atomic_temporary_names(tmp_path):
    from mlplens.output import atomic_path

    with atomic_path(tmp_path / "layer-1.png") as tmp:
        assert tmp.parent == tmp_path
        assert tmp.name.startswith(".layer-1.png.") and tmp.name.endswith(".part.png")
        assert not is_final(tmp)
        assert not (tmp_path / "layer-1.png").exists()
        tmp.write_bytes(b"whole")
    assert [p.name for p in tmp_path.iterdir()] == ["layer-1.png"]
    assert is_final(tmp_path / "layer-1.png")


def catching_stops(process: subprocess.Popen, number: int) -> None:
    """Wait until the process has its own handler for signal `number` (Linux: the SigCgt mask
    of /proc/PID/status): from then on a stop is mlplens' to handle."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        status = Path(f"/proc/{process.pid}/status").read_text()
        caught = int(next(line for line in status.splitlines()
                          if line.startswith("SigCgt:")).split()[1], 16)
        if caught >> (number - 1) & 1:
            return
        time.sleep(0.001)


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_stop_signals_clean_up_like_ctrl_c(article_npz, tmp_path, name):
    """SIGTERM and SIGHUP at random points, including mid-write: the conventional exit code,
    one line saying so, and never a temporary file left behind; what was written stays whole."""
    number = getattr(signal, name)
    started = time.monotonic()
    whole = start("visualize", str(article_npz), "--method", "seed", "--out",
                  str(tmp_path / "whole"))
    assert whole.wait(timeout=300) == 0
    duration = time.monotonic() - started
    whole_files = check_complete(tmp_path / "whole")[0]
    rng = random.Random(number)
    outcomes = []
    for run in range(4):
        out = tmp_path / f"run{run}"
        process = subprocess.Popen([sys.executable, "-m", "mlplens", "visualize",
                                    str(article_npz), "--method", "seed", "--out", str(out)],
                                   cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   text=True)
        if run % 2:  # wait for a write to be under way, then stop at once
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and process.poll() is None and not (
                    out.exists() and any(".part" in p.name for p in out.iterdir())):
                time.sleep(0.001)
        else:  # a random point once mlplens runs (before, the interpreter's defaults apply)
            catching_stops(process, number)
            time.sleep(rng.uniform(0.0, 0.6) * duration)
        process.send_signal(number)
        stderr = process.communicate(timeout=60)[1]
        final, temporary = check_complete(out) if out.exists() else ([], [])
        outcomes.append((process.returncode, len(final), temporary))
        assert temporary == [], temporary
        assert "Traceback" not in stderr
        if process.returncode == -number:
            # Landed in the interpreter's last teardown, after Python restored the default
            # handlers: only possible once the work is done, so every file must be there.
            assert final == whole_files, (final, stderr)
        elif process.returncode != 0:  # (a run may finish before the signal lands)
            assert process.returncode == 128 + number, stderr
            assert stderr.splitlines()[-1] == f"mlplens: stopped by {name}"
    print(f"{name} stops (exit code, final files, temporaries):", outcomes)
    assert sum(code == 128 + number for code, _, _ in outcomes) >= 3
