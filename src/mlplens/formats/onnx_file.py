"""ONNX models (`.onnx`) read with the `onnx` package from their initializers; no onnxruntime.

The graph must be one chain from its single input to its single output: Gemm, or MatMul then
Add, for each Dense layer, with Relu, Sigmoid, Tanh or Softmax between them (Flatten, Reshape to
a matrix, Identity and Dropout are passed over). Constants may be initializers or Constant nodes.
Declared tensor sizes are checked before any tensor is turned into an array, and the memory the
read takes (the file, the graph parsed from it, the arrays) before the file is parsed and again
before any array is made; weights stored in external files are refused. The input image shape
comes from `--image-shape`, else the metadata key `mlplens.image_shape` (`H,W`), else the
declared input shape (N, H, W) / (N, 1, H, W), else a square guess. The metadata keys of
`formats.metadata` give its channels, pixel scale and class names.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core.stack import DenseStack
from ..errors import MlplensError
from ..memory import format_size, require
from .common import (Chain, check_declared, image_shape_from_input, require_loading,
                     shape_from_text)
from .metadata import IMAGE_SHAPE, Recorded, finished, recorded

FOLD = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Softmax": "softmax"}
PASS = {"Flatten", "Identity", "Dropout"}
SUPPORTED = "Gemm or MatMul+Add with Relu, Sigmoid, Tanh or Softmax between"


class _Constants:
    """Initializers and Constant-node values, turned into arrays only once their size is checked."""

    def __init__(self, graph: Any) -> None:
        self.tensors = {tensor.name: tensor for tensor in graph.initializer}
        self.total = 0

    def __contains__(self, name: str) -> bool:
        return name in self.tensors

    def add_constant_node(self, node: Any) -> None:
        for attribute in node.attribute:
            if attribute.name == "value" and attribute.HasField("t"):
                self.tensors[node.output[0]] = attribute.t
                return
        raise MlplensError(f"Constant node {node.name!r} has no tensor value")

    def array(self, name: str) -> np.ndarray:
        from onnx import TensorProto, numpy_helper

        tensor = self.tensors[name]
        if tensor.data_location == TensorProto.EXTERNAL:
            raise MlplensError(f"tensor {name!r} is stored in an external file; mlplens reads "
                               "models whose weights are inside the .onnx file")
        self.total = check_declared(name, tensor.dims, self.total)
        return numpy_helper.to_array(tensor)


def _declared_bytes(tensor: Any) -> int:
    from onnx import helper

    try:
        itemsize = helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
    except (KeyError, ValueError):  # an undefined type: numpy_helper refuses it when read
        itemsize = 1
    return math.prod(tensor.dims) * itemsize


def _require_memory(graph: Any, file_size: int) -> None:
    """The parsed graph (about the file's size) plus every constant as an array: raw bytes are
    copied out once, typed fields (float_data...) twice; non-float32 arrays are converted for
    the DenseStack; a Gemm with alpha != 1 scales its kernel in float64. Arrays are made from
    the file's own bytes, so each sum is capped by what the file can hold (a constant declaring
    more than its data fails when read)."""
    from onnx import TensorProto

    tensors = list(graph.initializer) + [attribute.t for node in graph.node
                                         if node.op_type == "Constant"
                                         for attribute in node.attribute
                                         if attribute.name == "value" and attribute.HasField("t")]
    arrays = converted = values = 0
    counts = {}
    for tensor in tensors:
        count = math.prod(tensor.dims)
        counts[tensor.name] = count
        values += count
        arrays += _declared_bytes(tensor) * (1 if tensor.HasField("raw_data") else 2)
        converted += 0 if tensor.data_type == TensorProto.FLOAT else 4 * count
    scaled = max((counts.get(node.input[1], 0) for node in graph.node
                  if node.op_type == "Gemm" and len(node.input) > 1
                  and _attributes(node).get("alpha", 1.0) != 1.0), default=0)
    require_loading(file_size + min(arrays, 2 * file_size) + min(converted, 4 * file_size)
                    + min(8 * scaled, 2 * file_size), values)


def _attributes(node: Any) -> dict[str, Any]:
    from onnx import helper

    return {attribute.name: helper.get_attribute_value(attribute) for attribute in node.attribute}


def _declared_input(value_info: Any) -> tuple[Any, ...]:
    dims = value_info.type.tensor_type.shape.dim
    shape = tuple(d.dim_value if d.HasField("dim_value") else None for d in dims)
    return shape[1:]


def read(path: Path, image_shape: tuple[int, int] | None = None,
         activations: tuple[str, ...] | None = None, *, input_names: Sequence[str] = (),
         channels: int | None = None) -> tuple[DenseStack, Recorded]:
    import onnx

    size = path.stat().st_size
    require(2 * size, f"parsing this {format_size(size)} ONNX file")  # its bytes, then the graph
    model = onnx.load_model(str(path), load_external_data=False)
    graph = model.graph
    _require_memory(graph, size)
    constants = _Constants(graph)
    inputs = [value for value in graph.input if value.name not in constants]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise MlplensError(f"the graph has {len(inputs)} input(s) and {len(graph.output)} "
                           "output(s); mlplens reads models with one of each")
    current = inputs[0].name
    chain = Chain(owned=True)
    bias_open = False  # the last Dense came from a MatMul and may take an Add's bias
    for position, node in enumerate(graph.node, start=1):
        op = node.op_type
        label = f"node {node.name or position!r} ({op})"
        if op == "Constant":
            constants.add_constant_node(node)
            continue
        data = [name for name in node.input if name and name not in constants]
        if data != [current] or (op != "Add" and node.input[0] != current):
            raise MlplensError(f"{label} does not continue the chain from {current!r}: mlplens "
                               f"reads one chain of {SUPPORTED}")
        attributes = _attributes(node)
        name = node.name or f"{op.lower()}_{len(chain.kernels) + 1}"
        if op in PASS:
            pass
        elif op == "Reshape":
            target = constants.array(node.input[1]) if len(node.input) > 1 else np.array([])
            if target.ndim != 1 or len(target) != 2:
                raise MlplensError(f"{label} reshapes to {target.tolist()}, not to a matrix")
        elif op == "Gemm":
            if attributes.get("transA", 0):
                raise MlplensError(f"{label} transposes its input (transA=1)")
            kernel = constants.array(node.input[1])
            if kernel.ndim != 2:
                raise MlplensError(f"{label}: weight {node.input[1]!r} has shape {kernel.shape}")
            if attributes.get("transB", 0):
                kernel = kernel.T
            if attributes.get("alpha", 1.0) != 1.0:  # scaled in float64, then stored as float32
                kernel = kernel.astype(np.float64) * attributes["alpha"]
            bias = None
            if len(node.input) > 2 and node.input[2]:
                bias = _bias(constants.array(node.input[2]), kernel.shape[1], label)
                bias = bias * attributes.get("beta", 1.0)
            chain.dense(name, kernel, bias)
        elif op == "MatMul":
            kernel = constants.array(node.input[1])
            if kernel.ndim != 2:
                raise MlplensError(f"{label}: weight {node.input[1]!r} has shape {kernel.shape}")
            chain.dense(name, kernel, None)
        elif op == "Add" and bias_open:
            other = next(n for n in node.input if n != current)
            chain.biases[-1] = _bias(constants.array(other), chain.kernels[-1].shape[1], label)
        elif op in FOLD:
            if op == "Softmax" and attributes.get("axis", -1) not in (-1, 1):
                raise MlplensError(f"{label} applies softmax over axis {attributes['axis']}")
            chain.fold(FOLD[op], label)
        else:
            raise MlplensError(f"{label} is not supported: mlplens reads chains of {SUPPORTED}")
        bias_open = op == "MatMul"
        current = node.output[0]
    if current != graph.output[0].name:
        raise MlplensError(f"the graph's output {graph.output[0].name!r} is not the end of the "
                           f"chain ({current!r})")
    if not chain.kernels:
        raise MlplensError("the model has no Dense layers (no Gemm or MatMul)")
    metadata = {prop.key: prop.value for prop in model.metadata_props}
    if image_shape is None:
        if IMAGE_SHAPE in metadata:
            image_shape = shape_from_text(metadata[IMAGE_SHAPE])
        else:
            image_shape = image_shape_from_input(_declared_input(inputs[0]),
                                                 int(chain.kernels[0].shape[0]))
    return finished(chain, image_shape, activations, recorded(metadata), input_names, channels)


def _bias(array: np.ndarray, units: int, label: str) -> np.ndarray:
    """A bias of shape (n,), (1, n) or a scalar, as (n,)."""
    if array.size == 1:
        return np.full(units, array.reshape(()), dtype=np.float64)
    if array.shape in ((units,), (1, units)):
        return array.reshape(units)
    raise MlplensError(f"{label}: bias of shape {array.shape} does not fit {units} units")
