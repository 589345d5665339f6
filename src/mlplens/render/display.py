"""A grid of labelled uint8 pictures drawn with matplotlib: what the notebook Display objects
(`mlplens.displays`) draw once they have computed their pictures."""

from __future__ import annotations

from typing import Any

import numpy as np

from .mosaic import grid_shape
from .text import shown


def _tile(images: np.ndarray, columns: int, gap: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Lay images (n, H, W) or colour (n, H, W, 3) on one float canvas with NaN gaps (drawn as
    background); return tile origins."""
    count, height, width = images.shape[:3]
    rows, columns = grid_shape(count, columns)
    canvas = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap,
                      *images.shape[3:]), np.nan)
    origins = []
    for index in range(count):
        row, column = divmod(index, columns)
        top, left = row * (height + gap), column * (width + gap)
        canvas[top:top + height, left:left + width] = images[index]
        origins.append((left, top))
    return canvas, origins


class PictureGrid:
    """Pictures (n, H, W) uint8, or colour ones (n, H, W, 3) drawn as they are, with a label
    each, a title and a three-point colour legend (for colour pictures also the `Legend`'s
    channel base and note: what the colours mean)."""

    def __init__(self, images: np.ndarray, labels: tuple[str, ...] | list[str],
                 title: str = "", legend: tuple[Any, ...] | None = None) -> None:
        self.images = np.asarray(images)
        self.labels = tuple(labels)
        self.title = title
        self.legend = legend

    def _repr_png_(self) -> bytes | None:
        """What a notebook shows for the grid itself: the Pillow mosaic, pixel for pixel what
        `mlplens visualize` writes. Once `plot` has drawn it, matplotlib shows its figure."""
        if hasattr(self, "figure_"):
            return None
        import io

        from .colors import colormap_lut
        from .mosaic import Legend, node_mosaic
        from .png import write_png

        picture = node_mosaic(np.asarray(self.images, dtype=np.uint8), colormap_lut("gray"),
                              labels=self.labels, title=self.title,
                              legend=Legend(*self.legend) if self.legend else None,
                              scale=2 if len(self.images) > 64 else 3)
        buffer = io.BytesIO()
        write_png(buffer, np.asarray(picture))
        return buffer.getvalue()

    def plot(self, ax: Any = None, columns: int | None = None, cmap: str = "gray",
             colorbar: bool = True) -> "PictureGrid":
        """Draw on `ax` (a new figure if None); sets `figure_`, `ax_` and `image_`."""
        import matplotlib.pyplot as plt

        gap = 3
        rows, columns = grid_shape(len(self.images), columns)
        if ax is None:
            _, ax = plt.subplots(figsize=(min(1.1 * columns, 20), min(1.25 * rows, 30) + 0.6))
        canvas, origins = _tile(self.images.astype(float), columns, gap)
        if canvas.ndim == 3:  # colour pictures: RGB as they are, white between them
            self.image_ = ax.imshow(np.nan_to_num(canvas, nan=255).astype(np.uint8),
                                    interpolation="nearest")
        else:
            colours = plt.get_cmap(cmap).with_extremes(bad="white")
            self.image_ = ax.imshow(np.ma.masked_invalid(canvas), cmap=colours, vmin=0,
                                    vmax=255, interpolation="nearest")
        width = self.images.shape[2]
        fontsize = 9 if columns <= 10 else 6
        for (left, top), label in zip(origins, self.labels):
            ax.text(left + width / 2 - 0.5, top - 0.8, shown(label), ha="center", va="bottom",
                    fontsize=fontsize)
        ax.set_axis_off()
        if self.title:
            ax.set_title(self.title, pad=12)
        if colorbar and self.legend and canvas.ndim == 2:
            bar = ax.figure.colorbar(self.image_, ax=ax, ticks=[0, 128, 255], shrink=0.6)
            bar.ax.set_yticklabels(list(self.legend[:3]))
        elif self.legend and len(self.legend) > 4:  # colour: say what the colours mean
            ax.text(0.5, -0.02, self.legend[4], transform=ax.transAxes, ha="center",
                    va="top", fontsize=8)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
