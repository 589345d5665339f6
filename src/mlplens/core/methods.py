"""The picture methods, one object each, in one registry.

A `Method` says everything the rest of mlplens needs to know about a way of picturing nodes:
its name and one-line description (the CLI's choices and help, the explorer, the docs), whether
it looks at real images, how its pictures are normalised by default and whether they carry a
sign, which layers an overview draws, and its options, read from the keyword-only signature of
its `compute` function. `project(stack, method, **options)` is the one call for all of them; an
option the method does not take is an error that names both.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..errors import MlplensError, UnsuitableModel
from .activations import HEADS_ONLY
from .forward import brightness
from .gradient import fidelity, fidelity_bytes, mean_jacobians, mean_jacobians_bytes
from .maximize import maximize, maximize_bytes
from .node_statistics import node_statistics, node_statistics_bytes
from .projection import Projection, linear_bytes, linear_rows, seed_bytes, seed_rows
from .stack import DenseStack

Progress = Callable[[int, int], None]
# Hidden layers wider than this get their first nodes only (maximize, example strips) unless
# the caller picks nodes: a picture per node of a 512-wide layer takes minutes, or is unreadable.
ALL_NODES_UP_TO = 256
FIRST_NODES = 64


class UnknownOptionError(MlplensError, TypeError):
    """An option the chosen method does not take (a typo would otherwise be ignored)."""


@dataclass(frozen=True)
class Footprint:
    """What a method's compute takes, known before it runs: its peak memory and what it still
    holds when it returns (bytes), its rows (node pictures) per layer, and the reference images
    per node it returns (top-k, drawn as strips)."""

    peak: int
    held: int
    rows: tuple[int, ...]
    examples: int = 0

    @classmethod
    def of_rows(cls, stack: DenseStack, rows: Sequence[int], peak: int = 0, extra: int = 0,
                examples: int = 0) -> "Footprint":
        """A method that holds its float32 rows (and `extra` bytes of further results) and
        peaks at `peak`, or at what it holds if that is more."""
        held = 4 * stack.n_inputs * sum(rows) + extra
        return cls(max(peak, held), held, tuple(rows), examples)


@dataclass(frozen=True)
class Method:
    """One way of picturing every node of a network in input-pixel space."""

    name: str
    description: str  # one line, for --help, the explorer and the docs
    shows: str  # what one of its pictures is, for figure captions
    compute: Callable[..., Projection]  # compute(stack, *, options...) -> Projection
    needs_data: bool = False  # takes `reference` images (and their `labels`)
    normalization: str = "minmax"  # the default display normalisation
    signed: bool = False  # whether the sign of a value means something (0 is special)
    # Which layers an overview of every method (the explorer) draws: "all", or "output" for a
    # method too slow to run on every hidden node; such a method takes a `layers` option.
    layers: Literal["all", "output"] = "all"
    # Whether it follows input-gradients through the hidden layers, which needs an elementwise
    # derivative of each hidden activation (a hidden softmax has none).
    needs_gradients: bool = False
    # footprint(stack, *, options...) -> Footprint, from the same options as `compute`; without
    # one, a method is taken to hold its rows, one per node of every layer.
    footprint: Callable[..., Footprint] | None = None
    # Why it cannot picture a tabular model (named features, no image), or "" if it can.
    not_for_tables: str = ""

    @property
    def options(self) -> tuple[str, ...]:
        """The keyword-only options `compute` takes, in its order."""
        parameters = inspect.signature(self.compute).parameters.values()
        return tuple(p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY)

    def accepted(self, offered: dict[str, Any]) -> dict[str, Any]:
        """The subset of `offered` options this method takes: callers that serve every method
        (the command line, reports) offer all they have and pass on what applies."""
        return {name: value for name, value in offered.items() if name in self.options}

    def unsuitable_for(self, stack: DenseStack) -> str | None:
        """Why this method cannot picture `stack`, or None if it can."""
        if stack.is_tabular and self.not_for_tables:
            return f"the {self.name} method {self.not_for_tables}"
        if self.needs_gradients:
            for index, layer in enumerate(stack.layers[:-1], start=1):
                if layer.activation in HEADS_ONLY:
                    return (f"the {self.name} method follows input-gradients through every "
                            f"hidden layer, and layer {index} ({layer.name}) applies "
                            f"{layer.activation}, which has no elementwise derivative")
        return None

    def __call__(self, stack: DenseStack, **options: Any) -> Projection:
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            takes = ", ".join(self.options) or "none"
            raise UnknownOptionError(f"the {self.name} method has no option "
                                     f"{', '.join(map(repr, unknown))} (its options: {takes})")
        reason = self.unsuitable_for(stack)
        if reason:
            raise UnsuitableModel(reason)
        return self.compute(stack, **options)


METHODS: dict[str, Method] = {}


def register(method: Method) -> Method:
    """Add a method to the registry: the command line, `visualize`, `reproduce` and the explorer
    offer it from then on."""
    if method.name in METHODS:
        raise ValueError(f"a method named {method.name!r} is already registered")
    if method.layers == "output" and "layers" not in method.options:
        raise ValueError(f"method {method.name!r} draws the output layer only in overviews, "
                         "so it must take a `layers` option")
    METHODS[method.name] = method
    return method


def get_method(name: str) -> Method:
    try:
        return METHODS[name]
    except KeyError:
        raise ValueError(f"unknown method {name!r}; choose from {', '.join(METHODS)}") from None


def project(stack: DenseStack, method: str = "linear", **options: Any) -> Projection:
    """Every layer's node pictures with one method, named as on the command line.

    Each method's options are the keyword-only arguments of its compute function (see
    `METHODS[name].options`); all that run long take progress(done, total).
    """
    return get_method(method)(stack, **options)


def footprint(stack: DenseStack, method: str = "linear", **options: Any) -> Footprint:
    """What `project(stack, method, **options)` will hold, before it runs."""
    found = get_method(method)
    if found.footprint is None:
        return Footprint.of_rows(stack, stack.widths)
    return found.footprint(stack, **found.accepted(options))


def default_nodes(width: int) -> np.ndarray:
    """All nodes of a layer up to ALL_NODES_UP_TO wide; the first FIRST_NODES of a wider one."""
    return np.arange(width if width <= ALL_NODES_UP_TO else FIRST_NODES)


def _reference_inputs(method: str, stack: DenseStack, reference: np.ndarray | None) -> np.ndarray:
    if reference is None:
        raise MlplensError(f"the {method} method needs reference images")
    # Flattened but not converted: the methods convert batch by batch, so memory stays bounded
    # by the batch size whatever the reference set's size.
    inputs = np.asarray(reference)
    inputs = inputs.reshape(len(inputs), -1)
    if inputs.shape[1:] != (stack.n_inputs,):
        shape = "x".join(str(size) for size in stack.picture_shape)
        raise MlplensError(f"the {method} method needs reference images of {shape} "
                           f"pixels like the model's input, got {tuple(reference.shape[1:])}")
    return inputs


def _linear(stack: DenseStack) -> Projection:
    return Projection("linear", tuple(linear_rows(stack)))


def _seed(stack: DenseStack) -> Projection:
    rows, constants = seed_rows(stack)
    return Projection("seed", tuple(rows), tuple(constants))


def _gradient(stack: DenseStack, *, reference: np.ndarray | None = None,
              labels: np.ndarray | None = None, per_class: bool = False, batch_size: int = 128,
              progress: Progress | None = None) -> Projection:
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
    return Projection("gradient", tuple(rows), extras=extras)


def _gradient_footprint(stack: DenseStack, *, reference: np.ndarray | None = None,
                        labels: np.ndarray | None = None, per_class: bool = False,
                        batch_size: int = 128, **_: Any) -> Footprint:
    """The mean Jacobians, then the linear rows and the fidelity beside them; per class, the
    Jacobians again, ten groups at once."""
    count = len(reference) if reference is not None else 1
    peak = mean_jacobians_bytes(stack, count, batch_size) + linear_bytes(stack) + \
        fidelity_bytes(stack)
    per_class_bytes = 40 * stack.n_inputs * stack.widths[-1] if per_class else 0
    if per_class:
        peak += mean_jacobians_bytes(stack, count, batch_size, groups=10)
    return Footprint.of_rows(stack, stack.widths, peak, per_class_bytes)


def _maximized_nodes(stack: DenseStack, layers: Sequence[int] | None,
                     nodes: Sequence[int] | None) -> list[np.ndarray | None]:
    """Per layer, the nodes maximize draws (None: the layer is not drawn): every output node,
    the chosen hidden nodes or the default ones."""
    wanted = set(layers) if layers is not None else set(range(1, len(stack.layers) + 1))
    picked: list[np.ndarray | None] = []
    for index, width in enumerate(stack.widths, start=1):
        if index not in wanted:
            picked.append(None)
        elif index == len(stack.layers):
            picked.append(np.arange(width))
        else:
            picked.append(default_nodes(width) if nodes is None
                          else np.asarray(list(nodes), dtype=np.intp))
    return picked


def _maximize_footprint(stack: DenseStack, *, layers: Sequence[int] | None = None,
                        nodes: Sequence[int] | None = None, **_: Any) -> Footprint:
    counts = [0 if chosen is None else len(chosen)
              for chosen in _maximized_nodes(stack, layers, nodes)]
    return Footprint.of_rows(stack, counts, sum(maximize_bytes(stack, count)
                                               for count in counts if count))


def _maximize(stack: DenseStack, *, layers: Sequence[int] | None = None,
              nodes: Sequence[int] | None = None, seed: int = 0, steps: int = 200,
              step_size: float = 0.03, l2: float = 0.1, blur_every: int = 16, jitter: int = 1,
              progress: Progress | None = None) -> Projection:
    """Maximise every node of the output layer and the chosen (or default) hidden nodes."""
    rows, chosen, reached = [], [], []
    for index, picked in enumerate(_maximized_nodes(stack, layers, nodes), start=1):
        if picked is None:
            rows.append(np.zeros((0, stack.n_inputs), np.float32))
            chosen.append(np.array([], dtype=np.intp))
            reached.append(np.array([], dtype=np.float32))
            continue
        result = maximize(stack, index, picked, steps=steps, step_size=step_size, l2=l2,
                          blur_every=blur_every, jitter=jitter, seed=seed, progress=progress)
        rows.append(result.images)
        chosen.append(result.nodes)
        reached.append(result.activations)
    return Projection("maximize", tuple(rows), nodes=tuple(chosen),
                      extras={"activations": tuple(reached)})


def _examples(stack: DenseStack, *, reference: np.ndarray | None = None,
              labels: np.ndarray | None = None, k: int = 8, batch_size: int = 512,
              progress: Progress | None = None) -> Projection:
    inputs = _reference_inputs("examples", stack, reference)
    if labels is None:
        raise MlplensError("the examples method needs the reference images' labels")
    found = node_statistics(stack, inputs, labels, top_k=k, batch_size=batch_size,
                            progress=progress)
    rows = tuple(_mean_images(inputs, layer.top_indices) for layer in found)
    return Projection("examples", rows,
                      extras={"node_statistics": tuple(found), "reference_size": len(inputs)})


MEAN_BLOCK = 2**22  # values of top images converted at once by _mean_images


def _mean_images(inputs: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Each node's picture: the mean of the images that excite it most (`top`: (nodes, k)
    indices), a block of nodes at a time, so the (nodes, k, H*W) floats never exist at once."""
    nodes, k = top.shape
    rows = np.empty((nodes, inputs.shape[1]), np.float32)
    step = max(1, MEAN_BLOCK // max(1, k * inputs.shape[1]))
    for start in range(0, nodes, step):
        block = top[start:start + step]
        rows[start:start + len(block)] = brightness(inputs[block.ravel()]).reshape(
            *block.shape, -1).mean(axis=1)
    return rows


def _examples_footprint(stack: DenseStack, *, reference: np.ndarray | None = None,
                        k: int = 8, batch_size: int = 512, **_: Any) -> Footprint:
    """The node statistics with their top-k, then the rows, made a block of nodes at a time."""
    count = len(reference) if reference is not None else 1
    top = 12 * min(k, count) * sum(stack.widths)  # the top-k indices and values it returns
    return Footprint.of_rows(stack, stack.widths,
                             node_statistics_bytes(stack, count, k, batch_size=batch_size)
                             + 4 * stack.n_inputs * sum(stack.widths) + 9 * MEAN_BLOCK,
                             top, examples=min(k, count))


# The order here is the order of the command line's choices and of reproduce's sections.
for _method in (
    Method("linear", "W1·…·Wk: what the node would see if every ReLU before it were on.",
           "the product of the weight matrices up to the node, every ReLU taken as on",
           _linear, footprint=lambda stack, **_: Footprint.of_rows(stack, stack.widths,
                                                                   linear_bytes(stack))),
    Method("seed", "The article's notebook: bias added to the kernel, normalised pictures "
                   "chained.", "the article's notebook method, quirks included", _seed,
           footprint=lambda stack, **_: Footprint.of_rows(stack, stack.widths,
                                                          seed_bytes(stack))),
    Method("gradient", "The input gradient of the node, averaged over real test images.",
           "the exact picture, the mean input-gradient over the reference images (signed, "
           "blue < 0 < red)", _gradient, needs_data=True, normalization="symmetric",
           signed=True, needs_gradients=True, footprint=_gradient_footprint),
    Method("maximize", "The input that drives the node hardest (gradient ascent from grey).",
           "the input each node responds to most (activation maximisation)", _maximize,
           layers="output", needs_gradients=True, footprint=_maximize_footprint,
           not_for_tables="climbs from a grey image, blurred and shifted as it goes, which a "
                          "table's features are not (for a tabular model use linear, seed, "
                          "gradient or examples)"),
    Method("examples", "The real test images that drive the node hardest.",
           "each node's mean of its most exciting reference images", _examples,
           needs_data=True, footprint=_examples_footprint),
):
    register(_method)
