"""Node pictures in input-pixel space: what every method returns, and the two weight-only methods.

Keras stores Dense layer k as kernel W_k (n_{k-1}, n_k) and bias b_k (n_k,). Every method
returns one array A_k of shape (nodes, H*W) per layer, first Dense layer first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .normalization import rownorm
from .stack import DenseStack


@dataclass(frozen=True)
class Projection:
    """What a method returns: its rows per layer, and what else it found."""

    method: str
    layers: tuple[np.ndarray, ...]  # float32 (nodes, H*W) per layer; (0, H*W) if not computed
    # Rows the method itself found constant inside its chain (only `seed` normalises there).
    chain_constant_rows: tuple[np.ndarray, ...] = ()
    # Which node each row is, per layer (all nodes unless the method took a subset).
    nodes: tuple[np.ndarray, ...] = ()
    # Method-specific results: gradient's "fidelity" and "per_class", maximize's "activations",
    # examples' "node_statistics" (a NodeStatistics per layer); "reference_size" for methods
    # that look at real images.
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.nodes:
            object.__setattr__(self, "nodes", tuple(np.arange(len(rows), dtype=np.intp)
                                                    for rows in self.layers))
        if not self.chain_constant_rows:
            object.__setattr__(self, "chain_constant_rows", tuple(
                np.array([], dtype=np.intp) for _ in self.layers))


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


def linear_rows(stack: DenseStack) -> list[np.ndarray]:
    """A_k = (W_1 W_2 ... W_k)^T: what a deep node sees if every ReLU were switched on."""
    rows = []
    product = None
    for kernel in stack.kernels:
        product = kernel.astype(np.float64) if product is None else product @ kernel
        rows.append(np.ascontiguousarray(product.T, dtype=np.float32))
    return rows


def linear_bytes(stack: DenseStack) -> int:
    """linear_rows' peak: every layer's rows in float32 and, while layer k is added, the float64
    products up to layers k-1 and k and W_k widened to float64 for the product."""
    widths = (stack.n_inputs, *stack.widths)
    step = max(8 * (stack.n_inputs * (before + after) + before * after)
               for before, after in zip(widths, widths[1:]))
    return 4 * stack.n_inputs * sum(stack.widths) + step


def seed_bytes(stack: DenseStack) -> int:
    """seed_rows' peak: every layer's rows in float32 and, for layer k, W_k + b_k, the normalised
    rows of layer k-1, and layer k's product with its row normalisation (five float32 copies)."""
    widths = (stack.n_inputs, *stack.widths)
    step = max(4 * (before * after + stack.n_inputs * (before + 5 * after))
               for before, after in zip(widths, widths[1:]))
    return 4 * stack.n_inputs * sum(stack.widths) + step
