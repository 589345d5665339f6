"""The `mlplens` command as a user runs it: outputs, messages and exit codes, in subprocesses."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import mlplens
from mlplens import layer_views, load_stack, save_stack
from mlplens.keras_backend import import_keras

from .helpers import assert_one_error_line, run_cli

# Trains real networks or runs the command line in new interpreters: `make test`, not
# `make check`.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    """Small Keras models saved to disk, good and bad, made by Keras itself."""
    keras = import_keras()
    folder = tmp_path_factory.mktemp("models")
    rng = np.random.default_rng(0)

    def save(name: str, model) -> Path:
        model.set_weights([rng.normal(size=w.shape).astype(np.float32)
                           for w in model.get_weights()])
        path = folder / name
        model.save(path)
        return path

    layers = keras.layers
    paths = {
        "good": save("good.keras", keras.Sequential([
            keras.Input((28, 28)), layers.Flatten(), layers.Dense(16, activation="relu"),
            layers.Dense(10, activation="softmax")])),
        "conv": save("conv.keras", keras.Sequential([
            keras.Input((28, 28, 1)), layers.Conv2D(2, 3, name="edges"), layers.Flatten(),
            layers.Dense(10)])),
    }
    nan_model = keras.Sequential([keras.Input((16,)), layers.Dense(2)])
    weights = [np.ones((16, 2), np.float32), np.array([np.nan, 0], np.float32)]
    nan_model.set_weights(weights)
    paths["nan"] = folder / "nan.keras"
    nan_model.save(paths["nan"])
    paths["garbage"] = folder / "garbage.keras"
    paths["garbage"].write_bytes(b"PK\x03\x04 this is not a zip file at all")
    # The good model's weights as .npz: for tests of what visualize draws rather than of
    # reading Keras files, so that each run starts without Keras.
    paths["good_npz"] = save_stack(load_stack(paths["good"]), folder / "good.npz")
    return paths


def run_python(code: str):
    """`python -c CODE` in a fresh interpreter: what a first import really costs and loads."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_help_imports_no_framework():
    code = ("import sys\nfrom mlplens.cli import main\ntry:\n    main(['--help'])\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in ('keras', 'jax', 'matplotlib', 'PIL', 'tensorflow', 'onnx', "
            "'sklearn', 'safetensors', 'h5py', 'torch', 'numpy', 'shutil', 'typing') "
            "if m in sys.modules))")
    # Not even NumPy: its import alone takes several times Python's own start-up.
    assert run_python(code).stdout.strip().splitlines()[-1] == "[]"


def test_package_import_is_lazy_and_keeps_its_function_names():
    code = ("import sys, mlplens\nprint('numpy' in sys.modules)\n"
            "import mlplens.core.projection, mlplens.core.normalization, mlplens.layout.views\n"
            "print(callable(mlplens.project), callable(mlplens.normalize))\n"
            "from mlplens.methods import METHODS\nprint(list(METHODS)[0])\n"
            "print(mlplens.DenseStack.__name__, 'DenseStack' in dir(mlplens))")
    result = run_python(code)
    assert result.stdout.split("\n")[:4] == ["False", "True True", "linear",
                                             "DenseStack True"], result.stderr
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        mlplens.nope  # noqa: B018


def test_help_lists_the_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("train", "visualize", "diagram", "prune", "evolve", "reproduce", "explore",
                    "data"):
        assert f"    {command}" in result.stdout
    visualize = run_cli("visualize", "--help")
    for option in ("--method {linear,seed,gradient,maximize,examples}",
                   "--normalize {minmax,symmetric,layer}", "--cmap", "--image-shape H W",
                   "--scale", "--reference N", "--per-class", "--nodes LIST", "--top-k K",
                   "--activations LIST"):
        assert option in visualize.stdout


def test_no_command_prints_help_and_fails():
    result = run_cli()
    assert result.returncode == 2
    assert result.stdout.startswith("usage: mlplens")


def test_visualize_writes_every_layer_and_the_arrays(models, tmp_path):
    out = tmp_path / "figs"
    result = run_cli("visualize", str(models["good"]), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str(out / name) for name in
                                          ("layer-1.png", "layer-2.png", "arrays.npz")]
    assert sorted(p.name for p in out.iterdir()) == [".mlplens-manifest.json", "arrays.npz",
                                                     "layer-1.png", "layer-2.png"]
    manifest = json.loads((out / ".mlplens-manifest.json").read_text())
    assert manifest == {"visualize": ["arrays.npz", "layer-1.png", "layer-2.png"]}
    views = layer_views(load_stack(models["good"]), "linear", "minmax")
    with np.load(out / "arrays.npz") as arrays:
        assert sorted(arrays.files) == ["image_1", "image_2", "raw_1", "raw_2"]
        assert arrays["raw_1"].dtype == np.float32 and arrays["raw_1"].shape == (16, 784)
        assert arrays["image_2"].dtype == np.uint8 and arrays["image_2"].shape == (10, 28, 28)
        for view in views:
            np.testing.assert_array_equal(arrays[f"raw_{view.index}"], view.raw)
            np.testing.assert_array_equal(arrays[f"image_{view.index}"], view.images)
    # 16 nodes -> 2 rows of 8 scale-4 tiles (112 px) with 8 px gaps under 19 px label bands,
    # a 30 px title band and a 44 px legend band.
    assert Image.open(out / "layer-1.png").size == (8 * (112 + 8) + 8,
                                                    30 + 2 * (19 + 112 + 8) + 8 + 44)


def test_visualize_seed_symmetric_viridis(models, tmp_path):
    out = tmp_path / "seed"
    result = run_cli("visualize", str(models["good_npz"]), "--method", "seed", "--normalize",
                     "symmetric", "--cmap", "viridis", "--scale", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    views = layer_views(load_stack(models["good"]), "seed", "symmetric")
    with np.load(out / "arrays.npz") as arrays:
        np.testing.assert_array_equal(arrays["image_2"], views[1].images)
    picture = np.asarray(Image.open(out / "layer-2.png").convert("RGB"))
    from mlplens.render import colormap_lut

    # Node 0's top-left pixel, at scale 1: title band 30, gap 2, label band 12.
    np.testing.assert_array_equal(picture[30 + 2 + 12, 2],
                                  colormap_lut("viridis")[views[1].images[0, 0, 0]])


def test_non_square_input_needs_image_shape(tmp_path):
    """Whatever the format (.npz here: no Keras to start in each run), 12 inputs are no square."""
    wide = tmp_path / "wide.npz"
    rng = np.random.default_rng(0)
    np.savez(wide, W1=rng.normal(size=(12, 5)).astype(np.float32),
             W2=rng.normal(size=(5, 3)).astype(np.float32))
    out = tmp_path / "wide"
    failed = run_cli("visualize", str(wide), "--out", str(out))
    assert_one_error_line(failed, str(wide), "12 inputs", "--image-shape H W")
    assert not out.exists()
    worked = run_cli("visualize", str(wide), "--image-shape", "3", "4",
                     "--out", str(out))
    assert worked.returncode == 0, worked.stderr
    with np.load(out / "arrays.npz") as arrays:
        assert arrays["image_2"].shape == (3, 3, 4)
    wrong = run_cli("visualize", str(wide), "--image-shape", "5", "5",
                    "--out", str(tmp_path / "x"))
    assert_one_error_line(wrong, "image shape 5x5 has 25 pixels but the first layer takes 12")


@pytest.mark.parametrize("case, fragments", [
    ("missing", ["no such file"]),
    ("garbage", ["garbage.keras", "cannot read this Keras model"]),
    ("conv", ["conv.keras", "layer 'edges' (Conv2D) is not supported"]),
    ("nan", ["nan.keras", "NaN or infinite"]),
])
def test_bad_models_give_one_line(models, tmp_path, case, fragments):
    path = models.get(case, tmp_path / "missing.keras")
    out = tmp_path / "out"
    assert_one_error_line(run_cli("visualize", str(path), "--out", str(out)), *fragments)
    assert not out.exists()


@pytest.mark.parametrize("args, fragments", [
    (["--cmap", "nonesuch"], ["unknown colormap 'nonesuch'"]),
    (["--normalize", "max"], ["argument --normalize: invalid choice: 'max'"]),
    (["--scale", "0"], ["argument --scale: expected a number of at least 1, got 0"]),
    (["--method", "magic"], ["argument --method: invalid choice: 'magic'"]),
])
def test_bad_options_give_one_line(models, tmp_path, args, fragments):
    out = tmp_path / "out"
    result = run_cli("visualize", str(models["good_npz"]), *args, "--out", str(out))
    assert_one_error_line(result, *fragments)
    assert not out.exists()


def test_usage_errors_give_one_line():
    assert_one_error_line(run_cli("nonesuch"), "invalid choice: 'nonesuch'")
    assert_one_error_line(run_cli("visualize"), "the following arguments are required: MODEL")
    assert_one_error_line(run_cli("data"), "choose an action: info or fetch")
    assert_one_error_line(run_cli("train", "--epochs", "x", "--out", "o"),
                          "expected a whole number, got 'x'")


def test_train_single_layer_net_on_real_mnist(tmp_path):
    out = tmp_path / "run"
    result = run_cli("train", "--hidden", "--train-samples", "2000", "--epochs", "3",
                     "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str(out / "model.keras"), str(out / "metrics.json")]
    assert sorted(p.name for p in out.iterdir()) == [".mlplens-manifest.json", "metrics.json",
                                                     "model.keras"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["hidden"] == [] and metrics["train_samples"] == 2000
    assert metrics["epochs"] == 3 and metrics["batch_size"] == 128
    assert metrics["optimizer"] == "rmsprop" and metrics["backend"] == "jax"
    assert len(metrics["history"]["loss"]) == 3
    # The 784-10 net on the first 2,000 images for 3 epochs measured 0.7775 here (seed 0).
    assert metrics["test_accuracy"] >= 0.75
    assert load_stack(out / "model.keras").describe() == "784-10 (softmax)"


def test_train_refuses_too_many_samples(tmp_path):
    result = run_cli("train", "--train-samples", "60001", "--out", str(tmp_path / "run"))
    assert_one_error_line(result, "--train-samples must be between 1 and 60000, got 60001")
    assert not (tmp_path / "run").exists()


def test_visualize_gradient_writes_fidelity_and_per_class(models, tmp_path):
    out = tmp_path / "gradient"
    result = run_cli("visualize", str(models["good_npz"]), "--method", "gradient", "--reference",
                     "100", "--per-class", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert [Path(line).name for line in result.stdout.splitlines()] == [
        "layer-1.png", "layer-2.png", "arrays.npz", "fidelity-2.png", "per-class.png"]
    from mlplens import load_mnist, project
    from mlplens.core.projection import Fidelity

    mnist = load_mnist()
    expected = project(load_stack(models["good"]), "gradient", reference=mnist.x_test[:100],
                       labels=mnist.y_test[:100], per_class=True)
    with np.load(out / "arrays.npz") as arrays:
        np.testing.assert_array_equal(arrays["raw_2"], expected.layers[1])
        np.testing.assert_array_equal(arrays["fidelity_2"], expected.extra(Fidelity).scores[1])
        np.testing.assert_allclose(arrays["fidelity_1"], np.ones(16), atol=1e-6)
        assert arrays["per_class"].shape == (10, 10, 784)
        # Signed by default: 0 is mid-grey, so a gradient picture's images centre on 128.
        assert arrays["image_2"].min() < 128 < arrays["image_2"].max()
    assert Image.open(out / "per-class.png").size[0] > 10 * 56


def test_visualize_examples_writes_strips_and_node_statistics(models, tmp_path):
    out = tmp_path / "examples"
    result = run_cli("visualize", str(models["good_npz"]), "--method", "examples", "--reference",
                     "300", "--top-k", "4", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert [Path(line).name for line in result.stdout.splitlines()] == [
        "layer-1.png", "layer-2.png", "arrays.npz", "examples-1.png", "examples-2.png",
        "nodes.json", "nodes.csv"]
    records = json.loads((out / "nodes.json").read_text())
    assert records["reference_size"] == 300
    assert [(r["layer"], r["node"]) for r in records["nodes"]] == \
        [(1, n) for n in range(16)] + [(2, n) for n in range(10)]
    lines = (out / "nodes.csv").read_text().splitlines()
    assert lines[0] == ("layer,node,firing_fraction,dead,preferred_class,selectivity,"
                        "mean_activation,max_activation,preferred_class_name,"
                        + ",".join(f"class_mean:{digit}" for digit in range(10)))
    assert len(lines) == 1 + 26
    first = records["nodes"][0]
    assert records["class_names"] == [str(digit) for digit in range(10)]
    assert first["preferred_class_name"] == str(first["preferred_class"])
    assert list(first["class_means"]) == records["class_names"]
    assert lines[1] == ",".join([str(first[key]) for key in first if key != "class_means"]
                                + [str(mean) for mean in first["class_means"].values()])
    with np.load(out / "arrays.npz") as arrays:
        assert arrays["examples_1"].shape == (16, 4)
        assert arrays["examples_2"].max() < 300


def test_visualize_maximize_chosen_nodes(models, tmp_path):
    out = tmp_path / "max"
    result = run_cli("visualize", str(models["good_npz"]), "--method", "maximize", "--nodes",
                     "0-2,5", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "maximize: 4/4" in result.stderr and "maximize: 10/10" in result.stderr
    with np.load(out / "arrays.npz") as arrays:
        assert arrays["nodes_1"].tolist() == [0, 1, 2, 5]
        assert arrays["nodes_2"].tolist() == list(range(10))
        assert arrays["raw_1"].shape == (4, 784)
        assert 0 <= arrays["raw_1"].min() and arrays["raw_1"].max() <= 1


@pytest.mark.parametrize("args, fragments", [
    (["--method", "maximize", "--nodes", "3-1"], ["argument --nodes: expected node numbers"]),
    (["--method", "maximize", "--nodes", "16"], ["--nodes must be within 0-15 for layer 1"]),
    (["--method", "gradient", "--reference", "10001"], ["--reference must be at most 10000"]),
])
def test_bad_method_options_give_one_line(models, tmp_path, args, fragments):
    out = tmp_path / "out"
    assert_one_error_line(run_cli("visualize", str(models["good_npz"]), *args, "--out", str(out)),
                          *fragments)
    assert not out.exists()


def test_visualize_activations_option(tmp_path):
    from safetensors.numpy import save_file

    rng = np.random.default_rng(3)
    path = tmp_path / "torch.safetensors"
    save_file({"0.weight": rng.normal(size=(5, 16)).astype(np.float32),
               "2.weight": rng.normal(size=(3, 5)).astype(np.float32)}, str(path))
    out = tmp_path / "figs"
    result = run_cli("visualize", str(path), "--activations", "tanh,softmax", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == str(out / "arrays.npz")
    wrong = run_cli("visualize", str(path), "--activations", "relu", "--out", str(tmp_path / "x"))
    assert_one_error_line(wrong, f"mlplens: error: {path}: --activations lists 1 activation(s) "
                                 "but the model has 2 Dense layer(s)")
    unknown = run_cli("visualize", str(path), "--activations", "relu,prelu",
                      "--out", str(tmp_path / "x"))
    assert_one_error_line(unknown, "mlplens: error: --activations: activation 'prelu' is not "
                                   "supported (supported: linear, relu, relu6, "
                                   "leaky_relu(<slope>), elu(<alpha>), selu, gelu, gelu_tanh, "
                                   "silu, mish, softplus, sigmoid, hard_sigmoid, hard_swish, "
                                   "tanh, softmax, log_softmax)")
    assert not (tmp_path / "x").exists()
