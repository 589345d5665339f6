"""The report's sections in the article's order, each told with the run's own numbers.

Every number in these sentences is formatted from the run's summary (summary.json), so a
report never states a result its run did not measure. Which figures a section shows is decided
by the caller (`mlplens.figures.article`), which knows the files; this module only writes.
"""

from __future__ import annotations

from collections import Counter
from itertools import pairwise
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Figure:
    path: Path
    caption: str
    embed: bool = False  # drawn inside the page; otherwise a link to the file beside it


@dataclass(frozen=True)
class Nets:
    """The run names of the article's three nets."""

    small: str
    full: str
    single: str


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    paragraphs: tuple[str, ...]  # plain text, escaped when the page is made
    figures: tuple[Figure, ...]
    beyond: bool  # past the article's own story


Summary = Mapping[str, Any]
Teller = Callable[[Summary, Nets], list[str]]


def _percent(value: float) -> str:
    return f"{value:.2%}"


def _joined(values: Sequence[float], form: str = "{:.3f}") -> str:
    return ", ".join(f"layer {k}: {form.format(v)}" for k, v in enumerate(values, start=1))


def _network(s: Summary, nets: Nets) -> list[str]:
    run = s["runs"][nets.full]
    widths = [784, *run["hidden"], 10]
    weights = sum(a * b + b for a, b in pairwise(widths))
    return [f"The network is {'-'.join(map(str, widths))}: {widths[0]} input pixels, hidden "
            f"layers of {' and '.join(map(str, run['hidden']))} ReLU nodes and "
            f"{widths[-1]} softmax outputs, {weights:,} weights and biases in all. Trained on "
            f"{run['train_samples']:,} images for {run['epochs']} epochs ({run['optimizer']}, "
            f"batch {run['batch_size']}, {run['seconds']:.1f} s), it classifies "
            f"{_percent(run['test_accuracy'])} of the {s['data']['test']:,} test images "
            "correctly.",
            "The diagram draws its most important nodes as their pictures, joined by their "
            "strongest connections."]


def _mnist(s: Summary, nets: Nets) -> list[str]:
    data = s["data"]
    return [f"MNIST holds {data['train']:,} training and {data['test']:,} test images of "
            "handwritten digits, 28x28 grey pixels each. These are the first training images "
            f"with their labels; the smallest net sees only the first "
            f"{s['runs'][nets.small]['train_samples']:,}."]


def _hidden_1(s: Summary, nets: Nets) -> list[str]:
    run, beyond = s["runs"][nets.full], s["beyond"]
    return [f"Each of the {run['hidden'][0]} nodes of hidden layer 1 is drawn as its incoming "
            "weights laid out as a 28x28 picture (the article's seed method, each node "
            "min-max scaled, viridis): yellow marks its largest weights, purple its smallest. "
            f"On the first {beyond['reference']:,} test images, "
            f"{beyond['dead_nodes'][nets.full][0]} of them never fire. Zoom the mosaic to read "
            "every node's number."]


def _hidden_2(s: Summary, nets: Nets) -> list[str]:
    run, beyond = s["runs"][nets.full], s["beyond"]
    return [f"A node of hidden layer 2 sees no pixels, only the {run['hidden'][0]} nodes below "
            "it; the article draws it by carrying the layer-1 pictures through its weights. "
            "Against each node's exact picture (its mean input-gradient on "
            f"{beyond['reference']:,} test images) the median cosine similarity is "
            f"{beyond['median_fidelity'][nets.full][1]:.3f}; "
            f"{beyond['dead_nodes'][nets.full][1]} of its {run['hidden'][1]} nodes never fire."]


def _output(s: Summary, nets: Nets) -> list[str]:
    run, beyond = s["runs"][nets.full], s["beyond"]
    return ["The ten output nodes, one per digit, drawn the same way three layers deep. The net "
            f"is right on {_percent(run['test_accuracy'])} of the test images; the median "
            "fidelity of these pictures to the exact ones is "
            f"{beyond['median_fidelity'][nets.full][-1]:.3f}."]


def _training_size(s: Summary, nets: Nets) -> list[str]:
    small, full = s["runs"][nets.small], s["runs"][nets.full]
    return [f"The same net trained on only the first {small['train_samples']:,} images reaches "
            f"{_percent(small['test_accuracy'])} test accuracy, against "
            f"{_percent(full['test_accuracy'])} with {full['train_samples']:,}. It fits its "
            f"own images ({_percent(small['history']['accuracy'][-1])} training accuracy in "
            "the last epoch) without learning digits in general: compare the two nets' output "
            "pictures.", *_comparison(s["compare"], small, full)]


def _comparison(found: Summary, small: Summary, full: Summary) -> list[str]:
    """What the two nets share, node by node: CKA, the matching, what only one of them has."""
    cka, layers = found["cka"], range(1, len(found["cka"]) + 1)
    names = f"{small['train_samples']:,}-image net", f"{full['train_samples']:,}-image net"
    same = "; ".join(f"layer {k}: {cka[k - 1][k - 1]:.3f}" for k in layers)
    elsewhere = [f"Layer {k} of the {names[0]} is most like layer {other} of the {names[1]} "
                 f"(CKA {cka[k - 1][other - 1]:.3f})." for k in layers
                 if (other := found["matched_layer"][str(k)]) != k]
    matched = "; ".join(
        f"layer {k} to layer {other}, median correlation "
        f"{found['median_correlation'][str(k)]:.2f}"
        + (f", {found['same_node'][str(k)]:,} of {small['hidden'][k - 1]:,} nodes to the node "
           "of the same number" if other == k else "")
        for k in layers for other in [found["matched_layer"][str(k)]])
    alone = {net: ", ".join(f"{count:,} in layer {k}" for k, count in counts.items())
             for net, counts in found["alone"].items()}
    ssim = found["output_ssim_median"]
    return [" ".join([f"Run on the first {found['images']:,} test images, linear CKA (1 for the "
                      "same representation up to a rotation and a scale) between the same "
                      f"layers of the two nets is {same}.", *elsewhere]),
            f"Each node of the {names[0]} was matched one to one to a node of the other net's "
            f"most similar layer by its activations: {matched}. Both nets start from the same "
            "seeded weights: a node matched to the node of its own number grew from the same "
            "start.",
            f"Nodes whose best counterpart in the other net correlates below "
            f"{found['alone_below']:g}, what only one net has: {alone['a']} of the {names[0]}; "
            f"{alone['b']} of the {names[1]}."
            + ("" if ssim is None else f" The output pictures of the same class have a median "
                                       f"SSIM of {ssim:.2f}.")]


def _where_digits_write(s: Summary, nets: Nets) -> list[str]:
    counts, train = s["beyond"]["edge_ink_counts"], s["data"]["train"]
    bottom1, bottom2 = counts["bottom 1"], counts["bottom 2"]
    share = (bottom2[7] + bottom2[9]) / sum(bottom2) if sum(bottom2) else 0.0
    return [f"Of the {train:,} training images, {sum(bottom1):,} have ink in the bottom row "
            f"({bottom1[7]:,} of them 7s and {bottom1[9]:,} 9s) and {sum(bottom2):,} in the "
            f"bottom two rows, {share:.0%} of those 7s and 9s. The top row is reached by "
            f"{sum(counts['top 1']):,} images, the left column by {sum(counts['left 1']):,}, "
            f"the right column by {sum(counts['right 1']):,}. The article reads the lines "
            "along the edges of the output pictures as answers to the few digits that write "
            "there."]


def _single_layer(s: Summary, nets: Nets) -> list[str]:
    single, full = s["runs"][nets.single], s["runs"][nets.full]
    fidelity = s["beyond"]["median_fidelity"][nets.single][0]
    gap = 100 * (full["test_accuracy"] - single["test_accuracy"])
    return ["Without hidden layers (784-10) each output node is a template: its weights are "
            f"exactly what it looks for (median fidelity {fidelity:.3f}). Trained on "
            f"{single['train_samples']:,} images it reaches {_percent(single['test_accuracy'])}"
            f", {gap:.1f} points below the net with hidden layers."]


def _exact(s: Summary, nets: Nets) -> list[str]:
    beyond = s["beyond"]
    medians = "; ".join(f"{name}: {_joined(values)}"
                        for name, values in beyond["median_fidelity"].items())
    return [f"A node's exact picture is its mean input-gradient over {beyond['reference']:,} "
            "test images, ReLU masks included. Median cosine similarity between it and the "
            f"article's linear picture, per layer: {medians}. The figures sort a layer's nodes "
            "by this fidelity and draw the most and least faithful side by side."]


def _examples(s: Summary, nets: Nets) -> list[str]:
    beyond = s["beyond"]
    dead = "; ".join(f"{name}: {_joined(values, '{:d}')}"
                     for name, values in beyond["dead_nodes"].items())
    return ["The test images that excite each node most, with its firing rate and preferred "
            f"class. Nodes that never fire on the {beyond['reference']:,} reference images: "
            f"{dead}."]


def _maximize(s: Summary, nets: Nets) -> list[str]:
    seconds = s["beyond"]["seconds"]
    took = ", ".join(f"{key.split(' ')[0]} {value:.2f} s" for key, value in seconds.items()
                     if key.endswith(" maximize"))
    return ["The input each node responds to most, found by gradient ascent from a blank image "
            f"(time taken: {took})."]


def _evolution(s: Summary, nets: Nets) -> list[str]:
    lines = []
    for name in (nets.small, nets.full):
        history = s["runs"][name]["history"]["accuracy"]
        lines.append(f"{name} from {_percent(history[0])} after epoch 1 to "
                     f"{_percent(history[-1])} after epoch {len(history)}")
    return ["The output pictures through training, frame by frame, with the step and test "
            f"accuracy in each frame. Training accuracy rose: {'; '.join(lines)}."]


def _checks(s: Summary, nets: Nets) -> list[str]:
    told = []
    for name, found in s["checks"].items():
        verdicts = Counter(value["verdict"] for row in found["rows"]
                           for key, value in row.items() if key != "method")
        counts = ", ".join(f"{count} {verdict}" for verdict, count in sorted(verdicts.items()))
        others = [f"{row['method']} ({key.replace('_', ' ')})" for row in found["rows"]
                  for key, value in row.items() if key != "method" and value["verdict"] != "pass"]
        told.append(f"{name}, {len(found['rows'])} methods: {counts}"
                    + (f"; not passed: {', '.join(others)}" if others else ""))
    return ["Does each picture mean something? Every method is checked: its pictures must "
            "change when the weights are re-initialised or the labels shuffled, and deleting "
            "the pixels it marks must hurt the prediction more than deleting random ones. "
            f"Verdicts: {'. '.join(told)}. checks.md in each net's folder explains them."]


def _features(s: Summary, nets: Nets) -> list[str]:
    told = [f"Layer {f['layer']}: {f['features']:,} features explain "
            f"{f['variance_explained']:.1%} of the variance with {f['mean_l0']:.0f} active at "
            "a time; the net with the layer replaced by their reconstruction scores "
            f"{_percent(f['spliced_accuracy'])} (itself {_percent(f['accuracy'])}); median "
            f"selectivity {f['median_selectivity']['features']:.2f} for features, "
            f"{f['median_selectivity']['nodes']:.2f} for nodes."
            for f in s["features"][nets.full]]
    return [f"A sparse dictionary of each hidden layer of {nets.full} splits its activity into "
            "features, each drawn like a node.", *told]


def _circuits(s: Summary, nets: Nets) -> list[str]:
    found = s["circuits"]
    right = sum(1 for c in found if c["predicted"] == c["digit"])
    wrong = [f"the {c['digit']} (test image {c['index']}) is read as {c['predicted']}"
             for c in found if c["predicted"] != c["digit"]]
    return [f"For the first test image of each digit, the nodes and edges of {nets.full} that "
            f"carry most of its logit. {right} of {len(found)} are classified correctly"
            + (f"; {'; '.join(wrong)}." if wrong else ".")]


def _other(s: Summary, nets: Nets) -> list[str]:
    return ["Pictures of the methods registered beside mlplens' own, drawn the same way."]


# (id, title, teller, beyond the article?) in the order the page tells them; a title's {small}
# and {full} are the training-set sizes of the two 784-512-256-10 nets.
STORY: tuple[tuple[str, str, Teller, bool], ...] = (
    ("network", "The network", _network, False),
    ("mnist", "MNIST", _mnist, False),
    ("hidden-1", "Hidden layer 1", _hidden_1, False),
    ("hidden-2", "Hidden layer 2", _hidden_2, False),
    ("output", "The output layer", _output, False),
    ("training-size", "{small:,} vs {full:,} images", _training_size, False),
    ("where-digits-write", "Where digits write", _where_digits_write, False),
    ("single-layer", "The single-layer net", _single_layer, False),
    ("exact", "Exact pictures and fidelity", _exact, True),
    ("examples", "Dataset examples", _examples, True),
    ("maximize", "Maximize", _maximize, True),
    ("evolution", "Training evolution", _evolution, True),
    ("checks", "Sanity checks", _checks, True),
    ("features", "Sparse features", _features, True),
    ("circuits", "Circuits", _circuits, True),
    ("other-methods", "Other methods", _other, True),
)


def story_sections(summary: Summary, nets: Nets,
                   figures: Mapping[str, Sequence[Figure]]) -> list[Section]:
    """The sections that have figures, in the story's order, told from `summary`."""
    sizes = {"small": summary["runs"][nets.small]["train_samples"],
             "full": summary["runs"][nets.full]["train_samples"]}
    return [Section(key, title.format(**sizes), tuple(tell(summary, nets)),
                    tuple(figures[key]), beyond)
            for key, title, tell, beyond in STORY if figures.get(key)]
