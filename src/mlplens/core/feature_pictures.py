"""A dictionary's features in input-pixel space, as the nodes are drawn: the article's `linear`
picture of each feature's direction, its exact mean input-gradient, and its statistics and
strongest images on real data (the same numbers as a node's).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .dictionary import SparseDictionary
from .forward import activate, as_inputs, batches, derivative
from .node_statistics import NodeStatistics, RunningStatistics
from .projection import linear_rows
from .stack import DenseStack

Progress = Callable[[int, int], None]


def linear_features(stack: DenseStack, dictionary: SparseDictionary) -> np.ndarray:
    """(m, H*W): feature f's decoder direction d_f carried to the input, A_K^T d_f, with A_K the
    layer's `linear` rows: the article's picture of a node that had weights d_f."""
    rows = linear_rows(stack)[dictionary.layer - 1].astype(np.float64)
    return (dictionary.w_dec.astype(np.float64) @ rows).astype(np.float32)


def _forward_with_masks(stack: DenseStack, layer: int, inputs: np.ndarray
                        ) -> tuple[np.ndarray, list[np.ndarray]]:
    """Layer `layer`'s activations and every layer's activation derivative up to it."""
    values, masks = inputs, []
    for dense in stack.layers[:layer]:
        pre = values @ dense.kernel + dense.bias
        masks.append(derivative(pre, dense.activation))
        values = activate(pre, dense.activation)
    return values, masks


def mean_feature_gradients(stack: DenseStack, dictionary: SparseDictionary, images: np.ndarray,
                           batch_size: int = 256, progress: Progress | None = None
                           ) -> np.ndarray:
    """(m, H*W): each feature's activation differentiated by the input pixels, averaged over
    `images` (where a feature is off, its gradient is 0).

    Per image, d f / d x = W_1 D_1 W_2 ... W_K D_K w_f where f is on, w_f the feature's encoder
    column and D_i the activation derivatives (top-k only selects, so it adds no term). Only
    the k features on per image are followed down, and W_1 is applied once at the end, so the
    cost is about k backward passes through the narrow layers per image.
    """
    layer = dictionary.layer
    kernels = stack.kernels
    sums = np.zeros((dictionary.size, stack.widths[0]))
    count = len(images)
    for part in batches(count, batch_size):
        values, masks = _forward_with_masks(stack, layer, as_inputs(stack, images[part]))
        image, feature = np.nonzero(dictionary.encode(values))
        rows = dictionary.w_enc.T[feature] * masks[layer - 1][image]
        for index in range(layer - 1, 0, -1):  # down through W_K ... W_2
            rows = (rows @ kernels[index].T) * masks[index - 1][image]
        np.add.at(sums, feature, rows)
        if progress:
            progress(part.stop, count)
    return ((sums / count) @ kernels[0].T.astype(np.float64)).astype(np.float32)


def feature_statistics(stack: DenseStack, dictionary: SparseDictionary, images: np.ndarray,
                       labels: np.ndarray, *, top_k: int = 0, classes: int | None = None,
                       batch_size: int = 1024) -> NodeStatistics:
    """The nodes' statistics (firing share, class means, preferred class, selectivity, top
    images) for the features, on `images`: same sums, same definitions."""
    labels = np.asarray(labels)
    classes = int(labels.max()) + 1 if classes is None else classes
    running = RunningStatistics(dictionary.size, classes, min(top_k, len(images)))
    for part in batches(len(images), batch_size):
        values, _ = _forward_with_masks(stack, dictionary.layer, as_inputs(stack, images[part]))
        features = dictionary.encode(values)
        running.add(features, features, labels[part], part)
    class_counts = np.bincount(labels, minlength=classes).astype(np.float64)
    return running.result(dictionary.layer, class_counts)
