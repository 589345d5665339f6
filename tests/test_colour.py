"""Colour pictures: a colour model's nodes drawn in colour (channels normalised together) or with
their channels side by side; maximize, SSIM and the renderers per channel; and a colour dataset
whose right answer is known (a red blob top-left is class 0, a blue one bottom-right class 1, a
green one in the centre class 2), trained for real, whose pictures must be red, blue and green
in the right places."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from mlplens import DenseStack, save_stack, visualize_stack
from mlplens.core.maximize import _blur, maximize
from mlplens.core.node_statistics import node_statistics
from mlplens.core.checks.similarity import ssim
from mlplens.datasets import Dataset
from mlplens.displays import NodeGrid
from mlplens.figures.diagram import _thumbnails, write_circuit
from mlplens.figures.evolution import output_frame
from mlplens.figures.layers import default_scale, render_view, view_legend
from mlplens.layout.diagram import circuit_diagram, weights_diagram
from mlplens.layout.views import layer_views
from mlplens.render import Legend, colormap_lut, node_mosaic
from mlplens.render.mosaic import Layout
from mlplens.snapshots import Snapshots, load_snapshots, save_snapshots

from .helpers import run_cli

# One node of a 2x2x3 input, as Keras flattens (H, W, C): pixel (0,0) is red 3, (0,1) green 2,
# (1,0) is -1 in red and green and +1 in blue, (1,1) is 1 in every channel.
NODE = np.array([[[3, 0, 0], [0, 2, 0]], [[-1, -1, 1], [1, 1, 1]]], np.float32)
# Min-max over all twelve values (-1 to 3): trunc((v + 1) * 255 / 4).
MINMAX = np.array([[[255, 63, 63], [63, 191, 63]], [[0, 0, 127], [127, 127, 127]]], np.uint8)
# Symmetric, one scale (3) for all twelve: 128 + round(v / 3 * 127); 0 is mid-grey everywhere.
SYMMETRIC = np.array([[[255, 128, 128], [128, 213, 128]], [[86, 86, 170], [170, 170, 170]]],
                     np.uint8)


def hand_made() -> DenseStack:
    """Two nodes: NODE and twice NODE (the same picture on a per-node scale)."""
    kernel = np.stack([NODE.ravel(), 2 * NODE.ravel()], axis=1)
    return DenseStack.from_arrays([kernel], activations=["linear"], image_shape=(2, 2),
                                  channels=3)


@pytest.mark.parametrize("mode, expected", [("minmax", MINMAX), ("symmetric", SYMMETRIC)])
def test_a_node_is_one_colour_picture_normalised_over_its_three_channels(mode, expected):
    view = layer_views(hand_made(), "linear", mode)[0]
    assert view.colour and view.images.shape == (2, 2, 2, 3)
    np.testing.assert_array_equal(view.images[0], expected)
    np.testing.assert_array_equal(view.images[1], expected)  # its own scale: twice is the same


def test_layer_normalisation_is_one_scale_for_the_layer():
    view = layer_views(hand_made(), "linear", "layer")[0]
    # Scale 6 (node 1's largest value) for both: node 0's red 3 is 128 + round(63.5) = 192.
    assert view.images[0, 0, 0].tolist() == [192, 128, 128]
    np.testing.assert_array_equal(view.images[1], SYMMETRIC)
    assert view.legend == ("-6", "0", "+6")


def test_colour_tiles_are_drawn_as_they_are_whatever_the_colormap():
    images = layer_views(hand_made(), "linear", "symmetric")[0].images
    for cmap in ("gray", "RdBu_r"):
        canvas = np.asarray(node_mosaic(images, colormap_lut(cmap), scale=1))
        # scale 1, no labels, title or legend: tiles at x = 2 and 6, y = 2 (gap 2).
        np.testing.assert_array_equal(canvas[2:4, 2:4], SYMMETRIC)
        np.testing.assert_array_equal(canvas[2:4, 6:8], SYMMETRIC)
        assert canvas.shape == (6, 10, 3)
    canvas = np.asarray(node_mosaic(images, colormap_lut("gray"), scale=3))
    np.testing.assert_array_equal(canvas[6:12, 6:12], SYMMETRIC.repeat(3, 0).repeat(3, 1))


def test_side_by_side_draws_each_channel_through_the_colormap_lettered_rgb():
    images = layer_views(hand_made(), "linear", "symmetric")[0].images
    lut = colormap_lut("RdBu_r")
    canvas = np.asarray(node_mosaic(images, lut, scale=1, side_by_side=True))
    # Tile: R (2 px) | white | G (2 px) | white | B (2 px), 8 wide, at x = 2; the next at 14.
    for left in (2, 14):
        tile = canvas[2:4, left:left + 8]
        for channel in range(3):
            np.testing.assert_array_equal(tile[:, 3 * channel:3 * channel + 2],
                                          lut[SYMMETRIC[:, :, channel]])
        assert (tile[:, [2, 5]] == 255).all()
    big = np.asarray(node_mosaic(images, lut, scale=8, side_by_side=True))
    layout = Layout.of(2, 2, 2, 8, None, False, None, None, 3, True)
    assert (layout.tile_w, layout.letters_h) == ((3 * 2 + 2) * 8, 18)
    top = layout.gap + 16  # the tile's 2 rows x 8, then the letters' band
    band = big[top:top + layout.letters_h, layout.gap:layout.gap + layout.tile_w].min(axis=2)
    ink = np.flatnonzero((band < 100).any(axis=0))
    # Each letter's ink lies under its own channel's picture (16 px wide, 8 px apart).
    spans = [(channel * 24, channel * 24 + 16) for channel in range(3)]
    assert sorted({next(i for i, (a, b) in enumerate(spans) if a <= x < b) for x in ink}) \
        == [0, 1, 2]
    with pytest.raises(ValueError, match="only colour images"):
        node_mosaic(images[..., 0], lut, side_by_side=True)


LEGENDS = {
    "minmax": Legend("node's min", "", "node's max", 0, "R, G, B: each channel's value, the "
                     "three on one min-max scale per node (black: the node's min)"),
    "symmetric": Legend("-max |value| of node", "0", "+max |value| of node", 128,
                        "R, G, B: each channel's value, the three on one signed scale per "
                        "node; mid-grey is 0 in every channel"),
    "layer": Legend("-6", "0", "+6", 128, "R, G, B: each channel's value, the three on one "
                    "signed scale for the whole layer; mid-grey is 0 in every channel")}


@pytest.mark.parametrize("mode", list(LEGENDS))
def test_each_normalisation_says_what_the_colours_mean(mode):
    view = layer_views(hand_made(), "linear", mode)[0]
    assert view_legend(view) == LEGENDS[mode]
    side = view_legend(view, "side-by-side")
    assert side.channel_base is None
    assert side.note == ("R, G, B: each channel drawn alone, the three on one "
                         + ("min-max scale per node" if mode == "minmax" else
                            "signed scale for the whole layer" if mode == "layer" else
                            "signed scale per node"))


@pytest.mark.parametrize("mode, ends", [
    ("minmax", [(255, 0, 0), (0, 255, 0), (0, 0, 255), (0, 0, 0)]),
    ("symmetric", [(255, 128, 128), (128, 255, 128), (128, 128, 255), (0, 128, 128)])])
def test_the_colour_legend_is_a_ramp_per_channel_and_says_what_colours_mean(mode, ends):
    view = layer_views(hand_made(), "linear", mode)[0]
    picture = render_view(view, "gray", 4)
    canvas = np.asarray(picture)
    colours = {tuple(int(v) for v in pixel) for pixel in canvas[-80:].reshape(-1, 3)}
    assert set(ends) <= colours
    grey = render_view(layer_views(hand_made().with_input(channels=1, image_shape=(2, 6)),
                                   "linear", mode)[0], "gray", 4)
    assert canvas.shape[0] - np.asarray(grey).shape[0] == 15 + 16  # three ramps and the note


def test_maximize_blurs_and_shifts_each_channel_alone():
    picture = np.zeros((1, 5, 5, 3), np.float32)
    picture[0, 2, 2, 0] = 1  # one red pixel
    blurred = _blur(picture.reshape(1, -1), (5, 5, 3)).reshape(5, 5, 3)
    np.testing.assert_allclose(blurred[1:4, 1:4, 0],
                               np.outer([1, 2, 1], [1, 2, 1]) / 16, atol=1e-7)
    assert blurred[..., 1:].max() == 0 and blurred[..., 0].sum() == pytest.approx(1)
    # A node that weighs only red: the ascent raises red and lets green and blue decay.
    kernel = np.zeros((4 * 4 * 3, 1), np.float32)
    kernel[0::3] = 1
    stack = DenseStack.from_arrays([kernel], activations=["linear"], image_shape=(4, 4),
                                   channels=3)
    found = maximize(stack, 1, steps=40).images.reshape(4, 4, 3)
    assert found[..., 0].min() > 0.85 and found[..., 1:].max() < 0.45


def test_ssim_of_colour_pictures_is_the_mean_over_channels():
    rng = np.random.default_rng(0)
    a, b = rng.random((2, 8, 8, 3)), rng.random((2, 8, 8, 3))
    per_channel = np.stack([ssim(a[..., c], b[..., c]) for c in range(3)], axis=1)
    np.testing.assert_allclose(ssim(a, b), per_channel.mean(axis=1), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ssim(a, a), [1.0, 1.0])


def test_node_grid_of_a_colour_stack_draws_colour_tiles():
    grid = NodeGrid.from_stack(hand_made(), 1, normalize="symmetric")
    assert grid.images.shape == (2, 2, 2, 3) and len(grid.legend) == 5
    figure = grid.plot().figure_
    drawn = grid.image_.get_array()
    np.testing.assert_array_equal(np.asarray(drawn)[:2, :2], SYMMETRIC)
    import matplotlib.pyplot as plt

    plt.close(figure)


def test_diagram_and_circuit_of_a_colour_stack(tmp_path):
    rng = np.random.default_rng(1)
    stack = DenseStack.from_arrays([rng.normal(size=(12, 4)).astype(np.float32),
                                    rng.normal(size=(4, 2)).astype(np.float32)],
                                   image_shape=(2, 2), channels=3)
    spec = weights_diagram(stack)
    assert spec.node_colours == ("each on its own signed scale, each channel's value: mid-grey "
                                 "is 0")
    assert spec.input_title == "Input: 2x2 colour pixels"
    thumbnails = _thumbnails(stack, spec)
    np.testing.assert_array_equal(thumbnails[0],
                                  layer_views(stack, "linear", "symmetric")[0].images)
    image = rng.integers(0, 256, (2, 2, 3)).astype(np.uint8)
    _, circuit = write_circuit(stack, image, tmp_path)
    assert circuit_diagram(stack, circuit).input_captions == (
        "the image", f"what each pixel (its 3 channels) adds to {circuit.attribution.target}")
    record = json.loads((tmp_path / "circuit.json").read_text())
    assert np.asarray(record["pixels"]).shape == (2, 2, 3)
    # What each input value adds to the logit: its value times the logit's gradient.
    np.testing.assert_allclose(circuit.attribution.pixels.sum(),
                               record["decomposition"]["pixels"], rtol=1e-9)


def test_snapshots_of_a_colour_net_keep_its_channels(tmp_path):
    stack = hand_made()
    snapshots = Snapshots.from_stacks([0, 8], [0.5, 0.9], [stack, stack])
    save_snapshots(snapshots, tmp_path / "colour.npz")
    loaded = load_snapshots(tmp_path / "colour.npz")
    assert loaded.channels == 3 and loaded.stack(1).picture_shape == (2, 2, 3)
    frame = np.asarray(output_frame(loaded, 1, "linear", "gray", 8))
    assert (frame == MINMAX[0, 0]).all(axis=2).any()  # node 0's red pixel, drawn in colour
    grey = hand_made().with_input(channels=1, image_shape=(2, 6))
    save_snapshots(Snapshots.from_stacks([0], [0.5], [grey]), tmp_path / "grey.npz")
    with np.load(tmp_path / "grey.npz") as archive:
        assert "channels" not in archive.files
    assert load_snapshots(tmp_path / "grey.npz").channels == 1


@pytest.mark.slow
def test_visualize_channels_option_leaves_grey_models_as_they_are(tmp_path):
    """--channels only changes colour pictures: a grey model's PNGs are the same bytes."""
    rng = np.random.default_rng(0)
    stack = DenseStack.from_arrays([rng.normal(size=(16, 5)).astype(np.float32),
                                    rng.normal(size=(5, 3)).astype(np.float32)])
    save_stack(stack, tmp_path / "grey.npz")
    for channels in ("together", "side-by-side"):
        result = run_cli("visualize", str(tmp_path / "grey.npz"), "--channels", channels,
                         "--out", str(tmp_path / channels))
        assert result.returncode == 0, result.stderr
    for name in ("layer-1.png", "layer-2.png", "arrays.npz"):
        assert (tmp_path / "together" / name).read_bytes() == \
            (tmp_path / "side-by-side" / name).read_bytes()
    result = run_cli("visualize", str(tmp_path / "grey.npz"), "--channels", "apart",
                     "--out", str(tmp_path / "bad"))
    assert result.returncode == 2
    assert "argument --channels: invalid choice: 'apart'" in result.stderr
    assert not (tmp_path / "bad").exists()


# The colour dataset: 12x12x3 low noise, a bright blob of one channel in one region per class.
SIDE = 12
BLOBS = {0: ((slice(0, 4), slice(0, 4)), 0),  # red, top-left
         1: ((slice(8, 12), slice(8, 12)), 2),  # blue, bottom-right
         2: ((slice(4, 8), slice(4, 8)), 1)}  # green, centre


def colour_blobs(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    labels = rng.integers(0, 3, count)
    images = rng.integers(0, 40, (count, SIDE, SIDE, 3)).astype(np.uint8)
    for image, label in zip(images, labels):
        (rows, columns), channel = BLOBS[int(label)]
        image[rows, columns, channel] = rng.integers(180, 256)
    return images, labels.astype(np.int64)


@pytest.fixture(scope="module")
def blobs():
    """A 432-16-3 net trained on 600 blob images (100 epochs, seed 0), and 150 test images."""
    from mlplens.training import train

    rng = np.random.default_rng(0)
    x_train, y_train = colour_blobs(600, rng)
    x_test, y_test = colour_blobs(150, rng)
    data = Dataset("blobs", x_train, y_train, x_test, y_test,
                   ("red top-left", "blue bottom-right", "green centre"))
    stack = train((16,), train_samples=600, epochs=100, seed=0, data=data, verbose=0).stack
    return stack, x_test, y_test


def region_means(picture: np.ndarray, label: int) -> np.ndarray:
    """The mean of each channel of a (H, W, 3) picture over class `label`'s blob."""
    (rows, columns), _ = BLOBS[label]
    return picture[rows, columns].reshape(-1, 3).mean(axis=0)


def dominant(picture: np.ndarray, label: int) -> bool:
    """Whether the class's own channel is the brightest over its blob."""
    means = region_means(picture, label)
    channel = BLOBS[label][1]
    return all(means[channel] > means[other] for other in range(3) if other != channel)


def tile(png: np.ndarray, layout: Layout, index: int, scale: int) -> np.ndarray:
    """Node `index`'s tile in a mosaic PNG, shrunk back to one pixel per image pixel."""
    row, column = divmod(index, layout.columns)
    top = layout.title_h + layout.gap + layout.label_h + row * layout.cell_h
    left = layout.gap + column * layout.cell_w
    return png[top:top + SIDE * scale:scale, left:left + layout.tile_w:scale]


@pytest.mark.slow
def test_colour_blobs_output_and_first_layer_pictures_are_red_blue_green_in_place(blobs, tmp_path):
    stack, x_test, y_test = blobs
    assert (stack.channels, stack.picture_shape) == (3, (SIDE, SIDE, 3))
    output = layer_views(stack, "linear", "minmax")[-1]
    assert output.images.shape == (3, SIDE, SIDE, 3)
    for label in range(3):
        assert dominant(output.images[label], label), (label, region_means(output.images[label],
                                                                           label))
    # Class 0's picture: red over its blob, far above green and blue (about 201 vs 94, 103).
    red, green, blue = region_means(output.images[0], 0)
    assert red > 180 and red > max(green, blue) + 80

    # The first-layer node most tied to each class (its mean activation on that class's test
    # images over its mean on the others) looks for that class's colour in that class's place.
    first = layer_views(stack, "linear", "symmetric")[0]
    means = node_statistics(stack, x_test, y_test, classes=3)[0].class_means
    for label in range(3):
        tie = means[label] - np.delete(means, label, axis=0).mean(axis=0)
        assert dominant(first.images[int(np.argmax(tie))], label)

    # The PNG visualize writes: each output node's tile is its picture, colours as they are.
    written = visualize_stack(stack, tmp_path / "together", "linear")
    scale = default_scale(3, SIDE)  # small images are drawn enlarged
    png = np.asarray(Image.open(tmp_path / "together" / "layer-2.png").convert("RGB"))
    layout = Layout.of(3, SIDE, SIDE, scale, None, True, output.title, True, 3, False)
    for label in range(3):
        drawn = tile(png, layout, label, scale)
        np.testing.assert_array_equal(drawn, output.images[label])
        assert dominant(drawn, label)
    assert len(written.paths) == 3

    # Side by side (gray for min-max): class 0's red picture is bright over the blob, its green
    # and blue ones dark; class 1's blue picture bright over its own.
    visualize_stack(stack, tmp_path / "side", "linear", channels="side-by-side")
    png = np.asarray(Image.open(tmp_path / "side" / "layer-2.png").convert("L"))
    layout = Layout.of(3, SIDE, SIDE, scale, None, True, output.title, True, 3, True)
    for label in (0, 1):
        strip = tile(png, layout, label, scale)
        channels = [strip[:, c * (SIDE + 1):c * (SIDE + 1) + SIDE] for c in range(3)]
        (rows, columns), own = BLOBS[label]
        blob = [float(picture[rows, columns].mean()) for picture in channels]
        np.testing.assert_array_equal(channels[own], output.images[label][..., own])
        assert blob[own] > 200 and max(b for c, b in enumerate(blob) if c != own) < 120


@pytest.mark.slow
def test_colour_blobs_every_method_draws_colour_pictures(blobs, tmp_path):
    stack, x_test, y_test = blobs
    gradient = layer_views(stack, "gradient", reference=x_test, labels=y_test)[-1]
    examples = layer_views(stack, "examples", reference=x_test, labels=y_test, k=4)[-1]
    maximized = layer_views(stack, "maximize", layers=[2], steps=60)[-1]
    for view in (gradient, examples, maximized):
        assert view.images.shape == (3, SIDE, SIDE, 3), view.method
        for label in range(3):
            assert dominant(view.images[label], label), (view.method, label)
    # examples: the mean of each output node's top-4 test images, which are all of its class
    top = node_statistics(stack, x_test, y_test, top_k=4)[-1].top_indices
    assert (y_test[top] == np.arange(3)[:, None]).all()
    np.testing.assert_allclose(examples.raw[0], (x_test[top[0]] / 255).reshape(4, -1).mean(0),
                               atol=1e-6)
    written = visualize_stack(stack, tmp_path, "examples", reference=x_test, labels=y_test, k=4)
    strips = np.asarray(Image.open(tmp_path / "examples-2.png").convert("RGB"))
    assert tmp_path / "examples-2.png" in written.paths
    # The strips draw the test images in colour: somewhere a blob's pure-ish red.
    assert ((strips[..., 0] > 170) & (strips[..., 1] < 45) & (strips[..., 2] < 45)).any()
