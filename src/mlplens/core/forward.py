"""The network's forward pass in NumPy, and its one activation derivative.

Shared by every method, the node statistics, the contributions, training snapshots' accuracy
and the explorer's tests, so that every number mlplens shows comes from one implementation.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..errors import MlplensError
from .pixel_scale import UNIT
from .stack import DenseStack


def activate(values: np.ndarray, activation: str) -> np.ndarray:
    """Apply a named activation row-wise (softmax over the last axis)."""
    if activation == "relu":
        return np.maximum(values, 0)
    if activation == "linear":
        return values
    if activation == "sigmoid":
        return 1 / (1 + np.exp(-values))
    if activation == "tanh":
        return np.tanh(values)
    if activation == "softmax":
        shifted = np.exp(values - values.max(axis=-1, keepdims=True))
        return shifted / shifted.sum(axis=-1, keepdims=True)
    raise ValueError(f"unknown activation {activation!r}")


# Activations with an elementwise derivative (a diagonal Jacobian).
ELEMENTWISE = ("linear", "relu", "sigmoid", "tanh")


def derivative(pre: np.ndarray, activation: str) -> np.ndarray:
    """act'(z) elementwise, in z's float type: the diagonal of an activation's Jacobian.

    Softmax has no elementwise derivative (its Jacobian is not diagonal): `backward` handles
    it; methods that need a diagonal refuse it.
    """
    dtype = pre.dtype if np.issubdtype(pre.dtype, np.floating) else np.float32
    if activation == "relu":
        return (pre > 0).astype(dtype)
    if activation == "linear":
        return np.ones_like(pre, dtype=dtype)
    if activation == "sigmoid":
        value = activate(pre, "sigmoid")
        return (value * (1 - value)).astype(dtype)
    if activation == "tanh":
        return (1 - np.tanh(pre) ** 2).astype(dtype)
    raise MlplensError(f"the gradient method cannot pass through a hidden {activation} layer "
                       "(it has no elementwise derivative)")


def backward(values: np.ndarray, pre: np.ndarray, activation: str) -> np.ndarray:
    """Vector-Jacobian product through an activation: d/dz of (values · activation(z))."""
    if activation == "softmax":
        post = activate(pre, activation)
        return post * (values - (values * post).sum(axis=-1, keepdims=True))
    return values * derivative(pre, activation)


def as_inputs(stack: DenseStack, images: np.ndarray) -> np.ndarray:
    """Images (n, ...) as brightness (uint8 0-255 or floats in [0, 1]) -> float32 rows on the
    pixel scale the network was trained on (the article's: brightness itself, 0-1)."""
    return stack.pixel_scale.to_inputs(images)


def brightness(images: np.ndarray) -> np.ndarray:
    """Images -> float32 rows of brightness in [0, 1], for pictures (what an image looks like),
    whatever scale a network takes them on."""
    return UNIT.to_inputs(images)


def brightness_pixels(images: np.ndarray) -> np.ndarray:
    """Images as uint8 0-255 pictures, shape kept: uint8 as they are, brightness floats in
    [0, 1] rounded (so a dataset of floats draws like one of bytes)."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    return np.clip(np.floor(images.astype(np.float32) * 255 + 0.5), 0, 255).astype(np.uint8)


def pre_activations(stack: DenseStack, inputs: np.ndarray) -> list[np.ndarray]:
    """z_k = a_{k-1} W_k + b_k for every layer k (a_0 = the inputs), float32."""
    values = np.asarray(inputs, dtype=np.float32)
    result = []
    for layer in stack.layers:
        pre = values @ layer.kernel + layer.bias
        result.append(pre)
        values = activate(pre, layer.activation)
    return result


def predict(stack: DenseStack, inputs: np.ndarray) -> np.ndarray:
    """The output layer's activations (class probabilities for a softmax net)."""
    last = stack.layers[-1]
    return activate(pre_activations(stack, inputs)[-1], last.activation)


def batches(count: int, size: int) -> Iterator[slice]:
    """Slices covering range(count) in order, so reference sets stream in bounded memory."""
    for start in range(0, count, size):
        yield slice(start, min(start + size, count))


def accuracy(stack: DenseStack, images: np.ndarray, labels: np.ndarray,
             batch_size: int = 2048) -> float:
    """Fraction of images whose most probable class is the label."""
    correct = 0
    for part in batches(len(images), batch_size):
        predicted = pre_activations(stack, as_inputs(stack, images[part]))[-1].argmax(axis=1)
        correct += int((predicted == np.asarray(labels[part])).sum())
    return correct / len(images)


def accuracy_bytes(stack: DenseStack, batch_size: int = 2048) -> int:
    """accuracy's peak: a batch of inputs as float32 and every layer's values for it, twice (the
    pre-activations and their activations)."""
    return 8 * batch_size * (stack.n_inputs + sum(stack.widths))
