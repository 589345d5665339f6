"""The circuit of one input: what every node, edge, pixel and bias adds to one logit.

For a net whose hidden layers are ReLU (or linear), fixing the on/off pattern of one input makes
the logit z_c a linear function of the input and the biases, so

    z_c = sum_i x_i dz_c/dx_i + sum_k sum_j b_kj dz_c/dz_kj

holds exactly: the decomposition is a fact about the net, not an approximation. Any other
activation, and LayerNorm, is decomposed in the net linearised at this input (`linearised`):
each activation frozen to its gate a(z) = offset + slope * z and each LayerNorm to its scale,
which adds one term per node, its offsets pushed through to z_c (zero for ReLU). Each hidden
node adds a_kj dz_c/da_kj (as `contributions` has it) and each edge i -> j into layer k adds
a_{k-1,i} W_k[i, j] dz_c/dz_kj; a node's outgoing edges sum to its contribution. Everything is
float64 so the identity can be checked to float precision.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import MlplensError
from ..forward import layer_output
from ..stack import DenseStack
from .linearised import frozen_backward


@dataclass(frozen=True)
class Attribution:
    """One input's contributions to the logit of class `target`, float64 throughout."""

    target: int
    logits: np.ndarray  # (n_L,) the output layer's pre-activations
    activations: tuple[np.ndarray, ...]  # a_0 (the input) ... a_{L-1} (last hidden layer)
    pre_gradients: tuple[np.ndarray, ...]  # dz_c/dz_k for layers k = 1..L (the last one-hot)
    kernels: tuple[np.ndarray, ...]  # W_1 ... W_L as float64
    # Per hidden layer k = 1..L-1: what its activation and LayerNorm offsets add to z_c per
    # node (all 0 for ReLU and linear layers without a LayerNorm); empty: none anywhere.
    node_offsets: tuple[np.ndarray, ...] = ()

    @property
    def logit(self) -> float:
        return float(self.logits[self.target])

    @property
    def pixels(self) -> np.ndarray:
        """x_i dz_c/dx_i per input pixel: what each pixel of the image adds."""
        return self.activations[0] * (self.kernels[0] @ self.pre_gradients[0])

    def nodes(self, layer: int) -> np.ndarray:
        """a_kj dz_c/da_kj for hidden layer `layer` (1 = first Dense layer)."""
        return self.activations[layer] * (self.kernels[layer] @ self.pre_gradients[layer])

    def biases(self, layer: int, stack: DenseStack) -> np.ndarray:
        """b_kj dz_c/dz_kj for layer `layer` (1..L)."""
        return stack.layers[layer - 1].bias.astype(np.float64) * self.pre_gradients[layer - 1]

    def offsets(self, layer: int) -> np.ndarray:
        """What hidden layer `layer`'s activation offsets (a(0), e.g. 1/2 for sigmoid) and
        LayerNorm offsets add to the logit, per node, in the net linearised at this input."""
        if not self.node_offsets:
            return np.zeros_like(self.activations[layer])
        return self.node_offsets[layer - 1]

    def edges(self, layer: int) -> np.ndarray:
        """(n_{k-1}, n_k): a_{k-1,i} W_k[i, j] dz_c/dz_kj for the edges into layer k = `layer`."""
        return (self.activations[layer - 1][:, None] * self.kernels[layer - 1]
                * self.pre_gradients[layer - 1][None, :])

    def input_edges(self) -> np.ndarray:
        """(n_1,): every pixel's edges into first-layer node j summed, the input as one source."""
        return (self.activations[0] @ self.kernels[0]) * self.pre_gradients[0]

    def conservation_error(self, stack: DenseStack) -> float:
        """|pixels + biases + offsets - logit|: zero to float precision for every net."""
        total = self.pixels.sum() + sum(self.biases(k, stack).sum()
                                        for k in range(1, len(stack.layers) + 1))
        total += sum(offsets.sum() for offsets in self.node_offsets)
        return float(abs(total - self.logit))


def attribute(stack: DenseStack, image: np.ndarray, target: int | None = None) -> Attribution:
    """Contributions of one input (any shape with H*W values in [0, 1]) to the logit of `target`
    (default: the predicted class)."""
    for layer in stack.layers[:-1]:
        if layer.activation in ("softmax", "log_softmax"):
            raise MlplensError("circuits need elementwise hidden activations; this net has a "
                               f"hidden {layer.activation} layer")
    values = np.asarray(image, dtype=np.float64).reshape(-1)
    kernels = tuple(k.astype(np.float64) for k in stack.kernels)
    activations, pres = [values], []
    for layer, kernel in zip(stack.layers, kernels):
        pre = activations[-1] @ kernel + layer.bias.astype(np.float64)
        pres.append(pre)
        if len(pres) < len(stack.layers):
            activations.append(layer_output(layer, pre))
    logits = pres[-1]
    if target is None:
        target = int(logits.argmax())
    if not 0 <= target < len(logits):
        raise MlplensError(f"class {target} is not an output of this net (0-{len(logits) - 1})")
    gradient = np.zeros_like(logits)
    gradient[target] = 1.0
    gradients, offsets = [gradient], []
    for k in range(len(stack.layers) - 2, -1, -1):
        upstream = kernels[k + 1] @ gradients[0]  # dz_c/da_k
        through, constant = frozen_backward(stack.layers[k], pres[k], upstream)
        gradients.insert(0, through)
        offsets.insert(0, constant)
    plain = all(layer.norm is None and layer.activation in ("relu", "linear")
                for layer in stack.layers[:-1])
    return Attribution(target, logits, tuple(activations), tuple(gradients), kernels,
                       () if plain else tuple(offsets))


def fewest_for_share(values: np.ndarray, keep: float) -> np.ndarray:
    """Indices of the fewest entries whose |values| sum to at least `keep` of the total, largest
    first. Taking the largest first is optimal: no smaller set reaches the share."""
    if not 0 < keep <= 1:
        raise MlplensError(f"the share to keep must be in (0, 1], got {keep}")
    magnitude = np.abs(np.asarray(values, dtype=np.float64)).reshape(-1)
    total = magnitude.sum()
    if total == 0:
        return np.array([], dtype=np.intp)
    order = np.argsort(-magnitude, kind="stable")
    running = np.cumsum(magnitude[order])
    count = int(np.searchsorted(running, keep * total * (1 - 1e-12))) + 1
    return order[:min(count, len(order))]


@dataclass(frozen=True)
class Circuit:
    """The pruned circuit: per hidden layer the kept nodes, per layer the kept edges into it.

    Nodes: the fewest per hidden layer keeping `keep` of its total |contribution|. Edges into
    layer k: among those whose ends are both kept (the input counts as one kept source, summed
    over its pixels; the output end is the target class), the fewest keeping `keep` of their
    total |contribution|.
    """

    attribution: Attribution
    keep: float
    nodes: tuple[np.ndarray, ...]  # kept node indices per hidden layer, largest |c| first
    edges: tuple[np.ndarray, ...]  # per layer k = 1..L: (m, 2) [source, target]; source -1 = input
    edge_values: tuple[np.ndarray, ...]  # (m,) their contributions
    node_shares: tuple[float, ...]  # share of |contribution| the kept nodes hold, per hidden layer
    edge_shares: tuple[float, ...]  # share of the candidate edges' |contribution| kept, per layer


def _share(kept: np.ndarray, values: np.ndarray) -> float:
    total = np.abs(values).sum()
    return float(np.abs(values[kept]).sum() / total) if total else 1.0


def prune(attribution: Attribution, keep: float = 0.9) -> Circuit:
    """The fewest nodes and edges that keep `keep` of each layer's absolute contribution."""
    hidden = len(attribution.activations) - 1
    nodes, node_shares = [], []
    for layer in range(1, hidden + 1):
        values = attribution.nodes(layer)
        kept = fewest_for_share(values, keep)
        nodes.append(kept)
        node_shares.append(_share(kept, values))
    ends = [np.array([-1])] + nodes + [np.array([attribution.target])]
    edges, edge_values, edge_shares = [], [], []
    for layer in range(1, hidden + 2):
        sources, targets = ends[layer - 1], ends[layer]
        if layer == 1:
            matrix = attribution.input_edges()[None, targets]
        else:
            matrix = attribution.edges(layer)[np.ix_(sources, targets)]
        kept = fewest_for_share(matrix, keep) if matrix.size else np.array([], dtype=np.intp)
        rows, columns = np.unravel_index(kept, matrix.shape)
        edges.append(np.stack([sources[rows], targets[columns]], axis=1).astype(np.intp))
        edge_values.append(matrix.reshape(-1)[kept])
        edge_shares.append(_share(kept, matrix.reshape(-1)) if matrix.size else 1.0)
    return Circuit(attribution, keep, tuple(nodes), tuple(edges), tuple(edge_values),
                   tuple(node_shares), tuple(edge_shares))
