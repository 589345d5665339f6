"""`seed`: the article's notebook method, bias added to the kernel and normalised pictures
chained, quirks included."""

from __future__ import annotations

import numpy as np

from ..core.normalization import rownorm
from ..core.projection import Projection
from ..core.stack import DenseStack
from .registry import Footprint, Method


def seed_rows(stack: DenseStack) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The article's notebook, exactly, quirks included.

    S_1 = (W_1 + b_1)^T and S_k = (N_{k-1}^T (W_k + b_k))^T, where N = rownorm(S): the bias is
    broadcast over the kernel's rows and each layer chains the *normalised* pictures of the
    layer before, as the notebook did. Returns the rows and, per layer, the rows found constant.
    """
    rows, constants = [], []
    normalised = None
    for layer in stack.layers:
        shifted_kernel = layer.kernel + layer.bias  # broadcasts b_k over W_k's rows
        if normalised is None:
            current = shifted_kernel.T
        else:
            current = (normalised.T @ shifted_kernel).T
        current = np.ascontiguousarray(current, dtype=np.float32)
        normalised, constant = rownorm(current)
        rows.append(current)
        constants.append(np.flatnonzero(constant))
    return rows, constants


def seed_bytes(stack: DenseStack) -> int:
    """seed_rows' peak: every layer's rows in float32 and, for layer k, W_k + b_k, the normalised
    rows of layer k-1, and layer k's product with its row normalisation (five float32 copies)."""
    widths = (stack.n_inputs, *stack.widths)
    step = max(4 * (before * after + stack.n_inputs * (before + 5 * after))
               for before, after in zip(widths, widths[1:]))
    return 4 * stack.n_inputs * sum(stack.widths) + step


def compute(stack: DenseStack) -> Projection:
    rows, constants = seed_rows(stack)
    return Projection("seed", tuple(rows), tuple(constants))


def footprint(stack: DenseStack, **_: object) -> Footprint:
    return Footprint.of_rows(stack, stack.widths, seed_bytes(stack))


METHOD = Method("seed", "The article's notebook: bias added to the kernel, normalised pictures "
                        "chained.", "the article's notebook method, quirks included", compute,
                footprint=footprint)
