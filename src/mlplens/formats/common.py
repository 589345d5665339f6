"""What every reader shares: the size cap, activation names, and a chain of Dense layers to fill.

Readers raise MlplensError with a message that does not name the file; the dispatcher in
`mlplens.formats` puts the path in front, so every message reads `<file>: <problem>`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..core.activations import canonical
from ..core.pixel_scale import UNIT, PixelScale
from ..core.stack import DenseStack, LayerNorm
from ..errors import MlplensError
from ..input_files import MAX_INFLATION, inflates_too_much
from ..memory import format_size, require

# No reader allocates more than this many values for one model, whatever a header declares:
# 2**28 float32 values are 1 GiB, far above any dense net one would draw (784-512-256-10 has
# 535,040). Sizes are checked from headers before any data is read.
MAX_VALUES = 2**28


def check_declared(name: str, shape: Sequence[int], running_total: int = 0) -> int:
    """Refuse a tensor whose declared shape is negative or too big; returns the new total."""
    dims = [int(size) for size in shape]
    if any(size < 0 for size in dims):
        raise MlplensError(f"tensor {name!r} declares a negative size {tuple(dims)}")
    count = math.prod(dims)
    total = running_total + count
    if count > MAX_VALUES or total > MAX_VALUES:
        raise MlplensError(f"tensor {name!r} declares shape {tuple(dims)} ({count:,} values); "
                           f"mlplens refuses models above {MAX_VALUES:,} values in all")
    return total


def check_held(name: str, shape: Sequence[int], declared: int, held: int,
               compressed: int | None = None) -> None:
    """Refuse a tensor whose data the file does not hold: `declared` bytes by its shape, `held`
    the (uncompressed) bytes the file has for it, `compressed` what they take on disk if
    compressed. Checked from headers, before anything is read or inflated."""
    what = f"tensor {name!r} declares shape {tuple(shape)} ({format_size(declared)})"
    if held < declared:
        raise MlplensError(f"{what} but the file holds {format_size(held)} of its data")
    if compressed is not None and inflates_too_much(declared, compressed):
        raise MlplensError(f"{what} from {format_size(compressed)} of compressed data: mlplens "
                           f"refuses data that inflates over {MAX_INFLATION}x (a decompression "
                           "bomb; real weights barely compress)")


def require_loading(peak: int, values: int) -> None:
    """The one refusal of every reader whose estimated peak does not fit: `peak` counts what the
    reader and its library allocate, in the file's own types, with every copy they make."""
    require(peak, f"loading its {values:,} weights")


def activation_name(name: object, where: str) -> str:
    """A library's activation name as a canonical one (`core.activations.canonical`), or a
    refusal naming it."""
    return canonical(name, where)


def split_outside_parentheses(text: str) -> list[str]:
    """'leaky_relu(0.2),relu' -> ['leaky_relu(0.2)', 'relu']: commas inside () do not split."""
    parts, depth, current = [], 0, []
    for character in text:
        depth += {"(": 1, ")": -1}.get(character, 0)
        if character == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(character)
    parts.append("".join(current))
    return parts


def parse_activations(text: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """`relu,leaky_relu(0.2),softmax` (the --activations option) or a list -> canonical names,
    or None."""
    if text is None:
        return None
    parts = split_outside_parentheses(text) if isinstance(text, str) else list(text)
    names = tuple(part.strip() for part in parts)
    if not names or any(not name for name in names):
        raise MlplensError(f"--activations must list one activation per Dense layer, comma "
                           f"separated (e.g. relu,relu,softmax), got {text!r}")
    return tuple(activation_name(name, "--activations") for name in names)


def default_activations(count: int) -> list[str]:
    """For files that record none: ReLU between layers, logits (linear) at the output."""
    return ["relu"] * (count - 1) + ["linear"]


@dataclass
class Chain:
    """Dense layers found in order; activation and LayerNorm layers attach to the Dense before
    them, BatchNorm layers fold into a neighbouring Dense exactly.

    `owned`: the arrays were made by the reader and nobody else holds them, so the DenseStack
    may keep them (frozen) instead of copying; arrays from a caller's live model are copied.
    """

    owned: bool = False
    kernels: list[np.ndarray] = field(default_factory=list)
    biases: list[np.ndarray] = field(default_factory=list)
    activations: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    norms: list[LayerNorm | None] = field(default_factory=list)
    norm_after: list[bool] = field(default_factory=list)
    # A BatchNorm that could not fold into the Dense before it: x -> x * scale + shift, float64,
    # waiting to fold into the next Dense's inputs; with the label that names it.
    pending: tuple[np.ndarray, np.ndarray, str] | None = None

    def dense(self, name: str, kernel: np.ndarray, bias: np.ndarray | None,
              activation: str = "linear") -> None:
        kernel = np.asarray(kernel)
        if bias is None:
            bias = np.zeros(kernel.shape[-1] if kernel.ndim else 0, dtype=np.float32)
        bias = np.asarray(bias)
        if self.pending is not None:
            kernel, bias = self._fold_pending(name, kernel, bias)
        self.kernels.append(kernel)
        self.biases.append(bias)
        self.activations.append(activation)
        self.names.append(name)
        self.norms.append(None)
        self.norm_after.append(False)

    def _fold_pending(self, name: str, kernel: np.ndarray,
                      bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """W' = diag(s) W, b' = b + t W for inputs x * s + t, in float64."""
        scale, shift, label = self.pending  # type: ignore[misc]
        if kernel.ndim != 2 or kernel.shape[0] != len(scale) or bias.shape != kernel.shape[1:]:
            raise MlplensError(f"{label} has {len(scale)} values but Dense layer {name!r} "
                               f"takes {kernel.shape[0] if kernel.ndim else 0} inputs")
        wide = kernel.astype(np.float64)
        self.pending = None
        return scale[:, None] * wide, bias.astype(np.float64) + shift @ wide

    def fold(self, activation: str, label: str) -> None:
        """Apply `activation` (a canonical name) to the last Dense layer."""
        if activation == "linear":
            return
        if not self.kernels:
            raise MlplensError(f"{label} comes before any Dense layer")
        self._refuse_after_pending(label)
        if self.activations[-1] != "linear":
            raise MlplensError(f"{label} follows Dense layer {self.names[-1]!r}, which already "
                               f"applies {self.activations[-1]}")
        if self.norm_after[-1]:
            raise MlplensError(f"{label} follows the LayerNorm after Dense layer "
                               f"{self.names[-1]!r}'s activation; mlplens takes one activation "
                               "per Dense layer")
        self.activations[-1] = activation

    def _refuse_after_pending(self, label: str) -> None:
        if self.pending is not None:
            raise MlplensError(f"{label} follows {self.pending[2]}, which could not be folded "
                               "into a Dense layer (only a Dense layer may follow it)")

    def batch_norm(self, scale: np.ndarray, offset: np.ndarray, mean: np.ndarray,
                   variance: np.ndarray, epsilon: float, label: str) -> None:
        """Fold an inference-time BatchNorm, y = s (x - mean) + offset with
        s = scale / sqrt(variance + epsilon), exactly (float64): into the last Dense when
        nothing follows its matmul yet, else into the next Dense's inputs."""
        arrays = [np.asarray(a, dtype=np.float64).reshape(-1)
                  for a in (scale, offset, mean, variance)]
        if len({len(a) for a in arrays}) != 1:
            raise MlplensError(f"{label}: scale, offset, mean and variance differ in length "
                               f"({', '.join(str(len(a)) for a in arrays)})")
        scale64, offset64, mean64, variance64 = arrays
        if not all(np.isfinite(a).all() for a in arrays) or not math.isfinite(epsilon):
            raise MlplensError(f"{label}: its weights contain NaN or infinite values")
        if (variance64 + epsilon <= 0).any():
            raise MlplensError(f"{label}: variance + epsilon is not positive")
        s = scale64 / np.sqrt(variance64 + float(epsilon))
        shift = offset64 - s * mean64
        last_is_bare = (self.kernels and self.pending is None
                        and self.activations[-1] == "linear" and self.norms[-1] is None)
        if last_is_bare:
            units = self.kernels[-1].shape[-1] if self.kernels[-1].ndim == 2 else -1
            if units != len(s):
                raise MlplensError(f"{label} has {len(s)} values but Dense layer "
                                   f"{self.names[-1]!r} gives {units}")
            self.kernels[-1] = self.kernels[-1].astype(np.float64) * s
            self.biases[-1] = self.biases[-1].astype(np.float64) * s + shift
        elif self.pending is None:
            self.pending = (s, shift, label)
        else:
            before, before_shift, before_label = self.pending
            if len(before) != len(s):
                raise MlplensError(f"{label} has {len(s)} values but {before_label} "
                                   f"before it has {len(before)}")
            self.pending = (before * s, before_shift * s + shift, before_label)

    def layer_norm(self, scale: np.ndarray, offset: np.ndarray, epsilon: float,
                   label: str) -> None:
        """Attach a LayerNorm to the last Dense: before its activation if none is applied yet,
        else after it."""
        if not self.kernels:
            raise MlplensError(f"{label} comes before any Dense layer; mlplens reads a "
                               "LayerNorm only after a Dense layer")
        self._refuse_after_pending(label)
        if self.norms[-1] is not None:
            raise MlplensError(f"{label} follows Dense layer {self.names[-1]!r}, which already "
                               "has a LayerNorm")
        self.norms[-1] = LayerNorm(np.asarray(scale).reshape(-1), np.asarray(offset).reshape(-1),
                                   float(epsilon))
        self.norm_after[-1] = self.activations[-1] != "linear"

    def stack(self, image_shape: tuple[int, int] | None = None,
              activations: Sequence[str] | None = None, *, channels: int = 1,
              input_names: Sequence[str] = (), pixel_scale: PixelScale = UNIT,
              head: str = "") -> DenseStack:
        """Validate into a DenseStack; `activations` (if given) replace the recorded ones."""
        if not self.kernels:
            raise MlplensError("the model has no Dense layers")
        if self.pending is not None:
            raise MlplensError(f"{self.pending[2]} follows the last Dense layer's activation "
                               "and cannot be folded into any Dense layer")
        chosen = list(self.activations)
        if activations is not None:
            if len(activations) != len(self.kernels):
                raise MlplensError(f"--activations lists {len(activations)} activation(s) but "
                                   f"the model has {len(self.kernels)} Dense layer(s)")
            chosen = list(activations)
        return DenseStack.from_arrays(self.kernels, self.biases, chosen, image_shape, self.names,
                                      copy=not self.owned, channels=channels,
                                      pixel_scale=pixel_scale, input_names=input_names,
                                      norms=self.norms, norm_after=self.norm_after, head=head)


def image_shape_from_input(shape: Sequence[object], n_inputs: int) -> tuple[int, int] | None:
    """(H, W) from a declared input shape without its batch axis, when it is an image.

    (H, W), (H, W, 1) and (1, H, W) are images; a vector or an unknown size gives None (the
    square guess then applies). A declared size that differs from the first layer's is refused.
    """
    dims = tuple(shape)
    if not dims or any(not isinstance(size, int) or isinstance(size, bool) or size <= 0
                       for size in dims):
        return None
    if len(dims) == 3 and dims[-1] == 1:
        dims = dims[:2]
    elif len(dims) == 3 and dims[0] == 1:
        dims = dims[1:]
    if math.prod(dims) != n_inputs:  # type: ignore[arg-type]
        raise MlplensError(f"the model's input {tuple(shape)} has {math.prod(dims):,} values "  # type: ignore[arg-type]
                           f"but its first Dense layer takes {n_inputs}: flatten the input "
                           "before the first Dense layer")
    if len(dims) == 2:
        return int(dims[0]), int(dims[1])  # type: ignore[call-overload]
    return None


def shape_from_text(text: str) -> tuple[int, int]:
    """The `mlplens.image_shape` metadata value 'H,W' -> (H, W)."""
    try:
        height, width = (int(part) for part in text.split(","))
    except ValueError:
        raise MlplensError(f"metadata mlplens.image_shape {text!r} is not 'H,W'") from None
    return height, width
