"""ONNX files as people make them (the zoo of tests/zoo_onnx.py: torch.onnx.export's legacy and
dynamo exporters, skl2onnx): every one opens as the net it is, and computes what its framework
computes on real MNIST test images; the views work on them; and what mlplens cannot read, or must
not (external data outside the model's folder), is refused in one exact line."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from mlplens import MlplensError, load_stack
from mlplens.core.circuits.circuit import attribute
from mlplens.core.forward import as_inputs, derivative, pre_activations, predict
from mlplens.methods import project
from mlplens.formats.onnx_file import SUPPORTED

from . import zoo_onnx
from .helpers import assert_one_error_line, error_of, run_cli

# What each net is read as (every route of a torch net reads the same), and its head.
TORCH = {
    "gelu": ("784-32-10 (gelu, linear)", "classes"),
    "gelu_tanh": ("784-32-10 (gelu_tanh, linear)", "classes"),
    "silu": ("784-32-10 (silu, linear)", "classes"),
    "leaky_relu": ("784-32-10 (leaky_relu(0.2), linear)", "classes"),
    "elu": ("784-32-10 (elu(1.0), linear)", "classes"),
    "selu": ("784-32-10 (selu, linear)", "classes"),
    "mish": ("784-32-10 (mish, linear)", "classes"),
    "softplus": ("784-32-10 (softplus, linear)", "classes"),
    "relu6": ("784-32-10 (relu6, linear)", "classes"),
    "hardsigmoid": ("784-32-10 (hard_sigmoid, linear)", "classes"),
    "hardswish": ("784-32-10 (hard_swish, linear)", "classes"),
    "tanh": ("784-32-10 (tanh, linear)", "classes"),
    "sigmoid": ("784-32-10 (sigmoid, linear)", "classes"),
    "batchnorm": ("784-32-16-10 (relu, relu, linear)", "classes"),
    "layernorm_gelu": ("784-32-10 (layernorm+gelu, linear)", "classes"),
    "relu_layernorm": ("784-32-10 (relu+layernorm, linear)", "classes"),
    "dropout_identity": ("784-32-10 (relu, linear)", "classes"),
    "softmax": ("784-32-10 (relu, softmax)", "classes"),
    "log_softmax": ("784-32-10 (relu, log_softmax)", "classes"),
    # One linear output: a regression unless told it is a binary logit (`--head binary`).
    "binary": ("784-32-1 (relu, linear)", "regression"),
    "multilabel": ("784-32-3 (relu, sigmoid)", "multilabel"),
    "regression": ("784-32-1 (tanh, linear)", "regression"),
}
SKLEARN = {
    "classifier": ("784-32-10 (relu, softmax)", "classes"),
    "binary": ("784-32-1 (relu, sigmoid)", "binary"),
    "regressor": ("784-32-16-1 (relu, relu, linear)", "regression"),
}


def expected(name: str) -> tuple[str, str]:
    if name.startswith("sklearn-"):
        return SKLEARN[name.removeprefix("sklearn-").removesuffix("-nozipmap")]
    return TORCH[name.split("-", 2)[2]]


def test_the_zoo_holds_every_route_and_variant(onnx_zoo):
    on_disk = sorted(path.name for path in onnx_zoo.iterdir() if path.is_dir())
    assert on_disk == zoo_onnx.names()
    assert len(on_disk) == 42
    assert {name.split("-", 2)[2] for name in on_disk if name.startswith("torch-")} == set(TORCH)
    # The dynamo exporter keeps the weights beside the graph.
    assert all((onnx_zoo / name / "model.onnx.data").is_file()
               for name in on_disk if name.startswith("torch-dynamo-"))


@pytest.mark.parametrize("name", zoo_onnx.names())
def test_every_zoo_model_opens_and_computes_what_its_framework_does(onnx_zoo, mnist, name):
    stack = load_stack(onnx_zoo / name / "model.onnx")
    assert (stack.describe(), stack.head) == expected(name)
    assert stack.image_shape == (28, 28)
    reference = np.load(onnx_zoo / "reference.npz")[name]
    if name.startswith("sklearn-binary"):  # predict_proba's [1 - p, p]; the stack gives p
        np.testing.assert_allclose(reference[:, 0], 1 - reference[:, 1], atol=1e-12)
        reference = reference[:, 1:]
    outputs = predict(stack, as_inputs(stack, mnist.x_test[:zoo_onnx.TEST_IMAGES]))
    assert outputs.shape == reference.shape
    assert np.abs(outputs - reference).max() < 1e-4


def test_external_data_is_read_exactly(onnx_zoo):
    """The dynamo export's weights in model.onnx.data, read by mlplens, equal onnx's own
    reading of them (transposed as Gemm's transB says)."""
    import onnx
    from onnx import numpy_helper

    path = onnx_zoo / "torch-dynamo-layernorm_gelu" / "model.onnx"
    model = onnx.load(str(path))  # with its external data
    weights = {tensor.name: numpy_helper.to_array(tensor) for tensor in model.graph.initializer}
    stack = load_stack(path)
    assert np.array_equal(stack.kernels[0], weights["1.weight"].T)
    assert np.array_equal(stack.biases[0], weights["1.bias"])
    assert np.array_equal(stack.layers[0].norm.scale, weights["2.weight"])
    assert np.array_equal(stack.kernels[1], weights["4.weight"].T)
    assert stack.layers[0].norm.epsilon == pytest.approx(1e-5, rel=1e-7)


def test_no_op_nodes_pass(onnx_zoo, tmp_path, mnist):
    """Dropout, Identity, Cast to float and a Reshape to (batch, n) change nothing (torch's
    exporters drop Dropout and Identity, so they are put back by hand)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(onnx_zoo / "torch-legacy-dropout_identity" / "model.onnx"))
    nodes = list(model.graph.node)
    relu = next(node for node in nodes if node.op_type == "Relu")
    gemm = nodes[nodes.index(relu) + 1]
    extra = [helper.make_node("Dropout", [relu.output[0]], ["dropped"], name="drop"),
             helper.make_node("Identity", ["dropped"], ["same"], name="same"),
             helper.make_node("Cast", ["same"], ["cast"], name="cast", to=TensorProto.FLOAT),
             helper.make_node("Reshape", ["cast", "shape"], ["flat"], name="flat")]
    gemm.input[0] = "flat"
    del model.graph.node[:]
    model.graph.node.extend(nodes[:nodes.index(relu) + 1] + extra + nodes[nodes.index(relu) + 1:])
    model.graph.initializer.append(numpy_helper.from_array(np.array([-1, 32], np.int64), "shape"))
    onnx.save(model, str(tmp_path / "noop.onnx"))
    stack = load_stack(tmp_path / "noop.onnx")
    assert stack.describe() == "784-32-10 (relu, linear)"
    reference = np.load(onnx_zoo / "reference.npz")["torch-legacy-dropout_identity"]
    outputs = predict(stack, as_inputs(stack, mnist.x_test[:zoo_onnx.TEST_IMAGES]))
    assert np.abs(outputs - reference).max() < 1e-4


# ---- the views on two representative models ------------------------------------------------

REPRESENTATIVE = ("torch-dynamo-layernorm_gelu", "sklearn-classifier")


@pytest.mark.parametrize("name", REPRESENTATIVE)
def test_linear_pictures_are_the_kernel_products(onnx_zoo, name):
    stack = load_stack(onnx_zoo / name / "model.onnx")
    rows = project(stack, "linear").layers
    product = stack.kernels[0].astype(np.float64)
    for layer, picture in enumerate(rows):
        if layer:
            product = product @ stack.kernels[layer]
        assert picture.shape == (stack.widths[layer], 784)
        np.testing.assert_allclose(picture, product.T, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("variant", zoo_onnx.GRADIENTS)
def test_gradient_pictures_equal_torchs_autograd(onnx_zoo, mnist, variant):
    """The gradient method's output-layer pictures (the mean input gradient of each output over
    real images) equal torch's autograd of the net the file was exported from."""
    route = "dynamo" if variant in zoo_onnx.BY_DYNAMO else "legacy"
    stack = load_stack(onnx_zoo / f"torch-{route}-{variant}" / "model.onnx")
    images = mnist.x_test[:zoo_onnx.GRADIENT_IMAGES]
    rows = project(stack, "gradient", reference=images).layers
    torch_rows = np.load(onnx_zoo / "reference.npz")[f"gradient-{variant}"]
    assert rows[-1].shape == torch_rows.shape == (10, 784)
    np.testing.assert_allclose(rows[-1], torch_rows, rtol=0, atol=2e-5)
    assert np.abs(torch_rows).max() > 0.05  # pictures, not zeros


def test_gradient_pictures_of_the_sklearn_classifier_by_hand(onnx_zoo, mnist):
    """ReLU then softmax: the output picture is W1 · mean(relu'(z1)) W2 (before the softmax)."""
    stack = load_stack(onnx_zoo / "sklearn-classifier" / "model.onnx")
    images = mnist.x_test[:50]
    rows = project(stack, "gradient", reference=images).layers
    z1 = pre_activations(stack, as_inputs(stack, images))[0]
    on = derivative(z1, "relu").astype(np.float64)
    by_hand = np.einsum("pi,ni,ij->jp", stack.kernels[0].astype(np.float64), on,
                        stack.kernels[1].astype(np.float64)) / len(images)
    np.testing.assert_allclose(rows[-1], by_hand, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", [name for name in zoo_onnx.names()
                                  if not name.startswith("torch-legacy13-")])
def test_circuits_are_conserved(onnx_zoo, mnist, name):
    """Pixels + biases + the offsets of the linearised net = the logit, to 1e-9 relative, on
    real test images, for every activation and LayerNorm of the zoo."""
    stack = load_stack(onnx_zoo / name / "model.onnx")
    for image in mnist.x_test[:3]:
        found = attribute(stack, as_inputs(stack, image[None])[0])
        assert found.conservation_error(stack) <= 1e-9 * max(1.0, abs(found.logit))


@pytest.mark.parametrize("name", REPRESENTATIVE)
def test_checks_pass_on_representative_models(onnx_zoo, mnist, name):
    from mlplens.core.checks.measures import deletion_set
    from mlplens.figures.check_methods import check_methods
    from mlplens.figures.verdicts import table
    from mlplens.methods import METHODS

    stack = load_stack(onnx_zoo / name / "model.onnx")
    deletion = deletion_set(stack, mnist.x_test[:300], mnist.y_test[:300], 3, 10)
    offered = {"reference": mnist.x_test[:100], "labels": mnist.y_test[:100]}
    rows = table(check_methods(stack, offered, deletion, None, seed=0,
                               methods=[METHODS["linear"], METHODS["gradient"]]).checks)
    assert [row["method"] for row in rows] == ["linear", "gradient"]
    for row in rows:
        # A trained net's pictures change when its weights are re-initialised, and deleting
        # (inserting) the pixels they rank first moves the output faster than chance.
        for check in ("model_randomization", "independent_randomization", "deletion",
                      "insertion"):
            assert row[check]["verdict"] == "pass", (check, row[check])
        assert row["deletion"]["auc"] < row["deletion"]["random"]
        assert row["insertion"]["auc"] > row["insertion"]["random"]


@pytest.mark.parametrize("name", REPRESENTATIVE)
def test_visualize_draws_every_layer(onnx_zoo, tmp_path, name):
    from PIL import Image

    from mlplens import visualize_stack

    stack = load_stack(onnx_zoo / name / "model.onnx")
    visualize_stack(stack, tmp_path, "linear")
    saved = np.load(tmp_path / "arrays.npz")
    for layer, rows in enumerate(project(stack, "linear").layers, start=1):
        np.testing.assert_array_equal(saved[f"raw_{layer}"], rows)
        with Image.open(tmp_path / f"layer-{layer}.png") as picture:
            assert picture.width > 300 and picture.height > 150


@pytest.mark.slow
def test_visualize_command_draws_the_gradient_of_the_dynamo_gelu_layernorm_export(onnx_zoo,
                                                                                   tmp_path):
    model = onnx_zoo / "torch-dynamo-layernorm_gelu" / "model.onnx"
    result = run_cli("visualize", str(model), "--out", str(tmp_path), "--method", "gradient",
                     "--reference", "20")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.glob("layer-*.png")) == ["layer-1.png", "layer-2.png"]
    torch_rows = np.load(onnx_zoo / "reference.npz")["gradient-layernorm_gelu"]
    np.testing.assert_allclose(np.load(tmp_path / "arrays.npz")["raw_2"], torch_rows, atol=2e-5)


# ---- refusals ---------------------------------------------------------------------------------

def _copy(onnx_zoo: Path, name: str, where: Path) -> Path:
    shutil.copytree(onnx_zoo / name, where)
    return where / "model.onnx"


def _relocate(path: Path, tensor: str, location: str) -> None:
    """Point one external tensor of the model at `location`."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    found = next(t for t in model.graph.initializer if t.name == tensor)
    next(entry for entry in found.external_data if entry.key == "location").value = location
    onnx.save(model, str(path))


ONLY = "mlplens reads external data only from files in the model's own folder"


def test_external_data_leading_out_of_the_folder_is_refused(onnx_zoo, tmp_path):
    path = _copy(onnx_zoo, "torch-dynamo-silu", tmp_path / "model")
    shutil.copy(path.with_name("model.onnx.data"), tmp_path / "outside.data")
    _relocate(path, "1.weight", "../outside.data")
    assert error_of(load_stack, path) == (
        f"{path}: tensor '1.weight': external data '../outside.data' leads out of the model's "
        f"folder; {ONLY}")
    _relocate(path, "1.weight", str(tmp_path / "outside.data"))
    assert error_of(load_stack, path) == (
        f"{path}: tensor '1.weight': external data '{tmp_path / 'outside.data'}' is an absolute "
        f"path; {ONLY}")


def test_external_data_through_a_link_out_of_the_folder_is_refused(onnx_zoo, tmp_path):
    path = _copy(onnx_zoo, "torch-dynamo-silu", tmp_path / "model")
    data = path.with_name("model.onnx.data")
    data.rename(tmp_path / "elsewhere.data")
    os.symlink(tmp_path / "elsewhere.data", data)
    assert error_of(load_stack, path) == (
        f"{path}: tensor '1.weight': external data 'model.onnx.data' is a link to "
        f"'{tmp_path / 'elsewhere.data'}', outside the model's folder; {ONLY}")
    # a link that stays inside the folder is fine
    data.unlink()
    (tmp_path / "elsewhere.data").rename(path.with_name("real.data"))
    os.symlink("real.data", data)
    assert load_stack(path).describe() == "784-32-10 (silu, linear)"


def test_truncated_external_data_is_refused_before_reading(onnx_zoo, tmp_path):
    import onnx

    path = _copy(onnx_zoo, "torch-dynamo-silu", tmp_path / "model")
    model = onnx.load(str(path), load_external_data=False)
    places = {t.name: {e.key: e.value for e in t.external_data}
              for t in model.graph.initializer if t.external_data}
    offset = int(places["1.weight"]["offset"]) if "offset" in places["1.weight"] else 0
    data = path.with_name("model.onnx.data")
    data.write_bytes(data.read_bytes()[:offset + 1000])
    assert error_of(load_stack, path) == (
        f"{path}: tensor '1.weight' declares shape (32, 784) (100 KB) but 'model.onnx.data' "
        f"holds 1.0 KB from offset {offset:,}")
    data.unlink()
    assert error_of(load_stack, path) == (
        f"{path}: tensor '1.weight': external data 'model.onnx.data' is not in the model's "
        "folder")


def _replace_node(source: Path, target: Path, op: str, new_op: str, **attributes) -> Path:
    import onnx
    from onnx import helper

    model = onnx.load(str(source), load_external_data=False)
    node = next(n for n in model.graph.node if n.op_type == op)
    node.op_type = new_op
    del node.attribute[:]
    node.attribute.extend(helper.make_attribute(k, v) for k, v in attributes.items())
    onnx.save(model, str(target))
    return target


@pytest.mark.parametrize("op, new_op, attributes, message", [
    ("Gelu", "Softsign", {}, "node '/2/Gelu' (Softsign) is not supported: mlplens reads chains "
                             f"of {SUPPORTED}"),
    ("Gelu", "HardSigmoid", {"alpha": 0.2, "beta": 0.5},
     "node '/2/Gelu' (HardSigmoid) has alpha=0.2, beta=0.5; mlplens reads HardSigmoid with "
     "alpha=1/6, beta=0.5 (PyTorch's Hardsigmoid, Keras 3's hard_sigmoid)"),
    ("Gelu", "Selu", {"alpha": 1.5},
     "node '/2/Gelu' (Selu) has alpha=1.5, gamma=1.050701; mlplens reads Selu with "
     "its standard constants only (alpha=1.673263, gamma=1.050701)"),
    ("Gelu", "Gelu", {"approximate": "erf"},
     "node '/2/Gelu' (Gelu) has approximate='erf'; mlplens reads 'none' (exact) and 'tanh'"),
    ("Gelu", "LpNormalization", {}, "node '/2/Gelu' (LpNormalization) is not supported"),
    ("Gelu", "Cast", {"to": 7},
     "node '/2/Gelu' (Cast) casts to INT64; mlplens reads Cast to a float type only"),
])
def test_unsupported_ops_are_refused_naming_them(onnx_zoo, tmp_path, op, new_op, attributes,
                                                 message):
    path = _replace_node(onnx_zoo / "torch-legacy-gelu" / "model.onnx", tmp_path / "odd.onnx",
                         op, new_op, **attributes)
    error = error_of(load_stack, path)
    assert error.startswith(f"{path}: {message}"), error
    assert "\n" not in error


def test_decomposed_formulas_that_are_no_activation_are_refused(onnx_zoo, tmp_path):
    """The opset-13 GELU with 0.5 changed to 0.6 computes no activation."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(onnx_zoo / "torch-legacy13-gelu" / "model.onnx"))
    half = next(n for n in model.graph.node if n.op_type == "Constant"
                and numpy_helper.to_array(n.attribute[0].t).item() == 0.5)
    half.attribute[0].t.CopyFrom(numpy_helper.from_array(np.array(0.6, np.float32)))
    onnx.save(model, str(tmp_path / "odd.onnx"))
    assert error_of(load_stack, tmp_path / "odd.onnx") == (
        f"{tmp_path / 'odd.onnx'}: node '/2/Div' (Div), node '/2/Erf' (Erf), node '/2/Add' (Add), "
        "node '/2/Mul' (Mul), node '/2/Mul_1' (Mul) compute no activation mlplens reads (it reads "
        "activation ops and the decomposed GELU, SiLU, Mish, HardSwish and Softplus that "
        "torch.onnx.export writes)")


def test_clip_other_than_relu6_and_training_batchnorm_are_refused(onnx_zoo, tmp_path):
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(onnx_zoo / "torch-legacy-relu6" / "model.onnx"))
    six = next(n for n in model.graph.node if n.op_type == "Constant"
               and numpy_helper.to_array(n.attribute[0].t).item() == 6.0)
    six.attribute[0].t.CopyFrom(numpy_helper.from_array(np.array(1.0, np.float32)))
    onnx.save(model, str(tmp_path / "clip.onnx"))
    assert error_of(load_stack, tmp_path / "clip.onnx") == (
        f"{tmp_path / 'clip.onnx'}: node '/2/Clip' (Clip) clips to [0.0, 1.0]; mlplens reads "
        "Clip(0, 6) (ReLU6) and Clip(0) (ReLU)")
    model = onnx.load(str(onnx_zoo / "torch-legacy-batchnorm" / "model.onnx"))
    norm = next(n for n in model.graph.node if n.op_type == "BatchNormalization")
    norm.attribute.append(helper.make_attribute("training_mode", 1))
    onnx.save(model, str(tmp_path / "bn.onnx"))
    assert error_of(load_stack, tmp_path / "bn.onnx") == (
        f"{tmp_path / 'bn.onnx'}: node '/2/BatchNormalization' (BatchNormalization) is in "
        "training mode; mlplens reads a BatchNorm with its inference statistics (export the "
        "model in eval mode)")


def test_graphs_that_are_not_one_chain_are_refused(onnx_zoo, tmp_path):
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(onnx_zoo / "sklearn-classifier-nozipmap" / "model.onnx"))
    model.graph.output[0].type.tensor_type.elem_type = TensorProto.FLOAT  # a float "label"
    onnx.save(model, str(tmp_path / "two.onnx"))
    assert error_of(load_stack, tmp_path / "two.onnx") == (
        f"{tmp_path / 'two.onnx'}: the graph has 2 outputs ('label', 'probabilities'); mlplens "
        "reads one output, or a classifier's label and probabilities")
    model = onnx.load(str(onnx_zoo / "torch-legacy13-layernorm_gelu" / "model.onnx"))
    model.graph.input.append(helper.make_tensor_value_info("mask", TensorProto.FLOAT, [1, 32]))
    onnx.save(model, str(tmp_path / "inputs.onnx"))
    assert error_of(load_stack, tmp_path / "inputs.onnx") == (
        f"{tmp_path / 'inputs.onnx'}: the graph has 2 inputs ('image', 'mask'); mlplens reads "
        "models with one")
    mean = next(node for node in model.graph.node if node.op_type == "ReduceMean")
    next(a for a in mean.attribute if a.name == "axes").ints[:] = [0]
    model.graph.input.pop()
    onnx.save(model, str(tmp_path / "axis.onnx"))
    assert error_of(load_stack, tmp_path / "axis.onnx") == (
        f"{tmp_path / 'axis.onnx'}: node '/2/ReduceMean' (ReduceMean) starts no LayerNorm: "
        "mlplens reads a decomposed LayerNorm as ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, "
        "Div, then Mul and Add by constants")


def test_external_constants_through_identity_and_in_constant_nodes(tmp_path):
    """The legacy exporter passes shared weights through Identity nodes: an external one is
    read through them; a Constant node may not keep its value outside the file."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    kernel = np.arange(12, dtype=np.float32).reshape(4, 3)
    graph = helper.make_graph(
        [helper.make_node("Identity", ["W"], ["W2"], name="shared"),
         helper.make_node("Gemm", ["x", "W2"], ["h"], name="dense")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("h", TensorProto.FLOAT, ["N", 3])],
        [numpy_helper.from_array(kernel, "W")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save_model(model, str(tmp_path / "shared.onnx"), save_as_external_data=True,
                    location="shared.data", size_threshold=0)
    assert np.array_equal(load_stack(tmp_path / "shared.onnx").kernels[0], kernel)
    constant = helper.make_node("Constant", [], ["K"], name="k",
                                value=numpy_helper.from_array(kernel, "K"))
    constant.attribute[0].t.ClearField("raw_data")
    constant.attribute[0].t.data_location = TensorProto.EXTERNAL
    constant.attribute[0].t.external_data.add(key="location", value="shared.data")
    graph.node.insert(0, constant)
    graph.node[2].input[1] = "K"
    onnx.save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
                    str(tmp_path / "constant.onnx"))
    assert error_of(load_stack, tmp_path / "constant.onnx") == (
        f"{tmp_path / 'constant.onnx'}: node 'k' (Constant) keeps its value in an external file; "
        "mlplens reads external data of initializers only")


@pytest.mark.slow
def test_the_command_line_refuses_external_data_out_of_the_folder(onnx_zoo, tmp_path):
    path = _copy(onnx_zoo, "torch-dynamo-silu", tmp_path / "model")
    _relocate(path, "3.weight", "../../etc/passwd")
    result = run_cli("visualize", str(path), "--out", str(tmp_path / "out"))
    assert_one_error_line(result, f"mlplens: error: {path}: tensor '3.weight': external data "
                                  f"'../../etc/passwd' leads out of the model's folder; {ONLY}")
    assert not (tmp_path / "out").exists()


def test_pickles_are_still_refused(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(MlplensError) as caught:
        load_stack(path)
    assert str(caught.value) == (f"{path}: .pt files are Python pickles, which mlplens never "
                                 "loads; save the weights as .safetensors, .onnx or .npz")
