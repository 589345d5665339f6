"""`mlplens explore`: one self-contained HTML page to draw a digit and watch every node."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..atomic import write_text
from ..data import Mnist
from ..errors import MlplensError
from ..forward import accuracy
from ..project import METHODS
from ..snapshots import Snapshots
from ..stack import DenseStack
from ..views import LayerView, layer_views
from .page import render_explorer
from .pagedata import explorer_data, snapshot_frames
from .stats import node_statistics

DIGITS = 300  # real test digits embedded for the "random test digit" button
REFERENCE = 1000  # test images behind each node's statistics


def all_views(stack: DenseStack, normalization: str = "minmax") -> dict[str, list[LayerView]]:
    """Every picture method the project offers, `linear` first."""
    names = sorted(METHODS, key=lambda name: (name != "linear", name))
    return {name: layer_views(stack, name, normalization) for name in names}


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
        views = all_views(stack)
    stats = node_statistics(stack, mnist.x_test[:REFERENCE], mnist.y_test[:REFERENCE])
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
