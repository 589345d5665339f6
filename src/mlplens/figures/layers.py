"""Every layer of a stack as a PNG mosaic, plus the arrays behind them (`mlplens visualize`).

A method's further results add their own outputs, found by what they are, not by which method
made them: fidelity scores a chart per deep layer, per-class maps a mosaic, node statistics the
strips of dataset examples and nodes.json / nodes.csv.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.forward import brightness_pixels
from ..core.methods import default_nodes, footprint, get_method, project
from ..core.node_statistics import NodeStatistics
from ..core.normalization import normalize
from ..core.projection import Projection, linear_rows
from ..core.stack import DenseStack
from ..core.views import LayerView, layer_views, layer_views_bytes
from ..memory import require
from ..output import save_figure, save_npz, save_png, write_json, write_text
from ..render import Legend, colormap_lut, node_mosaic
from ..render.colors import default_cmap
from ..render.mosaic import mosaic_bytes
from ..render.strips import example_strips, strips_bytes


@dataclass(frozen=True)
class Written:
    """What a command wrote, and the nodes it had to draw flat."""

    paths: tuple[Path, ...]
    constant_rows: dict[int, list[int]]  # layer index -> node numbers
    projection: Projection | None = None  # what was drawn, for callers that report on it


def render_view(view: LayerView, cmap: str, scale: int, title: str | None = None):
    """One layer's mosaic, titled, labelled and with the legend of its normalisation."""
    return node_mosaic(view.images, colormap_lut(cmap), labels=view.labels,
                       scale=scale, title=title or view.title, legend=Legend(*view.legend))


def default_scale(count: int) -> int:
    """Big tiles for a few nodes, small ones for hundreds, so every figure stays readable."""
    return 4 if count <= 16 else 3 if count <= 64 else 2


# What drawing loads on the way, whatever the size: fonts, Pillow's and matplotlib's modules.
DRAWING_BASE = 50 * 10**6


def visualize_bytes(stack: DenseStack, method: str, scale: int | None = None,
                    **options: Any) -> int:
    """visualize_stack's peak, the largest of its steps: the method's own; then, beside what
    the method returns, its views; a layer's mosaic at its scale; or, with the rows' float32
    copies for arrays.npz, the per-class mosaic or a layer's strips of example images."""
    found = footprint(stack, method, **options)
    height, width = stack.image_shape
    images = stack.n_inputs * sum(found.rows)
    mosaics = [mosaic_bytes(count, height, width, scale or default_scale(count),
                            title=f"Layer {index}: {count} nodes ({method})")
               for index, count in enumerate(found.rows, start=1) if count]
    extras = []
    if options.get("per_class"):
        extras.append(mosaic_bytes(10 * stack.widths[-1], height, width, 2,
                                   columns=stack.widths[-1], title=""))
    if found.examples:
        for count in found.rows:
            shown = len(default_nodes(count))
            extras.append(strips_bytes(shown, found.examples, height, width,
                                       strip_columns=2 if shown <= 10 else 4,
                                       scale=2 if shown <= 10 else 1))
    return DRAWING_BASE + max(found.peak, found.held + max(
        layer_views_bytes(stack, found.rows), images + max(mosaics, default=0),
        5 * images + max(extras, default=0)))


def _work(stack: DenseStack, method: str, scale: int | None, options: dict[str, Any]) -> str:
    """The work as the command line asks for it, for a refusal: the model and the options that
    make it big."""
    asked = [f"--method {method}"] + ([f"--scale {scale}"] if scale else [])
    if "k" in get_method(method).options and "k" in options:
        asked.append(f"--top-k {options['k']}")
    if options.get("reference") is not None:
        asked.append(f"--reference {len(options['reference'])}")
    sizes = "-".join(str(size) for size in (stack.n_inputs, *stack.widths))
    return f"drawing the {sizes} model with {' '.join(asked)}"


def visualize_stack(stack: DenseStack, out_dir: str | os.PathLike[str], method: str = "linear",
                    normalization: str | None = None, cmap: str | None = None,
                    scale: int | None = None, **options: Any) -> Written:
    """Write layer-<k>.png for every computed layer k and arrays.npz into out_dir.

    `options` go to the method (see `mlplens.core.methods.METHODS[method].options`).
    """
    out = Path(out_dir)
    normalization = normalization or get_method(method).normalization
    cmap = cmap or default_cmap(normalization)
    colormap_lut(cmap)  # an unknown colormap fails before any work
    require(visualize_bytes(stack, method, scale, **options), _work(stack, method, scale, options))
    with np.errstate(over="ignore", invalid="ignore"):  # layer_views refuses overflowed rows
        projection = project(stack, method, **options)
    views = layer_views(stack, method, normalization, projection=projection)
    paths = []
    for view in views:
        layer_scale = scale or default_scale(len(view.raw))
        paths.append(save_png(render_view(view, cmap, layer_scale), out / f"layer-{view.index}.png"))
    arrays: dict[str, np.ndarray] = {}
    for view in views:
        arrays[f"raw_{view.index}"] = view.raw.astype(np.float32)
        arrays[f"image_{view.index}"] = view.images
    extras = projection.extras
    if "fidelity" in extras:
        paths += _fidelity_figures(stack, projection, out, cmap, arrays)
    if "per_class" in extras:
        paths.append(_per_class_figure(stack, extras["per_class"], out, cmap, arrays))
    if "activations" in extras:  # a method that drew chosen nodes, and what each reached
        for view, reached in zip(views, (a for a in extras["activations"] if a.size)):
            arrays[f"nodes_{view.index}"] = view.nodes
            arrays[f"activation_{view.index}"] = reached
    if "node_statistics" in extras:
        paths += _node_statistics_outputs(projection, options["reference"], out, arrays)
    paths.insert(len(views), save_npz(out / "arrays.npz", arrays))
    constant = {view.index: view.constant_rows.tolist() for view in views if view.constant_rows.size}
    return Written(tuple(paths), constant, projection)


def _fidelity_figures(stack: DenseStack, projection: Projection, out: Path, cmap: str,
                      arrays: dict[str, np.ndarray]) -> list[Path]:
    from ..render.charts import fidelity_figure

    paths = []
    height, width = stack.image_shape
    linear = linear_rows(stack)
    for index, (scores, rows) in enumerate(zip(projection.extras["fidelity"], projection.layers),
                                           start=1):
        arrays[f"fidelity_{index}"] = scores
        if index == 1:
            continue  # the first layer's gradient is W1 itself: fidelity 1 everywhere
        shape = (len(rows), height, width)
        figure = fidelity_figure(
            scores, normalize(linear[index - 1], "symmetric").pixels.reshape(shape),
            normalize(rows, "symmetric").pixels.reshape(shape),
            f"Layer {index}: how faithful is the article's picture? "
            f"(reference: {projection.extras['reference_size']} test images)", cmap)
        paths.append(save_figure(figure, out / f"fidelity-{index}.png"))
    return paths


def _per_class_figure(stack: DenseStack, per_class: np.ndarray, out: Path, cmap: str,
                      arrays: dict[str, np.ndarray]) -> Path:
    """per_class: (classes, nodes, H*W), the output maps on the images of each class."""
    height, width = stack.image_shape
    classes, nodes = per_class.shape[:2]
    arrays["per_class"] = per_class
    pixels = normalize(per_class.reshape(classes * nodes, -1), "symmetric").pixels
    picture = node_mosaic(pixels.reshape(-1, height, width), colormap_lut(cmap),
                          labels=[f"{c}: {j}" for c in range(classes) for j in range(nodes)],
                          columns=nodes, scale=2,
                          title="Output nodes (columns) on the images of each class (rows)",
                          legend=Legend("-max |value| of map", "0", "+max |value| of map"))
    return save_png(picture, out / "per-class.png")


def _rounded(value: Any) -> float:
    return round(float(value), 6)


# The per-node numbers written to nodes.json and nodes.csv, named as NodeStatistics names them.
NODE_FIELDS = {"firing_fraction": _rounded, "dead": bool, "preferred_class": int,
               "selectivity": _rounded, "mean_activation": _rounded, "max_activation": _rounded}


def node_records(found: Sequence[NodeStatistics]) -> list[dict[str, Any]]:
    """One flat record per node: what nodes.json and nodes.csv hold."""
    records = []
    for layer in found:
        for node in range(len(layer.firing_fraction)):
            record: dict[str, Any] = {"layer": layer.layer, "node": node}
            for name, convert in NODE_FIELDS.items():
                record[name] = convert(getattr(layer, name)[node])
            records.append(record)
    return records


def _node_statistics_outputs(projection: Projection, reference: np.ndarray, out: Path,
                             arrays: dict[str, np.ndarray]) -> list[Path]:
    found: tuple[NodeStatistics, ...] = projection.extras["node_statistics"]
    images = np.asarray(reference)
    paths = []
    for layer in found:
        arrays[f"examples_{layer.layer}"] = layer.top_indices
        shown = default_nodes(len(layer.top_indices))
        captions = [f"{node}: fires {layer.firing_fraction[node]:.0%}, class "
                    f"{layer.preferred_class[node]}" + (" (dead)" if layer.dead[node] else "")
                    for node in shown]
        picture = example_strips(
            brightness_pixels(images[layer.top_indices[shown]]), captions, colormap_lut("gray"),
            strip_columns=2 if len(shown) <= 10 else 4, scale=2 if len(shown) <= 10 else 1,
            title=f"Layer {layer.layer}: the {layer.top_indices.shape[1]} reference images that "
                  f"excite each node most" + ("" if len(shown) == len(layer.top_indices)
                                              else f" (nodes 0-{len(shown) - 1})"))
        paths.append(save_png(picture, out / f"examples-{layer.layer}.png"))
    records = node_records(found)
    paths.append(write_json(out / "nodes.json", {
        "reference_size": projection.extras["reference_size"], "nodes": records}, indent=1))
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    paths.append(write_text(out / "nodes.csv", table.getvalue()))
    return paths
