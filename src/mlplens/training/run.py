"""One seeded training run of the article's network on MNIST (or any Dataset), optionally with
snapshots."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.forward import accuracy
from ..core.stack import DenseStack
from ..datasets import Dataset, load_dataset
from ..datasets.splitting import subset
from ..errors import MlplensError
from ..formats.keras_model import stack_from_keras
from ..formats.metadata import KERAS_MEMBER, metadata_text
from ..keras_backend import import_keras
from ..memory import require
from ..output import atomic_path, write_text
from ..snapshots import SNAPSHOT_FILE, Snapshots, save_snapshots
from .fast_fit import fit_on_device
from .inputs import as_inputs


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
    data: Dataset | None = None

    @property
    def stack(self) -> DenseStack:
        return _stack_of(self.model, self.data)

    def save(self, out_dir: str | os.PathLike[str]) -> list[Path]:
        """Write model.keras and metrics.json into out_dir, each atomically. The model carries
        what its weights do not say (image shape, channels, pixel scale, class names) in an
        `mlplens.json` member, so `load_stack` reads it back as trained."""
        out = Path(out_dir)
        model_path = out / "model.keras"
        names = self.data.class_names if self.data is not None else ()
        with atomic_path(model_path) as tmp:
            self.model.save(tmp)
            with zipfile.ZipFile(tmp, "a", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(KERAS_MEMBER,
                                 json.dumps(metadata_text(self.stack, names), indent=1))
        metrics_path = write_text(out / "metrics.json", json.dumps(self.metrics, indent=2) + "\n")
        written = [model_path, metrics_path]
        if self.snapshots is not None:
            written.append(save_snapshots(self.snapshots, out / SNAPSHOT_FILE))
        return written


def _stack_of(model: Any, data: Dataset | None) -> DenseStack:
    """The Keras model as a DenseStack that knows what its inputs are: the data's image shape,
    channels, pixel scale and feature names (MNIST's 28x28 at 0-1 without data)."""
    if data is None:
        return stack_from_keras(model, image_shape=(28, 28))
    return stack_from_keras(model, image_shape=data.image_shape, channels=data.channels,
                            input_names=data.feature_names).with_input(
        pixel_scale=data.pixel_scale)


def _snapshot_callback(keras: Any, every: int, data: Dataset) -> Any:
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
            stack = _stack_of(self.model, data)
            self.steps.append(self._step)
            self.accuracies.append(accuracy(stack, data.x_test, data.y_test))
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


def training_bytes(count: int, test_count: int, n_inputs: int, classes: int,
                   hidden: Sequence[int]) -> int:
    """About the peak of `train` beyond Keras itself: inputs and one-hot targets, each on the
    host and on the device, for the training and the test images (the test images evaluated in
    one batch, every layer's outputs held), and the weights with their gradients and
    optimizer state."""
    widths = (n_inputs, *hidden, classes)
    weights = sum((a + 1) * b for a, b in zip(widths, widths[1:]))
    return 8 * (count * (n_inputs + classes) + test_count * (sum(widths) + classes)) \
        + 16 * weights


def train(
    hidden: Sequence[int] = (512, 256),
    train_samples: int = 60000,
    epochs: int = 6,
    batch_size: int = 128,
    optimizer: str = "rmsprop",
    seed: int = 0,
    data: Dataset | None = None,
    stratified: bool = False,
    verbose: int | str = "auto",
    snapshot_every: int | None = None,
    shuffle_labels: bool = False,
) -> TrainedModel:
    """Train the article's network on the first `train_samples` images of `data` (MNIST by
    default); seeded. Inputs, classes and the pixel scale come from the data.

    With `snapshot_every`, the weights are also kept at step 0 and every that many steps.
    `shuffle_labels` permutes the training labels (seeded): a net that can only memorise, for
    the data-randomisation check.
    """
    if epochs < 1:
        raise MlplensError(f"--epochs must be at least 1, got {epochs}")
    if batch_size < 1:
        raise MlplensError(f"--batch-size must be at least 1, got {batch_size}")
    if snapshot_every is not None and snapshot_every < 1:
        raise MlplensError(f"--snapshot-every must be at least 1, got {snapshot_every}")
    if any(units < 1 for units in hidden):
        raise MlplensError(f"hidden layer sizes must be at least 1, got {list(hidden)}")
    mnist = load_dataset() if data is None else data
    classes = len(mnist.class_names)
    x_train, y_train = subset(mnist.x_train, mnist.y_train, train_samples, stratified, seed)
    if shuffle_labels:
        y_train = np.random.default_rng(seed).permutation(y_train)
    present = np.unique(y_train)
    if len(present) < 2:
        raise MlplensError(f"{mnist.path or mnist.name}: all {len(y_train):,} training images "
                           f"are of one class ({mnist.class_names[int(present[0])]!r}); a "
                           "classifier needs at least two")
    require(training_bytes(len(x_train), len(mnist.x_test), mnist.n_inputs, classes, hidden),
            f"training a {'-'.join(map(str, (mnist.n_inputs, *hidden, classes)))} net on "
            f"{len(x_train):,} images of {classes:,} classes")
    keras = import_keras()
    try:
        optimizer_object = keras.optimizers.get(optimizer)
    except ValueError:
        raise MlplensError(f"unknown optimizer {optimizer!r} (e.g. rmsprop, adam, sgd)") from None
    keras.utils.set_random_seed(seed)
    model = build(hidden, mnist.n_inputs, classes)
    model.compile(optimizer=optimizer_object, loss="categorical_crossentropy",
                  metrics=["accuracy"])
    inputs = as_inputs(x_train, mnist.pixel_scale)
    targets = keras.utils.to_categorical(y_train, classes)
    if verbose == "auto":  # a live bar on a terminal, one line per epoch in a log file
        verbose = 1 if sys.stderr.isatty() else 2
    snapshotter = (_snapshot_callback(keras, snapshot_every, mnist) if snapshot_every else None)
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
    test_loss, test_accuracy = model.evaluate(as_inputs(mnist.x_test, mnist.pixel_scale),
                                              keras.utils.to_categorical(mnist.y_test, classes),
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
        "shuffle_labels": shuffle_labels,
        "data": mnist.name,
        "input": {"image_shape": list(mnist.image_shape), "channels": mnist.channels,
                  "pixel_scale": mnist.pixel_scale.name,
                  "feature_names": list(mnist.feature_names)},
        "class_names": list(mnist.class_names),
    }
    return TrainedModel(model, metrics, snapshotter.result() if snapshotter else None, mnist)
