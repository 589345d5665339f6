"""Drawing only: Pillow mosaics (fast path) and matplotlib Display objects (notebooks).

Nothing here computes node pictures; it receives uint8 images and draws them.
"""

from .colors import colormap_lut
from .mosaic import Legend, grid_shape, node_mosaic, side_by_side, stacked

__all__ = ["Legend", "colormap_lut", "grid_shape", "node_mosaic", "side_by_side", "stacked"]
