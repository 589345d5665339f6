"""Every activation, LayerNorm and the readers' BatchNorm folding, against the formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlplens import MlplensError
from mlplens.core.activations import (ACTIVATIONS, HEADS_ONLY, SELU_ALPHA, SELU_SCALE, activate,
                                      canonical, derivative, gate, vjp)
from mlplens.core.forward import layer_backward, layer_output, pre_activations, predict
from mlplens.core.stack import DenseLayer, DenseStack, LayerNorm
from mlplens.formats.common import Chain, parse_activations

ELEMENTWISE = [name for name in ACTIVATIONS if name not in HEADS_ONLY]
CANONICAL = [f"{name}(0.2)" if name == "leaky_relu" else "elu(1.5)" if name == "elu" else name
             for name in ELEMENTWISE]
PHI_1 = 0.8413447460685429  # the standard normal CDF at 1


@pytest.mark.parametrize("activation, points, expected", [
    ("linear", [-2.5, 3.0], [-2.5, 3.0]),
    ("relu", [-2.0, 0.0, 3.0], [0.0, 0.0, 3.0]),
    ("relu6", [-1.0, 2.5, 7.0], [0.0, 2.5, 6.0]),
    ("leaky_relu(0.2)", [-2.0, 3.0], [-0.4, 3.0]),
    ("elu(1.5)", [-1.0, 2.0], [1.5 * math.expm1(-1), 2.0]),
    ("selu", [-1.0, 2.0], [SELU_SCALE * SELU_ALPHA * math.expm1(-1), SELU_SCALE * 2]),
    ("gelu", [-1.0, 0.0, 1.0], [-(1 - PHI_1), 0.0, PHI_1]),
    ("gelu_tanh", [1.0], [0.5 * (1 + math.tanh(math.sqrt(2 / math.pi) * 1.044715))]),
    ("silu", [1.0, -1.0], [1 / (1 + math.exp(-1)), -1 / (1 + math.exp(1))]),
    ("mish", [1.0], [math.tanh(math.log1p(math.e))]),
    ("softplus", [0.0, 1.0], [math.log(2), math.log1p(math.e)]),
    ("sigmoid", [0.0, 2.0], [0.5, 1 / (1 + math.exp(-2))]),
    ("hard_sigmoid", [-4.0, -3.0, 0.0, 1.5, 4.0], [0.0, 0.0, 0.5, 0.75, 1.0]),
    ("hard_swish", [-4.0, 1.5, 4.0], [0.0, 1.125, 4.0]),
    ("tanh", [0.5], [math.tanh(0.5)]),
])
def test_each_activation_is_its_formula(activation, points, expected):
    got = activate(np.array(points, dtype=np.float64), activation)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-15, atol=1e-16)


def test_softmax_heads_are_their_formulas():
    values = np.array([[0.0, math.log(3)]])
    np.testing.assert_allclose(activate(values, "softmax"), [[0.25, 0.75]], rtol=1e-15)
    np.testing.assert_allclose(activate(values, "log_softmax"),
                               [[math.log(0.25), math.log(0.75)]], rtol=1e-15)


@pytest.mark.parametrize("activation", CANONICAL)
def test_each_derivative_is_the_finite_difference(activation):
    # Points away from every kink (0, +-3, 6): central differences with h = 1e-6 are accurate to
    # about h^2 * f''' + eps / h, far below 1e-7.
    points = np.array([-4.5, -2.7, -1.3, -0.4, 0.3, 1.1, 2.2, 4.7, 6.5])
    h = 1e-6
    numeric = (activate(points + h, activation) - activate(points - h, activation)) / (2 * h)
    np.testing.assert_allclose(derivative(points, activation), numeric, rtol=0, atol=1e-7)


@pytest.mark.parametrize("activation", CANONICAL)
def test_float32_stays_float32(activation):
    values = np.linspace(-5, 5, 11, dtype=np.float32)
    assert activate(values, activation).dtype == np.float32
    assert derivative(values, activation).dtype == np.float32
    np.testing.assert_allclose(activate(values, activation),
                               activate(values.astype(np.float64), activation), rtol=1e-6,
                               atol=1e-6)


@pytest.mark.parametrize("activation", CANONICAL)
def test_gate_freezes_the_activation_at_its_input(activation):
    points = np.array([-7.0, -3.0, -1e-9, 0.0, 1e-9, 0.5, 3.0, 6.0, 9.0])
    slope, offset = gate(points, activation)
    # One division and one multiplication: the identity holds to a few ulps.
    np.testing.assert_allclose(offset + slope * points, activate(points, activation),
                               rtol=4e-16, atol=4e-16)
    assert slope[3] == derivative(points[3:4], activation)[0]
    assert np.all(offset == activate(np.zeros(1), activation)[0])


def test_relu_gate_is_the_on_off_pattern():
    points = np.array([-2.0, 0.0, 1e-30, 5.0])
    slope, offset = gate(points, "relu")
    assert slope.tolist() == [0.0, 0.0, 1.0, 1.0] and offset.tolist() == [0.0] * 4


def test_vjp_through_the_heads_is_the_jacobian():
    pre = np.array([0.3, -1.2, 2.0])
    upstream = np.array([1.0, -2.0, 0.5])
    for head in HEADS_ONLY:
        jacobian = np.stack([(activate(pre + h, head) - activate(pre - h, head)) / 2e-6
                             for h in np.eye(3) * 1e-6])
        np.testing.assert_allclose(vjp(upstream, pre, head), jacobian @ upstream, atol=1e-8)
        with pytest.raises(MlplensError, match=f"hidden {head} layer"):
            derivative(pre, head)


@pytest.mark.parametrize("text, expected", [
    ("ReLU", "relu"), ("identity", "linear"), ("None", "linear"), ("logistic", "sigmoid"),
    ("swish", "silu"), ("softmax_v2", "softmax"), ("LeakyReLU", "leaky_relu(0.01)"),
    ("leaky_relu(0.3)", "leaky_relu(0.3)"), ("leaky_relu(1e-1)", "leaky_relu(0.1)"),
    ("elu", "elu(1.0)"), ("hardsigmoid", "hard_sigmoid"), ("hardswish", "hard_swish"),
    ("gelu_approximate", "gelu_tanh"), ("logsoftmax", "log_softmax"), ("Mish", "mish"),
])
def test_canonical_names(text, expected):
    assert canonical(text, "here") == expected


@pytest.mark.parametrize("text", ["prelu", "relu(2)", "leaky_relu(x)", "leaky_relu(nan)", 3])
def test_unknown_activations_are_refused_in_one_line(text):
    with pytest.raises(MlplensError) as error:
        canonical(text, "layer 2 (fc)")
    assert str(error.value) == (
        f"layer 2 (fc): activation {text!r} is not supported (supported: linear, relu, relu6, "
        "leaky_relu(<slope>), elu(<alpha>), selu, gelu, gelu_tanh, silu, mish, softplus, "
        "sigmoid, hard_sigmoid, hard_swish, tanh, softmax, log_softmax)")


def test_parse_activations_keeps_parameters_whole():
    assert parse_activations("leaky_relu(0.2), elu(1),softmax") == (
        "leaky_relu(0.2)", "elu(1.0)", "softmax")


def _layer_norm(rng: np.random.Generator, n: int) -> LayerNorm:
    return LayerNorm(rng.normal(size=n).astype(np.float32), rng.normal(size=n).astype(np.float32),
                     1e-3)


def test_layer_norm_is_its_formula_and_its_backward_the_jacobian():
    rng = np.random.default_rng(0)
    norm = _layer_norm(rng, 5)
    x = rng.normal(size=(2, 5))
    expected = np.stack([norm.scale * (row - row.mean()) / math.sqrt(row.var() + 1e-3)
                         + norm.offset for row in x])
    np.testing.assert_allclose(norm.apply(x), expected, rtol=1e-13)
    upstream = rng.normal(size=(2, 5))
    for row in range(2):
        jacobian = np.stack([(norm.apply(x[row] + h) - norm.apply(x[row] - h)) / 2e-6
                             for h in np.eye(5) * 1e-6])
        np.testing.assert_allclose(norm.vjp(upstream[row], x[row]), jacobian @ upstream[row],
                                   atol=1e-8)


@pytest.mark.parametrize("after", [False, True])
def test_layer_backward_is_the_jacobian_with_a_norm_either_side(after):
    rng = np.random.default_rng(1)
    layer = DenseLayer(np.zeros((1, 5), np.float32), np.zeros(5, np.float32), "gelu",
                       norm=_layer_norm(rng, 5), norm_after=after)
    z = rng.normal(size=5)
    if after:
        expected = layer.norm.apply(activate(z, "gelu"))
    else:
        expected = activate(layer.norm.apply(z), "gelu")
    np.testing.assert_array_equal(layer_output(layer, z), expected)
    upstream = rng.normal(size=5)
    jacobian = np.stack([(layer_output(layer, z + h) - layer_output(layer, z - h)) / 2e-6
                         for h in np.eye(5) * 1e-6])
    np.testing.assert_allclose(layer_backward(layer, z, upstream), jacobian @ upstream,
                               atol=1e-8)


def test_stack_with_norms_describes_and_computes_them():
    rng = np.random.default_rng(2)
    kernels = [rng.normal(size=(4, 3)), rng.normal(size=(3, 3)), rng.normal(size=(3, 2))]
    norms = [_layer_norm(rng, 3), _layer_norm(rng, 3), None]
    stack = DenseStack.from_arrays(kernels, activations=["gelu", "LeakyReLU", "softmax"],
                                   norms=norms, norm_after=[False, True, False])
    assert stack.describe() == "4-3-3-2 (layernorm+gelu, leaky_relu(0.01)+layernorm, softmax)"
    x = rng.random(size=(2, 4)).astype(np.float32)
    hidden = activate(norms[0].apply(x @ stack.kernels[0]), "gelu")
    hidden = norms[1].apply(activate(hidden @ stack.kernels[1], "leaky_relu(0.01)"))
    np.testing.assert_allclose(predict(stack, x), activate(hidden @ stack.kernels[2], "softmax"),
                               rtol=1e-6)
    assert stack.layers[0].norm.scale.dtype == np.float32
    assert stack.with_input(input_names=list("abcd")).layers == stack.layers


@pytest.mark.parametrize("units, activation, head_kind, head, classes, text", [
    (10, "softmax", "", "classes", 10, "4-10 (softmax)"),
    (10, "log_softmax", "", "classes", 10, "4-10 (log_softmax)"),
    (10, "linear", "", "classes", 10, "4-10 (linear)"),
    (1, "sigmoid", "", "binary", 2, "4-1 (sigmoid)"),
    (3, "sigmoid", "", "multilabel", 3, "4-3 (sigmoid)"),
    (1, "linear", "", "regression", 0, "4-1 (linear)"),
    (1, "linear", "binary", "binary", 2, "4-1 (linear; binary head)"),
    (3, "linear", "regression", "regression", 0, "4-3 (linear; regression head)"),
])
def test_heads(units, activation, head_kind, head, classes, text):
    stack = DenseStack.from_arrays([np.ones((4, units))], activations=[activation],
                                   head=head_kind)
    assert (stack.head, stack.n_classes, stack.describe()) == (head, classes, text)
    assert stack.with_input(image_shape=(2, 2)).head == head


def test_a_head_that_does_not_fit_is_refused():
    with pytest.raises(MlplensError) as error:
        DenseStack.from_arrays([np.ones((4, 3))], activations=["softmax"], head="binary")
    assert str(error.value) == "a binary head does not fit an output layer of 3 softmax unit(s)"
    with pytest.raises(MlplensError, match="head 'ordinal' is not one of classes, binary"):
        DenseStack.from_arrays([np.ones((4, 3))], head="ordinal")


def _batch_norm(rng: np.random.Generator, n: int) -> dict:
    return {"scale": rng.normal(size=n), "offset": rng.normal(size=n),
            "mean": rng.normal(size=n), "variance": rng.random(size=n) + 0.5, "epsilon": 1e-3}


def _apply_batch_norm(values: np.ndarray, bn: dict) -> np.ndarray:
    return (bn["scale"] * (values - bn["mean"]) / np.sqrt(bn["variance"] + bn["epsilon"])
            + bn["offset"])


def _chain_forward(chain: Chain, x: np.ndarray) -> np.ndarray:
    for kernel, bias, activation in zip(chain.kernels, chain.biases, chain.activations):
        x = activate(x @ kernel + bias, activation)
    return x


def test_batch_norm_after_a_bare_dense_folds_into_it():
    rng = np.random.default_rng(3)
    w1, b1, w2 = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(3, 2))
    bn = _batch_norm(rng, 3)
    chain = Chain()
    chain.dense("fc1", w1, b1)
    chain.batch_norm(**bn, label="bn1")
    chain.fold("relu", "relu1")
    chain.dense("fc2", w2, None)
    x = rng.normal(size=(5, 4))
    expected = activate(_apply_batch_norm(x @ w1 + b1, bn), "relu") @ w2
    np.testing.assert_allclose(_chain_forward(chain, x), expected, rtol=1e-13, atol=1e-13)
    assert len(chain.kernels) == 2 and chain.pending is None


def test_batch_norm_after_an_activation_folds_into_the_next_dense():
    rng = np.random.default_rng(4)
    w1, b1, w2, b2 = (rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(3, 2)),
                      rng.normal(size=2))
    first, second, inputs = _batch_norm(rng, 3), _batch_norm(rng, 3), _batch_norm(rng, 4)
    chain = Chain()
    chain.batch_norm(**inputs, label="bn0")  # before any Dense: it normalises the input
    chain.dense("fc1", w1, b1, "tanh")
    chain.batch_norm(**first, label="bn1")
    chain.batch_norm(**second, label="bn2")  # two in a row compose
    chain.dense("fc2", w2, b2)
    x = rng.normal(size=(5, 4))
    hidden = activate(_apply_batch_norm(x, inputs) @ w1 + b1, "tanh")
    expected = _apply_batch_norm(_apply_batch_norm(hidden, first), second) @ w2 + b2
    np.testing.assert_allclose(_chain_forward(chain, x), expected, rtol=1e-13, atol=1e-13)
    stack = chain.stack(image_shape=(2, 2))
    np.testing.assert_allclose(pre_activations(stack, x.astype(np.float32))[-1], expected,
                               rtol=1e-5, atol=1e-5)


def test_batch_norm_refusals():
    rng = np.random.default_rng(5)
    chain = Chain()
    chain.dense("fc1", rng.normal(size=(4, 3)), None, "relu")
    chain.batch_norm(**_batch_norm(rng, 3), label="layer 'bn' (BatchNorm1d)")
    with pytest.raises(MlplensError) as error:
        chain.stack()
    assert str(error.value) == ("layer 'bn' (BatchNorm1d) follows the last Dense layer's "
                                "activation and cannot be folded into any Dense layer")
    with pytest.raises(MlplensError) as error:
        chain.fold("relu", "layer 'act'")
    assert str(error.value) == ("layer 'act' follows layer 'bn' (BatchNorm1d), which could not "
                                "be folded into a Dense layer (only a Dense layer may follow it)")
    with pytest.raises(MlplensError) as error:
        chain.dense("fc2", rng.normal(size=(5, 2)), None)
    assert str(error.value) == ("layer 'bn' (BatchNorm1d) has 3 values but Dense layer 'fc2' "
                                "takes 5 inputs")


def test_layer_norm_attaches_before_or_after_the_activation():
    rng = np.random.default_rng(6)
    chain = Chain()
    chain.dense("fc1", rng.normal(size=(4, 3)), None)
    chain.layer_norm(np.ones(3), np.zeros(3), 1e-5, "ln1")
    chain.fold("gelu", "gelu1")
    chain.dense("fc2", rng.normal(size=(3, 3)), None, "relu")
    chain.layer_norm(np.ones(3), np.zeros(3), 1e-5, "ln2")
    chain.dense("fc3", rng.normal(size=(3, 2)), None)
    stack = chain.stack()
    assert [layer.describe() for layer in stack.layers] == [
        "layernorm+gelu", "relu+layernorm", "linear"]
    with pytest.raises(MlplensError, match="^ln3 follows Dense layer 'fc2', which already has"):
        chain2 = Chain()
        chain2.dense("fc2", np.ones((4, 2)), None)
        chain2.layer_norm(np.ones(2), np.zeros(2), 1e-5, "ln2")
        chain2.layer_norm(np.ones(2), np.zeros(2), 1e-5, "ln3")
    with pytest.raises(MlplensError, match="^ln0 comes before any Dense layer"):
        Chain().layer_norm(np.ones(2), np.zeros(2), 1e-5, "ln0")
