"""Every figure of the article from one call, on real MNIST (`mlplens reproduce`).

Trains the three networks in this one process (the 784-512-256-10 net on the first 500 and on all
60,000 images, and the single-layer 784-10 net on 60,000), then draws each with the article's
`seed` method in viridis and the clean `linear` method in gray, and writes an index.md.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.stack import DenseStack
from ..datasets import Dataset, load_dataset
from ..layout.views import layer_views
from ..output import save_png, write_json, write_text
from ..render import colormap_lut, node_mosaic, side_by_side
from ..report.story import Nets, story_sections
from ..report.summary import write_run_pages
from .beyond_article import BeyondResults, beyond_the_article, index_section
from .checks import QUICK_SETTINGS, CheckSettings, ChecksWritten, check_net
from .compare import Compared, Net, write_comparison
from .diagram import write_circuit, write_diagram
from .features import figure_captions, index_lines, reproduce_features
from .layers import default_scale, render_view, visualize_stack
from .story_figures import StoryFigures

STYLES = (("seed", "viridis", "the article's method and look"),
          ("linear", "gray", "W1·…·Wk, no bias or normalisation inside the chain"))


@dataclass(frozen=True)
class NetPlan:
    key: str
    hidden: tuple[int, ...]
    train_samples: int
    epochs: int
    snapshot_every: int | None = None  # for the evolution GIF and the explorer's slider

    @property
    def name(self) -> str:
        kind = "mlp" if self.hidden else "single"
        return f"{kind}-{self.train_samples}"

    @property
    def architecture(self) -> str:
        return "-".join(str(n) for n in (784, *self.hidden, 10))


def plans(quick: bool) -> tuple[NetPlan, NetPlan, NetPlan]:
    """(small, full, single-layer); --quick keeps the shapes and shrinks data and epochs."""
    full, epochs, every, small_every = (2000, 1, 2, 1) if quick else (60000, 6, 200, 2)
    return (NetPlan("small", (512, 256), 500, epochs, small_every),
            NetPlan("full", (512, 256), full, epochs, every),
            NetPlan("single", (), full, epochs, every))


def _stderr(message: str) -> None:
    print(f"mlplens: {message}", file=sys.stderr, flush=True)


def reproduce(out_dir: str | os.PathLike[str], quick: bool = False, seed: int = 0,
              data: str | os.PathLike[str] | None = None,
              log: Callable[[str], None] = _stderr) -> list[Path]:
    """Train, draw and index everything; return the paths written, index.md last."""
    from ..training import train

    started = time.perf_counter()
    out = Path(out_dir)
    mnist = load_dataset(data)
    log(f"MNIST from {mnist.source} ({mnist.path}), verified")
    written: list[Path] = []
    figures: list[tuple[Path, str]] = []

    digits = node_mosaic(mnist.x_train[:20], colormap_lut("gray"),
                         labels=[str(int(y)) for y in mnist.y_train[:20]], columns=10, scale=3,
                         title="Sample MNIST digits: the first 20 training images")
    figures.append((save_png(digits, out / "digits.png"),
                    "The first 20 MNIST training images with their labels."))

    small, full, single = plans(quick)
    runs = {}
    for step, plan in enumerate((small, full, single), start=1):
        log(f"[{step}/3] training {plan.architecture} on the first {plan.train_samples} images, "
            f"{plan.epochs} epoch(s)")
        trained = train(plan.hidden, plan.train_samples, plan.epochs, seed=seed, data=mnist,
                        snapshot_every=plan.snapshot_every)
        written += trained.save(out / plan.name)
        runs[plan.key] = (plan, trained)
        log(f"      test accuracy {trained.metrics['test_accuracy']:.4f} "
            f"in {trained.metrics['seconds']:.1f} s")

    log("drawing figures")
    plan, trained = runs["full"]
    story = StoryFigures(plan.name)
    story.add("mnist", *figures[0], embed=True)
    diagram = write_diagram(trained.stack, out / plan.name)
    written += diagram
    figures.insert(0, (diagram[0], f"The {plan.architecture} net trained on "
                                   f"{plan.train_samples:,} images as a diagram: its most "
                                   "important nodes and their strongest connections "
                                   "(diagram.svg has every node's numbers as tooltips)."))
    story.add("network", *figures[0], embed=True)
    story.add("network", diagram[1], "The same diagram as SVG, with every node's numbers as "
                                     "tooltips.")
    circuits, paths, class_circuits = _class_circuits(trained.stack, mnist,
                                                      out / plan.name / "circuits")
    written += paths
    for plan, trained in runs.values():
        stack = trained.stack
        for method, cmap, _ in STYLES:
            result = visualize_stack(stack, out / plan.name / method, method, "minmax", cmap)
            written += list(result.paths)
            for output in result.outputs:
                if output.kind == "layer":
                    output = output.captioned(_caption(plan, output.layer, method, cmap))
                    figures.append((output.path, output.caption))
                    story.add_layer(plan.name, method, output, len(stack.layers))

    for method, cmap, meaning in STYLES:
        panels = []
        for key in ("small", "full"):
            plan, trained = runs[key]
            view = layer_views(trained.stack, method, "minmax")[-1]
            accuracy = trained.metrics["test_accuracy"]
            picture = render_view(view, cmap, default_scale(10),
                                  title=f"{method}, {cmap}: output nodes 0-9")
            panels.append((f"Trained on {plan.train_samples:,} images "
                           f"(test accuracy {accuracy:.3f})", picture))
        path = save_png(side_by_side(panels), out / f"output-{small.train_samples}-vs-"
                                                    f"{full.train_samples}-{method}.png")
        figures.append((path, f"Output nodes 0-9 of the {small.architecture} net trained on "
                              f"{small.train_samples:,} vs {full.train_samples:,} images "
                              f"({method} method, {cmap}; {meaning})."))
        story.add("training-size", *figures[-1], embed=method == "seed")
    compared = _compare_sizes(runs, mnist, out, quick)
    written += list(compared.paths)
    figures += [(figure.path, figure.caption) for figure in compared.figures]
    for figure in compared.figures:
        story.add("training-size", figure.path, figure.caption,
                  embed=(figure.kind, figure.layer) in EMBEDDED_COMPARISON)

    figures += circuits

    beyond = beyond_the_article(
        {runs["full"][0].name: runs["full"][1].stack, runs["single"][0].name:
         runs["single"][1].stack},
        [(f"{runs[key][0].train_samples} images", runs[key][1].snapshots)
         for key in ("small", "full")], mnist, out, log, quick)
    written += beyond.written
    for figure in beyond.figures:
        story.add_beyond(figure)
    checks = {}
    for key in ("full", "single"):
        plan, trained = runs[key]
        checks[plan.name] = check_net(plan.name, trained.stack, mnist,
                                      out / "checks" / plan.name,
                                      QUICK_SETTINGS if quick else CheckSettings(seed=seed), log)
        written += checks[plan.name].paths
        story.add_checks(plan.name, checks[plan.name].figures)
    full_name, full_stack = runs["full"][0].name, runs["full"][1].stack
    features = reproduce_features(full_stack, full_name, mnist, out, quick, seed, log)
    feature_figures = figure_captions(full_name, features)
    written += [path for report in features for path in report.paths]
    story.add_features(feature_figures)
    story.add_circuits(circuits)

    seconds = time.perf_counter() - started
    summary = {
        "quick": quick,
        "seed": seed,
        "data": {"source": mnist.source, "path": str(mnist.path), "train": len(mnist.x_train),
                 "test": len(mnist.x_test)},
        "runs": {plan.name: trained.metrics for plan, trained in runs.values()},
        "beyond": {"reference": beyond.reference, "median_fidelity": beyond.median_fidelity, "dead_nodes": beyond.dead_nodes,
                   "edge_ink_counts": beyond.edges, "seconds": beyond.seconds},
        "checks": {name: {"rows": found.rows, "seconds": found.seconds}
                   for name, found in checks.items()},
        "features": {full_name: [report.summary() for report in features]},
        "circuits": class_circuits,
        "compare": _comparison_summary(compared),
        "seconds": round(seconds, 1),
    }
    written.append(write_json(out / "summary.json", summary))
    written += [path for path, _ in figures if path not in written]
    nets = Nets(small.name, full.name, runs["single"][0].name)
    written += write_run_pages(out, runs, story_sections(summary, nets, story.sections), mnist,
                               quick, started, log)
    feature_section = (index_lines(full_name, features, quick) + ["", "### Figures", ""]
                       + _figure_lines(out, [(figure.path, figure.caption)
                                             for figure in feature_figures]))
    written.append(write_text(out / "index.md", _index(out, runs, figures, seconds, quick,
                                                       beyond, checks, feature_section)))
    log(f"done in {seconds:.1f} s")
    return written


EMBEDDED_COMPARISON = (("cka", None), ("matched", 1))  # (kind, layer) of compare's figures
QUICK_COMPARISON_IMAGES = 2000


def _compare_sizes(runs: dict, mnist, out: Path, quick: bool) -> Compared:
    """The 500-image net against the 60,000-image net on the test images (the first 2,000 in
    a quick run), in compare-<small>-vs-<full>/."""
    (small, small_run), (full, full_run) = runs["small"], runs["full"]
    count = QUICK_COMPARISON_IMAGES if quick else len(mnist.x_test)
    return write_comparison(
        Net(f"the {small.train_samples:,}-image net", small_run.stack),
        Net(f"the {full.train_samples:,}-image net", full_run.stack), mnist.x_test[:count],
        out / f"compare-{small.train_samples}-vs-{full.train_samples}",
        labels=mnist.y_test[:count], class_names=mnist.class_names)


def _comparison_summary(compared: Compared) -> dict:
    """The numbers the report tells of the comparison: CKA, and per hidden layer of the small
    net its median matched correlation, how many nodes were matched to the node of the same
    number (both nets start from the same seeded weights), and how many match nothing."""
    found, told = compared.comparison, compared.summary
    same = {str(m.layer): int(np.sum(m.nodes == np.arange(len(m.nodes))))
            if m.layer == m.other else 0 for m in found.matches}
    median = {str(m.layer): round(float(np.nanmedian(m.correlations)), 4)
              for m in found.matches}
    ssim = [entry["ssim"] for entry in told["outputs"] if entry["ssim"] is not None]
    return {"images": found.images, "cka": told["cka"], "matched_layer": told["matched_layer"],
            "median_correlation": median, "same_node": same,
            "alone_below": told["alone_below"],
            "alone": {net: {layer: len(nodes) for layer, nodes in layers.items()}
                      for net, layers in told["alone"].items()},
            "output_ssim_median": round(float(np.median(ssim)), 4) if ssim else None}


def _class_circuits(stack: DenseStack, mnist: Dataset, folder: Path
                    ) -> tuple[list[tuple[Path, str]], list[Path], list[dict[str, int]]]:
    """The circuit of the first test image of each class: why the net says what it says; its
    figures, the files written, and each image's index and prediction."""
    figures, paths, found = [], [], []
    for digit in range(10):
        index = int((mnist.y_test == digit).argmax())
        written, circuit = write_circuit(stack, mnist.x_test[index], folder, label=digit,
                                         source=f"MNIST test image {index}",
                                         stem=f"circuit-{digit}")
        paths += written
        predicted = circuit.attribution.target
        verdict = "correctly" if predicted == digit else f"wrongly, as {predicted}"
        found.append({"digit": digit, "index": index, "predicted": int(predicted)})
        figures.append((written[0], f"The circuit of test image {index}, a {digit} "
                                    f"(classified {verdict}): the nodes and edges that carry "
                                    f"90% of its logit; circuit-{digit}.json has the numbers."))
    return figures, paths, found


def _figure_lines(out: Path, figures: list[tuple[Path, str]]) -> list[str]:
    return [f"- [`{path.relative_to(out).as_posix()}`]({path.relative_to(out).as_posix()}): "
            f"{caption}" for path, caption in figures]


def _caption(plan: NetPlan, layer: int, method: str, cmap: str) -> str:
    sizes = (*plan.hidden, 10)
    which = "output layer (classes 0-9)" if layer == len(sizes) else f"hidden layer {layer}"
    return (f"{plan.architecture} net trained on {plan.train_samples:,} images: all "
            f"{sizes[layer - 1]} nodes of its {which}, {method} method in {cmap}.")


def _index(out: Path, runs: dict, figures: list[tuple[Path, str]], seconds: float,
           quick: bool, beyond: BeyondResults, checks: dict[str, ChecksWritten],
           features: list[str]) -> str:
    lines = ["# mlplens reproduce", ""]
    if quick:
        lines += ["*Quick run*: fewer images and one epoch; the pictures are rougher than the "
                  "article's.", ""]
    lines += ["The article \"Visualization of a Basic Neural Network in Python\", reproduced on "
              "real MNIST. `seed` is the article's notebook method (min-max normalised images "
              "chained layer to layer); `linear` is W1·…·Wk.", "",
              "| run | network | training images | epochs | test accuracy | training time |",
              "|---|---|---|---|---|---|"]
    for plan, trained in runs.values():
        metrics = trained.metrics
        lines.append(f"| `{plan.name}` | {plan.architecture} | {plan.train_samples} | "
                     f"{plan.epochs} | {metrics['test_accuracy']:.4f} | "
                     f"{metrics['seconds']:.1f} s |")
    lines += ["", f"Total wall time: {seconds:.1f} s.", "", "## Figures", ""]
    lines += _figure_lines(out, figures)
    lines += index_section(beyond)
    lines += _figure_lines(out, [(figure.output.path, figure.output.caption)
                                 for figure in beyond.figures])
    lines += ["", "## Does each picture mean something? Sanity checks", "",
              "Every method on the 784-512-256-10 net (all 60,000 images) and the 784-10 net, "
              "as `mlplens check` runs them; each net's checks.md explains the verdicts."]
    for found in checks.values():
        lines += ["", *found.markdown, "", f"Checks took {found.seconds:.1f} s.", ""]
        lines += _figure_lines(out, [(figure.path, figure.caption) for figure in found.figures])
    lines += features
    lines += ["", "MNIST is by Y. LeCun, C. Cortes and C. J. C. Burges (CC BY-SA 3.0).", ""]
    return "\n".join(lines)
