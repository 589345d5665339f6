"""matplotlib Display objects for notebooks, after scikit-learn's: compute in `from_*`, draw in
`plot(ax=...)`, keep `figure_` and `ax_` for the caller to adjust.

This module joins the two halves the rest of mlplens keeps apart: `core` computes the pictures,
`render` draws them.
"""

from __future__ import annotations

import numpy as np

from .core.stack import DenseStack
from .layout.views import colour_key, layer_views
from .render.display import PictureGrid


class NodeGrid(PictureGrid):
    """All nodes of one layer as a labelled grid of pictures (a colour stack's in colour)."""

    @classmethod
    def from_stack(cls, stack: DenseStack, layer: int = -1, method: str = "linear",
                   normalize: str = "minmax") -> "NodeGrid":
        """Compute layer `layer` (1-based; -1 = output) of a stack with a method and normalisation."""
        views = layer_views(stack, method, normalize)
        view = views[layer if layer < 0 else layer - 1]
        legend = (*view.legend, *colour_key(view.normalization)) if view.colour else view.legend
        return cls(view.images, view.labels, view.title, legend)


class DigitGrid(PictureGrid):
    """Sample digits with their labels, e.g. the article's first figure."""

    @classmethod
    def from_images(cls, images: np.ndarray, labels: np.ndarray, count: int = 20) -> "DigitGrid":
        return cls(np.asarray(images[:count]), [str(int(y)) for y in labels[:count]],
                   "Sample MNIST digits", None)
