"""Keras `.h5` / `.hdf5` files read with h5py alone: no Keras import, no framework version lock.

The layout Keras 2 wrote (and Keras 3 still writes for `.h5`): root attribute `model_config`
(the model's JSON config), group `model_weights` with attribute `layer_names`, and one group per
layer whose attribute `weight_names` lists its datasets in order (kernel, then bias). A file
written by `save_weights` has no `model_config`: its layer groups sit at the root, and its
activations are not recorded (`--activations` says them; else ReLU between layers, logits out).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..core.stack import DenseStack
from ..errors import MlplensError
from .common import Chain, check_declared, default_activations, image_shape_from_input
from .keras_layers import check_config, layer_name, walk

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


class _Weights:
    """Reads a layer's datasets in `weight_names` order, checking sizes before any data."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self.total = 0

    def names(self, layer: str) -> list[str]:
        if layer not in self.root:
            return []
        group = self.root[layer]
        return [_text(name) for name in np.atleast_1d(group.attrs.get("weight_names", []))]

    def read(self, layer: str) -> list[np.ndarray]:
        import h5py

        arrays = []
        for name in self.names(layer):
            dataset = self.root[layer].get(name)
            if not isinstance(dataset, h5py.Dataset):
                raise MlplensError(f"layer {layer!r}: weight {name!r} is missing from the file")
            self.total = check_declared(f"{layer}/{name}", dataset.shape, self.total)
            if dataset.dtype.kind not in "fiu":
                raise MlplensError(f"layer {layer!r}: weight {name!r} has type {dataset.dtype}, "
                                   "not numbers")
            try:
                arrays.append(np.asarray(dataset[()]))
            except OSError as exc:  # a failing fletcher32 checksum or filter, a short file
                reason = " ".join(str(exc).split())
                raise MlplensError(f"layer {layer!r}: weight {name!r} cannot be read, the file "
                                   f"is damaged ({reason})") from None
        return arrays


def read(path: Path, image_shape: tuple[int, int] | None = None,
         activations: tuple[str, ...] | None = None) -> DenseStack:
    import h5py

    with open(path, "rb") as handle:
        if handle.read(len(HDF5_MAGIC)) != HDF5_MAGIC:
            raise MlplensError("cannot read this Keras model (not an HDF5 file: its signature "
                               "is missing)")
    with h5py.File(path, "r") as h5:
        if "model_config" not in h5.attrs:
            return _weights_only(h5, image_shape, activations)
        try:
            model_config = json.loads(_text(h5.attrs["model_config"]))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MlplensError(f"cannot read this Keras model (its model_config is not JSON: "
                               f"{exc})") from None
        layers, declared = check_config(model_config)
        weights = _Weights(h5["model_weights"] if "model_weights" in h5 else h5)
        chain = walk((str(layer.get("class_name")), layer_name(layer),
                      layer.get("config") if isinstance(layer.get("config"), dict) else {},
                      lambda name=layer_name(layer): weights.read(name))
                     for layer in layers)
        if image_shape is None:
            image_shape = image_shape_from_input(declared, int(np.shape(chain.kernels[0])[0]))
        return chain.stack(image_shape, activations)


def _weights_only(h5: Any, image_shape: tuple[int, int] | None,
                  activations: tuple[str, ...] | None) -> DenseStack:
    """A `save_weights` file: every layer with weights must be a Dense kernel (and bias)."""
    if "layer_names" not in h5.attrs:
        raise MlplensError("cannot read this Keras model (an HDF5 file without Keras' "
                           "model_config or layer_names)")
    weights = _Weights(h5)
    chain = Chain()
    for name in (_text(n) for n in np.atleast_1d(h5.attrs["layer_names"])):
        arrays = weights.read(name)
        if not arrays:
            continue
        if arrays[0].ndim != 2 or len(arrays) > 2:
            raise MlplensError(f"layer {name!r} holds weights shaped "
                               f"{[a.shape for a in arrays]}: not a Dense layer")
        chain.dense(name, arrays[0], arrays[1] if len(arrays) > 1 else None)
    if not chain.kernels:
        raise MlplensError("the model has no Dense layers")
    chain.activations = default_activations(len(chain.kernels))
    return chain.stack(image_shape, activations)
