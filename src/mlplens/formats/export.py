"""Write a DenseStack as `.safetensors`, `.onnx` or `.npz`, each readable by mlplens and by the
format's own tools: torch's `nn.Sequential` key layout, an ONNX graph of Gemm and activation
nodes that any ONNX runtime runs, and the documented npz layout; what the weights do not say
(image shape, channels, pixel scale, class names) goes where each format keeps metadata
(`formats.metadata`). Files are written atomically.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..core.stack import DenseStack
from ..errors import MlplensError
from ..output import atomic_path, save_npz
from .metadata import CLASS_NAMES, PIXEL_SCALE, metadata_text

ONNX_OPSET = 17
ONNX_OPS = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softmax": "Softmax"}


def safetensors_bytes(stack: DenseStack, class_names: Sequence[str] = ()) -> bytes:
    """torch's nn.Sequential(Linear, act, Linear, ...) layout: `2k.weight` (out, in), `2k.bias`;
    a LayerNorm is a module of its own in its place (Linear, LayerNorm, act or Linear, act,
    LayerNorm), its `weight` and `bias` the scale and offset, its epsilon in the metadata."""
    from safetensors.numpy import save

    tensors = {}
    index = 0
    for layer in stack.layers:
        tensors[f"{index}.weight"] = np.ascontiguousarray(layer.kernel.T)
        tensors[f"{index}.bias"] = np.ascontiguousarray(layer.bias)
        index += 1
        # the activation's module (parameter-free) takes one index, the LayerNorm another
        norm_at = None if layer.norm is None else index + 1 if layer.norm_after else index
        if layer.norm is not None:
            tensors[f"{norm_at}.weight"] = np.ascontiguousarray(layer.norm.scale)
            tensors[f"{norm_at}.bias"] = np.ascontiguousarray(layer.norm.offset)
        index += 1 if layer.norm is None else 2
    return save(tensors, metadata=metadata_text(stack, class_names))


def onnx_model(stack: DenseStack, class_names: Sequence[str] = ()):
    """An ONNX ModelProto: input `pixels` (N, H*W), one Gemm per layer, then its activation."""
    from onnx import TensorProto, helper, numpy_helper

    nodes, initializers = [], []
    current = "pixels"
    for index, layer in enumerate(stack.layers, start=1):
        weight, bias = f"{layer.name}.kernel", f"{layer.name}.bias"
        initializers += [numpy_helper.from_array(layer.kernel, weight),
                         numpy_helper.from_array(layer.bias, bias)]
        output = f"{layer.name}.dense"
        nodes.append(helper.make_node("Gemm", [current, weight, bias], [output],
                                      name=layer.name))
        current = output
        if layer.activation != "linear":
            output = f"{layer.name}.{layer.activation}"
            extra = {"axis": -1} if layer.activation == "softmax" else {}
            nodes.append(helper.make_node(ONNX_OPS[layer.activation], [current], [output],
                                          name=f"{layer.name}_{layer.activation}", **extra))
            current = output
    graph = helper.make_graph(
        nodes, "mlplens",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["batch", stack.n_inputs])],
        [helper.make_tensor_value_info(current, TensorProto.FLOAT,
                                       ["batch", stack.widths[-1]])],
        initializers)
    model = helper.make_model(graph, producer_name="mlplens",
                              opset_imports=[helper.make_opsetid("", ONNX_OPSET)])
    helper.set_model_props(model, metadata_text(stack, class_names))
    return model


def npz_arrays(stack: DenseStack, class_names: Sequence[str] = ()) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    for index, layer in enumerate(stack.layers, start=1):
        arrays[f"W{index}"] = layer.kernel
        arrays[f"b{index}"] = layer.bias
        if layer.norm is not None:
            arrays[f"ln{index}_scale"] = layer.norm.scale
            arrays[f"ln{index}_offset"] = layer.norm.offset
            arrays[f"ln{index}_epsilon"] = np.array(layer.norm.epsilon, dtype=np.float64)
            arrays[f"ln{index}_after"] = np.array(layer.norm_after)
    arrays["activations"] = np.array([layer.activation for layer in stack.layers])
    arrays["image_shape"] = np.array(stack.image_shape, dtype=np.int64)
    text = metadata_text(stack, class_names)
    arrays["channels"] = np.array(stack.channels, dtype=np.int64)
    arrays["pixel_scale"] = np.array(text[PIXEL_SCALE])
    if CLASS_NAMES in text:
        arrays["class_names"] = np.array([str(name) for name in class_names])
    if stack.input_names:
        arrays["feature_names"] = np.array(stack.input_names)
    if stack.head_kind:
        arrays["head"] = np.array(stack.head_kind)
    return arrays


def save_stack(stack: DenseStack, path: str | os.PathLike[str],
               class_names: Sequence[str] = ()) -> Path:
    """Write `stack` in the format its suffix names (.safetensors, .onnx or .npz), with its
    image shape, channels, pixel scale and `class_names` (one per output, if given) recorded
    (`formats.metadata`), so that reading it back needs no options."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".safetensors", ".onnx", ".npz"):
        raise MlplensError(f"{path}: cannot save as {suffix or '(no suffix)'!r}; mlplens writes "
                           ".safetensors, .onnx and .npz")
    if suffix == ".npz":
        return save_npz(path, npz_arrays(stack, class_names))
    with atomic_path(path) as tmp:
        if suffix == ".safetensors":
            tmp.write_bytes(safetensors_bytes(stack, class_names))
        else:
            tmp.write_bytes(onnx_model(stack, class_names).SerializeToString())
    return path
