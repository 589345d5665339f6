"""matplotlib charts of the sanity checks: similarity as randomisation goes deeper, and
deletion/insertion curves. They receive finished numbers; nothing here computes them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def similarity_curves(steps: Sequence[str], cascading: int,
                      measures: Mapping[str, Mapping[str, Sequence[float]]], threshold: float,
                      title: str) -> Any:
    """One panel per measure; one line per method over the randomisation steps (the first
    `cascading` steps are the cascade, joined by lines; the rest are single layers, drawn as
    points), with the threshold above which a method is flagged."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(measures), figsize=(6.2 * len(measures), 4.6),
                                layout="constrained", squeeze=False)
    labels = ["trained", *steps]
    x = np.arange(len(labels))
    for ax, (measure, by_method) in zip(axes[0], measures.items()):
        for number, (method, values) in enumerate(by_method.items()):
            colour = f"C{number}"
            curve = np.array([1.0, *values], dtype=float)
            ax.plot(x[:cascading + 1], curve[:cascading + 1], "o-", color=colour, label=method)
            ax.plot(x[cascading + 1:], curve[cascading + 1:], "s", color=colour,
                    markerfacecolor="none")
        ax.axhline(threshold, color="black", lw=1, ls="--", label=f"flagged above {threshold}")
        if len(labels) > cascading + 1:
            ax.axvline(cascading + 0.5, color="grey", lw=0.8)
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=8)
        ax.set_ylim(-0.3, 1.05)
        ax.set_ylabel(f"median {measure}, output nodes")
        ax.set_title(f"{measure}: randomised vs trained pictures", fontsize=10)
    axes[0][0].legend(fontsize=8, loc="lower left")
    figure.suptitle(title, fontsize=11)
    return figure


def deletion_curves(fractions: np.ndarray, curves: Mapping[str, Mapping[str, np.ndarray]],
                    baselines: Mapping[str, Mapping[str, np.ndarray]], title: str) -> Any:
    """Two panels, deletion and insertion: the mean class probability after each step, one line
    per method's order and one per baseline order (`curves[kind][name]`)."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.6), layout="constrained")
    for ax, kind in zip(axes, ("deletion", "insertion")):
        for number, (method, values) in enumerate(curves[kind].items()):
            ax.plot(fractions, values, color=f"C{number}", lw=1.6, label=method)
        for style, (name, values) in zip(("--", ":"), baselines[kind].items()):
            ax.plot(fractions, values, color="black", ls=style, lw=1.4, label=f"{name} order")
        ax.set_xlabel("fraction of pixels " + ("removed" if kind == "deletion" else "added"))
        ax.set_ylabel("probability of the true class (mean over images)")
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{kind}: " + ("lower is better" if kind == "deletion"
                                    else "higher is better"), fontsize=10)
    axes[0].legend(fontsize=8, loc="upper right")
    figure.suptitle(title, fontsize=11)
    return figure
