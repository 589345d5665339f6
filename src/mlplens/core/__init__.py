"""The maths, pure NumPy: the validated stack, the forward pass, the maths the picture methods
share (`mlplens.methods` holds the methods), display normalisation and per-node statistics; by
subject, the sanity checks' measures (`checks`), a layer's sparse features (`features`) and one
input's circuit (`circuits`). Nothing here imports a framework or the methods, draws or writes
files."""
