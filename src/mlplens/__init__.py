"""mlplens: see what each node of a fully-connected neural network looks for.

The public API. Importing it loads only NumPy: Keras and matplotlib are imported by the
functions that need them.
"""

from __future__ import annotations

from typing import Any

from .data import Mnist, load_mnist
from .errors import MlplensError
from .normalize import normalize
from .project import Projection, project
from .stack import DenseLayer, DenseStack
from .views import LayerView, layer_views

__version__ = "0.1.0"


def train(*args: Any, **kwargs: Any):
    """Train the article's network (see `mlplens.model.train`); imports Keras on first use."""
    from .model import train as _train

    return _train(*args, **kwargs)


def load_stack(path: Any, image_shape: tuple[int, int] | None = None) -> DenseStack:
    """Read a model file into a DenseStack (see `mlplens.model.load_stack`)."""
    from .model import load_stack as _load_stack

    return _load_stack(path, image_shape)


def __getattr__(name: str) -> Any:
    # The Display objects need matplotlib only when drawn; keep the import lazy all the same.
    if name in ("NodeGrid", "DigitGrid"):
        from .render import display

        return getattr(display, name)
    raise AttributeError(f"module 'mlplens' has no attribute {name!r}")


__all__ = ["DenseLayer", "DenseStack", "DigitGrid", "LayerView", "MlplensError", "Mnist",
           "NodeGrid", "Projection", "layer_views", "load_mnist", "load_stack", "normalize",
           "project", "train"]
