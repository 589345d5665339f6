"""`maximize`: the input each node responds to most, by gradient ascent from grey.

The ascent itself (`core.maximize`) stays in core: feature pictures climb the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.maximize import maximize, maximize_bytes
from ..core.projection import Projection, Reached
from ..core.stack import DenseStack
from .registry import CliOption, Footprint, Method, Progress, default_nodes


def maximized_nodes(stack: DenseStack, layers: Sequence[int] | None,
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


def footprint(stack: DenseStack, *, layers: Sequence[int] | None = None,
              nodes: Sequence[int] | None = None, **_: Any) -> Footprint:
    counts = [0 if chosen is None else len(chosen)
              for chosen in maximized_nodes(stack, layers, nodes)]
    return Footprint.of_rows(stack, counts, sum(maximize_bytes(stack, count)
                                               for count in counts if count))


def compute(stack: DenseStack, *, layers: Sequence[int] | None = None,
            nodes: Sequence[int] | None = None, seed: int = 0, steps: int = 200,
            step_size: float = 0.03, l2: float = 0.1, blur_every: int = 16, jitter: int = 1,
            progress: Progress | None = None) -> Projection:
    """Maximise every node of the output layer and the chosen (or default) hidden nodes."""
    rows, chosen, reached = [], [], []
    for index, picked in enumerate(maximized_nodes(stack, layers, nodes), start=1):
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
                      extras=(Reached(tuple(reached)),))


METHOD = Method(
    "maximize", "The input that drives the node hardest (gradient ascent from grey).",
    "the input each node responds to most (activation maximisation)", compute,
    layers="output", needs_gradients=True, footprint=footprint,
    not_for_tables="climbs from a grey image, blurred and shifted as it goes, which a table's "
                   "features are not (for a tabular model use linear, seed, gradient or "
                   "examples)",
    cli=(CliOption("nodes", "--nodes", "which hidden nodes, e.g. 0-15 (default: all of a layer "
                                       "up to 256 nodes, else the first 64); output layers are "
                                       "always drawn whole", "nodes", "LIST"),
         CliOption("layers", "--layers", "which layers, 1 = first Dense layer (default: all)",
                   "counts", "K"),
         CliOption("seed", "--seed", "random seed (default: 0)")))
