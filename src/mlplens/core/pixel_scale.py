"""What numbers a model expects for a picture's pixels.

Images travel through mlplens as brightness: uint8 0-255, or floats in [0, 1]. A model was
trained on some scale of that brightness (the article's: 0-1; scikit-learn's 8x8 digits: 0-16;
a standardised net: (brightness - mean) / std). Feeding it another scale gives wrong pictures
and no error, so the scale is part of the model (`DenseStack.pixel_scale`), recorded when
mlplens trains, read where a format stores it, or given by the user; never guessed silently.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..errors import MlplensError

TYPE_CHECKING = False
if TYPE_CHECKING:  # NumPy is imported where pixels are converted: `mlplens --help` reads
    import numpy as np  # SCALE_HELP, and must not pay NumPy's import

SCALE_HELP = ("0-1 (brightness, the article's), 0-255, 0-N for any N (e.g. 0-16 for "
              "scikit-learn's 8x8 digits), or standardised:MEAN,STD")


@dataclass(frozen=True)
class PixelScale:
    """inputs = brightness * high (a "0-high" scale) or (brightness - mean) / std."""

    high: float = 1.0
    mean: float | None = None
    std: float | None = None

    def __post_init__(self) -> None:
        if self.standardised:
            if not (self.std is not None and math.isfinite(self.std) and self.std > 0
                    and math.isfinite(self.mean)):
                raise MlplensError(f"a standardised pixel scale needs a finite mean and a "
                                   f"positive std, got mean {self.mean}, std {self.std}")
        elif not (math.isfinite(self.high) and self.high > 0):
            raise MlplensError(f"a pixel scale 0-N needs N > 0, got {self.high}")

    @property
    def standardised(self) -> bool:
        return self.mean is not None

    @property
    def name(self) -> str:
        """The text `parse` reads back, e.g. '0-1', '0-16', 'standardised:0.1307,0.3081'."""
        if self.standardised:
            return f"standardised:{self.mean:g},{self.std:g}"
        return f"0-{self.high:g}"

    def to_inputs(self, images: np.ndarray) -> np.ndarray:
        """Images (n, ...) as brightness -> float32 rows (n, pixels) the model takes."""
        import numpy as np

        images = np.asarray(images)
        flat = images.reshape(len(images), -1)
        if images.dtype == np.uint8:
            brightness = flat.astype(np.float32) / np.float32(255)
        else:
            brightness = flat.astype(np.float32)
        return self.scaled(brightness, in_place=True)

    def scaled(self, brightness: np.ndarray, in_place: bool = False) -> np.ndarray:
        """Brightness values -> the numbers the model takes, in their own float type (float32
        for pages and training, float64 for the exact circuits); `in_place` reuses the array."""
        import numpy as np

        kind, out = brightness.dtype.type, brightness if in_place else None
        if self.standardised:
            shifted = np.subtract(brightness, kind(self.mean), out=out)
            return np.divide(shifted, kind(self.std), out=shifted)
        if self.high != 1.0:
            return np.multiply(brightness, kind(self.high), out=out)
        return brightness


UNIT = PixelScale()


def as_pixels(images: np.ndarray) -> np.ndarray:
    """Images as brightness (uint8, or floats in [0, 1]) -> uint8 pixels to draw: uint8 as they
    are, floats round_half_up(255 * brightness), clipped."""
    import numpy as np

    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    return np.clip(np.floor(images.astype(np.float32) * 255 + 0.5), 0, 255).astype(np.uint8)


def parse_pixel_scale(text: str) -> PixelScale:
    """'0-1', '0-255', '0-16', 'standardised:0.13,0.31' -> PixelScale; one line when not."""
    text = text.strip().lower()
    ranged = re.fullmatch(r"0-([0-9]*\.?[0-9]+)", text)
    if ranged:
        return PixelScale(high=float(ranged.group(1)))
    standard = re.fullmatch(r"standardi[sz]ed:(-?[0-9]*\.?[0-9]+),([0-9]*\.?[0-9]+)", text)
    if standard:
        return PixelScale(mean=float(standard.group(1)), std=float(standard.group(2)))
    raise MlplensError(f"unknown pixel scale {text!r}; expected {SCALE_HELP}")
