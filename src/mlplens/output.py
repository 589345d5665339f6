"""Every file mlplens writes goes through here: under a temporary name, then renamed, so no final
name ever holds half a file, even if the process is killed mid-write."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .destination import describe_os_error, record_written, write_target
from .errors import MlplensError, cleanup_pending, stops_held

TYPE_CHECKING = False
if TYPE_CHECKING:
    from PIL import Image


@contextmanager
def atomic_path(final: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside `final`; rename it to `final` only if the block succeeds.

    The temporary name keeps the final suffix because some writers (Keras) insist on it. A
    `final` that is a symbolic link is written through (the link stays); a failure to write (a
    full disk, an I/O error, a folder that cannot take files) is one MlplensError naming `final`,
    and leaves no temporary file behind.
    """
    final = Path(final)
    target = write_target(final)
    tmp: Path | None = None
    with cleanup_pending():  # a stop now must unwind through here, to remove the temporary
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with stops_held():  # a stop between creating and naming would orphan the file
                fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.",
                                                suffix=f".part{target.suffix}", dir=target.parent)
                tmp = Path(tmp_name)
            os.close(fd)
            yield tmp
            tmp.chmod(0o666 & ~_umask())  # mkstemp's 0600 would hide outputs from other users
            os.replace(tmp, target)
        except OSError as exc:
            raise MlplensError(f"{final}: cannot write ({describe_os_error(exc)})") from None
        finally:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
    record_written(target)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_text(final: str | os.PathLike[str], text: str) -> Path:
    """Atomically write a UTF-8 text file."""
    with atomic_path(final) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(final)


def write_json(final: str | os.PathLike[str], data: Any, indent: int | None = 2) -> Path:
    """Atomically write JSON, ending in a newline."""
    return write_text(final, json.dumps(data, indent=indent) + "\n")


def save_npz(final: str | os.PathLike[str], arrays: Mapping[str, np.ndarray],
             compressed: bool = False) -> Path:
    """Atomically write named arrays as .npz (never pickled)."""
    with atomic_path(final) as tmp, open(tmp, "wb") as handle:
        (np.savez_compressed if compressed else np.savez)(handle, **arrays)
    return Path(final)


def save_png(picture: Image.Image, path: str | os.PathLike[str]) -> Path:
    """Write a PNG atomically with mlplens' fast writer (render/png.py says why); an RGB picture
    with no colour in it is stored as greyscale: the same pixels from a third of the data."""
    path = Path(path)
    if picture.mode not in ("RGB", "L"):
        with atomic_path(path) as tmp:
            picture.save(tmp, format="PNG")
        return path
    from .render.png import (
        write_png,  # here, not above: reading data needs no drawing code
    )

    pixels = np.asarray(picture)
    if pixels.ndim == 3 and np.array_equal(pixels[..., 0], pixels[..., 1]) and \
            np.array_equal(pixels[..., 1], pixels[..., 2]):
        pixels = pixels[..., 0]
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        write_png(handle, pixels)
    return path


def save_gif(frames: Sequence[Image.Image], path: str | os.PathLike[str],
             durations: Sequence[int]) -> Path:
    """An endlessly looping animated GIF, each frame shown for its duration (ms)."""
    with atomic_path(path) as tmp:
        frames[0].save(tmp, format="GIF", save_all=True, append_images=list(frames[1:]),
                       duration=list(durations), loop=0, optimize=False)
    return Path(path)


def save_figure(figure: Any, path: str | os.PathLike[str]) -> Path:
    """A matplotlib figure, saved atomically as PNG and closed."""
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100)
    plt.close(figure)
    return Path(path)
