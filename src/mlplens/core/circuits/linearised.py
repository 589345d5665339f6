"""The net linearised at one input: what circuits and contributions decompose.

At an input x every activation is frozen to its gate, a(z) = offset + slope * z with the slope
and offset of `activations.gate` at this z (for ReLU the on/off pattern and 0: the article's
case), and every LayerNorm to its scale, y = scale / sigma * (z - mean(z)) + offset with sigma
fixed at this x. Each layer is then affine in its input and equal to the real layer at x, so
the logit is exactly what the pixels, the biases and these offsets push through the frozen net.
"""

from __future__ import annotations

import numpy as np

from ..activations import HEADS_ONLY, activate, gate
from ..forward import layer_backward
from ..stack import DenseLayer


def _centred_transpose(upstream: np.ndarray, scale: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """The transpose of the frozen LayerNorm's linear part, v -> scale / sigma * (v - mean v),
    applied to `upstream`: it is symmetric up to the scale, so (u s - mean(u s)) / sigma."""
    scaled = upstream * scale
    return (scaled - scaled.mean(axis=-1, keepdims=True)) / sigma


def frozen_backward(layer: DenseLayer, pre: np.ndarray,
                    upstream: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Through `layer` frozen at its pre-activations `pre`, for `upstream` = d out / d nodes:
    (d out / d pre in the frozen layer, per node what the layer's constant terms add to out).

    The constant of node j is its activation offset (and LayerNorm offset); a hidden softmax,
    which has no gate, passes its exact Jacobian and adds no constant.
    """
    norm = layer.norm
    if layer.activation in HEADS_ONLY:
        return layer_backward(layer, pre, upstream), np.zeros_like(upstream)
    if norm is None:
        slope, offset = gate(pre, layer.activation)
        return upstream * slope, upstream * offset
    scale, shift = norm.scale.astype(np.float64), norm.offset.astype(np.float64)
    if layer.norm_after:
        slope, offset = gate(pre, layer.activation)
        sigma = norm.sigma(activate(pre, layer.activation))
        constant = scale / sigma * (offset - offset.mean(axis=-1, keepdims=True)) + shift
        return _centred_transpose(upstream, scale, sigma) * slope, upstream * constant
    sigma = norm.sigma(pre)
    slope, offset = gate(norm.apply(pre), layer.activation)
    return _centred_transpose(upstream * slope, scale, sigma), upstream * (slope * shift + offset)
