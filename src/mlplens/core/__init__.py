"""The maths, pure NumPy: the validated stack, the forward pass, the maths the picture methods
share (`mlplens.methods` holds the methods), display normalisation and per-node statistics. Nothing here imports a framework, draws or writes files."""
