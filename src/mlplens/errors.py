"""The one exception type users see: its message is printed as `mlplens: error: <message>`."""


class MlplensError(Exception):
    """Bad input or an unmet precondition, explained in one line a person can act on."""
