"""Per-node numbers for the explorer, pure NumPy: what a node does on real data, and how much
it pushes the current prediction.

Both are computed with `mlplens.forward`, and the page's JavaScript recomputes the contribution
live; tests hold the two to each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..forward import activate, as_inputs, batches, pre_activations
from ..stack import DenseStack


@dataclass(frozen=True)
class NodeStats:
    """One layer's nodes on a reference set of images (n_k nodes, C classes)."""

    active: np.ndarray  # float32 (n_k,): fraction of images with pre-activation z > 0
    mean: np.ndarray  # float32 (n_k,): mean activation
    class_mean: np.ndarray  # float32 (n_k, C): mean activation over the images of each class
    scale: float  # 99th percentile of |activation| over nodes and images: the colour scale

    @property
    def top_class(self) -> np.ndarray:
        """The class whose images drive each node hardest on average."""
        return self.class_mean.argmax(axis=1)


def node_statistics(stack: DenseStack, images: np.ndarray, labels: np.ndarray,
                    n_classes: int = 10, batch_size: int = 1000) -> list[NodeStats]:
    """Every layer's NodeStats on uint8 images (n, H, W) with integer labels, first layer first."""
    labels = np.asarray(labels).astype(np.intp)
    count = len(images)
    if count == 0:
        raise ValueError("node statistics need at least one image")
    widths = stack.widths
    active = [np.zeros(n) for n in widths]
    sums = [np.zeros((n_classes, n)) for n in widths]
    values: list[list[np.ndarray]] = [[] for _ in widths]
    for part in batches(count, batch_size):
        onehot = np.eye(n_classes)[labels[part]]  # (b, C)
        for k, pre in enumerate(pre_activations(stack, as_inputs(images[part]))):
            post = activate(pre, stack.layers[k].activation).astype(np.float64)
            active[k] += (pre > 0).sum(axis=0)
            sums[k] += onehot.T @ post
            values[k].append(np.abs(post).ravel())
    per_class = np.bincount(labels, minlength=n_classes).astype(np.float64)
    result = []
    for k in range(len(widths)):
        with np.errstate(invalid="ignore", divide="ignore"):
            class_mean = np.where(per_class[:, None] > 0, sums[k] / per_class[:, None], 0.0)
        scale = float(np.percentile(np.concatenate(values[k]), 99))
        result.append(NodeStats(active=(active[k] / count).astype(np.float32),
                                mean=(sums[k].sum(axis=0) / count).astype(np.float32),
                                class_mean=class_mean.T.astype(np.float32),
                                scale=scale if scale > 0 else 1.0))
    return result


def _backward(values: np.ndarray, pre: np.ndarray, activation: str) -> np.ndarray:
    """Vector-Jacobian product through an activation: d/dz of (values · activation(z))."""
    if activation == "relu":
        return values * (pre > 0)
    if activation == "linear":
        return values
    post = activate(pre, activation)
    if activation == "sigmoid":
        return values * post * (1 - post)
    if activation == "tanh":
        return values * (1 - post * post)
    if activation == "softmax":
        return post * (values - (values * post).sum(axis=-1, keepdims=True))
    raise ValueError(f"unknown activation {activation!r}")


def contributions(stack: DenseStack, inputs: np.ndarray,
                  target: np.ndarray | None = None) -> list[np.ndarray]:
    """How much each hidden node pushes the logit of the predicted (or `target`) class.

    For hidden layer k and node j: a_kj * d z_c / d a_kj, where z_c is the output layer's
    pre-activation (logit) of class c and a_kj the node's activation. For the last hidden layer
    this is a_j * W_L[j, c], the node's exact share of the logit. Float64; one (n, n_k) array per
    hidden layer, first layer first (the output layer has none).
    """
    inputs = np.asarray(inputs, dtype=np.float32)
    pres = [p.astype(np.float64) for p in pre_activations(stack, inputs)]
    if target is None:
        target = pres[-1].argmax(axis=1)
    target = np.asarray(target).astype(np.intp)
    result: list[np.ndarray] = []
    # gradient of z_c with respect to the activations of the layer below the output
    grad = stack.layers[-1].kernel.astype(np.float64)[:, target].T  # (n, n_{L-1})
    for k in range(len(stack.layers) - 2, -1, -1):
        layer = stack.layers[k]
        post = activate(pres[k], layer.activation)
        result.append(post * grad)
        if k > 0:
            grad = _backward(grad, pres[k], layer.activation) @ \
                layer.kernel.astype(np.float64).T
    return result[::-1]
