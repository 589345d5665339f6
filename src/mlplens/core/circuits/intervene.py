"""The forward pass with hidden nodes switched off or held at a value, and what removing nodes
does to accuracy: the test of whether an importance score means anything."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ...errors import MlplensError
from ..forward import as_inputs, layer_output
from ..heads import score_terms
from ..stack import DenseStack
from .importance import hidden_layer


def intervene(stack: DenseStack, inputs: np.ndarray,
              ablate: Mapping[int, Sequence[int]] | None = None,
              clamp: Mapping[tuple[int, int], float] | None = None) -> list[np.ndarray]:
    """Every layer's activations (float32, first Dense layer first, the output's last) for
    `inputs` (n, H*W) in [0, 1], with hidden nodes ablated (`ablate={layer: [nodes]}`, set to
    0) or clamped (`clamp={(layer, node): value}`); layer 1 is the first Dense layer. A node
    both ablated and clamped takes the clamped value."""
    fixed: dict[int, list[tuple[int, float]]] = {}
    for layer, nodes in (ablate or {}).items():
        fixed.setdefault(hidden_layer(stack, layer), []).extend((int(n), 0.0) for n in nodes)
    for (layer, node), value in (clamp or {}).items():
        fixed.setdefault(hidden_layer(stack, layer), []).append((int(node), float(value)))
    values = np.asarray(inputs, dtype=np.float32)
    result = []
    for index, layer in enumerate(stack.layers, start=1):
        values = layer_output(layer, values @ layer.kernel + layer.bias)
        for node, value in fixed.get(index, []):
            if not 0 <= node < layer.units:
                raise MlplensError(f"layer {index} has nodes 0-{layer.units - 1}, not {node}")
            values[:, node] = value
        result.append(values)
    return result


def pruning_curve(stack: DenseStack, images: np.ndarray, labels: np.ndarray, layer: int,
                  order: np.ndarray, counts: Sequence[int]) -> np.ndarray:
    """Accuracy (the head's score, `heads.score_name`) on `images` after ablating the first
    `count` nodes of `order` in hidden layer `layer`, for each count. The layers below are
    computed once; only those above rerun."""
    hidden_layer(stack, layer)
    below = as_inputs(stack, images)
    for current in stack.layers[:layer]:
        below = layer_output(current, below @ current.kernel + current.bias)
    labels = np.asarray(labels)
    accuracies = []
    for count in counts:
        values = below.copy()
        values[:, np.asarray(order[:count], dtype=np.intp)] = 0
        for current in stack.layers[layer:]:
            values = values @ current.kernel + current.bias
            if current is not stack.layers[-1]:
                values = layer_output(current, values)
        accuracies.append(score_terms(stack, values, values, labels) / len(labels))
    return np.array(accuracies)


def removal_counts(units: int, steps: int) -> np.ndarray:
    """Node counts 0, units/steps, ..., units: the x axis of a pruning curve."""
    return np.unique(np.round(np.linspace(0, units, steps + 1)).astype(int))


def pruning_curves(stack: DenseStack, images: np.ndarray, labels: np.ndarray, layer: int,
                   scores: Mapping[str, np.ndarray], counts: Sequence[int]) -> dict[str, np.ndarray]:
    """Per score, accuracy after removing the `count` least important nodes of `layer` (lowest
    score first; a stable sort, so ties go by node number)."""
    return {name: pruning_curve(stack, images, labels, layer,
                                np.argsort(np.asarray(score), kind="stable"), counts)
            for name, score in scores.items()}
