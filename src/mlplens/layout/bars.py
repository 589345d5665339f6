"""A tabular node's "picture": its values over the named input features, largest |value| first.

An image model's node is drawn as an H x W picture; a model whose inputs are a table's columns
has no picture, only one value per feature (a weight product, a mean gradient, a mean row). This
module decides which features a chart shows, in what order, with which values and colour
positions; `render.bars` only draws them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.projection import Projection
from ..core.stack import DenseStack
from ..errors import UnsuitableModel
from .views import MAX_DRAWABLE

# Bars per node chart: enough to see what a node weighs, few enough to read the names.
DEFAULT_TOP = 12


@dataclass(frozen=True)
class LayerBars:
    """One layer's nodes as bar charts: every feature per node, sorted by |value|, largest first
    (ties keep the features' order)."""

    index: int  # 1 = first Dense layer
    method: str
    title: str
    feature_names: tuple[str, ...]
    nodes: np.ndarray  # which node each row is
    labels: tuple[str, ...]  # each node's chart title
    order: np.ndarray  # intp (nodes, F): feature indices, largest |value| first
    values: np.ndarray  # float32 (nodes, F): the node's values in that order
    top: int  # bars drawn per chart

    @property
    def shown(self) -> int:
        return min(self.top, len(self.feature_names))

    @property
    def more(self) -> int:
        """Features left out of each chart (its "+M more" note)."""
        return len(self.feature_names) - self.shown

    def names(self, row: int) -> tuple[str, ...]:
        """The names of the features one chart draws, largest |value| first."""
        return tuple(self.feature_names[i] for i in self.order[row, :self.shown])

    def shades(self) -> np.ndarray:
        """Where each drawn bar sits on a diverging colour scale, in [0, 1]: 0.5 is zero, 1 the
        node's largest positive |value|, 0 its largest negative; (nodes, shown)."""
        drawn = self.values[:, :self.shown].astype(np.float64)
        largest = np.abs(self.values).max(axis=1, keepdims=True).astype(np.float64)
        largest[largest == 0] = 1.0
        return 0.5 + 0.5 * drawn / largest

    def records(self) -> list[dict[str, Any]]:
        """One record per node and feature, in chart order: what layer-<k>.csv holds."""
        return [{"layer": self.index, "node": int(node), "label": label, "rank": rank + 1,
                 "feature": self.feature_names[int(self.order[row, rank])],
                 "value": float(self.values[row, rank])}
                for row, (node, label) in enumerate(zip(self.nodes, self.labels))
                for rank in range(len(self.feature_names))]


def sorted_by_magnitude(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's feature indices by |value|, largest first (a stable sort: ties keep the
    features' order), and the values in that order."""
    order = np.argsort(-np.abs(rows), axis=1, kind="stable")
    return order, np.take_along_axis(rows, order, axis=1)


def layer_bars(stack: DenseStack, projection: Projection, class_names: Sequence[str] = (),
               top: int = DEFAULT_TOP) -> list[LayerBars]:
    """Every computed layer of a tabular stack's projection as bar charts, first layer first;
    the output layer's charts are titled with the class names when there are any."""
    if not stack.is_tabular:
        raise UnsuitableModel("bar charts of features need a tabular model (feature names)")
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    count = len(stack.layers)
    found = []
    for index, (raw, nodes) in enumerate(zip(projection.layers, projection.nodes), start=1):
        if len(raw) == 0:
            continue
        largest = float(np.abs(raw).max())
        if not largest < MAX_DRAWABLE:
            raise UnsuitableModel(f"layer {index}: its {projection.method} values overflow "
                                  f"float32 (|values| up to {largest:.3g})")
        order, values = sorted_by_magnitude(np.asarray(raw, dtype=np.float32))
        units = stack.widths[index - 1]
        output = index == count
        labels = tuple(_label(int(node), class_names if output else ()) for node in nodes)
        shown = min(top, stack.n_inputs)
        what = (f"top {shown} of {stack.n_inputs} features by |value|" if shown < stack.n_inputs
                else f"{stack.n_inputs} features by |value|")
        name = f"Output layer: {units} nodes, one per class" if output else \
            f"Layer {index}: {units} nodes"
        subset = "" if len(nodes) == units else f", {len(nodes)} shown"
        found.append(LayerBars(index, projection.method,
                               f"{name}{subset} ({projection.method}; {what})",
                               stack.input_names, np.asarray(nodes), labels, order, values, top))
    return found


def _label(node: int, class_names: Sequence[str]) -> str:
    if node < len(class_names):
        return f"{node}: {class_names[node]}"
    return f"node {node}"
