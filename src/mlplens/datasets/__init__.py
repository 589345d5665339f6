"""The user's data as one `Dataset`, from any source `--data` names.

`load_dataset(spec)`: None or "mnist" is MNIST (found as `mnist.py` finds it); a bundled
name (`sklearn-digits`, `breast-cancer`, `wine`); a named dataset fetched into the cache
(`fashion-mnist`, `kmnist`: `named.py`); or a path (`sources.py`): a Keras-layout .npz, an .npz
with `x` (and optional `y`, `class_names`), a folder of IDX files, or a folder with one
subfolder of PNG/JPEG images per class. A name wins over a file or folder of the same name in
the working folder (users name run folders after their data): `./NAME` is that folder.
"""

from __future__ import annotations

import os

from .bundled import BUNDLED
from .dataset import Dataset, check_matches
from .mnist import load_mnist

__all__ = ["Dataset", "check_matches", "load_dataset", "load_mnist", "BUNDLED"]


def load_dataset(spec: str | os.PathLike[str] | None = None) -> Dataset:
    """The dataset `spec` names (see the module's docstring); one line when it cannot be read."""
    if spec is None:
        return BUNDLED["mnist"]()
    text = os.fspath(spec)
    if text.lower() in BUNDLED:
        return BUNDLED[text.lower()]()
    from .named import NAMED, load_named

    if text.lower() in NAMED:
        return load_named(text.lower())
    from .sources import read_source

    return read_source(text)
