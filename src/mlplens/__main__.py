"""`python -m mlplens`."""

import signal
import sys


def _stopped_while_starting(signal_number: int, _frame: object) -> None:
    """A stop before the command line is loaded: nothing to clean up yet, so end now, with the
    line and code every later stop gives (the command line installs its own handlers)."""
    import os

    print(f"mlplens: stopped by {signal.Signals(signal_number).name}", file=sys.stderr)
    os._exit(128 + signal_number)


for _number in (signal.SIGTERM, signal.SIGHUP):
    signal.signal(_number, _stopped_while_starting)

from .cli import entry  # noqa: E402  (after the handlers: importing it takes a while)

sys.exit(entry())
