"""`mlplens visualize`: every layer of a stack as a PNG mosaic, plus the arrays behind them.

Data-driven methods add their own figures: `gradient` a fidelity chart per deep layer (and
per-class maps), `examples` strips of dataset examples and nodes.json / nodes.csv.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .atomic import atomic_path, write_text
from .examples import LayerExamples
from .normalize import normalize
from .project import Projection, default_nodes, project
from .render import Legend, colormap_lut, node_mosaic
from .render.png import write_png
from .render.strips import example_strips
from .stack import DenseStack
from .views import LayerView, default_cmap, default_normalization, layer_views


@dataclass(frozen=True)
class Written:
    """What a command wrote, and the nodes it had to draw flat."""

    paths: tuple[Path, ...]
    constant_rows: dict[int, list[int]]  # layer index -> node numbers
    projection: Projection | None = None  # what was drawn, for callers that report on it


def save_png(picture: Image.Image, path: Path) -> Path:
    """Write a PNG atomically with mlplens' fast writer (render/png.py says why); an RGB picture
    with no colour in it is stored as greyscale: the same pixels from a third of the data."""
    if picture.mode not in ("RGB", "L"):
        with atomic_path(path) as tmp:
            picture.save(tmp, format="PNG")
        return path
    pixels = np.asarray(picture)
    if pixels.ndim == 3 and np.array_equal(pixels[..., 0], pixels[..., 1]) and \
            np.array_equal(pixels[..., 1], pixels[..., 2]):
        pixels = pixels[..., 0]
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        write_png(handle, pixels)
    return path


def save_figure(figure: Any, path: Path) -> Path:
    """A matplotlib figure, saved atomically and closed."""
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100)
    plt.close(figure)
    return path


def save_arrays(views: list[LayerView], path: Path,
                extra: dict[str, np.ndarray] | None = None) -> Path:
    """raw_<k> float32 (n_k, H*W) and image_<k> uint8 (n_k, H, W) for every layer k drawn."""
    arrays: dict[str, np.ndarray] = dict(extra or {})
    for view in views:
        arrays[f"raw_{view.index}"] = view.raw.astype(np.float32)
        arrays[f"image_{view.index}"] = view.images
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
    return path


def render_view(view: LayerView, cmap: str, scale: int, title: str | None = None):
    return node_mosaic(view.images, colormap_lut(cmap), labels=view.labels,
                       scale=scale, title=title or view.title, legend=Legend(*view.legend))


def default_scale(count: int) -> int:
    """Big tiles for a few nodes, small ones for hundreds, so every figure stays readable."""
    return 4 if count <= 16 else 3 if count <= 64 else 2


def visualize_stack(stack: DenseStack, out_dir: str | os.PathLike[str], method: str = "linear",
                    normalization: str | None = None, cmap: str | None = None,
                    scale: int | None = None, **options: Any) -> Written:
    """Write layer-<k>.png for every computed layer k and arrays.npz into out_dir.

    `options` go to `project` (reference=, labels=, per_class=, nodes=, layers=, k=, seed=,
    progress=).
    """
    out = Path(out_dir)
    normalization = normalization or default_normalization(method)
    cmap = cmap or default_cmap(normalization)
    colormap_lut(cmap)  # an unknown colormap fails before any work
    with np.errstate(over="ignore", invalid="ignore"):  # layer_views refuses overflowed rows
        projection = project(stack, method, **options)
    views = layer_views(stack, method, normalization, projection=projection)
    paths = []
    for view in views:
        layer_scale = scale or default_scale(len(view.raw))
        paths.append(save_png(render_view(view, cmap, layer_scale), out / f"layer-{view.index}.png"))
    extra: dict[str, np.ndarray] = {}
    if method == "gradient":
        paths += _gradient_figures(stack, projection, out, cmap, extra)
    elif method == "maximize":
        for view, reached in zip(views, (a for a in projection.extras["activations"] if a.size)):
            extra[f"nodes_{view.index}"] = view.nodes
            extra[f"activation_{view.index}"] = reached
    elif method == "examples":
        paths += _examples_outputs(projection, options["reference"], out, extra)
    paths.insert(len(views), save_arrays(views, out / "arrays.npz", extra))
    constant = {view.index: view.constant_rows.tolist() for view in views if view.constant_rows.size}
    return Written(tuple(paths), constant, projection)


def _gradient_figures(stack: DenseStack, projection: Projection, out: Path, cmap: str,
                      extra: dict[str, np.ndarray]) -> list[Path]:
    from .project import linear_rows
    from .render.charts import fidelity_figure

    paths = []
    height, width = stack.image_shape
    linear = linear_rows(stack)
    for index, (scores, rows) in enumerate(zip(projection.extras["fidelity"], projection.layers),
                                           start=1):
        extra[f"fidelity_{index}"] = scores
        if index == 1:
            continue  # the first layer's gradient is W1 itself: fidelity 1 everywhere
        shape = (len(rows), height, width)
        figure = fidelity_figure(
            scores, normalize(linear[index - 1], "symmetric").pixels.reshape(shape),
            normalize(rows, "symmetric").pixels.reshape(shape),
            f"Layer {index}: how faithful is the article's picture? "
            f"(reference: {projection.extras['reference_size']} test images)", cmap)
        paths.append(save_figure(figure, out / f"fidelity-{index}.png"))
    if "per_class" in projection.extras:
        per_class = projection.extras["per_class"]  # (classes, nodes, H*W)
        classes, nodes = per_class.shape[:2]
        extra["per_class"] = per_class
        pixels = normalize(per_class.reshape(classes * nodes, -1), "symmetric").pixels
        picture = node_mosaic(pixels.reshape(-1, height, width), colormap_lut(cmap),
                              labels=[f"{c}: {j}" for c in range(classes) for j in range(nodes)],
                              columns=nodes, scale=2,
                              title="Output nodes (columns) on the images of each class (rows)",
                              legend=Legend("-max |value| of map", "0", "+max |value| of map"))
        paths.append(save_png(picture, out / "per-class.png"))
    return paths


def node_records(found: Sequence[LayerExamples]) -> list[dict[str, Any]]:
    """One flat record per node: what nodes.json and nodes.csv hold."""
    records = []
    for layer in found:
        for node in range(len(layer.firing_fraction)):
            records.append({
                "layer": layer.layer, "node": node,
                "firing_fraction": round(float(layer.firing_fraction[node]), 6),
                "dead": bool(layer.dead[node]),
                "preferred_class": int(layer.preferred_class[node]),
                "selectivity": round(float(layer.selectivity[node]), 6),
                "mean_activation": round(float(layer.mean_activation[node]), 6),
                "max_activation": round(float(layer.max_activation[node]), 6)})
    return records


def _examples_outputs(projection: Projection, reference: np.ndarray, out: Path,
                      extra: dict[str, np.ndarray]) -> list[Path]:
    found: tuple[LayerExamples, ...] = projection.extras["examples"]
    images = np.asarray(reference)
    paths = []
    for layer in found:
        extra[f"examples_{layer.layer}"] = layer.top_indices
        shown = default_nodes(len(layer.top_indices))
        captions = [f"{node}: fires {layer.firing_fraction[node]:.0%}, class "
                    f"{layer.preferred_class[node]}" + (" (dead)" if layer.dead[node] else "")
                    for node in shown]
        picture = example_strips(
            images[layer.top_indices[shown]], captions, colormap_lut("gray"),
            strip_columns=2 if len(shown) <= 10 else 4, scale=2 if len(shown) <= 10 else 1,
            title=f"Layer {layer.layer}: the {layer.top_indices.shape[1]} reference images that "
                  f"excite each node most" + ("" if len(shown) == len(layer.top_indices)
                                              else f" (nodes 0-{len(shown) - 1})"))
        paths.append(save_png(picture, out / f"examples-{layer.layer}.png"))
    records = node_records(found)
    paths.append(write_text(out / "nodes.json", json.dumps(
        {"reference_size": projection.extras["reference_size"], "nodes": records}, indent=1)))
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    paths.append(write_text(out / "nodes.csv", table.getvalue()))
    return paths
