"""Building and training the article's Keras networks on MNIST.

Keras is imported inside the functions only: importing this package does not import it. Training
reads models through `mlplens.formats`; nothing in `formats` imports this package.
"""

from ..keras_backend import import_keras
from .fast_fit import fit_on_device
from .jax_cache import enable_compilation_cache
from .run import TrainedModel, build, train

__all__ = ["TrainedModel", "build", "enable_compilation_cache", "fit_on_device", "import_keras",
           "train"]
