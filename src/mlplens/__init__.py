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


def load_stack(path: Any, image_shape: tuple[int, int] | None = None,
               activations: Any = None) -> DenseStack:
    """Read a model file (.keras, .h5, .safetensors, .onnx, .npz) into a DenseStack.

    See `mlplens.formats.load_stack`; each format's framework is imported only when needed.
    """
    from .formats import load_stack as _load_stack

    return _load_stack(path, image_shape, activations)


def stack_from(obj: Any, image_shape: tuple[int, int] | None = None,
               activations: Any = None) -> DenseStack:
    """A live scikit-learn MLPClassifier or Keras model -> DenseStack (`mlplens.formats`)."""
    from .formats import stack_from as _stack_from

    return _stack_from(obj, image_shape, activations)


def save_stack(stack: DenseStack, path: Any):
    """Write a DenseStack as .safetensors, .onnx or .npz (`mlplens.formats.export`)."""
    from .formats.export import save_stack as _save_stack

    return _save_stack(stack, path)


def __getattr__(name: str) -> Any:
    # The Display objects need matplotlib only when drawn; keep the import lazy all the same.
    if name in ("NodeGrid", "DigitGrid"):
        from .render import display

        return getattr(display, name)
    raise AttributeError(f"module 'mlplens' has no attribute {name!r}")


__all__ = ["DenseLayer", "DenseStack", "DigitGrid", "LayerView", "MlplensError", "Mnist",
           "NodeGrid", "Projection", "layer_views", "load_mnist", "load_stack", "normalize",
           "project", "save_stack", "stack_from", "train"]
