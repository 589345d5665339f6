"""Per-node statistics on real images, in one streaming pass: how often each node fires, how
strongly, for which class, and (optionally) which images excite it most.

The examples method, nodes.json / nodes.csv and the explorer's node cards all read these numbers
under these names. Everything streams over the reference set in batches, keeping only running
sums and a running top-k.

A node's *activation* is what it passes on: ReLU(z) (or its other activation) for a hidden node,
the class probability for an output node; images are *ranked* by the pre-activation z (or, after a
LayerNorm that comes before the activation, by what the activation takes), which orders them the
same way wherever the node fires.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .forward import activation_input, as_inputs, batches, layer_output, pre_activations
from .stack import DenseStack


@dataclass(frozen=True)
class NodeStatistics:
    """One layer's nodes (n of them) on a reference set of images of C classes."""

    layer: int
    top_indices: np.ndarray  # int (n, k): reference images, strongest first (k may be 0)
    top_values: np.ndarray  # float32 (n, k): their pre-activations
    firing_fraction: np.ndarray  # (n,) share of images with z > 0
    mean_activation: np.ndarray  # (n,)
    max_activation: np.ndarray  # (n,)
    class_means: np.ndarray  # (classes, n) mean activation over each class's images
    preferred_class: np.ndarray  # (n,) the class that drives the node most
    selectivity: np.ndarray  # (n,) (preferred - mean of others) / (preferred + mean of others)
    # The 99th percentile of |activation| over the layer's nodes and images (the explorer's
    # colour scale), when asked for: it needs every activation, so it costs memory.
    colour_scale: float | None = None

    @property
    def dead(self) -> np.ndarray:
        """Nodes that never fire on the reference set."""
        return self.firing_fraction == 0


def _merge_top(values: np.ndarray, indices: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Keep the k largest per row, sorted descending; ties go to the earlier image."""
    order = np.lexsort((indices, -values), axis=1)[:, :k]
    return np.take_along_axis(values, order, 1), np.take_along_axis(indices, order, 1)


class RunningStatistics:
    """One layer's running sums and top-k over a stream of batches: what `node_statistics`
    keeps per layer, and what anything else with per-image values per unit (a sparse
    dictionary's features) can keep the same way, so the numbers mean the same."""

    def __init__(self, width: int, classes: int, top_k: int, colour_scale: bool = False) -> None:
        self.classes, self.top_k, self.keep_magnitudes = classes, top_k, colour_scale
        self.best_values = np.full((width, 0), -np.inf, np.float32)
        self.best_indices = np.zeros((width, 0), np.int64)
        self.fired = np.zeros(width)
        self.sums = np.zeros((classes, width))
        self.maxima = np.full(width, -np.inf)
        self.magnitudes: list[np.ndarray] = []

    def add(self, z: np.ndarray, act: np.ndarray, labels: np.ndarray, part: slice) -> None:
        """One batch: `z` ranks images and says whether a unit fires (z > 0); `act` is what
        it passes on; images part.start..part.stop of the stream."""
        if self.top_k:
            index = np.arange(part.start, part.stop)
            values = np.concatenate([self.best_values, z.T], axis=1)
            indices = np.concatenate([self.best_indices,
                                      np.broadcast_to(index, (z.shape[1], index.size))], axis=1)
            self.best_values, self.best_indices = _merge_top(values, indices, self.top_k)
        self.fired += (z > 0).sum(axis=0)
        self.maxima = np.maximum(self.maxima, act.max(axis=0))
        if self.keep_magnitudes:
            self.magnitudes.append(np.abs(act.astype(np.float64)).ravel())
        for group in range(self.classes):
            self.sums[group] += act[labels == group].sum(axis=0)

    def result(self, layer: int, class_counts: np.ndarray) -> NodeStatistics:
        count = class_counts.sum()
        with np.errstate(invalid="ignore", divide="ignore"):
            class_means = np.nan_to_num(self.sums / class_counts[:, None])
        preferred = class_means.argmax(axis=0)
        top = class_means.max(axis=0)
        others = (class_means.sum(axis=0) - top) / max(self.classes - 1, 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            selectivity = np.where(top + others > 0, (top - others) / (top + others), 0.0)
        scale = None
        if self.keep_magnitudes:
            scale = float(np.percentile(np.concatenate(self.magnitudes), 99)) or 1.0
        return NodeStatistics(
            layer=layer, top_indices=self.best_indices, top_values=self.best_values,
            firing_fraction=(self.fired / count).astype(np.float32),
            mean_activation=(self.sums.sum(axis=0) / count).astype(np.float32),
            max_activation=self.maxima.astype(np.float32),
            class_means=class_means.astype(np.float32), preferred_class=preferred,
            selectivity=selectivity.astype(np.float32), colour_scale=scale)


def node_statistics(stack: DenseStack, inputs: np.ndarray, labels: np.ndarray, *,
                    classes: int | None = None, top_k: int = 0, colour_scale: bool = False,
                    batch_size: int = 512,
                    progress: Callable[[int, int], None] | None = None
                    ) -> list[NodeStatistics]:
    """Statistics (and the `top_k` strongest reference images) of every node of every layer.

    `inputs`: uint8 images (N, H, W) or float rows, converted a batch at a time; `classes`:
    how many classes there are (default: the largest label + 1).
    """
    inputs = np.asarray(inputs)
    labels = np.asarray(labels)
    count = len(inputs)
    if count == 0:
        raise ValueError("node statistics need at least one image")
    classes = int(labels.max()) + 1 if classes is None else classes
    running = [RunningStatistics(width, classes, min(top_k, count), colour_scale)
               for width in stack.widths]
    for part in batches(count, batch_size):
        pre = pre_activations(stack, as_inputs(stack, inputs[part]))
        for z, layer, sums in zip(pre, stack.layers, running):
            sums.add(activation_input(layer, z), layer_output(layer, z), labels[part], part)
        if progress:
            progress(part.stop, count)
    class_counts = np.bincount(labels, minlength=classes).astype(np.float64)
    return [sums.result(index, class_counts) for index, sums in enumerate(running, start=1)]


def node_statistics_bytes(stack: DenseStack, count: int, top_k: int = 0,
                          colour_scale: bool = False, batch_size: int = 512) -> int:
    """node_statistics' peak over `count` images: a batch's forward pass; the running top-k and
    its merge, which sorts (nodes, k + batch) values, indices and order at once; and for the
    colour scale every activation of every layer in float64, joined and sorted per layer."""
    widths = stack.widths
    batch, k = min(batch_size, count), min(top_k, count)
    forward = 12 * batch * (stack.n_inputs + sum(widths))
    merge = 28 * max(widths) * (k + batch) if k else 0
    scale = 8 * count * (sum(widths) + 2 * max(widths)) if colour_scale else 0
    return forward + merge + 12 * k * sum(widths) + scale
