"""Accuracy as a layer's nodes are removed by each importance score (`mlplens prune`): if the
contribution score means something, removing its least important nodes first must cost less
accuracy than removing by weight norm, and far less than removing at random."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..core import heads
from ..core.circuits.importance import contribution_score, hidden_layer, random_score, weight_score
from ..core.circuits.intervene import pruning_curves, removal_counts
from ..core.stack import DenseStack
from ..output import save_figure, write_json
from ..render.charts import pruning_figure


def pruning_data(stack: DenseStack, score_images: np.ndarray, images: np.ndarray,
                 labels: np.ndarray, layers: Sequence[int], steps: int = 20,
                 seed: int = 0, class_names: Sequence[str] | None = None) -> dict:
    """Per hidden layer: the fractions removed and each score's accuracies (pruning.json),
    with the names of the classes the accuracy is over."""
    result = []
    for layer in layers:
        hidden_layer(stack, layer)
        units = stack.widths[layer - 1]
        scores = {"contribution": contribution_score(stack, layer, score_images),
                  "weight": weight_score(stack, layer),
                  "random": random_score(stack, layer, seed + layer)}
        counts = removal_counts(units, steps)
        curves = pruning_curves(stack, images, labels, layer, scores, counts)
        result.append({"layer": layer, "units": units, "removed": counts.tolist(),
                       "fractions": (counts / units).tolist(),
                       "accuracy": {name: values.tolist() for name, values in curves.items()}})
    return {"model": stack.describe(), "score_images": len(score_images),
            "test_images": len(images), "seed": seed,
            "class_names": list(heads.class_names(stack, class_names)),
            "scores": {"contribution": "mean |activation x d logit/d activation| (predicted "
                                       "class) over the score images",
                       "weight": "|incoming weights| x |outgoing weights| (L2 norms)",
                       "random": "a seeded random order"},
            "order": "lowest score removed first; a removed node's activation is set to 0",
            **_measure(stack), "layers": result}


def _measure(stack: DenseStack) -> dict[str, str]:
    """What the curves measure when it is not accuracy (`heads.score_name`): a regression's
    mean absolute error, a multilabel head's accuracy per label."""
    name = heads.score_name(stack)
    return {} if name == "accuracy" else {"measure": name}


def write_pruning(stack: DenseStack, score_images: np.ndarray, images: np.ndarray,
                  labels: np.ndarray, out: str | os.PathLike[str], layers: Sequence[int],
                  steps: int = 20, seed: int = 0, class_names: Sequence[str] | None = None
                  ) -> tuple[list[Path], dict]:
    """pruning.json and pruning.png."""
    data = pruning_data(stack, score_images, images, labels, layers, steps, seed, class_names)
    panels = [(f"Layer {entry['layer']} ({entry['units']} nodes)",
               np.array(entry["fractions"]),
               {name: np.array(values) for name, values in entry["accuracy"].items()})
              for entry in data["layers"]]
    measure = heads.score_name(stack)
    figure = pruning_figure(panels, f"Removing nodes of {stack.describe()}: {measure} on "
                                    f"{len(images):,} test images", measure)
    out = Path(out)
    return [write_json(out / "pruning.json", data),
            save_figure(figure, out / "pruning.png")], data
