"""Keras in and out: build and train the article's networks, and read Keras models as DenseStacks.

This is the only module that imports Keras, and only inside functions, so that `mlplens --help`
and the NumPy core stay fast. KERAS_BACKEND defaults to JAX but a user's choice is respected.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_path, write_text
from .data import Mnist, load_mnist, subset
from .errors import MlplensError
from .formats.common import image_shape_from_input
from .formats.keras_layers import PASS_THROUGH, walk
from .stack import DenseStack


def import_keras() -> Any:
    """Import Keras with JAX as the default backend (DESIGN.md section 4 says why)."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    return keras


def build(hidden: Sequence[int] = (512, 256), n_inputs: int = 784, n_classes: int = 10) -> Any:
    """The article's network: Dense(h, relu) for each hidden size, then Dense(classes, softmax)."""
    keras = import_keras()
    layers = [keras.Input(shape=(n_inputs,), name="pixels")]
    for index, units in enumerate(hidden, start=1):
        layers.append(keras.layers.Dense(units, activation="relu", name=f"hidden_{index}"))
    layers.append(keras.layers.Dense(n_classes, activation="softmax", name="output"))
    return keras.Sequential(layers, name="mlp_" + "_".join(map(str, (n_inputs, *hidden,
                                                                       n_classes))))


@dataclass
class TrainedModel:
    """A trained Keras model and the numbers that describe its run."""

    model: Any
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def stack(self) -> DenseStack:
        return stack_from_keras(self.model, image_shape=(28, 28))

    def save(self, out_dir: str | os.PathLike[str]) -> list[Path]:
        """Write model.keras and metrics.json into out_dir, each atomically."""
        out = Path(out_dir)
        model_path = out / "model.keras"
        with atomic_path(model_path) as tmp:
            self.model.save(tmp)
        metrics_path = write_text(out / "metrics.json", json.dumps(self.metrics, indent=2) + "\n")
        return [model_path, metrics_path]


def train(
    hidden: Sequence[int] = (512, 256),
    train_samples: int = 60000,
    epochs: int = 6,
    batch_size: int = 128,
    optimizer: str = "rmsprop",
    seed: int = 0,
    data: Mnist | None = None,
    stratified: bool = False,
    verbose: int | str = "auto",
) -> TrainedModel:
    """Train the article's network on the first `train_samples` MNIST images; seeded."""
    if epochs < 1:
        raise MlplensError(f"--epochs must be at least 1, got {epochs}")
    if batch_size < 1:
        raise MlplensError(f"--batch-size must be at least 1, got {batch_size}")
    if any(units < 1 for units in hidden):
        raise MlplensError(f"hidden layer sizes must be at least 1, got {list(hidden)}")
    mnist = data if data is not None else load_mnist()
    x_train, y_train = subset(mnist.x_train, mnist.y_train, train_samples, stratified, seed)
    keras = import_keras()
    try:
        optimizer_object = keras.optimizers.get(optimizer)
    except ValueError:
        raise MlplensError(f"unknown optimizer {optimizer!r} (e.g. rmsprop, adam, sgd)") from None
    keras.utils.set_random_seed(seed)
    model = build(hidden)
    model.compile(optimizer=optimizer_object, loss="categorical_crossentropy",
                  metrics=["accuracy"])
    inputs = _as_inputs(x_train)
    targets = keras.utils.to_categorical(y_train, 10)
    started = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # progress is diagnostics; stdout lists paths
        history = model.fit(inputs, targets, batch_size=batch_size, epochs=epochs,
                            verbose=verbose)
    seconds = time.perf_counter() - started
    test_loss, test_accuracy = model.evaluate(_as_inputs(mnist.x_test),
                                              keras.utils.to_categorical(mnist.y_test, 10),
                                              batch_size=1024, verbose=0)
    metrics = {
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "history": {key: [float(v) for v in values] for key, values in history.history.items()},
        "train_samples": int(len(x_train)),
        "stratified": stratified,
        "hidden": [int(units) for units in hidden],
        "epochs": epochs,
        "batch_size": batch_size,
        "optimizer": optimizer,
        "seed": seed,
        "backend": keras.backend.backend(),
        "keras_version": keras.__version__,
        "seconds": round(seconds, 3),
    }
    return TrainedModel(model, metrics)


def _as_inputs(images: np.ndarray) -> np.ndarray:
    """Flatten uint8 images and scale to [0, 1], as the article does."""
    return images.reshape(len(images), -1).astype(np.float32) / np.float32(255)


# ---- reading models ------------------------------------------------------------------------

def _keras_layers(model: Any):
    """Each layer as (class name, name, config, weights) for `formats.keras_layers.walk`."""
    for layer in model.layers:
        kind = type(layer).__name__
        config = layer.get_config() if kind not in PASS_THROUGH else {}
        if kind == "Dense":  # the live activation function, as Keras resolves it
            config = {**config, "activation": _activation_name(layer)}
        yield kind, layer.name, config, layer.get_weights


def _activation_name(layer: Any) -> str:
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", str(activation))


def stack_from_keras(model: Any, image_shape: tuple[int, int] | None = None,
                     activations: Sequence[str] | None = None) -> DenseStack:
    """Read a Keras model that is a chain of Dense layers into a DenseStack.

    InputLayer, Flatten, a Reshape to a vector and Dropout are passed over; Activation, ReLU and
    Softmax layers fold into the Dense layer before them; any other layer is refused by name.
    """
    if len(getattr(model, "inputs", None) or [None]) != 1 or \
            len(getattr(model, "outputs", None) or [None]) != 1:
        raise MlplensError("the model must have one input and one output")
    chain = walk(_keras_layers(model))
    if image_shape is None:
        declared = tuple(getattr(model, "input_shape", ()) or ())[1:]
        image_shape = image_shape_from_input(declared, int(np.shape(chain.kernels[0])[0]))
    return chain.stack(image_shape, activations)


def _load_keras_model(keras: Any, path: Path) -> Any:
    """Keras accepts only lower-case suffixes; read `MODEL.H5` through a lower-case link."""
    if path.suffix == path.suffix.lower():
        return keras.saving.load_model(path, compile=False)
    with tempfile.TemporaryDirectory() as folder:
        alias = Path(folder) / (path.stem + path.suffix.lower())
        try:
            alias.symlink_to(path.resolve())
        except OSError:
            shutil.copyfile(path, alias)
        return keras.saving.load_model(alias, compile=False)


def load_keras_stack(path: Path, image_shape: tuple[int, int] | None = None,
                     activations: Sequence[str] | None = None) -> DenseStack:
    """A `.keras` file (checked by `formats.keras_file` first) -> DenseStack, via Keras.

    Messages do not name the file: `mlplens.formats.load_stack` puts the path in front.
    """
    keras = import_keras()
    try:
        model = _load_keras_model(keras, path)
    except Exception as exc:  # Keras raises many types for corrupt or foreign files
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MlplensError(f"cannot read this Keras model ({reason[:300]})") from None
    return stack_from_keras(model, image_shape, activations)


def load_stack(path: str | os.PathLike[str], image_shape: tuple[int, int] | None = None,
               activations: str | Sequence[str] | None = None) -> DenseStack:
    """Any supported model file -> DenseStack (see `mlplens.formats.load_stack`)."""
    from .formats import load_stack as _load_stack

    return _load_stack(path, image_shape, activations)
