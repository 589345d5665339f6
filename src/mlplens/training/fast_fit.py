"""Keras' fit on the JAX backend as compiled on-device loops, with Keras' fit as the fallback.

The loop leans on parts of Keras that are private or JAX-specific: `Model._symbolic_build`,
`train_step` on a tuple of JAX state, `optimizer.build`, `CallbackList`'s arguments. A Keras
that lacks them, or whose set-up of the loop fails, trains with its public `fit` instead: one
line on stderr says so, and the weights are those `fit` gives, only slower to get.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..keras_backend import import_keras
from .inputs import ALIGNMENT

# Training steps run inside one compiled call between two updates of the progress bar: each
# call costs a few milliseconds of synchronisation, so a few calls per epoch, not one per batch.
STEPS_PER_EXECUTION = 128

# What the loop calls on the model and its optimizer, some of it private: checked up front.
MODEL_INTERNALS = ("_symbolic_build", "train_step", "metrics_variables", "reset_metrics",
                   "get_metrics_result")
OPTIMIZER_INTERNALS = ("build", "variables", "finalize_variable_values")


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

    When this Keras lacks an internal the loop uses, or the loop's set-up fails (before any
    callback or training step ran), `model.fit` trains instead, from the same weights and
    the same point of NumPy's generator, after one note on stderr.
    """
    keras = import_keras()
    unsupported = _unsupported(keras, model)
    if unsupported:
        return _fit_instead(model, inputs, targets, batch_size, epochs, verbose, callbacks,
                            unsupported)
    random_state, weights = np.random.get_state(), model.get_weights()
    built = False
    try:
        # What fit does first on a fresh model: draw a permutation, then build the metrics.
        np.random.permutation(len(inputs))
        model._symbolic_build(data_batch=(inputs[:batch_size], targets[:batch_size]))
        built = True
        model.optimizer.build(model.trainable_variables)
        loop = _compile(model, inputs, targets, batch_size)
        callback_list = keras.callbacks.CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, verbose=verbose,
            epochs=epochs, steps=loop.steps, model=model)
    except Exception as exc:  # whatever a changed internal raises
        # fit draws its build-time permutation only while the model is unbuilt: once our
        # build is done, the draw above stands in for it; before that, give the draw back.
        _restore(model, weights, None if built else random_state)
        return _fit_instead(model, inputs, targets, batch_size, epochs, verbose, callbacks,
                            f"the compiled training loop could not be set up on Keras "
                            f"{keras.__version__} ({_one_line(exc)})")
    _run(model, loop, callback_list, epochs, sync_every)
    return model.history


def _unsupported(keras: Any, model: Any) -> str | None:
    """Why the compiled loop cannot run on this Keras and model; None when nothing is missing."""
    backend = keras.backend.backend()
    if backend != "jax":
        return f"the compiled training loop needs Keras' JAX backend, not {backend}"
    owners = {"Model": (model, MODEL_INTERNALS),
              "optimizer": (getattr(model, "optimizer", None), OPTIMIZER_INTERNALS),
              "keras.callbacks": (keras.callbacks, ("CallbackList",))}
    missing = [f"{owner}.{name}" for owner, (found, names) in owners.items() for name in names
               if not hasattr(found, name)]
    return f"Keras {keras.__version__} lacks {', '.join(missing)}" if missing else None


def _restore(model: Any, weights: list[np.ndarray], random_state: Any) -> None:
    """Undo what a failed set-up may have changed that `fit` would see: NumPy's generator (when
    given) and the weights (no set-up step trains, but `fit` must start from these)."""
    if random_state is not None:
        np.random.set_state(random_state)
    if any(not np.array_equal(now, then) for now, then in zip(model.get_weights(), weights)):
        model.set_weights(weights)


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _fit_instead(model: Any, inputs: np.ndarray, targets: np.ndarray, batch_size: int,
                 epochs: int, verbose: int | str, callbacks: Any, reason: str) -> Any:
    print(f"mlplens: note: {reason}; training with Keras' fit (slower)", file=sys.stderr,
          flush=True)
    return model.fit(inputs, targets, batch_size=batch_size, epochs=epochs, verbose=verbose,
                     callbacks=callbacks)


@dataclass(frozen=True)
class _Loop:
    """One fit's data on the device and the two compiled calls that train on them."""

    x: Any
    y: Any
    count: int
    full_steps: int
    steps: int
    run_full: Callable[..., tuple[Any, Any]]  # (state, x, y, order, first, stop) -> logs, state
    run_tail: Callable[..., tuple[Any, Any]]  # (state, x, y, order) -> logs, state


def _compile(model: Any, inputs: np.ndarray, targets: np.ndarray, batch_size: int) -> _Loop:
    """Put the data on the device and wrap `train_step` in the epoch's compiled calls.

    `train_step` is traced here, abstractly, so that a Keras whose step takes or returns its
    state differently fails now, before training starts, rather than mid-epoch.
    """
    import jax
    import jax.numpy as jnp

    count = len(inputs)
    full_steps, tail = divmod(count, batch_size)
    # The data are arguments of the compiled loops, not constants baked into them, and on the
    # CPU they alias the host arrays instead of copying them (see `_on_device`).
    x, y = _on_device(inputs), _on_device(targets)

    def batch(x: Any, y: Any, order: Any, start: Any, size: int) -> tuple[Any, Any]:
        rows = jax.lax.dynamic_slice(order, (start,), (size,))
        return jnp.take(x, rows, axis=0), jnp.take(y, rows, axis=0)

    state_shape = jax.eval_shape(lambda: _jax_state(model))
    first_batch = jax.eval_shape(lambda x, y, order: batch(x, y, order, 0, min(batch_size, count)),
                                 x, y, jax.ShapeDtypeStruct((count,), jnp.int32))
    logs_shape, new_state_shape = jax.eval_shape(model.train_step, state_shape, first_batch)
    if _layout(new_state_shape) != _layout(state_shape):
        raise TypeError("train_step returns its state in another layout than it takes it")

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

    return _Loop(x, y, count, full_steps, full_steps + (tail > 0), run_full, run_tail)


def _layout(tree: Any) -> tuple[Any, list[tuple[Any, Any]]]:
    """A pytree's structure and its leaves' shapes and dtypes: what a loop carry must keep."""
    import jax

    leaves, structure = jax.tree.flatten(tree)
    return structure, [(leaf.shape, leaf.dtype) for leaf in leaves]


def _run(model: Any, loop: _Loop, callbacks: Any, epochs: int, sync_every: int | None) -> None:
    """The epochs: compiled calls between progress updates, the weights back on the model."""
    import jax

    callbacks.on_train_begin()
    epoch_logs: dict[str, float] = {}
    steps, full_steps = loop.steps, loop.full_steps
    for epoch in range(epochs):
        model.reset_metrics()
        callbacks.on_epoch_begin(epoch)
        state = _jax_state(model)
        order = jax.device_put(np.random.permutation(loop.count).astype(np.int32))
        pending = None  # the last call's (last step, logs), shown once the next is queued
        first = 0
        for stop in _call_stops(epoch * steps, steps, STEPS_PER_EXECUTION, sync_every):
            if first < min(stop, full_steps):
                logs, state = loop.run_full(state, loop.x, loop.y, order, first,
                                            min(stop, full_steps))
            if stop > full_steps:
                logs, state = loop.run_tail(state, loop.x, loop.y, order)
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


def _call_stops(done: int, steps: int, per_call: int, sync_every: int | None) -> list[int]:
    """Where the compiled calls of one epoch end: every `per_call` steps, at the epoch's end,
    and after each step that makes the run's step count (`done` before this epoch) a multiple
    of `sync_every`."""
    stops = set(range(per_call, steps, per_call)) | {steps}
    if sync_every:
        first = sync_every - done % sync_every
        stops |= set(range(first, steps, sync_every))
    return sorted(stops)


def _on_device(array: np.ndarray) -> Any:
    """The array as a JAX array; on the CPU it shares the host memory (no second 188 MB copy of
    the training images) when the array is aligned, which `inputs.as_inputs` makes sure of."""
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
