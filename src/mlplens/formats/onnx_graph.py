"""An ONNX graph indexed for walking its one chain: constants, who uses each tensor, which
output is the model's, and the activation a run of elementwise nodes computes.

Constants are initializers (inside the file or beside it: `onnx_external`), Constant nodes and
Identity nodes of constants (the legacy exporter writes those); an array is only made once its
declared size is checked. A scikit-learn classifier written by skl2onnx has two outputs, the
label and the probabilities (a ZipMap of them by default): the probabilities are the model's
output, and the nodes that only serve the label or the ZipMap are left out of the walk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MlplensError
from .common import check_declared
from .onnx_expressions import ELEMENTWISE, X, Poly, Unrecognised, apply, identify
from .onnx_external import Source, sources

MAX_REGION = 40  # nodes one activation may take (the decomposed tanh GELU takes 10)
FLOAT_TYPES = (1, 10, 11, 16)  # FLOAT, FLOAT16, DOUBLE, BFLOAT16 (onnx.TensorProto)


def attributes(node: Any) -> dict[str, Any]:
    from onnx import helper

    return {attribute.name: helper.get_attribute_value(attribute) for attribute in node.attribute}


class Graph:
    """The graph's constants, its compute nodes in file order, and its data flow."""

    def __init__(self, graph: Any, folder: Path) -> None:
        from onnx import TensorProto

        self.tensors: dict[str, Any] = {tensor.name: tensor for tensor in graph.initializer}
        self.external: dict[str, Source] = sources(
            [tensor for tensor in graph.initializer
             if tensor.data_location == TensorProto.EXTERNAL], folder)
        self.aliases: dict[str, str] = {}  # an Identity's output -> the constant it passes on
        self.total = 0
        self.nodes: list[Any] = []
        self.positions: dict[int, int] = {}
        for position, node in enumerate(graph.node, start=1):
            self.positions[id(node)] = position
            if node.op_type == "Constant":
                self.tensors[node.output[0]] = _constant_value(node, self.label(node))
            elif node.op_type == "Identity" and node.input[0] in self.tensors:
                self.tensors[node.output[0]] = self.tensors[node.input[0]]
                self.aliases[node.output[0]] = self.aliases.get(node.input[0], node.input[0])
            else:
                self.nodes.append(node)
        self.inputs = [value for value in graph.input if value.name not in self.tensors]
        self.producer = {name: node for node in self.nodes for name in node.output if name}
        self.target, ignored = self._target(list(graph.output))
        self.ignored = {id(node) for node in ignored}
        self._users: dict[str, list[Any]] = {}
        for node in self.nodes:
            if id(node) not in self.ignored:
                for name in dict.fromkeys(node.input):
                    self._users.setdefault(name, []).append(node)

    # -- constants ------------------------------------------------------------------------------

    def __contains__(self, name: str) -> bool:
        return name in self.tensors

    def array(self, name: str) -> np.ndarray:
        """A constant as an array, its declared size checked first."""
        from onnx import numpy_helper

        tensor = self.tensors[name]
        if isinstance(tensor, np.ndarray):
            return tensor
        self.total = check_declared(name, tensor.dims, self.total)
        source = self.aliases.get(name, name)
        if source in self.external:
            return self.external[source].read()
        return numpy_helper.to_array(tensor)

    def scalar(self, name: str) -> float:
        """A constant holding one number (of any shape), for the formulas of activations."""
        if name not in self.tensors:
            raise Unrecognised(name)
        tensor = self.tensors[name]
        dims = tensor.shape if isinstance(tensor, np.ndarray) else tensor.dims
        if int(np.prod(dims)) != 1:
            raise Unrecognised(name)
        return float(self.array(name).reshape(()))

    # -- data flow ------------------------------------------------------------------------------

    def label(self, node: Any) -> str:
        return f"node {node.name or self.positions[id(node)]!r} ({node.op_type})"

    def data_inputs(self, node: Any) -> list[str]:
        return [name for name in node.input if name and name not in self.tensors]

    def users(self, name: str) -> list[Any]:
        """The nodes of the model's output that take tensor `name`, in file order."""
        return self._users.get(name, [])

    def _ancestors(self, names: list[str]) -> dict[int, Any]:
        found: dict[int, Any] = {}
        todo = list(names)
        while todo:
            node = self.producer.get(todo.pop())
            if node is not None and id(node) not in found:
                found[id(node)] = node
                todo += self.data_inputs(node)
        return found

    def _target(self, outputs: list[Any]) -> tuple[str, list[Any]]:
        """The output mlplens reads, and the nodes that serve only the others: a classifier's
        label, and the ZipMap of its probabilities (skl2onnx)."""
        if len(outputs) == 1:
            return outputs[0].name, []
        chosen = []
        for output in outputs:
            node = self.producer.get(output.name)
            if node is not None and node.op_type == "ZipMap":
                chosen.append(node.input[0])
            elif output.type.tensor_type.elem_type in FLOAT_TYPES:
                chosen.append(output.name)
        if len(set(chosen)) != 1:
            raise MlplensError(f"the graph has {len(outputs)} outputs "
                               f"({', '.join(repr(o.name) for o in outputs)}); mlplens reads "
                               "one output, or a classifier's label and probabilities")
        target = chosen[0]
        kept = self._ancestors([target])
        others = self._ancestors([o.name for o in outputs if o.name != target])
        return target, [node for key, node in others.items() if key not in kept]

    # -- activations ----------------------------------------------------------------------------

    def activation(self, start: str) -> tuple[str, list[Any], str]:
        """The activation computed by the elementwise nodes that take `start`, grown until they
        end in one tensor and that tensor computes a known activation: (its canonical name, the
        nodes, the tensor). Refused in one line when the nodes branch off or compute none."""
        values: dict[str, Any] = {start: X}
        region: list[Any] = []
        inside: set[int] = set()
        while len(region) < MAX_REGION:
            ready = [node for node in self._waiting(values, inside)
                     if node.op_type in ELEMENTWISE
                     and all(name in values for name in self.data_inputs(node))]
            if not ready:
                break
            for node in ready:
                values[node.output[0]] = self._value(node, values)
                region.append(node)
                inside.add(id(node))
            ends = self._ends(values, inside)
            if len(ends) == 1 and ends[0] != start and isinstance(values[ends[0]], Poly):
                name = identify(values[ends[0]])
                if name is not None:
                    return name, region, ends[0]
        outside = next(iter(self._waiting(values, inside)), None)
        if region and len([name for name in self._ends(values, inside) if name != start]) <= 1:
            labels = ", ".join(self.label(node) for node in region) if len(region) <= 6 else \
                f"{self.label(region[0])} to {self.label(region[-1])} ({len(region)} nodes)"
            raise MlplensError(f"{labels} compute no activation mlplens reads (it reads "
                               "activation ops and the decomposed GELU, SiLU, Mish, HardSwish "
                               "and Softplus that torch.onnx.export writes)")
        culprit = outside if outside is not None else region[-1]
        raise MlplensError(f"{self.label(culprit)} does not continue the chain from {start!r}: "
                           "mlplens reads one chain of Dense layers and what comes between them")

    def _waiting(self, values: dict[str, Any], inside: set[int]) -> list[Any]:
        """Nodes outside the region that take a tensor computed so far, in file order."""
        found = {id(node): node for name in values for node in self.users(name)
                 if id(node) not in inside}
        return sorted(found.values(), key=lambda node: self.positions[id(node)])

    def _ends(self, values: dict[str, Any], inside: set[int]) -> list[str]:
        """The tensors computed so far that something outside the region takes."""
        return [name for name in values if name == self.target or any(
            id(node) not in inside for node in self.users(name))]

    def _value(self, node: Any, values: dict[str, Any]) -> Any:
        label = self.label(node)
        found = attributes(node)
        names = [name for name in node.input if name]
        limits: tuple[float | None, float | None] = (None, None)
        try:
            if node.op_type == "Clip":
                limits = self._clip_limits(node, found)
                names = names[:1]
            inputs = [values[name] if name in values else self.scalar(name) for name in names]
            return apply(node.op_type, found, inputs, label, limits)
        except Unrecognised:
            return None  # not part of any formula: the region then computes no activation

    def _clip_limits(self, node: Any, found: dict[str, Any]) -> tuple[float | None, float | None]:
        """Clip's bounds: inputs since opset 11, attributes before; a missing or float32-max
        bound is none."""
        bounds = []
        for index, key in ((1, "min"), (2, "max")):
            if len(node.input) > index and node.input[index]:
                value = self.scalar(node.input[index]) if node.input[index] in self else None
                if value is None:
                    raise MlplensError(f"{self.label(node)}: its {key} is not a constant")
            else:
                value = found.get(key)
            bounds.append(None if value is None or abs(value) >= 3e38 else float(value))
        return bounds[0], bounds[1]


def _constant_value(node: Any, label: str) -> Any:
    """A Constant node's tensor (kept as a TensorProto so its size is checked when read)."""
    from onnx import TensorProto, helper

    for attribute in node.attribute:
        if attribute.name == "value" and attribute.HasField("t"):
            if attribute.t.data_location == TensorProto.EXTERNAL:
                raise MlplensError(f"{label} keeps its value in an external file; mlplens reads "
                                   "external data of initializers only")
            return attribute.t
        if attribute.name in ("value_float", "value_floats", "value_int", "value_ints"):
            kind = np.float32 if "float" in attribute.name else np.int64
            return np.asarray(helper.get_attribute_value(attribute), dtype=kind)
    raise MlplensError(f"{label} has no tensor value")
