"""What users see when something goes wrong: one exception type, printed as
`mlplens: error: <message>`, and the one way any text from a file or a name reaches a terminal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class MlplensError(Exception):
    """Bad input or an unmet precondition, explained in one line a person can act on."""


class UnsuitableModel(MlplensError):
    """A model that loads but cannot be pictured the way asked (weights too large to draw, a
    method that cannot pass through one of its layers): the command line puts the file in front."""


class Terminated(BaseException):
    """The process was asked to stop (SIGTERM, SIGHUP): unwinds like Ctrl-C, so every temporary
    file is removed on the way out. Not an Exception, so no `except Exception` swallows it."""

    def __init__(self, signal_number: int, name: str) -> None:
        super().__init__(name)
        self.signal_number = signal_number
        self.name = name


_held = 0  # how many `stops_held` blocks are running
_cleanups = 0  # how many things a stop must undo on its way out (temporary files, claims)
_pending: BaseException | None = None  # a stop that arrived inside one


def stop(exception: BaseException) -> None:
    """Raise `exception` (Terminated, KeyboardInterrupt) now, or at the end of the `stops_held`
    block that is running: what a signal handler calls."""
    global _pending
    if _held:
        _pending = _pending or exception
        return
    raise exception


@contextmanager
def stops_held() -> Iterator[None]:
    """A stop signal waits for the end of this block: for the few lines between creating a
    temporary file and knowing its name, so that the name is there to remove it by."""
    global _held, _pending
    _held += 1
    try:
        yield
    finally:
        _held -= 1
        if not _held and _pending is not None:
            exception, _pending = _pending, None
            raise exception


@contextmanager
def cleanup_pending() -> Iterator[None]:
    """While this block runs, a stop must unwind through it (to remove a temporary file or
    release a claimed folder); outside every such block there is nothing to undo."""
    global _cleanups
    _cleanups += 1
    try:
        yield
    finally:
        _cleanups -= 1


def nothing_to_clean_up() -> bool:
    """Whether a stop may end the process at once: no temporary file, no claimed folder."""
    return _cleanups == 0 and _held == 0


def caused_by_stop(exc: BaseException) -> BaseException | None:
    """The stop (Terminated, KeyboardInterrupt) behind `exc`, if a library turned it into an
    error of its own (a stop that lands inside a C extension's import becomes an ImportError)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, (Terminated, KeyboardInterrupt)):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def printable(text: object) -> str:
    """`text` with every control character escaped (newlines, ANSI escapes, ...): a file or layer
    name can then neither split a message into two lines nor drive the terminal."""
    return "".join(char if char.isprintable() or char == " " else
                   char.encode("unicode_escape").decode("ascii") for char in str(text))


def reason(exc: BaseException) -> str:
    """An exception's first line (its type when it has no text), for a message of one line."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
