"""The explorer's Python side: statistics, contributions, drawing preprocessing, page data,
template filling and the report; all in NumPy, checked against hand computations."""

from __future__ import annotations

import base64
import html
import json
import re

import numpy as np
import pytest

from mlplens import DenseStack, layer_views
from mlplens.core.circuits.contributions import contributions
from mlplens.core.forward import activate, pre_activations
from mlplens.core.mnist_like import MIN_INK, MIN_ROWS, PEN, box_weights, mnist_like
from mlplens.core.node_statistics import node_statistics
from mlplens.errors import MlplensError
from mlplens.report import explorer_data
from mlplens.report.page import (
    fill,
    json_for_script,
    policy,
    render_explorer,
    source_hash,
)
from mlplens.report.pagedata import snapshot_frames
from mlplens.snapshots import Snapshots, spread_frames

from .helpers import B1, B2, W1, W2
from .mnist_like_reference import as_is, enough_ink, mean_stroke_width, pen_ink, strokes_like


def _decode(text: str, dtype: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.dtype(dtype).newbyteorder("<"))


def _stack3(seed: int = 0, activations=("relu", "tanh", "softmax")) -> DenseStack:
    rng = np.random.default_rng(seed)
    kernels = [rng.normal(size=(16, 6)), rng.normal(size=(6, 5)), rng.normal(size=(5, 4))]
    biases = [rng.normal(size=6), rng.normal(size=5), rng.normal(size=4)]
    return DenseStack.from_arrays(kernels, biases, list(activations))


# ---- contributions ----------------------------------------------------------------------------

def test_contribution_of_the_last_hidden_layer_is_activation_times_weight(tiny_stack):
    x = np.array([[1, 0.5, 0, 2]], np.float32)
    # z1 = x W1 + b1 = [1 + 1 - 2, 0 - 0.5 + 6 - 2] + ... by hand: x W1 = [0, 5.5], z1 = [1, 3.5]
    (hidden,) = contributions(tiny_stack, x)
    a1 = np.array([1.0, 3.5])
    z2 = a1 @ W2 + B2  # [1, 4.5, -2.5]: class 1 is predicted
    np.testing.assert_allclose(hidden[0], a1 * W2[:, 1])
    assert hidden[0].sum() + B2[1] == pytest.approx(z2[1])
    (for_class_2,) = contributions(tiny_stack, x, target=np.array([2]))
    np.testing.assert_allclose(for_class_2[0], a1 * W2[:, 2])


@pytest.mark.parametrize("activations", [("relu", "relu", "softmax"), ("relu", "tanh", "softmax"),
                                         ("sigmoid", "linear", "linear"),
                                         ("softmax", "relu", "softmax")])
def test_contributions_are_activation_times_the_linearised_gradient(activations):
    stack = _stack3(1, activations)
    x = np.random.default_rng(2).uniform(size=(3, 16)).astype(np.float32)
    first, second = contributions(stack, x)
    k1, k2, k3 = (layer.kernel.astype(np.float64) for layer in stack.layers)
    z1, z2, z3 = (p.astype(np.float64) for p in pre_activations(stack, x))
    a1, a2 = activate(z1, activations[0]), activate(z2, activations[1])
    for n in range(3):
        c = int(z3[n].argmax())
        grad2 = k3[:, c]
        # Each activation frozen to its gate at this input: tanh(z) / z, ReLU's on/off pattern.
        if activations[1] == "relu":
            jac2 = np.diag((z2[n] > 0).astype(float))
        elif activations[1] == "tanh":
            jac2 = np.diag(np.tanh(z2[n]) / z2[n])
        else:
            jac2 = np.eye(5)
        grad1 = k2 @ jac2 @ grad2
        np.testing.assert_allclose(second[n], a2[n] * grad2, rtol=1e-12)
        np.testing.assert_allclose(first[n], a1[n] * grad1, rtol=1e-12, atol=1e-15)


def test_a_net_without_hidden_layers_has_no_contributions():
    stack = DenseStack.from_arrays([np.ones((4, 3))], activations=["softmax"])
    assert contributions(stack, np.ones((2, 4), np.float32)) == []


# ---- statistics ---------------------------------------------------------------------------------

def test_node_statistics_by_hand(tiny_stack):
    images = np.array([[[255, 0], [0, 0]], [[0, 255], [0, 255]], [[0, 0], [255, 0]]], np.uint8)
    labels = np.array([0, 1, 1])
    first, output = node_statistics(tiny_stack, images, labels, classes=3, colour_scale=True,
                                    batch_size=2)
    # x = [1,0,0,0] -> z1 = [2, -2]; [0,1,0,1] -> [2, 0]; [0,0,1,0] -> [1, -1]
    np.testing.assert_array_equal(first.firing_fraction, [1, 0])  # z = 0 is not active
    np.testing.assert_allclose(first.mean_activation, [5 / 3, 0], rtol=1e-7)
    np.testing.assert_allclose(first.class_means, [[2, 0], [1.5, 0], [0, 0]])
    np.testing.assert_array_equal(first.preferred_class, [0, 0])
    assert first.colour_scale == pytest.approx(np.percentile([2, 0, 2, 0, 1, 0], 99))
    probabilities = activate(pre_activations(tiny_stack, images.reshape(3, 4) / 255)[-1],
                             "softmax")
    np.testing.assert_allclose(output.mean_activation, probabilities.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(output.class_means[1], probabilities[1:].mean(axis=0), rtol=1e-6)
    np.testing.assert_array_equal(output.class_means[2], 0)  # no image of class 2


# ---- drawing preprocessing ----------------------------------------------------------------------

def test_box_weights_average_areas():
    np.testing.assert_allclose(box_weights(4, 2), [[0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5]])
    np.testing.assert_allclose(box_weights(3, 2), [[2 / 3, 1 / 3, 0], [0, 1 / 3, 2 / 3]])
    np.testing.assert_allclose(box_weights(2, 4), [[1, 0], [1, 0], [0, 1], [0, 1]])


def test_mnist_like_fits_20x20_and_centres_by_mass():
    ink = np.zeros((100, 90))
    ink[5:15, 3:23] = 1.0  # 10 high, 20 wide: already 20 wide, so kept as is
    out = mnist_like(ink)
    expected = np.zeros((28, 28), np.uint8)
    expected[9:19, 4:24] = 255  # centre of mass (4.5, 9.5) -> offsets 13.5 - 4.5, 13.5 - 9.5
    np.testing.assert_array_equal(out, expected)
    assert not mnist_like(np.zeros((50, 50))).any()
    tall = np.zeros((280, 280))
    # 200 x 40 -> 20 x 4 at 0.6 ink (not 0.5: 0.5 * 255 + 0.5 sits exactly on a rounding
    # boundary, where the BLAS kernel's summation order decides between 127 and 128)
    tall[40:240, 100:140] = 0.6
    out = mnist_like(tall)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(np.argwhere(out)[[0, -1]], [[4, 12], [23, 15]])
    assert set(np.unique(out)) == {0, 153}  # floor(0.6 * 255 + 0.5)


def test_mnist_like_pulls_the_box_towards_the_mass_and_keeps_it_inside():
    ink = np.zeros((40, 40))
    ink[0:40, 0] = 1.0  # a heavy left edge ...
    ink[0, 0:40] = 0.01  # ... and a faint top row make a 20x20 box with its mass at the left
    out = mnist_like(ink)
    columns = np.flatnonzero(out.any(axis=0))
    assert columns[0] == 8 and columns[-1] == 27  # clamped: the box cannot leave the field


def test_as_is_only_resizes_by_area():
    blocks = np.arange(784).reshape(28, 28) * 37 % 256
    # Each output pixel is the mean of a 2x3 block: no crop, no centring, no inversion.
    grey = np.repeat(np.repeat(blocks, 2, axis=0), 3, axis=1) / 255
    np.testing.assert_array_equal(as_is(grey), blocks)
    np.testing.assert_array_equal(as_is(np.full((5, 9), 0.4)), np.full((28, 28), 102))
    np.testing.assert_array_equal(as_is(blocks / 255), blocks)


def test_strokes_like_draws_with_the_same_pen_at_any_size():
    two = [np.array([[0, 10], [10, 0], [20, 10], [0, 30], [22, 30]], float)]
    small = strokes_like(two)
    for scale in (3, 11.5):
        np.testing.assert_array_equal(strokes_like([s * scale for s in two]), small)
    rows, cols = np.nonzero(small)
    assert rows.max() - rows.min() + 1 == 20  # the longer side, pen included
    assert not strokes_like([]).any()


def test_the_pen_draws_its_width_across_a_line():
    ink = pen_ink([np.array([[2.0, 5.0], [198.0, 5.0]])], (10, 200))
    np.testing.assert_allclose(ink[:, 10].sum(), PEN)
    # Ink area over skeleton length: the caps' ink and the skeleton's shortened ends make a
    # little more than PEN on a long line (2.84 px on a 16 px line, as on MNIST's short strokes).
    assert PEN < mean_stroke_width(np.floor(ink * 255 + 0.5)) < PEN + 0.1


def test_the_pen_is_mnists_stroke_width_and_no_digit_has_too_little_ink(mnist):
    """PEN was chosen so: drawn digits' mean stroke width is MNIST's (2.86 px by
    mean_stroke_width on the first 10,000 training digits, 2.80 on the first 1,000). Every
    MNIST digit has ink enough."""
    mnist_width = np.mean([mean_stroke_width(image) for image in mnist.x_train[:1000]])
    assert abs(mnist_width - 2.80) < 0.01
    four = [np.array([[12, 0], [0, 20], [18, 20]], float), np.array([[13, 8], [13, 30]], float)]
    seven = [np.array([[0, 0], [18, 0], [8, 30]], float)]
    drawn = np.mean([mean_stroke_width(strokes_like(s)) for s in (four, seven)])
    assert abs(drawn - mnist_width) < 0.3
    assert all(enough_ink(image) for image in mnist.x_train[:5000])
    images = mnist.x_train.astype(np.float64)
    assert images.sum(axis=(1, 2)).min() / 255 > 1.5 * MIN_INK
    assert not enough_ink(strokes_like([np.array([[5.0, 5.0]])]))  # a dot
    assert not enough_ink(strokes_like([np.array([[0.0, 0.0], [9.0, 1.0]])]))  # a dash
    assert MIN_ROWS < 9  # MNIST's fewest rows


# ---- page data ----------------------------------------------------------------------------------

def test_explorer_data_carries_exact_weights_pictures_and_stats(tiny_stack):
    views = {"linear": layer_views(tiny_stack, "linear"), "seed": layer_views(tiny_stack, "seed")}
    digits = np.arange(12, dtype=np.uint8).reshape(3, 2, 2)
    stats = node_statistics(tiny_stack, digits, np.array([0, 1, 2]), classes=3,
                            colour_scale=True)
    data = explorer_data(tiny_stack, views, digits=digits, digit_labels=[0, 1, 2],
                         digit_source="made up", stats=stats, stats_source="three images",
                         extra_stats={"selectivity": [np.array([0.5, 0.25]), None]},
                         colormaps={"gray": np.zeros((256, 3), np.uint8)})
    json.dumps(data, allow_nan=False)
    for layer, block in zip(tiny_stack.layers, data["layers"]):
        np.testing.assert_array_equal(_decode(block["kernel"], "f4").reshape(layer.kernel.shape),
                                      layer.kernel)
        np.testing.assert_array_equal(_decode(block["bias"], "f4"), layer.bias)
    assert [m["name"] for m in data["methods"]] == ["linear", "seed"]
    for method in data["methods"]:
        for view, block in zip(views[method["name"]], method["layers"]):
            assert block["shape"] == list(view.images.shape)
            np.testing.assert_array_equal(_decode(block["pixels"], "u1").reshape(view.images.shape),
                                          view.images)
    first = data["stats"]["layers"][0]
    np.testing.assert_array_equal(_decode(first["firing_fraction"], "f4"), stats[0].firing_fraction)
    np.testing.assert_array_equal(_decode(first["extra"]["selectivity"], "f4"), [0.5, 0.25])
    assert data["stats"]["layers"][1]["extra"] == {}
    np.testing.assert_array_equal(_decode(data["digits"]["pixels"], "u1"), digits.ravel())
    assert data["frames"] is None and data["model"]["describe"] == "4-2-3 (relu, softmax)"


def test_explorer_data_refuses_mismatched_plugins(tiny_stack):
    views = {"linear": layer_views(tiny_stack, "linear")}
    digits = np.zeros((1, 2, 2), np.uint8)
    stats = node_statistics(tiny_stack, digits, np.array([0]), classes=3, colour_scale=True)
    common = dict(digits=digits, digit_labels=[0], digit_source="", stats=stats,
                  stats_source="", colormaps={})
    with pytest.raises(MlplensError, match="method 'short' has pictures for 1 layers"):
        explorer_data(tiny_stack, {"short": views["linear"][:1]}, **common)
    with pytest.raises(MlplensError, match="statistic 'x': layer 1 needs 2 values"):
        explorer_data(tiny_stack, views, extra_stats={"x": [np.zeros(3)]}, **common)


def test_frames_spread_evenly_over_training():
    assert spread_frames(np.arange(5), 8) == [0, 1, 2, 3, 4]
    assert spread_frames(np.arange(29), 7) == [0, 5, 9, 14, 19, 23, 28]
    assert spread_frames(np.arange(0, 100, 10), 1) == [9]
    # By step, not by index: the short last epoch's snapshot is not over-weighted.
    assert spread_frames(np.array([0, 10, 20, 30, 40, 41]), 3) == [0, 2, 5]


def test_snapshot_frames_end_with_the_trained_model(tiny_stack):
    def snaps(last_kernel_1):
        kernels = [np.stack([W1 * 0, W1 * 0.5, last_kernel_1]), np.stack([W2, W2, W2])]
        biases = [np.stack([B1] * 3), np.stack([B2] * 3)]
        return Snapshots(np.array([0, 5, 10]), np.array([0.1, 0.5, 0.9], np.float32),
                         tuple(k.astype(np.float16) for k in kernels),
                         tuple(b.astype(np.float16) for b in biases), ("relu", "softmax"), (2, 2))

    same = snapshot_frames(snaps(W1), tiny_stack, max_frames=8)
    assert same["final_step"] == 10 and [f["step"] for f in same["frames"]] == [0, 5]
    half = layer_views(DenseStack.from_arrays([W1 * 0.5, W2], [B1, B2]), "linear")
    pixels = same["frames"][1]["methods"]["linear"][0]["pixels"]
    np.testing.assert_array_equal(_decode(pixels, "u1").reshape(2, 2, 2), half[0].images)
    other = snapshot_frames(snaps(W1 + 1), tiny_stack, max_frames=2)
    assert other["final_step"] is None and [f["step"] for f in other["frames"]] == [10]
    assert snapshot_frames(snaps(W1), tiny_stack, max_frames=1) is None
    wrong = Snapshots(np.array([0]), np.array([0.1], np.float32), (np.zeros((1, 4, 3)),),
                      (np.zeros((1, 3)),), ("softmax",), (2, 2))
    with pytest.raises(MlplensError, match="do not match the model's layers"):
        snapshot_frames(wrong, tiny_stack)


# ---- page filling -------------------------------------------------------------------------------

def test_json_cannot_close_its_script_element():
    text = json_for_script({"name": "</script><script>alert(1)</script> & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"name": "</script><script>alert(1)</script> & \u2028"}


def test_fill_replaces_each_slot_once_and_never_rescans():
    assert fill("a{{x}}b{{y}}{{x}}", {"x": "{{y}}", "y": "2"}) == "a{{y}}b2{{y}}"
    with pytest.raises(KeyError, match="'z'"):
        fill("{{z}}", {})


def test_policy_admits_only_the_page_itself():
    csp = policy(["p { }"], ["let a = 1;"])
    assert csp.startswith("default-src 'none'; img-src data: blob:")
    assert f"style-src {source_hash('p { }')}" in csp
    assert f"script-src {source_hash('let a = 1;')}" in csp
    assert "script-src 'none'" in policy([], [])
    # `printf 'let a = 1;' | openssl dgst -sha256 -binary | base64`
    assert source_hash("let a = 1;") == "'sha256-xY6QKfH9PRsQnLz56nj6MBwiK5oHg+im1Jkpdp1x/Ck='"


def test_hostile_names_are_escaped_in_the_page(tiny_stack):
    name = '<img src=x onerror=alert(1)>'
    stack = DenseStack.from_arrays([W1, W2], [B1, B2], names=[name, "</script>"])
    digits = np.zeros((1, 2, 2), np.uint8)
    data = explorer_data(stack, {"linear": layer_views(stack, "linear")}, digits=digits,
                         digit_labels=[0], digit_source="", stats=node_statistics(
                             stack, digits, np.array([0]), classes=3, colour_scale=True),
                         stats_source="", model_name=name, colormaps={})
    page = render_explorer(data, title=f"explorer: {name}")
    assert "<img src=x" not in page and "</script>\"" not in page
    assert "<title>explorer: &lt;img src=x onerror=alert(1)&gt;</title>" in page
    assert page.count("</script>") == 2  # the data block's and the code's own
    csp = html.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"',
                                  page).group(1))
    assert "script-src 'sha256-" in csp and "unsafe" not in csp
