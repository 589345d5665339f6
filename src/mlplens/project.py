"""Node pictures in input-pixel space: one row of H*W values per node, per layer (pure NumPy).

Keras stores Dense layer k as kernel W_k (n_{k-1}, n_k) and bias b_k (n_k,). Every method is
called the same way, `project(stack, method, ...)`, and returns one array A_k of shape
(nodes, H*W) per layer, first Dense layer first. `linear` and `seed` read only the weights;
`gradient`, `examples` and `maximize` look at the network's behaviour (the first two on a
reference set of real images).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import MlplensError
from .examples import layer_examples
from .forward import as_inputs
from .jacobian import fidelity, mean_jacobians
from .maximize import maximize
from .normalize import rownorm
from .stack import DenseStack

Progress = Callable[[int, int], None]
# Hidden layers wider than this get maximised for their first nodes only unless asked.
MAXIMIZE_ALL_UP_TO = 256
MAXIMIZE_DEFAULT_NODES = 64


@dataclass(frozen=True)
class Projection:
    """What `project` returns: the method's rows per layer, and what else the method found."""

    method: str
    layers: tuple[np.ndarray, ...]  # float32 (nodes, H*W) per layer; (0, H*W) if not computed
    # Rows the method itself found constant inside its chain (only `seed` normalises there).
    chain_constant_rows: tuple[np.ndarray, ...]
    # Which node each row is, per layer (all nodes unless the method took a subset).
    nodes: tuple[np.ndarray, ...] = ()
    # Method-specific results: gradient's "fidelity" and "per_class", maximize's "activations",
    # examples' "examples" (a LayerExamples per layer).
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.nodes:
            object.__setattr__(self, "nodes", tuple(np.arange(len(rows), dtype=np.intp)
                                                    for rows in self.layers))


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


def _no_constants(count: int) -> tuple[np.ndarray, ...]:
    return tuple(np.array([], dtype=np.intp) for _ in range(count))


def _seed(stack: DenseStack, **_: Any) -> Projection:
    rows, constants = seed_rows(stack)
    return Projection("seed", tuple(rows), tuple(constants))


def _linear(stack: DenseStack, **_: Any) -> Projection:
    rows = linear_rows(stack)
    return Projection("linear", tuple(rows), _no_constants(len(rows)))


def _reference_inputs(method: str, stack: DenseStack, reference: np.ndarray | None) -> np.ndarray:
    if reference is None:
        raise MlplensError(f"the {method} method needs reference images")
    # Flattened but not converted: the methods convert batch by batch, so memory stays bounded
    # by the batch size whatever the reference set's size.
    inputs = np.asarray(reference)
    inputs = inputs.reshape(len(inputs), -1)
    if inputs.shape[1:] != (stack.n_inputs,):
        height, width = stack.image_shape
        raise MlplensError(f"the {method} method needs reference images of {height}x{width} "
                           f"pixels like the model's input, got {tuple(reference.shape[1:])}")
    return inputs


def _gradient(stack: DenseStack, reference: np.ndarray | None = None,
              labels: np.ndarray | None = None, per_class: bool = False, batch_size: int = 128,
              progress: Progress | None = None, **_: Any) -> Projection:
    inputs = _reference_inputs("gradient", stack, reference)
    rows = mean_jacobians(stack, inputs, batch_size=batch_size, progress=progress)
    linear = linear_rows(stack)
    extras: dict[str, Any] = {"fidelity": tuple(fidelity(a, b) for a, b in zip(linear, rows)),
                              "reference_size": len(inputs)}
    if per_class:
        if labels is None:
            raise MlplensError("--per-class needs the reference images' labels")
        extras["per_class"] = mean_jacobians(stack, inputs, labels=labels,
                                             batch_size=batch_size)[-1]
    return Projection("gradient", tuple(rows), _no_constants(len(rows)), extras=extras)


def default_nodes(width: int) -> np.ndarray:
    """All nodes of a layer up to 256 wide; the first 64 of a wider one (maximize, strips)."""
    return np.arange(width if width <= MAXIMIZE_ALL_UP_TO else MAXIMIZE_DEFAULT_NODES)


def _maximize(stack: DenseStack, layers: Sequence[int] | None = None,
              nodes: Sequence[int] | None = None, seed: int = 0,
              progress: Progress | None = None, **options: Any) -> Projection:
    """Maximise every node of the output layer and the chosen (or default) hidden nodes."""
    wanted = set(layers) if layers is not None else set(range(1, len(stack.layers) + 1))
    rows, chosen, reached = [], [], []
    for index, width in enumerate(stack.widths, start=1):
        if index not in wanted:
            rows.append(np.zeros((0, stack.n_inputs), np.float32))
            chosen.append(np.array([], dtype=np.intp))
            reached.append(np.array([], dtype=np.float32))
            continue
        is_output = index == len(stack.layers)
        # The output layer is always drawn whole; `nodes` picks among hidden nodes.
        picked = np.arange(width) if is_output else default_nodes(width) if nodes is None \
            else np.asarray(list(nodes), dtype=np.intp)
        result = maximize(stack, index, picked, seed=seed, progress=progress, **options)
        rows.append(result.images)
        chosen.append(result.nodes)
        reached.append(result.activations)
    return Projection("maximize", tuple(rows), _no_constants(len(rows)), tuple(chosen),
                      {"activations": tuple(reached)})


def _examples(stack: DenseStack, reference: np.ndarray | None = None,
              labels: np.ndarray | None = None, k: int = 8, batch_size: int = 512,
              progress: Progress | None = None, **_: Any) -> Projection:
    inputs = _reference_inputs("examples", stack, reference)
    if labels is None:
        raise MlplensError("the examples method needs the reference images' labels")
    found = layer_examples(stack, inputs, labels, k=k, batch_size=batch_size, progress=progress)
    # Each node's picture: the mean of the images that excite it most.
    rows = tuple(as_inputs(inputs[layer.top_indices.ravel()])
                 .reshape(*layer.top_indices.shape, -1).mean(axis=1).astype(np.float32)
                 for layer in found)
    return Projection("examples", rows, _no_constants(len(rows)),
                      extras={"examples": tuple(found), "reference_size": len(inputs)})


METHODS: dict[str, Callable[..., Projection]] = {
    "linear": _linear, "seed": _seed, "gradient": _gradient, "maximize": _maximize,
    "examples": _examples}
# Methods that look at real images: they take `reference=` (and labels).
DATA_METHODS = ("gradient", "examples")


def project(stack: DenseStack, method: str = "linear", **options: Any) -> Projection:
    """Every layer's node pictures with one method, named as on the command line.

    Options by method: gradient(reference, labels, per_class, batch_size), examples(reference,
    labels, k, batch_size), maximize(layers, nodes, seed, steps, step_size, l2, blur_every,
    jitter); all take progress(done, total).
    """
    try:
        compute = METHODS[method]
    except KeyError:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}") from None
    return compute(stack, **options)
