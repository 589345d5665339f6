"""Node pictures in input-pixel space: one row of H*W values per node, per layer (pure NumPy).

Keras stores Dense layer k as kernel W_k (n_{k-1}, n_k) and bias b_k (n_k,). Every method returns
a tuple with one array A_k of shape (n_k, H*W) per layer, first Dense layer first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .normalize import rownorm
from .stack import DenseStack


@dataclass(frozen=True)
class Projection:
    """What `project` returns: the method's rows per layer and the rows it had to flatten."""

    method: str
    layers: tuple[np.ndarray, ...]  # float32 (n_k, H*W)
    # Rows the method itself found constant inside its chain (only `seed` normalises there).
    chain_constant_rows: tuple[np.ndarray, ...]


def seed_rows(stack: DenseStack) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The article's notebook, exactly, quirks included.

    S_1 = (W_1 + b_1)^T and S_k = (N_{k-1}^T (W_k + b_k))^T, where N = rownorm(S): the bias is
    broadcast over the kernel's rows and each layer chains the *normalised* pictures of the
    layer before, as the notebook did.
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


def _seed(stack: DenseStack) -> Projection:
    rows, constants = seed_rows(stack)
    return Projection("seed", tuple(rows), tuple(constants))


def _linear(stack: DenseStack) -> Projection:
    rows = linear_rows(stack)
    return Projection("linear", tuple(rows), tuple(np.array([], dtype=np.intp) for _ in rows))


METHODS: dict[str, Callable[[DenseStack], Projection]] = {"linear": _linear, "seed": _seed}


def project(stack: DenseStack, method: str = "linear") -> Projection:
    """Every layer's node pictures with one method, named as on the command line."""
    try:
        compute = METHODS[method]
    except KeyError:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}") from None
    return compute(stack)
