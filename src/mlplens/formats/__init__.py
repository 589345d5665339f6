"""Every model format mlplens reads, each ending in the same DenseStack.

One small module per format, each a function `read(path, image_shape, activations)` returning
the stack and what the file records beyond its weights (`metadata.Recorded`); frameworks
(h5py, safetensors, onnx, Keras) are imported inside the readers, so `mlplens --help` stays fast.
`load_stack` picks the reader by suffix, or by the file's first bytes when the suffix is unknown,
and turns every failure into one `MlplensError` line that names the file.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.stack import DenseStack
from ..errors import MlplensError
from ..input_files import checked_input
from .common import parse_activations
from .metadata import Recorded

# suffix -> (module, what the file is called in messages)
READERS = {
    ".keras": ("keras_file", "Keras model"),
    ".h5": ("keras_h5", "Keras model"),
    ".hdf5": ("keras_h5", "Keras model"),
    ".safetensors": ("safetensors_file", "safetensors file"),
    ".onnx": ("onnx_file", "ONNX model"),
    ".npz": ("npz_file", "NumPy .npz file"),
}
PICKLES = (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".ckpt", ".bin")


def sniff(path: Path) -> str | None:
    """The suffix a file's first bytes suggest (zip: .keras or .npz; HDF5; safetensors)."""
    with open(path, "rb") as handle:
        head = handle.read(16)
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return ".h5"
    if head.startswith(b"PK"):
        import zipfile

        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError):
            return None
        if "config.json" in names:
            return ".keras"
        if names and all(name.endswith(".npy") for name in names):
            return ".npz"
        return None
    if len(head) >= 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") < 10**8:
        return ".safetensors"
    return None


@dataclass(frozen=True)
class ModelFile:
    """A model file read: its DenseStack (with the channels and pixel scale the file records)
    and what the file recorded, so a caller can tell a recorded scale from an assumed one."""

    path: Path
    stack: DenseStack
    recorded: Recorded


def load_stack(path: str | os.PathLike[str], image_shape: Sequence[int] | None = None,
               activations: str | Sequence[str] | None = None, *,
               input_names: Sequence[str] = ()) -> DenseStack:
    """Read a model file into a DenseStack.

    `image_shape` (H, W) is needed when the input size is not a square and the file does not
    record it; `activations` (one per Dense layer, e.g. "relu,relu,softmax") replace whatever the
    file records, for formats such as safetensors that may record none. The stack takes the
    channels and pixel scale the file records (`formats.metadata`); `read_model` also tells what
    was recorded (class names among it). `input_names` (one per input) read the model as
    tabular: its inputs are named features, not pixels.
    """
    return read_model(path, image_shape, activations, input_names=input_names).stack


def read_model(path: str | os.PathLike[str], image_shape: Sequence[int] | None = None,
               activations: str | Sequence[str] | None = None, *,
               input_names: Sequence[str] = ()) -> ModelFile:
    """`load_stack`, and what the file records beyond its weights (see `formats.metadata`)."""
    chosen = parse_activations(activations)
    shape = None if image_shape is None else (int(image_shape[0]), int(image_shape[1]))
    path = checked_input(path)
    suffix = path.suffix.lower()
    if suffix in PICKLES:
        raise MlplensError(f"{path}: {suffix} files are Python pickles, which mlplens never "
                           "loads; save the weights as .safetensors, .onnx or .npz")
    if suffix not in READERS:
        suffix = sniff(path) or suffix
    if suffix not in READERS:
        raise MlplensError(f"{path}: unsupported model format {path.suffix or '(no suffix)'!r}; "
                           f"mlplens reads {', '.join(READERS)}")
    module, what = READERS[suffix]
    reader = importlib.import_module(f".{module}", __name__).read
    try:
        stack, found = reader(path, shape, chosen, input_names=tuple(input_names))
        if found.class_names and len(found.class_names) != stack.widths[-1]:
            raise MlplensError(f"its metadata names {len(found.class_names)} classes but the "
                               f"model has {stack.widths[-1]} outputs")
        return ModelFile(path, stack, found)
    except MlplensError as exc:
        raise MlplensError(f"{path}: {exc}") from None
    except Exception as exc:  # a damaged file makes each library fail in its own way
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise MlplensError(f"{path}: cannot read this {what} ({reason[:300]})") from None


def stack_from(obj: Any, image_shape: Sequence[int] | None = None,
               activations: str | Sequence[str] | None = None, *,
               input_names: Sequence[str] = ()) -> DenseStack:
    """A live model -> DenseStack: a fitted scikit-learn MLPClassifier/MLPRegressor or a Keras
    model that is a chain of Dense layers (a DenseStack is returned as it is); `input_names`
    read it as tabular."""
    from .sklearn import is_sklearn_mlp, stack_from_sklearn

    chosen = parse_activations(activations)
    shape = None if image_shape is None else (int(image_shape[0]), int(image_shape[1]))
    if isinstance(obj, DenseStack):
        if shape is None and chosen is None and not input_names:
            return obj
        layers = obj.layers
        return DenseStack.from_arrays([layer.kernel for layer in layers],
                                      [layer.bias for layer in layers],
                                      chosen or [layer.activation for layer in layers],
                                      shape or obj.image_shape, [layer.name for layer in layers],
                                      channels=obj.channels, pixel_scale=obj.pixel_scale,
                                      input_names=tuple(input_names) or obj.input_names,
                                      norms=[layer.norm for layer in layers],
                                      norm_after=[layer.norm_after for layer in layers],
                                      head=obj.head_kind)
    if is_sklearn_mlp(obj):
        return stack_from_sklearn(obj, shape, chosen, input_names=tuple(input_names))
    if type(obj).__module__.split(".")[0] == "keras" or (
            hasattr(obj, "layers") and hasattr(obj, "get_weights")):
        from .keras_model import stack_from_keras

        return stack_from_keras(obj, shape, chosen, input_names=tuple(input_names))
    raise MlplensError(f"cannot read a {type(obj).__module__}.{type(obj).__qualname__}: mlplens "
                       "reads scikit-learn MLPClassifier/MLPRegressor and Keras models (and "
                       "files: see mlplens.load_stack)")
