"""Every activation and LayerNorm through the methods: the gradient method against brute-force
Jacobians, circuits exactly conserved in the linearised net, and the other consumers."""

from __future__ import annotations

import numpy as np
import pytest

from mlplens import DenseStack
from mlplens.core.activations import ACTIVATIONS, HEADS_ONLY, gate
from mlplens.core.circuits.circuit import attribute, prune
from mlplens.core.circuits.contributions import contributions
from mlplens.core.circuits.intervene import intervene
from mlplens.core.features.dictionary import SparseDictionary, layer_activations
from mlplens.core.features.pictures import mean_feature_gradients
from mlplens.core.forward import accuracy, layer_output, pre_activations
from mlplens.core.gradient import mean_jacobians, mean_jacobians_bytes
from mlplens.core.maximize import node_gradients
from mlplens.methods import project
from mlplens.core.node_statistics import node_statistics
from mlplens.core.checks.randomization import randomized
from mlplens.core.stack import LayerNorm
from mlplens.layout.diagram import circuit_diagram

from .helpers import tiny_net

HIDDEN = [f"{name}(0.2)" if name == "leaky_relu" else "elu(1.5)" if name == "elu" else name
          for name in ACTIVATIONS if name not in HEADS_ONLY]


def _stack(first: str, second: str, norms: tuple[bool | None, bool | None] = (None, None),
           seed: int = 0) -> DenseStack:
    """16 inputs (4x4) -> 6 -> 5 -> 3 logits; `norms`: per hidden layer, no LayerNorm (None),
    one before the activation (False) or after it (True)."""
    rng = np.random.default_rng(seed)
    widths = (16, 6, 5, 3)
    kernels = [rng.normal(size=(a, b)) / np.sqrt(a) * 2 for a, b in zip(widths, widths[1:])]
    biases = [rng.normal(size=b) * 0.5 for b in widths[1:]]
    layer_norms = [None if where is None else
                   LayerNorm(rng.normal(size=width) + 1, rng.normal(size=width) * 0.3, 1e-3)
                   for where, width in zip(norms, widths[1:3])]
    return DenseStack.from_arrays(kernels, biases, [first, second, "softmax"],
                                  norms=[*layer_norms, None],
                                  norm_after=[bool(where) for where in norms] + [False])


STACKS = {f"{name}": (name, name, (None, None)) for name in HIDDEN}
STACKS["layernorm before gelu"] = ("gelu", "tanh", (False, False))
STACKS["layernorm after relu"] = ("relu", "silu", (True, True))
STACKS["layernorm mixed"] = ("leaky_relu(0.2)", "sigmoid", (False, True))
NORMED = [key for key in STACKS if key.startswith("layernorm")]


def _images(count: int = 12, seed: int = 5) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(count, 16), dtype=np.uint8)


def _pre(stack: DenseStack, x: np.ndarray, layer: int) -> np.ndarray:
    """z_layer of one input, in float64 from the stack's own layers."""
    values = x
    for index, dense in enumerate(stack.layers[:layer], start=1):
        z = values @ dense.kernel.astype(np.float64) + dense.bias.astype(np.float64)
        if index == layer:
            return z
        values = layer_output(dense, z)
    raise AssertionError(layer)


def _jacobian(stack: DenseStack, x: np.ndarray, layer: int) -> np.ndarray:
    """(n_layer, n_inputs): dz_layer / dx by central differences in float64."""
    h = 1e-6
    return np.stack([(_pre(stack, x + step, layer) - _pre(stack, x - step, layer)) / (2 * h)
                     for step in np.eye(len(x)) * h], axis=1)


@pytest.mark.parametrize("key", list(STACKS))
def test_gradient_rows_are_the_mean_of_brute_force_jacobians(key):
    stack = _stack(*STACKS[key])
    images = _images()
    inputs = images.astype(np.float64) / 255
    rows = mean_jacobians(stack, images, batch_size=5)
    for layer in (2, 3):
        expected = np.mean([_jacobian(stack, x, layer) for x in inputs], axis=0)
        # mean_jacobians multiplies in float32 (about 1e-7 relative per step); the differences
        # are accurate to about 1e-9 here (h = 1e-6, float64, no input near a kink):
        # 1e-5 of the largest entry bounds both.
        scale = np.abs(expected).max()
        np.testing.assert_allclose(rows[layer - 1], expected, rtol=0, atol=1e-5 * scale)


@pytest.mark.parametrize("key", NORMED)
def test_gradient_rows_per_class_with_layer_norms(key):
    stack = _stack(*STACKS[key])
    images = _images()
    labels = np.arange(12) % 3
    per_class = mean_jacobians(stack, images, labels, batch_size=4)
    inputs = images.astype(np.float64) / 255
    for group in range(3):
        expected = np.mean([_jacobian(stack, x, 3) for x in inputs[labels == group]], axis=0)
        np.testing.assert_allclose(per_class[2][group], expected, rtol=0,
                                   atol=1e-5 * np.abs(expected).max())
    assert mean_jacobians_bytes(stack, 12, 4) > mean_jacobians_bytes(_stack("relu", "relu"), 12, 4)


@pytest.mark.parametrize("key", list(STACKS))
def test_circuits_are_conserved_in_the_linearised_net(key):
    stack = _stack(*STACKS[key])
    for x in _images(4).astype(np.float64) / 255:
        attribution = attribute(stack, x)
        logit = attribution.logit
        assert attribution.conservation_error(stack) <= 1e-9 * max(1.0, abs(logit))
        # Below each hidden layer, its nodes carry everything but what the layers above add.
        for layer in (1, 2):
            above = sum(attribution.biases(k, stack).sum() for k in range(layer + 1, 4))
            above += sum(attribution.offsets(k).sum() for k in range(layer + 1, 3))
            assert abs(attribution.nodes(layer).sum() + above - logit) <= 1e-9 * max(1, abs(logit))
        # A node's outgoing edges sum to its contribution.
        np.testing.assert_allclose(attribution.edges(3).sum(axis=1), attribution.nodes(2),
                                   rtol=1e-12, atol=1e-15)
        circuit = prune(attribution, 0.8)
        assert circuit_diagram(stack, circuit).edges


def test_offsets_are_what_the_gates_and_norms_add():
    stack = _stack("sigmoid", "softplus", (False, None))
    x = _images(1)[0].astype(np.float64) / 255
    attribution = attribute(stack, x)
    upstream = attribution.kernels[2] @ attribution.pre_gradients[2]  # dz_c / da_2
    _, offset = gate(_pre(stack, x, 2), "softplus")
    np.testing.assert_allclose(attribution.offsets(2), upstream * offset, rtol=1e-15)
    assert offset[0] == np.log(2)


def test_relu_nets_have_no_offsets_and_their_gates_are_the_on_off_pattern():
    stack = tiny_net()
    x = np.array([1, 0.5, 0, 0.2])
    attribution = attribute(stack, x)
    assert attribution.node_offsets == ()
    assert attribution.offsets(1).tolist() == [0.0, 0.0]
    z1 = x @ stack.kernels[0].astype(np.float64) + stack.biases[0]
    np.testing.assert_array_equal(attribution.pre_gradients[0],
                                  (stack.kernels[1].astype(np.float64)
                                   @ attribution.pre_gradients[1]) * (z1 > 0))


@pytest.mark.parametrize("key", ["gelu", "layernorm mixed"])
def test_contributions_are_the_circuits_nodes(key):
    stack = _stack(*STACKS[key])
    images = _images(3)
    inputs = images.astype(np.float32) / 255
    found = contributions(stack, inputs)
    for n in range(3):
        attribution = attribute(stack, inputs[n])
        for layer in (1, 2):
            # contributions take the pre-activations in float32, circuits in float64
            np.testing.assert_allclose(found[layer - 1][n], attribution.nodes(layer),
                                       rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("key", NORMED)
def test_maximize_gradients_are_the_jacobian(key):
    stack = _stack(*STACKS[key])
    inputs = _images(3).astype(np.float32) / 255
    grads, values = node_gradients(stack, inputs, 3, np.array([0, 2, 1]))
    for row, (x, node) in enumerate(zip(inputs.astype(np.float64), [0, 2, 1])):
        expected = _jacobian(stack, x, 3)[node]
        np.testing.assert_allclose(grads[row], expected, rtol=0,
                                   atol=1e-5 * np.abs(expected).max())
        assert values[row] == pytest.approx(_pre(stack, x, 3)[node], rel=1e-5)


def test_the_other_consumers_pass_through_layer_norms():
    stack = _stack("gelu", "relu", (False, True))
    images = _images(6)
    inputs = images.astype(np.float32) / 255
    first = layer_output(stack.layers[0], inputs @ stack.kernels[0] + stack.biases[0])
    second = layer_output(stack.layers[1], first @ stack.kernels[1] + stack.biases[1])
    np.testing.assert_allclose(layer_activations(stack, 2, images), second, rtol=1e-6)
    stats = node_statistics(stack, images, np.arange(6) % 3)
    np.testing.assert_allclose(stats[1].mean_activation, second.mean(axis=0), rtol=1e-5,
                               atol=1e-6)
    ablated = intervene(stack, inputs, ablate={2: [1]})
    assert np.all(ablated[1][:, 1] == 0)
    np.testing.assert_allclose(np.delete(ablated[1], 1, axis=1), np.delete(second, 1, axis=1),
                               rtol=1e-6)
    random = randomized(stack, [1])
    np.testing.assert_array_equal(random.layers[0].norm.scale, stack.layers[0].norm.scale)
    assert random.layers[1].norm_after and random.layers[0].norm.epsilon == 1e-3
    picture = project(stack, "gradient", reference=images)
    assert picture.layers[2].shape == (3, 16)
    rng = np.random.default_rng(0)
    directions = rng.normal(size=(4, 5))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    dictionary = SparseDictionary(2, rng.normal(size=(5, 4)).astype(np.float32),
                                  np.ones(4, np.float32), directions.astype(np.float32),
                                  np.zeros(5, np.float32), 4)
    # Every feature on (k = m, biases 1): each one's mean gradient is w_f through the layers.
    features = mean_feature_gradients(stack, dictionary, images)
    encoder = dictionary.w_enc.astype(np.float64)
    on = dictionary.encode(second) > 0
    expected = np.zeros((4, 16))
    for n, x in enumerate(inputs.astype(np.float64)):
        h = 1e-6
        jac = np.stack([(layer_output(stack.layers[1], _pre(stack, x + step, 2))
                         - layer_output(stack.layers[1], _pre(stack, x - step, 2))) / (2 * h)
                        for step in np.eye(16) * h], axis=1)
        expected += (encoder.T @ jac) * on[n][:, None]
    expected /= len(inputs)
    np.testing.assert_allclose(features, expected, rtol=0, atol=1e-5 * np.abs(expected).max())


def test_circuit_json_records_the_offsets_only_when_there_are_any():
    from mlplens.figures.diagram import circuit_record

    x = _images(1)[0].astype(np.float64) / 255
    stack = _stack(*STACKS["layernorm mixed"])
    circuit = prune(attribute(stack, x))
    assert [column.title for column in circuit_diagram(stack, circuit).columns] == [
        "Layer 1: 6 layernorm+leaky_relu(0.2)", "Layer 2: 5 sigmoid+layernorm", "Output: logits"]
    record = circuit_record(stack, circuit, None, "test")
    parts = record["decomposition"]
    total = parts["pixels"] + sum(parts["biases"]) + sum(parts["offsets"])
    assert abs(total - record["logit"]) <= 1e-9 * max(1, abs(record["logit"]))
    assert [layer.get("offset_contribution") for layer in record["layers"]] == [
        *parts["offsets"], None]
    assert record["meaning"].endswith("pixels plus biases plus offsets (activations' a(0) and "
                                      "LayerNorm offsets) add up to the logit")
    plain = circuit_record(tiny_net(), prune(attribute(tiny_net(), x[:4])), None, "test")
    assert "offsets" not in plain["decomposition"]
    assert plain["meaning"].endswith("; pixels plus biases add up to the logit")


def test_statistics_rank_by_what_the_activation_takes_and_accuracy_reads_a_normed_output():
    stack = _stack("relu", "relu", (False, True))
    images = _images(8)
    inputs = images.astype(np.float32) / 255
    normed = stack.layers[0].norm.apply(inputs @ stack.kernels[0] + stack.biases[0])
    stats = node_statistics(stack, images, np.zeros(8, int), top_k=3)
    np.testing.assert_array_equal(stats[0].firing_fraction, (normed > 0).mean(axis=0))
    np.testing.assert_array_equal(stats[0].top_values, -np.sort(-normed.T, axis=1)[:, :3])
    rng = np.random.default_rng(3)
    norm = LayerNorm(rng.normal(size=3) * 5, rng.normal(size=3) * 5, 1e-5)
    last = DenseStack.from_arrays([stack.kernels[0], np.ones((6, 3))],
                                  activations=["relu", "linear"], norms=[None, norm])
    scores = norm.apply(pre_activations(last, inputs)[-1])
    labels = scores.argmax(axis=1)
    assert accuracy(last, images, labels) == 1.0
    assert (pre_activations(last, inputs)[-1].argmax(axis=1) != labels).any()


def test_the_shuffled_label_twin_is_refused_for_nets_the_recipe_cannot_train():
    from types import SimpleNamespace

    from mlplens.figures.checks import shuffled_net_reason

    data = SimpleNamespace(name="digits", class_names=tuple("abc"))
    assert shuffled_net_reason(_stack("relu", "relu"), data) is None
    assert shuffled_net_reason(_stack("relu", "relu", (True, None)), data) == (
        "the article's recipe trains no LayerNorm")
    assert shuffled_net_reason(_stack("gelu", "relu"), data) == (
        "the article's recipe trains relu hidden layers and a softmax output only")
