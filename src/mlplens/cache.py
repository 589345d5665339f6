"""mlplens' cache folder: where MNIST, named datasets and JAX's compiled programs are kept."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import MlplensError, printable


def cache_dir() -> Path:
    """mlplens' cache folder: $MLPLENS_CACHE_DIR, else the platform's user cache folder."""
    override = os.environ.get("MLPLENS_CACHE_DIR")
    if override:
        folder = Path(override).expanduser()
        if folder.exists() and not folder.is_dir():
            raise MlplensError(f"MLPLENS_CACHE_DIR={printable(override)}: is a file, not a "
                               "folder")
        return folder
    import platformdirs

    return Path(platformdirs.user_cache_dir("mlplens"))
