"""A sparse dictionary (sparse autoencoder) of one hidden layer: its features, in NumPy.

A layer's activations a (n values per image) are written as a sparse sum of feature directions:
f = TopK(ReLU((a - b_dec) W_enc + b_enc)) and a ≈ f W_dec + b_dec, every row of W_dec (a
feature's direction among the layer's nodes) of unit length. Training lives in
`mlplens.training.sparse_autoencoder`; everything that reads a trained dictionary is here, so
the numbers it reports come from the same NumPy as every other number mlplens shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import MlplensError
from ..activations import HEADS_ONLY
from ..forward import as_inputs, batches, layer_output
from ..stack import DenseLayer, DenseStack


@dataclass(frozen=True)
class SparseDictionary:
    """m features of hidden layer `layer` (1 = first Dense layer), whose width is n."""

    layer: int
    w_enc: np.ndarray  # float32 (n, m)
    b_enc: np.ndarray  # float32 (m,)
    w_dec: np.ndarray  # float32 (m, n), unit rows: each feature's direction among the nodes
    b_dec: np.ndarray  # float32 (n,)
    k: int  # features kept per image (top-k sparsity)

    def __post_init__(self) -> None:
        n, m = self.w_enc.shape
        if self.w_dec.shape != (m, n) or self.b_enc.shape != (m,) or self.b_dec.shape != (n,):
            raise MlplensError(f"a sparse dictionary's arrays disagree in shape: W_enc "
                               f"{self.w_enc.shape}, b_enc {self.b_enc.shape}, W_dec "
                               f"{self.w_dec.shape}, b_dec {self.b_dec.shape}")
        if not 1 <= self.k <= m:
            raise MlplensError(f"k must be within 1-{m}, got {self.k}")

    @property
    def size(self) -> int:
        """How many features (m)."""
        return int(self.w_enc.shape[1])

    @property
    def width(self) -> int:
        """How many nodes the layer has (n)."""
        return int(self.w_enc.shape[0])

    def pre_activations(self, activations: np.ndarray) -> np.ndarray:
        """(a - b_dec) W_enc + b_enc: what activation maximisation pushes up."""
        return (np.asarray(activations, np.float32) - self.b_dec) @ self.w_enc + self.b_enc

    def encode(self, activations: np.ndarray) -> np.ndarray:
        """Feature activations (N, m): the k largest positive pre-activations per image, the
        rest 0 (ties broken towards the lower feature number)."""
        pre = np.maximum(self.pre_activations(activations), 0)
        if self.k < self.size:
            drop = np.argsort(-pre, axis=1, kind="stable")[:, self.k:]
            np.put_along_axis(pre, drop, 0, axis=1)
        return pre

    def decode(self, features: np.ndarray) -> np.ndarray:
        return np.asarray(features, np.float32) @ self.w_dec + self.b_dec

    def encoder_layer(self) -> DenseLayer:
        """The encoder as a Dense ReLU layer over the layer's activations (b_dec folded into the
        bias): stacked on the net, it makes each feature's pre-activation a node's."""
        bias = self.b_enc - self.b_dec @ self.w_enc
        return DenseLayer(self.w_enc, bias.astype(np.float32), "relu", "features")


def check_layer(stack: DenseStack, layer: int) -> None:
    """Dictionaries are of hidden layers whose activations (and those below) have an
    elementwise derivative, so that input-gradients can pass through them."""
    depth = len(stack.layers)
    if depth < 2:
        raise MlplensError("the model has no hidden layer to learn features of")
    if not 1 <= layer < depth:
        raise MlplensError(f"--layer must be a hidden layer, 1-{depth - 1} (layer {depth} is "
                           f"the output layer), got {layer}")
    for index, dense in enumerate(stack.layers[:layer], start=1):
        if dense.activation in HEADS_ONLY:
            raise MlplensError(f"layer {index} ({dense.name}) applies {dense.activation}, which "
                               "has no elementwise derivative: its features cannot be traced "
                               "to pixels")


def feature_stack(stack: DenseStack, dictionary: SparseDictionary) -> DenseStack:
    """The net up to the dictionary's layer with the encoder on top: node j of its last layer
    has feature j's pre-activation, so every per-node tool (activation maximisation) applies."""
    kept = stack.layers[:dictionary.layer]
    return DenseStack((*kept, dictionary.encoder_layer()), stack.image_shape, stack.channels,
                      stack.pixel_scale, stack.input_names)


def layer_activations(stack: DenseStack, layer: int, images: np.ndarray,
                      batch_size: int = 2048) -> np.ndarray:
    """What hidden layer `layer` passes on for each image: float32 (N, n)."""
    out = np.empty((len(images), stack.widths[layer - 1]), np.float32)
    for part in batches(len(images), batch_size):
        values = as_inputs(stack, images[part])
        for dense in stack.layers[:layer]:
            values = layer_output(dense, values @ dense.kernel + dense.bias)
        out[part] = values
    return out
