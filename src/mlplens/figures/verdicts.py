"""The verdicts the sanity checks' numbers support: where a number turns into "pass" or "flagged"
(`THRESHOLDS`, documented in the README's checks section), one row per method. Every verdict comes
from the numbers `core.checks.measures` computes; nothing is written by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.checks.measures import MethodChecks

PASS, FLAGGED = "pass", "flagged"


@dataclass(frozen=True)
class Thresholds:
    """Where a number turns into a verdict (documented in the README's checks section)."""

    # Pictures "stay similar" when the median over output nodes of either measure exceeds this:
    # unrelated pictures score near 0 on both, a picture against itself 1.
    similar: float = 0.5
    # A picture's order must beat both baseline orders (random, and the mean image's) by this
    # much area (probability x fraction of pixels): less is within their spread on a few images
    # per class.
    margin: float = 0.02
    # The article's picture is faithful when its median cosine with the exact picture reaches this.
    fidelity: float = 0.9


THRESHOLDS = Thresholds()


def verdict_row(checks: MethodChecks, thresholds: Thresholds = THRESHOLDS) -> dict[str, Any]:
    """One row of the table: each check's numbers and the verdict they support."""
    row: dict[str, Any] = {"method": checks.method}
    cascade = [s for step, s in zip(checks.steps, checks.similarity) if step.cascading]
    alone = [s for step, s in zip(checks.steps, checks.similarity) if not step.cascading]
    if cascade:
        row["model_randomization"] = _similarity_verdict(*cascade[-1].output, thresholds)
    if alone:  # the single layer whose randomisation changes the pictures least
        row["independent_randomization"] = _similarity_verdict(
            *max((s.output for s in alone), key=lambda pair: np.nan_to_num(pair[0], nan=-1)),
            thresholds)
    if checks.data_similarity is not None:
        row["data_randomization"] = _similarity_verdict(*checks.data_similarity.output,
                                                        thresholds)
    if checks.deletion:
        picture, random = checks.deletion["picture"], checks.deletion["random"]
        mean_image = checks.deletion["mean image"]
        # The better baseline: a picture must know more than where digits usually write.
        row["deletion"] = {
            "auc": picture.deletion_auc, "random": random.deletion_auc,
            "mean_image": mean_image.deletion_auc,
            "verdict": PASS if picture.deletion_auc < min(
                random.deletion_auc, mean_image.deletion_auc) - thresholds.margin
            else FLAGGED}
        row["insertion"] = {
            "auc": picture.insertion_auc, "random": random.insertion_auc,
            "mean_image": mean_image.insertion_auc,
            "verdict": PASS if picture.insertion_auc > max(
                random.insertion_auc, mean_image.insertion_auc) + thresholds.margin
            else FLAGGED}
    if checks.fidelity is not None:
        row["fidelity"] = {"median": checks.fidelity,
                           "verdict": PASS if checks.fidelity >= thresholds.fidelity
                           else FLAGGED}
    return row


def _similarity_verdict(spearman: float, structure: float,
                        thresholds: Thresholds) -> dict[str, Any]:
    similar = max(np.nan_to_num(spearman, nan=0.0), np.nan_to_num(structure, nan=0.0))
    return {"spearman": spearman, "ssim": structure,
            "verdict": FLAGGED if similar > thresholds.similar else PASS}


def table(found: Sequence[MethodChecks], thresholds: Thresholds = THRESHOLDS) -> list[dict]:
    """One row per method."""
    return [verdict_row(checks, thresholds) for checks in found]
