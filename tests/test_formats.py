"""Every model format in, each made by the library that writes it, read to the exact weights.

Keras 3 files are saved by Keras; Keras 2-era .h5 files are written with h5py in Keras 2's layout
(and Keras 3 itself is shown to read them to the same weights); safetensors files by the
`safetensors` NumPy API in torch's nn.Sequential key layout; ONNX files by the `onnx` package (and
run by its reference evaluator to check they mean what the stack means); scikit-learn models by
scikit-learn, on its bundled 8x8 digits.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import mlplens
from mlplens import DenseStack
from mlplens.errors import MlplensError
from mlplens.formats import load_stack, stack_from
from mlplens.formats.common import MAX_VALUES, check_declared

from .helpers import (
    assert_one_error_line,
    assert_same_stack,
    error_of,
    numpy_forward,
    run_cli,
)
from .make_corpus import dense, torch_layout, weights, write_keras2_h5, write_npz


def assert_arrays(stack: DenseStack, arrays: list[np.ndarray]) -> None:
    """Kernels and biases, in order, exactly equal to `arrays` (kernel, bias, kernel, ...)
    rounded to float32, the stack's type (scikit-learn keeps float64)."""
    assert len(stack.layers) * 2 == len(arrays)
    for layer, kernel, bias in zip(stack.layers, arrays[0::2], arrays[1::2]):
        assert layer.kernel.dtype == np.float32 and layer.bias.dtype == np.float32
        assert np.array_equal(layer.kernel, np.asarray(kernel).astype(np.float32))
        assert np.array_equal(layer.bias, np.asarray(bias).astype(np.float32))


def assert_loads(path, description: str, image_shape: tuple[int, int],
                 arrays: list[np.ndarray]) -> DenseStack:
    """The file reads as `description` on `image_shape` images, with exactly `arrays`."""
    stack = load_stack(path)
    assert stack.describe() == description
    assert stack.image_shape == image_shape
    assert_arrays(stack, arrays)
    return stack


ARTICLE = [784, 32, 16, 10]


# ---- Keras 2-era .h5 (h5py, no Keras) ----------------------------------------------------------

def keras2_article(path, config=None):
    arrays = weights(ARTICLE, seed=1)
    write_keras2_h5(path, [dense("dense_1", 32), dense("dense_2", 16),
                           dense("dense_3", 10, "softmax")], 784,
                    {"dense_1": arrays[:2], "dense_2": arrays[2:4], "dense_3": arrays[4:]},
                    config=config)
    return arrays


def test_keras2_h5_is_read_exactly_without_keras(tmp_path):
    path = tmp_path / "mnist_mlp.h5"
    arrays = keras2_article(path)
    stack = assert_loads(path, "784-32-16-10 (relu, relu, softmax)", (28, 28), arrays)
    assert tuple(layer.name for layer in stack.layers) == ("dense_1", "dense_2", "dense_3")


@pytest.mark.filterwarnings("ignore:Do not pass an `input_shape`:UserWarning")
def test_keras3_reads_the_keras2_fixture_to_the_same_weights(tmp_path):
    from mlplens.formats.keras_model import stack_from_keras
    from mlplens.keras_backend import import_keras

    path = tmp_path / "mnist_mlp.h5"
    keras2_article(path)
    model = import_keras().saving.load_model(path, compile=False)
    assert_same_stack(stack_from_keras(model), load_stack(path))


def test_keras21_list_config_and_input_layer_and_activation_layers(tmp_path):
    # Keras 2.0/2.1 wrote a Sequential's config as a bare list of layers.
    arrays = weights([64, 12, 10], seed=2)
    layers = [{"class_name": "Flatten", "name": "flatten_1", "config": {}},
              dense("dense_1", 12, "linear"),
              {"class_name": "Activation", "name": "act_1", "config": {"activation": "tanh"}},
              {"class_name": "Dropout", "name": "dropout_1", "config": {"rate": 0.5}},
              dense("dense_2", 10, "linear"),
              {"class_name": "Softmax", "name": "softmax_1", "config": {"axis": -1}}]
    entries = [{"class_name": layer["class_name"],
                "config": {"name": layer["name"], **layer["config"]}} for layer in layers]
    entries[0]["config"]["batch_input_shape"] = [None, 8, 8]
    path = tmp_path / "old.hdf5"
    write_keras2_h5(path, layers, [8, 8], {"dense_1": arrays[:2], "dense_2": arrays[2:]},
                    config={"class_name": "Sequential", "config": entries})
    assert_loads(path, "64-12-10 (tanh, softmax)", (8, 8), arrays)


def test_keras2_functional_config_is_followed_as_a_chain(tmp_path):
    arrays = weights([16, 6, 3], seed=3)
    layers = [
        {"name": "pixels", "class_name": "InputLayer",
         "config": {"batch_input_shape": [None, 4, 4], "name": "pixels"}, "inbound_nodes": []},
        {"name": "flat", "class_name": "Flatten", "config": {"name": "flat"},
         "inbound_nodes": [[["pixels", 0, 0, {}]]]},
        {"name": "hidden", "class_name": "Dense",
         "config": {"name": "hidden", "units": 6, "activation": "sigmoid"},
         "inbound_nodes": [[["flat", 0, 0, {}]]]},
        {"name": "out", "class_name": "Dense",
         "config": {"name": "out", "units": 3, "activation": "softmax"},
         "inbound_nodes": [[["hidden", 0, 0, {}]]]},
    ]
    config = {"class_name": "Model", "config": {"name": "model_1", "layers": layers,
                                                "input_layers": [["pixels", 0, 0]],
                                                "output_layers": [["out", 0, 0]]}}
    path = tmp_path / "functional.h5"
    write_keras2_h5(path, [{"name": layer["name"]} for layer in layers], 16,
                    {"hidden": arrays[:2], "out": arrays[2:]}, config=config)
    assert_loads(path, "16-6-3 (sigmoid, softmax)", (4, 4), arrays)


def test_keras2_weights_only_file_needs_or_takes_activations(tmp_path):
    import h5py

    arrays = weights([16, 8, 4], seed=4)
    path = tmp_path / "weights.h5"
    with h5py.File(path, "w") as h5:
        h5.attrs["layer_names"] = np.array([b"dense_1", b"dropout_1", b"dense_2"])
        for name, values in (("dense_1", arrays[:2]), ("dropout_1", []), ("dense_2", arrays[2:])):
            group = h5.create_group(name)
            group.attrs["weight_names"] = np.array(
                [f"{name}/{kind}:0".encode() for kind in ("kernel", "bias")[:len(values)]])
            for kind, value in zip(("kernel", "bias"), values):
                group.create_dataset(f"{name}/{kind}:0", data=value)
    assert load_stack(path).describe() == "16-8-4 (relu, linear)"
    stack = load_stack(path, activations="tanh,softmax")
    assert stack.describe() == "16-8-4 (tanh, softmax)"
    assert_arrays(stack, arrays)


# ---- safetensors (torch's nn.Sequential layout, written by safetensors.numpy) -----------------

def test_safetensors_torch_layout(tmp_path):
    from safetensors.numpy import save_file

    arrays = weights(ARTICLE, seed=5)
    tensors = torch_layout(arrays)  # 0.weight, 0.bias, 2.weight, 2.bias, 4.weight, 4.bias
    assert sorted(tensors) == ["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"]
    assert tensors["0.weight"].shape == (32, 784)
    path = tmp_path / "model.safetensors"
    save_file(tensors, str(path))
    stack = load_stack(path)
    # ReLU where the indices skip a parameter-free module, logits at the output.
    assert stack.describe() == "784-32-16-10 (relu, relu, linear)"
    assert tuple(layer.name for layer in stack.layers) == ("0", "2", "4")
    assert stack.image_shape == (28, 28)
    assert_arrays(stack, arrays)
    told = load_stack(path, activations="relu, relu, softmax")
    assert told.describe() == "784-32-16-10 (relu, relu, softmax)"
    assert_arrays(told, arrays)
    assert error_of(load_stack, path, activations="relu,softmax") == (
        f"{path}: --activations lists 2 activation(s) but the model has 3 Dense layer(s)")


def test_safetensors_prefixes_gaps_bias_free_and_bf16(tmp_path):
    from safetensors.numpy import save_file

    arrays = weights([16, 8, 6, 4], seed=6)
    # net.0 -> net.1 follow on (no module between: linear), net.1 -> net.3 skip one (ReLU).
    tensors = {"net.0.weight": arrays[0].T.copy(), "net.0.bias": arrays[1],
               "net.1.weight": arrays[2].T.copy(),
               "net.3.weight": arrays[4].T.copy(), "net.3.bias": arrays[5]}
    path = tmp_path / "prefixed.safetensors"
    save_file(tensors, str(path))
    stack = load_stack(path)
    assert stack.describe() == "16-8-6-4 (linear, relu, linear)"
    assert tuple(layer.name for layer in stack.layers) == ("net.0", "net.1", "net.3")
    assert np.array_equal(stack.biases[1], np.zeros(6, np.float32))
    assert np.array_equal(stack.kernels[2], arrays[4])

    # named keys are chained by their shapes (fc2 takes what fc1 gives), whatever the key order;
    # a state_dict records no activations and only an nn.Sequential's indices hint at them
    named = {"fc2.weight": arrays[2].T.copy(), "fc1.weight": arrays[0].T.copy()}
    save_file(named, str(tmp_path / "named.safetensors"))
    assert error_of(load_stack, tmp_path / "named.safetensors") == (
        f"{tmp_path / 'named.safetensors'}: the file records no activations (a state_dict holds "
        "only weights): pass --activations with one per Linear layer, in order (fc1, fc2), e.g. "
        "relu,linear")
    assert load_stack(tmp_path / "named.safetensors", activations="tanh,linear").describe() == \
        "16-8-6 (tanh, linear)"

    # bfloat16 (torch's favourite) is float32's upper half: values exact in bf16 survive.
    exact = np.array([[1.5, -2.0, 0.25, 3.0]] * 4, np.float32)  # (out 4, in 4)
    raw = (exact.view(np.uint32) >> 16).astype(np.uint16)
    header = json.dumps({"0.weight": {"dtype": "BF16", "shape": [4, 4],
                                      "data_offsets": [0, 32]}}).encode()
    bf16 = tmp_path / "bf16.safetensors"
    bf16.write_bytes(len(header).to_bytes(8, "little") + header + raw.tobytes())
    assert np.array_equal(load_stack(bf16).kernels[0], exact.T)


def test_safetensors_metadata_records_activations_and_image_shape(tmp_path):
    from safetensors.numpy import save_file

    arrays = weights([12, 5, 3], seed=7)
    path = tmp_path / "meta.safetensors"
    save_file(torch_layout(arrays), str(path),
              metadata={"mlplens.activations": "sigmoid,softmax", "mlplens.image_shape": "3,4"})
    assert_loads(path, "12-5-3 (sigmoid, softmax)", (3, 4), arrays)


# ---- ONNX (onnx.helper; meaning checked with onnx's reference evaluator) -----------------------

def run_onnx(path, x: np.ndarray) -> np.ndarray:
    from onnx.reference import ReferenceEvaluator

    session = ReferenceEvaluator(str(path))
    return session.run(None, {session.input_names[0]: x})[0]


def test_onnx_gemm_like_torch_export(tmp_path):
    """torch.onnx.export writes Linear as Gemm(transB=1) with weight (out, in); Flatten first."""
    from onnx import TensorProto, helper, numpy_helper, save_model

    arrays = weights([16, 8, 4], seed=8)
    inits = [numpy_helper.from_array(arrays[0].T.copy(), "0.weight"),
             numpy_helper.from_array(arrays[1], "0.bias"),
             numpy_helper.from_array(arrays[2].T.copy(), "2.weight"),
             numpy_helper.from_array(arrays[3], "2.bias")]
    nodes = [helper.make_node("Flatten", ["input"], ["flat"], name="/flatten/Flatten", axis=1),
             helper.make_node("Gemm", ["flat", "0.weight", "0.bias"], ["g0"], name="/0/Gemm",
                              alpha=1.0, beta=1.0, transB=1),
             helper.make_node("Tanh", ["g0"], ["t0"], name="/1/Tanh"),
             helper.make_node("Gemm", ["t0", "2.weight", "2.bias"], ["logits"],
                              name="/2/Gemm", transB=1)]
    graph = helper.make_graph(nodes, "main_graph",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                             ["batch", 1, 4, 4])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT,
                                                             ["batch", 4])], inits)
    path = tmp_path / "torch.onnx"
    save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    stack = load_stack(path)
    assert stack.describe() == "16-8-4 (tanh, linear)"
    assert stack.image_shape == (4, 4)
    assert tuple(layer.name for layer in stack.layers) == ("/0/Gemm", "/2/Gemm")
    assert_arrays(stack, arrays)
    x = np.random.default_rng(9).uniform(0, 1, (5, 1, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(numpy_forward(stack, x), run_onnx(path, x), rtol=1e-5, atol=1e-6)


def test_onnx_matmul_add_constants_alpha_beta_and_sigmoid(tmp_path):
    from onnx import TensorProto, helper, numpy_helper, save_model

    arrays = weights([9, 5, 3], seed=10)
    nodes = [helper.make_node("Constant", [], ["K1"], name="c1",
                              value=numpy_helper.from_array(arrays[0], "K1")),
             helper.make_node("MatMul", ["x", "K1"], ["m1"], name="mm1"),
             helper.make_node("Add", ["B1", "m1"], ["a1"], name="add1"),  # bias first
             helper.make_node("Sigmoid", ["a1"], ["s1"], name="sig1"),
             helper.make_node("Gemm", ["s1", "K2", "B2"], ["g2"], name="gemm2",
                              alpha=2.0, beta=0.5),
             helper.make_node("Softmax", ["g2"], ["p"], name="soft", axis=1)]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, ["N", 9])], [helper.make_tensor_value_info(
            "p", TensorProto.FLOAT, ["N", 3])],
        [numpy_helper.from_array(arrays[1].reshape(1, 5), "B1"),
         numpy_helper.from_array(arrays[2], "K2"), numpy_helper.from_array(arrays[3], "B2")])
    path = tmp_path / "mm.onnx"
    save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    stack = load_stack(path)
    assert stack.describe() == "9-5-3 (sigmoid, softmax)"
    assert stack.image_shape == (3, 3)
    assert np.array_equal(stack.kernels[0], arrays[0])
    assert np.array_equal(stack.biases[0], arrays[1])
    assert np.array_equal(stack.kernels[1], (arrays[2].astype(np.float64) * 2).astype(np.float32))
    assert np.array_equal(stack.biases[1], (arrays[3].astype(np.float64) / 2).astype(np.float32))
    x = np.random.default_rng(11).uniform(0, 1, (4, 9)).astype(np.float32)
    np.testing.assert_allclose(numpy_forward(stack, x), run_onnx(path, x), rtol=1e-5, atol=1e-6)


# ---- npz ---------------------------------------------------------------------------------------

def test_npz_documented_layout(tmp_path):
    arrays = weights(ARTICLE, seed=12)
    path = tmp_path / "weights.npz"
    np.savez(path, W1=arrays[0], b1=arrays[1], W2=arrays[2], b2=arrays[3], W3=arrays[4],
             b3=arrays[5])
    stack = load_stack(path)
    assert stack.describe() == "784-32-16-10 (relu, relu, linear)"
    assert tuple(layer.name for layer in stack.layers) == ("W1", "W2", "W3")
    assert_arrays(stack, arrays)
    recorded = tmp_path / "recorded.npz"
    np.savez(recorded, W1=arrays[0], W2=arrays[2], b2=arrays[3], W3=arrays[4],
             activations=np.array(["tanh", "relu", "softmax"]),
             image_shape=np.array([16, 49]))
    stack = load_stack(recorded)
    assert stack.describe() == "784-32-16-10 (tanh, relu, softmax)"
    assert stack.image_shape == (16, 49)
    assert np.array_equal(stack.biases[0], np.zeros(32, np.float32))
    assert np.array_equal(stack.biases[2], np.zeros(10, np.float32))
    assert load_stack(recorded, image_shape=(28, 28)).image_shape == (28, 28)


@pytest.mark.parametrize("arrays, fragment", [
    ({"W1": np.ones((4, 2)), "weights": np.ones(2)},
     "unexpected array 'weights'; the layout is W1, b1, W2, b2, ..."),
    ({"W2": np.ones((4, 2))}, "W1 missing; the layout is"),
    ({"b1": np.ones(2)}, "no W1 array"),
    ({"W1": np.ones((4, 2)), "activations": np.array([1, 2])},
     "array 'activations' must be a 1-D array of strings"),
    ({"W1": np.ones((4, 2)), "activations": np.array(["relu", "softmax"])},
     "array 'activations' lists 2 but there are 1 layers"),
    ({"W1": np.ones((4, 2)), "activations": np.array(["prelu"])},
     "--activations: activation 'prelu' is not supported"),
])
def test_npz_layout_refusals(tmp_path, arrays, fragment):
    path = tmp_path / "bad.npz"
    write_npz(path, arrays)
    message = error_of(load_stack, path)
    assert message.startswith(f"{path}: ")
    assert fragment in message, message


# ---- scikit-learn and live objects -------------------------------------------------------------

@pytest.fixture(scope="module")
def digits_mlp():
    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier

    digits = load_digits()
    model = MLPClassifier(hidden_layer_sizes=(24,), max_iter=60, random_state=0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning after 60 iterations
        model.fit(digits.data[:1200] / 16.0, digits.target[:1200])
    return model, digits


def test_sklearn_mlpclassifier(digits_mlp):
    model, digits = digits_mlp
    stack = stack_from(model)
    assert stack.describe() == "64-24-10 (relu, softmax)"
    assert stack.image_shape == (8, 8)
    assert tuple(layer.name for layer in stack.layers) == ("hidden_1", "output")
    assert_arrays(stack, [model.coefs_[0], model.intercepts_[0], model.coefs_[1],
                          model.intercepts_[1]])
    x = digits.data[1200:1300] / 16.0
    np.testing.assert_allclose(numpy_forward(stack, x), model.predict_proba(x),
                               rtol=1e-4, atol=1e-6)
    assert mlplens.stack_from(model).describe() == stack.describe()


def test_sklearn_binary_identity_regressor_and_unfitted():
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    rng = np.random.default_rng(13)
    x, y = rng.uniform(0, 1, (40, 4)), np.arange(40) % 2
    binary = MLPClassifier(hidden_layer_sizes=(3,), activation="identity", max_iter=5, random_state=0)
    regressor = MLPRegressor(hidden_layer_sizes=(3,), activation="logistic", max_iter=5, random_state=0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        binary.fit(x, y)
        regressor.fit(x, y.astype(float))
    assert binary.out_activation_ == "logistic"
    assert stack_from(binary).describe() == "4-3-1 (linear, sigmoid)"
    assert stack_from(regressor).describe() == "4-3-1 (sigmoid, linear)"
    assert error_of(stack_from, MLPClassifier()) == ("the MLPClassifier is not fitted yet: "
                                                     "call fit() first")


def test_live_keras_model_and_refusals():
    from mlplens.keras_backend import import_keras

    keras = import_keras()
    model = keras.Sequential([keras.Input((8, 8)), keras.layers.Flatten(),
                              keras.layers.Dense(5, activation="tanh"),
                              keras.layers.Dense(10, activation="softmax")])
    stack = mlplens.stack_from(model)
    assert stack.describe() == "64-5-10 (tanh, softmax)"
    assert stack.image_shape == (8, 8)
    assert_arrays(stack, model.get_weights())
    assert error_of(stack_from, {"W1": 1}) == (
        "cannot read a builtins.dict: mlplens reads scikit-learn MLPClassifier/MLPRegressor, "
        "Keras models and torch.nn.Modules (and files: see mlplens.load_stack)")
    reshaped = stack_from(stack, image_shape=(4, 16), activations="relu,linear")
    assert reshaped.describe() == "64-5-10 (relu, linear)" and reshaped.image_shape == (4, 16)
    assert stack_from(stack) is stack


# ---- dispatch, image shapes, and no framework imports ------------------------------------------

def test_sniffing_a_file_without_suffix(tmp_path):
    arrays = weights([16, 4], seed=14)
    np.savez(tmp_path / "w.npz", W1=arrays[0], b1=arrays[1])
    (tmp_path / "w.npz").rename(tmp_path / "weights")
    assert_arrays(load_stack(tmp_path / "weights"), arrays)
    keras2_article(tmp_path / "model.h5")
    (tmp_path / "model.h5").rename(tmp_path / "model.bak")
    assert load_stack(tmp_path / "model.bak").describe() == "784-32-16-10 (relu, relu, softmax)"
    (tmp_path / "notes.txt").write_text("1 2 3\n")
    assert error_of(load_stack, tmp_path / "notes.txt") == (
        f"{tmp_path / 'notes.txt'}: unsupported model format '.txt'; mlplens reads .keras, .h5, "
        ".hdf5, .safetensors, .onnx, .npz")


@pytest.mark.parametrize("suffix", [".pkl", ".joblib", ".pt", ".pth"])
def test_pickles_are_never_loaded(tmp_path, suffix):
    path = tmp_path / f"model{suffix}"
    path.write_bytes(b"\x80\x04K\x01.")
    assert error_of(load_stack, path) == (
        f"{path}: {suffix} files are Python pickles, which mlplens never loads; save the weights "
        "as .safetensors, .onnx or .npz")


def test_image_shapes_inferred_told_and_checked(tmp_path):
    for n_inputs, shape in ((784, (28, 28)), (64, (8, 8)), (4, (2, 2))):
        path = tmp_path / f"w{n_inputs}.npz"
        np.savez(path, W1=np.ones((n_inputs, 3), np.float32))
        assert load_stack(path).image_shape == shape
    path = tmp_path / "w12.npz"
    np.savez(path, W1=np.ones((12, 3), np.float32))
    assert error_of(load_stack, path) == (
        f"{path}: the model takes 12 inputs, which is not a square image; pass --image-shape H W, "
        "or for a table of features --feature-names with its 12 names (or --data with named "
        "features)")
    assert load_stack(path, image_shape=(3, 4)).image_shape == (3, 4)
    assert error_of(load_stack, path, image_shape=(5, 5)) == (
        f"{path}: image shape 5x5 has 25 pixels but the first layer takes 12 inputs")


def test_declared_sizes_are_capped_at_the_limit_exactly():
    assert check_declared("w", (2**14, 2**14)) == 2**28 == MAX_VALUES
    assert check_declared("b", (1,), running_total=MAX_VALUES - 1) == MAX_VALUES
    with pytest.raises(MlplensError, match=r"tensor 'b' declares shape \(2,\) \(2 values\); "
                                           r"mlplens refuses models above 268,435,456 values"):
        check_declared("b", (2,), running_total=MAX_VALUES - 1)
    with pytest.raises(MlplensError, match=r"tensor 'w' declares a negative size \(3, -1\)"):
        check_declared("w", (3, -1))


@pytest.mark.parametrize("suffix", [".h5", ".safetensors", ".onnx", ".npz"])
def test_readers_import_no_framework(tmp_path, suffix):
    arrays = weights([16, 8, 4], seed=15)
    stack = DenseStack.from_arrays(arrays[0::2], arrays[1::2], ["relu", "softmax"])
    path = tmp_path / f"model{suffix}"
    if suffix == ".h5":
        write_keras2_h5(path, [dense("d1", 8), dense("d2", 4, "softmax")], 16,
                        {"d1": arrays[:2], "d2": arrays[2:]})
    else:
        mlplens.save_stack(stack, path)
    code = ("import sys, mlplens\n"
            f"print(mlplens.load_stack({str(path)!r}).describe())\n"
            "print(sorted(m for m in ('keras', 'jax', 'torch', 'tensorflow', 'sklearn', "
            "'onnxruntime') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["16-8-4 (relu, softmax)", "[]"]


@pytest.mark.parametrize("suffix", [".safetensors", ".onnx", ".npz"])
def test_save_stack_round_trip_is_exact(tmp_path, suffix):
    arrays = weights([12, 7, 5, 3], seed=16)
    stack = DenseStack.from_arrays(arrays[0::2], arrays[1::2], ["sigmoid", "tanh", "softmax"],
                                   image_shape=(3, 4))
    path = mlplens.save_stack(stack, tmp_path / f"out{suffix}")
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"out{suffix}"]
    loaded = load_stack(path)
    assert loaded.describe() == "12-7-5-3 (sigmoid, tanh, softmax)"
    assert loaded.image_shape == (3, 4)
    assert_arrays(loaded, arrays)
    assert error_of(mlplens.save_stack, stack, tmp_path / "out.h5") == (
        f"{tmp_path / 'out.h5'}: cannot save as '.h5'; mlplens writes .safetensors, .onnx and "
        ".npz")


@pytest.mark.parametrize("scale, method, fragment", [
    (1e36, "linear", "layer 1: its linear pictures overflow float32 (|values| up to 1e+36)"),
    (1e30, "linear", "layer 2: its linear pictures overflow float32 (|values| up to inf)"),
    (1e36, "seed", "layer 1: its seed pictures overflow float32 (|values| up to 1e+36)"),
])
def test_weights_too_large_to_draw_give_one_line(tmp_path, scale, method, fragment):
    """Finite but absurd weights (a flipped exponent bit) cannot be drawn in float32."""

    path = tmp_path / "huge-values.npz"
    np.savez(path, W1=np.full((16, 4), scale, np.float32), W2=np.full((4, 2), scale, np.float32))
    out = tmp_path / "out"
    result = run_cli("visualize", str(path), "--method", method, "--out", str(out))
    line = assert_one_error_line(result, f"mlplens: error: {path}: {fragment}; the weights are "
                                         "too large to draw")
    assert line == (f"mlplens: error: {path}: {fragment}; the weights are too large to draw")
    assert not out.exists()


@pytest.mark.parametrize("dtype", ["complex64", "bool", "<U3"])
def test_weights_must_be_real_numbers(tmp_path, dtype):
    path = tmp_path / "odd.npz"
    np.savez(path, W1=np.ones((4, 2), dtype=dtype))
    assert error_of(load_stack, path) == (f"{path}: layer 1 (W1): weights must be real numbers, "
                                          f"got {np.dtype(dtype)}")


def test_gradient_method_follows_the_activations_a_file_records(tmp_path):
    """A torch-style tanh net from safetensors: the exact gradient uses tanh' = 1 - tanh(z)^2,
    checked against a hand-written NumPy Jacobian on the same real MNIST test images."""
    from safetensors.numpy import save_file


    arrays = weights([784, 8, 10], seed=17)
    path = tmp_path / "tanh.safetensors"
    save_file(torch_layout(arrays), str(path))
    out = tmp_path / "exact"
    result = run_cli("visualize", str(path), "--method", "gradient", "--reference", "50",
                     "--activations", "tanh,softmax", "--out", str(out))
    assert result.returncode == 0, result.stderr
    x = mlplens.load_mnist().x_test[:50].reshape(50, -1).astype(np.float32) / np.float32(255)
    w1, b1, w2 = (a.astype(np.float64) for a in arrays[:3])
    slope = 1 - np.tanh(x @ w1 + b1) ** 2  # (50, 8)
    expected_2 = np.einsum("pq,bq,qr->rp", w1, slope, w2) / 50  # mean Jacobian of the logits
    with np.load(out / "arrays.npz") as saved:
        np.testing.assert_allclose(saved["raw_1"], w1.T, rtol=1e-6)  # layer 1: its weights
        np.testing.assert_allclose(saved["raw_2"], expected_2, rtol=1e-4, atol=1e-7)
    # A softmax between hidden layers has no elementwise derivative: said in one line.
    refused = run_cli("visualize", str(path), "--method", "gradient", "--reference", "50",
                      "--activations", "softmax,softmax", "--out", str(tmp_path / "x"))
    assert_one_error_line(refused, f"{path}: the gradient method follows input-gradients through "
                                   "every hidden layer, and layer 1 (", ") applies softmax, which "
                                   "has no elementwise derivative")
    assert not (tmp_path / "x").exists()
