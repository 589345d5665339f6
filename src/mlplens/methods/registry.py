"""The registry of picture methods: what a method is, and the one call for all of them.

A `Method` says everything the rest of mlplens needs to know about a way of picturing nodes:
its name and one-line description (the CLI's choices and help, the explorer, the docs), whether
it looks at real images, how its pictures are normalised by default and whether they carry a
sign, which layers an overview draws, its options, read from the keyword-only signature of
its `compute` function, and how the command line gives them (`CliOption`).
`project(stack, method, **options)` is the one call for all of them; an option the method does
not take is an error that names both.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..core.activations import HEADS_ONLY
from ..core.projection import Projection
from ..core.stack import DenseStack
from ..errors import MlplensError, UnsuitableModel

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
class CliOption:
    """How the command line gives one of a method's options: `visualize` adds one flag per
    option of every registered method, its help prefixed with the methods that take it."""

    name: str  # the keyword-only argument of the method's compute function
    flag: str  # e.g. "--top-k"
    help: str
    # switch: on or off; int: any integer; count: a positive integer; counts: one or more;
    # nodes: a list of node numbers such as 0-15,20
    value: Literal["switch", "int", "count", "counts", "nodes"] = "int"
    metavar: str | None = None
    grows: bool = False  # makes the work bigger: named when memory refuses it


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
    cli: tuple[CliOption, ...] = ()  # the options a user may give on the command line

    @property
    def from_weights(self) -> bool:
        """Whether it draws from the weights alone, with no options or images: cheap enough
        for every snapshot of a training run (`mlplens evolve`)."""
        return not self.needs_data and not self.options

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
    for option in method.cli:
        if option.name not in method.options:
            raise ValueError(f"method {method.name!r} has no option {option.name!r} for "
                             f"{option.flag}")
        for other in METHODS.values():
            same = next((o for o in other.cli if o.flag == option.flag), None)
            if same is not None and (same.name, same.value) != (option.name, option.value):
                raise ValueError(f"{option.flag} of method {method.name!r} differs from "
                                 f"method {other.name!r}'s")
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


def reference_inputs(method: str, stack: DenseStack, reference: np.ndarray | None) -> np.ndarray:
    """A data method's reference images as rows, checked against the model's input."""
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
