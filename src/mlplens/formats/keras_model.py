"""Live Keras models and `.keras` files, read through Keras itself, into DenseStacks.

The layers are judged by `keras_layers.walk`, the same rules the h5py reader and the config
check of `keras_file` apply, so every Keras route accepts and refuses the same models.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core.stack import DenseStack
from ..errors import MlplensError
from ..keras_backend import import_keras
from .common import image_shape_from_input
from .keras_layers import PASS_THROUGH, KerasLayer, walk


def _keras_layers(model: Any) -> Iterator[KerasLayer]:
    """Each layer as (class name, name, config, weights) for `keras_layers.walk`."""
    for layer in model.layers:
        kind = type(layer).__name__
        config = layer.get_config() if kind not in PASS_THROUGH else {}
        if kind == "Dense":  # the live activation function, as Keras resolves it
            config = {**config, "activation": _activation_name(layer)}
        yield kind, layer.name, config, layer.get_weights


def _activation_name(layer: Any) -> str:
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", str(activation))


def stack_from_keras(model: Any, image_shape: tuple[int, int] | None = None,
                     activations: Sequence[str] | None = None, *, channels: int = 1,
                     input_names: Sequence[str] = ()) -> DenseStack:
    """Read a Keras model that is a chain of Dense layers into a DenseStack.

    InputLayer, Flatten, a Reshape to a vector and Dropout are passed over; Activation, ReLU,
    LeakyReLU, ELU and Softmax layers apply to the Dense layer before them, BatchNormalization
    folds into a Dense exactly, LayerNormalization attaches to one; any other layer is refused
    by name (`keras_layers.role`).
    """
    if len(getattr(model, "inputs", None) or [None]) != 1 or \
            len(getattr(model, "outputs", None) or [None]) != 1:
        raise MlplensError("the model must have one input and one output")
    chain = walk(_keras_layers(model))
    if image_shape is None and not input_names and channels == 1:
        declared = tuple(getattr(model, "input_shape", ()) or ())[1:]
        image_shape = image_shape_from_input(declared, int(np.shape(chain.kernels[0])[0]))
    return chain.stack(image_shape, activations, channels=channels, input_names=input_names)


def _load_keras_model(keras: Any, path: Path) -> Any:
    """Keras accepts only lower-case suffixes; read `MODEL.H5` through a lower-case link."""
    if path.suffix == path.suffix.lower():
        return keras.saving.load_model(path, compile=False)
    with tempfile.TemporaryDirectory() as folder:
        alias = Path(folder) / (path.stem + path.suffix.lower())
        try:
            alias.symlink_to(path.resolve())
        except OSError:
            shutil.copyfile(path, alias)
        return keras.saving.load_model(alias, compile=False)


def load_keras_stack(path: Path, image_shape: tuple[int, int] | None = None,
                     activations: Sequence[str] | None = None, *,
                     channels: int = 1, input_names: Sequence[str] = ()) -> DenseStack:
    """A `.keras` file (checked by `keras_file` first) -> DenseStack, via Keras.

    Messages do not name the file: `mlplens.formats.load_stack` puts the path in front.
    """
    keras = import_keras()
    try:
        model = _load_keras_model(keras, path)
    except Exception as exc:  # Keras raises many types for corrupt or foreign files
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MlplensError(f"cannot read this Keras model ({reason[:300]})") from None
    return stack_from_keras(model, image_shape, activations, channels=channels,
                            input_names=input_names)
