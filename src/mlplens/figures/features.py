"""A sparse dictionary's features drawn like nodes, with the numbers that say whether they are
cleaner than the nodes (`mlplens features`, and `reproduce`'s features section).

Writes into a folder: every live feature's `linear` picture and mean input-gradient, the
strongest test images and activation maximisation of the features shown, the most polysemantic
nodes beside the features they mix, features.json (every number) and features.npz (the arrays).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..core.features.dictionary import SparseDictionary, feature_stack
from ..core.features.metrics import DENSE_ABOVE, DictionaryMetrics, dictionary_metrics
from ..core.features.pictures import feature_statistics, linear_features, mean_feature_gradients
from ..core.maximize import maximize
from ..core.node_statistics import NodeStatistics, node_statistics
from ..core.normalization import normalize
from ..core.pixel_scale import as_pixels
from ..core.features.polysemanticity import Polysemanticity, polysemanticity
from ..core.projection import linear_rows
from ..core.stack import DenseStack
from ..datasets import Dataset
from ..errors import MlplensError
from ..output import save_npz, save_png, write_json
from ..render import Legend, colormap_lut, node_mosaic
from ..render.strips import example_strips
from .outputs import Output, paths_of

TOP_K = 8  # strongest test images per feature
POLYSEMANTIC_NODES = 6  # rows of polysemantic-nodes.png
FEATURES_PER_NODE = 8  # features drawn beside each of them


@dataclass
class FeatureReport:
    """What was measured and written for one dictionary."""

    layer: int
    metrics: DictionaryMetrics
    features: NodeStatistics  # on the test images
    nodes: NodeStatistics  # the layer's nodes on the same images
    poly: Polysemanticity
    shown: np.ndarray  # the features drawn with examples and maximisation
    outputs: list[Output] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def paths(self) -> list[Path]:
        return paths_of(self.outputs)

    def summary(self) -> dict[str, Any]:
        """The headline numbers, as features.json and index.md give them."""
        metrics, alive = self.metrics, self.metrics.frequency > 0
        live_nodes = self.nodes.firing_fraction > 0
        return {
            "layer": self.layer, "features": int(len(alive)),
            "test_images": metrics.images,
            "variance_explained": round(metrics.variance_explained, 4),
            "mean_l0": round(metrics.mean_l0, 2),
            "dead_features": int(len(metrics.dead)),
            "dense_features": int(len(metrics.dense)), "dense_above": DENSE_ABOVE,
            "accuracy": round(metrics.accuracy, 4),
            "spliced_accuracy": round(metrics.spliced_accuracy, 4),
            "mean_ablated_accuracy": round(metrics.mean_ablated_accuracy, 4),
            "median_selectivity": {
                "features": round(float(np.median(self.features.selectivity[alive])), 4),
                "nodes": round(float(np.median(self.nodes.selectivity[live_nodes])), 4)},
            "strong_share": self.poly.share,
            "median_features_per_node": float(np.median(self.poly.features_per_node)),
            "max_features_per_node": int(self.poly.features_per_node.max()),
            "median_nodes_per_feature": float(np.median(self.poly.nodes_per_feature[alive])),
            "median_effective_nodes_per_feature": round(
                float(np.median(self.poly.effective_nodes[alive])), 2),
            "seconds": self.seconds,
        }


def _timed(report: FeatureReport, key: str, work: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    value = work()
    report.seconds[key] = round(time.perf_counter() - started, 2)
    return value


def _class_order(statistics: NodeStatistics, units: np.ndarray) -> np.ndarray:
    """`units` grouped by preferred class, most selective first within a class."""
    keys = (-statistics.selectivity[units], statistics.preferred_class[units])
    return units[np.lexsort(keys)]


def shown_features(metrics: DictionaryMetrics, statistics: NodeStatistics,
                   count: int) -> np.ndarray:
    """The `count` most frequent features that are neither dead nor dense, by class."""
    frequency = metrics.frequency
    candidates = np.flatnonzero((frequency > 0) & (frequency <= DENSE_ABOVE))
    picked = candidates[np.argsort(-frequency[candidates], kind="stable")[:count]]
    return _class_order(statistics, picked)


def _pictures(rows: np.ndarray, mode: str, shape: tuple[int, ...]) -> np.ndarray:
    return normalize(rows, mode).pixels.reshape(len(rows), *shape)


def _labels(units: np.ndarray, statistics: NodeStatistics, prefix: str = "") -> list[str]:
    return [f"{prefix}{unit}: {statistics.preferred_class[unit]}" for unit in units]


def draw_features(stack: DenseStack, dictionary: SparseDictionary, mnist: Dataset, out: Path, *,
                  show: int = 64, reference: int = 1000, maximize_steps: int = 200,
                  seed: int = 0, training: dict[str, Any] | None = None,
                  log: Callable[[str], None] = lambda _: None) -> FeatureReport:
    """Measure and draw `dictionary` on the test images; write everything into `out`.

    Statistics and metrics use every test image; mean input-gradients the first `reference`.
    `training` (how the dictionary was trained) goes into features.json as it is.
    """
    images, labels = mnist.x_test, mnist.y_test
    shape = stack.picture_shape
    layer = dictionary.layer
    started = time.perf_counter()
    metrics = dictionary_metrics(stack, dictionary, images, labels)
    features = feature_statistics(stack, dictionary, images, labels, top_k=TOP_K, classes=10)
    nodes = node_statistics(stack, images, labels, classes=10)[layer - 1]
    alive = metrics.frequency > 0
    report = FeatureReport(layer, metrics, features, nodes, polysemanticity(dictionary, alive),
                           shown_features(metrics, features, show))
    report.seconds["metrics"] = round(time.perf_counter() - started, 2)
    if not len(report.shown):  # every feature dead or dense: nothing to draw
        raise MlplensError(f"layer {layer}: none of the {dictionary.size} features is active on "
                           f"between 0 and {DENSE_ABOVE:.0%} of the test images, so none can be "
                           "drawn; give a larger --size or a smaller --k")
    live = _class_order(features, np.flatnonzero(alive))
    linear = linear_features(stack, dictionary)
    log(f"features of layer {layer}: mean input-gradients over {reference} test images")
    gradients = _timed(report, "gradients", lambda: mean_feature_gradients(
        stack, dictionary, images[:reference]))
    log(f"features of layer {layer}: activation maximisation of {len(report.shown)} features")
    maximized = _timed(report, "maximize", lambda: maximize(
        feature_stack(stack, dictionary), layer + 1, report.shown, steps=maximize_steps,
        seed=seed))
    gray, signed = colormap_lut("gray"), colormap_lut("RdBu_r")
    what = f"Layer {layer}: {len(live)} live features of {dictionary.size}"
    figures = [
        save_png(node_mosaic(_pictures(linear[live], "minmax", shape), gray,
                             labels=_labels(live, features), scale=1,
                             title=f"{what}, linear (decoder direction carried to the input), "
                                   "label feature: class",
                             legend=Legend("feature's min", "", "feature's max")),
                 out / "features-linear.png"),
        save_png(node_mosaic(_pictures(gradients[live], "symmetric", shape), signed,
                             labels=_labels(live, features), scale=1,
                             title=f"{what}, mean input-gradient ({reference} test images)",
                             legend=Legend("-max |value|", "0", "+max |value|")),
                 out / "features-gradient.png"),
        _examples_figure(report, images, out),
        save_png(node_mosaic(_pictures(maximized.images, "minmax", shape), gray,
                             labels=_labels(report.shown, features), scale=2,
                             title=f"Layer {layer}: the input each shown feature responds to "
                                   "most (activation maximisation)",
                             legend=Legend("0", "", "1")),
                 out / "features-maximize.png"),
        _polysemantic_figure(stack, dictionary, report, linear, out),
    ]
    report.outputs += [Output(kind, layer, path) for kind, path in zip(FIGURES, figures)]
    report.seconds["total"] = round(time.perf_counter() - started, 2)
    report.outputs.append(Output("features-npz", layer, save_npz(out / "features.npz", {
        "linear": linear, "gradient": gradients, "shown": report.shown,
        "maximize": maximized.images, "maximize_activation": maximized.activations,
        "examples": features.top_indices, "frequency": metrics.frequency,
        "features_per_node": report.poly.features_per_node})))
    report.outputs.append(Output("features-json", layer, write_json(out / "features.json", {
        "summary": report.summary(), "training": training or {}, "features": _feature_records(dictionary, report),
        "nodes": _node_records(report)}, indent=1)))
    return report


def _examples_figure(report: FeatureReport, images: np.ndarray, out: Path) -> Path:
    statistics, shown = report.features, report.shown
    captions = [f"{f}: fires {statistics.firing_fraction[f]:.1%}, class "
                f"{statistics.preferred_class[f]} ({statistics.selectivity[f]:.2f})"
                for f in shown]
    picture = example_strips(as_pixels(images[statistics.top_indices[shown]]),
                             captions, colormap_lut("gray"), strip_columns=4,
                             title=f"Layer {report.layer}: the {TOP_K} test images that excite "
                                   "each shown feature most (class, selectivity)")
    return save_png(picture, out / "features-examples.png")


def _polysemantic_figure(stack: DenseStack, dictionary: SparseDictionary,
                         report: FeatureReport, linear: np.ndarray, out: Path) -> Path:
    """Each of the most polysemantic nodes' `linear` picture, then the features that use it."""
    node_rows = linear_rows(stack)[report.layer - 1]
    rows, labels = [], []
    for node in report.poly.most_polysemantic(POLYSEMANTIC_NODES):
        users = report.poly.features_of(node, dictionary.w_dec)[:FEATURES_PER_NODE]
        rows.append(node_rows[node])
        labels.append(f"node {node}")
        rows += list(linear[users])
        labels += [f"{f}: {report.features.preferred_class[f]} "
                   f"({dictionary.w_dec[f, node]:+.2f})" for f in users]
        blanks = FEATURES_PER_NODE - len(users)
        rows += [np.zeros(stack.n_inputs, np.float32)] * blanks
        labels += [""] * blanks
    pixels = _pictures(np.asarray(rows), "minmax", stack.picture_shape)
    pixels[[i for i, label in enumerate(labels) if not label]] = 255
    picture = node_mosaic(pixels, colormap_lut("gray"), labels=labels,
                          columns=1 + FEATURES_PER_NODE, scale=3,
                          title=f"Layer {report.layer}: the nodes most features use strongly "
                                f"(first column) and those features (feature: class, "
                                f"decoder weight); strongly = weight^2 >= {report.poly.share}",
                          legend=Legend("picture's min", "", "picture's max"))
    return save_png(picture, out / "polysemantic-nodes.png")


def _feature_records(dictionary: SparseDictionary, report: FeatureReport
                     ) -> list[dict[str, Any]]:
    statistics, metrics, poly = report.features, report.metrics, report.poly
    records = []
    for f in range(dictionary.size):
        weights = dictionary.w_dec[f]
        strongest = np.argsort(-np.abs(weights), kind="stable")[:3]
        records.append({
            "feature": f, "frequency": round(float(metrics.frequency[f]), 6),
            "dead": bool(metrics.frequency[f] == 0),
            "dense": bool(metrics.frequency[f] > DENSE_ABOVE),
            "preferred_class": int(statistics.preferred_class[f]),
            "selectivity": round(float(statistics.selectivity[f]), 6),
            "mean_activation": round(float(statistics.mean_activation[f]), 6),
            "max_activation": round(float(statistics.max_activation[f]), 6),
            "nodes_strong": int(poly.nodes_per_feature[f]),
            "effective_nodes": round(float(poly.effective_nodes[f]), 3),
            "strongest_nodes": [[int(j), round(float(weights[j]), 4)] for j in strongest]})
    return records


def _node_records(report: FeatureReport) -> list[dict[str, Any]]:
    nodes, poly = report.nodes, report.poly
    return [{"node": j, "features_strong": int(poly.features_per_node[j]),
             "firing_fraction": round(float(nodes.firing_fraction[j]), 6),
             "preferred_class": int(nodes.preferred_class[j]),
             "selectivity": round(float(nodes.selectivity[j]), 6)}
            for j in range(len(poly.features_per_node))]


@dataclass(frozen=True)
class ReproducePlan:
    """reproduce's dictionaries: smaller and shorter than the command's defaults, so that both
    hidden layers of the article's net add about a minute at most (quick: a few seconds)."""

    multiple: int  # features per node
    steps: int
    maximize_steps: int
    training_images: int
    test_images: int
    show: int
    reference: int


PLANS = {False: ReproducePlan(2, 300, 60, 60000, 10000, 64, 1000),
         True: ReproducePlan(1, 40, 20, 5000, 2000, 32, 200)}


def reproduce_features(stack: DenseStack, name: str, mnist: Dataset, out: Path, quick: bool,
                       seed: int, log: Callable[[str], None]) -> list[FeatureReport]:
    """A dictionary of every hidden layer of `stack`, drawn into out/features/<name>/layer-<k>."""
    from ..training.sparse_autoencoder import Schedule, learn_features

    plan = PLANS[quick]
    tested = replace(mnist, x_test=mnist.x_test[:plan.test_images],
                     y_test=mnist.y_test[:plan.test_images])
    reports = []
    for layer, width in enumerate(stack.widths[:-1], start=1):
        size = plan.multiple * width
        log(f"features: a dictionary of {name} layer {layer}, {size} features, "
            f"{plan.steps} steps")
        started = time.perf_counter()
        dictionary = learn_features(stack, layer, mnist.x_train[:plan.training_images], size,
                                    32, Schedule(steps=plan.steps, seed=seed))
        training = {"size": size, "k": 32, "steps": plan.steps,
                    "training_images": plan.training_images,
                    "seconds": round(time.perf_counter() - started, 2)}
        report = draw_features(stack, dictionary, tested, out / "features" / name /
                               f"layer-{layer}", show=plan.show, reference=plan.reference,
                               maximize_steps=plan.maximize_steps, seed=seed, training=training,
                               log=log)
        report.seconds["training"] = training["seconds"]
        reports.append(report)
    return reports


def index_lines(name: str, reports: list[FeatureReport], quick: bool) -> list[str]:
    """reproduce's index.md section: one row of numbers per layer."""
    plan = PLANS[quick]
    lines = ["", "## Features beyond single nodes", "",
             f"A top-k sparse dictionary (k = 32, {plan.steps} steps) of each hidden layer of "
             f"`{name}`, learned from its activations on {plan.training_images:,} training "
             f"images; measured on {plan.test_images:,} test images. *Spliced*: the net's accuracy with the layer replaced by the dictionary's "
             "reconstruction. Selectivity: (preferred class - mean of others) / (sum), as for "
             "nodes; medians over live units.", "",
             "| layer | features | variance explained | mean L0 | dead | dense | accuracy | "
             "spliced | selectivity, features | selectivity, nodes | seconds |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for report in reports:
        s = report.summary()
        lines.append(f"| {s['layer']} | {s['features']} | {s['variance_explained']:.3f} | "
                     f"{s['mean_l0']:.1f} | {s['dead_features']} | {s['dense_features']} | "
                     f"{s['accuracy']:.4f} | {s['spliced_accuracy']:.4f} | "
                     f"{s['median_selectivity']['features']:.3f} | "
                     f"{s['median_selectivity']['nodes']:.3f} | "
                     f"{report.seconds['training'] + report.seconds['total']:.1f} |")
    return lines


# The figures of one dictionary, in the order written, by kind, with what a reader is told.
CAPTIONS = {
    "features-linear": "every live feature's decoder direction carried to the input (linear), "
                       "grouped by preferred class",
    "features-gradient": "every live feature's mean input-gradient",
    "features-examples": "the test images that excite each shown feature most",
    "features-maximize": "the input each shown feature responds to most",
    "polysemantic-nodes": "the nodes most features use strongly, beside those features",
}


FIGURES = tuple(CAPTIONS)


def figure_captions(name: str, reports: list[FeatureReport]) -> list[Output]:
    return [output.captioned(f"{name}, layer {report.layer} features: {CAPTIONS[output.kind]}.")
            for report in reports for output in report.outputs if output.kind in CAPTIONS]
