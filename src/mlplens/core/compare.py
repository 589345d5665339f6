"""Two nets side by side: how alike their hidden layers are (linear CKA) and which node of one
corresponds to which node of the other (an assignment on activation correlation).

Everything comes from one streamed pass over the images that accumulates, in float64, the
cross-products of every hidden node of A with every hidden node of B (and of each layer with
itself): the feature-space form X^T Y of CKA, so memory grows with the layers' widths and never
with the number of images. Values are shifted by the first image's activations before they are
summed (the shifted-data algorithm), so subtracting the mean at the end loses no precision, and
a node that is constant on the images has a variance of exactly 0.

A constant node (a ReLU that never fires, say) has no activity to compare: its correlations are
0 and it is matched to nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import MlplensError
from ..memory import require
from .assignment import assignment
from .forward import as_inputs, batches, layer_output
from .stack import DenseStack

BATCH = 1024
# A node "matches nothing well" when its best counterpart in the other net's most similar layer
# correlates below this: r = 0.5 means that counterpart shares at most a quarter (r^2) of its
# variance, so most of what the node does is not done by any single node of the other net.
ALONE_BELOW = 0.5


@dataclass(frozen=True)
class LayerMatch:
    """Hidden layer `layer` of A against B's layer `other`, the one most like it (highest CKA)."""

    layer: int  # 1 = first Dense layer
    other: int
    nodes: np.ndarray  # int (n_a,): the node of B matched to each node of A, -1 for none
    correlations: np.ndarray  # float64 (n_a,): each matched pair's correlation, NaN for none


@dataclass(frozen=True)
class Comparison:
    """How two nets' hidden layers relate on the same images."""

    cka: np.ndarray  # float64 (hidden layers of A, hidden layers of B)
    correlation: np.ndarray  # float64 (hidden nodes of A, hidden nodes of B), layer by layer
    widths_a: tuple[int, ...]  # the hidden layers' widths
    widths_b: tuple[int, ...]
    live_a: np.ndarray  # bool per hidden node of A: not constant on the images
    live_b: np.ndarray
    matches: tuple[LayerMatch, ...]  # one per hidden layer of A
    images: int

    def block(self, layer_a: int, layer_b: int) -> np.ndarray:
        """Correlations between the nodes of hidden layer `layer_a` of A and `layer_b` of B."""
        return self.correlation[_span(self.widths_a, layer_a), _span(self.widths_b, layer_b)]

    def live(self, net: str, layer: int) -> np.ndarray:
        """Which nodes of `net`'s ("a" or "b") hidden layer vary on the images."""
        widths, live = (self.widths_a, self.live_a) if net == "a" else (self.widths_b,
                                                                         self.live_b)
        return live[_span(widths, layer)]

    def closest_layer(self, net: str, layer: int) -> int:
        """The other net's hidden layer with the highest CKA to `net`'s `layer`."""
        row = self.cka[layer - 1] if net == "a" else self.cka[:, layer - 1]
        return int(np.argmax(row)) + 1

    def best(self, net: str, layer: int) -> np.ndarray:
        """Per node of `net`'s hidden `layer`: its highest correlation with any node of the
        other net's closest layer (NaN for a constant node)."""
        other = self.closest_layer(net, layer)
        block = self.block(layer, other) if net == "a" else self.block(other, layer).T
        best = block.max(axis=1) if block.shape[1] else np.zeros(len(block))
        return np.where(self.live(net, layer), best, np.nan)

    def alone(self, net: str, layer: int, below: float = ALONE_BELOW) -> np.ndarray:
        """The nodes of `net`'s hidden `layer` that no node of the other net's closest layer
        correlates with at `below` or more, least matched first: what only this net has."""
        best = self.best(net, layer)
        found = np.flatnonzero(best < below)  # NaN (constant nodes) compares False
        return found[np.argsort(best[found], kind="stable")]

    def to_json(self, below: float = ALONE_BELOW) -> dict:
        """compare.json's numbers: the CKA matrix, and per hidden layer of A (keys "1", ...) the
        B layer it matched, the node of B matched to each of its nodes (null for none), each
        pair's correlation, and both nets' nodes that match nothing well."""
        layers_a = range(1, len(self.widths_a) + 1)
        layers_b = range(1, len(self.widths_b) + 1)
        return {
            "images": self.images,
            "cka": [[round(float(value), 6) for value in row] for row in self.cka],
            "matched_layer": {str(m.layer): m.other for m in self.matches},
            "matches": {str(m.layer): [None if node < 0 else int(node) for node in m.nodes]
                        for m in self.matches},
            "correlations": {str(m.layer): [None if node < 0 else round(float(value), 6)
                                            for node, value in zip(m.nodes, m.correlations)]
                             for m in self.matches},
            "alone_below": below,
            "alone": {net: {str(k): self.alone(net, k, below).tolist() for k in layers}
                      for net, layers in (("a", layers_a), ("b", layers_b))},
            "constant": {net: {str(k): np.flatnonzero(~self.live(net, k)).tolist()
                               for k in layers}
                         for net, layers in (("a", layers_a), ("b", layers_b))},
        }


def _span(widths: Sequence[int], layer: int) -> slice:
    start = sum(widths[:layer - 1])
    return slice(start, start + widths[layer - 1])


def hidden_widths(stack: DenseStack) -> tuple[int, ...]:
    return stack.widths[:-1]


def check_comparable(a: DenseStack, b: DenseStack, name_a: str = "A",
                     name_b: str = "B") -> None:
    """Refuse, before any work, two nets that cannot be run on the same images or have no
    hidden layer to compare."""
    if (a.n_inputs, a.image_shape, a.channels, a.input_names) != \
            (b.n_inputs, b.image_shape, b.channels, b.input_names):
        raise MlplensError(f"{name_a} and {name_b} take different inputs ({_inputs(a)} and "
                           f"{_inputs(b)}): only nets that take the same inputs can be "
                           "compared")
    for name, stack in ((name_a, a), (name_b, b)):
        if len(stack.layers) < 2:
            raise MlplensError(f"{name} has no hidden layer to compare")


def _inputs(stack: DenseStack) -> str:
    if stack.is_tabular:
        return f"{stack.n_inputs} features"
    height, width = stack.image_shape
    return f"{height}x{width}" + (f"x{stack.channels}" if stack.channels > 1 else "") + " images"


def compare_bytes(a: DenseStack, b: DenseStack, batch_size: int = BATCH) -> int:
    """compare's peak: the float64 cross-products (A x B, and each layer with itself), the
    correlation matrix and its temporaries, a batch's forward passes as float32 and their hidden
    values as float64, and the largest assignment's cost matrices."""
    wide_a, wide_b = hidden_widths(a), hidden_widths(b)
    across = sum(wide_a) * sum(wide_b)
    within = sum(w * w for w in wide_a) + sum(w * w for w in wide_b)
    batch = batch_size * (2 * 4 * (a.n_inputs + sum(a.widths) + sum(b.widths))
                          + 8 * (sum(wide_a) + sum(wide_b)))
    largest = max(x * y for x in wide_a for y in wide_b) if wide_a and wide_b else 0
    return 8 * (4 * across + within + 3 * largest) + batch


def hidden_values(stack: DenseStack, images: np.ndarray) -> np.ndarray:
    """Every hidden node's activation for each image, layer after layer: float64 (n, nodes)."""
    values = as_inputs(stack, images)
    hidden = []
    for layer in stack.layers[:-1]:
        values = layer_output(layer, values @ layer.kernel + layer.bias)
        hidden.append(values)
    return np.concatenate(hidden, axis=1, dtype=np.float64)


class _Moments:
    """Running sums of shifted values and their cross-products, for centred moments."""

    def __init__(self, widths_a: Sequence[int], widths_b: Sequence[int]) -> None:
        self.widths_a, self.widths_b = tuple(widths_a), tuple(widths_b)
        self.count = 0
        self.shift_a = self.shift_b = np.empty(0)
        self.sum_a, self.sum_b = np.zeros(sum(widths_a)), np.zeros(sum(widths_b))
        self.across = np.zeros((sum(widths_a), sum(widths_b)))
        self.within_a = [np.zeros((w, w)) for w in widths_a]
        self.within_b = [np.zeros((w, w)) for w in widths_b]

    def add(self, values_a: np.ndarray, values_b: np.ndarray) -> None:
        if self.count == 0:
            self.shift_a, self.shift_b = values_a[0].copy(), values_b[0].copy()
        x, y = values_a - self.shift_a, values_b - self.shift_b
        self.count += len(x)
        self.sum_a += x.sum(axis=0)
        self.sum_b += y.sum(axis=0)
        self.across += x.T @ y
        for widths, within, z in ((self.widths_a, self.within_a, x),
                                  (self.widths_b, self.within_b, y)):
            for k, gram in enumerate(within, start=1):
                part = z[:, _span(widths, k)]
                gram += part.T @ part

    def centred(self) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """(A x B, A's layers with themselves, B's layers with themselves), centred: the sums
        of products of deviations from the mean."""
        mean_a, mean_b = self.sum_a / self.count, self.sum_b / self.count
        across = self.across - self.count * np.outer(mean_a, mean_b)
        within = []
        for widths, grams, mean in ((self.widths_a, self.within_a, mean_a),
                                    (self.widths_b, self.within_b, mean_b)):
            within.append([gram - self.count * np.outer(mean[_span(widths, k)],
                                                        mean[_span(widths, k)])
                           for k, gram in enumerate(grams, start=1)])
        return across, within[0], within[1]


def cka_from_moments(across: np.ndarray, within_a: Sequence[np.ndarray],
                     within_b: Sequence[np.ndarray]) -> np.ndarray:
    """Linear CKA of every pair of layers from their centred cross-products:
    ||X^T Y||_F^2 / (||X^T X||_F ||Y^T Y||_F). A layer constant on every image has CKA 0 with
    everything: it represents nothing."""
    widths_a = [len(gram) for gram in within_a]
    widths_b = [len(gram) for gram in within_b]
    norms_a = [np.linalg.norm(gram) for gram in within_a]
    norms_b = [np.linalg.norm(gram) for gram in within_b]
    cka = np.zeros((len(widths_a), len(widths_b)))
    for k in range(len(widths_a)):
        for m in range(len(widths_b)):
            scale = norms_a[k] * norms_b[m]
            if scale > 0:
                block = across[_span(widths_a, k + 1), _span(widths_b, m + 1)]
                cka[k, m] = float(np.sum(block * block)) / scale
    return cka


def linear_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Linear CKA of two activation matrices over the same n images, (n, p) and (n, q)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y):
        raise ValueError(f"CKA compares (n, p) and (n, q) activations, got {x.shape} and "
                         f"{y.shape}")
    moments = _Moments([x.shape[1]], [y.shape[1]])
    moments.add(x, y)
    return float(cka_from_moments(*moments.centred())[0, 0])


def correlations(across: np.ndarray, variance_a: np.ndarray,
                 variance_b: np.ndarray) -> np.ndarray:
    """Pearson correlation of every node of A with every node of B from their centred
    cross-products and variances (sums of squared deviations); 0 with a constant node."""
    scale_a = np.where(variance_a > 0, np.sqrt(np.maximum(variance_a, 0)), np.inf)
    scale_b = np.where(variance_b > 0, np.sqrt(np.maximum(variance_b, 0)), np.inf)
    return np.clip(across / scale_a[:, None] / scale_b[None, :], -1.0, 1.0)


def match_nodes(correlation: np.ndarray, live_a: np.ndarray,
                live_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The one-to-one pairing of A's and B's nodes with the largest total correlation (of the
    varying nodes only): per node of A, its node of B (-1 for none) and their correlation."""
    nodes = np.full(len(correlation), -1)
    rows, columns = np.flatnonzero(live_a), np.flatnonzero(live_b)
    if len(rows) and len(columns):
        picked_rows, picked_columns = assignment(-correlation[np.ix_(rows, columns)])
        nodes[rows[picked_rows]] = columns[picked_columns]
    matched = nodes >= 0
    values = np.full(len(correlation), np.nan)
    values[matched] = correlation[np.flatnonzero(matched), nodes[matched]]
    return nodes, values


def compare(a: DenseStack, b: DenseStack, images: np.ndarray, *,
            batch_size: int = BATCH) -> Comparison:
    """Compare two nets that take the same inputs on the same images (brightness, as for every
    method; each net converts them to its own pixel scale): linear CKA between every hidden
    layer of A and every hidden layer of B, and for each hidden layer of A a one-to-one
    matching of its nodes to those of B's layer with the highest CKA."""
    check_comparable(a, b)
    images = np.asarray(images)
    if len(images) < 2:
        raise MlplensError(f"comparing needs at least 2 images, got {len(images)}")
    if images[0].size != a.n_inputs:
        raise MlplensError(f"the images have {images[0].size} values each but the nets take "
                           f"{a.n_inputs}")
    require(compare_bytes(a, b, batch_size), f"comparing {a.describe()} with {b.describe()}")
    widths_a, widths_b = hidden_widths(a), hidden_widths(b)
    moments = _Moments(widths_a, widths_b)
    for part in batches(len(images), batch_size):
        moments.add(hidden_values(a, images[part]), hidden_values(b, images[part]))
    across, within_a, within_b = moments.centred()
    cka = cka_from_moments(across, within_a, within_b)
    variance_a = np.concatenate([np.diag(gram) for gram in within_a])
    variance_b = np.concatenate([np.diag(gram) for gram in within_b])
    correlation = correlations(across, variance_a, variance_b)
    del across
    live_a, live_b = variance_a > 0, variance_b > 0
    matches = []
    for layer in range(1, len(widths_a) + 1):
        other = int(np.argmax(cka[layer - 1])) + 1
        rows, columns = _span(widths_a, layer), _span(widths_b, other)
        nodes, values = match_nodes(correlation[rows, columns], live_a[rows], live_b[columns])
        matches.append(LayerMatch(layer, other, nodes, values))
    return Comparison(cka, correlation, widths_a, widths_b, live_a, live_b, tuple(matches),
                      len(images))
