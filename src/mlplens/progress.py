"""Progress for long work, on stderr so stdout keeps only the paths written."""

from __future__ import annotations

import sys
from collections.abc import Callable


def stderr_progress(label: str) -> Callable[[int, int], None]:
    """A progress(done, total) callback: a live counter on a terminal, one line otherwise."""
    live = sys.stderr.isatty()

    def report(done: int, total: int) -> None:
        if live:
            end = "\n" if done >= total else ""
            print(f"\rmlplens: {label} {done}/{total}", end=end, file=sys.stderr, flush=True)
        elif done >= total:
            print(f"mlplens: {label} {done}/{total}", file=sys.stderr, flush=True)

    return report
