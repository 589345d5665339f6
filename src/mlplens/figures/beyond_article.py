"""The "beyond the article" part of `mlplens reproduce`: every method past the article's own.

For the 60,000-image net and the single-layer net, every registered method other than the
article's `seed` and `linear` (gradient with fidelity and per-class maps, maximize, dataset
examples with node statistics, and any method registered later); then where digits write (the
article's edge claim, in numbers) and training evolution, 500 vs 60,000.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.ink import EDGES, edge_ink_counts, ink_maps
from ..core.projection import Fidelity, NodeStatisticsFound
from ..core.stack import DenseStack
from ..datasets import Dataset
from ..methods import METHODS, Method
from ..output import save_png
from ..progress import stderr_progress
from ..render import Legend, colormap_lut, node_mosaic, side_by_side
from ..snapshots import Snapshots
from .evolution import compare_runs
from .layers import visualize_stack
from .outputs import Output

REFERENCE = 1000
QUICK_REFERENCE = 200
ARTICLE_METHODS = ("seed", "linear")  # drawn by `reproduce` itself, in the article's figures


@dataclass(frozen=True)
class BeyondFigure:
    """A figure of this part, with the net and the method that drew it (None for a figure of
    the data or of training)."""

    net: str | None
    method: str | None
    output: Output


@dataclass
class BeyondResults:
    figures: list[BeyondFigure] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    reference: int = REFERENCE
    median_fidelity: dict[str, list[float]] = field(default_factory=dict)
    dead_nodes: dict[str, list[int]] = field(default_factory=dict)
    edges: dict[str, list[int]] = field(default_factory=dict)


def _timed(results: BeyondResults, key: str, work: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    value = work()
    results.seconds[key] = round(time.perf_counter() - started, 2)
    return value


def _views_of_net(name: str, stack: DenseStack, mnist: Dataset, out: Path,
                  results: BeyondResults, log: Callable[[str], None], quick: bool) -> None:
    count = results.reference
    depth = len(stack.layers)
    # What reproduce offers every method; each takes the options its signature names.
    offered: dict[str, Any] = {
        "reference": mnist.x_test[:count], "labels": mnist.y_test[:count], "per_class": True,
        "layers": [depth] if depth == 1 else [depth - 1, depth], "nodes": list(range(16)),
        "steps": 50 if quick else 200}
    for method in METHODS.values():
        if method.name in ARTICLE_METHODS:
            continue
        where = f" over {count} test images" if method.needs_data else ""
        log(f"beyond the article, {name}: {method.name}{where}")
        options = method.accepted({**offered, "progress": stderr_progress(f"{method.name}:")})
        written = _timed(results, f"{name} {method.name}", lambda: visualize_stack(
            stack, out / "beyond" / name / method.name, method.name, **options))
        fidelity = written.projection.extra(Fidelity)
        if fidelity is not None:
            results.median_fidelity[name] = [round(float(np.nanmedian(scores)), 4)
                                             for scores in fidelity.scores]
        statistics = written.projection.extra(NodeStatisticsFound)
        if statistics is not None:
            results.dead_nodes[name] = [int(layer.dead.sum()) for layer in statistics.layers]
        results.written += list(written.paths)
        results.figures += [
            BeyondFigure(name, method.name, output.captioned(_caption(name, method, output, count)))
            for output in written.outputs if output.is_picture]


def _caption(name: str, method: Method, output: Output, reference: int) -> str:
    if output.kind == "per-class":
        return f"{name}: the exact output maps on the images of each class (gradient, per class)."
    where = f"layer {output.layer}"
    return {
        "layer": f"{name}, {where}, {method.name}: {method.shows}" +
                 (f" ({reference} test images)." if method.needs_data else "."),
        "fidelity": f"{name}, {where}: nodes sorted by fidelity, cosine(article's picture, exact "
                    "picture), with the most and least faithful drawn side by side.",
        "examples": f"{name}, {where}: the test images that excite each node most, with its "
                    "firing rate and preferred class.",
    }[output.kind]


def _where_digits_write(mnist: Dataset, out: Path, results: BeyondResults) -> None:
    maps = ink_maps(mnist.x_train, mnist.y_train)
    frequency = np.round(maps.frequency * 255).astype(np.uint8)
    per_class = node_mosaic(
        frequency, colormap_lut("magma"), scale=3, labels=[str(c) for c in range(10)],
        title="Share of each class's images with ink at each pixel",
        legend=Legend("never", "half", "always"))
    reaching = maps.classes_reaching
    count_map = np.round(reaching * 255 / 10).astype(np.uint8)[None]
    classes = node_mosaic(count_map, colormap_lut("magma"), scale=6,
                          title="Classes that ever reach each pixel",
                          legend=Legend("0", "5", "10"))
    path = save_png(side_by_side([("Where digits write: all 60,000 training images", per_class),
                                  ("", classes)]), out / "beyond" / "where-digits-write.png")
    results.written.append(path)
    results.figures.append(BeyondFigure(None, None, Output(
        "where-digits-write", None, path, "Where digits write: per class, how often each pixel "
                                          "carries ink, and how many classes ever reach each "
                                          "pixel.")))
    for edge in EDGES:
        for depth in (1, 2):
            results.edges[f"{edge} {depth}"] = edge_ink_counts(
                mnist.x_train, mnist.y_train, edge, depth).tolist()


def beyond_the_article(nets: dict[str, DenseStack], evolution: list[tuple[str, Snapshots]],
                       mnist: Dataset, out: Path, log: Callable[[str], None],
                       quick: bool = False) -> BeyondResults:
    """Every new view for the given nets, where digits write, and the evolution animation.

    `quick` (for tests) uses 200 reference images and 50 maximisation steps.
    """
    results = BeyondResults(reference=QUICK_REFERENCE if quick else REFERENCE)
    for name, stack in nets.items():
        _views_of_net(name, stack, mnist, out, results, log, quick)
    _timed(results, "where digits write", lambda: _where_digits_write(mnist, out, results))
    if evolution:
        log("beyond the article: training evolution")
        names = " vs ".join(heading.split(" ")[0] for heading, _ in evolution)
        path = _timed(results, "evolution", lambda: compare_runs(
            evolution, out / "beyond" / "evolution.gif"))
        results.written.append(path)
        results.figures.append(BeyondFigure(None, None, Output(
            "evolution", None, path, f"Training evolution of the output pictures ({names} "
                                     "images), with the step and test accuracy in each frame.")))
    return results


def index_section(results: BeyondResults) -> list[str]:
    """The 'Beyond the article' part of index.md: numbers first, then the figures."""
    lines = ["", "## Beyond the article", "",
             "**How faithful are the article's pictures?** Median cosine similarity, per layer, "
             "between each node's `linear` picture and its exact `gradient` picture (mean "
             f"input-gradient over the first {results.reference} test images, ReLU masks "
             "included; "
             "layer 1 is exact by construction):", ""]
    for name, medians in results.median_fidelity.items():
        lines.append(f"- `{name}`: " + ", ".join(f"layer {k}: {m:.3f}"
                                                  for k, m in enumerate(medians, start=1)))
    lines += ["", f"**Dead nodes** (never fire on the {results.reference} reference images):",
              ""]
    for name, dead in results.dead_nodes.items():
        lines.append(f"- `{name}`: " + ", ".join(f"layer {k}: {d}"
                                                  for k, d in enumerate(dead, start=1)))
    bottom1, bottom2 = results.edges["bottom 1"], results.edges["bottom 2"]
    lines += ["", "**Where digits write.** Training images (of 60,000) with any ink in the "
              "bottom row, per class 0-9: " + ", ".join(map(str, bottom1)) +
              f" ({sum(bottom1)} in all); in the bottom two rows: " +
              ", ".join(map(str, bottom2)) + f" ({sum(bottom2)}). "
              f"Classes 7 and 9 make {_share(bottom1, (7, 9)):.0%} of the bottom-row images "
              f"and {_share(bottom2, (7, 9)):.0%} of the bottom-two-rows images: the article's "
              "claim that few digits but 7 and 9 reach the bottom edge "
              f"{'holds' if _share(bottom2, (7, 9)) >= 0.9 else 'does not hold'}.", ""]
    lines += ["| edge | depth | images with ink, per class 0-9 |", "|---|---|---|"]
    for key, counts in results.edges.items():
        edge, depth = key.split(" ")
        lines.append(f"| {edge} | {depth} | {', '.join(map(str, counts))} |")
    lines += ["", "**Time per method:** " + ", ".join(
        f"{key} {value:.1f} s" for key, value in results.seconds.items()) + ".", "",
              "### Figures", ""]
    return lines


def _share(counts: list[int], classes: tuple[int, ...]) -> float:
    """The fraction of all counted images that belong to `classes` (0 if none)."""
    total = sum(counts)
    return sum(counts[c] for c in classes) / total if total else 0.0
