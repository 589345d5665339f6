"""How much each hidden node pushes the current prediction (pure NumPy).

The explorer's page recomputes the same numbers live in JavaScript; tests hold the two together.
"""

from __future__ import annotations

import numpy as np

from ..forward import layer_output, pre_activations
from ..stack import DenseStack
from .linearised import frozen_backward


def contributions(stack: DenseStack, inputs: np.ndarray,
                  target: np.ndarray | None = None) -> list[np.ndarray]:
    """How much each hidden node pushes the logit of the predicted (or `target`) class.

    For hidden layer k and node j: a_kj * d z_c / d a_kj, where z_c is the output layer's
    pre-activation (logit) of class c and a_kj the node's activation. For the last hidden layer
    this is a_j * W_L[j, c], the node's exact share of the logit. Below it, d z_c / d a_kj is
    taken in the net linearised at each input (`linearised`; for ReLU the true gradient), as
    circuits take it. Float64; one (n, n_k) array per hidden layer, first layer first (the
    output layer has none).
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
        post = layer_output(layer, pres[k])
        result.append(post * grad)
        if k > 0:
            grad = frozen_backward(layer, pres[k], grad)[0] @ layer.kernel.astype(np.float64).T
    return result[::-1]
