"""Keras in and out: build and train the article's networks, and read Keras models as DenseStacks.

This is the only module that imports Keras, and only inside functions, so that `mlplens --help`
and the NumPy core stay fast. KERAS_BACKEND defaults to JAX but a user's choice is respected.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
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
from .data import Mnist, cache_dir, load_mnist, subset
from .errors import MlplensError
from .stack import ACTIVATIONS, DenseStack, infer_image_shape

KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
# Layers that only reshape or are inactive at inference: passed over when reading a model.
PASS_THROUGH = {"InputLayer", "Flatten", "Dropout", "GaussianDropout", "AlphaDropout",
                "GaussianNoise", "SpatialDropout1D"}


def import_keras() -> Any:
    """Import Keras with JAX as the default backend (DESIGN.md section 4 says why)."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    return keras


# Where the command line keeps JAX's compiled programs between runs; "off" turns that off.
JAX_CACHE_ENV = "MLPLENS_JAX_CACHE"


def enable_compilation_cache() -> Path | None:
    """Keep JAX's compiled programs on disk, so a second run (or a second net of the same shape
    in one run) skips compiling: about a third of a first `mlplens reproduce` is compilation,
    much of it Keras' weight initialisers. The command line calls this; the library leaves
    JAX's configuration alone. A cache the user configured for JAX is kept as it is.

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
    folder = Path(setting).expanduser() if setting else cache_dir() / "jax"
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.05)
    return folder


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
        if keras.backend.backend() == "jax":
            history = fit_on_device(model, inputs, targets, batch_size, epochs, verbose)
        else:
            history = model.fit(inputs, targets, batch_size=batch_size, epochs=epochs,
                                verbose=verbose)
    del inputs, targets
    seconds = time.perf_counter() - started
    # One batch: one compiled test step instead of two (1,024 and the remainder).
    test_loss, test_accuracy = model.evaluate(_as_inputs(mnist.x_test),
                                              keras.utils.to_categorical(mnist.y_test, 10),
                                              batch_size=len(mnist.x_test), verbose=0)
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


# Training steps run inside one compiled call between two updates of the progress bar: each
# call costs a few milliseconds of synchronisation, so a few calls per epoch, not one per batch.
STEPS_PER_EXECUTION = 128


def fit_on_device(model: Any, inputs: np.ndarray, targets: np.ndarray, batch_size: int,
                  epochs: int, verbose: int | str = "auto", callbacks: Any = None) -> Any:
    """`model.fit(inputs, targets, batch_size, epochs)` on the JAX backend, bit for bit, faster.

    Keras' own fit slices every batch on the host and calls a compiled step once per batch:
    for the article's nets that Python work costs as much as the arithmetic. Here the data go
    to the device once and `STEPS_PER_EXECUTION` of Keras' own `train_step`s run inside one
    compiled loop that gathers its batches from a shuffled index, so Python wakes only to
    update Keras' progress bar. The shuffles come from NumPy's global generator exactly as in
    `fit` (which draws one permutation while it builds a fresh model's metrics), so a seeded
    run gives the same weights and history as `fit`; a test pins that.
    """
    import jax
    import jax.numpy as jnp

    keras = import_keras()
    count = len(inputs)
    full_steps, tail = divmod(count, batch_size)
    steps = full_steps + (tail > 0)
    # What fit does first on a fresh model: draw a permutation, then build the metrics.
    np.random.permutation(count)
    model._symbolic_build(data_batch=(inputs[:batch_size], targets[:batch_size]))
    model.optimizer.build(model.trainable_variables)
    # The data are arguments of the compiled loops, not constants baked into them, and on the
    # CPU they alias the host arrays instead of copying them (see `_on_device`).
    x, y = _on_device(inputs), _on_device(targets)

    def batch(x: Any, y: Any, order: Any, start: Any, size: int) -> tuple[Any, Any]:
        rows = jax.lax.dynamic_slice(order, (start,), (size,))
        return jnp.take(x, rows, axis=0), jnp.take(y, rows, axis=0)

    state_shape = jax.eval_shape(lambda: _jax_state(model))
    first_batch = jax.eval_shape(lambda x, y, order: batch(x, y, order, 0, min(batch_size, count)),
                                 x, y, jax.ShapeDtypeStruct((count,), jnp.int32))
    logs_shape, _ = jax.eval_shape(model.train_step, state_shape, first_batch)

    # The state is donated: each call updates the weights in place instead of copying them.
    @functools.partial(jax.jit, donate_argnums=0)
    def run_full(state: Any, x: Any, y: Any, order: Any, first: Any, stop: Any
                 ) -> tuple[Any, Any]:
        def step(index: Any, carry: Any) -> Any:
            return model.train_step(carry[1], batch(x, y, order, index * batch_size,
                                                    batch_size))

        logs = jax.tree.map(lambda leaf: jnp.zeros(leaf.shape, leaf.dtype), logs_shape)
        return jax.lax.fori_loop(first, stop, step, (logs, state))

    @functools.partial(jax.jit, donate_argnums=0)
    def run_tail(state: Any, x: Any, y: Any, order: Any) -> tuple[Any, Any]:
        return model.train_step(state, batch(x, y, order, full_steps * batch_size, tail))

    callbacks = keras.callbacks.CallbackList(
        callbacks, add_history=True, add_progbar=verbose != 0, verbose=verbose, epochs=epochs,
        steps=steps, model=model)
    callbacks.on_train_begin()
    epoch_logs: dict[str, float] = {}
    for epoch in range(epochs):
        model.reset_metrics()
        callbacks.on_epoch_begin(epoch)
        state = _jax_state(model)
        order = jax.device_put(np.random.permutation(count).astype(np.int32))
        pending = None  # the last chunk's (last step, logs), shown once the next is queued
        for first in range(0, steps, STEPS_PER_EXECUTION):
            stop = min(first + STEPS_PER_EXECUTION, steps)
            if first < min(stop, full_steps):
                logs, state = run_full(state, x, y, order, first, min(stop, full_steps))
            if stop > full_steps:
                logs, state = run_tail(state, x, y, order)
            if pending is not None:
                _show_progress(callbacks, *pending)
            pending = (stop - 1, logs)
        _show_progress(callbacks, *pending)
        _assign_jax_state(model, state)
        epoch_logs = {key: float(value) for key, value in model.get_metrics_result().items()}
        callbacks.on_epoch_end(epoch, epoch_logs)
    model.optimizer.finalize_variable_values(model.trainable_weights)
    callbacks.on_train_end(logs=epoch_logs)
    return model.history


ALIGNMENT = 64  # bytes: JAX's CPU client shares host memory this aligned instead of copying


def aligned_empty(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """An uninitialised C-contiguous array whose data start on an ALIGNMENT-byte boundary."""
    dtype = np.dtype(dtype)
    size = math.prod(shape) * dtype.itemsize
    buffer = np.empty(size + ALIGNMENT, np.uint8)
    offset = -buffer.ctypes.data % ALIGNMENT
    return buffer[offset:offset + size].view(dtype).reshape(shape)


def _on_device(array: np.ndarray) -> Any:
    """The array as a JAX array; on the CPU it shares the host memory (no second 188 MB copy of
    the training images) when the array is aligned, which `_as_inputs` makes sure of."""
    import jax

    array = np.ascontiguousarray(array)
    if array.ctypes.data % ALIGNMENT == 0:
        try:
            return jax.device_put(array, may_alias=True)
        except TypeError:  # a JAX without may_alias: copy
            pass
    return jax.device_put(array)


def _show_progress(callbacks: Any, step: int, logs: dict[str, Any]) -> None:
    callbacks.on_train_batch_end(step, {key: float(value) for key, value in logs.items()})


def _jax_variable_groups(model: Any) -> tuple[list[Any], ...]:
    return (model.trainable_variables, model.non_trainable_variables,
            model.optimizer.variables, model.metrics_variables)


def _jax_state(model: Any) -> tuple[list[Any], ...]:
    """The (trainable, non-trainable, optimizer, metrics) values `train_step` takes."""
    return tuple([variable.value for variable in group] for group in _jax_variable_groups(model))


def _assign_jax_state(model: Any, state: tuple[list[Any], ...]) -> None:
    for group, values in zip(_jax_variable_groups(model), state):
        for variable, value in zip(group, values):
            variable.assign(value)


def _as_inputs(images: np.ndarray) -> np.ndarray:
    """Flatten uint8 images and scale to [0, 1], as the article does (into aligned memory)."""
    flat = images.reshape(len(images), -1)
    out = aligned_empty(flat.shape, np.float32)
    np.divide(flat, np.float32(255), out=out, dtype=np.float32)
    return out


# ---- reading models ------------------------------------------------------------------------

def _activation_name(layer: Any) -> str:
    activation = getattr(layer, "activation", None)
    name = getattr(activation, "__name__", str(activation))
    return {"softmax_v2": "softmax"}.get(name, name)


def _fold(stack_layers: list[dict[str, Any]], activation: str, layer: Any) -> None:
    """Attach a separate activation layer to the Dense layer before it."""
    if activation not in ACTIVATIONS:
        raise MlplensError(f"layer {layer.name!r} ({type(layer).__name__}): activation "
                           f"{activation!r} is not supported")
    if activation == "linear":
        return
    if not stack_layers:
        raise MlplensError(f"layer {layer.name!r} ({type(layer).__name__}) comes before any "
                           "Dense layer")
    previous = stack_layers[-1]
    if previous["activation"] != "linear":
        raise MlplensError(f"layer {layer.name!r} ({type(layer).__name__}) follows Dense layer "
                           f"{previous['name']!r}, which already applies {previous['activation']}")
    previous["activation"] = activation


def stack_from_keras(model: Any, image_shape: tuple[int, int] | None = None) -> DenseStack:
    """Read a Keras model that is a chain of Dense layers into a DenseStack.

    InputLayer, Flatten, a Reshape to a vector and Dropout are passed over; Activation, ReLU and
    Softmax layers fold into the Dense layer before them; any other layer is refused by name.
    """
    if len(getattr(model, "inputs", None) or [None]) != 1 or \
            len(getattr(model, "outputs", None) or [None]) != 1:
        raise MlplensError("the model must have one input and one output")
    found: list[dict[str, Any]] = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind in PASS_THROUGH:
            continue
        if kind == "Reshape" and len(layer.target_shape) == 1:
            continue
        if kind == "Dense":
            weights = layer.get_weights()
            kernel = weights[0]
            bias = weights[1] if len(weights) > 1 else np.zeros(kernel.shape[1], np.float32)
            found.append({"kernel": kernel, "bias": bias, "activation": _activation_name(layer),
                          "name": layer.name})
            if found[-1]["activation"] not in ACTIVATIONS:
                raise MlplensError(f"layer {layer.name!r} (Dense): activation "
                                   f"{found[-1]['activation']!r} is not supported "
                                   f"(supported: {', '.join(ACTIVATIONS)})")
        elif kind == "Activation":
            _fold(found, _activation_name(layer), layer)
        elif kind == "ReLU" and _is_plain_relu(layer):
            _fold(found, "relu", layer)
        elif kind == "Softmax":
            _fold(found, "softmax", layer)
        else:
            raise MlplensError(f"layer {layer.name!r} ({kind}) is not supported: mlplens reads "
                               "chains of Dense layers (with Flatten, Dropout and Activation)")
    if not found:
        raise MlplensError("the model has no Dense layers")
    if image_shape is None:
        image_shape = _input_image_shape(model, found[0]["kernel"].shape[0])
    return DenseStack.from_arrays([f["kernel"] for f in found], [f["bias"] for f in found],
                                  [f["activation"] for f in found], image_shape,
                                  [f["name"] for f in found])


def _is_plain_relu(layer: Any) -> bool:
    config = layer.get_config()
    return (config.get("max_value") is None and not config.get("negative_slope")
            and not config.get("threshold"))


def _input_image_shape(model: Any, n_inputs: int) -> tuple[int, int]:
    """(H, W) from a model that takes images, else a square guess from the vector length.

    A Dense layer on an unflattened image acts on its last axis only: that model is not a
    chain of Dense layers over the image, and drawing its kernel as pictures would mislead.
    """
    shape = tuple(getattr(model, "input_shape", ()) or ())[1:]
    if len(shape) == 3 and shape[-1] == 1:
        shape = shape[:2]  # (H, W, 1): one channel
    if any(not isinstance(size, int) for size in shape):
        return infer_image_shape(n_inputs)
    if math.prod(shape) != n_inputs:
        raise MlplensError(f"the model's input {shape} has {math.prod(shape)} values but its "
                           f"first Dense layer takes {n_inputs}: flatten the input before the "
                           "first Dense layer")
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    return infer_image_shape(n_inputs)


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


def load_keras_stack(path: Path, image_shape: tuple[int, int] | None = None) -> DenseStack:
    """A `.keras` or legacy `.h5` file -> DenseStack; unreadable files become one-line errors."""
    keras = import_keras()
    try:
        model = _load_keras_model(keras, path)
    except Exception as exc:  # Keras raises many types for corrupt or foreign files
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MlplensError(f"{path}: cannot read this Keras model ({reason[:300]})") from None
    try:
        return stack_from_keras(model, image_shape)
    except MlplensError as exc:
        raise MlplensError(f"{path}: {exc}") from None


def load_stack(path: str | os.PathLike[str],
               image_shape: tuple[int, int] | None = None) -> DenseStack:
    """Any supported model file -> DenseStack (today: Keras .keras and .h5)."""
    path = Path(path)
    if not path.exists():
        raise MlplensError(f"{path}: no such file")
    if path.is_dir():
        raise MlplensError(f"{path}: is a folder, not a model file")
    if path.suffix.lower() not in KERAS_SUFFIXES:
        raise MlplensError(f"{path}: unsupported model format {path.suffix or '(no suffix)'!r}; "
                           f"mlplens reads {', '.join(KERAS_SUFFIXES)}")
    if path.stat().st_size == 0:
        raise MlplensError(f"{path}: the file is empty")
    return load_keras_stack(path, image_shape)
