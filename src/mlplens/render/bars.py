"""A grid of horizontal bar charts, one per node of a tabular model: drawing only.

The caller (layout.bars) has chosen each chart's features, their order, their values and
where each bar sits on the diverging colour scale; this module lays them out and draws them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .text import shown

# Inches: one chart's width (names and bars), a bar's height, and a chart's title and axis.
PANEL_WIDTH = 4.6
BAR_HEIGHT = 0.24
PANEL_FRAME = 0.9


def bar_columns(count: int) -> int:
    """Charts per row: up to 4 for a few nodes, 6 for many."""
    return min(count, 4 if count <= 16 else 6)


def bar_grid(titles: Sequence[str], names: Sequence[Sequence[str]], values: np.ndarray,
             shades: np.ndarray, more: int, title: str, cmap: str = "RdBu_r",
             note: str = "") -> Any:
    """One chart per row of `values` (nodes, bars): horizontal bars, the first at the top,
    labelled with `names`, coloured by `shades` (0-1 on `cmap`, 0.5 = zero) and with each value
    written at its bar's end; "+`more` more" under each chart when some features are left out.
    Names and titles are the user's: drawn through `text.shown`."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    count, bars = values.shape
    columns = bar_columns(count)
    rows = math.ceil(count / columns)
    panel_height = BAR_HEIGHT * bars + PANEL_FRAME
    figure, axes = plt.subplots(rows, columns, figsize=(PANEL_WIDTH * columns,
                                                        panel_height * rows + 0.7),
                                layout="constrained", squeeze=False)
    colours = matplotlib.colormaps[cmap]
    positions = np.arange(bars)
    for slot, ax in enumerate(axes.flat):
        if slot >= count:
            ax.set_axis_off()
            continue
        row = values[slot]
        ax.barh(positions, row, color=colours(shades[slot]), edgecolor="black", linewidth=0.4,
                height=0.75)
        ax.set_yticks(positions, labels=[shown(name) for name in names[slot]], fontsize=7)
        ax.invert_yaxis()  # the largest |value| at the top
        ax.axvline(0, color="black", lw=0.8)
        reach = float(np.abs(row).max()) or 1.0
        ax.set_xlim(-1.35 * reach, 1.35 * reach)
        for position, value in zip(positions, row):
            ax.text(value + (0.03 if value >= 0 else -0.03) * reach, position, f"{value:.3g}",
                    va="center", ha="left" if value >= 0 else "right", fontsize=6)
        ax.tick_params(axis="x", labelsize=6)
        ax.set_title(shown(titles[slot]), fontsize=9)
        if more:
            ax.set_xlabel(f"+{more} more", fontsize=7, loc="right")
    figure.suptitle(title + (f"\n{note}" if note else ""), fontsize=11)
    return figure
