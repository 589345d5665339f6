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

from ..core.stack import DenseLayer, DenseStack
from ..errors import MlplensError
from ..output import atomic_path, save_npz
from .metadata import CLASS_NAMES, PIXEL_SCALE, metadata_text

# Opset 17 has LayerNormalization; GELU (an op from 20) and Mish (18) are written as their
# formulas, which the runtimes of opset 17 run and mlplens reads back (`onnx_expressions`).
ONNX_OPSET = 17
ONNX_OPS = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softplus": "Softplus",
            "selu": "Selu", "hard_swish": "HardSwish", "softmax": "Softmax",
            "log_softmax": "LogSoftmax"}


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


class _OnnxGraph:
    """Nodes and constants of the graph being written, and the tensor the chain has reached."""

    def __init__(self) -> None:
        self.nodes: list = []
        self.initializers: list = []
        self.current = "pixels"

    def constant(self, name: str, value: np.ndarray | float) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.asarray(value, np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], name: str, **attributes) -> str:
        """Append one node named `name`, its output the tensor of the same name."""
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attributes))
        return name

    def activation(self, activation: str, prefix: str) -> None:
        """`activation` of the current tensor: one op, or its formula (ONNX_OPSET lacks Gelu and
        Mish)."""
        from ..core.activations import parse

        x = self.current
        kind, parameter = parse(activation)

        def c(tag: str, value: float) -> str:
            return self.constant(f"{prefix}.{tag}", value)

        if kind in ONNX_OPS:
            axis = {"axis": -1} if kind in ("softmax", "log_softmax") else {}
            out = self.node(ONNX_OPS[kind], [x], f"{prefix}/{kind}", **axis)
        elif kind == "leaky_relu":
            out = self.node("LeakyRelu", [x], f"{prefix}/leaky_relu", alpha=parameter)
        elif kind == "elu":
            out = self.node("Elu", [x], f"{prefix}/elu", alpha=parameter)
        elif kind == "hard_sigmoid":
            out = self.node("HardSigmoid", [x], f"{prefix}/hard_sigmoid", alpha=1 / 6, beta=0.5)
        elif kind == "relu6":
            out = self.node("Clip", [x, c("zero", 0.0), c("six", 6.0)], f"{prefix}/relu6")
        elif kind == "silu":
            gate = self.node("Sigmoid", [x], f"{prefix}/sigmoid")
            out = self.node("Mul", [x, gate], f"{prefix}/silu")
        elif kind == "mish":
            softplus = self.node("Softplus", [x], f"{prefix}/softplus")
            gate = self.node("Tanh", [softplus], f"{prefix}/tanh")
            out = self.node("Mul", [x, gate], f"{prefix}/mish")
        elif kind == "gelu":  # x * 0.5 * (1 + erf(x / sqrt 2))
            scaled = self.node("Div", [x, c("sqrt2", np.sqrt(2.0))], f"{prefix}/div")
            erf = self.node("Erf", [scaled], f"{prefix}/erf")
            plus = self.node("Add", [erf, c("one", 1.0)], f"{prefix}/add")
            product = self.node("Mul", [x, plus], f"{prefix}/mul")
            out = self.node("Mul", [product, c("half", 0.5)], f"{prefix}/gelu")
        else:  # gelu_tanh: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
            cube = self.node("Pow", [x, c("three", 3.0)], f"{prefix}/pow")
            term = self.node("Mul", [cube, c("cubic", 0.044715)], f"{prefix}/cubic")
            inner = self.node("Add", [x, term], f"{prefix}/inner")
            scaled = self.node("Mul", [inner, c("slope", np.sqrt(2 / np.pi))], f"{prefix}/slope")
            tanh = self.node("Tanh", [scaled], f"{prefix}/tanh")
            plus = self.node("Add", [tanh, c("one", 1.0)], f"{prefix}/add")
            product = self.node("Mul", [x, plus], f"{prefix}/mul")
            out = self.node("Mul", [product, c("half", 0.5)], f"{prefix}/gelu_tanh")
        self.current = out

    def layer_norm(self, layer: DenseLayer) -> None:
        norm = layer.norm
        scale = self.constant(f"{layer.name}.norm.scale", norm.scale)
        offset = self.constant(f"{layer.name}.norm.offset", norm.offset)
        self.current = self.node("LayerNormalization", [self.current, scale, offset],
                                 f"{layer.name}/layernorm", axis=-1, epsilon=norm.epsilon)


def onnx_model(stack: DenseStack, class_names: Sequence[str] = ()):
    """An ONNX ModelProto: input `pixels` (N, H*W), per layer a Gemm, then its LayerNorm and
    activation in their order."""
    from onnx import TensorProto, helper

    graph = _OnnxGraph()
    for layer in stack.layers:
        weight = graph.constant(f"{layer.name}.kernel", layer.kernel)
        bias = graph.constant(f"{layer.name}.bias", layer.bias)
        graph.current = graph.node("Gemm", [graph.current, weight, bias], layer.name)
        if layer.norm is not None and not layer.norm_after:
            graph.layer_norm(layer)
        if layer.activation != "linear":
            graph.activation(layer.activation, layer.name)
        if layer.norm is not None and layer.norm_after:
            graph.layer_norm(layer)
    model_graph = helper.make_graph(
        graph.nodes, "mlplens",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["batch", stack.n_inputs])],
        [helper.make_tensor_value_info(graph.current, TensorProto.FLOAT,
                                       ["batch", stack.widths[-1]])],
        graph.initializers)
    model = helper.make_model(model_graph, producer_name="mlplens",
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
