"""Deletion and insertion curves (pixel flipping): do the pixels a picture ranks highest drive
the output?

Deletion starts from a test image and sets pixels to 0 in the picture's order, highest value
first; insertion starts from a blank image and puts the image's pixels back in that order. After
each step the class's probability is read. A picture that ranks the pixels the network relies
on makes deletion fall fast (a small area under its curve) and insertion rise fast (a large one),
faster than a random order does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..forward import predict
from ..stack import DenseStack


@dataclass(frozen=True)
class Curves:
    """Class probability after each step, per image: (images, steps + 1), step 0 first."""

    deletion: np.ndarray
    insertion: np.ndarray

    @property
    def deletion_auc(self) -> float:
        return area(self.deletion)

    @property
    def insertion_auc(self) -> float:
        return area(self.insertion)


def area(curves: np.ndarray) -> float:
    """The mean over images of the trapezoidal area under probability vs fraction of pixels."""
    steps = curves.shape[1] - 1
    return float(((curves[:, :-1] + curves[:, 1:]) / 2).sum(axis=1).mean() / steps)


def order_of(values: np.ndarray) -> np.ndarray:
    """Pixel indices, highest value first (ties in pixel order, so results are reproducible)."""
    return np.argsort(-np.asarray(values, np.float64), kind="stable")


def changed_counts(pixels: int, steps: int) -> np.ndarray:
    """How many pixels are removed (or added) after each step 0..steps: even, rounded shares."""
    return np.round(np.linspace(0, pixels, steps + 1)).astype(np.intp)


def curves(stack: DenseStack, inputs: np.ndarray, classes: np.ndarray, orders: np.ndarray,
           steps: int = 28) -> Curves:
    """Deletion and insertion curves of each input (rows in [0, 1]) for its class, each
    changing pixels in its own order (one row of `orders` per input)."""
    inputs = np.asarray(inputs, np.float32)
    count, pixels = inputs.shape
    position = np.empty_like(orders)
    np.put_along_axis(position, orders, np.arange(pixels)[None, :].repeat(count, axis=0), axis=1)
    # changed[s, i, p]: pixel p of input i is changed after step s
    changed = position[None, :, :] < changed_counts(pixels, steps)[:, None, None]
    deleted = np.where(changed, 0, inputs[None]).reshape(-1, pixels)
    inserted = np.where(changed, inputs[None], 0).reshape(-1, pixels)
    picked = np.tile(np.asarray(classes), steps + 1)
    rows = np.arange(len(picked))
    deletion = predict(stack, deleted)[rows, picked].reshape(steps + 1, count).T
    insertion = predict(stack, inserted)[rows, picked].reshape(steps + 1, count).T
    return Curves(deletion.astype(np.float64), insertion.astype(np.float64))
