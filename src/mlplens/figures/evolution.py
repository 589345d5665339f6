"""The output-layer pictures over training, as an animated GIF (`mlplens evolve`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from ..layout.views import layer_views
from ..output import save_gif
from ..render import colormap_lut, node_mosaic, side_by_side
from ..snapshots import Snapshots, load_snapshots, spread_frames
from .layers import view_legend


def output_frame(snapshots: Snapshots, index: int, method: str, cmap: str, scale: int,
                 heading: str = "") -> Image.Image:
    """The output layer at one snapshot, titled with its step and test accuracy."""
    view = layer_views(snapshots.stack(index), method)[-1]
    title = (f"{heading}step {int(snapshots.steps[index])}, "
             f"test accuracy {float(snapshots.test_accuracy[index]):.3f}")
    return node_mosaic(view.images, colormap_lut(cmap), labels=view.labels, scale=scale,
                       title=title, legend=view_legend(view))


def save_animation(frames: Sequence[Image.Image], path: str | os.PathLike[str],
                   milliseconds: int = 300) -> Path:
    """An endlessly looping GIF that pauses on its last frame."""
    return save_gif(frames, path, [milliseconds] * (len(frames) - 1) + [milliseconds * 6])


def evolve_run(run: str | os.PathLike[str], out: str | os.PathLike[str],
               method: str = "linear", cmap: str = "gray", frames: int = 40,
               scale: int = 3) -> Path:
    """RUN/snapshots.npz -> OUT (a .gif): every chosen snapshot of the output layer."""
    snapshots = load_snapshots(run)
    colormap_lut(cmap)
    pictures = [output_frame(snapshots, index, method, cmap, scale)
                for index in spread_frames(snapshots.steps, frames)]
    return save_animation(pictures, out)


def compare_runs(runs: Sequence[tuple[str, Snapshots]], out: str | os.PathLike[str],
                 method: str = "linear", cmap: str = "gray", frames: int = 30,
                 scale: int = 3) -> Path:
    """Several runs side by side, each frame at the same fraction of its own training."""
    chosen = [spread_frames(snapshots.steps, frames) for _, snapshots in runs]
    count = max(len(indices) for indices in chosen)
    pictures = []
    for frame in range(count):
        panels = []
        for (heading, snapshots), indices in zip(runs, chosen):
            index = indices[min(len(indices) - 1, round(frame * (len(indices) - 1) /
                                                        max(count - 1, 1)))]
            panels.append((heading, output_frame(snapshots, index, method, cmap, scale)))
        pictures.append(side_by_side(panels))
    return save_animation(pictures, out)
