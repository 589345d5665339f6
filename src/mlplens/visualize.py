"""`mlplens visualize`: every layer of a stack as a PNG mosaic, plus the arrays behind them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .atomic import atomic_path
from .render import Legend, colormap_lut, node_mosaic
from .render.png import encode_png
from .stack import DenseStack
from .views import LayerView, layer_views


@dataclass(frozen=True)
class Written:
    """What a command wrote, and the nodes it had to draw flat."""

    paths: tuple[Path, ...]
    constant_rows: dict[int, list[int]]  # layer index -> node numbers


def save_png(picture: Image.Image, path: Path) -> Path:
    """Write a PNG atomically with mlplens' fast writer (render/png.py says why); an RGB picture
    with no colour in it is stored as greyscale: the same pixels from a third of the data."""
    if picture.mode not in ("RGB", "L"):
        with atomic_path(path) as tmp:
            picture.save(tmp, format="PNG")
        return path
    pixels = np.asarray(picture)
    if pixels.ndim == 3 and np.array_equal(pixels[..., 0], pixels[..., 1]) and \
            np.array_equal(pixels[..., 1], pixels[..., 2]):
        pixels = pixels[..., 0]
    data = encode_png(pixels)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def save_arrays(views: list[LayerView], path: Path) -> Path:
    """raw_<k> float32 (n_k, H*W) and image_<k> uint8 (n_k, H, W) for every layer k."""
    arrays: dict[str, np.ndarray] = {}
    for view in views:
        arrays[f"raw_{view.index}"] = view.raw.astype(np.float32)
        arrays[f"image_{view.index}"] = view.images
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
    return path


def render_view(view: LayerView, cmap: str, scale: int, title: str | None = None):
    return node_mosaic(view.images, colormap_lut(cmap), labels=view.labels,
                       scale=scale, title=title or view.title, legend=Legend(*view.legend))


def visualize_stack(stack: DenseStack, out_dir: str | os.PathLike[str], method: str = "linear",
                    normalization: str = "minmax", cmap: str = "gray",
                    scale: int | None = None) -> Written:
    """Write layer-<k>.png for k = 1..L and arrays.npz into out_dir."""
    out = Path(out_dir)
    colormap_lut(cmap)  # an unknown colormap fails before any work
    views = layer_views(stack, method, normalization)
    paths = []
    for view in views:
        layer_scale = scale or default_scale(view.raw.shape[0])
        paths.append(save_png(render_view(view, cmap, layer_scale), out / f"layer-{view.index}.png"))
    paths.append(save_arrays(views, out / "arrays.npz"))
    constant = {view.index: view.constant_rows.tolist() for view in views if view.constant_rows.size}
    return Written(tuple(paths), constant)


def default_scale(count: int) -> int:
    """Big tiles for a few nodes, small ones for hundreds, so every figure stays readable."""
    return 4 if count <= 16 else 3 if count <= 64 else 2
