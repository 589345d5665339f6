"""The sanity checks of every method on one net, written to a folder (`mlplens check`, and a
section of `mlplens reproduce`): checks.json, checks.md and the figures."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.checks.measures import MethodChecks, deletion_set
from ..core.heads import output_of_labels
from ..core.stack import DenseStack
from ..datasets import Dataset
from ..layout.views import layer_views
from ..output import save_figure, save_png, write_json, write_text
from ..progress import stderr_progress
from ..render import colormap_lut, node_mosaic, stacked
from ..render.colors import default_cmap
from .check_methods import ChecksRun, check_methods, require_pictures
from .layers import view_legend
from .outputs import Output, paths_of
from .verdicts import THRESHOLDS, table


@dataclass(frozen=True)
class CheckSettings:
    """How much of the data each check looks at: small enough for `reproduce` to stay quick."""

    reference: int = 500  # test images for the methods that look at data
    per_class: int = 10  # test images of each class for deletion and insertion
    maximize_steps: int = 100
    shuffled_samples: int = 5000  # training images of the shuffled-label net
    shuffled_epochs: int = 5
    seed: int = 0


# For `reproduce --quick` (the tests): a few images each, a short maximisation, a tiny
# shuffled-label net.
QUICK_SETTINGS = CheckSettings(reference=100, per_class=3, maximize_steps=20,
                               shuffled_samples=1000, shuffled_epochs=1)


@dataclass
class ChecksWritten:
    """What the checks wrote, their table and its Markdown (for reproduce's index.md)."""

    paths: list[Path] = field(default_factory=list)
    figures: list[Output] = field(default_factory=list)  # kind, path and caption of each
    rows: list[dict[str, Any]] = field(default_factory=list)
    markdown: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _stderr(message: str) -> None:
    print(f"mlplens: {message}", flush=True, file=sys.stderr)


def shuffled_net_reason(stack: DenseStack, data: Dataset) -> str | None:
    """Why the article's recipe cannot train a shuffled-label twin of `stack` on `data`, or
    None."""
    if len(data.class_names) != stack.widths[-1]:
        return (f"the net has {stack.widths[-1]} outputs but {data.name} has "
                f"{len(data.class_names)} classes")
    activations = [layer.activation for layer in stack.layers]
    if activations != ["relu"] * (len(activations) - 1) + ["softmax"]:
        return "the article's recipe trains relu hidden layers and a softmax output only"
    if stack.has_norms:
        return "the article's recipe trains no LayerNorm"
    return None


def train_shuffled(stack: DenseStack, mnist: Dataset, settings: CheckSettings) -> DenseStack:
    """The same architecture trained on shuffled labels: what memorising noise looks like.

    Seeded with seed + 1: a net started from the same weights as the trained one would share
    its untouched pixels (the borders, which no image inks) and look alike for that alone.
    """
    from ..training import train

    return train(stack.widths[:-1], settings.shuffled_samples, settings.shuffled_epochs,
                 seed=settings.seed + 1, data=mnist, verbose=0, shuffle_labels=True).stack


def check_net(name: str, stack: DenseStack, mnist: Dataset, out: Path,
              settings: CheckSettings = CheckSettings(),
              log: Callable[[str], None] = _stderr) -> ChecksWritten:
    """Run every check of every method on `stack` and write them into `out`."""
    require_pictures(stack)
    started = time.perf_counter()
    notes = []
    shuffled = None
    reason = shuffled_net_reason(stack, mnist)
    if reason:
        notes.append(f"Data randomisation skipped: {reason}.")
    else:
        log(f"checks, {name}: training the same net on shuffled labels "
            f"({settings.shuffled_samples} images, {settings.shuffled_epochs} epochs)")
        shuffled = train_shuffled(stack, mnist, settings)
    offered = {"reference": mnist.x_test[:settings.reference],
               "labels": mnist.y_test[:settings.reference], "steps": settings.maximize_steps,
               "seed": settings.seed}
    # each image's deletion curve reads the output node of its class (`heads`)
    deletion = deletion_set(stack, mnist.x_test, output_of_labels(stack, mnist.y_test),
                            settings.per_class, stack.widths[-1], settings.seed)
    run = check_methods(stack, offered, deletion, shuffled, settings.seed,
                        log=lambda text: log(f"{text} ({name})"), progress_for=stderr_progress)
    written = write_checks(name, stack, run, out, settings, notes)
    written.seconds = round(time.perf_counter() - started, 1)
    return written


def write_checks(name: str, stack: DenseStack, run: ChecksRun, out: Path,
                 settings: CheckSettings, notes: list[str]) -> ChecksWritten:
    """checks.json, checks.md and the figures of a finished run of the checks."""
    written = ChecksWritten(rows=table(run.checks))
    for checks in run.checks:
        written.figures.append(Output(
            "randomization", None, save_png(_randomization_rows(checks, stack),
                                            out / f"randomization-{checks.method}.png"),
            f"{name}: the output pictures of the {checks.method} method as randomisation goes "
            "deeper (a row per step: cascading from the output down, then each layer alone)."))
    if run.checks:
        written.figures.append(Output(
            "randomization-curves", None, _curves_figure(name, run.checks, out),
            f"{name}: median similarity of the output pictures to the trained ones after each "
            "randomisation step, per method."))
        if any(checks.shuffled is not None for checks in run.checks):
            written.figures.append(Output(
                "data-randomization", None, save_png(_data_rows(run.checks, stack),
                                                     out / "data-randomization.png"),
                f"{name}: output pictures of the net trained on true labels and of the same "
                f"net trained on shuffled labels ({settings.shuffled_samples} images, "
                f"{settings.shuffled_epochs} epochs)."))
        if any(checks.deletion for checks in run.checks):
            written.figures.append(Output(
                "deletion-insertion", None, _deletion_figure(name, run.checks, out, settings),
                f"{name}: deletion and insertion in each method's pixel order, on the first "
                f"{settings.per_class} test images of each class, against a random and the "
                "mean image's order."))
    written.paths += paths_of(written.figures)
    document = _document(name, stack, run, written.rows, settings, notes)
    written.paths.append(write_json(out / "checks.json", document))
    written.markdown = markdown(name, stack, document)
    written.paths.append(write_text(out / "checks.md", "\n".join(
        [*written.markdown, "", "Figures:", "", *_figure_lines(out, written.figures)]) + "\n"))
    return written


def _output_view(stack: DenseStack, method: str, projection: Any, title: str = "",
                 legend: bool = False) -> Any:
    """The output layer's pictures as the method draws them by default."""
    view = layer_views(stack, method, projection=projection)[-1]
    return node_mosaic(view.images, colormap_lut(default_cmap(view.normalization)),
                       labels=view.labels, scale=2, title=title or None,
                       legend=view_legend(view) if legend else None)


def _randomization_rows(checks: MethodChecks, stack: DenseStack) -> Any:
    rows = [(f"{checks.method}: trained", _output_view(stack, checks.method, checks.trained,
                                                       legend=True))]
    for step, projection, found in zip(checks.steps, checks.redrawn, checks.similarity):
        spearman, structure = found.output
        rows.append((f"{step.label} randomised: median Spearman {spearman:.2f}, "
                     f"SSIM {structure:.2f}", _output_view(stack, checks.method, projection)))
    return stacked(rows)


def _data_rows(found: list[MethodChecks], stack: DenseStack) -> Any:
    rows = []
    for checks in found:
        if checks.shuffled is None or checks.data_similarity is None:
            continue
        spearman, structure = checks.data_similarity.output
        rows.append((f"{checks.method}: true labels", _output_view(stack, checks.method,
                                                                   checks.trained)))
        rows.append((f"{checks.method}: shuffled labels (median Spearman {spearman:.2f}, SSIM "
                     f"{structure:.2f})", _output_view(stack, checks.method, checks.shuffled)))
    return stacked(rows)


def _curves_figure(name: str, found: list[MethodChecks], out: Path) -> Path:
    from ..render.check_charts import similarity_curves

    steps = found[0].steps
    measures = {"Spearman |value|": {c.method: [s.output[0] for s in c.similarity]
                                     for c in found},
                "SSIM": {c.method: [s.output[1] for s in c.similarity] for c in found}}
    figure = similarity_curves([f"{step.label}" for step in steps],
                               sum(step.cascading for step in steps), measures,
                               THRESHOLDS.similar, f"{name}: model randomisation")
    return save_figure(figure, out / "randomization-curves.png")


def _deletion_figure(name: str, found: list[MethodChecks], out: Path,
                     settings: CheckSettings) -> Path:
    from ..render.check_charts import deletion_curves

    with_curves = [checks for checks in found if checks.deletion]
    first = with_curves[0].deletion
    fractions = np.linspace(0, 1, first["picture"].deletion.shape[1])
    curves = {kind: {c.method: getattr(c.deletion["picture"], kind).mean(axis=0)
                     for c in with_curves} for kind in ("deletion", "insertion")}
    baselines = {kind: {base: getattr(first[base], kind).mean(axis=0)
                        for base in ("random", "mean image")} for kind in ("deletion", "insertion")}
    figure = deletion_curves(fractions, curves, baselines,
                             f"{name}: pixels in each method's order of the class's output "
                             f"picture ({settings.per_class} test images per class)")
    return save_figure(figure, out / "deletion-insertion.png")


def _finite(value: Any) -> Any:
    """Numbers rounded for reading; NaN (a check with nothing to compare) as null."""
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    if isinstance(value, (float, np.floating)):
        return round(float(value), 4) if math.isfinite(value) else None
    return value


def _document(name: str, stack: DenseStack, run: ChecksRun, rows: list[dict[str, Any]],
              settings: CheckSettings, notes: list[str]) -> dict[str, Any]:
    return _finite({
        "net": name, "architecture": stack.describe(),
        "thresholds": asdict(THRESHOLDS), "settings": asdict(settings),
        "rows": rows,
        "randomization": {checks.method: [
            {"randomized": step.label, "layers": list(step.layers), "cascading": step.cascading,
             "spearman": {str(k): v for k, v in found.spearman.items()},
             "ssim": {str(k): v for k, v in found.ssim.items()}}
            for step, found in zip(checks.steps, checks.similarity)] for checks in run.checks},
        "skipped": run.skipped, "notes": notes})


CHECKS = (("model_randomization", "model randomisation (all layers)"),
          ("independent_randomization", "one layer alone (least change)"),
          ("data_randomization", "data randomisation"),
          ("deletion", "deletion AUC (random, mean image)"),
          ("insertion", "insertion AUC (random, mean image)"),
          ("fidelity", "fidelity (median)"))


def _cell(check: str, found: dict[str, Any] | None) -> str:
    if found is None:
        return "n/a"
    if check in ("deletion", "insertion"):
        numbers = (f"{_number(found['auc'])} ({_number(found['random'])}, "
                   f"{_number(found['mean_image'])})")
    elif check == "fidelity":
        numbers = _number(found["median"])
    else:
        numbers = f"ρ {_number(found['spearman'])}, SSIM {_number(found['ssim'])}"
    return f"{numbers}: **{found['verdict']}**"


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def markdown(name: str, stack: DenseStack, document: dict[str, Any]) -> list[str]:
    """The checks as Markdown: the table, what each threshold means, the steps in detail."""
    limits, settings = document["thresholds"], document["settings"]
    lines = [f"## Sanity checks: `{name}` ({stack.describe()})", "",
             "| method | " + " | ".join(title for _, title in CHECKS) + " |",
             "|---" * (len(CHECKS) + 1) + "|"]
    for row in document["rows"]:
        lines.append(f"| `{row['method']}` | " + " | ".join(_cell(check, row.get(check))
                                                            for check, _ in CHECKS) + " |")
    lines += ["", f"Verdicts are computed from the numbers. Randomisation (model or data): "
              f"**flagged** when the median over output nodes of the Spearman rank correlation "
              f"of absolute values (ρ) or of SSIM exceeds {limits['similar']}, i.e. the "
              f"pictures stay similar to the trained net's. Deletion (insertion): **pass** when "
              f"the area under the class-probability curve in the picture's pixel order is "
              f"below (above) both a random order's and the mean test image's order (where "
              f"digits usually write) by more than {limits['margin']}. Fidelity (the "
              f"`linear` row only): median cosine of the `linear` and the exact `gradient` "
              f"output pictures, **pass** from {limits['fidelity']}.", "",
              f"Subsets: data-driven methods use the first {settings['reference']} test "
              f"images; deletion and insertion the first {settings['per_class']} test images "
              f"of each class; maximize {settings['maximize_steps']} steps; random weights "
              f"seeded with {settings['seed']} (Glorot uniform kernels, zero biases, as Keras "
              f"initialises them).", ""]
    lines += [f"- {note}" for note in document["notes"]]
    lines += [f"- `{method}` not checked: {reason}." for method, reason in
              document["skipped"].items()]
    lines += ["", "Median similarity of the output pictures after each randomisation step "
              "(ρ / SSIM):", "", "| method | " + " | ".join(
                  step["randomized"] for step in next(iter(document["randomization"].values()),
                                                     [])) + " |"]
    lines.append("|---" * (1 + len(next(iter(document["randomization"].values()), []))) + "|")
    for method, steps in document["randomization"].items():
        cells = []
        for step in steps:
            last = str(max(int(k) for k in step["spearman"]))
            cells.append(f"{_number(step['spearman'][last])} / {_number(step['ssim'][last])}")
        lines.append(f"| `{method}` | " + " | ".join(cells) + " |")
    return lines


def _figure_lines(out: Path, figures: list[Output]) -> list[str]:
    return [f"- [`{figure.path.relative_to(out).as_posix()}`]"
            f"({figure.path.relative_to(out).as_posix()}): {figure.caption}"
            for figure in figures]
