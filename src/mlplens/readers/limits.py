"""What a reader refuses from a header, before reading: more values than a known dataset holds,
or compressed data that would inflate like a decompression bomb."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import MlplensError
from ..input_files import MAX_INFLATION, inflates_too_much


@dataclass(frozen=True)
class Expected:
    """A known dataset's arrays: the names read from an .npz and the most values any of them
    holds. A header declaring more is not that data and is refused before it is read."""

    what: str  # the dataset, as messages name it ("MNIST")
    names: tuple[str, ...]
    largest: int


def check_sized(where: str, shape: tuple[int, ...], count: int, expected: Expected) -> None:
    if count > expected.largest:
        raise MlplensError(f"{where} declares shape {shape} ({count:,} values), more than any "
                           f"{expected.what} array holds ({expected.largest:,}): not "
                           f"{expected.what}")


def check_inflation(where: str, shape: tuple[int, ...], nbytes: int, compressed: int) -> None:
    if inflates_too_much(nbytes, compressed):
        raise MlplensError(f"{where} declares shape {shape} ({nbytes:,} bytes) from "
                           f"{compressed:,} bytes of compressed data: mlplens refuses data that "
                           f"inflates over {MAX_INFLATION}x (a decompression bomb)")
