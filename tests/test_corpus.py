"""The bad-input corpus itself: complete, and rewritten the same by its generator.

tests/corpus/ is written by tests/make_corpus.py; manifest.json gives, per file, the exact
fragment its error line must contain. Each file is run through the real command by the probe
suite (test_probes.py): exit code 2, exactly one stderr line `mlplens: error: <file>: <problem>`,
no traceback, nothing on stdout, no output folder, bounded memory.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from .make_corpus import CORPUS, build

MANIFEST = json.loads((CORPUS / "manifest.json").read_text())
FORMATS = {"npz": ".npz", "st": ".safetensors", "onnx": ".onnx", "h5": ".h5", "keras": ".keras"}


def test_corpus_is_complete():
    on_disk = sorted(p.name for p in CORPUS.iterdir() if p.name != "manifest.json")
    assert on_disk == sorted(MANIFEST)
    assert len(MANIFEST) == 66
    kinds = Counter(name.split("-")[0] for name in MANIFEST)
    assert kinds == {"npz": 17, "st": 13, "onnx": 11, "h5": 14, "keras": 11}
    for prefix, suffix in FORMATS.items():
        for damage in ("empty", "truncated", "bitflip"):
            assert f"{prefix}-{damage}{suffix}" in MANIFEST
    for name in ("npz-object.npz", "npz-pickle.npz", "npz-checksum.npz", "keras-checksum.keras",
                 "h5-checksum.h5", "keras-conv.keras", "keras-lstm.keras", "h5-conv.h5",
                 "h5-lstm.h5", "st-conv.safetensors", "st-lstm.safetensors", "onnx-conv.onnx",
                 "onnx-lstm.onnx", "npz-huge.npz", "st-huge.safetensors", "onnx-huge.onnx",
                 "h5-huge.h5", "keras-huge.keras", "npz-1x1.npz", "h5-zero-units.h5",
                 "npz-nan.npz", "onnx-inf.onnx", "st-chain.safetensors"):
        assert name in MANIFEST, name
    # Huge declared shapes stay small on disk: nothing of that size was ever written; bombs
    # that inflate to a gigabyte take a megabyte.
    assert max((CORPUS / name).stat().st_size for name in MANIFEST if "huge" in name) < 20_000
    assert max((CORPUS / name).stat().st_size for name in MANIFEST if "bomb" in name) < 1_100_000


def test_generator_rewrites_the_same_corpus(tmp_path):
    """make_corpus.py is the corpus' source: rerun it, the same files and fragments come out,
    byte for byte except the Keras-saved files (Keras stamps times into them)."""
    regenerated = build(tmp_path, with_keras=True)
    assert regenerated == MANIFEST
    assert (tmp_path / "manifest.json").read_text() == (CORPUS / "manifest.json").read_text()
    for name in MANIFEST:
        if name.startswith("keras-") and name != "keras-empty.keras":
            continue
        assert (tmp_path / name).read_bytes() == (CORPUS / name).read_bytes(), name


def test_generator_runs_as_a_script(tmp_path):
    import subprocess

    script = Path(__file__).with_name("make_corpus.py")
    result = subprocess.run([sys.executable, str(script), "--help"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0
    assert "Write the bad-input corpus" in result.stdout
