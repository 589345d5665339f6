"""DenseStack: the weights of a chain of Dense layers, validated once, read by everything else.

Past the model adapters nothing knows about Keras; every method and renderer takes a DenseStack.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import MlplensError
from .pixel_scale import UNIT, PixelScale

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
    """A validated chain of Dense layers whose input is a flattened H x W image (C channels,
    interleaved as Keras flattens (H, W, C)) on a pixel scale, or a row of named features.

    Tabular inputs (`input_names` given) have the image shape (1, n): one row of values.
    """

    layers: tuple[DenseLayer, ...]
    image_shape: tuple[int, int]
    channels: int = 1
    pixel_scale: PixelScale = UNIT
    input_names: tuple[str, ...] = ()

    @classmethod
    def from_arrays(
        cls,
        kernels: Sequence[np.ndarray],
        biases: Sequence[np.ndarray] | None = None,
        activations: Sequence[str] | None = None,
        image_shape: tuple[int, int] | None = None,
        names: Sequence[str] | None = None,
        copy: bool = True,
        channels: int = 1,
        pixel_scale: PixelScale = UNIT,
        input_names: Sequence[str] = (),
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
        if input_names:
            image_shape = (1, len(input_names))
        elif image_shape is None and first.ndim == 2:
            image_shape = infer_image_shape(first.shape[0], channels)
        layers = []
        for index, (kernel, bias, activation, name) in enumerate(
                zip(kernels, biases, activations, names), start=1):
            layers.append(_checked_layer(index, np.asarray(kernel), np.asarray(bias),
                                         activation, name, copy))
        return cls(tuple(layers), tuple(int(s) for s in image_shape),  # type: ignore[arg-type]
                   channels, pixel_scale, tuple(str(name) for name in input_names))

    def __post_init__(self) -> None:
        if not self.layers:
            raise MlplensError("the model has no Dense layers")
        height, width = self.image_shape
        if self.input_names:
            if self.image_shape != (1, self.n_inputs) or self.channels != 1:
                raise MlplensError(f"{len(self.input_names)} feature names for a first layer "
                                   f"that takes {self.n_inputs} inputs")
        elif height < 2 or width < 2:
            raise MlplensError(f"image shape {height}x{width} is too small to draw (at least 2x2)")
        if self.channels not in (1, 3):
            raise MlplensError(f"images must have 1 or 3 channels, got {self.channels}")
        if height * width * self.channels != self.n_inputs:
            colours, what = (f"x{self.channels}", "values") if self.channels > 1 else ("", "pixels")
            raise MlplensError(f"image shape {height}x{width}{colours} has "
                               f"{height * width * self.channels} {what} but the first layer "
                               f"takes {self.n_inputs} inputs")
        for index, (before, after) in enumerate(zip(self.layers, self.layers[1:]), start=2):
            if after.kernel.shape[0] != before.units:
                raise MlplensError(f"layer {index} takes {after.kernel.shape[0]} inputs but "
                                   f"layer {index - 1} gives {before.units}")

    @property
    def picture_shape(self) -> tuple[int, ...]:
        """One input as a picture: (H, W) for grey images, (H, W, C) for colour."""
        return self.image_shape if self.channels == 1 else (*self.image_shape, self.channels)

    @property
    def is_tabular(self) -> bool:
        return bool(self.input_names)

    def with_input(self, *, image_shape: tuple[int, int] | None = None,
                   channels: int | None = None, pixel_scale: PixelScale | None = None,
                   input_names: Sequence[str] | None = None) -> "DenseStack":
        """The same weights read as another kind of input (checked again)."""
        names = self.input_names if input_names is None else tuple(input_names)
        shape = (1, len(names)) if names else (image_shape or self.image_shape)
        return DenseStack(self.layers, shape, self.channels if channels is None else channels,
                          pixel_scale or self.pixel_scale, names)

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


def infer_image_shape(n_inputs: int, channels: int = 1) -> tuple[int, int]:
    """A square image if the input size is a perfect square; anything else needs to be told
    (its image shape, or its feature names if its inputs are a table's columns)."""
    side = math.isqrt(n_inputs // channels)
    if side * side * channels != n_inputs:
        raise MlplensError(f"the model takes {n_inputs} inputs, which is not a square image; "
                           "pass --image-shape H W, or for a table of features --feature-names "
                           f"with its {n_inputs} names (or --data with named features)")
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
