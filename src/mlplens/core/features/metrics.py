"""How good a sparse dictionary is: how much of its layer it explains, how sparse it is, and what
the net still knows when the layer is replaced by the dictionary's reconstruction.

Everything streams over the images in batches, in float64 sums, so a 60,000-image set costs the
memory of one batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..forward import as_inputs, batches, layer_output
from ..heads import predicted_classes
from ..stack import DenseStack
from .dictionary import SparseDictionary

# A feature firing on more than this share of images is "dense": closer to a bias than to a
# pattern (the convention of the dictionary-learning literature).
DENSE_ABOVE = 0.1


@dataclass(frozen=True)
class DictionaryMetrics:
    images: int
    variance_explained: float  # 1 - sum |a - a_hat|^2 / sum |a - mean a|^2
    mean_l0: float  # active features per image
    frequency: np.ndarray  # (m,) share of images each feature fires on
    accuracy: float  # the net as it is
    spliced_accuracy: float  # the layer replaced by its reconstruction
    mean_ablated_accuracy: float  # the layer replaced by its mean: the floor to compare with

    @property
    def dead(self) -> np.ndarray:
        return np.flatnonzero(self.frequency == 0)

    @property
    def dense(self) -> np.ndarray:
        return np.flatnonzero(self.frequency > DENSE_ABOVE)


def forward_from(stack: DenseStack, layer: int, activations: np.ndarray) -> np.ndarray:
    """The output layer's pre-activations (logits) when hidden layer `layer` passes on
    `activations` instead of its own."""
    values = np.asarray(activations, np.float32)
    last = len(stack.layers) - 1
    for index, dense in enumerate(stack.layers[layer:], start=layer):
        values = values @ dense.kernel + dense.bias
        if index < last:
            values = layer_output(dense, values)
    return values


def dictionary_metrics(stack: DenseStack, dictionary: SparseDictionary, images: np.ndarray,
                       labels: np.ndarray, batch_size: int = 2048) -> DictionaryMetrics:
    """Every number above for `images` (uint8 (N, H, W) or float rows) and their labels."""
    count = len(images)
    labels = np.asarray(labels)
    residual = squares = 0.0
    sums = np.zeros(dictionary.width)
    fired = np.zeros(dictionary.size)
    hits = {"net": 0, "spliced": 0}
    for part in batches(count, batch_size):
        values = as_inputs(stack, images[part])
        for dense in stack.layers[:dictionary.layer]:
            values = layer_output(dense, values @ dense.kernel + dense.bias)
        features = dictionary.encode(values)
        rebuilt = dictionary.decode(features)
        wide = values.astype(np.float64)
        residual += float(((wide - rebuilt) ** 2).sum())
        squares += float((wide ** 2).sum())
        sums += wide.sum(axis=0)
        fired += (features > 0).sum(axis=0)
        truth = labels[part]
        hits["net"] += int((predicted_classes(
            stack, forward_from(stack, dictionary.layer, values)) == truth).sum())
        hits["spliced"] += int((predicted_classes(
            stack, forward_from(stack, dictionary.layer, rebuilt)) == truth).sum())
    mean = sums / count
    total = squares - count * float(mean @ mean)
    ablated = predicted_classes(stack, forward_from(stack, dictionary.layer, mean[None]))[0]
    return DictionaryMetrics(
        images=count, variance_explained=1 - residual / total if total > 0 else 0.0,
        mean_l0=float(fired.sum() / count), frequency=(fired / count).astype(np.float32),
        accuracy=hits["net"] / count, spliced_accuracy=hits["spliced"] / count,
        mean_ablated_accuracy=float((labels == ablated).mean()))
