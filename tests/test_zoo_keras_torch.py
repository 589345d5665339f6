"""The Keras and PyTorch routes on the zoo the real tools made (tests/zoo_keras_torch.py): every
net opens and gives its framework's own outputs on real MNIST test images; what cannot be read
is refused in one exact line; the views and circuits work on a BatchNorm+GELU Keras net and a
LayerNorm torch net."""

from __future__ import annotations

import numpy as np
import pytest

from mlplens import load_stack, read_model, stack_from
from mlplens.core.circuits.circuit import attribute
from mlplens.core.forward import predict
from mlplens.methods import project

from .helpers import error_of, run_cli
from .make_corpus import dense, torch_layout, weights, write_keras2_h5
from .zoo_keras_torch import load_module, zoo_images

slow = pytest.mark.slow  # the zoo is trained (once per run) by Keras and torch

TOLERANCE = 1e-4
KERAS = {  # name -> (what mlplens reads, the head it infers)
    "keras_bn_gelu": ("784-48-32-10 (gelu, silu, softmax)", "classes"),
    "keras_acts": ("784-32-32-32-32-32-32-10 (elu(1.0), selu, mish, softplus, relu6, silu, "
                   "log_softmax)", "classes"),
    "keras_hard": ("784-32-32-32-32-32-32-1 (hard_sigmoid, hard_swish, leaky_relu(0.2), "
                   "leaky_relu(0.2), elu(0.5), relu6, sigmoid)", "binary"),
    "keras_multilabel": ("784-32-32-4 (layernorm+gelu, tanh+layernorm, sigmoid)", "multilabel"),
    "keras_regression": ("784-32-16-1 (relu, silu, linear)", "regression"),
}
EPSILON_NOTE = "a state_dict does not record epsilon: using PyTorch's default 1e-05 for "


def outputs(stack, mnist) -> np.ndarray:
    return predict(stack, zoo_images(mnist).reshape(len(zoo_images(mnist)), -1))


def expected(zoo, name: str) -> np.ndarray:
    return np.load(zoo / f"{name}.expected.npy")


def assert_equals_framework(stack, zoo, name: str, mnist) -> None:
    difference = np.abs(outputs(stack, mnist) - expected(zoo, name)).max()
    assert difference < TOLERANCE, (name, difference)


# ---- Keras ----------------------------------------------------------------------------------

@slow
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("name", sorted(KERAS))
def test_keras_zoo_equals_keras(keras_torch_zoo, mnist, name, suffix):
    stack = load_stack(keras_torch_zoo / f"{name}{suffix}")
    assert (stack.describe(), stack.head) == KERAS[name]
    assert stack.image_shape == (28, 28)
    assert_equals_framework(stack, keras_torch_zoo, name, mnist)


@slow
def test_keras_batch_norm_is_folded_exactly(keras_torch_zoo):
    """BatchNorm after the GELU folds into the next Dense's inputs, BatchNorm after a bare Dense
    into that Dense: the linear picture of the output layer is W1 diag(s1) W2 diag(s2) W3, with
    s = gamma / sqrt(moving_variance + epsilon) read from the file by h5py."""
    import h5py

    path = keras_torch_zoo / "keras_bn_gelu.h5"
    with h5py.File(path) as h5:
        weights = h5["model_weights"]

        def array(layer: str, name: str) -> np.ndarray:
            listed = [text.decode() if isinstance(text, bytes) else str(text)
                      for text in weights[layer].attrs["weight_names"]]
            (path,) = [text for text in listed if text.endswith(f"/{name}")]
            return weights[f"{layer}/{path}"][()].astype(np.float64)

        def scale(layer: str) -> np.ndarray:
            return array(layer, "gamma") / np.sqrt(array(layer, "moving_variance") + 1e-3)

        product = (array("hidden1", "kernel") * scale("bn1")) @ \
            array("hidden2", "kernel") * scale("bn2") @ array("logits", "kernel")
    rows = project(load_stack(path), "linear").layers[-1]
    np.testing.assert_allclose(rows, product.T, rtol=1e-4, atol=1e-6)


@slow
def test_keras_refusals_name_the_layer_and_what_works(tmp_path):
    from mlplens.keras_backend import import_keras

    keras = import_keras()
    layers = keras.layers
    unit = keras.Sequential([layers.Input((784,)), layers.Dense(8),
                             layers.UnitNormalization(name="unit"), layers.Dense(2)])
    assert error_of(stack_from, unit) == (
        "layer 'unit' (UnitNormalization) is not supported: mlplens reads chains of Dense, "
        "BatchNormalization, LayerNormalization (axis -1), Activation, ReLU, LeakyReLU, ELU, "
        "Softmax, Flatten, Reshape to a vector and Dropout")
    with pytest.warns(UserWarning, match="rms_scaling"):  # Keras deprecates it, files keep it
        rms = keras.Sequential([layers.Input((784,)), layers.Dense(8),
                                layers.LayerNormalization(rms_scaling=True, name="rms"),
                                layers.Dense(2)])
    assert error_of(stack_from, rms) == ("layer 'rms' (LayerNormalization) uses rms_scaling: "
                                         "mlplens reads LayerNormalization with "
                                         "rms_scaling=False")
    path = tmp_path / "rms.keras"
    rms.save(path)
    assert error_of(load_stack, path) == (
        f"{path}: layer 'rms' (LayerNormalization) uses rms_scaling: mlplens reads "
        "LayerNormalization with rms_scaling=False")
    assert error_of(load_stack, path, layer_order="dense") == (
        f"{path}: --layer-order is for PyTorch state_dicts (.safetensors), whose keys do not "
        "record an order; a Keras model records its own")


# ---- PyTorch state_dicts as safetensors ----------------------------------------------------

@slow
def test_named_state_dict_needs_activations_and_notes_its_assumptions(keras_torch_zoo, mnist):
    path = keras_torch_zoo / "torch_named.safetensors"
    assert error_of(load_stack, path) == (
        f"{path}: the file records no activations (a state_dict holds only weights): pass "
        "--activations with one per Linear layer, in order (fc1, fc2, head), e.g. "
        "relu,relu,linear")
    found = read_model(path, activations="relu,gelu,linear")
    assert found.stack.describe() == "784-64-32-10 (relu, layernorm+gelu, linear)"
    assert found.recorded.notes == (
        "bn1, norm2 read as applied before their Linear layer's activation (Linear -> norm -> "
        "activation): if an activation comes first, give the whole order with --layer-order "
        "(now fc1,bn1,relu,fc2,norm2,gelu,head)", EPSILON_NOTE + "bn1, norm2")
    assert_equals_framework(found.stack, keras_torch_zoo, "torch_named", mnist)
    told = read_model(path, layer_order="fc1,bn1,relu,fc2,norm2,gelu,head")
    assert told.recorded.notes == (EPSILON_NOTE + "bn1, norm2",)
    np.testing.assert_array_equal(outputs(told.stack, mnist), outputs(found.stack, mnist))
    # the other order changes the outputs: mlplens reads what it is told
    after = load_stack(path, layer_order="fc1,relu,bn1,fc2,gelu,norm2,head")
    assert after.describe() == "784-64-32-10 (relu, gelu+layernorm, linear)"
    assert np.abs(outputs(after, mnist) - expected(keras_torch_zoo, "torch_named")).max() > 0.1


@slow
def test_nested_and_numbered_state_dicts(keras_torch_zoo, mnist):
    nested = read_model(keras_torch_zoo / "torch_nested.safetensors",
                        activations="elu,mish,linear")
    assert nested.stack.describe() == "784-40-24-10 (elu(1.0), mish, linear)"
    assert [layer.name for layer in nested.stack.layers] == ["encoder.1", "encoder.3",
                                                             "classifier"]
    assert nested.recorded.notes == ()
    assert_equals_framework(nested.stack, keras_torch_zoo, "torch_nested", mnist)
    numbered = read_model(keras_torch_zoo / "torch_numbered.safetensors")
    assert numbered.stack.describe() == "784-32-16-10 (relu, relu, linear)"
    assert numbered.recorded.notes == (
        "the file records no activations; assuming relu,relu,linear (ReLU where the "
        "nn.Sequential's indices skip a parameter-free module, logits at the output): pass "
        "--activations if they differ",)
    assert_equals_framework(numbered.stack, keras_torch_zoo, "torch_numbered", mnist)


@slow
def test_ambiguous_order_is_refused_then_told(tmp_path, mnist):
    import torch
    from safetensors.torch import save_file
    from torch import nn

    torch.manual_seed(1)
    net = nn.Sequential()
    net.fc1, net.act1 = nn.Linear(784, 16), nn.ReLU()
    net.fc3, net.act3 = nn.Linear(16, 16), nn.Tanh()
    net.fc2, net.act2 = nn.Linear(16, 16), nn.ReLU()
    net.head = nn.Linear(16, 10)
    path = tmp_path / "square.safetensors"
    save_file(net.state_dict(), str(path))
    assert error_of(load_stack, path, activations="relu,tanh,relu,linear") == (
        f"{path}: the Linear layers chain by their shapes in more than one order: "
        "fc1,fc2,fc3,head or fc1,fc3,fc2,head; say which with --layer-order (layer_order= in "
        "Python), e.g. --layer-order fc1,fc2,fc3,head")
    stack = load_stack(path, layer_order="fc1,relu,fc3,tanh,fc2,relu,head")
    images = zoo_images(mnist)
    with torch.no_grad():
        torch_out = net(torch.from_numpy(images.reshape(len(images), -1))).numpy()
    assert np.abs(outputs(stack, mnist) - torch_out).max() < TOLERANCE
    assert error_of(load_stack, path, layer_order="fc1,fc9,fc3,fc2,head") == (
        f"{path}: --layer-order: 'fc9' is neither a module of the file (fc1, fc2, fc3, head) "
        "nor an activation")


@slow
def test_pickles_are_refused(keras_torch_zoo):
    path = keras_torch_zoo / "torch_custom.state.pt"  # written by torch.save
    assert error_of(load_stack, path) == (
        f"{path}: .pt files are Python pickles, which mlplens never loads; save the weights as "
        ".safetensors, .onnx or .npz")


# ---- live torch modules ------------------------------------------------------------------------

@slow
def test_live_modules_equal_torch(keras_torch_zoo, mnist):
    sequential = stack_from(load_module(keras_torch_zoo, "torch_sequential"))
    assert sequential.describe() == ("784-40-32-32-24-24-16-10 (hard_swish, selu, softplus, "
                                      "hard_sigmoid, relu6, tanh, softmax)")
    assert_equals_framework(sequential, keras_torch_zoo, "torch_sequential", mnist)
    custom = stack_from(load_module(keras_torch_zoo, "torch_custom"))
    assert custom.describe() == ("784-48-32-24-10 (gelu_tanh+layernorm, silu, "
                                 "leaky_relu(0.05), log_softmax)")
    assert_equals_framework(custom, keras_torch_zoo, "torch_custom", mnist)


@slow
def test_live_module_refusals_and_colour():
    import torch
    from torch import nn

    conv = nn.Sequential(nn.Flatten(), nn.Linear(784, 8), nn.Conv1d(1, 1, 1))
    assert error_of(stack_from, conv) == (
        "node '_2' (module 2: Conv1d) is not supported: mlplens reads forwards that chain "
        "Linear, BatchNorm1d, LayerNorm, activations, Flatten/flatten/view/reshape to a "
        "vector, Dropout and Identity")

    class Residual(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(784, 784)

        def forward(self, x):
            return x + self.fc(x)

    assert error_of(stack_from, Residual()) == (
        "node 'add' (call function add) is not supported: mlplens reads forwards that chain "
        "Linear, BatchNorm1d, LayerNorm, activations, Flatten/flatten/view/reshape to a "
        "vector, Dropout and Identity")
    soft = nn.Sequential(nn.Linear(768, 4), nn.Softplus(beta=2.0))
    assert error_of(stack_from, soft, image_shape=(16, 16, 3)) == (
        "node '_1' (module 1: Softplus) has beta=2.0: mlplens reads softplus with beta=1")
    colour = nn.Sequential(nn.Flatten(), nn.Linear(768, 10))
    stack = stack_from(colour, image_shape=(16, 16, 3))
    assert (stack.picture_shape, stack.channels) == ((16, 16, 3), 3)
    x = torch.rand(2, 16, 16, 3)
    with torch.no_grad():
        np.testing.assert_allclose(predict(stack, x.reshape(2, -1).numpy()),
                                   colour(x).numpy(), atol=1e-5)
    assert error_of(stack_from, colour, image_shape=(16, 16)) == (
        "image shape 16x16 has 256 pixels but the first layer takes 768 inputs")
    assert error_of(stack_from, colour, image_shape=(16, 16, 2)) == (
        "image shape 16x16x2: the channels C must be 1 (grey) or 3 (colour)")


# ---- the views on two representative nets ------------------------------------------------------

def representative(zoo):
    """The Keras BatchNorm+GELU net and the torch LayerNorm net."""
    return {"keras_bn_gelu": load_stack(zoo / "keras_bn_gelu.keras"),
            "torch_named": load_stack(zoo / "torch_named.safetensors",
                                      layer_order="fc1,bn1,relu,fc2,norm2,gelu,head")}


def torch_mean_gradients(zoo, images: np.ndarray) -> np.ndarray:
    """torch autograd's mean input-gradient of each logit of torch_named over `images`."""
    import torch
    from safetensors.torch import load_file

    from .zoo_keras_torch import torch_modules

    module = torch_modules()["torch_named"]
    module.load_state_dict(load_file(zoo / "torch_named.safetensors"))
    module.eval()
    x = torch.from_numpy(images.reshape(len(images), -1)).requires_grad_(True)
    logits = module(x)
    return np.stack([torch.autograd.grad(logits[:, node].sum(), x, retain_graph=True)[0]
                     .mean(0).numpy() for node in range(logits.shape[1])])


@slow
def test_gradient_is_kerass_mean_input_gradient(keras_torch_zoo, mnist):
    """The gradient method's output rows equal JAX's mean input-gradient of the Keras net's
    logits (before its Softmax layer), through GELU, two BatchNorms and SiLU."""
    import jax

    from mlplens.keras_backend import import_keras

    keras = import_keras()
    model = keras.saving.load_model(keras_torch_zoo / "keras_bn_gelu.keras")
    logits = keras.Model(model.inputs, model.layers[-2].output)
    images = zoo_images(mnist)[:64]
    rows = project(representative(keras_torch_zoo)["keras_bn_gelu"], "gradient",
                   reference=images).layers[-1]
    means = np.stack([np.asarray(jax.grad(lambda x, k=node: logits(x)[:, k].sum())(images))
                      .reshape(len(images), -1).mean(0) for node in range(10)])
    np.testing.assert_allclose(rows, means, rtol=1e-3, atol=1e-5)


@slow
def test_circuits_are_conserved(keras_torch_zoo, mnist):
    images = zoo_images(mnist)[:3]
    for name, stack in representative(keras_torch_zoo).items():
        for image in images:
            attribution = attribute(stack, image)
            error = attribution.conservation_error(stack)
            assert error <= 1e-9 * max(1.0, abs(attribution.logit)), (name, error)


@slow
def test_visualize_gradient_cli_on_a_named_state_dict(keras_torch_zoo, mnist, tmp_path):
    """The command's gradient pictures of the torch LayerNorm net are torch autograd's mean
    input-gradients over the same 100 MNIST test images; what was assumed is said."""
    path = keras_torch_zoo / "torch_named.safetensors"
    out = tmp_path / "out"
    result = run_cli("visualize", str(path), "--activations", "relu,gelu,linear",
                     "--image-shape", "28", "28", "1", "--method", "gradient",
                     "--reference", "100", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[:2] == [
        "mlplens: note: torch_named.safetensors: bn1, norm2 read as applied before their Linear "
        "layer's activation (Linear -> norm -> activation): if an activation comes first, give "
        "the whole order with --layer-order (now fc1,bn1,relu,fc2,norm2,gelu,head)",
        f"mlplens: note: torch_named.safetensors: {EPSILON_NOTE}bn1, norm2"]
    assert sorted(item.name for item in out.iterdir() if not item.name.startswith(".")) == [
        "arrays.npz", "fidelity-2.png", "fidelity-3.png", "layer-1.png", "layer-2.png",
        "layer-3.png"]
    images = (mnist.x_test[:100] / 255.0).astype(np.float32)
    np.testing.assert_allclose(np.load(out / "arrays.npz")["raw_3"],
                               torch_mean_gradients(keras_torch_zoo, images),
                               rtol=1e-3, atol=1e-5)


# ---- small files made here: what the readers infer and refuse (fast) ---------------------------

def test_keras2_hard_sigmoid_is_refused(tmp_path):
    """Keras 2 computed hard_sigmoid as clip(0.2x + 0.5, 0, 1): read by name it would be wrong."""
    path = tmp_path / "old.h5"
    arrays = weights([16, 4, 3], seed=3)
    write_keras2_h5(path, [dense("d1", 4, "hard_sigmoid"), dense("d2", 3, "softmax")], 16,
                    {"d1": arrays[:2], "d2": arrays[2:]})
    assert error_of(load_stack, path) == (
        f"{path}: layer 'd1' (Dense) uses Keras 2.2.4's hard_sigmoid, clip(0.2x + 0.5, 0, 1), "
        "which mlplens does not read (it reads Keras 3's, relu6(x + 3) / 6)")


def test_state_dict_norms_by_index_and_by_width(tmp_path):
    """In an nn.Sequential the indices place a BatchNorm before (0, 1, ReLU 2) or after (0,
    ReLU 1, 2) the activation; with named keys a norm follows the Linear of its width, and two
    Linears of that width are refused."""
    from safetensors.numpy import save_file

    arrays = weights([6, 4, 3], seed=8)
    rng = np.random.default_rng(9)
    norm = {"weight": rng.uniform(0.5, 2, 4).astype(np.float32),
            "bias": rng.normal(0, 1, 4).astype(np.float32),
            "running_mean": rng.normal(0, 1, 4).astype(np.float32),
            "running_var": rng.uniform(0.5, 2, 4).astype(np.float32)}
    s = norm["weight"] / np.sqrt(norm["running_var"] + 1e-5)
    linears = torch_layout(arrays)  # 0.weight, 0.bias, 2.weight, 2.bias: moved to 0 and 3
    linears["3.weight"], linears["3.bias"] = linears.pop("2.weight"), linears.pop("2.bias")
    before = {**linears, **{f"1.{key}": value for key, value in norm.items()}}
    save_file(before, str(tmp_path / "before.safetensors"))
    stack = load_stack(tmp_path / "before.safetensors", image_shape=(2, 3),
                       activations="relu,linear")
    np.testing.assert_allclose(stack.kernels[0], arrays[0] * s, rtol=1e-6)
    np.testing.assert_allclose(stack.biases[0], (arrays[1] - norm["running_mean"]) * s
                               + norm["bias"], rtol=1e-5, atol=1e-6)
    after = {**linears, **{f"2.{key}": value for key, value in norm.items()}}
    save_file(after, str(tmp_path / "after.safetensors"))
    stack = load_stack(tmp_path / "after.safetensors", image_shape=(2, 3),
                       activations="relu,linear")
    np.testing.assert_allclose(stack.kernels[0], arrays[0], rtol=0)
    np.testing.assert_allclose(stack.kernels[1], arrays[2] * s[:, None], rtol=1e-6)
    named = {"a.weight": arrays[0].T.copy(), "b.weight": np.eye(4, dtype=np.float32),
             "c.weight": arrays[2].T.copy(), **{f"bn.{key}": value for key, value in norm.items()}}
    save_file(named, str(tmp_path / "named.safetensors"))
    assert error_of(load_stack, tmp_path / "named.safetensors", activations="relu,relu,linear") \
        == (f"{tmp_path / 'named.safetensors'}: BatchNorm1d 'bn' normalises 4 values and Linears "
            "a, b each give 4: say where it sits with --layer-order (layer_order= in Python)")
    told = read_model(tmp_path / "named.safetensors", image_shape=(2, 3),
                      layer_order="a,relu,b,bn,relu,c")
    assert told.stack.describe() == "6-4-4-3 (relu, relu, linear)"
    assert told.recorded.notes == (EPSILON_NOTE + "bn",)
    np.testing.assert_allclose(told.stack.kernels[1], np.diag(s), rtol=1e-6)
    assert error_of(load_stack, tmp_path / "named.safetensors", layer_order="a,b,c") == (
        f"{tmp_path / 'named.safetensors'}: --layer-order leaves out bn: it must name every "
        "module of the file")


def test_colour_image_shape_on_files(tmp_path):
    """(H, W, C) gives the channels: 768 inputs are 16x16 colour, not 16x16 grey."""
    from safetensors.numpy import save_file

    arrays = weights([768, 5], seed=12)
    path = tmp_path / "colour.safetensors"
    save_file(torch_layout(arrays), str(path))
    stack = load_stack(path, image_shape=(16, 16, 3), activations="softmax")
    assert (stack.picture_shape, stack.channels) == ((16, 16, 3), 3)
    assert error_of(load_stack, path, image_shape=(16, 16), activations="softmax") == (
        f"{path}: image shape 16x16 has 256 pixels but the first layer takes 768 inputs")
    assert error_of(load_stack, path, image_shape=(16, 16, 4)) == (
        "image shape 16x16x4: the channels C must be 1 (grey) or 3 (colour)")


@slow
def test_image_shape_option_takes_channels(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "colour.safetensors"
    save_file(torch_layout(weights([48, 5], seed=13)), str(path))
    worked = run_cli("visualize", str(path), "--activations", "softmax", "--image-shape", "4",
                     "4", "3", "--out", str(tmp_path / "out"))
    assert worked.returncode == 0, worked.stderr
    with np.load(tmp_path / "out" / "arrays.npz") as saved:
        assert saved["raw_1"].shape == (5, 48)
    wrong = run_cli("visualize", str(path), "--image-shape", "4", "4", "2", "--out",
                    str(tmp_path / "x"))
    assert (wrong.returncode, wrong.stderr.splitlines()[-1]) == (
        2, "mlplens: error: --image-shape: the channels C must be 1 (grey) or 3 (colour), got 2 "
           "(see 'mlplens visualize --help')")
