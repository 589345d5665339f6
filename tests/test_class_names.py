"""Class names everywhere: the output layer's tiles, nodes.json/nodes.csv, example captions, the
circuit and pruning records and the explorer's data. MNIST's names are its digits, so its
figures stay as they were: names "0".."K-1" draw exactly what no names draw."""

from __future__ import annotations

import base64
import csv
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mlplens import DenseStack
from mlplens.core.circuits.circuit import attribute, prune
from mlplens.core.classes import class_names_for
from mlplens.core.node_statistics import node_statistics
from mlplens.core.pixel_scale import PixelScale
from mlplens.figures.diagram import write_circuit
from mlplens.figures.layers import default_scale, render_view, visualize_stack
from mlplens.figures.pruning import pruning_data
from mlplens.layout.diagram import circuit_diagram
from mlplens.layout.views import layer_views
from mlplens.render import Legend, colormap_lut, node_mosaic
from mlplens.render.mosaic import _font, _text_width
from mlplens.render.text import fitted
from mlplens.report.pagedata import explorer_data

NAMES = ("cat", "dog", "bird")
# 2x2 images of the tiny net and their classes: two of each.
IMAGES = np.array([[[255, 0], [0, 0]], [[0, 255], [0, 0]], [[0, 0], [255, 0]],
                   [[0, 0], [0, 255]], [[255, 255], [0, 0]], [[0, 0], [255, 255]]], np.uint8)
LABELS = np.array([0, 0, 1, 1, 2, 2])


def test_class_names_are_the_datas_then_numbers():
    assert class_names_for(None, 3) == ("0", "1", "2")
    assert class_names_for(NAMES, 3) == NAMES
    assert class_names_for(("a",), 3) == ("a", "1", "2")  # more outputs than named classes
    assert class_names_for(NAMES, 2) == ("cat", "dog")


def _png(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_the_output_tiles_are_labelled_with_the_class_names(tiny_stack, tmp_path):
    visualize_stack(tiny_stack, tmp_path / "plain")
    visualize_stack(tiny_stack, tmp_path / "digits", class_names=("0", "1", "2"))
    visualize_stack(tiny_stack, tmp_path / "named", class_names=NAMES)
    for layer in ("layer-1.png", "layer-2.png"):  # names "0".."2": byte for byte the same
        assert (tmp_path / "digits" / layer).read_bytes() == (tmp_path / "plain" / layer).read_bytes()
    assert (tmp_path / "named" / "layer-1.png").read_bytes() == \
        (tmp_path / "plain" / "layer-1.png").read_bytes()  # hidden nodes keep their numbers
    view = layer_views(tiny_stack, "linear")[1]
    scale = default_scale(3, max(tiny_stack.image_shape))
    expected = node_mosaic(view.images, colormap_lut("gray"), labels=NAMES, scale=scale,
                           title=view.title, legend=Legend(*view.legend), fit_labels=True)
    np.testing.assert_array_equal(_png(tmp_path / "named" / "layer-2.png"), np.asarray(expected))
    assert not np.array_equal(_png(tmp_path / "named" / "layer-2.png"),
                              _png(tmp_path / "plain" / "layer-2.png"))
    # A subset of output nodes (maximize's chosen nodes) is labelled by each node's class.
    shown = view.__class__(**{**view.__dict__, "images": view.images[[2, 0]],
                              "nodes": np.array([2, 0]), "labels": ("2", "0")})
    np.testing.assert_array_equal(
        np.asarray(render_view(shown, "gray", 4, class_names=NAMES)),
        np.asarray(node_mosaic(shown.images, colormap_lut("gray"), labels=("bird", "cat"),
                               scale=4, title=view.title, legend=Legend(*view.legend),
                               fit_labels=True)))


def test_a_long_class_name_is_cut_to_its_tile():
    draw, font = ImageDraw.Draw(Image.new("RGB", (1, 1))), _font(12)

    def measure(text: str) -> int:
        return _text_width(draw, text, font)

    assert fitted("cat", 40, measure) == "cat"
    long = "a very long class name indeed"
    cut = fitted(long, 40, measure)
    assert cut.endswith("…") and long.startswith(cut[:-1]) and len(cut) < 20
    assert _text_width(draw, cut, font) <= 40
    assert _text_width(draw, long[:len(cut)] + "…", font) > 40  # one more letter: too wide


def test_nodes_json_and_csv_name_each_nodes_classes(tiny_stack, tmp_path):
    visualize_stack(tiny_stack, tmp_path, "examples", reference=IMAGES, labels=LABELS, k=2,
                    class_names=NAMES)
    stats = node_statistics(tiny_stack, IMAGES, LABELS)
    found = json.loads((tmp_path / "nodes.json").read_text())
    assert found["class_names"] == list(NAMES)
    rows = list(csv.DictReader((tmp_path / "nodes.csv").open()))
    assert list(rows[0]) == ["layer", "node", "firing_fraction", "dead", "preferred_class",
                             "selectivity", "mean_activation", "max_activation",
                             "preferred_class_name", "class_mean:cat", "class_mean:dog",
                             "class_mean:bird"]
    assert len(found["nodes"]) == len(rows) == 2 + 3
    for record, row in zip(found["nodes"], rows):
        layer = stats[record["layer"] - 1]
        preferred = int(layer.preferred_class[record["node"]])
        assert record["preferred_class"] == preferred
        assert record["preferred_class_name"] == row["preferred_class_name"] == NAMES[preferred]
        means = layer.class_means[:, record["node"]]
        assert record["class_means"] == {name: round(float(m), 6) for name, m in zip(NAMES, means)}
        assert [float(row[f"class_mean:{name}"]) for name in NAMES] == \
            [round(float(m), 6) for m in means]
    # Node 1 of layer 1 (weights 0, -1, 1, 3; bias -2) fires on the bottom row: bird.
    assert found["nodes"][1]["preferred_class_name"] == "bird"


def test_the_circuit_and_pruning_records_name_the_classes(tiny_stack, tmp_path):
    image = np.array([[0, 255], [255, 0]], np.uint8)
    _, circuit = write_circuit(tiny_stack, image, tmp_path, label=1, class_names=NAMES)
    record = json.loads((tmp_path / "circuit.json").read_text())
    target = circuit.attribution.target
    assert (record["predicted"], record["label"]) == (target, 1)
    assert (record["predicted_name"], record["label_name"]) == (NAMES[target], "dog")
    assert record["class_names"] == list(NAMES)
    spec = circuit_diagram(tiny_stack, prune(attribute(tiny_stack, image / 255.0), 0.9),
                           label=1, class_names=NAMES)
    assert spec.title.startswith(f"Why the net says {NAMES[target]} (true label dog): ")
    logits = circuit.attribution.logits
    assert spec.columns[-1].labels == tuple(f"{n}: {v:+.1f}" for n, v in zip(NAMES, logits))
    assert spec.columns[-1].highlight == target
    plain = circuit_diagram(tiny_stack, prune(attribute(tiny_stack, image / 255.0), 0.9), label=1)
    assert plain.columns[-1].labels == tuple(f"{n}: {v:+.1f}" for n, v in enumerate(logits))
    pruned = pruning_data(tiny_stack, IMAGES, IMAGES, LABELS, [1], steps=2, class_names=NAMES)
    assert pruned["class_names"] == list(NAMES)
    assert pruning_data(tiny_stack, IMAGES, IMAGES, LABELS, [1], steps=2)["class_names"] == \
        ["0", "1", "2"]


def _decode(text: str, dtype: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.dtype(dtype).newbyteorder("<"))


def test_the_explorer_data_names_classes_and_says_how_the_model_takes_pixels(tiny_stack):
    stats = node_statistics(tiny_stack, IMAGES, LABELS, colour_scale=True)
    floats = (IMAGES / 255).astype(np.float32) * np.float32(0.5)
    common = dict(digit_labels=LABELS, digit_source="", stats=stats, stats_source="",
                  colormaps={})
    data = explorer_data(tiny_stack, {}, digits=IMAGES, class_names=NAMES, **common)
    assert data["class_names"] == list(NAMES) and data["channels"] == 1
    assert data["input"] == "images"  # not 28x28: test images to pick, no drawing pad
    assert data["pixel_scale"] == {"high": 1.0, "mean": None, "std": None, "name": "0-1"}
    assert "brightness" not in data["digits"]
    np.testing.assert_array_equal(_decode(data["digits"]["pixels"], "u1"), IMAGES.ravel())
    scaled = tiny_stack.with_input(pixel_scale=PixelScale(mean=0.25, std=0.5))
    data = explorer_data(scaled, {}, digits=floats, **common)
    assert data["class_names"] == ["0", "1", "2"]
    assert data["pixel_scale"] == {"high": 1.0, "mean": 0.25, "std": 0.5,
                                   "name": "standardised:0.25,0.5"}
    np.testing.assert_array_equal(_decode(data["digits"]["brightness"], "f4"), floats.ravel())
    np.testing.assert_array_equal(_decode(data["digits"]["pixels"], "u1"),
                                  np.where(IMAGES.ravel() > 0, 128, 0))  # 127.5 rounds up
    mnist_sized = DenseStack.from_arrays([np.zeros((784, 3), np.float32)])
    assert explorer_data(mnist_sized, {}, digits=np.zeros((1, 28, 28), np.uint8),
                         digit_labels=[0], digit_source="", stats=[], stats_source="",
                         colormaps={})["input"] == "draw"
    colour = DenseStack.from_arrays([np.zeros((12, 3), np.float32)], image_shape=(2, 2),
                                    channels=3)
    data = explorer_data(colour, {}, digits=np.zeros((1, 2, 2, 3), np.uint8), digit_labels=[0],
                         digit_source="", stats=[], stats_source="", colormaps={})
    assert (data["channels"], data["input"]) == (3, "images")
    with pytest.raises(Exception, match=r"test images are \(2, 2\), the model takes \(2, 2, 3\)"):
        explorer_data(colour, {}, digits=np.zeros((1, 2, 2), np.uint8), digit_labels=[0],
                      digit_source="", stats=[], stats_source="", colormaps={})


def test_the_circuit_of_a_float_image_is_taken_on_the_models_pixel_scale(tiny_stack, tmp_path):
    image = np.array([[0.0, 0.5], [1.0, 0.25]], np.float32)  # brightness, as 8x8 digits are
    scaled = tiny_stack.with_input(pixel_scale=PixelScale(high=16))
    _, circuit = write_circuit(scaled, image, tmp_path, class_names=NAMES)
    exact = attribute(scaled, image.astype(np.float64) * 16)
    assert circuit.attribution.logit == exact.logit
    np.testing.assert_array_equal(circuit.attribution.logits, exact.logits)
    assert json.loads((tmp_path / "circuit.json").read_text())["predicted_name"] == \
        NAMES[exact.target]
    standard = tiny_stack.with_input(pixel_scale=PixelScale(mean=0.5, std=0.25))
    _, circuit = write_circuit(standard, (image * 255).round().astype(np.uint8), tmp_path / "u8")
    expected = attribute(standard, (np.round(image.astype(np.float64) * 255) / 255 - 0.5) / 0.25)
    np.testing.assert_allclose(circuit.attribution.logits, expected.logits, rtol=0, atol=1e-12)


def test_float_reference_images_are_drawn_as_their_pixels_and_small_ones_larger(tiny_stack,
                                                                                 tmp_path):
    from mlplens.figures.layers import strip_scale

    floats = (IMAGES / np.float32(255)).astype(np.float32)  # brightness as scikit-learn's digits
    visualize_stack(tiny_stack, tmp_path / "u8", "examples", reference=IMAGES, labels=LABELS, k=2)
    visualize_stack(tiny_stack, tmp_path / "f4", "examples", reference=floats, labels=LABELS, k=2)
    for name in ("examples-1.png", "examples-2.png", "nodes.json"):
        assert (tmp_path / "f4" / name).read_bytes() == (tmp_path / "u8" / name).read_bytes()
    assert [strip_scale(10, 28), strip_scale(11, 28), strip_scale(10, 8), strip_scale(11, 8),
            strip_scale(3, 2), strip_scale(3, 64)] == [2, 1, 6, 3, 28, 2]


def test_the_explorer_refuses_a_table_in_one_line(tiny_stack):
    from mlplens.datasets import Dataset
    from mlplens.errors import MlplensError
    from mlplens.report import build_explorer

    rows = np.zeros((2, 4), np.float32)
    table = Dataset("table", rows, np.array([0, 1]), rows, np.array([0, 1]), NAMES,
                    feature_names=("a", "b", "c", "d"))
    tabular = tiny_stack.with_input(input_names=("a", "b", "c", "d"))
    for stack in (tabular, tiny_stack):
        with pytest.raises(MlplensError) as raised:
            build_explorer(stack, table, model_name="net.npz")
        assert str(raised.value) == (
            "net.npz takes 4 named features, not an image: the explorer draws on and loads "
            "images, so it cannot show a tabular model (draw its nodes as bar charts with "
            "'mlplens visualize')")


def test_the_explorer_refuses_data_of_another_shape_naming_both(tiny_stack):
    from mlplens.datasets import load_dataset
    from mlplens.errors import MlplensError
    from mlplens.report import build_explorer

    with pytest.raises(MlplensError) as raised:
        build_explorer(tiny_stack, load_dataset("sklearn-digits"), model_name="net.npz")
    assert str(raised.value) == \
        "scikit-learn digits: the data has 8x8 inputs but net.npz takes 2x2"
