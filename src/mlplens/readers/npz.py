"""An .npz read safely: each array's .npy header checked before np.load reads or inflates
anything, and nothing ever unpickled."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np

from ..errors import MlplensError, reason
from ..memory import require
from .limits import Expected, check_inflation, check_sized

NPY_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0,
               (2, 0): np.lib.format.read_array_header_2_0}


def check_npz_headers(path: Path, expected: Expected | None = None) -> None:
    """Each array's .npy header (of `expected`'s names, or all) before np.load reads or inflates
    anything: no bigger than `expected`'s largest or, for the user's own data, not a
    decompression bomb and no Python objects; held by its zip member; and the memory all of
    them take."""
    total = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = info.filename.removesuffix(".npy")
            if expected is not None and name not in expected.names:
                continue  # never read
            with archive.open(info) as member:
                read_header = NPY_HEADERS.get(np.lib.format.read_magic(member))
                if read_header is None:
                    continue  # np.load judges other .npy versions itself
                shape, _, dtype = read_header(member)
                header = member.tell()
            count = math.prod(shape)
            if expected is not None:
                check_sized(f"{path}: array {name!r}", shape, count, expected)
            elif dtype.hasobject:
                raise MlplensError(f"{path}: array {name!r} holds Python objects, which mlplens "
                                   "never unpickles; save it as numbers (or strings for "
                                   "class_names)")
            elif info.compress_type != zipfile.ZIP_STORED:
                check_inflation(f"{path}: array {name!r}", shape, count * dtype.itemsize,
                                info.compress_size)
            if info.file_size - header < count * dtype.itemsize:
                raise MlplensError(f"{path}: array {name!r} declares shape {shape} but its zip "
                                   f"member holds {max(0, info.file_size - header):,} bytes "
                                   "of data")
            total += count * dtype.itemsize
    what = f"{expected.what} " if expected is not None else ""
    require(total, f"{path}: reading its {what}arrays")


def read_npz(path: Path, expected: Expected | None = None) -> dict[str, np.ndarray]:
    """`expected`'s arrays of a known dataset's .npz, or every array of any .npz; never
    unpickling anything, its headers checked first."""
    try:
        check_npz_headers(path, expected)
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files
                    if expected is None or name in expected.names}
    except MlplensError:
        raise
    except Exception as exc:  # OSError, ValueError, zipfile.BadZipFile... from damaged files
        raise MlplensError(f"{path}: not a readable .npz file ({reason(exc)})") from None
