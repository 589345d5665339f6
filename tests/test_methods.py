"""gradient, maximize and examples, checked against brute force on tiny nets and real MNIST."""

from __future__ import annotations

import numpy as np
import pytest

from mlplens import DenseStack, load_stack, project
from mlplens.core.forward import brightness, pre_activations
from mlplens.core.gradient import fidelity, mean_jacobians
from mlplens.core.maximize import maximize, node_gradients
from mlplens.core.projection import Fidelity, NodeStatisticsFound, PerClassMaps, Reached
from mlplens.errors import MlplensError

RNG = np.random.default_rng(7)


def random_stack(widths=(6, 5, 3), activations=("relu", "relu", "softmax"), shape=(3, 3),
                 rng=RNG) -> DenseStack:
    sizes = (shape[0] * shape[1], *widths)
    kernels = [rng.normal(size=(a, b)).astype(np.float32) for a, b in zip(sizes, sizes[1:])]
    biases = [rng.normal(size=b).astype(np.float32) * 0.3 for b in widths]
    return DenseStack.from_arrays(kernels, biases, list(activations), shape)


def per_image_jacobians(stack: DenseStack, x: np.ndarray) -> list[np.ndarray]:
    """The definition, one image at a time: W1 D1(x) W2 ... Wk, transposed to (n_k, H*W)."""
    pre = pre_activations(stack, x[None])
    product = stack.kernels[0].astype(np.float64)
    result = [product.T]
    for index in range(1, len(stack.layers)):
        z = pre[index - 1][0].astype(np.float64)
        slope = {"relu": (z > 0).astype(float), "tanh": 1 - np.tanh(z) ** 2,
                 "sigmoid": (1 / (1 + np.exp(-z))) * (1 - 1 / (1 + np.exp(-z))),
                 "linear": np.ones_like(z)}[stack.layers[index - 1].activation]
        product = (product * slope) @ stack.kernels[index]
        result.append(product.T)
    return result


def finite_difference(stack: DenseStack, x: np.ndarray, layer: int, eps: float = 1e-3):
    x = x.astype(np.float64)
    rows = []
    for pixel in range(x.size):
        step = np.zeros_like(x)
        step[pixel] = eps
        up = pre_activations(stack, (x + step)[None].astype(np.float32))[layer - 1][0]
        down = pre_activations(stack, (x - step)[None].astype(np.float32))[layer - 1][0]
        rows.append((up.astype(np.float64) - down) / (2 * eps))
    return np.array(rows).T


@pytest.mark.parametrize("activations", [("relu", "relu", "softmax"),
                                         ("tanh", "sigmoid", "linear")])
def test_gradient_matches_finite_differences(activations):
    stack = random_stack(activations=activations)
    x = RNG.uniform(0.1, 0.9, size=9).astype(np.float32)
    rows = project(stack, "gradient", reference=x[None]).layers
    for layer in (1, 2, 3):
        np.testing.assert_allclose(rows[layer - 1], finite_difference(stack, x, layer),
                                   atol=2e-2, rtol=2e-2)


def test_gradient_equals_an_explicit_loop_over_images_across_batches():
    stack = random_stack()
    images = RNG.uniform(0, 1, size=(23, 9)).astype(np.float32)
    expected = [np.mean(parts, axis=0) for parts in
                zip(*(per_image_jacobians(stack, x) for x in images))]
    got = mean_jacobians(stack, images, batch_size=5)  # 5 batches, the last one short
    for mine, theirs in zip(got, expected):
        np.testing.assert_allclose(mine, theirs, atol=1e-5, rtol=1e-5)


def test_gradient_of_a_net_without_hidden_layer_is_linear_exactly():
    stack = random_stack(widths=(4,), activations=("softmax",))
    images = RNG.uniform(0, 1, size=(10, 9))
    result = project(stack, "gradient", reference=images)
    np.testing.assert_array_equal(result.layers[0], project(stack, "linear").layers[0])
    assert result.extra(Fidelity).scores[0].tolist() == pytest.approx([1.0] * 4, abs=1e-6)


def test_gradient_equals_linear_when_no_relu_ever_switches_off():
    rng = np.random.default_rng(1)
    kernels = [rng.uniform(0.1, 1, size=(9, 6)), rng.uniform(0.1, 1, size=(6, 4)),
               rng.normal(size=(4, 3))]
    stack = DenseStack.from_arrays(kernels, [np.ones(6), np.ones(4), np.zeros(3)])
    images = rng.uniform(0, 1, size=(50, 9))
    assert all((z > 0).all() for z in pre_activations(stack, images)[:-1])
    gradient, linear = project(stack, "gradient", reference=images), project(stack, "linear")
    for mine, theirs in zip(gradient.layers, linear.layers):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6, atol=1e-6)


def test_per_class_maps_average_back_to_the_overall_map():
    stack = random_stack()
    images = RNG.uniform(0, 1, size=(40, 9))
    labels = np.arange(40) % 3
    result = project(stack, "gradient", reference=images, labels=labels, per_class=True)
    per_class = result.extra(PerClassMaps).maps
    assert per_class.shape == (3, 3, 9)
    np.testing.assert_allclose(np.einsum("g,gnp->np", np.bincount(labels) / 40, per_class),
                               result.layers[-1], atol=1e-6)
    for label in range(3):
        only = mean_jacobians(stack, images[labels == label].astype(np.float32))[-1]
        np.testing.assert_allclose(per_class[label], only, atol=1e-6)


def test_fidelity_is_cosine_similarity():
    a = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    b = np.array([[2.0, 0.0], [-1.0, -1.0], [1.0, 0.0]])
    scores = fidelity(a, b)
    assert scores[:2].tolist() == [1.0, -1.0]
    assert np.isnan(scores[2])


def test_gradient_refuses_a_hidden_softmax_and_missing_reference():
    stack = random_stack(activations=("softmax", "relu", "linear"))
    with pytest.raises(MlplensError, match=r"layer 1 \(dense_1\) applies softmax, which has no "
                                           "elementwise derivative"):
        project(stack, "gradient", reference=np.zeros((1, 9)))
    with pytest.raises(MlplensError, match="the gradient method needs reference images"):
        project(random_stack(), "gradient")
    with pytest.raises(MlplensError, match=r"reference images of 3x3 pixels like the model's "
                                           r"input, got \(28, 28\)"):
        project(random_stack(), "gradient", reference=np.zeros((2, 28, 28), np.uint8))


def test_node_gradients_match_the_jacobian_rows():
    stack = random_stack()
    x = RNG.uniform(0, 1, size=(3, 9)).astype(np.float32)
    grads, values = node_gradients(stack, x, 2, np.array([0, 3, 4]))
    for row, node in enumerate([0, 3, 4]):
        np.testing.assert_allclose(grads[row], per_image_jacobians(stack, x[row])[1][node],
                                   atol=1e-5)
        # float32: one row and a batch of three may take different BLAS kernels
        assert values[row] == pytest.approx(pre_activations(stack, x[row:row + 1])[1][0, node],
                                            rel=1e-5)


# ---- on real MNIST ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def stack(small_run):
    return load_stack(small_run / "model.keras")


@pytest.mark.slow  # uses the shared trained net
def test_maximize_beats_the_mean_test_image_by_a_margin(stack, mnist):
    mean_image = brightness(mnist.x_test).mean(axis=0, keepdims=True)
    baseline = pre_activations(stack, mean_image)
    result = project(stack, "maximize", layers=[2, 3], nodes=list(range(8)), steps=100)
    assert [len(rows) for rows in result.layers] == [0, 8, 10]
    assert result.nodes[2].tolist() == list(range(10))
    for layer in (2, 3):
        images = result.layers[layer - 1]
        assert images.min() >= 0 and images.max() <= 1
        reached = pre_activations(stack, images)[layer - 1][np.arange(len(images)),
                                                            result.nodes[layer - 1]]
        np.testing.assert_allclose(reached, result.extra(Reached).activations[layer - 1], rtol=1e-5)
        # Measured here (seed 0, 100 steps): output logits rise by 7.3 to 14.4 over the mean
        # test image's, layer-2 nodes by 2.3 to 6.5.
        margin = 5.0 if layer == 3 else 1.5
        assert (reached - baseline[layer - 1][0, result.nodes[layer - 1]] > margin).all()
    # The maximised output images are read as their own class.
    assert pre_activations(stack, result.layers[2])[-1].argmax(axis=1).tolist() == list(range(10))


@pytest.mark.slow  # uses the shared trained net
def test_maximize_is_deterministic_per_seed(stack):
    first = maximize(stack, 3, [3, 5], steps=20, seed=4)
    again = maximize(stack, 3, [3, 5], steps=20, seed=4)
    other = maximize(stack, 3, [3, 5], steps=20, seed=5)
    np.testing.assert_array_equal(first.images, again.images)
    assert not np.array_equal(first.images, other.images)
    with pytest.raises(MlplensError, match="--nodes must be within 0-9 for layer 3"):
        maximize(stack, 3, [10])


@pytest.mark.slow  # uses the shared trained net
def test_examples_rank_matches_brute_force_on_real_mnist(stack, mnist):
    images, labels = mnist.x_test[:700], mnist.y_test[:700]
    result = project(stack, "examples", reference=images, labels=labels, k=5, batch_size=128)
    pre = pre_activations(stack, brightness(images))
    for layer, found in enumerate(result.extra(NodeStatisticsFound).layers):
        z = pre[layer]
        brute = np.argsort(-z.T, axis=1, kind="stable")[:, :5]
        np.testing.assert_array_equal(found.top_indices, brute)
        # float32 pre-activations of batches of 128 and of 700 differ in the last bit
        np.testing.assert_allclose(found.top_values, np.take_along_axis(z.T, brute, 1),
                                   rtol=2e-6, atol=1e-6)
        np.testing.assert_allclose(found.firing_fraction, (z > 0).mean(axis=0), atol=1e-7)
        act = np.maximum(z, 0) if layer < 2 else np.exp(z) / np.exp(z).sum(1, keepdims=True)
        means = np.stack([act[labels == c].mean(axis=0) for c in range(10)])
        np.testing.assert_allclose(found.class_means, means, rtol=1e-4, atol=1e-6)
        np.testing.assert_array_equal(found.preferred_class, means.argmax(axis=0))
        np.testing.assert_allclose(found.mean_activation, act.mean(axis=0), rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(found.max_activation, act.max(axis=0), rtol=1e-5)
        np.testing.assert_array_equal(found.dead, (z <= 0).all(axis=0))
        # Each node's picture is the mean of its top images.
        np.testing.assert_allclose(result.layers[layer][0],
                                   brightness(images[brute[0]]).mean(axis=0), atol=1e-6)
    # Trained output nodes prefer their own class.
    assert result.extra(NodeStatisticsFound).layers[2].preferred_class.tolist() == list(range(10))


def test_a_dead_node_is_flagged():
    kernels = [np.ones((4, 2)), np.ones((2, 2))]
    stack = DenseStack.from_arrays(kernels, [np.array([0.0, -100.0]), np.zeros(2)])
    result = project(stack, "examples", reference=np.full((5, 2, 2), 255, np.uint8),
                     labels=np.array([0, 1, 0, 1, 1]), k=3)
    first = result.extra(NodeStatisticsFound).layers[0]
    assert first.dead.tolist() == [False, True]
    assert first.firing_fraction.tolist() == [1.0, 0.0]
    assert first.top_indices[0].tolist() == [0, 1, 2]  # ties keep the earlier image first


def test_uint8_references_are_converted_batch_by_batch_to_the_same_result():
    stack = random_stack()
    images = np.random.default_rng(3).integers(0, 256, size=(37, 3, 3), dtype=np.uint8)
    labels = np.arange(37) % 3
    for method in ("gradient", "examples"):
        from_uint8 = project(stack, method, reference=images, labels=labels, batch_size=8)
        from_floats = project(stack, method, reference=brightness(images), labels=labels,
                              batch_size=8)
        for a, b in zip(from_uint8.layers, from_floats.layers):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
