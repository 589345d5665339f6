"""A layer's node pictures ready to draw: projection + display normalisation + captions.

This is where computing ends; renderers receive a LayerView and only draw it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.normalization import MID_GREY, NORMALIZE_BYTES_PER_VALUE, normalize
from ..core.projection import Projection
from ..core.stack import DenseStack
from ..errors import UnsuitableModel
from ..methods import get_method, project

# Above this, the article's float32 min-max step (values * 255) overflows: such weights are not
# a trained network's (a damaged file, usually) and cannot be drawn.
MAX_DRAWABLE = 1e35


@dataclass(frozen=True)
class LayerView:
    """One layer's pictures: raw rows, uint8 images, per-node labels and what the colours mean."""

    index: int  # 1 = first Dense layer, L = output layer
    method: str
    normalization: str
    raw: np.ndarray  # float32 (n, H*W*C), before display normalisation
    images: np.ndarray  # uint8 (n, H, W), or (n, H, W, 3) for colour: each channel its value
    labels: tuple[str, ...]
    title: str
    legend: tuple[str, str, str]  # what pixel values 0, 128 and 255 stand for
    constant_rows: np.ndarray  # nodes drawn flat because their row was constant
    nodes: np.ndarray  # which node each row is

    @property
    def colour(self) -> bool:
        """Whether the pictures are colour ones: (n, H, W, 3), drawn as they are."""
        return self.images.ndim == 4


def colour_key(normalization: str, side_by_side: bool = False) -> tuple[int | None, str]:
    """What the colours of a colour picture mean, for its legend: the pixel value at which a
    channel adds nothing when the channels are drawn together (0 for min-max, mid-grey where 0
    is mid-grey; None side by side, where the colormap's own bar says it) and one sentence.

    A node's three channels are normalised together (one scale for all its values), so a
    channel's brightness compares across channels: red where the node weighs red most.
    """
    scope = "for the whole layer" if normalization == "layer" else "per node"
    if side_by_side:
        scale = "one min-max scale" if normalization == "minmax" else "one signed scale"
        return None, f"R, G, B: each channel drawn alone, the three on {scale} {scope}"
    if normalization == "minmax":
        return 0, ("R, G, B: each channel's value, the three on one min-max scale per node "
                   "(black: the node's min)")
    return MID_GREY, (f"R, G, B: each channel's value, the three on one signed scale {scope}; "
                      "mid-grey is 0 in every channel")


def _legend(mode: str, raw: np.ndarray) -> tuple[str, str, str]:
    if mode == "minmax":
        return ("node's min", "", "node's max")
    if mode == "symmetric":
        return ("-max |value| of node", "0", "+max |value| of node")
    scale = float(np.abs(raw).max()) if raw.size else 0.0
    return (f"{-scale:.3g}", "0", f"{scale:+.3g}")


def layer_views(stack: DenseStack, method: str = "linear", normalization: str | None = None,
                projection: Projection | None = None, **options: Any) -> list[LayerView]:
    """Every computed layer of the stack as drawable pictures, first Dense layer first.

    `options` go to `project` (e.g. reference=, labels= for the data-driven methods); pass a
    `projection` already computed to draw it again with another normalisation.
    """
    normalization = normalization or get_method(method).normalization
    if projection is None:
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked for below
            projection = project(stack, method, **options)
    shape = stack.picture_shape
    count = len(stack.layers)
    views = []
    for index, (raw, nodes) in enumerate(zip(projection.layers, projection.nodes), start=1):
        if len(raw) == 0:
            continue
        largest = float(np.abs(raw).max())
        if not largest < MAX_DRAWABLE:  # also catches inf and NaN from an overflowing product
            raise UnsuitableModel(f"layer {index}: its {method} pictures overflow float32 "
                               f"(|values| up to {largest:.3g}); the weights are too large to "
                               "draw")
        result = normalize(raw, normalization)
        units = stack.widths[index - 1]
        subset = "" if len(nodes) == units else f", {len(nodes)} shown"
        if index == count:
            title = f"Output layer: {units} nodes, one per class{subset} ({method}, {normalization})"
        else:
            title = f"Layer {index}: {units} nodes{subset} ({method}, {normalization})"
        constant = np.union1d(result.constant_rows, projection.chain_constant_rows[index - 1])
        views.append(LayerView(
            index=index, method=method, normalization=normalization, raw=raw,
            images=result.pixels.reshape(len(raw), *shape),
            labels=tuple(str(int(node)) for node in nodes), title=title,
            legend=_legend(normalization, raw), constant_rows=nodes[constant.astype(np.intp)],
            nodes=np.asarray(nodes)))
    return views


def layer_views_bytes(stack: DenseStack, rows: Sequence[int]) -> int:
    """layer_views' own peak, past the projection's rows (`rows` per layer): every layer's uint8
    images, and one layer at a time in its normalisation."""
    return stack.n_inputs * (sum(rows) + NORMALIZE_BYTES_PER_VALUE * max(rows, default=0))
