"""Outputs appear under their final name whole, or not at all."""

import os

import pytest

from mlplens.output import atomic_path, write_text


def test_write_text_has_normal_permissions_and_no_leftovers(tmp_path):
    target = write_text(tmp_path / "sub" / "note.txt", "hello")
    assert target.read_text() == "hello"
    current = os.umask(0)
    os.umask(current)
    assert target.stat().st_mode & 0o777 == 0o666 & ~current
    assert [p.name for p in target.parent.iterdir()] == ["note.txt"]


def test_failure_leaves_neither_final_nor_temporary_file(tmp_path):
    with pytest.raises(RuntimeError, match="half-way"):
        with atomic_path(tmp_path / "figure.png") as tmp:
            assert tmp.suffix == ".png" and tmp.parent == tmp_path
            tmp.write_bytes(b"partial")
            raise RuntimeError("half-way")
    assert list(tmp_path.iterdir()) == []


def test_existing_file_is_replaced_only_on_success(tmp_path):
    target = tmp_path / "arrays.npz"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"new")
            raise RuntimeError
    assert target.read_bytes() == b"old"
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new"
