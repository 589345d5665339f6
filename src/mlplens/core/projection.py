"""Node pictures in input-pixel space: what every method returns, its further results by type,
and the `linear` rows that methods, features and diagrams share.

Keras stores Dense layer k as kernel W_k (n_{k-1}, n_k) and bias b_k (n_k,). Every method
returns one array A_k of shape (nodes, H*W) per layer, first Dense layer first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from .node_statistics import NodeStatistics
from .stack import DenseStack


@dataclass(frozen=True)
class Fidelity:
    """How faithful another method's pictures are: per layer, each node's cosine between the
    pictures of method `of` and this method's exact ones, over `reference_size` images."""

    of: str
    scores: tuple[np.ndarray, ...]
    reference_size: int


@dataclass(frozen=True)
class PerClassMaps:
    """The output layer's pictures on the images of each class: (classes, nodes, H*W*C)."""

    maps: np.ndarray


@dataclass(frozen=True)
class Reached:
    """For a method that drew chosen nodes: per layer, the activation each drawn picture
    reaches (empty for a layer not drawn)."""

    activations: tuple[np.ndarray, ...]


@dataclass(frozen=True)
class NodeStatisticsFound:
    """Every node's numbers (`NodeStatistics` per layer) over `reference_size` images."""

    layers: tuple[NodeStatistics, ...]
    reference_size: int


# Further results a method may return beside its rows; a writer table in `figures.layers` says
# what each becomes on disk, so a new method that returns one of them needs nothing more.
Extra = Fidelity | PerClassMaps | Reached | NodeStatisticsFound
E = TypeVar("E")


@dataclass(frozen=True)
class Projection:
    """What a method returns: its rows per layer, and what else it found."""

    method: str
    layers: tuple[np.ndarray, ...]  # float32 (nodes, H*W) per layer; (0, H*W) if not computed
    # Rows the method itself found constant inside its chain (only `seed` normalises there).
    chain_constant_rows: tuple[np.ndarray, ...] = ()
    # Which node each row is, per layer (all nodes unless the method took a subset).
    nodes: tuple[np.ndarray, ...] = ()
    # Further results, typed (at most one of each type), in the order they are written.
    extras: tuple[Extra, ...] = ()

    def __post_init__(self) -> None:
        if not self.nodes:
            object.__setattr__(self, "nodes", tuple(np.arange(len(rows), dtype=np.intp)
                                                    for rows in self.layers))
        if not self.chain_constant_rows:
            object.__setattr__(self, "chain_constant_rows", tuple(
                np.array([], dtype=np.intp) for _ in self.layers))

    def extra(self, kind: type[E]) -> E | None:
        """The further result of type `kind`, or None if the method found none."""
        return next((found for found in self.extras if isinstance(found, kind)), None)


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
