"""LayerNorms, parameterised activations and heads saved to .npz and .safetensors, read back."""

from __future__ import annotations

import json

import numpy as np
import pytest

import mlplens
from mlplens import DenseStack
from mlplens.core.stack import LayerNorm
from mlplens.formats import load_stack, stack_from
from mlplens.formats.common import Chain
from mlplens.formats.metadata import NORMS, finished, recorded
from mlplens.formats.safetensors_file import read_header

from .helpers import assert_same_stack, error_of
from .make_corpus import write_npz


def _normed(names=("W1", "W2", "W3")) -> DenseStack:
    rng = np.random.default_rng(7)
    return DenseStack.from_arrays(
        [rng.normal(size=(16, 5)), rng.normal(size=(5, 4)), rng.normal(size=(4, 1))],
        [rng.normal(size=5), rng.normal(size=4), rng.normal(size=1)],
        ["gelu", "leaky_relu(0.2)", "linear"], names=list(names),
        norms=[LayerNorm(rng.normal(size=5), rng.normal(size=5), 1e-3),
               LayerNorm(rng.normal(size=4), rng.normal(size=4), 1e-5), None],
        norm_after=[False, True, False], head="binary")


def test_npz_round_trip_keeps_norms_activations_and_head(tmp_path):
    stack = _normed()
    path = mlplens.save_stack(stack, tmp_path / "net.npz")
    with np.load(path) as arrays:
        assert sorted(arrays.files) == [
            "W1", "W2", "W3", "activations", "b1", "b2", "b3", "channels", "head",
            "image_shape", "ln1_after", "ln1_epsilon", "ln1_offset", "ln1_scale", "ln2_after",
            "ln2_epsilon", "ln2_offset", "ln2_scale", "pixel_scale"]
        assert arrays["activations"].tolist() == ["gelu", "leaky_relu(0.2)", "linear"]
        assert bool(arrays["ln2_after"]) and float(arrays["ln1_epsilon"]) == 1e-3
    loaded = load_stack(path)
    assert_same_stack(loaded, stack)
    assert loaded.describe() == "16-5-4-1 (layernorm+gelu, leaky_relu(0.2)+layernorm, linear; " \
                                "binary head)"
    assert_same_stack(stack_from(stack, image_shape=(4, 4)), stack)


def test_safetensors_writes_torch_sequential_order_and_records_what_tensors_cannot(tmp_path):
    stack = _normed()
    path = mlplens.save_stack(stack, tmp_path / "net.safetensors")
    header, metadata, _ = read_header(path)
    # Linear 0, LayerNorm 1, GELU 2, Linear 3, LeakyReLU 4, LayerNorm 5, Linear 6
    assert {key: entry["shape"] for key, entry in header.items()} == {
        "0.weight": [5, 16], "0.bias": [5], "1.weight": [5], "1.bias": [5],
        "3.weight": [4, 5], "3.bias": [4], "5.weight": [4], "5.bias": [4],
        "6.weight": [1, 4], "6.bias": [1]}
    assert metadata["mlplens.activations"] == "gelu,leaky_relu(0.2),linear"
    assert metadata["mlplens.head"] == "binary"
    assert json.loads(metadata[NORMS]) == [{"epsilon": 1e-3, "after": False},
                                           {"epsilon": 1e-5, "after": True}, None]


def _chain(after: bool) -> Chain:
    chain = Chain()
    chain.dense("fc1", np.ones((4, 3)), None, "relu" if after else "linear")
    chain.layer_norm(np.ones(3), np.zeros(3), 1e-5, "ln")  # a state_dict's default epsilon
    chain.dense("fc2", np.ones((3, 2)), None)
    return chain


def test_recorded_epsilons_and_head_reach_the_stack():
    found = recorded({NORMS: '[{"epsilon": 0.001, "after": true}, null]',
                      "mlplens.head": "multilabel"})
    stack, _ = finished(_chain(True), (2, 2), None, found)
    assert stack.layers[0].norm.epsilon == 1e-3 and stack.head == "multilabel"


@pytest.mark.parametrize("metadata, message", [
    ({NORMS: '[{"epsilon": 0.001, "after": false}, null]'},
     "metadata mlplens.norms does not match the LayerNorms the file holds (Dense layer 'fc1')"),
    ({NORMS: "[null]"}, "metadata mlplens.norms lists 1 layer(s) but the model has 2 Dense "
                        "layer(s)"),
    ({NORMS: '[{"epsilon": -1, "after": true}, null]'},
     'metadata mlplens.norms is not a JSON list of null or {"epsilon": <number>, "after": '
     '<true|false>} per Dense layer'),
    ({"mlplens.head": "ordinal"},
     "metadata mlplens.head 'ordinal' is not one of classes, binary, multilabel, regression"),
])
def test_recorded_norms_and_heads_that_do_not_fit_are_refused(metadata, message):
    assert error_of(lambda: finished(_chain(True), (2, 2), None, recorded(metadata))) == message


@pytest.mark.parametrize("arrays, message", [
    ({"W1": np.ones((4, 2)), "ln1_scale": np.ones(2)},
     "ln1_offset, ln1_epsilon, ln1_after missing; the layout is W1, b1, W2, b2, ..."),
    ({"W1": np.ones((4, 2)), "ln2_scale": np.ones(2), "ln2_offset": np.ones(2),
      "ln2_epsilon": np.array(1e-5), "ln2_after": np.array(False)}, "W2 missing"),
    ({"W1": np.ones((4, 2)), "ln1_scale": np.ones(3), "ln1_offset": np.ones(3),
      "ln1_epsilon": np.array(1e-5), "ln1_after": np.array(False)},
     "layer 1 (W1): LayerNorm scale (3,) and offset (3,) do not match 2 units"),
    ({"W1": np.ones((4, 2)), "ln1_scale": np.ones(2), "ln1_offset": np.ones(2),
      "ln1_epsilon": np.array(1), "ln1_after": np.array(False)},
     "array 'ln1_epsilon' must hold one number"),
    ({"W1": np.ones((4, 2)), "head": np.array(3)}, "array 'head' must hold one string"),
])
def test_npz_norm_refusals(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    write_npz(path, arrays)
    found = error_of(load_stack, path)
    assert found.startswith(f"{path}: {message}"), found
