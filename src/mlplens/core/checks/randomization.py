"""Re-initialised copies of a network, for the model-randomisation check.

Each layer is re-initialised as Keras does by default (Glorot uniform kernel, zero bias), from
a NumPy generator seeded by (seed, layer): a layer gets the same random weights whether it is
randomised alone or as part of a cascade, and every run with one seed draws the same nets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..stack import DenseStack


@dataclass(frozen=True)
class Randomization:
    """One step of the check: which layers (1 = first Dense layer) carry random weights."""

    label: str
    layers: tuple[int, ...]
    cascading: bool


def glorot_uniform(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """Keras' default kernel: uniform on ±sqrt(6 / (fan_in + fan_out))."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(np.float32)


def randomized(stack: DenseStack, layers: Iterable[int], seed: int = 0) -> DenseStack:
    """`stack` with the given layers' Dense weights re-initialised; activations, LayerNorms,
    shapes and head unchanged."""
    chosen = set(layers)
    kernels, biases = [], []
    for index, layer in enumerate(stack.layers, start=1):
        if index in chosen:
            rng = np.random.default_rng([seed, index])
            kernels.append(glorot_uniform(*layer.kernel.shape, rng))
            biases.append(np.zeros_like(layer.bias))
        else:
            kernels.append(layer.kernel)
            biases.append(layer.bias)
    return DenseStack.from_arrays(kernels, biases, [layer.activation for layer in stack.layers],
                                  stack.image_shape, [layer.name for layer in stack.layers],
                                  channels=stack.channels, pixel_scale=stack.pixel_scale,
                                  input_names=stack.input_names,
                                  norms=[layer.norm for layer in stack.layers],
                                  norm_after=[layer.norm_after for layer in stack.layers],
                                  head=stack.head_kind)


def randomizations(depth: int) -> list[Randomization]:
    """Cascading from the output down (the output layer, then it and the layer below, ... then
    every layer), then each layer alone (the output layer alone is the cascade's first step)."""
    steps = [Randomization("layer " + str(depth) if top == depth else f"layers {top}-{depth}",
                           tuple(range(top, depth + 1)), True)
             for top in range(depth, 0, -1)]
    steps += [Randomization(f"layer {index} alone", (index,), False)
              for index in range(depth - 1, 0, -1)]
    return steps
