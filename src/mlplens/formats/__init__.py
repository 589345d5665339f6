"""Every model format mlplens reads, each ending in the same DenseStack.

One small module per format, each a function `read(path, image_shape, activations)` (and the
`channels` an image shape (H, W, C) gives) returning the stack and what the file records beyond
its weights (`metadata.Recorded`, with what the reader assumed: its notes); frameworks (h5py,
safetensors, onnx, Keras) are imported inside the readers, so `mlplens --help` stays fast.
`load_stack` picks the reader by suffix, or by the file's first bytes when the suffix is unknown,
and turns every failure into one `MlplensError` line that names the file. `stack_from` reads
live models: scikit-learn, Keras, and torch modules (torch imported only for those).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.heads import names_fit
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


def image_shape_and_channels(image_shape: Sequence[int] | None
                             ) -> tuple[tuple[int, int] | None, int | None]:
    """(H, W) or (H, W, C) -> ((H, W), C or None); C must be 1 (grey) or 3 (colour)."""
    if image_shape is None:
        return None, None
    dims = tuple(int(size) for size in image_shape)
    if len(dims) not in (2, 3):
        raise MlplensError(f"an image shape is (H, W) or (H, W, C), got {dims}")
    if len(dims) == 3 and dims[2] not in (1, 3):
        raise MlplensError(f"image shape {dims[0]}x{dims[1]}x{dims[2]}: the channels C must be "
                           "1 (grey) or 3 (colour)")
    return (dims[0], dims[1]), (dims[2] if len(dims) == 3 else None)


def load_stack(path: str | os.PathLike[str], image_shape: Sequence[int] | None = None,
               activations: str | Sequence[str] | None = None, *,
               input_names: Sequence[str] = (), layer_order: str | None = None) -> DenseStack:
    """Read a model file into a DenseStack.

    `image_shape` (H, W), or (H, W, C) with C channels (1 or 3), is needed when the input is not
    a square grey image and the file does not record it; `activations` (one per Dense layer,
    e.g. "relu,relu,softmax") replace whatever the file records, for formats such as
    safetensors that may record none; `layer_order` (e.g. "fc1,bn1,relu,fc2,head") says the
    order of a state_dict's modules when their shapes allow several. The stack takes the
    channels and pixel scale the file records (`formats.metadata`); `read_model` also tells what
    was recorded (class names among it) and what was assumed. `input_names` (one per input)
    read the model as tabular: its inputs are named features, not pixels.
    """
    return read_model(path, image_shape, activations, input_names=input_names,
                      layer_order=layer_order).stack


def read_model(path: str | os.PathLike[str], image_shape: Sequence[int] | None = None,
               activations: str | Sequence[str] | None = None, *,
               input_names: Sequence[str] = (), layer_order: str | None = None) -> ModelFile:
    """`load_stack`, and what the file records beyond its weights (see `formats.metadata`)."""
    chosen = parse_activations(activations)
    shape, channels = image_shape_and_channels(image_shape)
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
    told: dict[str, Any] = {} if channels is None else {"channels": channels}
    if layer_order is not None:
        if module != "safetensors_file":
            raise MlplensError(f"{path}: --layer-order is for PyTorch state_dicts "
                               f"(.safetensors), whose keys do not record an order; a {what} "
                               "records its own")
        told["layer_order"] = layer_order
    reader = importlib.import_module(f".{module}", __name__).read
    try:
        stack, found = reader(path, shape, chosen, input_names=tuple(input_names), **told)
        if found.class_names and not names_fit(stack, len(found.class_names)):
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
    """A live model -> DenseStack: a fitted scikit-learn MLPClassifier/MLPRegressor, a Keras
    model that is a chain of Dense layers, or a torch.nn.Module whose forward is a chain of
    layers (traced with torch.fx; torch is imported only for such an object); a DenseStack is
    returned as it is. `image_shape` is (H, W) or (H, W, C); `input_names` read it as tabular."""
    from .sklearn import is_sklearn_mlp, stack_from_sklearn
    from .torch_module import is_torch_module

    chosen = parse_activations(activations)
    shape, channels = image_shape_and_channels(image_shape)
    names = tuple(input_names)
    if isinstance(obj, DenseStack):
        if shape is None and channels is None and chosen is None and not names:
            return obj
        layers = obj.layers
        return DenseStack.from_arrays([layer.kernel for layer in layers],
                                      [layer.bias for layer in layers],
                                      chosen or [layer.activation for layer in layers],
                                      shape or obj.image_shape, [layer.name for layer in layers],
                                      channels=channels or obj.channels,
                                      pixel_scale=obj.pixel_scale,
                                      input_names=names or obj.input_names,
                                      norms=[layer.norm for layer in layers],
                                      norm_after=[layer.norm_after for layer in layers],
                                      head=obj.head_kind)
    if is_sklearn_mlp(obj):
        return stack_from_sklearn(obj, shape, chosen, channels=channels or 1, input_names=names)
    if is_torch_module(obj):
        from .torch_module import stack_from_torch

        return stack_from_torch(obj, shape, chosen, channels=channels or 1, input_names=names)
    if type(obj).__module__.split(".")[0] == "keras" or (
            hasattr(obj, "layers") and hasattr(obj, "get_weights")):
        from .keras_model import stack_from_keras

        return stack_from_keras(obj, shape, chosen, channels=channels or 1, input_names=names)
    raise MlplensError(f"cannot read a {type(obj).__module__}.{type(obj).__qualname__}: mlplens "
                       "reads scikit-learn MLPClassifier/MLPRegressor, Keras models and "
                       "torch.nn.Modules (and files: see mlplens.load_stack)")
