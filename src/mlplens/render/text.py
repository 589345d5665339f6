"""Names of the user's choosing (class and feature names) as drawing may show them.

A name can hold control characters (matplotlib prints a "Glyph 27 missing" warning for each,
raw ESC and BEL included) and can be any length (measuring a 200,000-character name glyph by
glyph, once per character removed, takes minutes). Every such name reaches a drawing through
`shown`, and is cut to its room by `fitted`, in time that does not grow with the name.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import printable

# A label longer than this many characters is cut with an ellipsis before anything measures it:
# no chart or tile has room for more.
MAX_LABEL = 80
ELLIPSIS = "…"


def shown(name: object, limit: int = MAX_LABEL) -> str:
    """`name` with control characters escaped and, past `limit` characters, cut short."""
    text = printable(str(name)[:limit + 1])  # escaping only lengthens: cut, escape, cut again
    return text if len(text) <= limit else text[:limit - 1] + ELLIPSIS


def fitted(text: str, width: int, measure: Callable[[str], float]) -> str:
    """`text`, cut short with an ellipsis if `measure` finds it wider than `width`: the longest
    prefix that fits, found by halving (about log2 of the length measurements)."""
    if measure(text) <= width:
        return text
    low, high = 1, len(text) - 1  # a prefix of `low` characters is kept even if it overflows
    while low < high:
        middle = (low + high + 1) // 2
        if measure(text[:middle] + ELLIPSIS) <= width:
            low = middle
        else:
            high = middle - 1
    return text[:low] + ELLIPSIS
