"""A folder with one subfolder of PNG/JPEG images per class (class names are the subfolders'
names, sorted), optionally inside `train/` and `test/`.

Every image must have the first one's size and channels: grey (mode L, or 1) stays (H, W);
colour becomes (H, W, 3) RGB. Transparency has no brightness, so an image with any transparent
pixel is refused. Sizes are read from each file's header before it is decoded (decompression
bombs), and the memory all images take is asked for before the first is decoded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import MlplensError
from ..digit_image import opened_picture
from ..input_files import MAX_INFLATION, inflates_too_much
from ..memory import format_size, require
from .dataset import Dataset
from .sources import IMAGE_SUFFIXES, assemble

GREY_MODES = ("1", "L", "LA")
COLOUR_MODES = ("RGB", "RGBA", "P", "CMYK", "YCbCr")
SPLITS = ("train", "test")


def read_image_folder(folder: Path) -> Dataset:
    top = _subfolders(folder)
    split = set(SPLITS) <= {child.name for child in top}
    class_folders = {part: _subfolders(folder / part) for part in SPLITS} if split \
        else {"train": top}
    classes = tuple(child.name for child in class_folders["train"])
    if not classes:
        where = folder / "train" if split else folder
        raise MlplensError(f"{where}: no class subfolders; put each class's PNG/JPEG images in "
                           "a subfolder named after the class")
    files: dict[str, list[tuple[Path, int]]] = {}
    for part, children in class_folders.items():
        files[part] = []
        for child in children:
            if child.name not in classes:
                raise MlplensError(f"{child}: a test class that {folder / 'train'} does not "
                                   "have")
            images = sorted(path for path in child.iterdir()
                            if path.suffix.lower() in IMAGE_SUFFIXES
                            and not path.name.startswith("."))
            if not images:
                raise MlplensError(f"{child}: no PNG or JPEG images in this class folder")
            files[part] += [(path, classes.index(child.name)) for path in images]
    read = _read_images(files)
    return assemble(folder.name, folder, "folder", read["train"], read.get("test"), classes)


def _subfolders(folder: Path) -> list[Path]:
    return sorted(child for child in folder.iterdir()
                  if child.is_dir() and not child.name.startswith("."))


def _read_images(files: dict[str, list[tuple[Path, int]]]
                 ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every part's images (uint8, one shape) and labels, read once into their arrays."""
    first_path = files["train"][0][0]
    first = _pixels(first_path)
    total = sum(len(items) for items in files.values())
    folder = first_path.parent.parent
    # Every image is taken to be the first's size (each is checked as it is read): what they
    # decode to must be what real pictures compress from, not filler such as a field of zeros.
    stored = sum(path.stat().st_size for items in files.values() for path, _ in items)
    if inflates_too_much(total * first.nbytes, stored):
        raise MlplensError(f"{folder}: its {total:,} images of {_describe(first)} would decode "
                           f"to {format_size(total * first.nbytes)} from "
                           f"{format_size(stored)} on disk, over {MAX_INFLATION} times; "
                           "pictures that compress so well are filler, not data")
    # The images, and their copies when a test part is split off them.
    require(2 * total * first.nbytes, f"{folder}: reading its {total:,} images")
    read = {}
    for part, items in files.items():
        x = np.empty((len(items), *first.shape), np.uint8)
        for index, (path, _) in enumerate(items):
            pixels = first if path == first_path else _pixels(path)
            if pixels.shape != first.shape:
                raise MlplensError(f"{path}: {_describe(pixels)} but {first_path} is "
                                   f"{_describe(first)}; every image must have the same size "
                                   "and channels")
            x[index] = pixels
        read[part] = (x, np.array([label for _, label in items], np.int64))
    return read


def _describe(pixels: np.ndarray) -> str:
    height, width = pixels.shape[:2]
    return f"{width}x{height} {'colour' if pixels.ndim == 3 else 'grey'}"


def _pixels(path: Path) -> np.ndarray:
    """One image: uint8 (H, W) grey or (H, W, 3) RGB."""
    with opened_picture(path) as picture:
        mode = picture.mode
        if mode not in GREY_MODES + COLOUR_MODES:
            raise MlplensError(f"{path}: mode {mode} images are not read; save it as 8-bit or "
                               "16-bit grey, or RGB")
        grey = mode in GREY_MODES
        wanted = ("LA" if grey else "RGBA") if _has_alpha(picture) else ("L" if grey else "RGB")
        pixels = np.asarray(picture.convert(wanted), dtype=np.uint8)
    if wanted in ("LA", "RGBA"):
        if pixels[..., -1].min() < 255:
            raise MlplensError(f"{path}: has transparent pixels, which have no brightness; "
                               "flatten it onto a background (or save it without alpha)")
        pixels = pixels[..., 0] if grey else pixels[..., :3]
    return np.ascontiguousarray(pixels)


def _has_alpha(picture) -> bool:
    return picture.mode in ("LA", "RGBA") or "transparency" in picture.info
