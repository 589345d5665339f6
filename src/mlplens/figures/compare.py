"""Two nets side by side (`mlplens compare`, and reproduce's 500-vs-60,000 section): compare.json
and the figures that show what the numbers of `core.compare` mean.

- cka.png: linear CKA of every hidden layer of A with every hidden layer of B;
- matched-<k>.png: hidden layer k of A's nodes beside the nodes of B they were matched to, the
  best matched pairs first, then the least matched;
- only-a-<k>.png, only-b-<k>.png: the nodes of each net that no node of the other's closest
  layer correlates with well (what only this net has), least matched first;
- output.png: both nets' output pictures, each class's pair with their similarity.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.classes import class_names_for
from ..core.compare import ALONE_BELOW, Comparison, compare
from ..core.forward import accuracy
from ..methods import get_method
from ..core.checks.similarity import spearman_abs, ssim
from ..core.stack import DenseStack
from ..layout.views import LayerView, layer_views
from ..output import save_figure, save_png, write_json
from ..render import colormap_lut, node_mosaic, side_by_side, stacked
from ..render.comparison import cka_heatmap, pair_mosaic
from .layers import default_scale, render_view
from .outputs import Output, paths_of

BEST, WORST = 48, 16  # matched pairs drawn: the best matched, then the least matched
ALONE_SHOWN = 48  # nodes drawn of what only one net has


@dataclass(frozen=True)
class Net:
    """One of the two nets, as figures and compare.json name it."""

    name: str  # e.g. its file's name, or "500 images"
    stack: DenseStack


@dataclass(frozen=True)
class Compared:
    """What `write_comparison` wrote and found."""

    paths: tuple[Path, ...]
    comparison: Comparison
    summary: dict  # compare.json's content
    figures: tuple[Output, ...]  # kind, layer, path and caption of each figure


def write_comparison(a: Net, b: Net, images: np.ndarray, out: str | os.PathLike[str], *,
                     labels: np.ndarray | None = None,
                     class_names: Sequence[str] | None = None, method: str = "linear",
                     reference: int = 1000, below: float = ALONE_BELOW,
                     cmap: str = "gray") -> Compared:
    """Compare `a` with `b` on `images` and write compare.json and the figures into `out`.

    Pictures are drawn with `method` (min-max normalised); a method that needs data takes the
    first `reference` images. With `labels`, compare.json has each net's accuracy on the
    images. A tabular net's nodes have no pictures: only compare.json and cka.png are written.
    """
    out = Path(out)
    found = compare(a.stack, b.stack, images)
    summary = {"a": {"name": a.name, "model": a.stack.describe()},
               "b": {"name": b.name, "model": b.stack.describe()}, "method": method,
               **found.to_json(below)}
    if labels is not None:
        for key, net in (("a", a), ("b", b)):
            summary[key]["accuracy"] = round(accuracy(net.stack, images, labels), 6)
    figures = [Output("cka", None, save_figure(
        cka_heatmap(found.cka, a.name, b.name, found.widths_a, found.widths_b, _cka_title(found)),
        out / "cka.png"), f"Linear CKA between every hidden layer of {a.name} (rows) and of "
                          f"{b.name} (columns) on {found.images:,} images: 1 means the same "
                          "representation up to a rotation and a scale.")]
    if not a.stack.is_tabular:
        options = {"reference": images[:reference]} if get_method(method).needs_data else {}
        views_a = layer_views(a.stack, method, "minmax", **options)
        views_b = layer_views(b.stack, method, "minmax", **options)
        lut = colormap_lut(cmap)
        figures += _matched(found, a, b, views_a, views_b, lut, out)
        figures += _alone(found, a, b, views_a, views_b, lut, below, out)
        similarity, figure = _outputs(a, b, views_a[-1], views_b[-1], cmap, class_names, out)
        summary["outputs"] = similarity
        figures.append(figure)
    paths = [write_json(out / "compare.json", summary)] + paths_of(figures)
    return Compared(tuple(paths), found, summary, tuple(figures))


def _cka_title(found: Comparison) -> str:
    return f"Linear CKA of the hidden layers on {found.images:,} images"


def _view(views: Sequence[LayerView], layer: int) -> LayerView:
    return next(view for view in views if view.index == layer)


def _matched(found: Comparison, a: Net, b: Net, views_a: Sequence[LayerView],
             views_b: Sequence[LayerView], lut: np.ndarray,
             out: Path) -> list[Output]:
    """Per hidden layer of A, its matched pairs sorted by correlation: the best, then the
    least matched."""
    figures = []
    for match in found.matches:
        pairs = np.flatnonzero(match.nodes >= 0)
        order = pairs[np.argsort(-match.correlations[pairs], kind="stable")]
        if not len(order):
            continue
        view_a, view_b = _view(views_a, match.layer), _view(views_b, match.other)
        best, worst = order[:BEST], order[BEST:][-WORST:]
        panels = []
        for heading, nodes in ((f"Best matched {len(best)} of {len(order)} pairs", best),
                               (f"Least matched {len(worst)}", worst)):
            if len(nodes):
                partners = match.nodes[nodes]
                panels.append((heading, pair_mosaic(
                    view_a.images[nodes], view_b.images[partners], lut,
                    [f"{i}/{j} {r:.2f}" for i, j, r in
                     zip(nodes, partners, match.correlations[nodes])])))
        title = (f"Layer {match.layer} of {a.name} (left of each pair) matched to layer "
                 f"{match.other} of {b.name} (right); label: node of A / node of B, their "
                 f"activations' correlation; {view_a.method} pictures")
        path = save_png(stacked([(title, side_by_side(panels[:1], gap=8))] +
                                [(heading, picture) for heading, picture in panels[1:]]),
                        out / f"matched-{match.layer}.png")
        median = float(np.median(match.correlations[pairs]))
        figures.append(Output("matched", match.layer, path,
                              f"Layer {match.layer} of {a.name} matched one to one to layer "
                              f"{match.other} of {b.name} (Hungarian assignment on activation "
                              f"correlation): {len(order)} pairs, median correlation "
                              f"{median:.2f}; the best matched pairs, then the least."))
    return figures


def _alone(found: Comparison, a: Net, b: Net, views_a: Sequence[LayerView],
           views_b: Sequence[LayerView], lut: np.ndarray, below: float,
           out: Path) -> list[Output]:
    """Per net and hidden layer, the nodes nothing in the other net's closest layer matches."""
    figures = []
    for key, net, other, views, widths in (("a", a, b, views_a, found.widths_a),
                                           ("b", b, a, views_b, found.widths_b)):
        for layer in range(1, len(widths) + 1):
            nodes = found.alone(key, layer, below)
            if not len(nodes):
                continue
            closest = found.closest_layer(key, layer)
            best = found.best(key, layer)
            shown = nodes[:ALONE_SHOWN]
            view = _view(views, layer)
            what = (f"Only in {net.name}: {len(nodes)} of the {widths[layer - 1]} nodes of layer "
                    f"{layer} correlate below {below:g} with every node of layer {closest} of "
                    f"{other.name}")
            picture = _subset_mosaic(view, shown, best, lut, what)
            path = save_png(picture, out / f"only-{key}-{layer}.png")
            figures.append(Output(f"only-{key}", layer, path,
                                  what + f" (label: node, best correlation; {len(shown)} "
                                         "least matched drawn)."))
    return figures


def _subset_mosaic(view: LayerView, nodes: np.ndarray, best: np.ndarray, lut: np.ndarray,
                   title: str) -> Any:
    return node_mosaic(view.images[nodes], lut, labels=[f"{n} {best[n]:.2f}" for n in nodes],
                       scale=default_scale(len(nodes)), title=title, columns=min(12, len(nodes)))


def _outputs(a: Net, b: Net, view_a: LayerView, view_b: LayerView, cmap: str,
             class_names: Sequence[str] | None,
             out: Path) -> tuple[list[dict], Output]:
    """Both nets' output pictures side by side; each class's pair compared as the sanity checks
    compare pictures (Spearman of |values|, SSIM of the pixels as drawn)."""
    names = list(class_names_for(class_names, len(view_a.raw)))
    rank = spearman_abs(view_a.raw, view_b.raw)
    alike = ssim(view_a.images / 255.0, view_b.images / 255.0) \
        if min(view_a.images.shape[1:3]) >= 7 else np.full(len(rank), np.nan)
    similarity = [{"class": name, "spearman": _number(r), "ssim": _number(s)}
                  for name, r, s in zip(names, rank, alike)]
    scale = default_scale(len(names))
    title = f"Output nodes ({view_a.method})"
    panels = [(net.name, render_view(view, cmap, scale, title=title, class_names=names))
              for net, view in ((a, view_a), (b, view_b))]
    pairs = pair_mosaic(view_a.images, view_b.images, colormap_lut(cmap),
                        [f"{n}: SSIM {s:.2f}" for n, s in zip(names, alike)], scale=scale,
                        columns=5)
    picture = stacked([("Output pictures side by side", side_by_side(panels)),
                       (f"Each class: {a.name} (left) beside {b.name} (right), and how alike "
                        "the two pictures are", pairs)])
    median = float(np.nanmedian(alike)) if np.isfinite(alike).any() else float("nan")
    path = save_png(picture, out / "output.png")
    return similarity, Output("output", None, path,
                              f"The output pictures of {a.name} and {b.name} side by side "
                              f"({view_a.method} method); each class's pair has its SSIM "
                              f"(median {median:.2f}) and, in compare.json, the Spearman "
                              "correlation of |values|.")


def _number(value: float) -> float | None:
    return round(float(value), 6) if np.isfinite(value) else None
