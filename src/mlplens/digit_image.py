"""A photo or scan of a digit (PNG or JPEG) -> the 28x28 MNIST-style input a net expects.

MNIST digits are light ink on black; most pictures people have are dark ink on white paper.
The picture is read as greyscale, inverted when its border (the background) is light, its
background level taken off, and then fitted and centred as MNIST's digits were
(`core.mnist_like`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from .core.mnist_like import mnist_like
from .errors import MlplensError
from .input_files import checked_input

FORMATS = ("PNG", "JPEG")
NOISE = 0.15  # ink fainter than this is paper grain or JPEG ringing, which would widen the crop
MAX_PIXELS = 40_000_000  # a bigger picture is not a digit; refused before it is decoded


@contextmanager
def opened_picture(path: str | os.PathLike[str]) -> Iterator[Any]:
    """A PNG or JPEG opened for reading, checked first: its format, and its size before it is
    decoded; any failure reading it (inside the block too) is one line naming the file.

    The picture comes upright (its EXIF orientation applied, as a phone's photo is meant to be
    seen) and 16-bit grey comes as 8-bit grey scaled from 65535 (never clipped at 255), so
    every reader of pictures sees the same pixels."""
    from PIL import Image, UnidentifiedImageError

    named = checked_input(path)
    try:
        with Image.open(named) as picture:
            if picture.format not in FORMATS:
                raise MlplensError(f"{named}: is a {picture.format} image; give a PNG or JPEG")
            width, height = picture.size
            if width * height > MAX_PIXELS:
                raise MlplensError(_too_large(named, f"{width}x{height} pixels"))
            yield _eight_bit(_upright(picture))
    except MlplensError:
        raise
    except Image.DecompressionBombError:  # Pillow's own limit, met before ours could look
        raise MlplensError(_too_large(named, "the picture")) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise MlplensError(f"{named}: not a readable PNG or JPEG image "
                           f"({type(exc).__name__})") from None


def _too_large(named: os.PathLike[str], what: str) -> str:
    return f"{named}: {what} is too large (at most {MAX_PIXELS:,} pixels)"


ORIENTATION = 0x0112  # the EXIF tag; 1 is upright


def _upright(picture: Any) -> Any:
    """The picture as it is meant to be seen: turned and mirrored as its EXIF orientation says."""
    from PIL import ImageOps

    if picture.getexif().get(ORIENTATION, 1) == 1:
        return picture
    return ImageOps.exif_transpose(picture)


SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I")  # a PNG's 16-bit grey opens as one of these


def _eight_bit(picture: Any) -> Any:
    """16-bit grey as 8-bit grey, 65535 white; any other picture as it is."""
    from PIL import Image

    if picture.mode not in SIXTEEN_BIT:
        return picture
    levels = np.asarray(picture, dtype=np.float64) / 65535
    return Image.fromarray(np.round(np.clip(levels, 0, 1) * 255).astype(np.uint8), "L")


def read_digit(path: str | os.PathLike[str]) -> np.ndarray:
    """uint8 (28, 28): light ink on black, fitted into 20x20 and centred by mass."""
    named = checked_input(path)
    with opened_picture(named) as picture:
        grey = np.asarray(picture.convert("L"), dtype=np.float64) / 255
    ink = ink_of(grey)
    if ink is None:
        raise MlplensError(f"{named}: the image is one flat colour; there is no digit in it")
    return mnist_like(ink)


def ink_of(grey: np.ndarray) -> np.ndarray | None:
    """Greyscale in [0, 1] -> ink in [0, 1]: inverted if the border is light, then the border's
    median level (the background) mapped to 0 and faint ink (below NOISE) dropped; None if no
    ink is left."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    background = float(np.median(border))
    if background > 0.5:
        grey, background = 1 - grey, 1 - background
    if background >= 1:
        return None
    ink = np.clip((grey - background) / (1 - background), 0, 1)
    ink[ink < NOISE] = 0
    return ink if ink.any() else None
