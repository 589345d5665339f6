"""What every reader shares: the size cap, activation names, and a chain of Dense layers to fill.

Readers raise MlplensError with a message that does not name the file; the dispatcher in
`mlplens.formats` puts the path in front, so every message reads `<file>: <problem>`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..core.pixel_scale import UNIT, PixelScale
from ..core.stack import ACTIVATIONS, DenseStack
from ..errors import MlplensError
from ..input_files import MAX_INFLATION, inflates_too_much
from ..memory import format_size, require

# No reader allocates more than this many values for one model, whatever a header declares:
# 2**28 float32 values are 1 GiB, far above any dense net one would draw (784-512-256-10 has
# 535,040). Sizes are checked from headers before any data is read.
MAX_VALUES = 2**28

# Other libraries' names for the activations a DenseStack carries.
ALIASES = {"identity": "linear", "none": "linear", "logistic": "sigmoid", "softmax_v2": "softmax"}


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
    """A library's activation name as a DenseStack one, or a refusal naming it."""
    text = str(name).lower() if isinstance(name, str) else repr(name)
    text = ALIASES.get(text, text)
    if text not in ACTIVATIONS:
        raise MlplensError(f"{where}: activation {name!r} is not supported "
                           f"(supported: {', '.join(ACTIVATIONS)})")
    return text


def parse_activations(text: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """`relu,relu,softmax` (the --activations option) or a list -> checked names, or None."""
    if text is None:
        return None
    parts = text.split(",") if isinstance(text, str) else list(text)
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
    """Dense layers found in order; separate activation layers fold into the Dense before them.

    `owned`: the arrays were made by the reader and nobody else holds them, so the DenseStack
    may keep them (frozen) instead of copying; arrays from a caller's live model are copied.
    """

    owned: bool = False
    kernels: list[np.ndarray] = field(default_factory=list)
    biases: list[np.ndarray] = field(default_factory=list)
    activations: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    def dense(self, name: str, kernel: np.ndarray, bias: np.ndarray | None,
              activation: str = "linear") -> None:
        kernel = np.asarray(kernel)
        if bias is None:
            bias = np.zeros(kernel.shape[-1] if kernel.ndim else 0, dtype=np.float32)
        self.kernels.append(kernel)
        self.biases.append(np.asarray(bias))
        self.activations.append(activation)
        self.names.append(name)

    def fold(self, activation: str, label: str) -> None:
        """Apply `activation` (already a DenseStack name) to the last Dense layer."""
        if activation == "linear":
            return
        if not self.kernels:
            raise MlplensError(f"{label} comes before any Dense layer")
        if self.activations[-1] != "linear":
            raise MlplensError(f"{label} follows Dense layer {self.names[-1]!r}, which already "
                               f"applies {self.activations[-1]}")
        self.activations[-1] = activation

    def stack(self, image_shape: tuple[int, int] | None = None,
              activations: Sequence[str] | None = None, *, channels: int = 1,
              input_names: Sequence[str] = (), pixel_scale: PixelScale = UNIT) -> DenseStack:
        """Validate into a DenseStack; `activations` (if given) replace the recorded ones."""
        if not self.kernels:
            raise MlplensError("the model has no Dense layers")
        chosen = list(self.activations)
        if activations is not None:
            if len(activations) != len(self.kernels):
                raise MlplensError(f"--activations lists {len(activations)} activation(s) but "
                                   f"the model has {len(self.kernels)} Dense layer(s)")
            chosen = list(activations)
        return DenseStack.from_arrays(self.kernels, self.biases, chosen, image_shape, self.names,
                                      copy=not self.owned, channels=channels,
                                      pixel_scale=pixel_scale, input_names=input_names)


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
