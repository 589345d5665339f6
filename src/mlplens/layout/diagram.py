"""What a network diagram shows and where: the selections and the geometry, in pure NumPy.

A dense layer of 512 nodes joined to 256 by 131,072 edges is a hairball at any size, so the
diagram shows the `max_nodes` most important nodes of each wide layer (a "+N more" band says how
many are left out) and, for every node shown, only its `top_k` strongest edges in and out. The
renderers (`render.diagram`, `render.diagram_svg`) receive a `Layout` and only draw it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..core.circuits.circuit import Circuit
from ..core.circuits.importance import weight_score
from ..core.heads import label_name, output_names, verdict
from ..core.stack import DenseStack


@dataclass(frozen=True)
class Column:
    """One layer as drawn: which nodes, top to bottom, and what each is labelled."""

    title: str
    nodes: np.ndarray  # node indices shown, top to bottom
    labels: tuple[str, ...]  # one short label per node shown
    tooltips: tuple[str, ...]  # one longer description per node shown (SVG <title>)
    more: str  # the band under the nodes, e.g. "+496 more (weight score)"; "" if none
    highlight: int = -1  # position of a node to mark (the predicted class), -1 for none


@dataclass(frozen=True)
class Edge:
    """An edge between positions of two neighbouring columns; `column` is the column it enters
    (1 = first Dense layer) and source -1 the input image."""

    column: int
    source: int
    target: int
    value: float  # a weight, or a contribution; NaN for the input's plain connectors


@dataclass(frozen=True)
class DiagramSpec:
    """Everything a diagram says, before it has a geometry."""

    title: str
    subtitle: str
    input_title: str
    input_captions: tuple[str, ...]  # one under each input picture
    columns: tuple[Column, ...]
    edges: tuple[Edge, ...]
    edge_meaning: str  # what edge colour and width stand for, for the legend
    # Per column entered (0 = into the first Dense layer): the |value| drawn darkest and widest.
    # Each gap has its own, since 131,072 edges share what 512 do in another.
    edge_scales: tuple[float, ...]
    # How the node pictures are coloured, for the legend (a colour net's: each channel's value).
    node_colours: str = "each on its own signed scale: red > 0 > blue"

    def scale_of(self, edge: Edge) -> float:
        return self.edge_scales[edge.column - 1]


def _scales(edges: list[Edge], columns: int) -> tuple[float, ...]:
    largest = [0.0] * columns
    for edge in edges:
        if not np.isnan(edge.value):
            largest[edge.column - 1] = max(largest[edge.column - 1], abs(edge.value))
    return tuple(value or 1.0 for value in largest)


def _strongest_edges(matrix: np.ndarray, top_k: int) -> list[tuple[int, int]]:
    """Positions (i, j) of each row's and each column's `top_k` largest |entries|, once each."""
    magnitude = np.abs(matrix)
    chosen: set[tuple[int, int]] = set()
    k_rows = min(top_k, matrix.shape[1])
    k_cols = min(top_k, matrix.shape[0])
    for i, row in enumerate(magnitude):
        chosen.update((i, int(j)) for j in np.argsort(-row, kind="stable")[:k_rows] if row[j] > 0)
    for j, column in enumerate(magnitude.T):
        chosen.update((int(i), j) for i in np.argsort(-column, kind="stable")[:k_cols]
                      if column[i] > 0)
    return sorted(chosen)


def _layer_title(stack: DenseStack, layer: int) -> str:
    units, activation = stack.widths[layer - 1], stack.layers[layer - 1].describe()
    name = "Output" if layer == len(stack.layers) else f"Layer {layer}"
    return f"{name}: {units} {activation}"


def node_colours(stack: DenseStack) -> str:
    """What the colours of the diagram's node pictures mean."""
    if stack.channels > 1:
        return "each on its own signed scale, each channel's value: mid-grey is 0"
    return DiagramSpec.node_colours


def weights_diagram(stack: DenseStack, max_nodes: int = 16, top_k: int = 3) -> DiagramSpec:
    """The network itself: per hidden layer its `max_nodes` nodes of highest weight score
    (|incoming| x |outgoing| weights, `importance.weight_score`), all output nodes, and per node
    its `top_k` largest-|weight| edges to the nodes shown beside it."""
    count = len(stack.layers)
    columns, shown = [], []
    for layer in range(1, count + 1):
        units = stack.widths[layer - 1]
        if layer < count and units > max_nodes:
            score = weight_score(stack, layer)
            nodes = np.argsort(-score, kind="stable")[:max_nodes]
            more = f"+{units - max_nodes} more (by weight score)"
        else:
            nodes, more = np.arange(units), ""
        kernel = stack.kernels[layer - 1]
        tooltips = tuple(
            f"{_layer_title(stack, layer)}, node {int(n)}: bias {stack.biases[layer - 1][n]:+.3f}, "
            f"incoming |w| {np.linalg.norm(kernel[:, n]):.2f}" for n in nodes)
        columns.append(Column(_layer_title(stack, layer), nodes,
                              tuple(str(int(n)) for n in nodes), tooltips, more))
        shown.append(nodes)
    edges = [Edge(1, -1, position, float("nan")) for position in range(len(shown[0]))]
    for layer in range(2, count + 1):
        matrix = stack.kernels[layer - 1][np.ix_(shown[layer - 2], shown[layer - 1])]
        edges += [Edge(layer, i, j, float(matrix[i, j]))
                  for i, j in _strongest_edges(matrix, top_k)]
    colour = stack.channels > 1
    sign = "each channel's value, mid-grey 0" if colour else "red > 0 > blue"
    kind, values = ("colour ", "values (3 per pixel)") if colour else ("", "pixels")
    return DiagramSpec(
        title=f"The network {stack.describe()}",
        subtitle=f"Each node drawn as its linear picture (W1·…·Wk, {sign}); "
                 f"wide layers show their {max_nodes} nodes of largest weight score "
                 f"(|incoming| x |outgoing| weights), each node its {top_k} strongest edges",
        input_title=f"Input: {stack.image_shape[0]}x{stack.image_shape[1]} {kind}pixels",
        input_captions=(f"{stack.n_inputs} {values}, each to every layer-1 node",),
        columns=tuple(columns), edges=tuple(edges), edge_meaning="weight",
        edge_scales=_scales(edges, count), node_colours=node_colours(stack))


def circuit_diagram(stack: DenseStack, circuit: Circuit, max_nodes: int = 16,
                    top_k: int = 3, label: int | None = None,
                    class_names: Sequence[str] | None = None) -> DiagramSpec:
    """One input's circuit: per hidden layer up to `max_nodes` of its kept nodes (largest
    |contribution| first, then drawn from most positive to most negative), the output layer
    whole, and the circuit's edges between shown nodes, each node's `top_k` strongest. Classes
    are called by `class_names` (None: their numbers)."""
    attribution = circuit.attribution
    count = len(stack.layers)
    names = output_names(stack, class_names)
    target = names[attribution.target]
    columns, shown = [], []
    for layer in range(1, count):
        values = attribution.nodes(layer)
        kept = circuit.nodes[layer - 1]
        nodes = kept[:max_nodes]
        nodes = nodes[np.argsort(-values[nodes], kind="stable")]
        units = stack.widths[layer - 1]
        parts = []
        if len(kept) > len(nodes):
            parts.append(f"+{len(kept) - len(nodes)} more in the circuit")
        if units > len(kept):
            parts.append(f"{units - len(kept)} outside it")
        columns.append(Column(
            _layer_title(stack, layer), nodes,
            tuple(f"{int(n)}: {values[n]:+.2f}" for n in nodes),
            tuple(f"{_layer_title(stack, layer)}, node {int(n)}: activation "
                  f"{attribution.activations[layer][n]:.3f}, contribution {values[n]:+.3f}"
                  for n in nodes),
            " · ".join(parts)))
        shown.append(nodes)
    outputs = np.arange(stack.widths[-1])
    columns.append(Column(
        "Output: logits", outputs,
        tuple(f"{names[n]}: {attribution.logits[n]:+.1f}" for n in outputs),
        tuple(f"class {names[n]}: logit {attribution.logits[n]:+.3f}" for n in outputs),
        "", highlight=attribution.target))
    shown.append(outputs)
    edges: list[Edge] = []
    for layer, (pairs, values) in enumerate(zip(circuit.edges, circuit.edge_values), start=1):
        sources = {int(n): p for p, n in enumerate(shown[layer - 2])} if layer > 1 else {-1: -1}
        targets = {int(n): p for p, n in enumerate(shown[layer - 1])}
        visible = [(sources[int(s)], targets[int(t)], float(v)) for (s, t), v in
                   zip(pairs, values) if int(s) in sources and int(t) in targets]
        if layer == 1:
            edges += [Edge(1, -1, t, v) for _, t, v in visible]
            continue
        matrix = np.zeros((len(shown[layer - 2]), len(shown[layer - 1])))
        for s, t, v in visible:
            matrix[s, t] = v
        edges += [Edge(layer, i, j, float(matrix[i, j]))
                  for i, j in _strongest_edges(matrix, top_k)]
    truth = "" if label is None else f" (true label {label_name(stack, class_names, label)})"
    says = verdict(stack, attribution.logits, class_names)[1]
    pixels = attribution.pixels.sum()
    return DiagramSpec(
        title=f"Why the net says {says}{truth}: its logit {attribution.logit:.2f} = "
              f"{pixels:+.2f} from the pixels {attribution.logit - pixels:+.2f} from the biases",
        subtitle=f"Nodes and edges keeping {circuit.keep:.0%} of each layer's |contribution| "
                 f"to the logit of {target} (activation x d logit/d activation; red pushes "
                 f"towards {target}, blue against); up to {max_nodes} nodes a layer and each "
                 f"node's {top_k} strongest edges drawn",
        input_title="Input",
        input_captions=("the image", f"what each pixel (its 3 channels) adds to {target}")
        if stack.channels > 1 else ("the digit", f"what each pixel adds to {target}"),
        columns=tuple(columns), edges=tuple(edges),
        edge_meaning=f"contribution to logit {target}", edge_scales=_scales(edges, count),
        node_colours=node_colours(stack))


@dataclass(frozen=True)
class Layout:
    """Pixel geometry for a DiagramSpec (at scale 1; renderers may draw larger and shrink)."""

    width: int
    height: int
    node: int  # side of a node's thumbnail
    input_box: tuple[int, int, int]  # x, y, side of the input image
    second_input: tuple[int, int, int] | None  # the pixel contributions, below the input
    columns_x: tuple[int, ...]  # left edge of each column's thumbnails
    node_y: tuple[np.ndarray, ...]  # top of each shown node's thumbnail, per column
    band_y: tuple[int, ...]  # where each column's "+N more" band starts
    title_y: int  # where the column titles sit
    legend: tuple[int, int, int, int]  # x, y, width, height of the edge legend

    def edge_ends(self, edge: Edge) -> tuple[float, float, float, float]:
        """Start (right edge of the source, middle) and end (left edge of the target)."""
        if edge.source < 0:
            x, y, side = self.input_box
            start = (x + side, y + side / 2)
        else:
            column = edge.column - 2
            start = (self.columns_x[column] + self.node,
                     self.node_y[column][edge.source] + self.node / 2)
        column = edge.column - 1
        end = (self.columns_x[column], self.node_y[column][edge.target] + self.node / 2)
        return (*start, *end)


HEADER = 70  # title and subtitle
COLUMN_TITLE = 22
LABEL = 14  # a node's label under its thumbnail
GAP = 6
BAND = 24
LEGEND = 56


def place(spec: DiagramSpec, width: int = 1600, node: int = 44,
          two_inputs: bool = False) -> Layout:
    """Columns spread evenly left to right, the input first; nodes stacked and centred."""
    margin = 24
    input_side = min(168, max(84, width // 10))
    row = node + LABEL + GAP
    tallest = max(len(column.nodes) for column in spec.columns)
    body = max(tallest * row + BAND, (2 if two_inputs else 1) * (input_side + LABEL + GAP))
    top = HEADER + COLUMN_TITLE
    height = top + body + LEGEND + margin
    first = margin + input_side
    label_room = 130  # the last column's title and labels reach right of its thumbnails
    step = (width - margin - label_room - first - node) / len(spec.columns)
    columns_x = tuple(int(first + step * (k + 1)) for k in range(len(spec.columns)))
    node_y, band_y = [], []
    for column in spec.columns:
        stack_height = len(column.nodes) * row + (BAND if column.more else 0)
        start = top + (body - stack_height) // 2
        node_y.append(start + row * np.arange(len(column.nodes)))
        band_y.append(start + len(column.nodes) * row)
    middle = top + body // 2
    if two_inputs:
        input_y = middle - input_side - (LABEL + GAP) // 2
        second = (margin, middle + (LABEL + GAP) // 2 + LABEL, input_side)
    else:
        input_y, second = middle - input_side // 2, None
    return Layout(width, height, node, (margin, input_y, input_side), second, columns_x,
                  tuple(node_y), tuple(band_y), HEADER, (margin, top + body + 12,
                                                         width - 2 * margin, LEGEND - 12))
