"""Dataset examples and statistics per node: which real images excite it, and how it behaves.

Everything streams over the reference set in batches, keeping only a running top-k and sums.
A node's *activation* is what it passes on: ReLU(z) (or its other activation) for a hidden node,
the class probability for an output node; images are *ranked* by the pre-activation z, which
orders them the same way wherever the node fires.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .forward import activate, as_inputs, batches, pre_activations
from .stack import DenseStack


@dataclass(frozen=True)
class LayerExamples:
    """One layer's dataset examples and statistics over a reference set."""

    layer: int
    top_indices: np.ndarray  # int (n, k): reference images, strongest first
    top_values: np.ndarray  # float32 (n, k): their pre-activations
    firing_fraction: np.ndarray  # (n,) share of images with z > 0
    mean_activation: np.ndarray  # (n,)
    max_activation: np.ndarray  # (n,)
    class_means: np.ndarray  # (classes, n) mean activation over each class's images
    preferred_class: np.ndarray  # (n,) the class that drives the node most
    selectivity: np.ndarray  # (n,) (preferred - mean of others) / (preferred + mean of others)

    @property
    def dead(self) -> np.ndarray:
        """Nodes that never fire on the reference set."""
        return self.firing_fraction == 0


def _merge_top(values: np.ndarray, indices: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Keep the k largest per row, sorted descending; ties go to the earlier image."""
    order = np.lexsort((indices, -values), axis=1)[:, :k]
    return np.take_along_axis(values, order, 1), np.take_along_axis(indices, order, 1)


def layer_examples(stack: DenseStack, inputs: np.ndarray, labels: np.ndarray, k: int = 8,
                   batch_size: int = 512,
                   progress: Callable[[int, int], None] | None = None) -> list[LayerExamples]:
    """Top-k reference images and statistics for every node of every layer."""
    inputs = np.asarray(inputs)  # uint8 images or floats; converted a batch at a time
    labels = np.asarray(labels)
    count = len(inputs)
    k = min(k, count)
    classes = int(labels.max()) + 1
    class_counts = np.bincount(labels, minlength=classes).astype(np.float64)
    depth = len(stack.layers)
    best_values = [np.full((w, 0), -np.inf, np.float32) for w in stack.widths]
    best_indices = [np.zeros((w, 0), np.int64) for w in stack.widths]
    fired = [np.zeros(w) for w in stack.widths]
    sums = [np.zeros((classes, w)) for w in stack.widths]
    maxima = [np.full(w, -np.inf) for w in stack.widths]
    for part in batches(count, batch_size):
        pre = pre_activations(stack, as_inputs(inputs[part]))
        index = np.arange(part.start, part.stop)
        for layer in range(depth):
            z = pre[layer]
            act = activate(z, stack.layers[layer].activation)
            values = np.concatenate([best_values[layer], z.T], axis=1)
            indices = np.concatenate([best_indices[layer],
                                      np.broadcast_to(index, (z.shape[1], index.size))], axis=1)
            best_values[layer], best_indices[layer] = _merge_top(values, indices, k)
            fired[layer] += (z > 0).sum(axis=0)
            maxima[layer] = np.maximum(maxima[layer], act.max(axis=0))
            for group in range(classes):
                sums[layer][group] += act[labels[part] == group].sum(axis=0)
        if progress:
            progress(part.stop, count)
    result = []
    for layer in range(depth):
        with np.errstate(invalid="ignore", divide="ignore"):
            class_means = np.nan_to_num(sums[layer] / class_counts[:, None])
        preferred = class_means.argmax(axis=0)
        top = class_means.max(axis=0)
        others = (class_means.sum(axis=0) - top) / max(classes - 1, 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            selectivity = np.where(top + others > 0, (top - others) / (top + others), 0.0)
        result.append(LayerExamples(
            layer=layer + 1, top_indices=best_indices[layer], top_values=best_values[layer],
            firing_fraction=(fired[layer] / count).astype(np.float32),
            mean_activation=(sums[layer].sum(axis=0) / count).astype(np.float32),
            max_activation=maxima[layer].astype(np.float32),
            class_means=class_means.astype(np.float32), preferred_class=preferred,
            selectivity=selectivity.astype(np.float32)))
    return result
