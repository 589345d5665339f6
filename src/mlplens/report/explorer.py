"""The explorer (`mlplens explore`): one self-contained HTML page to draw a digit, or pick or
load an image, and watch every node."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from ..core.forward import accuracy, accuracy_bytes
from ..core.node_statistics import node_statistics, node_statistics_bytes
from ..core.stack import DenseStack
from ..datasets import Dataset, check_matches
from ..errors import MlplensError
from ..layout.views import LayerView, layer_views, layer_views_bytes
from ..memory import format_size, require
from ..methods import METHODS, Method, footprint
from ..output import atomic_path
from ..snapshots import Snapshots
from .page import explorer_pieces, render_explorer_bytes
from .pagedata import data_bytes, explorer_data, snapshot_frames

DIGITS = 300  # real test digits embedded for the "random test digit" button
# Blocks under 32 MB that the C allocator keeps once freed, for reuse: up to 70 MB measured on
# small nets, whose many steps each free such blocks (bigger ones go back to the system).
ALLOCATOR_SLACK = 100 * 10**6
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
    for method, offered in _methods(stack, reference, labels):
        views = layer_views(stack, method.name, **offered)
        by_layer = {view.index: view for view in views}
        result[method.name] = [by_layer.get(index) for index in range(1, len(stack.layers) + 1)]
    return result


def _methods(stack: DenseStack, reference: np.ndarray | None, labels: np.ndarray | None
             ) -> list[tuple[Method, dict[str, object]]]:
    """The methods the explorer draws, in its order, each with the options it is given."""
    chosen = []
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
        chosen.append((method, method.accepted(offered)))
    return chosen


def explorer_bytes(stack: DenseStack, reference: np.ndarray, labels: np.ndarray,
                   frames: int) -> int:
    """build_explorer's peak, the largest of its steps. Every method's views are held from the
    moment they are drawn (rows in float32, pictures in uint8) while the next method computes;
    then beside them the node statistics with their colour scale; the training frames (each a
    past stack drawn with `linear`, its pictures kept as text); the test accuracy; and the page:
    its data as text, then the JSON and the page made from it."""
    held = peak = 0
    for method, offered in _methods(stack, reference, labels):
        found = footprint(stack, method.name, **offered)
        peak = max(peak, held + max(found.peak, found.held + layer_views_bytes(stack,
                                                                              found.rows)))
        held += 5 * stack.n_inputs * sum(found.rows)
    linear = footprint(stack, "linear")
    frame = 4 * sum(layer.kernel.size for layer in stack.layers) + max(
        linear.peak, linear.held + layer_views_bytes(stack, linear.rows))
    text = page_text_bytes(stack, reference, labels, frames)
    statistics = node_statistics_bytes(stack, len(reference), colour_scale=True)
    return ALLOCATOR_SLACK + max(peak, held + statistics, held + text + (frame if frames else 0),
                                 held + text + accuracy_bytes(stack),
                                 held + text + render_explorer_bytes(text))


# The most text a page may carry: a browser takes minutes over a page this large, and cannot
# hold a script over 512 MB at all.
MAX_PAGE_BYTES = 200 * 10**6


def page_text_bytes(stack: DenseStack, reference: np.ndarray, labels: np.ndarray,
                    frames: int) -> int:
    """The text of the page's data: every method's node pictures, the training frames' and the
    weights, as explorer_data writes them."""
    pictures = sum(sum(footprint(stack, method.name, **offered).rows)
                   for method, offered in _methods(stack, reference, labels))
    return data_bytes(stack, pictures + frames * sum(stack.widths), DIGITS)


def build_explorer(stack: DenseStack, data: Dataset, **options) -> str:
    """The explorer's HTML for a stack, with the data's first test images and statistics."""
    return "".join(explorer_page(stack, data, **options))


def refuse_tables(stack: DenseStack, model_name: str = "") -> None:
    """The explorer draws on and loads images: a model of named features is refused, in one
    line saying what shows it instead."""
    if stack.is_tabular:
        raise MlplensError(f"{model_name or 'the model'} takes {stack.n_inputs} named features, "
                           "not an image: the explorer draws on and loads images, so it cannot "
                           "show a tabular model (draw its nodes as bar charts with 'mlplens "
                           "visualize')")


def explorer_page(stack: DenseStack, data: Dataset, *, model_name: str = "",
                  snapshots: Snapshots | None = None,
                  views: Mapping[str, Sequence[LayerView | None]] | None = None,
                  extra_stats: Mapping[str, Sequence[np.ndarray]] | None = None,
                  max_frames: int = 8, title: str | None = None) -> Iterator[str]:
    """The explorer's HTML in pieces: its data is computed at once, its text as it is taken.

    The page shows `data`'s own test images and names its classes; a 28x28 grey model also gets
    the drawing pad, any other an image loader and the test images to pick from.
    """
    refuse_tables(stack, model_name)
    if data.is_tabular:
        refuse_tables(stack.with_input(input_names=data.feature_names), model_name)
    check_matches(stack, data, model_name or "the model")
    frames_asked = min(max_frames - 1, len(snapshots)) if snapshots and max_frames > 1 else 0
    sizes = "-".join(str(size) for size in (stack.n_inputs, *stack.widths))
    text = page_text_bytes(stack, data.x_test[:REFERENCE], data.y_test[:REFERENCE],
                           frames_asked)
    if text > MAX_PAGE_BYTES:
        raise MlplensError(f"{model_name or 'the model'} ({sizes}) would make an explorer page "
                           f"of about {format_size(text)}, more than a browser can open (at "
                           f"most {format_size(MAX_PAGE_BYTES)}); draw its layers with "
                           "'mlplens visualize' instead")
    require(explorer_bytes(stack, data.x_test[:REFERENCE], data.y_test[:REFERENCE],
                           frames_asked),
            f"the explorer page of {model_name or 'the model'} ({sizes}"
            f"{f', {frames_asked} training frames' if frames_asked else ''})")
    if views is None:
        views = all_views(stack, data.x_test[:REFERENCE], data.y_test[:REFERENCE])
    reference, labels = data.x_test[:REFERENCE], data.y_test[:REFERENCE]
    stats = node_statistics(stack, reference, labels, colour_scale=True,
                            classes=max(len(data.class_names), int(labels.max(initial=0)) + 1))
    frames = snapshot_frames(snapshots, stack, max_frames=max_frames) if snapshots else None
    shown = min(DIGITS, len(data.x_test))
    page = explorer_data(
        stack, views, digits=data.x_test[:shown], digit_labels=data.y_test[:shown],
        digit_source=f"{data.name} test images 0-{shown - 1}", stats=stats,
        stats_source=f"the first {len(reference)} {data.name} test images",
        extra_stats=extra_stats, frames=frames, model_name=model_name,
        test_accuracy=accuracy(stack, data.x_test, data.y_test), class_names=data.class_names)
    return explorer_pieces(page, title or f"mlplens explorer: {model_name or stack.describe()}")


def write_explorer(path: str | os.PathLike[str], stack: DenseStack, data: Dataset,
                   **options) -> Path:
    """Build the explorer and write it atomically to `path`, a piece at a time."""
    pieces = explorer_page(stack, data, **options)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        handle.writelines(pieces)
    return Path(path)
