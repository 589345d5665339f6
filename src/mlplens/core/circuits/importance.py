"""How important each hidden node is, by three scores: what the diagram shows first and the
order in which `mlplens prune` removes nodes.

- `weight`: |incoming weights| x |outgoing weights| (L2 norms), from the weights alone: a node
  with small weights on either side can pass little signal, whatever the input.
- `contribution`: the mean |a_j dz_c/da_j| over real images (c the predicted class), what the
  node actually adds to the decisions the net makes.
- `random`: a seeded shuffle, the baseline the other two must beat.
"""

from __future__ import annotations

import numpy as np

from ...errors import MlplensError
from ..forward import as_inputs, batches
from ..stack import DenseStack
from .contributions import contributions

SCORES = ("contribution", "weight", "random")


def hidden_layer(stack: DenseStack, layer: int) -> int:
    """`layer` checked to be a hidden layer (1 = first Dense layer)."""
    hidden = len(stack.layers) - 1
    if not 1 <= layer <= hidden:
        span = f"1-{hidden}" if hidden else "none: the net has no hidden layer"
        raise MlplensError(f"layer {layer} is not a hidden layer of this net (hidden layers: "
                           f"{span})")
    return layer


def weight_score(stack: DenseStack, layer: int) -> np.ndarray:
    """||W_k[:, j]|| * ||W_{k+1}[j, :]|| for every node j of hidden layer k."""
    hidden_layer(stack, layer)
    incoming = np.linalg.norm(stack.kernels[layer - 1].astype(np.float64), axis=0)
    outgoing = np.linalg.norm(stack.kernels[layer].astype(np.float64), axis=1)
    return incoming * outgoing


def contribution_score(stack: DenseStack, layer: int, images: np.ndarray,
                       batch_size: int = 1000) -> np.ndarray:
    """Mean |contribution| of every node of hidden layer k over `images` (uint8 or [0, 1])."""
    hidden_layer(stack, layer)
    total = np.zeros(stack.widths[layer - 1])
    for part in batches(len(images), batch_size):
        total += np.abs(contributions(stack, as_inputs(stack, images[part]))[layer - 1]).sum(axis=0)
    return total / max(len(images), 1)


def random_score(stack: DenseStack, layer: int, seed: int = 0) -> np.ndarray:
    """A seeded random score: removing by it is removing at random."""
    hidden_layer(stack, layer)
    return np.random.default_rng(seed).random(stack.widths[layer - 1])
