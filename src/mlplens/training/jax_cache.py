"""JAX's persistent compilation cache, switched on by the command line.

About a third of a first `mlplens reproduce` is compilation, much of it Keras' weight
initialisers; kept on disk, a second run (or a second net of the same shape in one run) skips it.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..cache import cache_dir
from ..destination import check_folder
from ..errors import MlplensError
from ..keras_backend import import_keras

# Where the command line keeps JAX's compiled programs between runs; "off" turns that off.
JAX_CACHE_ENV = "MLPLENS_JAX_CACHE"


def enable_compilation_cache() -> Path | None:
    """Keep JAX's compiled programs on disk; the folder, or None when left off or user-set.

    The command line calls this; the library leaves JAX's configuration alone. A cache the user
    configured for JAX is kept as it is.

    Folder: $MLPLENS_JAX_CACHE, else `jax` in mlplens' cache folder; "off" disables it. It
    grows by a few MB per new network shape (JAX bounds its size only with `filelock`
    installed, which mlplens does not require); deleting it is always safe.
    """
    keras = import_keras()
    if keras.backend.backend() != "jax":
        return None
    import jax

    setting = os.environ.get(JAX_CACHE_ENV, "")
    if setting.lower() == "off" or jax.config.jax_compilation_cache_dir or \
            os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return None
    if setting:
        folder = check_folder(setting, JAX_CACHE_ENV)
    else:
        try:
            folder = check_folder(cache_dir() / "jax")
        except MlplensError:  # no cache folder to be had: compile every time, say nothing
            return None
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.05)
    return folder
