"""Activations written as ONNX nodes, one op (`Gelu`) or several (`Div`, `Erf`, `Add`, `Mul`,
`Mul`), recognised by the formula they compute, not by the order they come in.

Exporters decompose the same function differently from one opset or version to the next: GELU as
x * 0.5 * (1 + erf(x / sqrt 2)) or 0.5 * (x * (1 + erf(x * 0.7071))), SiLU as Mul(x, Sigmoid(x)),
Mish as x * tanh(softplus(x)). Each node's value is built as a sum of products of x and of
functions of sums of products (`Poly`): constants folded, sums and products flattened and
sorted, integer powers expanded. Two formulas are the same when their terms match and every
constant agrees to RELATIVE (the exporters round sqrt(2/pi) to float32). Single ops with
parameters (LeakyRelu's alpha, HardSigmoid's alpha and beta...) are checked here too: anything
mlplens would compute differently is refused in one line naming the node and its values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..core.activations import SELU_ALPHA, SELU_SCALE
from ..errors import MlplensError

RELATIVE = 1e-6  # float32 constants of the formulas (sqrt(2), sqrt(2/pi)) are within 1e-7
# No activation's formula comes near these; they bound the work a hostile graph can ask for
# (forty squarings of 1 + x would otherwise expand into 2**40 terms).
MAX_TERMS = 16
MAX_FACTORS = 6


class Unrecognised(Exception):
    """The nodes compute something that is not a sum of products of known functions."""


@dataclass(frozen=True)
class Call:
    """A function (activation or erf, tanh, exp, log...) of a Poly."""

    name: str
    arg: Poly


Factor = str | Call  # "x" or a Call


def _shape(factor: Factor) -> object:
    return "x" if isinstance(factor, str) else (factor.name, factor.arg.shape())


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= RELATIVE * max(abs(a), abs(b))


class Poly:
    """A sum of products: {term shape: (coefficient, factors)}; the term () is the constant."""

    def __init__(self, terms: dict[object, tuple[float, tuple[Factor, ...]]]) -> None:
        self.terms = {key: term for key, term in terms.items() if abs(term[0]) > 1e-12}

    def shape(self) -> tuple[object, ...]:
        return tuple(sorted(self.terms, key=repr))

    def constant(self) -> float | None:
        """Its value when it is a constant, else None."""
        if set(self.terms) - {()}:
            return None
        return self.terms[()][0] if () in self.terms else 0.0

    def __add__(self, other: Poly) -> Poly:
        terms = dict(self.terms)
        for key, (coefficient, factors) in other.terms.items():
            if key in terms:
                before, kept = terms[key]
                if not _factors_close(kept, factors):
                    raise Unrecognised("two terms differ only in their constants")
                terms[key] = (before + coefficient, kept)
            else:
                terms[key] = (coefficient, factors)
        return Poly(terms)

    def __mul__(self, other: Poly) -> Poly:
        if len(self.terms) * len(other.terms) > MAX_TERMS:
            raise Unrecognised("too many terms for an activation")
        result = Poly({})
        for first, left in self.terms.values():
            for second, right in other.terms.values():
                if len(left) + len(right) > MAX_FACTORS:
                    raise Unrecognised("too many factors for an activation")
                factors = tuple(sorted(left + right, key=lambda f: repr(_shape(f))))
                key = tuple(_shape(f) for f in factors)
                result = result + Poly({key: (first * second, factors)})
        return result

    def scaled(self, value: float) -> Poly:
        return self * constant(value)

    def close_to(self, other: Poly) -> bool:
        if set(self.terms) != set(other.terms):
            return False
        return all(_close(self.terms[key][0], other.terms[key][0])
                   and _factors_close(self.terms[key][1], other.terms[key][1])
                   for key in self.terms)


def _factors_close(left: Sequence[Factor], right: Sequence[Factor]) -> bool:
    return len(left) == len(right) and all(
        a == b if isinstance(a, str) or isinstance(b, str)
        else a.name == b.name and a.arg.close_to(b.arg) for a, b in zip(left, right))


def constant(value: float) -> Poly:
    return Poly({(): (float(value), ())})


def call(name: str, arg: Poly) -> Poly:
    factor = Call(name, arg)
    return Poly({(_shape(factor),): (1.0, (factor,))})


X = Poly({("x",): (1.0, ("x",))})
_GELU_C = math.sqrt(2 / math.pi)
# The activations exporters write as several nodes, each by its textbook formula.
TEMPLATES = {
    "silu": X * call("sigmoid", X),
    "gelu": X.scaled(0.5) + X.scaled(0.5) * call("erf", X.scaled(1 / math.sqrt(2))),
    "gelu_tanh": X.scaled(0.5) + X.scaled(0.5) * call(
        "tanh", X.scaled(_GELU_C) + (X * X * X).scaled(_GELU_C * 0.044715)),
    "mish": X * call("tanh", call("softplus", X)),
    "hard_swish": X * call("hard_sigmoid", X),
    "softplus": call("log", constant(1) + call("exp", X)),
}
# Functions that only occur inside decomposed formulas.
HELPERS = ("erf", "exp", "log", "sqrt")


def identify(value: Poly) -> str | None:
    """The canonical activation `value` (a function of x) computes, or None."""
    for name, template in TEMPLATES.items():
        if value.close_to(template):
            return name
    if len(value.terms) == 1:
        ((coefficient, factors),) = value.terms.values()
        if (coefficient == 1.0 and len(factors) == 1 and isinstance(factors[0], Call)
                and factors[0].name not in HELPERS and factors[0].arg.close_to(X)):
            return factors[0].name
    return None


@dataclass(frozen=True)
class Condition:
    """Greater(value, threshold): only Where's first input, for PyTorch's Softplus threshold."""

    value: Poly
    threshold: float


def softplus_threshold_exact(threshold: float) -> bool:
    """PyTorch's Softplus returns x itself above its threshold (20): exact in float32 when
    softplus(t) rounds to t there."""
    return threshold > 0 and np.float32(threshold + math.log1p(math.exp(-threshold))) == \
        np.float32(threshold)


def shortest(value: float) -> float:
    """A float32 attribute as the number it was written as (0.2, not 0.20000000298)."""
    return float(repr(np.float32(value)).removeprefix("np.float32(").removesuffix(")"))


def single_op(op: str, attributes: dict, label: str,
              limits: tuple[float | None, float | None] = (None, None)) -> str | None:
    """The canonical activation of one activation node (checking its parameters), or None when
    `op` is not one."""
    plain = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Softplus": "softplus",
             "HardSwish": "hard_swish", "Mish": "mish", "Erf": "erf", "Exp": "exp",
             "Log": "log"}
    if op in plain:
        return plain[op]
    if op == "LeakyRelu":
        return f"leaky_relu({shortest(attributes.get('alpha', 0.01))!r})"
    if op == "Elu":
        return f"elu({shortest(attributes.get('alpha', 1.0))!r})"
    if op == "Selu":
        alpha, gamma = attributes.get("alpha", SELU_ALPHA), attributes.get("gamma", SELU_SCALE)
        if not (_close(alpha, SELU_ALPHA) and _close(gamma, SELU_SCALE)):
            raise MlplensError(f"{label} has alpha={shortest(alpha)}, gamma={shortest(gamma)}; "
                               "mlplens reads Selu with its standard constants only "
                               f"(alpha={SELU_ALPHA:.6f}, gamma={SELU_SCALE:.6f})")
        return "selu"
    if op == "HardSigmoid":
        alpha, beta = attributes.get("alpha", 0.2), attributes.get("beta", 0.5)
        if not (_close(alpha, 1 / 6) and _close(beta, 0.5)):
            raise MlplensError(f"{label} has alpha={shortest(alpha)}, beta={shortest(beta)}; "
                               "mlplens reads HardSigmoid with alpha=1/6, beta=0.5 (PyTorch's "
                               "Hardsigmoid, Keras 3's hard_sigmoid)")
        return "hard_sigmoid"
    if op == "Gelu":
        approximate = attributes.get("approximate", b"none")
        approximate = approximate.decode() if isinstance(approximate, bytes) else approximate
        if approximate not in ("none", "tanh"):
            raise MlplensError(f"{label} has approximate={approximate!r}; mlplens reads "
                               "'none' (exact) and 'tanh'")
        return "gelu" if approximate == "none" else "gelu_tanh"
    if op == "Clip":
        low, high = limits
        if low == 0 and high == 6:
            return "relu6"
        if low == 0 and high is None:
            return "relu"
        raise MlplensError(f"{label} clips to [{low}, {high}]; mlplens reads Clip(0, 6) "
                           "(ReLU6) and Clip(0) (ReLU)")
    return None


def apply(op: str, attributes: dict, inputs: Sequence[Poly | Condition | float], label: str,
          limits: tuple[float | None, float | None] = (None, None)) -> Poly | Condition:
    """One elementwise node's value from its inputs' (a float is a scalar constant); raises
    Unrecognised for what has no place in an activation's formula."""
    values = [constant(v) if isinstance(v, float) else v for v in inputs]
    polys = [v for v in values if isinstance(v, Poly)]
    if op == "Where":
        condition, above, below = values
        if (isinstance(condition, Condition) and isinstance(above, Poly)
                and isinstance(below, Poly) and above.close_to(condition.value)
                and below.close_to(call("softplus", condition.value))
                and softplus_threshold_exact(condition.threshold)):
            return below
        raise Unrecognised("Where")
    if len(polys) != len(values):
        raise Unrecognised(op)
    if op == "Greater":
        threshold = polys[1].constant()
        if threshold is None:
            raise Unrecognised(op)
        return Condition(polys[0], threshold)
    if op == "Identity":
        return polys[0]
    if op == "Add":
        return polys[0] + polys[1]
    if op == "Sub":
        return polys[0] + polys[1].scaled(-1)
    if op == "Mul":
        return polys[0] * polys[1]
    if op == "Neg":
        return polys[0].scaled(-1)
    if op == "Div":
        divisor = polys[1].constant()
        if not divisor:
            raise Unrecognised(op)
        return polys[0].scaled(1 / divisor)
    if op == "Pow":
        power = polys[1].constant()
        if power not in (1.0, 2.0, 3.0, 4.0):
            raise Unrecognised(op)
        result = polys[0]
        for _ in range(int(power) - 1):
            result = result * polys[0]
        return result
    if op == "Sqrt":
        inside = polys[0].constant()
        return constant(math.sqrt(inside)) if inside is not None and inside >= 0 else \
            call("sqrt", polys[0])
    name = single_op(op, attributes, label, limits)
    if name is None:
        raise Unrecognised(op)
    return call(name, polys[0])


ELEMENTWISE = frozenset({"Add", "Sub", "Mul", "Div", "Neg", "Pow", "Sqrt", "Erf", "Exp", "Log",
                         "Identity", "Greater", "Where", "Relu", "Sigmoid", "Tanh", "Softplus",
                         "HardSwish", "Mish", "LeakyRelu", "Elu", "Selu", "HardSigmoid", "Gelu",
                         "Clip"})
