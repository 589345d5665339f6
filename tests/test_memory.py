"""The memory budget: sizes as people write them, both figures in a refusal, the override."""

from __future__ import annotations

import pytest

from mlplens import memory
from mlplens.errors import MlplensError

from .helpers import assert_message, error_of


@pytest.mark.parametrize("text, expected", [
    ("2G", 2 * 10**9), ("500M", 500 * 10**6), ("1.5GiB", 3 * 2**29), ("750MB", 750 * 10**6),
    ("123456", 123456), ("64Ki", 65536), (" 2 gb ", 2 * 10**9), ("0.5T", 5 * 10**11)])
def test_sizes_as_people_write_them(text, expected):
    assert memory.parse_size(text) == expected


@pytest.mark.parametrize("text", ["lots", "2X", "-1G", "1e9", "G", ""])
def test_a_bad_size_names_the_variable(text):
    assert_message(error_of(memory.parse_size, text), f"MLPLENS_MEMORY_LIMIT={text!r} is not a "
                                                      "memory size")


def test_figures_in_messages():
    assert memory.format_size(7.9e9) == "7.9 GB"
    assert memory.format_size(850e6) == "850 MB"
    assert memory.format_size(12_345) == "12 KB"
    assert memory.format_size(512) == "512 bytes"


@pytest.fixture
def holding_100_mb(monkeypatch):
    """This process as if it held 100 MB (a test worker holds what earlier tests left)."""
    monkeypatch.setattr(memory, "_resident", lambda: 100 * 10**6)


def test_the_override_is_a_limit_on_the_whole_process(monkeypatch, holding_100_mb):
    monkeypatch.setenv("MLPLENS_MEMORY_LIMIT", "100G")
    assert memory.available() == (100 * 10**9 - 100 * 10**6,
                                  "under MLPLENS_MEMORY_LIMIT=100G")


def test_require_gives_both_figures(monkeypatch, holding_100_mb):
    monkeypatch.setenv("MLPLENS_MEMORY_LIMIT", "1G")
    memory.require(1e6, "a small step")
    assert error_of(memory.require, 7.9e9, "reading the weights") == (
        "reading the weights needs about 7.9 GB of memory but 900 MB is available under "
        "MLPLENS_MEMORY_LIMIT=1G")


def test_this_process_is_measured():
    assert 10**6 < memory._resident() < 10**11


def test_without_the_override_the_machine_decides(monkeypatch):
    monkeypatch.delenv("MLPLENS_MEMORY_LIMIT", raising=False)
    room, where = memory.available()
    assert room is not None and room > 0  # Linux: MemAvailable
    assert where == "(set MLPLENS_MEMORY_LIMIT to change the limit)"
    with pytest.raises(MlplensError, match=r"needs about 10 TB of memory but .* is available "
                                           r"\(set MLPLENS_MEMORY_LIMIT to change the limit\)"):
        memory.require(10**13, "ten terabytes")


def test_a_cgroup_limit_counts_reclaimable_cache_as_room(tmp_path):
    (tmp_path / "memory.max").write_text("2000000000\n")
    (tmp_path / "memory.current").write_text("1500000000\n")
    (tmp_path / "memory.stat").write_text("anon 1000\ninactive_file 300000000\n")
    assert memory._room(tmp_path, "memory.max", "memory.current", "inactive_file") == 800_000_000
    (tmp_path / "memory.max").write_text("max\n")
    assert memory._room(tmp_path, "memory.max", "memory.current", "inactive_file") is None
