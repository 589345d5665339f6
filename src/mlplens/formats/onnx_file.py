"""ONNX models (`.onnx`) read with the `onnx` package from their constants; no onnxruntime.

What is read: one chain from the graph's single input to its output, as PyTorch's exporters
(`torch.onnx.export`, legacy and dynamo, opsets 13-20) and skl2onnx write dense nets:
- Dense layers: Gemm, or MatMul then Add of a bias;
- activations, one op or decomposed (`onnx_expressions`): Relu, LeakyRelu, Elu, Selu, Sigmoid,
  Tanh, Softplus, HardSigmoid (alpha 1/6, beta 0.5), HardSwish, Mish, Gelu (exact or tanh),
  Clip(0, 6) as relu6; GELU as Div/Erf/Add/Mul/Mul or with Pow/Tanh, SiLU as Sigmoid and Mul,
  Mish as Softplus/Tanh/Mul, HardSwish as HardSigmoid and Mul, PyTorch's Softplus threshold;
  Softmax and LogSoftmax heads;
- BatchNormalization (inference statistics), folded exactly into a Dense layer;
  LayerNormalization, or its decomposed ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add
  form, as the layer's LayerNorm;
- Flatten, Reshape to (batch, n), Identity, Dropout and Cast to a float type, passed over;
- skl2onnx classifiers: the probabilities output (the label output and ZipMap are ignored); a
  binary one's [1 - p, p] is read as its one sigmoid unit p (a binary head).
Anything else is refused in one line naming the node and what would work.

Constants may be initializers, Constant nodes, or external data (`model.onnx.data`, which
torch's dynamo exporter writes), read only from the model's own folder (`onnx_external`).
Declared tensor sizes are checked before any tensor is turned into an array, and the memory the
read takes (the file, the graph parsed from it, the arrays) before the file is parsed and again
before any array is made. The input image shape comes from `--image-shape`, else the metadata key
`mlplens.image_shape` (`H,W`), else the declared input shape (N, H, W) / (N, 1, H, W), else a
square guess. The metadata keys of `formats.metadata` give its channels, pixel scale and class
names.
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
from .common import Chain, image_shape_from_input, require_loading, shape_from_text
from .metadata import IMAGE_SHAPE, Recorded, finished, recorded
from .onnx_expressions import ELEMENTWISE
from .onnx_graph import FLOAT_TYPES, Graph, attributes

SUPPORTED = ("Gemm or MatMul+Add layers with activations (Relu, LeakyRelu, Elu, Selu, Gelu, "
             "SiLU, Mish, Softplus, HardSigmoid, HardSwish, Clip(0, 6), Sigmoid, Tanh), "
             "BatchNormalization, LayerNormalization, Softmax or LogSoftmax")
PASS = ("Flatten", "Identity", "Dropout")
HEADS = {"Softmax": "softmax", "LogSoftmax": "log_softmax"}
STRUCTURAL = frozenset({"Gemm", "MatMul", "Reshape", "Cast", "BatchNormalization",
                        "LayerNormalization", *PASS, *HEADS})


def _declared_bytes(tensor: Any) -> int:
    from onnx import helper

    try:
        itemsize = helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
    except (KeyError, ValueError):  # an undefined type: numpy_helper refuses it when read
        itemsize = 1
    return math.prod(tensor.dims) * itemsize


def _require_memory(graph: Any, file_size: int, external: int) -> None:
    """The parsed graph (about the file's size) plus every constant as an array: raw bytes are
    copied out once, typed fields (float_data...) twice; non-float32 arrays are converted for
    the DenseStack; a Gemm with alpha != 1 scales its kernel in float64. Arrays are made from
    the file's own bytes, so each sum is capped by what the file can hold (a constant declaring
    more than its data fails when read); `external` is the bytes read from external data,
    already checked against those files' sizes."""
    from onnx import TensorProto

    constants = [attribute.t for node in graph.node if node.op_type == "Constant"
                 for attribute in node.attribute
                 if attribute.name == "value" and attribute.HasField("t")]
    counts = {tensor.name: math.prod(tensor.dims) for tensor in graph.initializer}
    values = sum(counts.values()) + sum(math.prod(tensor.dims) for tensor in constants)
    arrays = converted = 0
    for tensor in [*graph.initializer, *constants]:
        if tensor.data_location == TensorProto.EXTERNAL:
            continue
        arrays += _declared_bytes(tensor) * (1 if tensor.HasField("raw_data") else 2)
        converted += 0 if tensor.data_type == TensorProto.FLOAT else 4 * math.prod(tensor.dims)
    scaled = max((counts.get(node.input[1], 0) for node in graph.node
                  if node.op_type == "Gemm" and len(node.input) > 1
                  and attributes(node).get("alpha", 1.0) != 1.0), default=0)
    require_loading(file_size + min(arrays, 2 * file_size) + min(converted, 4 * file_size)
                    + external + min(8 * scaled, 2 * file_size + 2 * external), values)


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
    graph = Graph(model.graph, path.parent)
    _require_memory(model.graph, size, sum(source.size for source in graph.external.values()))
    if len(graph.inputs) != 1:
        raise MlplensError(f"the graph has {len(graph.inputs)} inputs "
                           f"({', '.join(repr(value.name) for value in graph.inputs)}); mlplens "
                           "reads models with one")
    chain = Chain(owned=True)
    _Walk(graph, chain).run(graph.inputs[0].name)
    metadata = {prop.key: prop.value for prop in model.metadata_props}
    if image_shape is None:
        if IMAGE_SHAPE in metadata:
            image_shape = shape_from_text(metadata[IMAGE_SHAPE])
        else:
            image_shape = image_shape_from_input(_declared_input(graph.inputs[0]),
                                                 int(chain.kernels[0].shape[0]))
    return finished(chain, image_shape, activations, recorded(metadata), input_names, channels)


class _Walk:
    """From the input to the output, one step (a Dense layer, an activation, a norm, a no-op)
    at a time; every node of the model's output must be taken by some step."""

    def __init__(self, graph: Graph, chain: Chain) -> None:
        self.graph = graph
        self.chain = chain
        self.taken: set[int] = set()

    def run(self, current: str) -> None:
        graph = self.graph
        while current != graph.target or graph.users(current):
            users = graph.users(current)
            if any(id(node) in self.taken for node in users):
                raise MlplensError(f"the graph comes back to {current!r}: mlplens reads one "
                                   f"chain of {SUPPORTED}")
            if not users:
                raise MlplensError(f"the graph's output {graph.target!r} is not the end of the "
                                   f"chain ({current!r})")
            ops = [node.op_type for node in users]
            if len(users) == 1 and ops[0] in STRUCTURAL:
                current = self.structural(users[0], current)
            elif "ReduceMean" in ops:
                current = self.decomposed_layer_norm(current, users)
            elif sorted(ops) == ["Concat", "Sub"]:
                current = self.two_columns(current, users)
            elif all(op in ELEMENTWISE for op in ops):
                activation, nodes, current = graph.activation(current)
                self.taken.update(id(node) for node in nodes)
                self.chain.fold(activation, " to ".join(dict.fromkeys(
                    graph.label(node) for node in (nodes[0], nodes[-1]))))
            else:
                odd = next((node for node in users
                            if node.op_type not in STRUCTURAL | ELEMENTWISE), None)
                if odd is not None:
                    raise MlplensError(f"{graph.label(odd)} is not supported: mlplens reads "
                                       f"chains of {SUPPORTED}")
                raise MlplensError(f"{graph.label(users[1])} does not continue the chain from "
                                   f"{current!r}: mlplens reads one chain of {SUPPORTED}")
        left = next((node for node in graph.nodes
                     if id(node) not in self.taken and id(node) not in graph.ignored), None)
        if left is not None:
            raise MlplensError(f"{graph.label(left)} does not continue the chain: mlplens reads "
                               f"one chain of {SUPPORTED}")
        if not self.chain.kernels:
            raise MlplensError("the model has no Dense layers (no Gemm or MatMul)")

    def take(self, node: Any, current: str) -> str:
        """Mark `node` as read, its data input being `current` (first); its output."""
        if self.graph.data_inputs(node) != [current] or node.input[0] != current:
            raise MlplensError(f"{self.graph.label(node)} does not continue the chain from "
                               f"{current!r}: mlplens reads one chain of {SUPPORTED}")
        self.taken.add(id(node))
        return node.output[0]

    def structural(self, node: Any, current: str) -> str:
        graph, chain = self.graph, self.chain
        op, label, found = node.op_type, graph.label(node), attributes(node)
        output = self.take(node, current)
        name = node.name or f"{op.lower()}_{len(chain.kernels) + 1}"
        if op in PASS:
            if op == "Flatten" and found.get("axis", 1) != 1:
                raise MlplensError(f"{label} flattens from axis {found['axis']}, not to "
                                   "(batch, values)")
        elif op == "Cast":
            if found.get("to") not in FLOAT_TYPES:
                from onnx import TensorProto

                kind = TensorProto.DataType.Name(found["to"]) if found.get("to") in \
                    TensorProto.DataType.values() else found.get("to")
                raise MlplensError(f"{label} casts to {kind}; mlplens reads Cast to a float "
                                   "type only")
        elif op == "Reshape":
            target = graph.array(node.input[1]) if len(node.input) > 1 else np.array([])
            if target.ndim != 1 or len(target) != 2:
                raise MlplensError(f"{label} reshapes to {target.tolist()}, not to a matrix")
        elif op in HEADS:
            if found.get("axis", -1) not in (-1, 1):
                raise MlplensError(f"{label} applies {HEADS[op]} over axis {found['axis']}")
            chain.fold(HEADS[op], label)
        elif op == "Gemm":
            self.gemm(node, label, name, found)
        elif op == "MatMul":
            kernel = self._kernel(node, label)
            chain.dense(name, kernel, None)
            return self._bias_add(output, kernel.shape[1])
        elif op == "BatchNormalization":
            if found.get("training_mode", 0):
                raise MlplensError(f"{label} is in training mode; mlplens reads a BatchNorm "
                                   "with its inference statistics (export the model in eval "
                                   "mode)")
            scale, offset, mean, variance = (self._constant(node, i, label) for i in (1, 2, 3, 4))
            chain.batch_norm(scale, offset, mean, variance, found.get("epsilon", 1e-5), label)
        else:  # LayerNormalization
            if found.get("axis", -1) not in (-1, 1):
                raise MlplensError(f"{label} normalises from axis {found['axis']}; mlplens "
                                   "reads a LayerNorm over the last axis")
            units = self._units(label)
            scale = self._vector(self._constant(node, 1, label), units, label)
            offset = (self._vector(self._constant(node, 2, label), units, label)
                      if len(node.input) > 2 and node.input[2] else np.zeros(units, np.float32))
            chain.layer_norm(scale, offset, found.get("epsilon", 1e-5), label)
        return output

    def _constant(self, node: Any, index: int, label: str) -> np.ndarray:
        if len(node.input) <= index or node.input[index] not in self.graph:
            raise MlplensError(f"{label}: its input {index + 1} is not a constant")
        return self.graph.array(node.input[index])

    def _kernel(self, node: Any, label: str) -> np.ndarray:
        kernel = self._constant(node, 1, label)
        if kernel.ndim != 2:
            raise MlplensError(f"{label}: weight {node.input[1]!r} has shape {kernel.shape}")
        return kernel

    def _units(self, label: str) -> int:
        if not self.chain.kernels:
            raise MlplensError(f"{label} comes before any Dense layer; mlplens reads a "
                               "LayerNorm only after a Dense layer")
        return int(self.chain.kernels[-1].shape[1])

    @staticmethod
    def _vector(array: np.ndarray, units: int, label: str) -> np.ndarray:
        """A per-unit constant of shape (n,), (1, n) or a scalar, as (n,)."""
        if array.size == 1:
            return np.full(units, array.reshape(()), dtype=np.float64)
        if array.shape in ((units,), (1, units)):
            return array.reshape(units)
        raise MlplensError(f"{label}: a constant of shape {array.shape} does not fit "
                           f"{units} units")

    def gemm(self, node: Any, label: str, name: str, found: dict[str, Any]) -> None:
        if found.get("transA", 0):
            raise MlplensError(f"{label} transposes its input (transA=1)")
        kernel = self._kernel(node, label)
        if found.get("transB", 0):
            kernel = kernel.T
        if found.get("alpha", 1.0) != 1.0:  # scaled in float64, then stored as float32
            kernel = kernel.astype(np.float64) * found["alpha"]
        bias = None
        if len(node.input) > 2 and node.input[2]:
            bias = self._vector(self._constant(node, 2, label), kernel.shape[1], label)
            bias = bias * found.get("beta", 1.0)
        self.chain.dense(name, kernel, bias)

    def _bias_add(self, product: str, units: int) -> str:
        """A MatMul's output, or the Add of a constant bias that follows it (either order)."""
        users = self.graph.users(product)
        if len(users) != 1 or users[0].op_type != "Add" or product == self.graph.target:
            return product
        add = users[0]
        other = [name for name in add.input if name != product]
        if len(other) != 1 or other[0] not in self.graph:
            return product
        label = self.graph.label(add)
        self.chain.biases[-1] = self._vector(self.graph.array(other[0]), units, label)
        self.taken.add(id(add))
        return add.output[0]

    def two_columns(self, current: str, users: list[Any]) -> str:
        """skl2onnx's binary classifier: probabilities Concat(1 - p, p) of one sigmoid unit p,
        read as that unit (a binary head)."""
        graph = self.graph
        sub = next(node for node in users if node.op_type == "Sub")
        concat = next(node for node in users if node.op_type == "Concat")
        ones = sub.input[0] in graph and np.all(graph.array(sub.input[0]) == 1)
        if not (ones and list(sub.input[1:]) == [current]
                and list(concat.input) == [sub.output[0], current]
                and attributes(concat).get("axis") in (-1, 1)
                and self.chain.kernels and self.chain.activations[-1] == "sigmoid"
                and self.chain.kernels[-1].shape[1] == 1):
            raise MlplensError(f"{graph.label(concat)} is not supported: mlplens reads a "
                               "Concat only as skl2onnx's [1 - p, p] after one sigmoid unit")
        self.taken.update((id(sub), id(concat)))
        return concat.output[0]

    def decomposed_layer_norm(self, current: str, users: list[Any]) -> str:
        """LayerNorm as the legacy exporter writes it below opset 17: mean = ReduceMean(x),
        d = x - mean, y = d / Sqrt(ReduceMean(d^2) + eps) [* scale] [+ offset]."""
        graph = self.graph
        start = next(node for node in users if node.op_type == "ReduceMean")
        form = ("mlplens reads a decomposed LayerNorm as ReduceMean, Sub, Pow, ReduceMean, Add, "
                "Sqrt, Div, then Mul and Add by constants")

        def step(tensor: str, op: str, *, extra: str | None = None) -> Any:
            """The one node that takes `tensor` and is an `op`, its other input `extra` or a
            constant."""
            found = [node for node in graph.users(tensor) if node.op_type == op]
            node = found[0] if len(found) == 1 else None
            others = [name for name in node.input if name != tensor] if node else []
            fits = node is not None and (others == [extra] if extra else
                                         all(name in graph for name in others))
            if not fits or (op == "ReduceMean" and not self._last_axis(node)):
                raise MlplensError(f"{graph.label(start)} starts no LayerNorm: {form}")
            return node

        mean = step(current, "ReduceMean")
        sub = step(current, "Sub", extra=mean.output[0])
        if list(sub.input) != [current, mean.output[0]] or len(users) != 2:
            raise MlplensError(f"{graph.label(start)} starts no LayerNorm: {form}")
        square = step(sub.output[0], "Pow")
        variance = step(square.output[0], "ReduceMean")
        shifted = step(variance.output[0], "Add")
        root = step(shifted.output[0], "Sqrt")
        divide = step(sub.output[0], "Div", extra=root.output[0])
        nodes = [mean, sub, square, variance, shifted, root, divide]
        if (graph.scalar(square.input[1]) != 2.0 or list(divide.input) != [sub.output[0],
                                                                              root.output[0]]
                or len(graph.users(sub.output[0])) != 2):
            raise MlplensError(f"{graph.label(start)} starts no LayerNorm: {form}")
        epsilon = graph.scalar(next(n for n in shifted.input if n != variance.output[0]))
        units = self._units(graph.label(start))
        out = divide.output[0]
        scale, offset = np.ones(units, np.float32), np.zeros(units, np.float32)
        for op in ("Mul", "Add"):
            users_after = graph.users(out)
            node = users_after[0] if len(users_after) == 1 else None
            if node is None or node.op_type != op or out == graph.target:
                continue
            other = [name for name in node.input if name != out]
            if len(other) != 1 or other[0] not in graph:
                continue
            value = self._vector(graph.array(other[0]), units, graph.label(node))
            scale, offset = (value, offset) if op == "Mul" else (scale, value)
            nodes.append(node)
            out = node.output[0]
        self.taken.update(id(node) for node in nodes)
        self.chain.layer_norm(scale, offset, epsilon, graph.label(start))
        return out

    def _last_axis(self, node: Any) -> bool:
        """A ReduceMean over the last axis that keeps it (axes an attribute, or an input from
        opset 18)."""
        found = attributes(node)
        if len(node.input) > 1 and node.input[1]:
            axes = self.graph.array(node.input[1]).reshape(-1).tolist()
        else:
            axes = list(found.get("axes", []))
        return axes in ([-1], [1]) and found.get("keepdims", 1) == 1
