"""The network as a diagram, and the circuit of one input, written as PNG, SVG and JSON
(`mlplens diagram`, and the first figures of `reproduce`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..core.circuits.circuit import Circuit, attribute, prune
from ..core.heads import label_name, output_names, verdict
from ..layout.diagram import DiagramSpec, circuit_diagram, place, weights_diagram
from ..core.normalization import normalize
from ..core.pixel_scale import as_pixels
from ..core.projection import linear_rows
from ..core.stack import DenseStack
from ..memory import require
from ..output import save_png, write_json, write_text
from ..render.diagram import coloured, draw_diagram, drawing_bytes
from ..render.diagram_svg import diagram_svg

NODE_MAP = "RdBu_r"


def _thumbnails(stack: DenseStack, spec: DiagramSpec) -> list[np.ndarray]:
    """Each shown node's linear picture on its own signed scale, coloured (a colour stack's
    pictures as they are: each channel's value, mid-grey 0)."""
    rows = linear_rows(stack)
    return [coloured(normalize(rows[k][column.nodes], "symmetric").pixels
                     .reshape(-1, *stack.picture_shape), NODE_MAP)
            for k, column in enumerate(spec.columns)]


def _write(stack: DenseStack, spec: DiagramSpec, inputs: list[np.ndarray], folder: Path,
           stem: str, width: int) -> list[Path]:
    layout = place(spec, width, two_inputs=len(inputs) > 1)
    require(drawing_bytes(layout.width, layout.height),
            f"drawing the {layout.width}x{layout.height} pixel {stem} (--width, --nodes)")
    thumbnails = _thumbnails(stack, spec)
    return [save_png(draw_diagram(spec, layout, thumbnails, inputs), folder / f"{stem}.png"),
            write_text(folder / f"{stem}.svg", diagram_svg(spec, layout, thumbnails, inputs))]


def write_diagram(stack: DenseStack, out: str | os.PathLike[str], width: int = 1600,
                  max_nodes: int = 16, top_k: int = 3, stem: str = "diagram") -> list[Path]:
    """The network itself: diagram.png and diagram.svg."""
    height, side = stack.image_shape
    grid = np.where(np.add.outer(np.arange(height), np.arange(side)) % 2 == 0, 236, 250)
    blank = coloured(grid.astype(np.uint8)[None], "gray")[0]
    return _write(stack, weights_diagram(stack, max_nodes, top_k), [blank], Path(out), stem,
                  width)


def write_circuit(stack: DenseStack, image: np.ndarray, out: str | os.PathLike[str],
                  keep: float = 0.9, label: int | None = None, source: str = "",
                  width: int = 1600, max_nodes: int = 16, top_k: int = 3,
                  stem: str = "circuit", class_names: Sequence[str] | None = None
                  ) -> tuple[list[Path], Circuit]:
    """One input's circuit: <stem>.png, <stem>.svg and <stem>.json. `image` is brightness, uint8
    or floats in [0, 1], (H, W) or (H, W, C); classes are called by `class_names` (None: their
    numbers)."""
    values, image = _circuit_input(stack, image)
    circuit = prune(attribute(stack, values), keep)
    spec = circuit_diagram(stack, circuit, max_nodes, top_k, label, class_names)
    rows, columns = stack.image_shape
    # What each pixel adds, its channels together.
    pixels = circuit.attribution.pixels.reshape(rows, columns, -1).sum(axis=2).reshape(1, -1)
    shown = image if image.ndim == 3 else coloured(image[None], "gray")[0]
    inputs = [shown, coloured(normalize(pixels, "symmetric").pixels.reshape(1, rows, columns),
                              NODE_MAP)[0]]
    folder = Path(out)
    written = _write(stack, spec, inputs, folder, stem, width)
    written.append(write_json(folder / f"{stem}.json",
                              circuit_record(stack, circuit, label, source, class_names),
                              indent=None))
    return written, circuit


def _circuit_input(stack: DenseStack, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The input as the network takes it, in float64 for the exact decomposition (the stack's
    pixel scale applied to the brightness: uint8 v / 255, or the data's own floats), and the
    image as uint8 pixels to draw."""
    image = np.asarray(image).reshape(stack.picture_shape)
    values = image.astype(np.float64) / 255 if image.dtype == np.uint8 else image.astype(np.float64)
    return stack.pixel_scale.scaled(values, in_place=True), as_pixels(image)


def circuit_record(stack: DenseStack, circuit: Circuit, label: int | None,
                   source: str, class_names: Sequence[str] | None = None) -> dict:
    """circuit.json: the logit and its exact decomposition, the kept nodes and edges; the
    classes by number and by name."""
    attribution = circuit.attribution
    names = output_names(stack, class_names)
    count = len(stack.layers)
    biases = [float(attribution.biases(k, stack).sum()) for k in range(1, count + 1)]
    error = attribution.conservation_error(stack)
    layers, nodes, edges = [], [], []
    for layer in range(1, count + 1):
        entry = {"layer": layer, "units": stack.widths[layer - 1],
                 "activation": stack.layers[layer - 1].activation,
                 "bias_contribution": biases[layer - 1],
                 "edge_share_kept": circuit.edge_shares[layer - 1]}
        if layer < count:
            values = attribution.nodes(layer)
            kept = circuit.nodes[layer - 1]
            entry.update(kept_nodes=len(kept), node_share_kept=circuit.node_shares[layer - 1],
                         total_contribution=float(values.sum()))
            nodes += [{"layer": layer, "node": int(n),
                       "activation": float(attribution.activations[layer][n]),
                       "contribution": float(values[n])} for n in kept]
        layers.append(entry)
        pairs, values = circuit.edges[layer - 1], circuit.edge_values[layer - 1]
        from_input = pairs[:, 0] < 0
        weights = stack.kernels[layer - 1][np.maximum(pairs[:, 0], 0), pairs[:, 1]]
        edges += [{"layer": layer, "source": "input" if inp else s, "target": t,
                   "weight": None if inp else w, "contribution": v}
                  for (s, t), inp, w, v in zip(pairs.tolist(), from_input.tolist(),
                                               weights.astype(np.float64).tolist(),
                                               values.tolist())]
    decomposition = {"pixels": float(attribution.pixels.sum()), "biases": biases,
                     "conservation_error": error,
                     "relative_error": error / max(abs(attribution.logit), 1e-12)}
    meaning = "pixels plus biases add up to the logit"
    if attribution.node_offsets:  # a net linearised at this input (not ReLU alone)
        offsets = [float(attribution.offsets(k).sum()) for k in range(1, count)]
        decomposition["offsets"] = offsets
        for entry, offset in zip(layers, offsets):
            entry["offset_contribution"] = offset
        meaning = ("in the net linearised at this input (each activation frozen to its gate, "
                   "each LayerNorm to its scale), pixels plus biases plus offsets (activations' "
                   "a(0) and LayerNorm offsets) add up to the logit")
    predicted, said = verdict(stack, attribution.logits, class_names)
    return {
        "source": source, "label": label, "predicted": predicted,
        "logit": attribution.logit, "logits": [float(v) for v in attribution.logits],
        "keep": circuit.keep, "class_names": list(names),
        "label_name": None if label is None else label_name(stack, class_names, label),
        "predicted_name": said,
        "decomposition": decomposition,
        "meaning": "contribution = activation x d logit/d activation (nodes), "
                   "a_i w_ij d logit/d z_j (edges; 'input' sums a first-layer node's pixels); "
                   + meaning,
        "layers": layers, "nodes": nodes, "edges": edges,
        "pixels": np.round(attribution.pixels.reshape(stack.picture_shape), 6).tolist(),
    }
