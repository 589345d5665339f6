"""Which Keras layers a chain of Dense layers may hold, judged from layer configs (no Keras import).

Shared by the Keras adapter (`keras_model`, live layers), the h5py reader of `.h5` files and the
check of a `.keras` file's config.json before Keras builds it, so all three accept and refuse the
same layers, and a file that declares a huge or foreign layer is refused before anything is built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from ..errors import MlplensError
from .common import Chain, activation_name, check_declared

# Layers that only reshape or are inactive at inference: passed over when reading a model.
PASS_THROUGH = {"InputLayer", "Flatten", "Dropout", "GaussianDropout", "AlphaDropout",
                "GaussianNoise", "SpatialDropout1D"}

# (class name, layer name, its config, a function giving [kernel, bias?] for Dense layers)
KerasLayer = tuple[str, str, dict[str, Any], Callable[[], list[np.ndarray]]]


def role(kind: str, name: str, config: dict[str, Any]) -> tuple[str, str]:
    """("skip", "") | ("dense", activation) | ("fold", activation), or a refusal naming the layer."""
    label = f"layer {name!r} ({kind})"
    if kind in PASS_THROUGH:
        return "skip", ""
    if kind == "Reshape" and len(config.get("target_shape") or ()) == 1:
        return "skip", ""
    if kind == "Dense":
        return "dense", activation_name(config.get("activation", "linear"), label)
    if kind == "Activation":
        return "fold", activation_name(config.get("activation"), label)
    if kind == "ReLU" and (config.get("max_value") is None and not config.get("negative_slope")
                           and not config.get("threshold")):
        return "fold", "relu"
    if kind == "Softmax":
        return "fold", "softmax"
    raise MlplensError(f"{label} is not supported: mlplens reads chains of Dense layers "
                       "(with Flatten, Dropout and Activation)")


def walk(layers: Iterable[KerasLayer]) -> Chain:
    """Read Keras layers in order into a Chain; any layer outside the chain is refused by name."""
    chain = Chain(owned=True)
    for kind, name, config, weights in layers:
        what, activation = role(kind, name, config)
        if what == "dense":
            arrays = weights()
            if not arrays:
                raise MlplensError(f"layer {name!r} ({kind}) has no weights")
            chain.dense(name, arrays[0], arrays[1] if len(arrays) > 1 else None, activation)
        elif what == "fold":
            chain.fold(activation, f"layer {name!r} ({kind})")
    if not chain.kernels:
        raise MlplensError("the model has no Dense layers")
    return chain


# ---- a model's config, as stored in .h5 (model_config) and .keras (config.json) ----------------

def _as_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MlplensError(f"the model config is malformed ({what} is not a mapping)")
    return value


def config_layers(model_config: Any) -> list[dict[str, Any]]:
    """The layer entries of a Sequential, or of a Functional model that is a single chain."""
    model_config = _as_dict(model_config, "the model")
    kind = model_config.get("class_name")
    body = model_config.get("config")
    if isinstance(body, list):  # Keras 2.0/2.1 wrote a Sequential's layers as a bare list
        layers = body
    else:
        layers = _as_dict(body, "the model's config").get("layers")
    if not isinstance(layers, list):
        raise MlplensError(f"the model config ({kind}) has no list of layers")
    layers = [_as_dict(layer, "a layer") for layer in layers]
    if kind in ("Functional", "Model"):
        _check_functional_chain(layers)
    elif kind != "Sequential":
        raise MlplensError(f"the model is a {kind!r}; mlplens reads Sequential and Functional "
                           "models")
    return layers


def layer_name(layer: dict[str, Any]) -> str:
    config = layer.get("config") if isinstance(layer.get("config"), dict) else {}
    return str(layer.get("name") or config.get("name") or "?")


def _inbound_names(nodes: Any) -> Iterator[str]:
    """Layer names a layer is called on: Keras 3 `keras_history` or Keras 2 [name, 0, 0, {}]."""
    if isinstance(nodes, dict):
        history = nodes.get("keras_history")
        if isinstance(history, list) and history and isinstance(history[0], str):
            yield history[0]
            return
        for value in nodes.values():
            yield from _inbound_names(value)
    elif isinstance(nodes, list):
        if len(nodes) >= 3 and isinstance(nodes[0], str) and isinstance(nodes[1], int):
            yield nodes[0]
            return
        for value in nodes:
            yield from _inbound_names(value)


def _check_functional_chain(layers: list[dict[str, Any]]) -> None:
    """Each layer after the first must be called once, on the layer listed just before it."""
    for before, layer in zip(layers, layers[1:]):
        nodes = layer.get("inbound_nodes") or []
        called_on = list(_inbound_names(nodes))
        if len(nodes) != 1 or called_on != [layer_name(before)]:
            raise MlplensError(f"layer {layer_name(layer)!r} ({layer.get('class_name')}) is not "
                               f"called on {layer_name(before)!r} alone: mlplens reads models "
                               "that are one chain of layers")


def declared_input(model_config: dict[str, Any], layers: list[dict[str, Any]]) -> tuple[Any, ...]:
    """The input shape a config declares, without the batch axis (empty if it declares none)."""
    candidates = []
    if layers:
        first = layers[0].get("config") or {}
        candidates += [first.get("batch_shape"), first.get("batch_input_shape")]
    body = model_config.get("config")
    if isinstance(body, dict):
        candidates.append(body.get("build_input_shape"))
    for shape in candidates:
        if isinstance(shape, list) and len(shape) >= 2:
            return tuple(shape[1:])
    return ()


def check_config(model_config: Any) -> tuple[list[dict[str, Any]], tuple[Any, ...]]:
    """Refuse foreign layers and huge declared sizes from a config alone, before building.

    Returns the layer entries and the declared input shape.
    """
    layers = config_layers(model_config)
    shape = declared_input(model_config, layers)
    width = None
    if shape and all(isinstance(size, int) and size > 0 for size in shape):
        width = int(np.prod(np.array(shape, dtype=object)))
        check_declared("input", shape)
    total = 0
    for layer in layers:
        kind, name = str(layer.get("class_name")), layer_name(layer)
        config = layer.get("config") if isinstance(layer.get("config"), dict) else {}
        if role(kind, name, config)[0] != "dense":
            continue
        units = config.get("units")
        if not isinstance(units, int) or isinstance(units, bool) or units < 0:
            raise MlplensError(f"layer {name!r} (Dense) declares units={units!r}")
        total = check_declared(name, (width or 1, units), total)
        width = units
    return layers, shape
