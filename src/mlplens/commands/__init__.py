"""The `mlplens` subcommands, one module each: its arguments, and a `run(args)` that calls the
Python API and prints the paths written. Nothing here is imported as a library.

Modules import only the standard library at the top: `mlplens --help` builds every parser, and
must not pay for NumPy, Keras or matplotlib.
"""

# Command name -> module, in the order `mlplens --help` lists them.
COMMANDS = ("train", "visualize", "check", "features", "diagram", "prune", "evolve", "compare",
            "reproduce", "explore", "data")
