"""A sparse dictionary on disk: `.safetensors` with its four arrays and what it is of in the
metadata, readable by any safetensors tool (`safetensors.numpy.load_file`): w_enc (n, m),
b_enc (m,), w_dec (m, n), b_dec (n,); metadata mlplens.layer, mlplens.k and mlplens.about."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..core.features.dictionary import SparseDictionary
from ..output import atomic_path

KIND = "mlplens.sparse-dictionary"
ARRAYS = ("w_enc", "b_enc", "w_dec", "b_dec")


def save_dictionary(dictionary: SparseDictionary, path: str | os.PathLike[str],
                    about: dict[str, Any] | None = None) -> Path:
    """Write the dictionary; `about` (the model, the training schedule, ...) goes into the
    metadata as JSON."""
    from safetensors.numpy import save

    metadata = {"mlplens.kind": KIND, "mlplens.layer": str(dictionary.layer),
                "mlplens.k": str(dictionary.k), "mlplens.about": json.dumps(about or {})}
    data = save({name: np.ascontiguousarray(getattr(dictionary, name)) for name in ARRAYS},
                metadata=metadata)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)

