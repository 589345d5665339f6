"""The picture methods: one module per method (its maths, footprint, options and their command
line flags), and the registry every tool reads (`registry`).

The built-in methods are registered here, in the order of the command line's choices and of
reproduce's sections; a method defined elsewhere is added with `register` (the public
`mlplens.register_method`) and every tool offers it from then on.
"""

from __future__ import annotations

from . import examples, gradient, linear, maximize, seed
from .registry import (
    METHODS,
    CliOption,
    Footprint,
    Method,
    UnknownOptionError,
    default_nodes,
    footprint,
    get_method,
    project,
    register,
)

for _method in (linear.METHOD, seed.METHOD, gradient.METHOD, maximize.METHOD, examples.METHOD):
    register(_method)

__all__ = ["METHODS", "CliOption", "Footprint", "Method", "UnknownOptionError", "default_nodes",
           "footprint", "get_method", "project", "register"]
