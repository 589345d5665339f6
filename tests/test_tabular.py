"""Tabular models: a node's "picture" is a bar chart of its values over the named features,
largest |value| first; written as layer-<k>.png (one chart per node), layer-<k>.csv and arrays."""

from __future__ import annotations

import csv
import warnings

import numpy as np
import pytest
from PIL import Image

from mlplens.layout.bars import layer_bars, sorted_by_magnitude
from mlplens.methods import project
from mlplens.core.stack import DenseStack
from mlplens.errors import MlplensError
from mlplens.formats import load_stack
from mlplens.figures.layers import visualize_stack
from mlplens.render.bars import BAR_HEIGHT, PANEL_FRAME, PANEL_WIDTH, bar_grid

from .helpers import assert_one_error_line, run_cli

NAMES = ("age", "height", "weight", "income")
# Hand-made weights: 4 features -> 3 hidden nodes -> 2 classes.
W1 = np.array([[1.0, -3.0, 0.5],
               [2.0, 0.0, -1.0],
               [-4.0, 1.0, 0.25],
               [0.5, 2.0, 3.0]], np.float32)
W2 = np.array([[1.0, 0.0],
               [0.0, -1.0],
               [2.0, 1.0]], np.float32)
# Per node, (feature, value) by |value|, largest first; ties keep the features' order.
LAYER_1 = [[("weight", -4.0), ("height", 2.0), ("age", 1.0), ("income", 0.5)],
           [("age", -3.0), ("income", 2.0), ("weight", 1.0), ("height", 0.0)],
           [("income", 3.0), ("height", -1.0), ("age", 0.5), ("weight", 0.25)]]
# W1 @ W2 by hand: node 0 = W1[:, 0] + 2 W1[:, 2]; node 1 = -W1[:, 1] + W1[:, 2].
LAYER_2 = [[("income", 6.5), ("weight", -3.5), ("age", 2.0), ("height", 0.0)],
           [("age", 3.5), ("height", -1.0), ("income", 1.0), ("weight", -0.75)]]


def hand_stack() -> DenseStack:
    return DenseStack.from_arrays([W1, W2], input_names=NAMES)


def read_csv(path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def per_node(rows: list[dict[str, str]]) -> list[list[tuple[str, float]]]:
    nodes: dict[int, list[tuple[str, float]]] = {}
    for row in rows:
        nodes.setdefault(int(row["node"]), []).append((row["feature"], float(row["value"])))
    return [nodes[node] for node in sorted(nodes)]


def test_sorted_by_magnitude_is_stable_on_ties():
    order, values = sorted_by_magnitude(np.array([[1.0, -2.0, 2.0, 0.0, -1.0]], np.float32))
    assert order.tolist() == [[1, 2, 0, 4, 3]]
    assert values.tolist() == [[-2.0, 2.0, 1.0, -1.0, 0.0]]


def test_hand_made_stack_exact_bars_csv_and_arrays(tmp_path):
    written = visualize_stack(hand_stack(), tmp_path, "linear", class_names=("no", "yes"))
    assert [path.name for path in written.paths] == [
        "layer-1.png", "layer-1.csv", "layer-2.png", "layer-2.csv", "arrays.npz"]
    layer1, layer2 = read_csv(tmp_path / "layer-1.csv"), read_csv(tmp_path / "layer-2.csv")
    assert per_node(layer1) == LAYER_1
    assert per_node(layer2) == LAYER_2
    assert [row["label"] for row in layer2[::4]] == ["0: no", "1: yes"]
    assert [row["label"] for row in layer1[::4]] == ["node 0", "node 1", "node 2"]
    assert [int(row["rank"]) for row in layer1[:4]] == [1, 2, 3, 4]
    arrays = np.load(tmp_path / "arrays.npz")
    assert arrays["feature_names"].tolist() == list(NAMES)
    np.testing.assert_array_equal(arrays["raw_1"], W1.T)
    np.testing.assert_array_equal(arrays["raw_2"], (W1 @ W2).T)
    assert arrays["order_2"].tolist() == [[3, 2, 0, 1], [0, 1, 3, 2]]
    assert arrays["sorted_2"].tolist() == [[6.5, -3.5, 2.0, 0.0], [3.5, -1.0, 1.0, -0.75]]
    # One chart per node: the grid of 3 (layer 1) and 2 (layer 2) panels of 4 bars, 100 dpi.
    height = round(100 * (BAR_HEIGHT * 4 + PANEL_FRAME + 0.7))
    assert Image.open(tmp_path / "layer-1.png").size == (round(100 * PANEL_WIDTH * 3), height)
    assert Image.open(tmp_path / "layer-2.png").size == (round(100 * PANEL_WIDTH * 2), height)


def test_png_bars_coloured_by_sign(tmp_path):
    import matplotlib

    visualize_stack(hand_stack(), tmp_path, "linear")
    pixels = np.asarray(Image.open(tmp_path / "layer-2.png").convert("RGB")).astype(int)
    colours = matplotlib.colormaps["RdBu_r"]

    def area(shade: float) -> int:
        rgb = np.round(np.array(colours(shade)[:3]) * 255).astype(int)
        return int((np.abs(pixels - rgb).max(axis=-1) <= 1).sum())

    # Node 0: income +6.5 is the darkest red; weight -3.5 a mid blue (0.5 - 0.5 * 3.5 / 6.5).
    assert colours(1.0)[0] > 0.4 and colours(0.5 - 0.5 * 3.5 / 6.5)[2] > 0.7
    assert area(1.0) > 2000
    assert area(0.5 - 0.5 * 3.5 / 6.5) > 1000
    assert area(0.0) == 0  # no bar reaches the most negative end in this layer


def test_top_n_and_more_note_and_grid():
    rng = np.random.default_rng(0)
    names = tuple(f"f{i}" for i in range(5))
    stack = DenseStack.from_arrays([rng.normal(size=(5, 7)).astype(np.float32),
                                    rng.normal(size=(7, 2)).astype(np.float32)],
                                   input_names=names)
    bars = layer_bars(stack, project(stack, "linear"), top=2)
    assert [b.shown for b in bars] == [2, 2] and [b.more for b in bars] == [3, 3]
    assert bars[0].title == "Layer 1: 7 nodes (linear; top 2 of 5 features by |value|)"
    assert bars[1].title == ("Output layer: 2 nodes, one per class (linear; top 2 of 5 features "
                             "by |value|)")
    first = bars[0]
    expected = sorted(range(5), key=lambda i: -abs(float(stack.kernels[0][i, 3])))[:2]
    assert first.names(3) == tuple(f"f{i}" for i in expected)
    shades = first.shades()
    assert shades.shape == (7, 2)
    np.testing.assert_allclose(np.abs(shades[:, 0] - 0.5), 0.5)  # the largest is at an end
    figure = bar_grid(first.labels, [first.names(r) for r in range(7)],
                      first.values[:, :2], shades, first.more, first.title)
    visible = [ax for ax in figure.axes if ax.axison]
    assert len(visible) == 7 and len(figure.axes) == 8  # a 4 x 2 grid, one left empty
    assert [ax.get_title() for ax in visible] == [f"node {i}" for i in range(7)]
    assert {ax.get_xlabel() for ax in visible} == {"+3 more"}
    assert [t.get_text() for t in visible[3].get_yticklabels()] == list(first.names(3))
    assert figure.get_size_inches().tolist() == pytest.approx(
        [4 * PANEL_WIDTH, 2 * (2 * BAR_HEIGHT + PANEL_FRAME) + 0.7])


def test_gradient_and_examples_on_rows(tmp_path):
    stack = hand_stack()
    rng = np.random.default_rng(1)
    rows = rng.normal(size=(40, 4)).astype(np.float32)
    labels = np.arange(40) % 2
    visualize_stack(stack, tmp_path / "g", "gradient", reference=rows, labels=labels)
    # A first-layer node's input-gradient is its weight column, whatever the rows.
    assert per_node(read_csv(tmp_path / "g" / "layer-1.csv")) == LAYER_1
    visualize_stack(stack, tmp_path / "e", "examples", reference=rows, labels=labels, k=3)
    hidden = np.maximum(rows @ W1, 0)
    arrays = np.load(tmp_path / "e" / "arrays.npz")
    for node in range(3):
        top = np.argsort(-hidden[:, node], kind="stable")[:3]
        np.testing.assert_allclose(arrays["raw_1"][node], rows[top].mean(axis=0), rtol=1e-6)
    assert arrays["examples_1"].shape == (3, 3)
    assert (tmp_path / "e" / "nodes.csv").is_file()
    assert not list((tmp_path / "e").glob("examples-*.png"))  # no strips of 1x4 "images"


def test_maximize_refuses_a_table():
    with pytest.raises(MlplensError, match="^the maximize method climbs from a grey image"):
        project(hand_stack(), "maximize")


def _npz_model(tmp_path):
    path = tmp_path / "table.npz"
    np.savez(path, W1=W1, b1=np.zeros(3, np.float32), W2=W2, b2=np.zeros(2, np.float32))
    return path


@pytest.mark.slow
def test_cli_feature_names_and_refusals(tmp_path):
    model = _npz_model(tmp_path)
    names = tmp_path / "names.txt"
    names.write_text("\n".join(NAMES) + "\n")
    result = run_cli("visualize", str(model), "--feature-names", f"@{names}", "--out",
                     str(tmp_path / "v"))
    assert result.returncode == 0, result.stderr
    assert per_node(read_csv(tmp_path / "v" / "layer-2.csv")) == LAYER_2
    assert_one_error_line(
        run_cli("visualize", str(model), "--feature-names", "a,b,c", "--out", str(tmp_path / "x")),
        f"{model}: 3 feature names for a first layer that takes 4 inputs")
    five = tmp_path / "five.npz"  # 4 inputs would pass for a 2x2 image
    np.savez(five, W1=np.ones((5, 3), np.float32), W2=W2)
    assert_one_error_line(
        run_cli("visualize", str(five), "--out", str(tmp_path / "x")),
        f"{five}: the model takes 5 inputs, which is not a square image; pass --image-shape H W"
        ", or for a table of features --feature-names with its 5 names (or --data with named "
        "features)")
    assert_one_error_line(
        run_cli("visualize", str(model), "--feature-names", "a,b,a,c", "--out",
                str(tmp_path / "x")),
        "argument --feature-names: feature names must differ: a given more than once in 'a,b,a,c'")
    assert_one_error_line(
        run_cli("visualize", str(model), "--feature-names", "a,b,c,d", "--method", "maximize",
                "--out", str(tmp_path / "x")),
        f"{model}: the maximize method climbs from a grey image")
    assert_one_error_line(
        run_cli("explore", str(model), "--feature-names", "a,b,c,d", "-o",
                str(tmp_path / "x.html")),
        "table.npz takes 4 named features, not an image: the explorer")
    assert not (tmp_path / "x").exists() and not (tmp_path / "x.html").exists()


def _sorted_by_hand(column: np.ndarray, names: tuple[str, ...]) -> list[tuple[str, float]]:
    """Independent of layout.bars: Python's sort, stable, on float32 values."""
    pairs = [(names[i], float(np.float32(column[i]))) for i in range(len(names))]
    return sorted(pairs, key=lambda pair: -abs(pair[1]))


@pytest.mark.slow
def test_trained_on_bundled_table_end_to_end(tmp_path):
    """breast-cancer through the command line (wine's three classes: the hand-made stacks)."""
    dataset, classes = "breast-cancer", 2
    from mlplens.datasets import load_dataset
    from mlplens.keras_backend import import_keras

    run = tmp_path / "run"
    trained = run_cli("train", "--data", dataset, "--hidden", "4", "--epochs", "2",
                      "--batch-size", "32", "--out", str(run))
    assert trained.returncode == 0, trained.stderr
    result = run_cli("visualize", str(run / "model.keras"), "--data", dataset, "--out",
                     str(tmp_path / "v"))
    assert result.returncode == 0, result.stderr
    data = load_dataset(dataset)
    assert load_stack(run / "model.keras").input_names == data.feature_names  # recorded
    w1, _, w2, _ = import_keras().saving.load_model(run / "model.keras").get_weights()
    names = data.feature_names
    first = per_node(read_csv(tmp_path / "v" / "layer-1.csv"))
    output_rows = read_csv(tmp_path / "v" / "layer-2.csv")
    output = per_node(output_rows)
    assert len(first) == 4 and len(output) == classes
    product = w1.astype(np.float64) @ w2.astype(np.float64)
    for node in range(4):
        assert [f for f, _ in first[node]] == [f for f, _ in _sorted_by_hand(w1[:, node], names)]
        np.testing.assert_array_equal([v for _, v in first[node]],
                                      [v for _, v in _sorted_by_hand(w1[:, node], names)])
    for node in range(classes):
        by_hand = _sorted_by_hand(product[:, node], names)
        assert [f for f, _ in output[node]] == [f for f, _ in by_hand]
        np.testing.assert_allclose([v for _, v in output[node]], [v for _, v in by_hand],
                                   rtol=1e-6)
    assert [row["label"] for row in output_rows[::len(names)]] == [
        f"{i}: {name}" for i, name in enumerate(data.class_names)]
    height = round(100 * (BAR_HEIGHT * min(12, len(names)) + PANEL_FRAME + 0.7))
    assert Image.open(tmp_path / "v" / "layer-2.png").size == (
        round(100 * PANEL_WIDTH * classes), height)


@pytest.mark.parametrize("suffix", [".npz", ".onnx", ".safetensors"])
def test_every_format_reads_as_tabular(tmp_path, suffix):
    from mlplens.formats.export import save_stack

    path = tmp_path / f"model{suffix}"
    save_stack(hand_stack(), path)
    stack = load_stack(path, input_names=NAMES)
    assert stack.is_tabular and stack.input_names == NAMES and stack.image_shape == (1, 4)
    recorded = load_stack(path)  # the file records its feature names: none need be given
    assert recorded.input_names == NAMES and recorded.image_shape == (1, 4)
    np.testing.assert_array_equal(stack.kernels[0], W1)
    with pytest.raises(MlplensError, match=r"3 feature names for a first layer that takes 4"):
        load_stack(path, input_names=NAMES[:3])


def test_scikit_learn_mlp_read_as_tabular():
    from sklearn.neural_network import MLPClassifier

    from mlplens.formats import stack_from

    rng = np.random.default_rng(0)
    rows = rng.normal(size=(60, 4))
    classifier = MLPClassifier(hidden_layer_sizes=(3,), max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 50 iterations do not converge; they need not
        classifier.fit(rows, (rows[:, 0] > 0).astype(int))
    stack = stack_from(classifier, input_names=NAMES)
    assert stack.input_names == NAMES and stack.widths == (3, 1)
    bars = layer_bars(stack, project(stack, "linear"))
    column = classifier.coefs_[0][:, 2]
    expected = sorted(range(4), key=lambda i: -abs(float(np.float32(column[i]))))
    assert bars[0].names(2) == tuple(NAMES[i] for i in expected)
    assert stack_from(stack, input_names=("p", "q", "r", "s")).input_names == ("p", "q", "r", "s")


def test_check_refuses_a_table_in_one_line(tmp_path):
    path = tmp_path / "table.npz"
    rng = np.random.default_rng(0)
    np.savez(path, W1=rng.normal(size=(13, 4)).astype(np.float32),
             W2=rng.normal(size=(4, 3)).astype(np.float32))
    assert_one_error_line(
        run_cli("check", str(path), "--data", "wine", "--out", str(tmp_path / "c")),
        "table.npz: the checks compare pictures and delete pixels; this model takes 13 named "
        "features, not an image")
    assert not (tmp_path / "c").exists()
