"""Sparse dictionaries of a hidden layer (`mlplens features`): the training finds planted
features and is reproducible, and every number it reports equals a brute-force computation."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

import mlplens
from mlplens import DenseStack
from mlplens.cli import main
from mlplens.core.features.dictionary import (
    SparseDictionary,
    feature_stack,
    layer_activations,
)
from mlplens.core.features.metrics import dictionary_metrics
from mlplens.core.features.pictures import (
    feature_statistics,
    linear_features,
    mean_feature_gradients,
)
from mlplens.core.features.polysemanticity import polysemanticity
from mlplens.core.maximize import node_gradients
from mlplens.core.node_statistics import node_statistics
from mlplens.core.projection import linear_rows
from mlplens.training.sparse_autoencoder import Schedule, train_dictionary

from .helpers import numpy_forward


def planted(count: int, width: int, directions: int, active: int, seed: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """Activations that are sparse non-negative sums of `directions` known unit vectors in
    `width` dimensions (more directions than dimensions), `active` of them per sample."""
    rng = np.random.default_rng(seed)
    truth = rng.standard_normal((directions, width))
    truth /= np.linalg.norm(truth, axis=1, keepdims=True)
    chosen = np.argsort(rng.random((count, directions)), axis=1)[:, :active]
    codes = np.zeros((count, directions))
    np.put_along_axis(codes, chosen, rng.uniform(1, 2, (count, active)), axis=1)
    return (codes @ truth).astype(np.float32), truth


def test_a_planted_dictionary_is_recovered():
    activations, truth = planted(20000, 32, 64, 3, seed=1)
    learned = train_dictionary(activations, 1, 128, 3, Schedule(steps=600, batch_size=256,
                                                                learning_rate=3e-3))
    cosines = truth @ learned.w_dec.T.astype(np.float64)
    recovered = (cosines.max(axis=1) > 0.9).mean()
    assert recovered >= 0.9, recovered


def test_training_is_reproducible_bit_for_bit():
    activations, _ = planted(2000, 16, 24, 2, seed=2)
    schedule = Schedule(steps=60, batch_size=128, seed=5)
    first, second = (train_dictionary(activations, 1, 48, 4, schedule) for _ in range(2))
    for name in ("w_enc", "b_enc", "w_dec", "b_dec"):
        assert np.array_equal(getattr(first, name), getattr(second, name)), name
    other = train_dictionary(activations, 1, 48, 4, Schedule(steps=60, batch_size=128, seed=6))
    assert not np.array_equal(first.w_dec, other.w_dec)
    np.testing.assert_allclose(np.linalg.norm(first.w_dec, axis=1), 1, rtol=1e-5)


def random_net(seed: int = 0, hidden: tuple[int, ...] = (12, 8), side: int = 4
               ) -> DenseStack:
    rng = np.random.default_rng(seed)
    sizes = (side * side, *hidden, 3)
    kernels = [rng.standard_normal((a, b)) / np.sqrt(a) for a, b in zip(sizes, sizes[1:])]
    biases = [rng.standard_normal(b) * 0.1 for b in sizes[1:]]
    return DenseStack.from_arrays(kernels, biases)


def random_dictionary(width: int, size: int, k: int, layer: int, seed: int = 0
                      ) -> SparseDictionary:
    rng = np.random.default_rng(seed)
    w_dec = rng.standard_normal((size, width)).astype(np.float32)
    w_dec /= np.linalg.norm(w_dec, axis=1, keepdims=True)
    return SparseDictionary(layer=layer, w_enc=np.ascontiguousarray(w_dec.T),
                            b_enc=rng.normal(0, 0.1, size).astype(np.float32), w_dec=w_dec,
                            b_dec=rng.normal(0, 0.1, width).astype(np.float32), k=k)


def brute_encode(dictionary: SparseDictionary, a: np.ndarray) -> np.ndarray:
    """One image at a time: the k largest positive pre-activations."""
    out = np.zeros((len(a), dictionary.size))
    for row, values in enumerate(a.astype(np.float64)):
        pre = np.maximum((values - dictionary.b_dec) @ dictionary.w_enc + dictionary.b_enc, 0)
        keep = sorted(range(dictionary.size), key=lambda f: -pre[f])[:dictionary.k]
        out[row, keep] = pre[keep]
    return out


@pytest.fixture
def net_and_images():
    stack = random_net()
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (300, 4, 4), dtype=np.uint8)
    return stack, images, rng.integers(0, 3, 300)


@pytest.mark.parametrize("layer", [1, 2])
def test_metrics_equal_brute_force(net_and_images, layer):
    stack, images, labels = net_and_images
    width = stack.widths[layer - 1]
    dictionary = random_dictionary(width, 3 * width, 4, layer)
    found = dictionary_metrics(stack, dictionary, images, labels, batch_size=64)

    x = images.reshape(len(images), -1) / 255.0
    a = x
    for dense in stack.layers[:layer]:
        a = np.maximum(a @ dense.kernel.astype(np.float64) + dense.bias, 0)
    codes = brute_encode(dictionary, a)
    rebuilt = codes @ dictionary.w_dec.astype(np.float64) + dictionary.b_dec
    explained = 1 - ((a - rebuilt) ** 2).sum() / ((a - a.mean(axis=0)) ** 2).sum()
    assert found.variance_explained == pytest.approx(explained, rel=1e-4)
    assert found.mean_l0 == pytest.approx((codes > 0).sum(axis=1).mean())
    np.testing.assert_allclose(found.frequency, (codes > 0).mean(axis=0), atol=1e-7)
    assert found.accuracy == (numpy_forward(stack, x).argmax(1) == labels).mean()
    # The spliced pass: the same net in float64 with layer `layer` replaced.
    h = rebuilt
    for index, dense in enumerate(stack.layers[layer:], start=layer + 1):
        h = h @ dense.kernel.astype(np.float64) + dense.bias
        if index < len(stack.layers):
            h = np.maximum(h, 0)
    assert found.spliced_accuracy == (h.argmax(1) == labels).mean()
    assert 0 < found.spliced_accuracy  # the comparison above is not 0 == 0


def test_features_are_the_nodes_of_the_encoder_stacked_on_the_net(net_and_images):
    stack, images, labels = net_and_images
    dictionary = random_dictionary(8, 20, 5, 2)
    x = images.reshape(len(images), -1).astype(np.float32) / 255
    on_top = feature_stack(stack, dictionary)
    pre = x @ on_top.layers[0].kernel + on_top.layers[0].bias
    pre = np.maximum(pre, 0) @ on_top.layers[1].kernel + on_top.layers[1].bias
    pre = np.maximum(pre, 0) @ on_top.layers[2].kernel + on_top.layers[2].bias
    np.testing.assert_allclose(pre, dictionary.pre_activations(
        layer_activations(stack, 2, images)), atol=1e-5)
    statistics = feature_statistics(stack, dictionary, images, labels, top_k=4)
    codes = dictionary.encode(layer_activations(stack, 2, images))
    np.testing.assert_allclose(statistics.firing_fraction, (codes > 0).mean(axis=0))
    for feature in range(dictionary.size):
        fired = np.flatnonzero(codes[:, feature] > 0)
        best = fired[np.argsort(-codes[fired, feature], kind="stable")][:4]
        assert list(statistics.top_indices[feature][:len(best)]) == list(best)
    # Selectivity is the nodes' own definition: the same numbers for the same values.
    nodes = node_statistics(stack, images, labels)[1]
    same = feature_statistics(stack, SparseDictionary(
        2, np.eye(8, dtype=np.float32), np.zeros(8, np.float32), np.eye(8, dtype=np.float32),
        np.zeros(8, np.float32), 8), images, labels)
    np.testing.assert_allclose(same.selectivity, nodes.selectivity, atol=1e-6)


@pytest.mark.parametrize("layer", [1, 2])
def test_mean_gradient_is_the_mean_of_each_images_gradient(net_and_images, layer):
    stack, images, _ = net_and_images
    width = stack.widths[layer - 1]
    dictionary = random_dictionary(width, 2 * width, 3, layer, seed=4)
    found = mean_feature_gradients(stack, dictionary, images, batch_size=70)
    on_top = feature_stack(stack, dictionary)
    x = images.reshape(len(images), -1).astype(np.float32) / 255
    codes = dictionary.encode(layer_activations(stack, layer, images))
    expected = np.zeros_like(found)
    for feature in range(dictionary.size):
        grads, _ = node_gradients(on_top, x, layer + 1, np.full(len(x), feature))
        expected[feature] = (grads * (codes[:, feature] > 0)[:, None]).mean(axis=0)
    np.testing.assert_allclose(found, expected, atol=1e-5)


def test_linear_features_and_polysemanticity():
    stack = random_net()
    dictionary = random_dictionary(8, 20, 5, 2)
    np.testing.assert_allclose(linear_features(stack, dictionary),
                               dictionary.w_dec @ linear_rows(stack)[1], atol=1e-5)
    alive = np.ones(20, bool)
    alive[3] = False
    found = polysemanticity(dictionary, alive, share=0.2)
    for node in range(8):
        users = [f for f in range(20) if f != 3 and dictionary.w_dec[f, node] ** 2 >= 0.2]
        assert found.features_per_node[node] == len(users)
        assert sorted(found.features_of(node, dictionary.w_dec)) == users
    assert found.nodes_per_feature[3] == 0
    np.testing.assert_allclose(found.effective_nodes,
                               1 / (dictionary.w_dec.astype(np.float64) ** 4).sum(axis=1),
                               rtol=1e-5)


def run_main(*args: str) -> tuple[int, str]:
    stderr = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(stderr):
        code = main(list(args))
    return code, stderr.getvalue()


@pytest.mark.parametrize("layer, activations, fragment", [
    ("3", None, "layer 3 is the output layer"),
    ("7", None, "--layer must be a hidden layer, 1-2"),
    ("2", ["relu", "softmax", "softmax"], "layer 2 (W2) applies softmax"),
])
def test_command_line_errors_are_one_line(tmp_path, layer, activations, fragment):
    rng = np.random.default_rng(0)
    stack = DenseStack.from_arrays([rng.standard_normal((784, 6)), rng.standard_normal((6, 5)),
                                    rng.standard_normal((5, 10))], activations=activations)
    model = mlplens.save_stack(stack, tmp_path / "net.npz")
    code, stderr = run_main("features", str(model), "--layer", layer, "--out",
                            str(tmp_path / "out"))
    assert code == 2
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlplens: error: "), stderr
    assert fragment in lines[0]
    assert not (tmp_path / "out").exists()
