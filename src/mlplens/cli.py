"""The `mlplens` command line: one parser, each subcommand in `mlplens.commands`, and one way
to end: the paths written on stdout, or one `mlplens: error:` line and exit code 2.

Heavy libraries (Keras, JAX, matplotlib) are imported inside the commands that need them, so
`mlplens --help` starts as fast as Python does.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from collections.abc import Callable, Sequence

from .errors import (
    MlplensError,
    Terminated,
    caused_by_stop,
    nothing_to_clean_up,
    printable,
    stop,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # no `typing` at start-up: each import costs start time
    from typing import Any

PROG = "mlplens"


def _terminal_columns() -> int:
    """shutil.get_terminal_size().columns without importing shutil (and with it bz2 and lzma)."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


class _Formatter(argparse.HelpFormatter):
    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         width if width is not None else _terminal_columns() - 2)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line, like every other error.

    `arguments`, if given, adds this parser's arguments when it is first used to parse or to
    print help: a command whose choices come from the NumPy modules (e.g. the projection
    methods) costs nothing until it runs, so `mlplens --help` imports no NumPy.
    """

    def __init__(self, *args: Any, arguments: Callable[[argparse.ArgumentParser], None] | None
                 = None, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)
        self._arguments = arguments

    def _add_deferred_arguments(self) -> None:
        if self._arguments is not None:
            arguments, self._arguments = self._arguments, None
            arguments(self)

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        self._add_deferred_arguments()
        return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        self._add_deferred_arguments()
        return super().format_usage()

    def format_help(self) -> str:
        self._add_deferred_arguments()
        return super().format_help()

    def error(self, message: str) -> None:  # type: ignore[override]
        raise MlplensError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    from .commands import COMMANDS

    parser = _Parser(prog=PROG, description=(
        "See what each node of a fully-connected network looks for: every node drawn as a "
        "picture in input-pixel space, after the article 'Visualization of a Basic Neural "
        "Network in Python'."),
        epilog="Example: mlplens train --out run && mlplens visualize run/model.keras --out figs")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(f".commands.{name}", __package__).add_parser(commands)
    return parser


def _stop_on(signal_number: int, frame: object) -> None:
    if nothing_to_clean_up():  # e.g. while modules load: raising there would be garbled
        _exit_at_once(signal_number, frame)
    if signal_number == signal.SIGINT:
        stop(KeyboardInterrupt())
    else:
        stop(Terminated(signal_number, signal.Signals(signal_number).name))


STOP_SIGNALS = ("SIGTERM", "SIGHUP", "SIGINT")


def _handle_stops(handler: object) -> dict[int, object]:
    """Install `handler` for the stop signals; the handlers it replaced (none outside the main
    thread, the only one that may set them)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}
    return {number: signal.signal(number, handler)
            for number in (getattr(signal, name) for name in STOP_SIGNALS)}


def _exit_at_once(signal_number: int, _frame: object) -> None:
    """End the process now: nothing is left to clean up (no temporary file, no claimed folder),
    before the work or after it."""
    name = signal.Signals(signal_number).name
    print(f"{PROG}: " + ("interrupted" if name == "SIGINT" else f"stopped by {name}"),
          file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(128 + signal_number)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. SIGTERM and SIGHUP unwind it like Ctrl-C does, so that every temporary
    file is removed on the way out; all three wait for the end of a `stops_held` block."""
    previous = _handle_stops(_stop_on)
    try:
        return _run(argv)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def entry() -> int:
    """The `mlplens` program: `main`, then a stop that lands while the interpreter shuts down
    ends the process at once (raised inside Python's own clean-up, it would be printed as an
    ignored exception with a traceback)."""
    code = main()
    _handle_stops(_exit_at_once)
    return code



def _run(argv: Sequence[str] | None) -> int:
    # mlplens' own work runs on JAX, whatever backend the environment names for Keras.
    os.environ["KERAS_BACKEND"] = "jax"
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            build_parser().print_help()
            return 2
        importlib.import_module(f".commands.{args.command}", __package__).run(args)
    except MlplensError as exc:
        print(f"{PROG}: error: {printable(exc)}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Terminated) as exc:
        return _stopped(exc)
    except Exception as exc:  # a stop that a library turned into an error of its own
        stop_behind = caused_by_stop(exc)
        if stop_behind is None:
            raise
        return _stopped(stop_behind)
    return 0


def _stopped(exc: BaseException) -> int:
    """The one line and the conventional exit code of a stopped run."""
    if isinstance(exc, Terminated):
        print(f"{PROG}: stopped by {exc.name}", file=sys.stderr)
        return 128 + exc.signal_number
    print(f"{PROG}: interrupted", file=sys.stderr)
    return 130
