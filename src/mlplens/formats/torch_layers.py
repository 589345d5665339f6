"""A PyTorch net as the steps of its forward pass, and those steps as a Chain.

Both PyTorch routes end here: a state_dict (`state_dict`, whose order and activations are
worked out from key names and shapes, or told) and a live module traced with torch.fx
(`torch_module`). Weights are NumPy arrays in torch's layout: a Linear's weight is (out, in).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .common import Chain

# PyTorch's default epsilon for BatchNorm1d and LayerNorm; a state_dict does not record it.
TORCH_EPSILON = 1e-5


@dataclass(frozen=True)
class Linear:
    name: str
    weight: np.ndarray  # (out, in)
    bias: np.ndarray | None


@dataclass(frozen=True)
class BatchNorm:
    """BatchNorm1d at inference: its running statistics; scale 1 and offset 0 when not affine."""

    name: str
    scale: np.ndarray
    offset: np.ndarray
    mean: np.ndarray
    variance: np.ndarray
    epsilon: float = TORCH_EPSILON


@dataclass(frozen=True)
class LayerNorm:
    """LayerNorm over a Linear's values (its normalized_shape is their width)."""

    name: str
    scale: np.ndarray
    offset: np.ndarray
    epsilon: float = TORCH_EPSILON


@dataclass(frozen=True)
class Activation:
    activation: str  # canonical
    label: str


Step = Linear | BatchNorm | LayerNorm | Activation


def to_chain(steps: Iterable[Step], owned: bool) -> Chain:
    """The steps in forward order as a Chain: norms fold or attach where they stand."""
    chain = Chain(owned=owned)
    for step in steps:
        if isinstance(step, Linear):
            chain.dense(step.name, step.weight.T, step.bias)
        elif isinstance(step, BatchNorm):
            chain.batch_norm(step.scale, step.offset, step.mean, step.variance, step.epsilon,
                             f"BatchNorm1d {step.name!r}")
        elif isinstance(step, LayerNorm):
            chain.layer_norm(step.scale, step.offset, step.epsilon, f"LayerNorm {step.name!r}")
        else:
            chain.fold(step.activation, step.label)
    return chain
