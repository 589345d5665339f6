"""A live `torch.nn.Module` whose forward is a chain of layers, read by tracing it with torch.fx.

torch is imported (through `torch_backend`) only for an object that is a torch module
(`is_torch_module` looks at the class's bases by name), so mlplens needs no torch otherwise.
The traced graph is walked node by node: each must take the output of the node before it
(`x.size(0)` feeding a reshape is the one exception). Linear, BatchNorm1d (its running
statistics: the module as in eval mode), LayerNorm over the last axis, every activation of
`core.activations` as a module, a function (`F.gelu(x, approximate="tanh")`) or a method
(`x.relu()`), Flatten/flatten/view/reshape to a vector, Dropout and Identity are read; anything
else is refused naming the node.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from ..core.stack import DenseStack
from ..errors import MlplensError
from ..torch_backend import import_torch
from .common import activation_name
from .torch_layers import Activation, BatchNorm, LayerNorm, Linear, Step, to_chain

SUPPORTED = ("Linear, BatchNorm1d, LayerNorm, activations, Flatten/flatten/view/reshape to a "
             "vector, Dropout and Identity")
# Methods on the values that only read their shape (for a reshape's arguments) or change nothing.
SHAPE_METHODS = {"size", "dim"}
NO_OP_METHODS = {"contiguous", "float"}


def is_torch_module(obj: object) -> bool:
    """Whether `obj` is a torch.nn.Module, without importing torch."""
    return any(cls.__name__ == "Module" and cls.__module__ == "torch.nn.modules.module"
               for cls in type(obj).__mro__)


def stack_from_torch(module: Any, image_shape: tuple[int, int] | None = None,
                     activations: Sequence[str] | None = None, *, channels: int = 1,
                     input_names: Sequence[str] = ()) -> DenseStack:
    """Trace `module` with torch.fx and read its chain of layers (weights copied)."""
    torch = import_torch()
    try:
        graph = torch.fx.symbolic_trace(module).graph
    except Exception as exc:  # torch.fx raises many types for forwards it cannot trace
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise MlplensError(f"cannot trace the {type(module).__name__} with torch.fx ({reason}): "
                           "mlplens reads modules whose forward is one chain of layers") from None
    steps = _walk(module, graph)
    return to_chain(steps, owned=False).stack(image_shape, activations, channels=channels,
                                              input_names=input_names)


def _walk(module: Any, graph: Any) -> list[Step]:
    steps: list[Step] = []
    current = None
    readers = _readers()
    for node in graph.nodes:
        label = _label(node)
        if node.op == "placeholder":
            if current is not None:
                raise MlplensError(f"the forward takes more than one input ({node.name!r}): "
                                   "mlplens reads modules with one input")
            current = node
            continue
        if node.op == "output":
            if node.args[0] is not current:
                raise MlplensError(f"the forward returns {node.args[0]!r}, not the last layer's "
                                   "output: mlplens reads modules whose forward is one chain")
            break
        if node.op == "call_method" and node.target in SHAPE_METHODS:
            continue
        if node.op == "call_module":
            sub = module.get_submodule(node.target)
            label = f"node {node.name!r} (module {node.target}: {type(sub).__name__})"
            read = partial(_module_step, sub)
        elif node.op == "call_function" and node.target in readers:
            read = readers[node.target]
        elif node.op == "call_method" and node.target in METHODS:
            read = METHODS[node.target]
        else:
            raise MlplensError(f"{label} is not supported: mlplens reads forwards that chain "
                               f"{SUPPORTED}")
        if not node.args or node.args[0] is not current:
            raise MlplensError(f"{label} does not take the previous layer's output: mlplens "
                               "reads modules whose forward is one chain of layers")
        step = read(node, label)
        if step is not None:
            steps.append(step)
        current = node
    return steps


def _label(node: Any) -> str:
    what = node.target if isinstance(node.target, str) else \
        getattr(node.target, "__name__", str(node.target))
    return f"node {node.name!r} ({node.op.replace('_', ' ')} {what})"


def _numpy(tensor: Any) -> np.ndarray:
    return tensor.detach().cpu().numpy()


def _arg(node: Any, position: int, name: str, default: object) -> object:
    """An argument of a traced call, given by position or by name."""
    if len(node.args) > position:
        return node.args[position]
    return node.kwargs.get(name, default)


def _number(node: Any, position: int, name: str, default: float) -> float:
    return float(_arg(node, position, name, default))  # type: ignore[arg-type]


def _act(text: str, label: str) -> Activation:
    return Activation(activation_name(text, label), label)


def _module_step(sub: Any, node: Any, label: str) -> Step | None:
    nn = import_torch().nn
    name = node.target

    if isinstance(sub, nn.Linear):
        return Linear(name, _numpy(sub.weight), None if sub.bias is None else _numpy(sub.bias))
    if isinstance(sub, nn.BatchNorm1d):
        if sub.running_mean is None:
            raise MlplensError(f"{label} keeps no running statistics "
                               "(track_running_stats=False): mlplens reads BatchNorm1d at "
                               "inference, with them")
        width = sub.num_features
        return BatchNorm(name, _scale(sub.weight, width), _offset(sub.bias, width),
                         _numpy(sub.running_mean), _numpy(sub.running_var), float(sub.eps))
    if isinstance(sub, nn.LayerNorm):
        if len(sub.normalized_shape) != 1:
            raise MlplensError(f"{label} normalises shape {tuple(sub.normalized_shape)}: mlplens "
                               "reads LayerNorm over the last axis of a Linear's values")
        width = sub.normalized_shape[0]
        return LayerNorm(name, _scale(sub.weight, width), _offset(sub.bias, width),
                         float(sub.eps))
    if isinstance(sub, (nn.Dropout, nn.AlphaDropout, nn.Identity)):
        return None
    if isinstance(sub, nn.Flatten):
        if sub.start_dim != 1 or sub.end_dim != -1:
            raise MlplensError(f"{label} flattens dims {sub.start_dim}..{sub.end_dim}: mlplens "
                               "reads Flatten() to a vector per input")
        return None
    return _activation_module(sub, label)


def _scale(tensor: Any, width: int) -> np.ndarray:
    return np.ones(width, np.float32) if tensor is None else _numpy(tensor)


def _offset(tensor: Any, width: int) -> np.ndarray:
    return np.zeros(width, np.float32) if tensor is None else _numpy(tensor)


def _activation_module(sub: Any, label: str) -> Activation:
    nn = import_torch().nn

    simple = {nn.ReLU: "relu", nn.ReLU6: "relu6", nn.SELU: "selu", nn.SiLU: "silu",
              nn.Mish: "mish", nn.Sigmoid: "sigmoid", nn.Hardsigmoid: "hard_sigmoid",
              nn.Hardswish: "hard_swish", nn.Tanh: "tanh"}
    for kind, name in simple.items():
        if type(sub) is kind:
            return _act(name, label)
    if isinstance(sub, nn.LeakyReLU):
        return _act(f"leaky_relu({float(sub.negative_slope)!r})", label)
    if isinstance(sub, nn.ELU):
        return _act(f"elu({float(sub.alpha)!r})", label)
    if isinstance(sub, nn.GELU):
        return _act(_gelu(sub.approximate, label), label)
    if isinstance(sub, nn.Softplus):
        return _act(_softplus(sub.beta, label), label)
    if isinstance(sub, (nn.Softmax, nn.LogSoftmax)):
        _last_dim(sub.dim, label)
        return _act("softmax" if isinstance(sub, nn.Softmax) else "log_softmax", label)
    raise MlplensError(f"{label} is not supported: mlplens reads forwards that chain "
                       f"{SUPPORTED}")


def _gelu(approximate: object, label: str) -> str:
    if approximate not in ("none", "tanh"):
        raise MlplensError(f"{label} has approximate={approximate!r}: 'none' or 'tanh'")
    return "gelu" if approximate == "none" else "gelu_tanh"


def _softplus(beta: object, label: str) -> str:
    if float(beta) != 1.0:  # type: ignore[arg-type]
        raise MlplensError(f"{label} has beta={beta!r}: mlplens reads softplus with beta=1")
    return "softplus"


def _last_dim(dim: object, label: str) -> None:
    if dim not in (-1, 1):
        raise MlplensError(f"{label} has dim={dim!r}: mlplens reads a softmax over the last "
                           "dim (dim=-1)")


def _reshape(node: Any, label: str) -> None:
    """view/reshape to (batch, n): two sizes, or one per row; anything else is refused."""
    sizes = node.args[1:]
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if len(sizes) != 2:
        raise MlplensError(f"{label} reshapes to {len(sizes)} dims: mlplens reads a reshape to "
                           "one vector per input, e.g. x.view(x.size(0), -1)")
    return None


def _flatten(node: Any, label: str) -> None:
    start = _arg(node, 1, "start_dim", 0)
    end = _arg(node, 2, "end_dim", -1)
    if start != 1 or end != -1:
        raise MlplensError(f"{label} flattens dims {start}..{end}: mlplens reads flatten(x, 1) "
                           "to a vector per input")
    return None


def _softmax_call(name: str) -> Callable[[Any, str], Activation]:
    def read(node: Any, label: str) -> Activation:
        _last_dim(_arg(node, 1, "dim", None), label)
        return _act(name, label)
    return read


def _fixed(name: str) -> Callable[[Any, str], Activation]:
    return lambda node, label: _act(name, label)


def _readers() -> dict[Callable[..., Any], Callable[[Any, str], Step | None]]:
    """torch functions -> how to read their call (made on first use: it needs torch)."""
    torch = import_torch()
    F = torch.nn.functional  # noqa: N806 (torch's own name for it)
    readers: dict[Callable[..., Any], Callable[[Any, str], Step | None]] = {
        F.relu: _fixed("relu"), torch.relu: _fixed("relu"), F.relu6: _fixed("relu6"),
        F.selu: _fixed("selu"), torch.selu: _fixed("selu"), F.silu: _fixed("silu"),
        F.mish: _fixed("mish"), torch.sigmoid: _fixed("sigmoid"), F.sigmoid: _fixed("sigmoid"),
        torch.tanh: _fixed("tanh"), F.tanh: _fixed("tanh"),
        F.hardsigmoid: _fixed("hard_sigmoid"), F.hardswish: _fixed("hard_swish"),
        F.leaky_relu: lambda node, label: _act(
            f"leaky_relu({_number(node, 1, 'negative_slope', 0.01)!r})", label),
        F.elu: lambda node, label: _act(f"elu({_number(node, 1, 'alpha', 1.0)!r})", label),
        F.gelu: lambda node, label: _act(
            _gelu(node.kwargs.get("approximate", "none"), label), label),
        F.softplus: lambda node, label: _act(_softplus(_arg(node, 1, "beta", 1), label), label),
        F.softmax: _softmax_call("softmax"), torch.softmax: _softmax_call("softmax"),
        F.log_softmax: _softmax_call("log_softmax"),
        torch.log_softmax: _softmax_call("log_softmax"),
        F.dropout: lambda node, label: None, torch.flatten: _flatten,
        torch.reshape: lambda node, label: _reshape_function(node, label),
    }
    return readers


def _reshape_function(node: Any, label: str) -> None:
    """torch.reshape(x, (batch, n))."""
    shape = _arg(node, 1, "shape", ())
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise MlplensError(f"{label} reshapes to {shape!r}: mlplens reads a reshape to one "
                           "vector per input")
    return None


# Methods called on the values: x.view(...), x.relu(), ...
METHODS: dict[str, Callable[[Any, str], Step | None]] = {
    "view": _reshape, "reshape": _reshape, "flatten": _flatten,
    "relu": _fixed("relu"), "sigmoid": _fixed("sigmoid"), "tanh": _fixed("tanh"),
    "softmax": _softmax_call("softmax"), "log_softmax": _softmax_call("log_softmax"),
    **{name: (lambda node, label: None) for name in NO_OP_METHODS},
}
