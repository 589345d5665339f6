"""Training a top-k sparse autoencoder on one layer's activations, in plain JAX.

Plain JAX rather than Keras: the model is three matrices and a top-k, and the loop (seeded
minibatches, Adam written out, unit-norm decoder rows after every step) is shorter than the
Keras layers it would need. Initialisation and batch order come from NumPy's seeded generator,
so a run is reproducible bit for bit on one machine.

The activations are scaled to a mean squared norm of n (their width) while training, so one
learning rate suits every layer; the scale is folded back into the biases at the end (top-k and
ReLU commute with a positive scale), so the dictionary returned works on raw activations and its
feature activations are in the layer's own units.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.features.dictionary import SparseDictionary, check_layer, layer_activations
from ..core.stack import DenseStack
from ..errors import MlplensError


@dataclass(frozen=True)
class Schedule:
    """How long and how fast: a fixed number of steps, so the time does not depend on the data."""

    steps: int = 3000
    batch_size: int = 512
    learning_rate: float = 2e-3
    seed: int = 0


def _initial(activations: np.ndarray, size: int, rng: np.random.Generator
             ) -> dict[str, np.ndarray]:
    """Decoder rows that are real images' centred activations, the encoder their transpose:
    every feature starts out firing on at least one image, so few start dead; b_dec the mean
    activation."""
    count, width = activations.shape
    mean = activations.mean(axis=0)
    rows = rng.choice(count, size, replace=size > count)
    w_dec = (activations[rows] - mean + 1e-3 * rng.standard_normal((size, width))
             ).astype(np.float32)
    w_dec /= np.linalg.norm(w_dec, axis=1, keepdims=True)
    return {"w_enc": np.ascontiguousarray(w_dec.T), "b_enc": np.zeros(size, np.float32),
            "w_dec": w_dec, "b_dec": mean.astype(np.float32)}


def _step_function(k: int, learning_rate: float) -> Callable[..., Any]:
    import jax
    import jax.numpy as jnp

    def reconstruction_loss(params: dict[str, Any], batch: Any) -> Any:
        pre = jax.nn.relu((batch - params["b_dec"]) @ params["w_enc"] + params["b_enc"])
        values, chosen = jax.lax.top_k(pre, k)
        rebuilt = jnp.einsum("bk,bkn->bn", values, params["w_dec"][chosen]) + params["b_dec"]
        return jnp.mean(jnp.sum((rebuilt - batch) ** 2, axis=1))

    beta1, beta2, epsilon = 0.9, 0.999, 1e-8

    @jax.jit
    def step(params: dict[str, Any], moments: dict[str, Any], count: Any, data: Any,
             rows: Any) -> tuple[Any, Any, Any]:
        loss, grads = jax.value_and_grad(reconstruction_loss)(params, data[rows])
        first = jax.tree.map(lambda m, g: beta1 * m + (1 - beta1) * g, moments["first"], grads)
        second = jax.tree.map(lambda v, g: beta2 * v + (1 - beta2) * g * g, moments["second"],
                              grads)
        rate = learning_rate * jnp.sqrt(1 - beta2 ** count) / (1 - beta1 ** count)
        params = jax.tree.map(lambda p, m, v: p - rate * m / (jnp.sqrt(v) + epsilon), params,
                              first, second)
        w_dec = params["w_dec"]
        params = {**params, "w_dec": w_dec / jnp.linalg.norm(w_dec, axis=1, keepdims=True)}
        return params, {"first": first, "second": second}, loss

    return step


def train_dictionary(activations: np.ndarray, layer: int, size: int, k: int,
                     schedule: Schedule = Schedule(),
                     progress: Callable[[int, int], None] | None = None) -> SparseDictionary:
    """A dictionary of `size` features, `k` active per image, for activations (N, n)."""
    import jax.numpy as jnp

    activations = np.asarray(activations, np.float32)
    count, width = activations.shape
    if count == 0:
        raise MlplensError("no activations to learn a dictionary from")
    if not 1 <= k <= size:
        raise MlplensError(f"--k must be within 1-{size} (the dictionary's size), got {k}")
    scale = float(np.sqrt(np.mean(np.sum(activations.astype(np.float64) ** 2, axis=1)) / width))
    scale = scale or 1.0
    rng = np.random.default_rng(schedule.seed)
    params = {name: jnp.asarray(value)
              for name, value in _initial(activations / scale, size, rng).items()}
    moments = {"first": {name: jnp.zeros_like(value) for name, value in params.items()},
               "second": {name: jnp.zeros_like(value) for name, value in params.items()}}
    data = jnp.asarray(activations / np.float32(scale))
    step = _step_function(k, schedule.learning_rate)
    batch = min(schedule.batch_size, count)
    order = np.empty(0, np.int32)
    report_every = max(1, schedule.steps // 20)
    for done in range(1, schedule.steps + 1):
        if len(order) < batch:  # a fresh permutation each epoch; the last partial batch waits
            order = np.concatenate([order, rng.permutation(count).astype(np.int32)])
        rows, order = order[:batch], order[batch:]
        params, moments, _ = step(params, moments, jnp.float32(done), data, jnp.asarray(rows))
        if progress and (done % report_every == 0 or done == schedule.steps):
            progress(done, schedule.steps)
    learned = {name: np.asarray(value, np.float32) for name, value in params.items()}
    return SparseDictionary(layer=layer, w_enc=learned["w_enc"],
                            b_enc=learned["b_enc"] * np.float32(scale),
                            w_dec=learned["w_dec"], b_dec=learned["b_dec"] * np.float32(scale),
                            k=k)


def dictionary_bytes(width: int, n_inputs: int, size: int, batch_size: int) -> int:
    """About the peak of learning a dictionary of `size` features for a `width`-wide layer and
    drawing it: both weight matrices with their gradients and Adam's two moments (eight
    copies), a batch's codes and their gradients, and the features' pictures in input space."""
    return 4 * size * (8 * width + 4 * batch_size + 3 * n_inputs)


def learn_features(stack: DenseStack, layer: int, images: np.ndarray, size: int | None = None,
                   k: int = 32, schedule: Schedule = Schedule(),
                   progress: Callable[[int, int], None] | None = None) -> SparseDictionary:
    """A dictionary of hidden layer `layer` of `stack`, learned from its activations on
    `images` (the training set); `size` defaults to 4 times the layer's width."""
    check_layer(stack, layer)
    size = size or 4 * stack.widths[layer - 1]
    return train_dictionary(layer_activations(stack, layer, images), layer, size, k, schedule,
                            progress)
