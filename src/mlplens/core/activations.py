"""Every activation a DenseLayer may apply: its canonical name, values, derivative and gate.

One place for the maths, so the methods, the circuits and the readers agree. Names are
canonical strings; two carry a parameter in the text itself (`leaky_relu(0.01)`, `elu(1.0)`),
so a layer's activation is one string that says exactly what it computes.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..errors import MlplensError

# Canonical names; softmax and log_softmax only make sense as an output layer's activation.
ACTIVATIONS = ("linear", "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "gelu_tanh",
               "silu", "mish", "softplus", "sigmoid", "hard_sigmoid", "hard_swish", "tanh",
               "softmax", "log_softmax")
HEADS_ONLY = ("softmax", "log_softmax")
# The parameterised ones and the value they take when a name gives none (PyTorch's defaults).
DEFAULT_PARAMETER = {"leaky_relu": 0.01, "elu": 1.0}

# Other libraries' names for the same functions.
ALIASES = {
    "identity": "linear", "none": "linear", "logistic": "sigmoid", "softmax_v2": "softmax",
    "swish": "silu", "leakyrelu": "leaky_relu", "hardsigmoid": "hard_sigmoid",
    "hardswish": "hard_swish", "hard_silu": "hard_swish", "gelu_approximate": "gelu_tanh",
    "approximate_gelu": "gelu_tanh", "logsoftmax": "log_softmax",
}

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_GELU_C = math.sqrt(2 / math.pi)  # the tanh approximation's constant
_GELU_CUBIC = 0.044715
_erf = np.frompyfunc(math.erf, 1, 1)  # NumPy has no erf; the C library's, elementwise


def supported() -> str:
    """The list every refusal names."""
    return ", ".join(f"{name}(<slope>)" if name == "leaky_relu" else
                     f"{name}(<alpha>)" if name == "elu" else name for name in ACTIVATIONS)


def canonical(text: object, where: str) -> str:
    """A library's activation name (aliases, optional parameter) as a canonical string, or a
    one-line refusal naming it and listing what is supported."""
    if not isinstance(text, str):
        raise MlplensError(f"{where}: activation {text!r} is not supported "
                           f"(supported: {supported()})")
    try:
        return _canonical(text)
    except ValueError:
        raise MlplensError(f"{where}: activation {text!r} is not supported "
                           f"(supported: {supported()})") from None


@lru_cache(maxsize=256)
def _canonical(text: str) -> str:
    cleaned = text.strip().lower().replace(" ", "")
    name, parameter = cleaned, None
    if cleaned.endswith(")") and "(" in cleaned:
        name, _, inside = cleaned[:-1].partition("(")
        parameter = float(inside)  # ValueError: refused by canonical
        if not math.isfinite(parameter):
            raise ValueError(text)
    name = ALIASES.get(name, name)
    if name not in ACTIVATIONS:
        raise ValueError(text)
    if name in DEFAULT_PARAMETER:
        value = DEFAULT_PARAMETER[name] if parameter is None else parameter
        return f"{name}({float(value)!r})"
    if parameter is not None:
        raise ValueError(text)
    return name


@lru_cache(maxsize=256)
def parse(activation: str) -> tuple[str, float]:
    """A canonical string -> (its name, its parameter or 0.0)."""
    if activation.endswith(")"):
        name, _, inside = activation[:-1].partition("(")
        return name, float(inside)
    return activation, 0.0


def _sigmoid(values: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) without overflow, for the activations built from it."""
    exp = np.exp(-np.abs(values))
    return np.where(values >= 0, 1 / (1 + exp), exp / (1 + exp))


def _softplus(values: np.ndarray) -> np.ndarray:
    return np.logaddexp(np.zeros((), dtype=values.dtype), values)


def _normal_cdf(values: np.ndarray) -> np.ndarray:
    """Phi(x) in float64."""
    wide = np.asarray(values, dtype=np.float64)
    return 0.5 * (1 + _erf(wide / math.sqrt(2)).astype(np.float64))


def _float(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values)
    return values if np.issubdtype(values.dtype, np.floating) else values.astype(np.float32)


def activate(values: np.ndarray, activation: str) -> np.ndarray:
    """Apply a canonical activation (softmax and log_softmax over the last axis), in the values'
    float type."""
    # The article's five keep their original formulas: ReLU nets' numbers stay bit for bit.
    if activation == "relu":
        return np.maximum(values, 0)
    if activation == "linear":
        return values
    if activation == "sigmoid":
        return 1 / (1 + np.exp(-values))
    if activation == "tanh":
        return np.tanh(values)
    if activation == "softmax":
        shifted = np.exp(values - values.max(axis=-1, keepdims=True))
        return shifted / shifted.sum(axis=-1, keepdims=True)
    values = _float(values)
    name, parameter = parse(activation)
    if name == "log_softmax":
        shifted = values - values.max(axis=-1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    if name == "relu6":
        return np.minimum(np.maximum(values, 0), 6)
    if name == "leaky_relu":
        return np.where(values > 0, values, values * parameter)
    if name == "elu":
        return np.where(values > 0, values, parameter * np.expm1(np.minimum(values, 0)))
    if name == "selu":
        negative = SELU_ALPHA * np.expm1(np.minimum(values, 0))
        return (SELU_SCALE * np.where(values > 0, values, negative)).astype(values.dtype)
    if name == "gelu":
        return (values * _normal_cdf(values)).astype(values.dtype)
    if name == "gelu_tanh":
        inner = _GELU_C * (values + _GELU_CUBIC * values * values * values)
        return 0.5 * values * (1 + np.tanh(inner))
    if name == "silu":
        return values * _sigmoid(values)
    if name == "mish":
        return values * np.tanh(_softplus(values))
    if name == "softplus":
        return _softplus(values)
    if name == "hard_sigmoid":
        return np.minimum(np.maximum(values + 3, 0), 6) / 6
    if name == "hard_swish":
        return values * (np.minimum(np.maximum(values + 3, 0), 6) / 6)
    raise ValueError(f"unknown activation {activation!r}")


def derivative(pre: np.ndarray, activation: str) -> np.ndarray:
    """act'(z) elementwise, in z's float type: the diagonal of an activation's Jacobian.

    Softmax and log-softmax have no elementwise derivative (their Jacobians are not diagonal):
    `vjp` handles them; methods that need a diagonal refuse them. At a kink (ReLU's 0) the
    derivative is the left one, as the frameworks take it.
    """
    dtype = pre.dtype if np.issubdtype(pre.dtype, np.floating) else np.float32
    if activation == "relu":
        return (pre > 0).astype(dtype)
    if activation == "linear":
        return np.ones_like(pre, dtype=dtype)
    if activation == "sigmoid":
        value = activate(pre, "sigmoid")
        return (value * (1 - value)).astype(dtype)
    if activation == "tanh":
        return (1 - np.tanh(pre) ** 2).astype(dtype)
    name, parameter = parse(activation)
    if name in HEADS_ONLY:
        raise MlplensError(f"the gradient method cannot pass through a hidden {activation} "
                           "layer (it has no elementwise derivative)")
    pre = _float(pre)
    return _derivative(pre, name, parameter).astype(dtype)


def _derivative(pre: np.ndarray, name: str, parameter: float) -> np.ndarray:
    if name == "relu6":
        return ((pre > 0) & (pre < 6)).astype(pre.dtype)
    if name == "leaky_relu":
        return np.where(pre > 0, 1.0, parameter)
    if name == "elu":
        return np.where(pre > 0, 1.0, parameter * np.exp(np.minimum(pre, 0)))
    if name == "selu":
        return SELU_SCALE * np.where(pre > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(pre, 0)))
    if name == "gelu":
        wide = np.asarray(pre, dtype=np.float64)
        density = np.exp(-0.5 * wide ** 2) / math.sqrt(2 * math.pi)
        return _normal_cdf(wide) + wide * density
    if name == "gelu_tanh":
        wide = np.asarray(pre, dtype=np.float64)
        tanh = np.tanh(_GELU_C * (wide + _GELU_CUBIC * wide * wide * wide))
        slope = _GELU_C * (1 + 3 * _GELU_CUBIC * wide * wide)
        return 0.5 * (1 + tanh) + 0.5 * wide * (1 - tanh ** 2) * slope
    if name == "silu":
        sigmoid = _sigmoid(pre)
        return sigmoid * (1 + pre * (1 - sigmoid))
    if name == "mish":
        tanh = np.tanh(_softplus(pre))
        return tanh + pre * (1 - tanh ** 2) * _sigmoid(pre)
    if name == "softplus":
        return _sigmoid(pre)
    inside = ((pre > -3) & (pre < 3)).astype(pre.dtype)
    if name == "hard_sigmoid":
        return inside / 6
    if name == "hard_swish":
        return np.minimum(np.maximum(pre + 3, 0), 6) / 6 + pre * inside / 6
    raise ValueError(f"unknown activation {name!r}")


def vjp(upstream: np.ndarray, pre: np.ndarray, activation: str) -> np.ndarray:
    """Vector-Jacobian product through an activation: d/dz of (upstream · activation(z))."""
    if activation == "softmax":
        post = activate(pre, activation)
        return post * (upstream - (upstream * post).sum(axis=-1, keepdims=True))
    if activation == "log_softmax":
        post = activate(pre, "softmax")
        return upstream - post * upstream.sum(axis=-1, keepdims=True)
    return upstream * derivative(pre, activation)


@lru_cache(maxsize=256)
def offset(activation: str) -> float:
    """activation(0): what a gate adds whatever its input (0 for most; 1/2 for the sigmoids,
    log 2 for softplus)."""
    if activation in HEADS_ONLY:
        raise MlplensError(f"a {activation} layer has no gate (it is not elementwise)")
    return float(activate(np.zeros(1, dtype=np.float64), activation)[0])


def gate(pre: np.ndarray, activation: str) -> tuple[np.ndarray, np.ndarray]:
    """(slope, offset) in float64 with activation(z) = offset + slope * z at this z: the
    activation frozen at one input, a straight line through (0, act(0)) and (z, act(z)).

    For ReLU the slope is the 0/1 on-off pattern; at z = 0 it is the derivative there.
    """
    wide = np.asarray(pre, dtype=np.float64)
    base = offset(activation)
    if activation in ("relu", "linear"):  # lines through 0 already: the slope is the derivative
        return derivative(wide, activation), np.full_like(wide, base)
    value = activate(wide, activation)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(wide == 0, derivative(wide, activation), (value - base) / wide)
    return slope, np.full_like(wide, base)
