"""Colormaps as 256-entry RGB lookup tables, so a whole mosaic is coloured by one indexing."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..errors import MlplensError


@lru_cache(maxsize=None)
def colormap_lut(name: str = "gray") -> np.ndarray:
    """(256, 3) uint8 RGB for a matplotlib colormap name; `gray` needs no matplotlib."""
    if name == "gray":
        ramp = np.arange(256, dtype=np.uint8)
        lut = np.stack([ramp, ramp, ramp], axis=1)
    else:
        import matplotlib

        try:
            colormap = matplotlib.colormaps[name]
        except KeyError:
            raise MlplensError(f"unknown colormap {name!r} (e.g. gray, viridis, RdBu_r; any "
                               "matplotlib colormap name)") from None
        rgba = colormap(np.arange(256))
        lut = np.round(rgba[:, :3] * 255).astype(np.uint8)
    lut.setflags(write=False)
    return lut


def default_cmap(normalization: str) -> str:
    """Gray for the article's min-max pictures; a diverging map (blue < 0 < red, white at 0)
    for signed ones, whose middle grey means zero."""
    return "gray" if normalization == "minmax" else "RdBu_r"
