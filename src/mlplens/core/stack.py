"""DenseStack: the weights of a chain of Dense layers, validated once, read by everything else.

Past the model adapters nothing knows about Keras; every method and renderer takes a DenseStack.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import MlplensError
from .activations import ACTIVATIONS, canonical
from .pixel_scale import UNIT, PixelScale

__all__ = ["ACTIVATIONS", "DenseLayer", "DenseStack", "HEADS", "LayerNorm", "infer_image_shape"]

# What a net's output layer gives: class scores, one positive-class score, independent
# labels, or a value.
HEADS = ("classes", "binary", "multilabel", "regression")


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
class LayerNorm:
    """y = scale * (x - mean(x)) / sqrt(var(x) + epsilon) + offset over one layer's values.

    It cannot be folded into a Dense layer (its divisor depends on the input), so a layer
    carries it; BatchNorm, a fixed affine map at inference, is folded by the readers instead.
    """

    scale: np.ndarray  # (n,)
    offset: np.ndarray  # (n,)
    epsilon: float = 1e-5

    def sigma(self, values: np.ndarray) -> np.ndarray:
        """sqrt(var + epsilon) per row, keeping the last axis (what circuits freeze)."""
        return np.sqrt(values.var(axis=-1, keepdims=True) + self.epsilon).astype(values.dtype)

    def apply(self, values: np.ndarray) -> np.ndarray:
        centred = values - values.mean(axis=-1, keepdims=True)
        return centred / self.sigma(values) * self.scale + self.offset

    def vjp(self, upstream: np.ndarray, values: np.ndarray) -> np.ndarray:
        """d/dx of (upstream · apply(x)): the full (not diagonal) Jacobian, exactly."""
        sigma = self.sigma(values)
        normal = (values - values.mean(axis=-1, keepdims=True)) / sigma
        scaled = upstream * self.scale
        return (scaled - scaled.mean(axis=-1, keepdims=True)
                - normal * (scaled * normal).mean(axis=-1, keepdims=True)) / sigma


@dataclass(frozen=True)
class DenseLayer:
    """One Dense layer: z = x @ kernel + bias, then activation, with an optional LayerNorm
    before the activation (`norm_after=False`, Linear->LayerNorm->GELU) or after it
    (`norm_after=True`, Linear->ReLU->LayerNorm). A layer's nodes are its final outputs."""

    kernel: np.ndarray  # (n_in, n_out)
    bias: np.ndarray  # (n_out,)
    activation: str = "linear"
    name: str = ""
    norm: LayerNorm | None = None
    norm_after: bool = False

    @property
    def units(self) -> int:
        return int(self.kernel.shape[1])

    def describe(self) -> str:
        """E.g. 'relu', 'layernorm+gelu' (norm first), 'relu+layernorm' (norm after)."""
        if self.norm is None:
            return self.activation
        parts = [self.activation, "layernorm"] if self.norm_after else ["layernorm",
                                                                         self.activation]
        return "+".join(part for part in parts if part != "linear")


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
    head_kind: str = ""  # one of HEADS, or empty: inferred from the output layer (`head`)

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
        norms: Sequence[LayerNorm | None] | None = None,
        norm_after: Sequence[bool] | None = None,
        head: str = "",
    ) -> "DenseStack":
        """Build and validate a stack; biases default to zeros, activations to ReLU then softmax,
        norms to none. Activations may be any name `activations.canonical` takes.

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
        if norms is None:
            norms = [None] * count
        if norm_after is None:
            norm_after = [False] * count
        if not (len(biases) == len(activations) == len(names) == len(norms)
                == len(norm_after) == count):
            raise MlplensError("kernels, biases, activations, names and norms differ in length")
        first = np.asarray(kernels[0])
        if input_names:
            image_shape = (1, len(input_names))
        elif image_shape is None and first.ndim == 2:
            image_shape = infer_image_shape(first.shape[0], channels)
        layers = []
        for index, (kernel, bias, activation, name, norm, after) in enumerate(
                zip(kernels, biases, activations, names, norms, norm_after), start=1):
            layers.append(_checked_layer(index, np.asarray(kernel), np.asarray(bias),
                                         activation, name, copy, norm, bool(after)))
        return cls(tuple(layers), tuple(int(s) for s in image_shape),  # type: ignore[arg-type]
                   channels, pixel_scale, tuple(str(name) for name in input_names), head)

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
        self._check_head()

    def _check_head(self) -> None:
        if not self.head_kind:
            return
        last = self.layers[-1]
        if self.head_kind not in HEADS:
            raise MlplensError(f"head {self.head_kind!r} is not one of {', '.join(HEADS)}")
        fits = {"classes": last.units > 1,
                "binary": last.units == 1 and last.activation in ("linear", "sigmoid"),
                "multilabel": last.units > 1 and last.activation in ("linear", "sigmoid"),
                "regression": last.activation == "linear"}[self.head_kind]
        if not fits:
            raise MlplensError(f"a {self.head_kind} head does not fit an output layer of "
                               f"{last.units} {last.activation} unit(s)")

    @property
    def head(self) -> str:
        """What the output means: `head_kind` if set, else softmax/log_softmax -> classes, one
        sigmoid -> binary, several -> multilabel, one linear unit -> regression, several
        outputs of anything else -> classes (logits, as the article's nets)."""
        return self.head_kind or _inferred_head(self.layers[-1])

    @property
    def n_classes(self) -> int:
        """Classes the data must have: 2 for a binary head, 0 for regression, else the width."""
        return {"binary": 2, "regression": 0}.get(self.head, self.layers[-1].units)

    @property
    def has_norms(self) -> bool:
        return any(layer.norm is not None for layer in self.layers)

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
                          pixel_scale or self.pixel_scale, names, self.head_kind)

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
        """E.g. '784-512-256-10 (relu, relu, softmax)', '784-64-10 (layernorm+gelu, linear)';
        a head that is told, not inferred, is named: '784-64-1 (relu, linear; binary head)'."""
        sizes = "-".join(str(n) for n in (self.n_inputs, *self.widths))
        told = self.head_kind and self.head_kind != _inferred_head(self.layers[-1])
        head = f"; {self.head_kind} head" if told else ""
        return f"{sizes} ({', '.join(layer.describe() for layer in self.layers)}{head})"


def _inferred_head(last: DenseLayer) -> str:
    if last.activation in ("softmax", "log_softmax"):
        return "classes"
    if last.activation == "sigmoid":
        return "binary" if last.units == 1 else "multilabel"
    return "regression" if last.units == 1 else "classes"


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
                   name: str, copy: bool, norm: LayerNorm | None = None,
                   norm_after: bool = False) -> DenseLayer:
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
    activation = canonical(activation, label)
    if norm is not None:
        norm = _checked_norm(label, norm, kernel.shape[1], copy)
    return DenseLayer(_frozen_float32(kernel, copy), _frozen_float32(bias, copy), activation,
                      name, norm, norm_after and norm is not None)


def _checked_norm(label: str, norm: LayerNorm, units: int, copy: bool) -> LayerNorm:
    scale, offset = np.asarray(norm.scale), np.asarray(norm.offset)
    if scale.shape != (units,) or offset.shape != (units,):
        raise MlplensError(f"{label}: LayerNorm scale {scale.shape} and offset {offset.shape} "
                           f"do not match {units} units")
    for array in (scale, offset):
        if array.dtype.kind not in "fiu":
            raise MlplensError(f"{label}: LayerNorm weights must be real numbers, got "
                               f"{array.dtype}")
    epsilon = float(norm.epsilon)
    if not (_all_finite(scale) and _all_finite(offset) and math.isfinite(epsilon)):
        raise MlplensError(f"{label}: LayerNorm weights contain NaN or infinite values")
    if epsilon < 0:
        raise MlplensError(f"{label}: LayerNorm epsilon {epsilon} is negative")
    return LayerNorm(_frozen_float32(scale, copy), _frozen_float32(offset, copy), epsilon)
