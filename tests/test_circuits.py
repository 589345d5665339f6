"""Circuits: the exact decomposition of a logit, its pruning, interventions and the pruning
curves, the diagram's selections, and the `diagram` / `prune` commands' errors."""

from __future__ import annotations

import json
import xml.dom.minidom

import numpy as np
import pytest

from mlplens import DenseStack, attribute, intervene, load_stack, prune
from mlplens.core.circuits.circuit import fewest_for_share
from mlplens.core.circuits.intervene import pruning_curves, removal_counts
from mlplens.core.forward import brightness, pre_activations
from mlplens.core.mnist_like import mnist_like
from mlplens.digit_image import read_digit
from mlplens.layout.diagram import circuit_diagram, place, weights_diagram

from .helpers import assert_one_error_line, run_cli


def random_net(widths=(784, 64, 32, 10), seed=0) -> DenseStack:
    rng = np.random.default_rng(seed)
    kernels = [rng.normal(0, 1 / np.sqrt(a), (a, b)) for a, b in zip(widths, widths[1:])]
    biases = [rng.normal(0, 0.1, b) for b in widths[1:]]
    return DenseStack.from_arrays(kernels, biases)


def assert_conserved(stack: DenseStack, images: np.ndarray) -> float:
    """Pixels + biases = logit for every image, to 1e-4 relative; returns the worst."""
    worst = 0.0
    for image in brightness(images):
        attribution = attribute(stack, image)
        relative = attribution.conservation_error(stack) / max(abs(attribution.logit), 1e-3)
        worst = max(worst, relative)
        # every layer's nodes plus the biases above them also add up to the logit
        for layer in range(1, len(stack.layers)):
            above = sum(attribution.biases(k, stack).sum()
                        for k in range(layer + 1, len(stack.layers) + 1))
            assert attribution.nodes(layer).sum() + above == pytest.approx(attribution.logit,
                                                                           rel=1e-9, abs=1e-9)
    assert worst < 1e-4
    return worst


def test_conservation_on_a_random_net(mnist):
    assert_conserved(random_net(), mnist.x_test[:200])


@pytest.mark.slow
def test_conservation_on_a_trained_net(small_run, mnist):
    assert_conserved(load_stack(small_run / "model.keras"), mnist.x_test[:200])


def _logit(kernels, biases, x, target):
    values = x
    for index, (kernel, bias) in enumerate(zip(kernels, biases)):
        values = values @ kernel + bias
        if index < len(kernels) - 1:
            values = np.maximum(values, 0)
    return values[target]


def test_edge_contributions_match_finite_differences(mnist):
    """d logit / d W_ij times W_ij is the edge's a_i W_ij dz_c/dz_j."""
    stack = random_net((784, 12, 8, 10), seed=1)
    x = brightness(mnist.x_test[:1])[0].astype(np.float64)
    attribution = attribute(stack, x)
    kernels = [k.astype(np.float64) for k in stack.kernels]
    biases = [b.astype(np.float64) for b in stack.biases]
    rng = np.random.default_rng(0)
    step = 1e-6
    for layer in (2, 3):
        edges = attribution.edges(layer)
        for _ in range(6):
            i, j = rng.integers(edges.shape[0]), rng.integers(edges.shape[1])
            plus = [k.copy() for k in kernels]
            minus = [k.copy() for k in kernels]
            plus[layer - 1][i, j] += step
            minus[layer - 1][i, j] -= step
            slope = (_logit(plus, biases, x, attribution.target)
                     - _logit(minus, biases, x, attribution.target)) / (2 * step)
            assert slope * kernels[layer - 1][i, j] == pytest.approx(edges[i, j], abs=1e-7)
        # a node's outgoing edges add up to its contribution
        assert edges.sum(axis=1) == pytest.approx(attribution.nodes(layer - 1), abs=1e-9)
    aggregated = attribution.input_edges()
    assert aggregated == pytest.approx(attribution.edges(1).sum(axis=0), abs=1e-9)


def test_the_pruned_circuit_keeps_the_share_and_is_minimal(mnist):
    stack = random_net(seed=2)
    for image, keep in zip(brightness(mnist.x_test[:3]), (0.9, 0.5, 1.0)):
        circuit = prune(attribute(stack, image), keep)
        attribution = circuit.attribution
        groups = [(attribution.nodes(k), circuit.nodes[k - 1]) for k in (1, 2)]
        for values, kept in groups:
            magnitude = np.abs(values)
            assert magnitude[kept].sum() >= keep * magnitude.sum() * (1 - 1e-12)
            smaller = np.sort(magnitude[kept])[1:].sum()
            assert smaller < keep * magnitude.sum()
        for values, share in zip(circuit.edge_values, circuit.edge_shares):
            assert share >= keep * (1 - 1e-12)
            magnitude = np.sort(np.abs(values))
            if len(magnitude) > 1 and keep < 1:
                assert magnitude[1:].sum() / (magnitude.sum() / share) < keep
        # edges join kept nodes only
        assert set(circuit.edges[1][:, 0]) <= set(circuit.nodes[0])
        assert set(circuit.edges[1][:, 1]) <= set(circuit.nodes[1])
        assert set(circuit.edges[2][:, 1]) == {attribution.target}


def test_fewest_for_share_by_hand():
    assert list(fewest_for_share(np.array([1.0, -5.0, 3.0, 1.0]), 0.8)) == [1, 2]
    assert list(fewest_for_share(np.array([1.0, -5.0, 3.0, 1.0]), 0.5)) == [1]
    assert len(fewest_for_share(np.zeros(4), 0.9)) == 0


def test_intervene_ablates_and_clamps(mnist):
    stack = random_net((784, 16, 8, 10), seed=3)
    x = brightness(mnist.x_test[:20])
    plain = intervene(stack, x)
    assert np.allclose(plain[-1], np.exp(pre_activations(stack, x)[-1]) /
                       np.exp(pre_activations(stack, x)[-1]).sum(axis=1, keepdims=True),
                       atol=1e-6)
    changed = intervene(stack, x, ablate={1: [0, 3]}, clamp={(2, 5): 2.5})
    assert (changed[0][:, [0, 3]] == 0).all()
    assert (changed[1][:, 5] == 2.5).all()
    by_hand = np.maximum(changed[0] @ stack.kernels[1] + stack.biases[1], 0)
    by_hand[:, 5] = 2.5
    assert np.allclose(changed[1], by_hand)


def test_pruning_curves_equal_a_brute_force_loop(mnist):
    stack = random_net((784, 16, 8, 10), seed=4)
    images, labels = mnist.x_test[:300], mnist.y_test[:300]
    rng = np.random.default_rng(0)
    scores = {"a": rng.random(8), "b": -np.arange(8.0)}
    counts = removal_counts(8, 4)
    assert list(counts) == [0, 2, 4, 6, 8]
    curves = pruning_curves(stack, images, labels, 2, scores, counts)
    for name, score in scores.items():
        order = np.argsort(score, kind="stable")
        for count, accuracy in zip(counts, curves[name]):
            probabilities = intervene(stack, brightness(images),
                                      ablate={2: list(order[:count])})[-1]
            assert accuracy == pytest.approx((probabilities.argmax(1) == labels).mean())


def hand_net() -> DenseStack:
    """4 pixels -> 4 hidden -> 3 hidden -> 2 outputs, with weight scores set by hand."""
    w1 = np.zeros((4, 4))
    w1[:, 0], w1[:, 1], w1[:, 2], w1[:, 3] = 1.0, 0.1, 2.0, 0.5  # incoming norms 2, .2, 4, 1
    w2 = np.array([[0.5, 0.0, 0.0], [9.0, 9.0, 9.0], [0.1, -3.0, 0.2], [1.0, 1.0, 0.0]])
    w3 = np.array([[1.0, 0.0], [0.0, -2.0], [0.1, 0.1]])
    return DenseStack.from_arrays([w1, w2, w3], image_shape=(2, 2))


def test_the_diagram_shows_the_nodes_of_largest_weight_score_and_their_strongest_edges():
    spec = weights_diagram(hand_net(), max_nodes=2, top_k=1)
    # layer 1 scores: node 0: 2 x 0.5 = 1; 1: 0.2 x 15.6 = 3.1; 2: 4 x 3.0 = 12.0; 3: 1 x 1.41
    assert list(spec.columns[0].nodes) == [2, 1]
    assert spec.columns[0].more == "+2 more (by weight score)"
    # layer 2 scores: node 0: |(.5, 9, .1, 1)| x 1 ; node 1: |(0, 9, -3, 1)| x 2; node 2: small
    assert list(spec.columns[1].nodes) == [1, 0]
    assert list(spec.columns[2].nodes) == [0, 1] and spec.columns[2].more == ""
    edges = {(e.column, e.source, e.target): e.value for e in spec.edges}
    # into layer 1: a plain connector from the input to each shown node
    assert {k for k in edges if k[0] == 1} == {(1, -1, 0), (1, -1, 1)}
    # into layer 2: shown sources (2, 1) x targets (1, 0); each row's and column's strongest
    assert {k: v for k, v in edges.items() if k[0] == 2} == {(2, 1, 0): 9.0, (2, 1, 1): 9.0,
                                                            (2, 0, 0): -3.0}
    assert {k: v for k, v in edges.items() if k[0] == 3} == {(3, 0, 1): -2.0, (3, 1, 0): 1.0}
    layout = place(spec, width=800)
    assert layout.width == 800
    assert all(len(y) == len(c.nodes) for y, c in zip(layout.node_y, spec.columns))
    x0, y0, x1, y1 = layout.edge_ends(spec.edges[-1])
    assert x0 < x1


def test_the_circuit_diagram_draws_kept_nodes_most_positive_first(mnist):
    stack = random_net(seed=5)
    circuit = prune(attribute(stack, brightness(mnist.x_test[:1])[0]), 0.9)
    spec = circuit_diagram(stack, circuit, max_nodes=5, top_k=2, label=7)
    for layer, column in enumerate(spec.columns[:-1], start=1):
        values = circuit.attribution.nodes(layer)[column.nodes]
        assert set(column.nodes) <= set(circuit.nodes[layer - 1])
        assert list(values) == sorted(values, reverse=True)
    assert spec.columns[-1].highlight == circuit.attribution.target
    assert all(e.target == circuit.attribution.target for e in spec.edges if e.column == 3)


def test_a_photo_of_a_dark_digit_on_paper_becomes_mnist_like(tmp_path):
    from PIL import Image

    paper = np.full((60, 40), 230, dtype=np.uint8)
    paper[10:50, 18:24] = 20  # a dark stroke: a "1"
    Image.fromarray(paper).save(tmp_path / "one.png")
    Image.fromarray(paper).convert("RGB").save(tmp_path / "one.jpg", quality=95)
    digit = read_digit(tmp_path / "one.png")
    assert np.array_equal(digit, mnist_like(np.clip((230 - paper.astype(float)) / 230, 0, 1)))
    assert digit[14, 14] > 200 and digit[0, 0] == 0
    photo = read_digit(tmp_path / "one.jpg")  # JPEG ringing stays out of the crop
    for axis in (0, 1):
        assert abs(int(np.flatnonzero(photo.any(axis=axis)).size)
                   - int(np.flatnonzero(digit.any(axis=axis)).size)) <= 1
    assert photo.sum() == pytest.approx(digit.sum(), rel=0.15)


@pytest.fixture
def npz_model(tmp_path):
    from mlplens import save_stack

    path = tmp_path / "net.npz"
    save_stack(random_net((784, 24, 12, 10), seed=6), path)
    return path


@pytest.mark.slow
def test_diagram_and_circuit_end_to_end(npz_model, tmp_path):
    result = run_cli("diagram", str(npz_model), "--out", str(tmp_path / "d"))
    assert result.returncode == 0, result.stderr
    result = run_cli("diagram", str(npz_model), "--out", str(tmp_path / "c"), "--test-index",
                     "0", "--keep", "0.8")
    assert result.returncode == 0, result.stderr
    for folder, stem in (("d", "diagram"), ("c", "circuit")):
        assert (tmp_path / folder / f"{stem}.png").stat().st_size > 1000
        svg = xml.dom.minidom.parse(str(tmp_path / folder / f"{stem}.svg"))
        assert svg.getElementsByTagName("title")
    record = json.loads((tmp_path / "c" / "circuit.json").read_text())
    assert record["keep"] == 0.8 and record["label"] == 7
    assert record["decomposition"]["relative_error"] < 1e-9
    assert all(layer["node_share_kept"] >= 0.8 for layer in record["layers"][:-1])


@pytest.mark.slow
def test_diagram_errors_are_one_line(npz_model, tmp_path):
    out = str(tmp_path / "out")
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    assert_one_error_line(run_cli("diagram", str(npz_model), "--out", out, "--image", str(bad)),
                          "bad.png", "PNG or JPEG")
    assert_one_error_line(run_cli("diagram", str(npz_model), "--out", out, "--test-index",
                                  "10000"), "--test-index", "0-9999")
    for keep in ("0", "1.5", "nan"):
        assert_one_error_line(run_cli("diagram", str(npz_model), "--out", out, "--keep", keep),
                              "--keep", "(0, 1]")
    assert_one_error_line(run_cli("prune", str(npz_model), "--out", out, "--layers", "3"),
                          "layer 3 is not a hidden layer")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_prune_writes_the_curves(npz_model, tmp_path):
    result = run_cli("prune", str(npz_model), "--out", str(tmp_path / "p"), "--steps", "4",
                     "--reference", "500")
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "p" / "pruning.json").read_text())
    assert [entry["layer"] for entry in data["layers"]] == [1, 2]
    assert data["test_images"] == 9500
    for entry in data["layers"]:
        assert set(entry["accuracy"]) == {"contribution", "weight", "random"}
        assert entry["fractions"][0] == 0 and entry["fractions"][-1] == 1
    assert (tmp_path / "p" / "pruning.png").stat().st_size > 1000
