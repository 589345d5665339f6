"""The maths, pure NumPy: the validated stack, the forward pass, the picture methods, display
normalisation and per-node statistics. Nothing here imports a framework, draws or writes files."""
