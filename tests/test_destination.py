"""Output folders and files: checked first, written through links, claimed one run at a time,
and cleaned of the stale files that the same command left there before."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from mlplens import DenseStack, save_stack
from mlplens.destination import MANIFEST, check_file, check_folder, claimed_folder
from mlplens.errors import MlplensError, Terminated
from mlplens.output import write_text

from .helpers import run_cli
from .make_corpus import weights


def manifest(folder) -> dict:
    return json.loads((folder / MANIFEST).read_text())


def test_a_rerun_removes_its_own_stale_files_and_nothing_else(tmp_path):
    out = tmp_path / "figs"
    with claimed_folder(out, "visualize"):
        for name in ("layer-1.png", "layer-2.png", "layer-3.png", "deep/extra.txt"):
            write_text(out / name, name)
    (out / "notes.txt").write_text("the user's own file")
    with claimed_folder(out, "train"):
        write_text(out / "model.keras", "another command's file")
    with claimed_folder(out, "visualize"):
        write_text(out / "layer-1.png", "again")
        write_text(out / "layer-2.png", "again")
    assert sorted(p.name for p in out.iterdir()) == [
        MANIFEST, "layer-1.png", "layer-2.png", "model.keras", "notes.txt"]
    assert manifest(out) == {"visualize": ["layer-1.png", "layer-2.png"],
                             "train": ["model.keras"]}


def test_a_failed_run_removes_what_it_wrote_and_a_stopped_one_keeps_it(tmp_path):
    out = tmp_path / "figs"
    with claimed_folder(out, "visualize"):
        write_text(out / "layer-1.png", "first run")
    with pytest.raises(MlplensError, match="disk full"):
        with claimed_folder(out, "visualize"):
            write_text(out / "layer-9.png", "half a set")
            raise MlplensError("disk full")
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "layer-1.png"]
    with pytest.raises(Terminated):
        with claimed_folder(out, "visualize"):
            write_text(out / "layer-2.png", "whole")
            raise Terminated(15, "SIGTERM")
    assert manifest(out) == {"visualize": ["layer-1.png", "layer-2.png"]}


def test_a_refused_run_leaves_no_folder(tmp_path):
    out = tmp_path / "new" / "figs"
    with pytest.raises(MlplensError):
        with claimed_folder(out, "visualize"):
            raise MlplensError("bad model")
    assert list(tmp_path.iterdir()) == []


def test_one_run_at_a_time(tmp_path):
    with claimed_folder(tmp_path, "visualize"):
        with pytest.raises(MlplensError) as refused:
            with claimed_folder(tmp_path, "reproduce"):
                pass
    assert str(refused.value) == (f"{tmp_path}: another mlplens run is writing into this "
                                  "folder; wait for it to finish or choose another folder")


def test_links_are_written_through_never_replaced(tmp_path):
    target = tmp_path / "page.html"
    target.write_text("old")
    link = tmp_path / "link.html"
    link.symlink_to(target)
    assert check_file(link) == link
    write_text(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new"
    (tmp_path / "null.html").symlink_to("/dev/null")
    with pytest.raises(MlplensError, match=r"/dev/null \(the target of the link .*null.html\): "
                                           "is a character device"):
        write_text(tmp_path / "null.html", "x")


def test_paths_that_cannot_take_output(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(MlplensError, match="exists and is a regular file, not a folder"):
        check_folder(tmp_path / "file")
    with pytest.raises(MlplensError, match=r"file is a regular file, not a folder$"):
        check_folder(tmp_path / "file" / "below")
    with pytest.raises(MlplensError, match="is a folder; mlplens writes regular files only"):
        check_file(tmp_path)
    with pytest.raises(MlplensError, match="^--out: the path is empty$"):
        check_folder("")
    assert check_folder(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()  # checked, not created


def test_visualize_again_with_a_smaller_model_leaves_no_stale_layer(tmp_path):
    out = tmp_path / "figs"
    for sizes in ([16, 8, 6, 4], [16, 8, 4]):
        arrays = weights(sizes, seed=1)
        model = save_stack(DenseStack.from_arrays(arrays[0::2], arrays[1::2]),
                           tmp_path / f"model{len(sizes)}.npz")
        assert run_cli("visualize", str(model), "--out", str(out)).returncode == 0
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "arrays.npz", "layer-1.png",
                                                     "layer-2.png"]
    with np.load(out / "arrays.npz") as arrays:
        assert arrays["raw_2"].shape == (4, 16)
