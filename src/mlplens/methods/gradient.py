"""`gradient`: each node's exact picture, its input-gradient averaged over real images, with the
fidelity of the `linear` picture to it and, optionally, the output's maps per class.

The Jacobians themselves (`core.gradient.mean_jacobians`) stay in core: feature pictures take
them too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.gradient import fidelity, fidelity_bytes, mean_jacobians, mean_jacobians_bytes
from ..core.projection import Extra, Fidelity, PerClassMaps, Projection, linear_bytes, linear_rows
from ..core.stack import DenseStack
from ..errors import MlplensError
from .registry import CliOption, Footprint, Method, Progress, reference_inputs


def compute(stack: DenseStack, *, reference: np.ndarray | None = None,
            labels: np.ndarray | None = None, per_class: bool = False, batch_size: int = 128,
            progress: Progress | None = None) -> Projection:
    inputs = reference_inputs("gradient", stack, reference)
    rows = mean_jacobians(stack, inputs, batch_size=batch_size, progress=progress)
    linear = linear_rows(stack)
    extras: list[Extra] = [Fidelity("linear", tuple(fidelity(a, b) for a, b in zip(linear, rows)),
                                    len(inputs))]
    if per_class:
        if labels is None:
            raise MlplensError("--per-class needs the reference images' labels")
        extras.append(PerClassMaps(mean_jacobians(stack, inputs, labels=labels,
                                                  batch_size=batch_size)[-1]))
    return Projection("gradient", tuple(rows), extras=tuple(extras))


def footprint(stack: DenseStack, *, reference: np.ndarray | None = None,
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


METHOD = Method("gradient", "The input gradient of the node, averaged over real test images.",
                "the exact picture, the mean input-gradient over the reference images (signed, "
                "blue < 0 < red)", compute, needs_data=True, normalization="symmetric",
                signed=True, needs_gradients=True, footprint=footprint,
                cli=(CliOption("per_class", "--per-class",
                               "also one map per class for the output layer", "switch"),))
