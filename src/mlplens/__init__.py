"""mlplens: see what each node of a fully-connected neural network looks for.

The public API. Importing the package loads nothing heavy: each name below is imported from its
module on first use, so `mlplens --help` starts about as fast as Python itself (NumPy alone
takes longer to import than Python takes to start). Keras and matplotlib are imported only by
the functions that need them.
"""

from __future__ import annotations

__version__ = "0.1.0"

# Public name -> the module that defines it.
_LAZY = {
    "load_mnist": "datasets.mnist",
    "MlplensError": "errors",
    "normalize": "core.normalization",
    "Projection": "core.projection",
    "Method": "methods", "METHODS": "methods", "project": "methods",
    "register_method": "methods",
    "DenseLayer": "core.stack", "DenseStack": "core.stack",
    "LayerView": "layout.views", "layer_views": "layout.views",
    "LayerBars": "layout.bars", "layer_bars": "layout.bars",
    "mnist_like": "core.mnist_like",
    "intervene": "core.circuits.intervene", "attribute": "core.circuits.circuit",
    "prune": "core.circuits.circuit",
    "compare": "core.compare", "Comparison": "core.compare",
    "NodeGrid": "displays", "DigitGrid": "displays", "Explorer": "report.inline",
    "load_stack": "formats", "stack_from": "formats", "save_stack": "formats.export",
    "read_model": "formats", "open_model": "formats.model_data", "ModelData": "formats.model_data",
    "Dataset": "datasets", "load_dataset": "datasets", "PixelScale": "core.pixel_scale",
    "parse_pixel_scale": "core.pixel_scale",
    "train": "training",
    "visualize_stack": "figures.layers",
}
# Public names whose module calls them something else.
_RENAMED = {"register_method": "register"}

TYPE_CHECKING = False  # without importing `typing`, which alone adds a third to start-up
if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from typing import Any

    from .methods import METHODS, Method, project
    from .methods import register as register_method
    from .core.circuits.circuit import attribute, prune
    from .core.compare import Comparison, compare
    from .core.circuits.intervene import intervene
    from .core.mnist_like import mnist_like
    from .core.normalization import normalize
    from .core.projection import Projection
    from .core.stack import DenseLayer, DenseStack
    from .layout.views import LayerView, layer_views
    from .layout.bars import LayerBars, layer_bars
    from .datasets.mnist import load_mnist
    from .displays import DigitGrid, NodeGrid
    from .report.inline import Explorer
    from .errors import MlplensError
    from .figures.layers import visualize_stack
    from .core.pixel_scale import PixelScale, parse_pixel_scale
    from .datasets import Dataset, load_dataset
    from .formats import load_stack, read_model, stack_from
    from .formats.model_data import ModelData, open_model
    from .formats.export import save_stack
    from .training import train


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'mlplens' has no attribute {name!r}")
    import importlib

    module = importlib.import_module(f".{_LAZY[name]}", __name__)
    value = getattr(module, _RENAMED.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = ["METHODS", "Comparison", "Dataset", "DenseLayer", "DenseStack", "DigitGrid",
           "Explorer", "LayerBars", "LayerView", "Method", "MlplensError", "ModelData",
           "NodeGrid", "PixelScale", "Projection", "attribute", "compare", "intervene", "layer_bars", "layer_views", "load_dataset",
           "load_mnist", "load_stack", "mnist_like", "normalize", "open_model",
           "parse_pixel_scale", "project", "prune", "read_model", "register_method",
           "save_stack", "stack_from", "train", "visualize_stack"]
