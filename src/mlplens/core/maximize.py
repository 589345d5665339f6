"""Activation maximisation: the input in [0, 1]^(H*W*C) that a node responds to most.

Gradient ascent on z_k,j(x) / s - l2 * ||x||^2 from mid-grey (s: the largest entry of the node's
gradient at each step, so l2 weighs the same for every node), every node of a chunk at once, with a
light blur every few steps and seeded jitter so the pictures are smooth and reproducible. A colour
image is blurred and shifted channel by channel (each channel a picture of its own).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import MlplensError
from .forward import layer_backward, pre_activations
from .stack import DenseStack


@dataclass(frozen=True)
class Maximized:
    nodes: np.ndarray  # int (m,)
    images: np.ndarray  # float32 (m, H*W*C) in [0, 1]
    activations: np.ndarray  # float32 (m,): z_k,j at the image found


def node_gradients(stack: DenseStack, inputs: np.ndarray, layer: int,
                   nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """d z_layer[i, nodes[i]] / d inputs[i] for each row i, and those pre-activations."""
    pre = pre_activations(stack, inputs)
    rows = np.arange(len(nodes))
    grad = np.zeros((len(nodes), stack.widths[layer - 1]), dtype=np.float32)
    grad[rows, nodes] = 1
    for index in range(layer - 1, -1, -1):
        grad = grad @ stack.kernels[index].T
        if index > 0:
            grad = layer_backward(stack.layers[index - 1], pre[index - 1], grad)
    return grad, pre[layer - 1][rows, nodes]


def _blur(images: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A separable [1, 2, 1] / 4 blur with edge padding over height and width (each channel of
    a (H, W, C) `shape` alone): the 'light blur'."""
    grid = images.reshape(-1, *shape)
    channels = ((0, 0),) * (len(shape) - 2)
    padded = np.pad(grid, ((0, 0), (1, 1), (0, 0), *channels), mode="edge")
    grid = (padded[:, :-2] + 2 * padded[:, 1:-1] + padded[:, 2:]) / 4
    padded = np.pad(grid, ((0, 0), (0, 0), (1, 1), *channels), mode="edge")
    grid = (padded[:, :, :-2] + 2 * padded[:, :, 1:-1] + padded[:, :, 2:]) / 4
    return grid.reshape(images.shape).astype(np.float32)


def maximize(stack: DenseStack, layer: int, nodes: Sequence[int] | None = None,
             steps: int = 200, step_size: float = 0.03, l2: float = 0.1, blur_every: int = 16,
             jitter: int = 1, seed: int = 0, chunk: int = 64,
             progress: Callable[[int, int], None] | None = None) -> Maximized:
    """Maximise pre-activation z_layer,j for each chosen node j (all nodes by default)."""
    if not 1 <= layer <= len(stack.layers):
        raise MlplensError(f"layer {layer} does not exist (the model has {len(stack.layers)})")
    width = stack.widths[layer - 1]
    chosen = np.arange(width) if nodes is None else np.asarray(list(nodes), dtype=np.intp)
    if chosen.size == 0 or chosen.min() < 0 or chosen.max() >= width:
        raise MlplensError(f"--nodes must be within 0-{width - 1} for layer {layer}")
    rng = np.random.default_rng(seed)
    shape = stack.picture_shape
    images = np.empty((chosen.size, stack.n_inputs), dtype=np.float32)
    reached = np.empty(chosen.size, dtype=np.float32)
    for start in range(0, chosen.size, chunk):
        part = chosen[start:start + chunk]
        x = np.full((part.size, stack.n_inputs), 0.5, dtype=np.float32)
        for step in range(steps):
            dy, dx = rng.integers(-jitter, jitter + 1, size=2) if jitter else (0, 0)
            shifted = np.roll(x.reshape(-1, *shape), (dy, dx), axis=(1, 2))
            grad, _ = node_gradients(stack, shifted.reshape(x.shape), layer, part)
            grad = np.roll(grad.reshape(-1, *shape), (-dy, -dx), axis=(1, 2))
            grad = grad.reshape(x.shape)
            # Normalising the node's gradient first makes l2 mean the same for every node,
            # whatever the scale of its weights.
            scale = np.abs(grad).max(axis=1, keepdims=True)
            ascent = grad / np.where(scale == 0, 1, scale) - 2 * l2 * x
            x = np.clip(x + step_size * ascent, 0, 1)
            if blur_every and (step + 1) % blur_every == 0 and step + 1 < steps:
                x = _blur(x, shape)
        _, values = node_gradients(stack, x, layer, part)
        images[start:start + part.size] = x
        reached[start:start + part.size] = values
        if progress:
            progress(start + part.size, chosen.size)
    return Maximized(chosen, images, reached)


def maximize_bytes(stack: DenseStack, nodes: int, chunk: int = 64) -> int:
    """maximize's peak for `nodes` nodes of one layer: their images and, for a chunk of them,
    the forward pass, its gradient and the ascent's temporaries."""
    return 4 * nodes * stack.n_inputs + 64 * min(chunk, nodes) * (stack.n_inputs
                                                                  + sum(stack.widths))
