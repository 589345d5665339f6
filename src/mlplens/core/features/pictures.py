"""A dictionary's features in input-pixel space, as the nodes are drawn: the article's `linear`
picture of each feature's direction, its exact mean input-gradient, and its statistics and
strongest images on real data (the same numbers as a node's).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..forward import as_inputs, batches, derivative, layer_backward, layer_output
from ..node_statistics import NodeStatistics, RunningStatistics
from ..projection import linear_rows
from ..stack import DenseLayer, DenseStack
from .dictionary import SparseDictionary

Progress = Callable[[int, int], None]


def linear_features(stack: DenseStack, dictionary: SparseDictionary) -> np.ndarray:
    """(m, H*W): feature f's decoder direction d_f carried to the input, A_K^T d_f, with A_K the
    layer's `linear` rows: the article's picture of a node that had weights d_f."""
    rows = linear_rows(stack)[dictionary.layer - 1].astype(np.float64)
    return (dictionary.w_dec.astype(np.float64) @ rows).astype(np.float32)


def _forward(stack: DenseStack, layer: int, inputs: np.ndarray
             ) -> tuple[np.ndarray, list[np.ndarray]]:
    """Layer `layer`'s outputs and every layer's pre-activations up to it."""
    values, pres = inputs, []
    for dense in stack.layers[:layer]:
        pre = values @ dense.kernel + dense.bias
        pres.append(pre)
        values = layer_output(dense, pre)
    return values, pres


def mean_feature_gradients(stack: DenseStack, dictionary: SparseDictionary, images: np.ndarray,
                           batch_size: int = 256, progress: Progress | None = None
                           ) -> np.ndarray:
    """(m, H*W): each feature's activation differentiated by the input pixels, averaged over
    `images` (where a feature is off, its gradient is 0).

    Per image, d f / d x = W_1 D_1 W_2 ... W_K D_K w_f where f is on, w_f the feature's encoder
    column and D_i the layers' Jacobians (diagonal activation derivatives, or the full one of a
    layer with a LayerNorm); top-k only selects, so it adds no term. Only the k features on per
    image are followed down, and W_1 is applied once at the end, so the cost is about k
    backward passes through the narrow layers per image.
    """
    layer = dictionary.layer
    kernels = stack.kernels
    sums = np.zeros((dictionary.size, stack.widths[0]))
    count = len(images)
    for part in batches(count, batch_size):
        values, pres = _forward(stack, layer, as_inputs(stack, images[part]))
        image, feature = np.nonzero(dictionary.encode(values))
        rows = _backward(stack.layers[layer - 1], pres[layer - 1], image,
                         dictionary.w_enc.T[feature])
        for index in range(layer - 1, 0, -1):  # down through W_K ... W_2
            rows = _backward(stack.layers[index - 1], pres[index - 1], image,
                             rows @ kernels[index].T)
        np.add.at(sums, feature, rows)
        if progress:
            progress(part.stop, count)
    return ((sums / count) @ kernels[0].T.astype(np.float64)).astype(np.float32)


def _backward(dense: DenseLayer, pre: np.ndarray, image: np.ndarray,
              rows: np.ndarray) -> np.ndarray:
    """Rows (one per image-feature pair) through one layer at their image's pre-activations:
    a layer without a LayerNorm takes its diagonal once per image, not once per row."""
    if dense.norm is None:
        return rows * derivative(pre, dense.activation)[image]
    return layer_backward(dense, pre[image], rows)


def feature_statistics(stack: DenseStack, dictionary: SparseDictionary, images: np.ndarray,
                       labels: np.ndarray, *, top_k: int = 0, classes: int | None = None,
                       batch_size: int = 1024) -> NodeStatistics:
    """The nodes' statistics (firing share, class means, preferred class, selectivity, top
    images) for the features, on `images`: same sums, same definitions."""
    labels = np.asarray(labels)
    classes = int(labels.max()) + 1 if classes is None else classes
    running = RunningStatistics(dictionary.size, classes, min(top_k, len(images)))
    for part in batches(len(images), batch_size):
        values, _ = _forward(stack, dictionary.layer, as_inputs(stack, images[part]))
        features = dictionary.encode(values)
        running.add(features, features, labels[part], part)
    class_counts = np.bincount(labels, minlength=classes).astype(np.float64)
    return running.result(dictionary.layer, class_counts)
