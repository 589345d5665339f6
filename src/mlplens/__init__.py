"""mlplens: see what each node of a fully-connected neural network looks for.

The public API. Importing the package loads nothing heavy: each name below is imported from its
module on first use, so `mlplens --help` starts about as fast as Python itself (NumPy alone
takes longer to import than Python takes to start). Keras and matplotlib are imported only by
the functions that need them.
"""

from __future__ import annotations

import sys

__version__ = "0.1.0"

# Public name -> the module that defines it.
_LAZY = {
    "Mnist": "data", "load_mnist": "data",
    "MlplensError": "errors",
    "normalize": "normalize",
    "Projection": "project", "project": "project",
    "DenseLayer": "stack", "DenseStack": "stack",
    "LayerView": "views", "layer_views": "views",
    "NodeGrid": "render.display", "DigitGrid": "render.display",
}

TYPE_CHECKING = False  # without importing `typing`, which alone adds a third to start-up
if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from typing import Any

    from .data import Mnist, load_mnist
    from .errors import MlplensError
    from .normalize import normalize
    from .project import Projection, project
    from .render.display import DigitGrid, NodeGrid
    from .stack import DenseLayer, DenseStack
    from .views import LayerView, layer_views


def train(*args: Any, **kwargs: Any):
    """Train the article's network (see `mlplens.training.train`); imports Keras on first use."""
    from .training import train as _train

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
    if name not in _LAZY:
        raise AttributeError(f"module 'mlplens' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


class _Package(type(sys)):  # types.ModuleType, without importing `types`
    """Importing a submodule binds it on its package; `mlplens.project` and `mlplens.normalize`
    stay the functions of those names, as they were when this module imported them eagerly."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, type(sys)) and _LAZY.get(name) == name:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

__all__ = ["DenseLayer", "DenseStack", "DigitGrid", "LayerView", "MlplensError", "Mnist",
           "NodeGrid", "Projection", "layer_views", "load_mnist", "load_stack", "normalize",
           "project", "save_stack", "stack_from", "train"]
