"""Every check for every registered method that can draw a network, in one call (`mlplens check`):
the loop over the methods around what `core.checks` measures."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.checks.measures import (DeletionSet, MethodChecks, deletion_check,
                                    model_randomization, similarity)
from ..core.checks.similarity import WINDOW
from ..core.projection import Fidelity, Projection
from ..core.stack import DenseStack
from ..errors import UnsuitableModel
from ..methods import METHODS, Method

Log = Callable[[str], None]
ProgressFor = Callable[[str], Callable[[int, int], None] | None]


@dataclass
class ChecksRun:
    """What `check_methods` found: one MethodChecks per method that could draw the net, and why
    each other method could not."""

    checks: list[MethodChecks] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def require_pictures(stack: DenseStack) -> None:
    """The checks compare a node's pictures (SSIM over a window) and delete pixels: a table's
    features, or images smaller than the window, cannot be checked; one line says so."""
    if stack.is_tabular:
        raise UnsuitableModel(f"the checks compare pictures and delete pixels; this model takes "
                              f"{stack.n_inputs} named features, not an image")
    if min(stack.image_shape) < WINDOW:
        height, width = stack.image_shape
        raise UnsuitableModel(f"the checks compare pictures with a {WINDOW}x{WINDOW} SSIM "
                              f"window; this model's {height}x{width} images are smaller")


def why_not(method: Method, stack: DenseStack, offered: dict[str, Any]) -> str | None:
    """Why `method` cannot be checked on `stack` with what is offered, or None."""
    if method.needs_data and offered.get("reference") is None:
        return "needs reference images"
    return method.unsuitable_for(stack)


def method_options(method: Method, stack: DenseStack, offered: dict[str, Any]) -> dict[str, Any]:
    """What the method takes of `offered`; a method drawn only at the output in overviews (too
    slow for every hidden node, redrawn here once per randomisation) draws only the output."""
    if method.layers == "output":
        offered = {**offered, "layers": [len(stack.layers)]}
    return method.accepted(offered)


def check_methods(stack: DenseStack, offered: dict[str, Any], deletion: DeletionSet | None,
                  shuffled: DenseStack | None = None, seed: int = 0,
                  methods: Iterable[Method] | None = None, log: Log = lambda _: None,
                  progress_for: ProgressFor = lambda _: None) -> ChecksRun:
    """Model randomisation, data randomisation (when a shuffled-label net is given) and
    deletion/insertion (when test images are given) for every method that can draw `stack`.

    `offered` holds every option the caller has (reference images and labels, maximisation
    steps, ...); each method takes those its signature names.
    """
    found = ChecksRun()
    for method in (METHODS.values() if methods is None else methods):
        reason = why_not(method, stack, offered)
        if reason:
            found.skipped[method.name] = reason
            continue
        options = method_options(method, stack, offered)

        def draw(net: DenseStack, method: Method = method,
                 options: dict[str, Any] = options) -> Projection:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                return method(net, **options)

        log(f"checks: {method.name}")
        trained = draw(stack)
        checks = model_randomization(stack, method.name, method.normalization, draw, trained,
                                     seed, progress_for(f"{method.name}, model randomisation:"))
        if shuffled is not None:
            checks.shuffled = draw(shuffled)
            checks.data_similarity = similarity(trained, checks.shuffled, method.normalization,
                                                stack.picture_shape)
        if deletion is not None:
            checks.deletion = deletion_check(stack, trained.layers[-1], deletion)
        found.checks.append(checks)
    _fidelity_to_judged(found.checks)
    return found


def _fidelity_to_judged(found: list[MethodChecks]) -> None:
    """A method's fidelity scores (e.g. gradient's cosine of the `linear` picture and the exact
    one) judge the pictures of the method they name: they join its row, as the output layer's
    median."""
    by_name = {checks.method: checks for checks in found}
    for checks in found:
        fidelity = checks.trained.extra(Fidelity)
        if fidelity is None or fidelity.of not in by_name:
            continue
        scores = np.asarray(fidelity.scores[-1], np.float64)
        if np.isfinite(scores).any():
            by_name[fidelity.of].fidelity = float(np.nanmedian(scores))
