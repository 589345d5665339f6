"""DenseStack: the weights of a chain of Dense layers, validated once, read by everything else.

Past the model adapters nothing knows about Keras; every method and renderer takes a DenseStack.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import MlplensError

ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "softmax")


def _frozen_float32(array: np.ndarray, copy: bool) -> np.ndarray:
    out = np.array(array, dtype=np.float32, copy=True) if copy else \
        np.asarray(array, dtype=np.float32)
    out.setflags(write=False)
    return out


def _all_finite(array: np.ndarray) -> bool:
    """np.isfinite(array).all(), a block of rows at a time: a big kernel gets no temporary of
    its own size."""
    rows = max(1, 2**22 // max(1, math.prod(array.shape[1:])))
    return all(bool(np.isfinite(array[start:start + rows]).all())
               for start in range(0, len(array), rows))


@dataclass(frozen=True)
class DenseLayer:
    """One Dense layer as Keras stores it: y = activation(x @ kernel + bias)."""

    kernel: np.ndarray  # (n_in, n_out)
    bias: np.ndarray  # (n_out,)
    activation: str = "linear"
    name: str = ""

    @property
    def units(self) -> int:
        return int(self.kernel.shape[1])


@dataclass(frozen=True)
class DenseStack:
    """A validated chain of Dense layers whose input is a flattened H x W image."""

    layers: tuple[DenseLayer, ...]
    image_shape: tuple[int, int]

    @classmethod
    def from_arrays(
        cls,
        kernels: Sequence[np.ndarray],
        biases: Sequence[np.ndarray] | None = None,
        activations: Sequence[str] | None = None,
        image_shape: tuple[int, int] | None = None,
        names: Sequence[str] | None = None,
        copy: bool = True,
    ) -> "DenseStack":
        """Build and validate a stack; biases default to zeros, activations to ReLU then softmax.

        `copy=False` is for callers that hand over arrays nobody else holds (the file readers):
        float32 arrays are then frozen in place instead of copied, so a model costs its weights
        once, not twice.
        """
        if len(kernels) == 0:
            raise MlplensError("the model has no Dense layers")
        count = len(kernels)
        if biases is None:
            biases = [np.zeros(np.shape(k)[-1], dtype=np.float32) for k in kernels]
        if activations is None:
            activations = ["relu"] * (count - 1) + ["softmax"]
        if names is None:
            names = [f"dense_{i + 1}" for i in range(count)]
        if not (len(biases) == len(activations) == len(names) == count):
            raise MlplensError("kernels, biases, activations and names differ in length")
        first = np.asarray(kernels[0])
        if image_shape is None and first.ndim == 2:
            image_shape = infer_image_shape(first.shape[0])
        layers = []
        for index, (kernel, bias, activation, name) in enumerate(
                zip(kernels, biases, activations, names), start=1):
            layers.append(_checked_layer(index, np.asarray(kernel), np.asarray(bias),
                                         activation, name, copy))
        return cls(tuple(layers), tuple(int(s) for s in image_shape))  # type: ignore[arg-type]

    def __post_init__(self) -> None:
        if not self.layers:
            raise MlplensError("the model has no Dense layers")
        height, width = self.image_shape
        if height < 2 or width < 2:
            raise MlplensError(f"image shape {height}x{width} is too small to draw (at least 2x2)")
        if height * width != self.n_inputs:
            raise MlplensError(f"image shape {height}x{width} has {height * width} pixels but "
                               f"the first layer takes {self.n_inputs} inputs")
        for index, (before, after) in enumerate(zip(self.layers, self.layers[1:]), start=2):
            if after.kernel.shape[0] != before.units:
                raise MlplensError(f"layer {index} takes {after.kernel.shape[0]} inputs but "
                                   f"layer {index - 1} gives {before.units}")

    @property
    def n_inputs(self) -> int:
        return int(self.layers[0].kernel.shape[0])

    @property
    def widths(self) -> tuple[int, ...]:
        """Units per layer, first Dense layer first."""
        return tuple(layer.units for layer in self.layers)

    @property
    def kernels(self) -> tuple[np.ndarray, ...]:
        return tuple(layer.kernel for layer in self.layers)

    @property
    def biases(self) -> tuple[np.ndarray, ...]:
        return tuple(layer.bias for layer in self.layers)

    def describe(self) -> str:
        """E.g. '784-512-256-10 (relu, relu, softmax)'."""
        sizes = "-".join(str(n) for n in (self.n_inputs, *self.widths))
        return f"{sizes} ({', '.join(layer.activation for layer in self.layers)})"


def infer_image_shape(n_inputs: int) -> tuple[int, int]:
    """A square image if the input size is a perfect square; anything else needs to be told."""
    side = math.isqrt(n_inputs)
    if side * side != n_inputs:
        raise MlplensError(f"the model takes {n_inputs} inputs, which is not a square image; "
                           "pass --image-shape H W")
    return side, side


def _checked_layer(index: int, kernel: np.ndarray, bias: np.ndarray, activation: str,
                   name: str, copy: bool) -> DenseLayer:
    label = f"layer {index} ({name})" if name else f"layer {index}"
    if kernel.ndim != 2:
        raise MlplensError(f"{label}: kernel must be 2-D, got shape {kernel.shape}")
    if kernel.shape[0] == 0 or kernel.shape[1] == 0:
        raise MlplensError(f"{label}: kernel shape {kernel.shape} has a zero-sized side")
    if bias.shape != (kernel.shape[1],):
        raise MlplensError(f"{label}: bias shape {bias.shape} does not match "
                           f"{kernel.shape[1]} units")
    for array in (kernel, bias):
        if array.dtype.kind not in "fiu":  # complex would lose its imaginary part silently
            raise MlplensError(f"{label}: weights must be real numbers, got {array.dtype}")
    if not (_all_finite(kernel) and _all_finite(bias)):
        raise MlplensError(f"{label}: weights contain NaN or infinite values")
    if activation not in ACTIVATIONS:
        raise MlplensError(f"{label}: activation {activation!r} is not supported "
                           f"(supported: {', '.join(ACTIVATIONS)})")
    return DenseLayer(_frozen_float32(kernel, copy), _frozen_float32(bias, copy), activation,
                      name)
