"""Keras `.h5` / `.hdf5` files read with h5py alone: no Keras import, no framework version lock.

The layout Keras 2 wrote (and Keras 3 still writes for `.h5`): root attribute `model_config`
(the model's JSON config), group `model_weights` with attribute `layer_names`, and one group per
layer whose attribute `weight_names` lists its datasets in order (kernel, then bias). A file
written by `save_weights` has no `model_config`: its layer groups sit at the root, and its
activations are not recorded (`--activations` says them; else ReLU between layers, logits out).
Every weight is checked from its dataset header before any is read: its size, its type, the
bytes the file really stores for it (none, for a dataset declared and never written; a
hundredth, for a compressed bomb) and the memory reading them all takes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core.stack import DenseStack
from ..errors import MlplensError
from .common import (Chain, check_declared, check_held, default_activations,
                     image_shape_from_input, require_loading)
from .keras_layers import WEIGHTED, check_config, layer_name, walk
from .metadata import NOTHING, Recorded

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
# HDF5 filters that do not shrink data (shuffle, fletcher32): a dataset with no other filter
# must store every byte it declares.
SIZE_KEEPING_FILTERS = {2, 3}


def held_bytes(label: str, dataset: Any) -> int:
    """The bytes a dataset declares, refused unless the file stores them: all of them when it is
    not compressed, a hundredth when it is (`check_held`)."""
    declared = dataset.size * dataset.dtype.itemsize
    stored = dataset.id.get_storage_size()
    plist = dataset.id.get_create_plist()
    if {plist.get_filter(i)[0] for i in range(plist.get_nfilters())} - SIZE_KEEPING_FILTERS:
        check_held(label, dataset.shape, declared, declared, stored)
    else:
        check_held(label, dataset.shape, declared, stored)
    return declared


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


class _Weights:
    """A layer's datasets in `weight_names` order: all checked from their headers (`plan`)
    before any is read."""

    def __init__(self, root: Any) -> None:
        self.root = root

    def datasets(self, layer: str) -> list[tuple[str, Any]]:
        import h5py

        if layer not in self.root:
            return []
        group = self.root[layer]
        found = []
        for name in (_text(n) for n in np.atleast_1d(group.attrs.get("weight_names", []))):
            dataset = group.get(name)
            if not isinstance(dataset, h5py.Dataset):
                raise MlplensError(f"layer {layer!r}: weight {name!r} is missing from the file")
            found.append((name, dataset))
        return found

    def plan(self, layers: Iterable[str]) -> None:
        """Refuse, before reading anything, weights too big, not numbers, not stored in the file,
        or that would not fit in memory (each is read once in its own type, then converted)."""
        peak = total = 0
        for layer in layers:
            for name, dataset in self.datasets(layer):
                label = f"{layer}/{name}"
                total = check_declared(label, dataset.shape, total)
                if dataset.dtype.kind not in "fiu":
                    raise MlplensError(f"layer {layer!r}: weight {name!r} has type "
                                       f"{dataset.dtype}, not numbers")
                peak += held_bytes(label, dataset)
                peak += 0 if dataset.dtype == np.float32 else 4 * dataset.size
        require_loading(peak, total)

    def read(self, layer: str) -> list[np.ndarray]:
        arrays = []
        for name, dataset in self.datasets(layer):
            try:
                arrays.append(np.asarray(dataset[()]))
            except OSError as exc:  # a failing fletcher32 checksum or filter, a short file
                reason = " ".join(str(exc).split())
                raise MlplensError(f"layer {layer!r}: weight {name!r} cannot be read, the file "
                                   f"is damaged ({reason})") from None
        return arrays


def read(path: Path, image_shape: tuple[int, int] | None = None,
         activations: tuple[str, ...] | None = None, *, input_names: Sequence[str] = (),
         channels: int | None = None) -> tuple[DenseStack, Recorded]:
    """The model, and nothing recorded: mlplens writes no .h5, and Keras' HDF5 keeps no
    pixel scale or class names."""
    return _read(path, image_shape, activations, input_names, channels or 1), NOTHING


def _read(path: Path, image_shape: tuple[int, int] | None,
          activations: tuple[str, ...] | None, input_names: Sequence[str],
          channels: int) -> DenseStack:
    import h5py

    with open(path, "rb") as handle:
        if handle.read(len(HDF5_MAGIC)) != HDF5_MAGIC:
            raise MlplensError("cannot read this Keras model (not an HDF5 file: its signature "
                               "is missing)")
    with h5py.File(path, "r") as h5:
        if "model_config" not in h5.attrs:
            return _weights_only(h5, image_shape, activations, input_names, channels)
        try:
            model_config = json.loads(_text(h5.attrs["model_config"]))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MlplensError(f"cannot read this Keras model (its model_config is not JSON: "
                               f"{exc})") from None
        layers, declared = check_config(model_config)
        _refuse_keras2_hard_sigmoid(_text(h5.attrs.get("keras_version", "")), layers)
        weights = _Weights(h5["model_weights"] if "model_weights" in h5 else h5)
        weights.plan(layer_name(layer) for layer in layers
                     if layer.get("class_name") in WEIGHTED)
        chain = walk((str(layer.get("class_name")), layer_name(layer),
                      layer.get("config") if isinstance(layer.get("config"), dict) else {},
                      lambda name=layer_name(layer): weights.read(name))
                     for layer in layers)
        if image_shape is None and channels == 1:
            image_shape = image_shape_from_input(declared, int(np.shape(chain.kernels[0])[0]))
        return chain.stack(image_shape, activations, channels=channels, input_names=input_names)


def _refuse_keras2_hard_sigmoid(version: str, layers: list[dict[str, Any]]) -> None:
    """Keras before 3 computed hard_sigmoid as clip(0.2 x + 0.5, 0, 1), not Keras 3's (and
    PyTorch's) relu6(x + 3) / 6: read by the name alone it would give wrong outputs."""
    major = version.split(".")[0]
    if major.isdigit() and int(major) >= 3:
        return
    for layer in layers:
        config = layer.get("config") if isinstance(layer.get("config"), dict) else {}
        if config.get("activation") == "hard_sigmoid":
            raise MlplensError(f"layer {layer_name(layer)!r} ({layer.get('class_name')}) uses "
                               f"Keras {version or '2'}'s hard_sigmoid, clip(0.2x + 0.5, 0, 1), "
                               "which mlplens does not read (it reads Keras 3's, "
                               "relu6(x + 3) / 6)")


def _weights_only(h5: Any, image_shape: tuple[int, int] | None,
                  activations: tuple[str, ...] | None,
                  input_names: Sequence[str] = (), channels: int = 1) -> DenseStack:
    """A `save_weights` file: every layer with weights must be a Dense kernel (and bias)."""
    if "layer_names" not in h5.attrs:
        raise MlplensError("cannot read this Keras model (an HDF5 file without Keras' "
                           "model_config or layer_names)")
    weights = _Weights(h5)
    names = [_text(n) for n in np.atleast_1d(h5.attrs["layer_names"])]
    weights.plan(names)
    chain = Chain(owned=True)
    for name in names:
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
    return chain.stack(image_shape, activations, channels=channels, input_names=input_names)
