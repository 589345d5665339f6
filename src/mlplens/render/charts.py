"""matplotlib figures that are charts rather than mosaics (fidelity of the article's pictures)."""

from __future__ import annotations

from typing import Any

import numpy as np


def fidelity_figure(fidelity: np.ndarray, linear_images: np.ndarray, gradient_images: np.ndarray,
                    title: str, cmap: str = "RdBu_r", count: int = 6) -> Any:
    """Nodes sorted by fidelity (cosine of the article's and the exact picture), with the
    `count` most and least faithful drawn as pairs: article's picture | exact picture.

    Images are uint8 (n, H, W) drawn with `cmap`, or colour (n, H, W, 3) drawn as they are,
    already normalised by the caller.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    valid = np.flatnonzero(np.isfinite(fidelity))
    order = valid[np.argsort(fidelity[valid], kind="stable")]
    count = min(count, max(1, len(order) // 2))
    worst, best = order[:count], order[::-1][:count]
    figure = plt.figure(figsize=(2.0 * count + 1, 7.2), layout="constrained")
    grid = figure.add_gridspec(3, 2 * count, height_ratios=[2.2, 1, 1])
    chart = figure.add_subplot(grid[0, :])
    chart.plot(np.arange(len(order)), fidelity[order], color="black", lw=1.5)
    median = float(np.median(fidelity[valid])) if len(valid) else float("nan")
    chart.axhline(median, color="tab:red", lw=1, ls="--", label=f"median {median:.3f}")
    chart.set_xlabel("nodes, least to most faithful")
    chart.set_ylabel("cosine(linear, gradient)")
    low = float(np.nanmin(fidelity)) if len(valid) else 0.0
    chart.set_ylim(max(-1.0, low - 0.05), 1.0 + 0.02 * (1.0 - low + 0.05))
    chart.legend(loc="lower right")
    chart.set_title(title)
    for row, (label, picked) in enumerate((("most faithful", best), ("least faithful", worst)),
                                          start=1):
        for slot, node in enumerate(picked):
            for side, (images, name) in enumerate(((linear_images, "article"),
                                                   (gradient_images, "exact"))):
                ax = figure.add_subplot(grid[row, 2 * slot + side])
                ax.imshow(images[node], cmap=cmap, vmin=0, vmax=255, interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                ax.set_title(f"{node}: {name}" if side == 0 else f"{fidelity[node]:.2f} {name}",
                             fontsize=8)
            if slot == 0:
                figure.axes[-2].set_ylabel(label, fontsize=9)
    return figure


def pruning_figure(panels: list[tuple[str, np.ndarray, dict[str, np.ndarray]]],
                   title: str, measure: str = "accuracy") -> Any:
    """Test accuracy (or the head's other `measure`, e.g. mean absolute error) against the
    fraction of a layer's nodes removed, one line per score; `panels` is (layer title,
    fractions removed, {score: accuracies}) per layer."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.2),
                                layout="constrained", squeeze=False)
    styles = {"contribution": ("tab:red", "-"), "weight": ("tab:blue", "--"),
              "random": ("gray", ":")}
    for ax, (name, fractions, curves) in zip(axes[0], panels):
        for score, accuracies in curves.items():
            colour, line = styles.get(score, ("black", "-"))
            ax.plot(fractions, accuracies, color=colour, ls=line, lw=2, marker=".",
                    label="in random order" if score == "random"
                    else f"lowest {score} score first")
        ax.set_xlabel("fraction of the layer's nodes removed")
        ax.set_ylabel(f"test {measure}")
        if measure != "mean absolute error":
            ax.set_ylim(0, 1.0)
        ax.set_xlim(0, 1)
        ax.grid(alpha=0.3)
        ax.set_title(name)
        ax.legend(loc="lower left", fontsize=8)
    figure.suptitle(title)
    return figure
