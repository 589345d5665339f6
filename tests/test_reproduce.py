"""`mlplens reproduce --quick` as a user runs it: every figure of the article, the views beyond
it, the checks, the features and the circuits, indexed in index.md and report.html.

A file of its own: it is the suite's longest test, and test files are shared out whole between
the two test workers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import mlplens
from mlplens import layer_views, load_stack

from .helpers import run_cli

pytestmark = pytest.mark.slow


def test_reproduce_quick_writes_every_figure_and_indexes_it(tmp_path):
    out = tmp_path / "article"
    result = run_cli("reproduce", "--quick", "--out", str(out))
    assert result.returncode == 0, result.stderr
    written = [Path(line) for line in result.stdout.splitlines()]
    assert written[-1] == out / "index.md"
    assert all(path.is_file() for path in written)
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()
                     and p.name != ".mlplens-manifest.json")
    assert on_disk == sorted(path.relative_to(out).as_posix() for path in written)
    manifest = json.loads((out / ".mlplens-manifest.json").read_text())
    assert manifest == {"reproduce": on_disk}
    pngs = [name for name in on_disk if name.endswith(".png") and
            not name.startswith(("beyond/", "checks/", "features/"))]
    expected = {"digits.png", "output-500-vs-2000-seed.png", "output-500-vs-2000-linear.png",
                "single-2000/seed/layer-1.png", "single-2000/linear/layer-1.png"}
    expected |= {f"{net}/{method}/layer-{k}.png" for net in ("mlp-500", "mlp-2000")
                 for method in ("seed", "linear") for k in (1, 2, 3)}
    expected |= {"mlp-2000/diagram.png", *(f"mlp-2000/circuits/circuit-{digit}.png"
                                           for digit in range(10))}
    compared = json.loads((out / "compare-500-vs-2000" / "compare.json").read_text())
    expected |= {f"compare-500-vs-2000/{name}.png" for name in ("cka", "matched-1", "matched-2",
                                                                "output")}
    expected |= {f"compare-500-vs-2000/only-{net}-{k}.png"
                 for net, layers in compared["alone"].items() for k, nodes in layers.items()
                 if nodes}
    assert set(pngs) == expected
    beyond = {name for name in on_disk if name.startswith("beyond/") and
              name.endswith((".png", ".gif"))}
    assert beyond == {
        "beyond/where-digits-write.png", "beyond/evolution.gif",
        *(f"beyond/mlp-2000/gradient/{name}.png" for name in
          ("layer-1", "layer-2", "layer-3", "fidelity-2", "fidelity-3", "per-class")),
        *(f"beyond/mlp-2000/examples/{kind}-{k}.png" for kind in ("layer", "examples")
          for k in (1, 2, 3)),
        "beyond/mlp-2000/maximize/layer-2.png", "beyond/mlp-2000/maximize/layer-3.png",
        "beyond/single-2000/gradient/layer-1.png", "beyond/single-2000/gradient/per-class.png",
        "beyond/single-2000/examples/layer-1.png", "beyond/single-2000/examples/examples-1.png",
        "beyond/single-2000/maximize/layer-1.png"}
    checks = {name for name in on_disk if name.startswith("checks/")}
    assert checks == {f"checks/{net}/{name}" for net in ("mlp-2000", "single-2000") for name in (
        "checks.json", "checks.md", "data-randomization.png", "deletion-insertion.png",
        "randomization-curves.png",
        *(f"randomization-{method}.png" for method in mlplens.METHODS))}
    features = {name for name in on_disk if name.startswith("features/")}
    assert features == {f"features/mlp-2000/layer-{k}/{name}" for k in (1, 2) for name in (
        "features-linear.png", "features-gradient.png", "features-examples.png",
        "features-maximize.png", "polysemantic-nodes.png", "features.json", "features.npz")}
    index = (out / "index.md").read_text()
    for name in pngs + sorted(beyond) + sorted(n for n in features if n.endswith(".png")):
        assert f"[`{name}`]({name})" in index
    summary = json.loads((out / "summary.json").read_text())
    accuracies = {name: run["test_accuracy"] for name, run in summary["runs"].items()}
    assert sorted(accuracies) == ["mlp-2000", "mlp-500", "single-2000"]
    for name, accuracy in accuracies.items():
        assert f"| {accuracy:.4f} |" in index
    medians = summary["beyond"]["median_fidelity"]
    assert medians["single-2000"] == [1.0] and medians["mlp-2000"][0] == 1.0
    assert f"- `mlp-2000`: layer 1: 1.000, layer 2: {medians['mlp-2000'][1]:.3f}" in index
    assert summary["beyond"]["edge_ink_counts"]["bottom 1"] == [0, 0, 0, 0, 0, 1, 0, 675, 0, 47]
    assert "reach the bottom edge holds." in index
    with Image.open(out / "beyond" / "evolution.gif") as gif:
        # The longer run sets the frame count: 2,000 images at batch 128 are 16 steps, with a
        # snapshot at step 0 and every 2 steps after.
        assert gif.n_frames == 9
    # The seed figures of the mlp-2000 net are the notebook's N_k images, pixel for pixel.
    stack = load_stack(out / "mlp-2000" / "model.keras")
    views = layer_views(stack, "seed", "minmax")
    with np.load(out / "mlp-2000" / "seed" / "arrays.npz") as arrays:
        for view in views:
            np.testing.assert_array_equal(arrays[f"image_{view.index}"], view.images)
    assert Image.open(out / "digits.png").size == (10 * (84 + 6) + 6, 30 + 2 * (16 + 84 + 6) + 6)
    # An explorer per net, with a training slider, and one self-contained report.
    assert written[-2] == out / "report.html"
    report = (out / "report.html").read_text()
    for net in ("mlp-500", "mlp-2000", "single-2000"):
        assert f"{net}/snapshots.npz" in on_disk and f"{net}/explorer.html" in on_disk
        assert f'<a href="{net}/explorer.html">' in report
        assert '"frames":{"normalization":"minmax"' in (out / net / "explorer.html").read_text()
    # The story: the article's sections in order, then the views beyond it; the figure each
    # section tells embedded, every other figure linked to its file beside the page.
    assert re.findall(r'<section id="([^"]+)"', report) == [
        "network", "mnist", "hidden-1", "hidden-2", "output", "training-size",
        "where-digits-write", "single-layer", "exact", "examples", "maximize", "evolution",
        "checks", "features", "circuits", "runs"]
    assert "<h2>6. 500 vs 2,000 images</h2>" in report
    for name in [n for n in on_disk if n.endswith((".png", ".gif"))]:
        assert f'<a class="file" href="{name}">' in report, name
    assert report.count('<img src="data:image/png;base64,') == 18
    assert compared["images"] == 2000 and summary["compare"]["cka"] == compared["cka"]
    assert f"between the same layers of the two nets is layer 1: {compared['cka'][0][0]:.3f}" \
        in report
    assert report.count('<img src="data:image/gif;base64,') == 1
    for accuracy in accuracies.values():
        assert f">{accuracy:.4f}<" in report
        assert f"{accuracy:.2%}" in report
    assert f"{summary['beyond']['median_fidelity']['mlp-2000'][1]:.3f}" in report
    assert [c["digit"] for c in summary["circuits"]] == list(range(10))
    assert summary["circuits"][0]["index"] == 3  # the first 0 of the test set
