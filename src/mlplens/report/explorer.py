"""The explorer (`mlplens explore`): one self-contained HTML page to draw a digit and watch
every node."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..core.forward import accuracy
from ..core.methods import METHODS
from ..core.node_statistics import node_statistics
from ..core.stack import DenseStack
from ..core.views import LayerView, layer_views
from ..data import Mnist
from ..errors import MlplensError
from ..output import write_text
from ..snapshots import Snapshots
from .page import render_explorer
from .pagedata import explorer_data, snapshot_frames

DIGITS = 300  # real test digits embedded for the "random test digit" button
REFERENCE = 1000  # test images behind each node's statistics


def all_views(stack: DenseStack, reference: np.ndarray | None = None,
              labels: np.ndarray | None = None) -> dict[str, list[LayerView | None]]:
    """Every registered picture method, `linear` first, each in its own default normalisation;
    one entry per layer (None where a method draws none).

    Methods that need reference images are skipped without them, and so are methods that cannot
    picture this network (`Method.unsuitable_for`); a method whose `layers` is
    "output" (maximize: every hidden node would take minutes) draws the output layer only.
    """
    result: dict[str, list[LayerView | None]] = {}
    for method in sorted(METHODS.values(), key=lambda m: (m.name != "linear", m.name)):
        if method.unsuitable_for(stack):  # e.g. gradients through a hidden softmax
            continue
        offered: dict[str, object] = {}
        if method.needs_data:
            if reference is None or labels is None:
                continue
            offered.update(reference=reference, labels=labels)
        if method.layers == "output":
            offered["layers"] = [len(stack.layers)]
        views = layer_views(stack, method.name, **method.accepted(offered))
        by_layer = {view.index: view for view in views}
        result[method.name] = [by_layer.get(index) for index in range(1, len(stack.layers) + 1)]
    return result


def build_explorer(stack: DenseStack, mnist: Mnist, *, model_name: str = "",
                   snapshots: Snapshots | None = None,
                   views: Mapping[str, Sequence[LayerView | None]] | None = None,
                   extra_stats: Mapping[str, Sequence[np.ndarray]] | None = None,
                   max_frames: int = 8, title: str | None = None) -> str:
    """The explorer's HTML for a stack, with MNIST's first test digits and statistics."""
    if stack.image_shape != tuple(mnist.x_test.shape[1:]):
        raise MlplensError(f"the explorer draws MNIST digits ({mnist.x_test.shape[1]}x"
                           f"{mnist.x_test.shape[2]}); this model takes "
                           f"{stack.image_shape[0]}x{stack.image_shape[1]} images")
    if views is None:
        views = all_views(stack, mnist.x_test[:REFERENCE], mnist.y_test[:REFERENCE])
    stats = node_statistics(stack, mnist.x_test[:REFERENCE], mnist.y_test[:REFERENCE],
                            colour_scale=True)
    frames = snapshot_frames(snapshots, stack, max_frames=max_frames) if snapshots else None
    data = explorer_data(
        stack, views, digits=mnist.x_test[:DIGITS], digit_labels=mnist.y_test[:DIGITS],
        digit_source=f"MNIST test images 0-{DIGITS - 1}", stats=stats,
        stats_source=f"the first {REFERENCE} MNIST test images", extra_stats=extra_stats,
        frames=frames, model_name=model_name,
        test_accuracy=accuracy(stack, mnist.x_test, mnist.y_test))
    return render_explorer(data, title or f"mlplens explorer: {model_name or stack.describe()}")


def write_explorer(path: str | os.PathLike[str], stack: DenseStack, mnist: Mnist,
                   **options) -> Path:
    """Build the explorer and write it atomically to `path`."""
    return write_text(path, build_explorer(stack, mnist, **options))
