"""`linear`: W1·…·Wk, what a node would see if every ReLU before it were on.

Its rows (`core.projection.linear_rows`) stay in core: the gradient method's fidelity, feature
pictures and diagrams use them too.
"""

from __future__ import annotations

from ..core.projection import Projection, linear_bytes, linear_rows
from ..core.stack import DenseStack
from .registry import Footprint, Method


def compute(stack: DenseStack) -> Projection:
    return Projection("linear", tuple(linear_rows(stack)))


def footprint(stack: DenseStack, **_: object) -> Footprint:
    return Footprint.of_rows(stack, stack.widths, linear_bytes(stack))


METHOD = Method("linear", "W1·…·Wk: what the node would see if every ReLU before it were on.",
                "the product of the weight matrices up to the node, every ReLU taken as on",
                compute, footprint=footprint)
