"""The network's forward pass in NumPy, and each layer's backward step.

Shared by every method, the node statistics, the contributions, training snapshots' accuracy
and the explorer's tests, so that every number mlplens shows comes from one implementation.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .activations import activate, derivative
from .activations import vjp as backward
from .heads import score_terms
from .pixel_scale import UNIT
from .stack import DenseLayer, DenseStack

__all__ = ["accuracy", "accuracy_bytes", "activate", "activation_input", "as_inputs", "backward",
           "batches", "brightness", "derivative", "layer_backward", "layer_output",
           "pre_activations", "predict"]


def activation_input(layer: DenseLayer, pre: np.ndarray) -> np.ndarray:
    """What the layer's activation takes: z, or its LayerNorm's output when the norm comes
    first (what says whether a ReLU node fires, and ranks its images)."""
    if layer.norm is None or layer.norm_after:
        return pre
    return layer.norm.apply(pre)


def layer_output(layer: DenseLayer, pre: np.ndarray) -> np.ndarray:
    """A layer's nodes from its pre-activations z: its LayerNorm and activation, in order."""
    if layer.norm is None:
        return activate(pre, layer.activation)
    if layer.norm_after:
        return layer.norm.apply(activate(pre, layer.activation))
    return activate(layer.norm.apply(pre), layer.activation)


def layer_backward(layer: DenseLayer, pre: np.ndarray, upstream: np.ndarray) -> np.ndarray:
    """d/dz of (upstream · layer_output(layer, z)), exactly (LayerNorm's full Jacobian too)."""
    if layer.norm is None:
        return backward(upstream, pre, layer.activation)
    if layer.norm_after:
        return backward(layer.norm.vjp(upstream, activate(pre, layer.activation)), pre,
                        layer.activation)
    normed = layer.norm.apply(pre)
    return layer.norm.vjp(backward(upstream, normed, layer.activation), pre)


def as_inputs(stack: DenseStack, images: np.ndarray) -> np.ndarray:
    """Images (n, ...) as brightness (uint8 0-255 or floats in [0, 1]) -> float32 rows on the
    pixel scale the network was trained on (the article's: brightness itself, 0-1)."""
    return stack.pixel_scale.to_inputs(images)


def brightness(images: np.ndarray) -> np.ndarray:
    """Images -> float32 rows of brightness in [0, 1], for pictures (what an image looks like),
    whatever scale a network takes them on."""
    return UNIT.to_inputs(images)


def pre_activations(stack: DenseStack, inputs: np.ndarray) -> list[np.ndarray]:
    """z_k = a_{k-1} W_k + b_k for every layer k (a_0 = the inputs), float32."""
    values = np.asarray(inputs, dtype=np.float32)
    result = []
    for layer in stack.layers:
        pre = values @ layer.kernel + layer.bias
        result.append(pre)
        values = layer_output(layer, pre)
    return result


def predict(stack: DenseStack, inputs: np.ndarray) -> np.ndarray:
    """The output layer's activations (class probabilities for a softmax net)."""
    return layer_output(stack.layers[-1], pre_activations(stack, inputs)[-1])


def batches(count: int, size: int) -> Iterator[slice]:
    """Slices covering range(count) in order, so reference sets stream in bounded memory."""
    for start in range(0, count, size):
        yield slice(start, min(start + size, count))


def accuracy(stack: DenseStack, images: np.ndarray, labels: np.ndarray,
             batch_size: int = 2048) -> float:
    """The head's score on labelled images (`heads.score_name`): the fraction whose predicted
    class is the label; per label for multilabel; the mean absolute error for regression."""
    total = 0.0
    last = stack.layers[-1]
    for part in batches(len(images), batch_size):
        scores = pre_activations(stack, as_inputs(stack, images[part]))[-1]
        outputs = layer_output(last, scores)
        if last.norm is not None:  # a LayerNorm reorders the logits; an activation does not
            scores = outputs
        total += score_terms(stack, scores, outputs, labels[part])
    return total / len(images)


def accuracy_bytes(stack: DenseStack, batch_size: int = 2048) -> int:
    """accuracy's peak: a batch of inputs as float32 and every layer's values for it, twice (the
    pre-activations and their activations)."""
    return 8 * batch_size * (stack.n_inputs + sum(stack.widths))
