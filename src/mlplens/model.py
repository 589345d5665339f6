"""Keras in and out: build and train the article's networks, and read Keras models as DenseStacks.

This is the only module that imports Keras, and only inside functions, so that `mlplens --help`
and the NumPy core stay fast. KERAS_BACKEND defaults to JAX but a user's choice is respected.
"""

from __future__ import annotations

import contextlib
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

from .core.forward import accuracy
from .core.stack import DenseStack
from .data import Mnist, cache_dir, load_mnist, subset
from .errors import MlplensError
from .formats.common import image_shape_from_input
from .formats.keras_layers import PASS_THROUGH, walk
from .output import atomic_path, write_text
from .snapshots import SNAPSHOT_FILE, Snapshots, save_snapshots


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
    """A trained Keras model, the numbers that describe its run and, if asked, its snapshots."""

    model: Any
    metrics: dict[str, Any] = field(default_factory=dict)
    snapshots: Snapshots | None = None

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
        written = [model_path, metrics_path]
        if self.snapshots is not None:
            written.append(save_snapshots(self.snapshots, out / SNAPSHOT_FILE))
        return written


def _snapshot_callback(keras: Any, every: int, images: np.ndarray, labels: np.ndarray) -> Any:
    """A callback that keeps the weights (and test accuracy) at step 0 and every `every` steps."""

    class SnapshotWeights(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.steps: list[int] = []
            self.accuracies: list[float] = []
            self.stacks: list[DenseStack] = []
            self._epoch = 0
            self._step = 0

        def _take(self) -> None:
            if hasattr(self.model, "jax_state_sync"):
                self.model.jax_state_sync()  # JAX keeps live weights off the model mid-epoch
            stack = stack_from_keras(self.model, image_shape=(28, 28))
            self.steps.append(self._step)
            self.accuracies.append(accuracy(stack, images, labels))
            self.stacks.append(stack)

        def on_train_begin(self, logs: Any = None) -> None:
            self._take()

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self._epoch = epoch

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            previous = self._step
            self._step = self._epoch * int(self.params["steps"]) + batch + 1
            if self._step // every > previous // every:
                self._take()

        def on_train_end(self, logs: Any = None) -> None:
            if self.steps[-1] != self._step:
                self._take()

        def result(self) -> Snapshots:
            return Snapshots.from_stacks(self.steps, self.accuracies, self.stacks)

    return SnapshotWeights()


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
    snapshot_every: int | None = None,
) -> TrainedModel:
    """Train the article's network on the first `train_samples` MNIST images; seeded.

    With `snapshot_every`, the weights are also kept at step 0 and every that many steps.
    """
    if epochs < 1:
        raise MlplensError(f"--epochs must be at least 1, got {epochs}")
    if batch_size < 1:
        raise MlplensError(f"--batch-size must be at least 1, got {batch_size}")
    if snapshot_every is not None and snapshot_every < 1:
        raise MlplensError(f"--snapshot-every must be at least 1, got {snapshot_every}")
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
    if verbose == "auto":  # a live bar on a terminal, one line per epoch in a log file
        verbose = 1 if sys.stderr.isatty() else 2
    snapshotter = (_snapshot_callback(keras, snapshot_every, mnist.x_test, mnist.y_test)
                   if snapshot_every else None)
    started = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # progress is diagnostics; stdout lists paths
        callbacks = [snapshotter] if snapshotter else None
        if keras.backend.backend() == "jax":
            history = fit_on_device(model, inputs, targets, batch_size, epochs, verbose,
                                    callbacks=callbacks, sync_every=snapshot_every)
        else:
            history = model.fit(inputs, targets, batch_size=batch_size, epochs=epochs,
                                verbose=verbose, callbacks=callbacks)
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
        "snapshot_every": snapshot_every,
    }
    return TrainedModel(model, metrics, snapshotter.result() if snapshotter else None)


# Training steps run inside one compiled call between two updates of the progress bar: each
# call costs a few milliseconds of synchronisation, so a few calls per epoch, not one per batch.
STEPS_PER_EXECUTION = 128


def fit_on_device(model: Any, inputs: np.ndarray, targets: np.ndarray, batch_size: int,
                  epochs: int, verbose: int | str = "auto", callbacks: Any = None,
                  sync_every: int | None = None) -> Any:
    """`model.fit(inputs, targets, batch_size, epochs)` on the JAX backend, bit for bit, faster.

    Keras' own fit slices every batch on the host and calls a compiled step once per batch:
    for the article's nets that Python work costs as much as the arithmetic. Here the data go
    to the device once and `STEPS_PER_EXECUTION` of Keras' own `train_step`s run inside one
    compiled loop that gathers its batches from a shuffled index, so Python wakes only to
    update Keras' progress bar. The shuffles come from NumPy's global generator exactly as in
    `fit` (which draws one permutation while it builds a fresh model's metrics), so a seeded
    run gives the same weights and history as `fit`; a test pins that.

    Callbacks hear of batches only where a compiled call ends. With `sync_every`, calls also
    end after every multiple of that many optimizer steps (counted over all epochs), and there
    the model holds its current weights while `on_train_batch_end` runs: what a callback that
    snapshots the weights every N steps needs.
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

    @jax.jit
    def run_full(state: Any, x: Any, y: Any, order: Any, first: Any, stop: Any
                 ) -> tuple[Any, Any]:
        def step(index: Any, carry: Any) -> Any:
            return model.train_step(carry[1], batch(x, y, order, index * batch_size,
                                                    batch_size))

        logs = jax.tree.map(lambda leaf: jnp.zeros(leaf.shape, leaf.dtype), logs_shape)
        return jax.lax.fori_loop(first, stop, step, (logs, state))

    @jax.jit
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
        pending = None  # the last call's (last step, logs), shown once the next is queued
        first = 0
        for stop in _call_stops(epoch * steps, steps, STEPS_PER_EXECUTION, sync_every):
            if first < min(stop, full_steps):
                logs, state = run_full(state, x, y, order, first, min(stop, full_steps))
            if stop > full_steps:
                logs, state = run_tail(state, x, y, order)
            if pending is not None:
                _show_progress(callbacks, *pending)
                pending = None
            if sync_every and (epoch * steps + stop) % sync_every == 0 and stop < steps:
                _assign_jax_state(model, state)  # the callbacks see the weights of this step
                _show_progress(callbacks, stop - 1, logs)
            else:
                pending = (stop - 1, logs)
            first = stop
        _assign_jax_state(model, state)
        if pending is not None:
            _show_progress(callbacks, *pending)
        epoch_logs = {key: float(value) for key, value in model.get_metrics_result().items()}
        callbacks.on_epoch_end(epoch, epoch_logs)
    model.optimizer.finalize_variable_values(model.trainable_weights)
    callbacks.on_train_end(logs=epoch_logs)
    return model.history


def _call_stops(done: int, steps: int, per_call: int, sync_every: int | None) -> list[int]:
    """Where the compiled calls of one epoch end: every `per_call` steps, at the epoch's end,
    and after each step that makes the run's step count (`done` before this epoch) a multiple
    of `sync_every`."""
    stops = set(range(per_call, steps, per_call)) | {steps}
    if sync_every:
        first = sync_every - done % sync_every
        stops |= set(range(first, steps, sync_every))
    return sorted(stops)


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
