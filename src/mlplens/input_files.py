"""Every file a user names as input is looked at (stat) before it is opened, so a folder, a named
pipe, a device, a loop of links or an empty file is one line saying what it is, never a hang, a
read of endless bytes or a confusing message from a library further down."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .destination import describe_os_error, kind_of
from .errors import MlplensError

# Compressed data may inflate at most this many times what the file stores for it (beyond a
# small floor): deflate keeps about 90% of trained float weights and real images compress a few
# times, so data that inflates a hundredfold is filler, a decompression bomb. Model readers and
# data readers share the one limit.
MAX_INFLATION = 100
INFLATION_FLOOR = 16 * 2**20


def inflates_too_much(declared: int, compressed: int) -> bool:
    """Whether `declared` bytes from `compressed` bytes on disk is a decompression bomb."""
    return declared > max(INFLATION_FLOOR, MAX_INFLATION * compressed)


def checked_input(path: str | os.PathLike[str], *, folder_ok: bool = False) -> Path:
    """`path` as a Path once it is known to be a non-empty regular file (or, with `folder_ok`,
    a folder). Messages start with the path: `<path>: <what is wrong>`."""
    named = Path(os.fspath(path)).expanduser()
    if not os.fspath(path):
        raise MlplensError("the input path is empty")
    try:
        info = named.stat()
    except FileNotFoundError:
        if named.is_symlink():
            raise MlplensError(f"{named}: a symbolic link to {os.readlink(named)}, which does "
                               "not exist") from None
        raise MlplensError(f"{named}: no such file") from None
    except OSError as exc:
        raise MlplensError(f"{named}: {describe_os_error(exc)}") from None
    if stat.S_ISDIR(info.st_mode):
        if folder_ok:
            return named
        raise MlplensError(f"{named}: is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise MlplensError(f"{named}: is a {kind_of(info.st_mode)}, not a regular file")
    if info.st_size == 0:
        raise MlplensError(f"{named}: the file is empty")
    if not os.access(named, os.R_OK):
        raise MlplensError(f"{named}: permission denied")
    return named
