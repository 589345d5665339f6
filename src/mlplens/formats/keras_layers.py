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

# The layers whose weights a chain reads.
WEIGHTED = ("Dense", "BatchNormalization", "LayerNormalization")
# (class name, layer name, its config, a function giving [kernel, bias?] for Dense layers)
KerasLayer = tuple[str, str, dict[str, Any], Callable[[], list[np.ndarray]]]


# Keras' activation names whose parameters the name fixes: Keras 3's own defaults (its
# `leaky_relu` function slopes 0.2, unlike PyTorch's 0.01), written out so nothing is guessed.
KERAS_ACTIVATIONS = {"leaky_relu": "leaky_relu(0.2)", "elu": "elu(1.0)", "gelu": "gelu",
                     "swish": "silu", "hard_swish": "hard_swish", "hard_silu": "hard_swish"}
SUPPORTED = ("Dense, BatchNormalization, LayerNormalization (axis -1), Activation, ReLU, "
             "LeakyReLU, ELU, Softmax, Flatten, Reshape to a vector and Dropout")


def keras_activation(name: object, label: str) -> str:
    """A Keras activation name (a config's string or a live function's __name__) as a
    canonical one, or a refusal naming the layer."""
    text = KERAS_ACTIVATIONS.get(name.lower(), name) if isinstance(name, str) else name
    return activation_name(text, label)


def _last_axis(axis: Any) -> bool:
    """Whether a normalisation's axis is the features' (a Dense chain's values are (batch, n))."""
    axes = axis if isinstance(axis, list) else [axis]
    return len(axes) == 1 and axes[0] in (-1, 1)


def role(kind: str, name: str, config: dict[str, Any]) -> tuple[str, str]:
    """("skip", "") | ("dense", activation) | ("fold", activation) | ("batch_norm", "") |
    ("layer_norm", ""), or a one-line refusal naming the layer and what mlplens reads."""
    label = f"layer {name!r} ({kind})"
    if kind in PASS_THROUGH:
        return "skip", ""
    if kind == "Reshape" and len(config.get("target_shape") or ()) == 1:
        return "skip", ""
    if kind == "Dense":
        return "dense", keras_activation(config.get("activation", "linear"), label)
    if kind == "Activation":
        return "fold", keras_activation(config.get("activation"), label)
    if kind == "ReLU":
        return "fold", _relu(config, label)
    if kind == "LeakyReLU":  # Keras 3 calls the slope negative_slope, Keras 2 alpha (0.3)
        slope = config.get("negative_slope", config.get("alpha", 0.3))
        return "fold", activation_name(f"leaky_relu({float(slope)!r})", label)
    if kind == "ELU":
        return "fold", activation_name(f"elu({float(config.get('alpha', 1.0))!r})", label)
    if kind == "Softmax":
        if not _last_axis(config.get("axis", -1)):
            raise MlplensError(f"{label} has axis {config.get('axis')!r}: mlplens reads a "
                               "softmax over the last axis (axis=-1)")
        return "fold", "softmax"
    if kind in ("BatchNormalization", "LayerNormalization"):
        if not _last_axis(config.get("axis", -1)):
            raise MlplensError(f"{label} normalises axis {config.get('axis')!r}: mlplens reads "
                               "it over a Dense layer's values only (axis=-1)")
        if kind == "LayerNormalization" and config.get("rms_scaling"):
            raise MlplensError(f"{label} uses rms_scaling: mlplens reads LayerNormalization "
                               "with rms_scaling=False")
        return ("batch_norm" if kind == "BatchNormalization" else "layer_norm"), ""
    raise MlplensError(f"{label} is not supported: mlplens reads chains of {SUPPORTED}")


def _relu(config: dict[str, Any], label: str) -> str:
    """Keras' ReLU layer: plain, capped at 6 (relu6) or leaky; any other cap or a threshold is
    refused."""
    cap, slope = config.get("max_value"), float(config.get("negative_slope") or 0.0)
    if config.get("threshold"):
        raise MlplensError(f"{label} has threshold {config['threshold']!r}: mlplens reads ReLU "
                           "layers with threshold 0")
    if cap is None:
        return activation_name(f"leaky_relu({slope!r})", label) if slope else "relu"
    if float(cap) == 6.0 and not slope:
        return "relu6"
    raise MlplensError(f"{label} has max_value {cap!r} and negative_slope {slope!r}: mlplens "
                       "reads ReLU, ReLU(max_value=6) (relu6) and ReLU(negative_slope=s)")


def _norm_arrays(kind: str, name: str, config: dict[str, Any],
                 arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """A normalisation's (scale, offset, rest) by its center/scale flags: Keras stores gamma
    (if scale), beta (if center), then BatchNormalization's moving mean and variance."""
    has_scale, has_center = config.get("scale", True), config.get("center", True)
    expected = int(bool(has_scale)) + int(bool(has_center)) + (2 if kind == "BatchNormalization"
                                                               else 0)
    if len(arrays) != expected or not arrays:
        raise MlplensError(f"layer {name!r} ({kind}) holds {len(arrays)} weight(s); with "
                           f"scale={has_scale} and center={has_center} it should hold {expected}")
    width = np.shape(arrays[-1])[0]
    ones, zeros = np.ones(width, np.float32), np.zeros(width, np.float32)
    scale = arrays.pop(0) if has_scale else ones
    offset = arrays.pop(0) if has_center else zeros
    return scale, offset, arrays


def walk(layers: Iterable[KerasLayer]) -> Chain:
    """Read Keras layers in order into a Chain; any layer outside the chain is refused by name."""
    chain = Chain(owned=True)
    for kind, name, config, weights in layers:
        what, activation = role(kind, name, config)
        label = f"layer {name!r} ({kind})"
        if what == "dense":
            arrays = weights()
            if not arrays:
                raise MlplensError(f"{label} has no weights")
            chain.dense(name, arrays[0], arrays[1] if len(arrays) > 1 else None, activation)
        elif what == "fold":
            chain.fold(activation, label)
        elif what in ("batch_norm", "layer_norm"):
            scale, offset, rest = _norm_arrays(kind, name, config, list(weights()))
            epsilon = float(config.get("epsilon", 1e-3))
            if what == "batch_norm":
                chain.batch_norm(scale, offset, rest[0], rest[1], epsilon, label)
            else:
                chain.layer_norm(scale, offset, epsilon, label)
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
