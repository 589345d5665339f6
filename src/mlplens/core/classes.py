"""What a class is called: the data's own names ("cat", "T-shirt/top"), or its number when the
data has none (MNIST's names are its digits, so its figures read as before)."""

from __future__ import annotations

from collections.abc import Sequence


def class_names_for(names: Sequence[str] | None, count: int) -> tuple[str, ...]:
    """`count` class names: the given ones, then the numbers of classes they do not name
    (a model may have more outputs than the data has classes); None: "0".."count-1"."""
    given = tuple(str(name) for name in (names or ())[:count])
    return given + tuple(str(index) for index in range(len(given), count))
