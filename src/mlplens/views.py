"""A layer's node pictures ready to draw: projection + display normalisation + captions.

This is where computing ends; renderers receive a LayerView and only draw it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import MlplensError
from .normalize import normalize
from .project import project
from .stack import DenseStack


# Above this, the article's float32 min-max step (values * 255) overflows: such weights are not
# a trained network's (a damaged file, usually) and cannot be drawn.
MAX_DRAWABLE = 1e35


@dataclass(frozen=True)
class LayerView:
    """One layer's pictures: raw rows, uint8 images, per-node labels and what the colours mean."""

    index: int  # 1 = first Dense layer, L = output layer
    method: str
    normalization: str
    raw: np.ndarray  # float32 (n, H*W), before display normalisation
    images: np.ndarray  # uint8 (n, H, W)
    labels: tuple[str, ...]
    title: str
    legend: tuple[str, str, str]  # what pixel values 0, 128 and 255 stand for
    constant_rows: np.ndarray  # nodes drawn flat because their row was constant

    @property
    def is_output(self) -> bool:
        return self.title.startswith("Output")


def _legend(mode: str, raw: np.ndarray) -> tuple[str, str, str]:
    if mode == "minmax":
        return ("node's min", "", "node's max")
    if mode == "symmetric":
        return ("-max |value| of node", "0", "+max |value| of node")
    scale = float(np.abs(raw).max())
    return (f"{-scale:.3g}", "0", f"{scale:+.3g}")


def layer_views(stack: DenseStack, method: str = "linear",
                normalization: str = "minmax") -> list[LayerView]:
    """Every layer of the stack as drawable pictures, first Dense layer first."""
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked for below
        projection = project(stack, method)
    height, width = stack.image_shape
    count = len(stack.layers)
    views = []
    for index, raw in enumerate(projection.layers, start=1):
        largest = float(np.abs(raw).max())
        if not largest < MAX_DRAWABLE:  # also catches inf and NaN from an overflowing product
            raise MlplensError(f"layer {index}: its {method} pictures overflow float32 "
                               f"(|values| up to {largest:.3g}); the weights are too large to "
                               "draw")
        result = normalize(raw, normalization)
        units = raw.shape[0]
        if index == count:
            title = f"Output layer: {units} nodes, one per class ({method}, {normalization})"
        else:
            title = f"Layer {index}: {units} nodes ({method}, {normalization})"
        constant = np.union1d(result.constant_rows, projection.chain_constant_rows[index - 1])
        views.append(LayerView(
            index=index, method=method, normalization=normalization, raw=raw,
            images=result.pixels.reshape(units, height, width),
            labels=tuple(str(node) for node in range(units)), title=title,
            legend=_legend(normalization, raw), constant_rows=constant.astype(np.intp)))
    return views
