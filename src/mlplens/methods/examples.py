"""`examples`: each node pictured by the real images that drive it hardest, with every node's
statistics (firing, class means, preferred class) found on the way.

The statistics themselves (`core.node_statistics`) stay in core: the explorer and feature
pictures take them too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.forward import brightness
from ..core.node_statistics import node_statistics, node_statistics_bytes
from ..core.projection import NodeStatisticsFound, Projection
from ..core.stack import DenseStack
from ..errors import MlplensError
from .registry import CliOption, Footprint, Method, Progress, reference_inputs


def compute(stack: DenseStack, *, reference: np.ndarray | None = None,
            labels: np.ndarray | None = None, k: int = 8, batch_size: int = 512,
            progress: Progress | None = None) -> Projection:
    inputs = reference_inputs("examples", stack, reference)
    if labels is None:
        raise MlplensError("the examples method needs the reference images' labels")
    found = node_statistics(stack, inputs, labels, top_k=k, batch_size=batch_size,
                            progress=progress)
    rows = tuple(mean_images(inputs, layer.top_indices) for layer in found)
    return Projection("examples", rows,
                      extras=(NodeStatisticsFound(tuple(found), len(inputs)),))


MEAN_BLOCK = 2**22  # values of top images converted at once by mean_images


def mean_images(inputs: np.ndarray, top: np.ndarray) -> np.ndarray:
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


def footprint(stack: DenseStack, *, reference: np.ndarray | None = None,
              k: int = 8, batch_size: int = 512, **_: Any) -> Footprint:
    """The node statistics with their top-k, then the rows, made a block of nodes at a time."""
    count = len(reference) if reference is not None else 1
    top = 12 * min(k, count) * sum(stack.widths)  # the top-k indices and values it returns
    return Footprint.of_rows(stack, stack.widths,
                             node_statistics_bytes(stack, count, k, batch_size=batch_size)
                             + 4 * stack.n_inputs * sum(stack.widths) + 9 * MEAN_BLOCK,
                             top, examples=min(k, count))


METHOD = Method("examples", "The real test images that drive the node hardest.",
                "each node's mean of its most exciting reference images", compute,
                needs_data=True, footprint=footprint,
                cli=(CliOption("k", "--top-k", "images per node (default: 8)", "count", "K",
                               grows=True),))
