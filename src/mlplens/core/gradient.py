"""The exact, data-conditioned picture of every node: its mean input-gradient over real images.

For a ReLU network the pre-activation z_k(x) is piecewise linear in x; on one input its
Jacobian is W_1 D_1(x) W_2 D_2(x) ... W_k with D_i(x) = diag(act_i'(z_i(x))) (a 0/1 mask for
ReLU). The article's picture is the same product with every D_i = I. The mean over a reference
set factors as W_1 · mean_x[D_1 W_2 ... D_{k-1} W_k]; the mean is accumulated batch by batch,
so memory is bounded by the batch size, never by the reference set.

A layer with a LayerNorm has a full (not diagonal) Jacobian J_i(x); for a net with one, each
D_i is that Jacobian and the products are taken through `layer_backward`, exactly, per image.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import MlplensError
from .forward import as_inputs, batches, derivative, layer_backward, pre_activations
from .stack import DenseStack


def _inner_sums(stack: DenseStack, masks: list[np.ndarray], layer: int,
                groups: np.ndarray | None, group_count: int) -> np.ndarray:
    """Sum over the batch of D_1 W_2 D_2 ... D_{k-1} W_k, per group: (groups, n_1, n_k).

    Walks down from W_k so every product is (n_{i-1} x n_i) by (n_i x n_k) per image: cheap
    for the narrow deep layers the article cares about. Layer 2's sum is D_1 W_2 summed, which
    is (how often each node of layer 1 fires) x W_2: no (batch, n_1, n_2) product is made, so
    wide first layers cost their weights, not a batch of copies of them.
    """
    kernels = stack.kernels
    if layer == 2:
        counts = _group_sums(masks[0], groups, group_count)
        return counts[:, :, None] * kernels[1].astype(np.float64)[None]
    batch = masks[0].shape[0]
    inner = np.broadcast_to(kernels[layer - 1], (batch, *kernels[layer - 1].shape))
    inner = inner * masks[layer - 2][:, :, None]
    for index in range(layer - 2, 0, -1):  # 0-based kernel index of W_{index+1}
        inner = np.einsum("pq,bqr->bpr", kernels[index], inner, optimize=True)
        inner = inner * masks[index - 1][:, :, None]
    return _group_sums(inner, groups, group_count)


def _exact_inner_sums(stack: DenseStack, pres: list[np.ndarray], layer: int,
                      groups: np.ndarray | None, group_count: int) -> np.ndarray:
    """`_inner_sums` for a net with LayerNorms: each D_i is layer i's Jacobian at each image,
    applied to the (batch, n_i, n_k) products by `layer_backward` (one VJP per column)."""
    kernels = stack.kernels
    batch = pres[0].shape[0]
    inner = np.broadcast_to(kernels[layer - 1], (batch, *kernels[layer - 1].shape))
    for index in range(layer - 1, 0, -1):  # through layer `index`, then W_index below it
        dense = stack.layers[index - 1]
        columns = layer_backward(dense, pres[index - 1][:, None, :], inner.transpose(0, 2, 1))
        inner = columns.transpose(0, 2, 1)
        if index > 1:
            inner = np.einsum("pq,bqr->bpr", kernels[index - 1], inner, optimize=True)
    return _group_sums(inner, groups, group_count)


def _group_sums(values: np.ndarray, groups: np.ndarray | None, group_count: int) -> np.ndarray:
    """Sums over the batch (first) axis, per group, in float64: (groups, *rest)."""
    if groups is None:
        return values.sum(axis=0, dtype=np.float64)[None]
    return np.stack([values[groups == group].sum(axis=0, dtype=np.float64)
                     for group in range(group_count)])


def mean_jacobians(stack: DenseStack, inputs: np.ndarray, labels: np.ndarray | None = None,
                   batch_size: int = 128,
                   progress: Callable[[int, int], None] | None = None) -> list[np.ndarray]:
    """Per layer k, the mean Jacobian rows (n_k, H*W) over `inputs` (N, H*W) floats.

    With `labels`, each array is (classes, n_k, H*W): the mean over the images of each class.
    """
    inputs = np.asarray(inputs)  # uint8 images or floats; converted a batch at a time
    if inputs.ndim != 2 or inputs.shape[1] != stack.n_inputs or len(inputs) == 0:
        raise MlplensError(f"reference images must be (N, {stack.n_inputs}) with N >= 1, got "
                           f"{inputs.shape}")
    count = len(inputs)
    if labels is not None:
        labels = np.asarray(labels)
        classes = int(labels.max()) + 1
        totals = np.bincount(labels, minlength=classes).astype(np.float64)
    else:
        classes, totals = 1, np.array([count], dtype=np.float64)
    depth = len(stack.layers)
    sums = [None] * depth
    done = 0
    for part in batches(count, batch_size):
        pre = pre_activations(stack, as_inputs(stack, inputs[part]))
        groups = labels[part] if labels is not None else None
        # Hidden layers only: the output layer's picture is of its logit, before any softmax.
        masks = [] if stack.has_norms else [derivative(z, layer.activation)
                                            for z, layer in zip(pre[:-1], stack.layers)]
        for layer in range(2, depth + 1):
            if stack.has_norms:
                batch_sum = _exact_inner_sums(stack, pre, layer, groups, classes)
            else:
                batch_sum = _inner_sums(stack, masks, layer, groups, classes)
            sums[layer - 1] = batch_sum if sums[layer - 1] is None else sums[layer - 1] + batch_sum
        done = part.stop
        if progress:
            progress(done, count)
    first = stack.kernels[0].astype(np.float64)
    result = []
    for layer in range(1, depth + 1):
        if layer == 1:
            rows = np.broadcast_to(first.T, (classes, *first.T.shape))
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                means = sums[layer - 1] / totals[:, None, None]
            means = np.nan_to_num(means)  # a class absent from the reference set: zeros
            rows = np.einsum("pi,gij->gjp", first, means, optimize=True)
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        result.append(rows if labels is not None else rows[0])
    return result


def fidelity(linear_rows: np.ndarray, gradient_rows: np.ndarray) -> np.ndarray:
    """Per node, cosine similarity of the article's picture and the exact one (NaN if either is 0)."""
    a = np.asarray(linear_rows, dtype=np.float64)
    b = np.asarray(gradient_rows, dtype=np.float64)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((a * b).sum(axis=1) / norms).astype(np.float32)


def mean_jacobians_bytes(stack: DenseStack, count: int, batch_size: int = 128,
                         groups: int = 1) -> int:
    """mean_jacobians' peak over `count` images (`groups` classes with labels): per batch the
    forward pass and, walking down to layer 1, the (batch, n_i, n_k) inner products (up to three
    alive); the float64 sums of every layer; at the end a layer's float64 means and rows."""
    n, widths = stack.n_inputs, stack.widths
    batch = min(batch_size, count)
    forward = 12 * batch * (n + sum(widths))
    # Layer 2 needs no batch of products (see _inner_sums), only its float64 sum; with
    # LayerNorms every layer's products are made, and a LayerNorm's backward step holds about
    # five of them at once.
    second = 8 * groups * widths[0] * widths[1] if len(widths) > 1 else 0
    first_product, factor = (1, 24) if stack.has_norms else (2, 12)
    inner = max([second] + [factor * batch * widths[k] * max(widths[:k])
                            for k in range(first_product, len(widths))])
    sums = 8 * groups * widths[0] * sum(widths[1:])
    final = 8 * n * widths[0] + 8 * groups * max(widths[1:], default=0) * (widths[0] + n)
    return 4 * groups * n * sum(widths) + sums + max(forward + inner, final)


def fidelity_bytes(stack: DenseStack) -> int:
    """fidelity's peak for the widest layer: both rows in float64 and their product."""
    return 24 * stack.n_inputs * max(stack.widths)
