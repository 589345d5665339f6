"""The one place mlplens imports Keras, so that every caller gets the same backend.

Keras is imported only inside functions, so `mlplens --help` and the NumPy core stay fast.
"""

from __future__ import annotations

import os
from typing import Any


def import_keras() -> Any:
    """Import Keras with JAX as the default backend; a KERAS_BACKEND the user set is kept.

    Keras' own default, TensorFlow, is not among mlplens' dependencies; JAX is, and the
    compiled training loop (`mlplens.training.fit_on_device`) runs only on it.
    """
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    return keras
