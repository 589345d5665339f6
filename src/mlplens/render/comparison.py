"""Drawing two nets side by side: the CKA matrix as a heatmap, and matched nodes' pictures as
pairs (A's picture, then B's) in one mosaic. Receives finished numbers and pixels only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from .mosaic import node_mosaic

PAIR_GAP = 2  # picture pixels of background between the two pictures of a pair
PAIR_COLUMNS = 8
WHITE = 255


def pair_tiles(left: np.ndarray, right: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Pictures (n, H, W) through the colour table, or colour ones (n, H, W, 3) as they are,
    each left one beside its right one with a white gap: (n, H, 2W + gap, 3)."""
    def coloured(images: np.ndarray) -> np.ndarray:
        return images if images.ndim == 4 else lut[images]

    left, right = coloured(np.asarray(left)), coloured(np.asarray(right))
    gap = np.full((*left.shape[:2], PAIR_GAP, 3), WHITE, np.uint8)
    return np.concatenate([left, gap, right], axis=2)


def pair_mosaic(left: np.ndarray, right: np.ndarray, lut: np.ndarray, labels: Sequence[str],
                title: str | None = None, scale: int = 2,
                columns: int = PAIR_COLUMNS) -> Image.Image:
    """Pairs of pictures in a grid, each under its label (e.g. '12/301 0.93')."""
    return node_mosaic(pair_tiles(left, right, lut), lut, labels=labels, scale=scale,
                       columns=min(columns, len(left)), title=title)


def cka_heatmap(cka: np.ndarray, name_a: str, name_b: str, widths_a: Sequence[int],
                widths_b: Sequence[int], title: str) -> Any:
    """Linear CKA of every hidden layer of A (rows) with every hidden layer of B (columns),
    each cell written out, on a 0-1 scale."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    rows, columns = cka.shape
    figure, ax = plt.subplots(figsize=(2.2 + 1.5 * columns, 1.6 + 1.1 * rows),
                              layout="constrained")
    shown = ax.imshow(cka, cmap="viridis", vmin=0.0, vmax=1.0)
    for (row, column), value in np.ndenumerate(cka):
        ax.text(column, row, f"{value:.3f}", ha="center", va="center", fontsize=11,
                color="black" if value > 0.6 else "white")
    ax.set_xticks(range(columns), [f"layer {k} ({w})" for k, w in enumerate(widths_b, 1)])
    ax.set_yticks(range(rows), [f"layer {k} ({w})" for k, w in enumerate(widths_a, 1)])
    ax.set_xlabel(name_b)
    ax.set_ylabel(name_a)
    ax.set_title(title, fontsize=10)
    figure.colorbar(shown, ax=ax, label="linear CKA")
    return figure
