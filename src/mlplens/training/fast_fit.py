"""Keras' fit on the JAX backend as compiled on-device loops (`fit_on_device`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..keras_backend import import_keras
from .inputs import ALIGNMENT


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
