"""What the sanity checks of a picture method measure: does a method's picture reflect what the
network learned, rather than the method's own bias?

- Model randomisation (Adebayo et al. 2018): re-initialise layers, cascading from the output
  down and each alone, redraw, and measure how alike the pictures stay to the trained ones.
- Data randomisation: the same architecture trained on shuffled labels; its pictures should not
  look like the trained net's.
- Deletion and insertion: the output pictures' pixel order against a random order and the mean
  image's order.
- Fidelity: the `gradient` method's cosine between the article's `linear` picture and the exact
  one, for the `linear` row.

The numbers only: the verdicts they support are in `figures.verdicts`, the loop over every
registered method in `figures.check_methods`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..forward import as_inputs
from ..normalization import normalize
from ..projection import Projection
from ..stack import DenseStack
from .deletion import Curves, curves, order_of
from .randomization import Randomization, randomizations, randomized
from .similarity import spearman_abs, ssim


@dataclass(frozen=True)
class Similarity:
    """Per drawn layer (1 = first Dense layer), the median over nodes of each measure."""

    spearman: dict[int, float]
    ssim: dict[int, float]

    @property
    def output(self) -> tuple[float, float]:
        last = max(self.spearman)
        return self.spearman[last], self.ssim[last]


@dataclass
class MethodChecks:
    """Everything one method's checks found; `None` where a check does not apply."""

    method: str
    trained: Projection
    steps: list[Randomization] = field(default_factory=list)
    redrawn: list[Projection] = field(default_factory=list)
    similarity: list[Similarity] = field(default_factory=list)  # one per step
    shuffled: Projection | None = None
    data_similarity: Similarity | None = None
    deletion: dict[str, Curves] = field(default_factory=dict)  # "picture", "random", "mean image"
    fidelity: float | None = None


def _pictures(rows: np.ndarray, normalization: str, shape: tuple[int, ...]) -> np.ndarray:
    """Rows as the user sees them, scaled to [0, 1], for SSIM."""
    return normalize(rows, normalization).pixels.reshape(-1, *shape) / 255.0


def similarity(a: Projection, b: Projection, normalization: str,
               shape: tuple[int, ...]) -> Similarity:
    """How alike two projections of one method are, per layer both drew (median over nodes;
    a constant picture, which has no ranking, is left out)."""
    spearman, structure = {}, {}
    for index, (left, right) in enumerate(zip(a.layers, b.layers), start=1):
        if left.size == 0 or right.size == 0:
            continue
        ranks = spearman_abs(left, right)
        spearman[index] = float(np.nanmedian(ranks)) if np.isfinite(ranks).any() else np.nan
        structure[index] = float(np.median(ssim(_pictures(left, normalization, shape),
                                                _pictures(right, normalization, shape))))
    return Similarity(spearman, structure)


Draw = Callable[[DenseStack], Projection]


def model_randomization(stack: DenseStack, method: str, normalization: str, draw: Draw,
                        trained: Projection, seed: int = 0,
                        progress: Callable[[int, int], None] | None = None) -> MethodChecks:
    """Redraw `stack` with each randomisation step and compare with the trained pictures (both
    shown with the method's `normalization`)."""
    found = MethodChecks(method, trained)
    steps = randomizations(len(stack.layers))
    for done, step in enumerate(steps, start=1):
        redrawn = draw(randomized(stack, step.layers, seed))
        found.steps.append(step)
        found.redrawn.append(redrawn)
        found.similarity.append(similarity(trained, redrawn, normalization, stack.picture_shape))
        if progress:
            progress(done, len(steps))
    return found


@dataclass(frozen=True)
class DeletionSet:
    """The test images of the deletion check: a few of each class, and the baselines' orders."""

    inputs: np.ndarray  # float32 rows in [0, 1]
    classes: np.ndarray
    random_orders: np.ndarray
    mean_order: np.ndarray


def deletion_set(stack: DenseStack, images: np.ndarray, labels: np.ndarray, per_class: int,
                 classes: int, seed: int = 0) -> DeletionSet:
    """The first `per_class` images of each class; one seeded random order per image; the mean
    order ranks pixels by the mean of all the given images (where digits usually write)."""
    labels = np.asarray(labels)
    chosen = np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(classes)])
    inputs = as_inputs(stack, np.asarray(images)[chosen])
    rng = np.random.default_rng(seed)
    pixels = inputs.shape[1]
    random_orders = np.stack([rng.permutation(pixels) for _ in chosen])
    return DeletionSet(inputs, labels[chosen], random_orders,
                       order_of(as_inputs(stack, np.asarray(images)).mean(axis=0)))


def deletion_check(stack: DenseStack, output_rows: np.ndarray, found: DeletionSet,
                   steps: int = 28) -> dict[str, Curves]:
    """Curves for the pictures' order (each image ordered by its class's output picture), a
    random order and the mean image's order."""
    picture_orders = np.stack([order_of(output_rows[c]) for c in found.classes])
    mean_orders = np.broadcast_to(found.mean_order, found.random_orders.shape)
    return {name: curves(stack, found.inputs, found.classes, orders, steps)
            for name, orders in (("picture", picture_orders), ("random", found.random_orders),
                                 ("mean image", mean_orders))}
