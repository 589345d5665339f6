"""Polysemanticity in numbers: how many features share each node, how many nodes each feature
spreads over, read from the dictionary's unit-length decoder rows.

Feature f *uses node j strongly* when node j carries at least STRONG_SHARE of the feature's
direction: W_dec[f, j]^2 >= STRONG_SHARE (the squares of a unit row sum to 1, so a feature
uses at most 1 / STRONG_SHARE nodes strongly). A node used strongly by many features is
polysemantic: several patterns the dictionary tells apart all pass through it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dictionary import SparseDictionary

STRONG_SHARE = 0.05


@dataclass(frozen=True)
class Polysemanticity:
    share: float  # the threshold on W_dec[f, j]^2
    strong: np.ndarray  # bool (m, n): feature f uses node j strongly (dead features: never)
    features_per_node: np.ndarray  # int (n,)
    nodes_per_feature: np.ndarray  # int (m,)
    effective_nodes: np.ndarray  # (m,) 1 / sum_j W_dec[f, j]^4: 1 for one node, n for all alike

    def most_polysemantic(self, count: int) -> np.ndarray:
        """The `count` nodes used strongly by the most features, most first (ties: lower node)."""
        order = np.argsort(-self.features_per_node, kind="stable")
        return order[:count][self.features_per_node[order[:count]] > 0]

    def features_of(self, node: int, weights: np.ndarray) -> np.ndarray:
        """The features that use `node` strongly, largest |weight| first."""
        users = np.flatnonzero(self.strong[:, node])
        return users[np.argsort(-np.abs(weights[users, node]), kind="stable")]


def polysemanticity(dictionary: SparseDictionary, alive: np.ndarray,
                    share: float = STRONG_SHARE) -> Polysemanticity:
    """`alive`: bool (m,), the features that fire at all (a dead one's direction means nothing)."""
    squares = dictionary.w_dec.astype(np.float64) ** 2
    strong = (squares >= share) & np.asarray(alive, bool)[:, None]
    with np.errstate(divide="ignore"):
        effective = 1 / (squares ** 2).sum(axis=1)
    return Polysemanticity(share, strong, strong.sum(axis=0), strong.sum(axis=1),
                           effective.astype(np.float32))
