"""Every layer of a stack as a PNG mosaic, plus the arrays behind them (`mlplens visualize`).

A method's further results add their own outputs by their type, not by which method made them
(`WRITERS`, the one table of what each becomes on disk): fidelity scores a chart per deep layer,
per-class maps a mosaic, reached activations their arrays, node statistics the strips of
dataset examples and nodes.json / nodes.csv.

A tabular model (named features, no image) gets a grid of bar charts per layer instead of a
mosaic, and layer-<k>.csv of every node's features sorted by |value|; pictures of images
(fidelity pairs, per-class maps, example strips) are left out, their arrays kept.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.classes import class_names_for
from ..core.heads import output_names
from ..core.node_statistics import NodeStatistics
from ..core.normalization import normalize
from ..core.pixel_scale import as_pixels
from ..core.projection import (
    Extra,
    Fidelity,
    NodeStatisticsFound,
    PerClassMaps,
    Projection,
    Reached,
    linear_rows,
)
from ..core.stack import DenseStack
from ..layout.bars import DEFAULT_TOP, layer_bars
from ..layout.views import LayerView, colour_key, layer_views, layer_views_bytes
from ..memory import require
from ..methods import default_nodes, footprint, get_method, project
from ..output import save_figure, save_npz, save_png, write_json, write_text
from ..render import Legend, colormap_lut, node_mosaic
from ..render.colors import default_cmap
from ..render.mosaic import mosaic_bytes
from ..render.strips import example_strips, strips_bytes
from .outputs import Output


@dataclass(frozen=True)
class Written:
    """What a command wrote (records, in the order written), and the nodes it had to draw
    flat."""

    outputs: tuple[Output, ...]
    constant_rows: dict[int, list[int]]  # layer index -> node numbers
    projection: Projection | None = None  # what was drawn, for callers that report on it

    @property
    def paths(self) -> tuple[Path, ...]:
        return tuple(output.path for output in self.outputs)


CHANNELS = ("together", "side-by-side")


def view_legend(view: LayerView, channels: str = "together") -> Legend:
    """The legend of a view's normalisation; for colour pictures, also what the colours mean
    (drawn together: one ramp per channel from where it adds nothing)."""
    if not view.colour:
        return Legend(*view.legend)
    return Legend(*view.legend, *colour_key(view.normalization, channels == "side-by-side"))


def render_view(view: LayerView, cmap: str, scale: int, title: str | None = None,
                class_names: Sequence[str] | None = None, channels: str = "together"):
    """One layer's mosaic, titled, labelled and with the legend of its normalisation; with
    `class_names` (the output layer's), each tile is labelled with its class's name; colour
    pictures as they are, or each channel through `cmap` side by side."""
    labels = view.labels
    if class_names is not None:
        names = class_names_for(class_names, int(view.nodes.max(initial=-1)) + 1)
        labels = tuple(names[int(node)] for node in view.nodes)
    return node_mosaic(view.images, colormap_lut(cmap), labels=labels,
                       scale=scale, title=title or view.title,
                       legend=view_legend(view, channels),
                       side_by_side=view.colour and channels == "side-by-side",
                       fit_labels=class_names is not None)


def default_scale(count: int, side: int = 28) -> int:
    """Big tiles for a few nodes, small ones for hundreds, so every figure stays readable; small
    images (`side`, their longer side, under MNIST's 28) are enlarged to about MNIST's size."""
    return (4 if count <= 16 else 3 if count <= 64 else 2) * max(1, 28 // side)


def strip_scale(nodes: int, height: int) -> int:
    """The example strips' scale: as for MNIST's 28x28 (2 for up to 10 nodes, else 1), times
    how much smaller the images are, so an 8x8 strip is as wide as a 28x28 one and its caption
    fits."""
    return (2 if nodes <= 10 else 1) * max(1, 28 // height)


# What drawing loads on the way, whatever the size: fonts, Pillow's and matplotlib's modules.
DRAWING_BASE = 50 * 10**6


def visualize_bytes(stack: DenseStack, method: str, scale: int | None = None,
                    channels: str = "together", **options: Any) -> int:
    """visualize_stack's peak, the largest of its steps: the method's own; then, beside what
    the method returns, its views; a layer's mosaic at its scale; or, with the rows' float32
    copies for arrays.npz, the per-class mosaic or a layer's strips of example images."""
    found = footprint(stack, method, **options)
    height, width = stack.image_shape
    images = stack.n_inputs * sum(found.rows)
    side, side_by_side = max(height, width), channels == "side-by-side"
    mosaics = [mosaic_bytes(count, height, width, scale or default_scale(count, side),
                            title=f"Layer {index}: {count} nodes ({method})",
                            channels=stack.channels, side_by_side=side_by_side)
               for index, count in enumerate(found.rows, start=1) if count]
    extras = []
    if found.maps:
        extras.append(mosaic_bytes(found.maps * stack.widths[-1], height, width, 2,
                                   columns=stack.widths[-1], title="", channels=stack.channels,
                                   side_by_side=side_by_side))
    if found.examples:
        for count in found.rows:
            shown = len(default_nodes(count))
            extras.append(strips_bytes(shown, found.examples, height, width * stack.channels,
                                       strip_columns=2 if shown <= 10 else 4,
                                       scale=strip_scale(shown, height)))
    return DRAWING_BASE + max(found.peak, found.held + max(
        layer_views_bytes(stack, found.rows), images + max(mosaics, default=0),
        5 * images + max(extras, default=0)))


def _work(stack: DenseStack, method: str, scale: int | None, options: dict[str, Any]) -> str:
    """The work as the command line asks for it, for a refusal: the model and the options that
    make it big."""
    asked = [f"--method {method}"] + ([f"--scale {scale}"] if scale else [])
    asked += [f"{option.flag} {options[option.name]}" for option in get_method(method).cli
              if option.grows and option.name in options]
    if options.get("reference") is not None:
        asked.append(f"--reference {len(options['reference'])}")
    sizes = "-".join(str(size) for size in (stack.n_inputs, *stack.widths))
    return f"drawing the {sizes} model with {' '.join(asked)}"


def visualize_stack(stack: DenseStack, out_dir: str | os.PathLike[str], method: str = "linear",
                    normalization: str | None = None, cmap: str | None = None,
                    scale: int | None = None, *, channels: str = "together",
                    class_names: Sequence[str] | None = None, top: int = DEFAULT_TOP,
                    **options: Any) -> Written:
    """Write layer-<k>.png for every computed layer k and arrays.npz into out_dir.

    `options` go to the method (see `mlplens.methods.METHODS[method].options`);
    `class_names` label the output layer's tiles, the classes of nodes.json and the captions
    (None: the class numbers). A colour stack's pictures are drawn in colour
    (`channels="together"`) or as their R, G and B pictures side by side in the colormap
    (`"side-by-side"`); arrays.npz is the same either way. A tabular stack's layers are bar
    charts of their `top` features (the output's titled with `class_names`), with layer-<k>.csv
    beside them.
    """
    if channels not in CHANNELS:
        raise ValueError(f"channels must be one of {', '.join(CHANNELS)}, got {channels!r}")
    out = Path(out_dir)
    normalization = normalization or get_method(method).normalization
    # A tabular node's bars always carry a sign: a diverging map (blue < 0 < red).
    cmap = cmap or default_cmap("symmetric" if stack.is_tabular else normalization)
    colormap_lut(cmap)  # an unknown colormap fails before any work
    require(visualize_bytes(stack, method, scale, channels, **options),
            _work(stack, method, scale, options))
    with np.errstate(over="ignore", invalid="ignore"):  # layer_views refuses overflowed rows
        projection = project(stack, method, **options)
    if stack.is_tabular:
        return _tabular_outputs(stack, projection, out, cmap, class_names or (), top)
    views = layer_views(stack, method, normalization, projection=projection)
    outputs = []
    for view in views:
        layer_scale = scale or default_scale(len(view.raw), max(stack.image_shape))
        names = output_names(stack, class_names) if (
            class_names is not None and view.index == len(stack.layers)) else None
        outputs.append(Output("layer", view.index, save_png(
            render_view(view, cmap, layer_scale, class_names=names, channels=channels),
            out / f"layer-{view.index}.png")))
    arrays: dict[str, np.ndarray] = {}
    for view in views:
        arrays[f"raw_{view.index}"] = view.raw.astype(np.float32)
        arrays[f"image_{view.index}"] = view.images
    sink = Sink(stack, projection, out, cmap, channels, class_names, arrays,
                options.get("reference"))
    extras = _further_outputs(sink)
    outputs.append(Output("arrays", None, save_npz(out / "arrays.npz", arrays)))
    constant = {view.index: view.constant_rows.tolist() for view in views if view.constant_rows.size}
    return Written(tuple(outputs + extras), constant, projection)


@dataclass(frozen=True)
class Sink:
    """Where a method's further results go: its folder and the arrays of arrays.npz, with what
    drawing them needs (`pictures` False for a tabular stack, whose results keep only their
    arrays and numbers)."""

    stack: DenseStack
    projection: Projection
    out: Path
    cmap: str
    channels: str
    class_names: Sequence[str] | None
    arrays: dict[str, np.ndarray]
    reference: np.ndarray | None

    @property
    def pictures(self) -> bool:
        return not self.stack.is_tabular


def _fidelity_outputs(found: Fidelity, sink: Sink) -> list[Output]:
    from ..render.charts import fidelity_figure

    outputs = []
    stack, linear = sink.stack, linear_rows(sink.stack)
    for index, (scores, rows) in enumerate(zip(found.scores, sink.projection.layers), start=1):
        sink.arrays[f"fidelity_{index}"] = scores
        if index == 1 or not sink.pictures:
            continue  # the first layer's gradient is W1 itself: fidelity 1 everywhere
        shape = (len(rows), *stack.picture_shape)
        figure = fidelity_figure(
            scores, normalize(linear[index - 1], "symmetric").pixels.reshape(shape),
            normalize(rows, "symmetric").pixels.reshape(shape),
            f"Layer {index}: how faithful is the article's picture? "
            f"(reference: {found.reference_size} test images)", sink.cmap)
        outputs.append(Output("fidelity", index,
                              save_figure(figure, sink.out / f"fidelity-{index}.png")))
    return outputs


def _per_class_outputs(found: PerClassMaps, sink: Sink) -> list[Output]:
    """found.maps: (classes, nodes, H*W*C), the output maps on the images of each class."""
    per_class, stack = found.maps, sink.stack
    sink.arrays["per_class"] = per_class
    if not sink.pictures:
        return []
    classes, nodes = per_class.shape[:2]
    names = class_names_for(sink.class_names, max(classes, nodes))
    outputs = output_names(stack, names)
    pixels = normalize(per_class.reshape(classes * nodes, -1), "symmetric").pixels
    side_by_side = stack.channels > 1 and sink.channels == "side-by-side"
    meaning = ("-max |value| of map", "0", "+max |value| of map")
    legend = Legend(*meaning) if stack.channels == 1 else Legend(
        *meaning, *colour_key("symmetric", side_by_side))
    picture = node_mosaic(pixels.reshape(-1, *stack.picture_shape), colormap_lut(sink.cmap),
                          labels=[f"{names[c]}: {outputs[j]}" for c in range(classes)
                                  for j in range(nodes)],
                          columns=nodes, scale=2,
                          title="Output nodes (columns) on the images of each class (rows)",
                          legend=legend, side_by_side=side_by_side,
                          fit_labels=sink.class_names is not None)
    return [Output("per-class", len(stack.layers),
                   save_png(picture, sink.out / "per-class.png"))]


def _reached_outputs(found: Reached, sink: Sink) -> list[Output]:
    """A method that drew chosen nodes: which nodes, and the activation each picture reached."""
    for index, (nodes, reached) in enumerate(zip(sink.projection.nodes, found.activations),
                                             start=1):
        if reached.size:
            sink.arrays[f"nodes_{index}"] = np.asarray(nodes)
            sink.arrays[f"activation_{index}"] = reached
    return []


def _rounded(value: Any) -> float:
    return round(float(value), 6)


# The per-node numbers written to nodes.json and nodes.csv, named as NodeStatistics names them.
NODE_FIELDS = {"firing_fraction": _rounded, "dead": bool, "preferred_class": int,
               "selectivity": _rounded, "mean_activation": _rounded, "max_activation": _rounded}


def node_records(found: Sequence[NodeStatistics], class_names: Sequence[str] | None = None
                 ) -> list[dict[str, Any]]:
    """One record per node: what nodes.json holds (nodes.csv flattens its `class_means`). After
    the numbers of NODE_FIELDS, the preferred class's name and the mean activation over each
    class's images, by class name."""
    records = []
    for layer in found:
        names = class_names_for(class_names, len(layer.class_means))
        for node in range(len(layer.firing_fraction)):
            record: dict[str, Any] = {"layer": layer.layer, "node": node}
            for name, convert in NODE_FIELDS.items():
                record[name] = convert(getattr(layer, name)[node])
            record["preferred_class_name"] = names[int(layer.preferred_class[node])]
            record["class_means"] = {name: _rounded(mean)
                                     for name, mean in zip(names, layer.class_means[:, node])}
            records.append(record)
    return records


def _node_statistics_outputs(found: NodeStatisticsFound, sink: Sink) -> list[Output]:
    """The strips of each layer's top reference images (pictures only), then nodes.json and
    nodes.csv: the one place they are written."""
    names = class_names_for(sink.class_names, len(found.layers[0].class_means))
    outputs = []
    for layer in found.layers:
        sink.arrays[f"examples_{layer.layer}"] = layer.top_indices
    if sink.pictures:
        if sink.reference is None:
            raise ValueError("drawing the example strips needs the reference images")
        images = as_pixels(sink.reference)
        outputs += [Output("examples", layer.layer, save_png(
            _example_strips(layer, images, names), sink.out / f"examples-{layer.layer}.png"))
                    for layer in found.layers]
    records = node_records(found.layers, names)
    outputs.append(Output("nodes", None, write_json(sink.out / "nodes.json", {
        "reference_size": found.reference_size, "class_names": list(names), "nodes": records},
        indent=1)))
    outputs.append(Output("nodes-csv", None, _write_csv(sink.out / "nodes.csv", _flat(records))))
    return outputs


def _example_strips(layer: NodeStatistics, images: np.ndarray, names: Sequence[str]):
    shown = default_nodes(len(layer.top_indices))
    captions = [f"{node}: fires {layer.firing_fraction[node]:.0%}, class "
                f"{names[layer.preferred_class[node]]}" + (" (dead)" if layer.dead[node] else "")
                for node in shown]
    return example_strips(
        images[layer.top_indices[shown]], captions, colormap_lut("gray"),
        strip_columns=2 if len(shown) <= 10 else 4,
        scale=strip_scale(len(shown), images.shape[1]),
        title=f"Layer {layer.layer}: the {layer.top_indices.shape[1]} reference images that "
              f"excite each node most" + ("" if len(shown) == len(layer.top_indices)
                                          else f" (nodes 0-{len(shown) - 1})"))


# What each further result of a method becomes on disk, in the order they are written: a
# method returning one of these types needs nothing more here; a new type adds its row.
Writer = Callable[[Any, Sink], list[Output]]
WRITERS: tuple[tuple[type[Extra], Writer], ...] = (
    (Fidelity, _fidelity_outputs),
    (PerClassMaps, _per_class_outputs),
    (Reached, _reached_outputs),
    (NodeStatisticsFound, _node_statistics_outputs),
)


def _further_outputs(sink: Sink) -> list[Output]:
    outputs = []
    for kind, write in WRITERS:
        found = sink.projection.extra(kind)
        if found is not None:
            outputs += write(found, sink)
    unwritten = [type(found).__name__ for found in sink.projection.extras
                 if not any(isinstance(found, kind) for kind, _ in WRITERS)]
    if unwritten:
        raise TypeError(f"no writer for {', '.join(unwritten)} (figures.layers.WRITERS)")
    return outputs


def _flat(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """nodes.json's records as CSV rows: one `class_mean:<name>` column per class."""
    return [{**{key: value for key, value in record.items() if key != "class_means"},
             **{f"class_mean:{name}": mean for name, mean in record["class_means"].items()}}
            for record in records]


# A tabular layer's PNG draws at most this many nodes' charts (layer-<k>.csv has them all).
MAX_CHARTS = 64


def _tabular_outputs(stack: DenseStack, projection: Projection, out: Path, cmap: str,
                     class_names: Sequence[str], top: int) -> Written:
    """layer-<k>.png (a bar chart per node), layer-<k>.csv, nodes.json/csv when the method found
    node statistics, and arrays.npz with the raw rows, the sorted order and values."""
    from ..render.bars import bar_grid

    outputs = []
    arrays: dict[str, np.ndarray] = {"feature_names": np.array(stack.input_names, dtype=str)}
    found = layer_bars(stack, projection,
                       output_names(stack, class_names) if class_names else (), top)
    for bars, raw in zip(found, (rows for rows in projection.layers if len(rows))):
        drawn = min(len(bars.nodes), MAX_CHARTS)
        note = "" if drawn == len(bars.nodes) else \
            f"the first {drawn} nodes drawn; all {len(bars.nodes)} in layer-{bars.index}.csv"
        figure = bar_grid(bars.labels[:drawn], [bars.names(row) for row in range(drawn)],
                          bars.values[:drawn, :bars.shown], bars.shades()[:drawn], bars.more,
                          bars.title, cmap, note)
        outputs.append(Output("layer", bars.index,
                              save_figure(figure, out / f"layer-{bars.index}.png")))
        outputs.append(Output("layer-csv", bars.index,
                              _write_csv(out / f"layer-{bars.index}.csv", bars.records())))
        arrays[f"raw_{bars.index}"] = np.asarray(raw, dtype=np.float32)
        arrays[f"order_{bars.index}"] = bars.order
        arrays[f"sorted_{bars.index}"] = bars.values
        arrays[f"nodes_{bars.index}"] = bars.nodes
    sink = Sink(stack, projection, out, cmap, "together", class_names, arrays, None)
    extras = _further_outputs(sink)
    outputs.append(Output("arrays", None, save_npz(out / "arrays.npz", arrays)))
    return Written(tuple(outputs + extras), {}, projection)


def _write_csv(path: Path, records: list[dict[str, Any]]) -> Path:
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return write_text(path, table.getvalue())
