"""Everything the explorer page shows, as one JSON-able dict of compact base64 arrays.

Weights are little-endian float32 (the model's own numbers, so the page's forward pass matches
NumPy's to rounding); pictures and digits are raw uint8, (n, H, W) or (n, H, W, 3) for colour,
and test images given as float brightness also travel as float32, so the page computes on the
very numbers NumPy does. Picture sets come in as a mapping
method -> per-layer LayerViews, so any method the project grows (gradient, maximize, examples...)
shows up in the page without changes here; extra per-node numbers come in as name -> per-layer
arrays.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..core import heads
from ..methods import METHODS
from ..core.mnist_like import MIN_INK, MIN_ROWS, PEN
from ..core.node_statistics import NodeStatistics
from ..core.pixel_scale import as_pixels
from ..core.stack import DenseLayer, DenseStack, LayerNorm
from ..errors import MlplensError
from ..layout.views import LayerView, layer_views
from ..snapshots import Snapshots, spread_frames

FORMAT_VERSION = 1
COLORMAPS = ("gray", "viridis", "RdBu_r")
# Colour maps whose middle colour means zero: only for pictures that keep the sign.
DIVERGING = ("RdBu_r",)
SIGNED_MODES = ("symmetric", "layer")


def b64(array: np.ndarray, dtype: str) -> str:
    """A C-ordered array as base64 of its bytes in the given little-endian dtype."""
    return base64.b64encode(np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<"))
                            .tobytes()).decode("ascii")


def data_bytes(stack: DenseStack, pictures: int, digits: int) -> int:
    """The text explorer_data makes: base64 (4 characters for 3 bytes) of every weight in
    float32, of `pictures` node pictures (one byte a pixel) and `digits` test images (one byte
    a pixel, and four more when they are float brightness)."""
    weights = sum(layer.kernel.size + layer.bias.size for layer in stack.layers)
    return 4 * (4 * weights + stack.n_inputs * (pictures + 5 * digits)) // 3


def input_kind(stack: DenseStack) -> str:
    """How the page takes its input: "draw" on the pad for MNIST's 28x28 grey digits, else
    "images": the data's test images to pick and a loader for the user's own."""
    return "draw" if stack.picture_shape == (28, 28) and not stack.is_tabular else "images"


def _test_images(images: np.ndarray, labels: Sequence[int] | np.ndarray, source: str
                 ) -> dict[str, Any]:
    """Test images as uint8 pixels (what is drawn) and, when they are float brightness, also
    as float32 (what the network is given)."""
    images = np.asarray(images)
    block = {"source": source, "count": int(len(images)), "labels": b64(np.asarray(labels), "u1")}
    if images.dtype == np.uint8:
        block["pixels"] = b64(images, "u1")
    else:
        block["pixels"] = b64(as_pixels(images), "u1")
        block["brightness"] = b64(images.astype(np.float32), "f4")
    return block


def _pictures(view: LayerView | None) -> dict[str, Any] | None:
    if view is None:
        return None
    images = np.asarray(view.images, dtype=np.uint8)
    return {"shape": list(images.shape), "pixels": b64(images, "u1"),
            "legend": list(view.legend)}


def picture_sets(stack: DenseStack, views: Mapping[str, Sequence[LayerView | None]]
                 ) -> list[dict[str, Any]]:
    """One entry per method, each with one picture block per layer (None where it has none)."""
    result = []
    for method, layers in views.items():
        if len(layers) != len(stack.layers):
            raise MlplensError(f"method {method!r} has pictures for {len(layers)} layers, the "
                               f"model has {len(stack.layers)}")
        normalization = next((v.normalization for v in layers if v is not None), "")
        signed = method in METHODS and METHODS[method].signed and normalization in SIGNED_MODES
        result.append({"name": method, "normalization": normalization, "signed": signed,
                       "description": METHODS[method].description if method in METHODS else "",
                       "layers": [_pictures(view) for view in layers]})
    return result


def _matches(snapshots: Snapshots, stack: DenseStack) -> bool:
    return (len(snapshots.kernels) == len(stack.layers)
            and all(k.shape[1:] == layer.kernel.shape
                    for k, layer in zip(snapshots.kernels, stack.layers)))


def _is_final(snapshots: Snapshots, stack: DenseStack) -> bool:
    """Whether the last snapshot is the model itself, up to the snapshots' float16 rounding."""
    return all(np.allclose(k[-1].astype(np.float32), layer.kernel, rtol=1e-3, atol=1e-4)
               and np.allclose(b[-1].astype(np.float32), layer.bias, rtol=1e-3, atol=1e-4)
               for k, b, layer in zip(snapshots.kernels, snapshots.biases, stack.layers))


def snapshot_frames(snapshots: Snapshots, stack: DenseStack, methods: Sequence[str] = ("linear",),
                    normalization: str = "minmax", max_frames: int = 8) -> dict[str, Any] | None:
    """The node pictures at up to `max_frames` steps of training, for the slider.

    The slider's last position is always the trained model itself (the pictures the page
    shows elsewhere); when the last snapshot is that model (up to float16 rounding) it is not
    repeated as a frame. Earlier frames are drawn from the float16 snapshots.
    """
    if not _matches(snapshots, stack):
        raise MlplensError("the training snapshots do not match the model's layers")
    if max_frames < 2 or len(snapshots) == 0:
        return None
    final = _is_final(snapshots, stack)
    available = len(snapshots) - 1 if final else len(snapshots)
    chosen = spread_frames(snapshots.steps[:available], max_frames - 1) if available else []
    frames = []
    for index in chosen:
        past = snapshots.stack(index)
        frames.append({"step": int(snapshots.steps[index]),
                       "test_accuracy": float(snapshots.test_accuracy[index]),
                       "methods": {method: [_pictures(view) for view in
                                            layer_views(past, method, normalization)]
                                   for method in methods}})
    return {"normalization": normalization, "snapshot_count": len(snapshots),
            "final_step": int(snapshots.steps[-1]) if final else None, "frames": frames}


def _stats_block(stats: Sequence[NodeStatistics], extra: Mapping[str, Sequence[np.ndarray]],
                 stack: DenseStack) -> list[dict[str, Any]]:
    layers = []
    for k, (layer_stats, width) in enumerate(zip(stats, stack.widths)):
        # The names of NodeStatistics and nodes.json; class_means per node: (nodes, classes).
        block = {"firing_fraction": b64(layer_stats.firing_fraction, "f4"),
                 "mean_activation": b64(layer_stats.mean_activation, "f4"),
                 "class_means": b64(layer_stats.class_means.T, "f4"),
                 "classes": int(layer_stats.class_means.shape[0]),
                 "colour_scale": layer_stats.colour_scale, "extra": {}}
        for name, per_layer in extra.items():
            values = per_layer[k] if k < len(per_layer) else None
            if values is None:
                continue
            values = np.asarray(values, dtype=np.float32)
            if values.shape != (width,):
                raise MlplensError(f"statistic {name!r}: layer {k + 1} needs {width} values, "
                                   f"got shape {values.shape}")
            block["extra"][name] = b64(values, "f4")
        layers.append(block)
    return layers


def _norm(norm: LayerNorm | None, after: bool) -> dict[str, Any] | None:
    """A layer's LayerNorm as the page computes it (float32 scale and offset, as NumPy's)."""
    if norm is None:
        return None
    return {"scale": b64(norm.scale, "f4"), "offset": b64(norm.offset, "f4"),
            "epsilon": float(norm.epsilon), "after": bool(after)}


def layer_weights(layer: DenseLayer) -> dict[str, Any]:
    """One Dense layer as every page's forward pass reads it (decode.js decodeWeights): float32
    kernel (inputs, units) and bias, its activation and its LayerNorm."""
    return {"name": layer.name, "units": layer.units, "inputs": int(layer.kernel.shape[0]),
            "activation": layer.activation, "kernel": b64(layer.kernel, "f4"),
            "bias": b64(layer.bias, "f4"), "norm": _norm(layer.norm, layer.norm_after)}


def explorer_data(stack: DenseStack, views: Mapping[str, Sequence[LayerView | None]], *,
                  digits: np.ndarray, digit_labels: np.ndarray, digit_source: str,
                  stats: Sequence[NodeStatistics], stats_source: str,
                  extra_stats: Mapping[str, Sequence[np.ndarray]] | None = None,
                  frames: dict[str, Any] | None = None, model_name: str = "",
                  test_accuracy: float | None = None,
                  colormaps: Mapping[str, np.ndarray] | None = None,
                  class_names: Sequence[str] | None = None) -> dict[str, Any]:
    """The page's data: weights (and LayerNorms), pictures, statistics, test images and
    training frames; how the model takes pixels (channels, pixel scale), what its output means
    (its head) and what its classes are called (None: their numbers)."""
    digits = np.asarray(digits)
    if digits.shape[1:] != stack.picture_shape:
        raise MlplensError(f"test images are {digits.shape[1:]}, the model takes "
                           f"{stack.picture_shape}")
    if colormaps is None:
        from ..render import colormap_lut

        colormaps = {name: colormap_lut(name) for name in COLORMAPS}
    return {
        "version": FORMAT_VERSION,
        "model": {"name": model_name, "describe": stack.describe(),
                  "test_accuracy": test_accuracy, "score": heads.score_name(stack)},
        "image_shape": list(stack.image_shape), "channels": stack.channels,
        "input": input_kind(stack),
        "pixel_scale": {"high": stack.pixel_scale.high, "mean": stack.pixel_scale.mean,
                        "std": stack.pixel_scale.std, "name": stack.pixel_scale.name},
        "class_names": list(heads.class_names(stack, class_names)), "head": stack.head,
        "pen": PEN, "min_rows": MIN_ROWS, "min_ink": MIN_INK,
        "layers": [layer_weights(layer) for layer in stack.layers],
        "methods": picture_sets(stack, views),
        "stats": {"source": stats_source, "layers": _stats_block(stats, extra_stats or {}, stack)},
        "digits": _test_images(digits, digit_labels, digit_source),
        "frames": frames,
        "colormaps": {name: b64(np.asarray(lut), "u1") for name, lut in colormaps.items()},
        "diverging": [name for name in colormaps if name in DIVERGING],
    }
