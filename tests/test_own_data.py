"""The user's own data through every command: scikit-learn's 8x8 digits end to end (a model
trained by scikit-learn, saved by mlplens, drawn on its own digits, not MNIST), the pixel scale
recorded, given or assumed aloud, and class names from the data or the model file."""

from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

import mlplens
from mlplens import MlplensError
from mlplens.core.forward import as_inputs, predict
from mlplens.core.pixel_scale import SCALE_HELP, PixelScale
from mlplens.datasets import load_dataset
from mlplens.formats import read_model
from mlplens.formats.model_data import open_model

from .helpers import assert_one_error_line, run_cli

HIDDEN = 24
NO_SCALE_NOTE = ("mlplens: note: {name} does not record the pixel scale it was trained on; "
                 "assuming 0-1 (the scikit-learn digits pixels as brightness); if it took other "
                 f"numbers, pass --pixel-scale: {SCALE_HELP}")


def _fit(inputs: np.ndarray, labels: np.ndarray):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPClassifier(hidden_layer_sizes=(HIDDEN,), max_iter=150,
                             random_state=0).fit(inputs, labels)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("sklearn-digits")


@pytest.fixture(scope="module")
def independent_test_part():
    """The digits' test part computed here from scikit-learn itself: the last fifth of the
    seeded permutation (seed 0) `datasets.bundled` documents, pixels 0-16 and their labels."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    order = np.random.default_rng(0).permutation(len(bunch.images))
    test = np.sort(order[len(order) - round(len(order) * 0.2):])
    return bunch.images[test], bunch.target[test]


@pytest.fixture(scope="module")
def unit_model(tmp_path_factory, digits):
    """An MLPClassifier on the digits' training part as brightness (X/16), saved by mlplens
    as .onnx with its pixel scale (0-1) and class names recorded."""
    clf = _fit(digits.x_train.reshape(len(digits.x_train), -1), digits.y_train)
    path = tmp_path_factory.mktemp("digits") / "digits.onnx"
    mlplens.save_stack(mlplens.stack_from(clf), path,
                       class_names=[f"digit {c}" for c in clf.classes_])
    return clf, path


@pytest.fixture(scope="module")
def raw_model(tmp_path_factory, independent_test_part, digits):
    """An MLPClassifier on raw 0-16 pixels, saved as a bare .npz (W1, b1, W2, b2) that records
    no pixel scale, as a user's own file would."""
    raw_train = np.rint(digits.x_train * 16).reshape(len(digits.x_train), -1)
    clf = _fit(raw_train, digits.y_train)
    path = tmp_path_factory.mktemp("raw") / "raw.npz"
    np.savez(path, W1=clf.coefs_[0], b1=clf.intercepts_[0], W2=clf.coefs_[1],
             b2=clf.intercepts_[1], activations=np.array(["relu", "softmax"]))
    return clf, path


def test_the_bundled_test_part_is_scikit_learns_digits_over_16(digits, independent_test_part):
    images, labels = independent_test_part
    assert images.shape == (359, 8, 8) and digits.x_test.shape == (359, 8, 8)
    np.testing.assert_array_equal(digits.x_test, (images / 16).astype(np.float32))
    np.testing.assert_array_equal(digits.y_test, labels)


def test_examples_on_the_digits_are_means_of_each_nodes_top_images(unit_model, tmp_path,
                                                                  independent_test_part):
    clf, path = unit_model
    out = tmp_path / "examples"
    result = run_cli("visualize", str(path), "--method", "examples", "--data", "sklearn-digits",
                     "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "note" not in result.stderr  # the scale is recorded: nothing assumed
    images, _ = independent_test_part
    flat = images.reshape(len(images), -1) / 16
    hidden = flat @ clf.coefs_[0] + clf.intercepts_[0]
    logits = np.maximum(hidden, 0) @ clf.coefs_[1] + clf.intercepts_[1]
    with np.load(out / "arrays.npz") as arrays:
        assert arrays["image_1"].shape == (HIDDEN, 8, 8)
        assert arrays["image_2"].shape == (10, 8, 8)
        compared = 0
        for layer, values in ((1, hidden), (2, logits)):
            raw, top = arrays[f"raw_{layer}"], arrays[f"examples_{layer}"]
            assert raw.shape == (values.shape[1], 64) and top.shape == (values.shape[1], 8)
            for node in range(values.shape[1]):
                ranked = np.sort(values[:, node])[::-1]
                if ranked[7] - ranked[8] < 1e-4:  # a tie at the k-th image: either is right
                    continue
                expected = np.argsort(-values[:, node], kind="stable")[:8]
                assert sorted(top[node].tolist()) == sorted(expected.tolist()), (layer, node)
                np.testing.assert_allclose(raw[node], flat[expected].mean(axis=0), rtol=0,
                                           atol=1e-6)
                compared += 1
    assert compared >= HIDDEN  # every output node and most hidden ones have a clear top 8
    nodes = json.loads((out / "nodes.json").read_text())
    assert nodes["reference_size"] == 359


def test_gradient_on_the_digits_is_the_mean_input_gradient(unit_model, tmp_path,
                                                           independent_test_part):
    clf, path = unit_model
    out = tmp_path / "gradient"
    result = run_cli("visualize", str(path), "--method", "gradient", "--data", "sklearn-digits",
                     "--reference", "300", "--out", str(out))
    assert result.returncode == 0, result.stderr
    images, _ = independent_test_part
    flat = images[:300].reshape(300, -1) / 16
    w1, w2 = clf.coefs_
    fires = (flat @ w1 + clf.intercepts_[0] > 0).astype(np.float64)  # (300, hidden)
    # d logit_j / d x = W1 diag(relu'(z1(x))) W2[:, j], averaged over the 300 digits
    expected = (w1 @ (fires.mean(axis=0)[:, None] * w2)).T
    with np.load(out / "arrays.npz") as arrays:
        np.testing.assert_allclose(arrays["raw_1"], w1.T.astype(np.float32), rtol=0, atol=1e-6)
        assert arrays["raw_2"].shape == (10, 64) and arrays["image_2"].shape == (10, 8, 8)
        np.testing.assert_allclose(arrays["raw_2"], expected, rtol=1e-5, atol=1e-5)


def test_a_model_file_records_its_scale_channels_and_class_names(tmp_path, unit_model):
    clf, _ = unit_model
    stack = mlplens.stack_from(clf).with_input(pixel_scale=PixelScale(high=16))
    names = [f"class {c}" for c in range(10)]
    for suffix in (".npz", ".safetensors", ".onnx"):
        path = mlplens.save_stack(stack, tmp_path / f"m{suffix}", class_names=names)
        found = read_model(path)
        assert found.recorded.pixel_scale == PixelScale(high=16), suffix
        assert found.recorded.channels == 1 and found.recorded.class_names == tuple(names)
        assert found.stack.pixel_scale == PixelScale(high=16)
        assert found.stack.image_shape == (8, 8) and found.stack.channels == 1
        assert mlplens.load_stack(path).pixel_scale == PixelScale(high=16)
    bare = mlplens.save_stack(stack, tmp_path / "bare.npz")
    assert read_model(bare).recorded.class_names == ()
    with pytest.raises(MlplensError, match="3 class names for a model with 10 outputs"):
        mlplens.save_stack(stack, tmp_path / "x.npz", class_names=["a", "b", "c"])


def test_malformed_metadata_is_one_line_naming_the_file(tmp_path, unit_model):
    clf, _ = unit_model
    arrays = {"W1": clf.coefs_[0], "W2": clf.coefs_[1]}
    cases = [({"pixel_scale": np.array("0-0")}, "a pixel scale 0-N needs N > 0, got 0.0"),
             ({"pixel_scale": np.array("bright")}, "unknown pixel scale 'bright'"),
             ({"channels": np.array(2)}, "metadata mlplens.channels '2' is not 1 or 3"),
             ({"class_names": np.array(["a", "b"])},
              "its metadata names 2 classes but the model has 10 outputs")]
    for extra, fragment in cases:
        path = tmp_path / "bad.npz"
        np.savez(path, **arrays, **extra)
        result = run_cli("visualize", str(path), "--out", str(tmp_path / "out"))
        line = assert_one_error_line(result, str(path), fragment)
        assert line.startswith(f"mlplens: error: {path}: "), line
    assert not (tmp_path / "out").exists()


def test_class_names_come_from_the_data_else_the_file(unit_model, digits):
    _, path = unit_model
    assert open_model(path, digits).class_names == tuple(str(c) for c in range(10))
    assert open_model(path, needs_data=False).class_names == tuple(f"digit {c}"
                                                                   for c in range(10))
    assert open_model(path, needs_data=False).data is None


def test_raw_pixels_with_pixel_scale_predict_as_scikit_learn(raw_model, independent_test_part):
    clf, path = raw_model
    images, _ = independent_test_part
    opened = open_model(path, "sklearn-digits", pixel_scale="0-16")
    assert opened.notes == () and opened.stack.pixel_scale == PixelScale(high=16)
    ours = predict(opened.stack, as_inputs(opened.stack, opened.data.x_test)).argmax(axis=1)
    theirs = clf.predict(images.reshape(len(images), -1))
    assert len(theirs) == 359
    np.testing.assert_array_equal(ours, theirs)
    assumed = open_model(path, "sklearn-digits")
    assert assumed.stack.pixel_scale == PixelScale()
    assert assumed.notes == (NO_SCALE_NOTE.format(name="raw.npz")[len("mlplens: note: "):],)


@pytest.mark.slow
def test_without_pixel_scale_the_command_says_what_it_assumed(raw_model, tmp_path):
    _, path = raw_model
    assumed = run_cli("visualize", str(path), "--method", "examples", "--data", "sklearn-digits",
                      "--out", str(tmp_path / "assumed"))
    assert assumed.returncode == 0, assumed.stderr
    notes = [line for line in assumed.stderr.splitlines() if "note:" in line]
    assert notes == [NO_SCALE_NOTE.format(name="raw.npz")]
    given = run_cli("visualize", str(path), "--method", "examples", "--data", "sklearn-digits",
                    "--pixel-scale", "0-16", "--out", str(tmp_path / "given"))
    assert given.returncode == 0, given.stderr
    assert "note:" not in given.stderr
    # A first-layer node ranks images by x·w + b whatever the scale of x; the output nodes,
    # past a ReLU that cuts at another point, rank them differently.
    with np.load(tmp_path / "assumed" / "arrays.npz") as a, \
            np.load(tmp_path / "given" / "arrays.npz") as b:
        np.testing.assert_array_equal(a["examples_1"][:, 0], b["examples_1"][:, 0])
        assert not np.array_equal(a["examples_2"], b["examples_2"])


def test_a_model_that_is_not_28x28_needs_data(unit_model, tmp_path):
    _, path = unit_model
    for command in (["visualize", "--method", "gradient", "--out", str(tmp_path / "v")],
                    ["prune", "--out", str(tmp_path / "p")],
                    ["explore", "-o", str(tmp_path / "e.html")]):
        result = run_cli(command[0], str(path), *command[1:])
        assert_one_error_line(result, "mlplens: error: digits.onnx takes 8x8 grey images, not "
                                      "MNIST's 28x28 digits: pass --data with images it takes")
    linear = run_cli("visualize", str(path), "--out", str(tmp_path / "linear"))
    assert linear.returncode == 0, linear.stderr  # the weights alone need no data


def test_data_of_another_shape_is_refused_naming_both(unit_model, tmp_path):
    _, path = unit_model
    result = run_cli("visualize", str(path), "--method", "examples", "--data", "mnist",
                     "--out", str(tmp_path / "out"))
    assert_one_error_line(result, "the data has 28x28 inputs but digits.onnx takes 8x8")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_prune_and_diagram_run_on_the_digits(unit_model, tmp_path, independent_test_part):
    clf, path = unit_model
    images, labels = independent_test_part
    pruned = run_cli("prune", str(path), "--data", "sklearn-digits", "--steps", "2",
                     "--out", str(tmp_path / "prune"))
    assert pruned.returncode == 0, pruned.stderr
    found = json.loads((tmp_path / "prune" / "pruning.json").read_text())
    # By default half the 359 test digits score the nodes; accuracy is on the other 180.
    assert found["score_images"] == 179 and found["test_images"] == 180
    right = int((clf.predict(images[179:].reshape(-1, 64) / 16) == labels[179:]).sum())
    for score in ("contribution", "weight", "random"):
        accuracy = found["layers"][0]["accuracy"][score]
        assert round(accuracy[0] * 180) == right and accuracy[-1] < accuracy[0]
    circuit = run_cli("diagram", str(path), "--data", "sklearn-digits", "--test-index", "3",
                      "--out", str(tmp_path / "circuit"))
    assert circuit.returncode == 0, circuit.stderr
    record = json.loads((tmp_path / "circuit" / "circuit.json").read_text())
    assert record["source"] == "scikit-learn digits test image 3"
    assert record["label"] == labels[3]
    assert record["predicted"] == clf.predict(images[3].reshape(1, 64) / 16)[0]
    assert record["decomposition"]["relative_error"] < 1e-12


def test_snapshots_keep_channels_and_scale(tmp_path):
    from mlplens.snapshots import Snapshots, load_snapshots, save_snapshots

    rng = np.random.default_rng(0)
    stack = mlplens.DenseStack.from_arrays([rng.normal(size=(48, 4)), rng.normal(size=(4, 2))],
                                           image_shape=(4, 4), channels=3,
                                           pixel_scale=PixelScale(high=255))
    path = save_snapshots(Snapshots.from_stacks([0], [0.5], [stack]), tmp_path / "s.npz")
    again = load_snapshots(path).stack(0)
    assert again.channels == 3 and again.pixel_scale == PixelScale(high=255)
    assert again.picture_shape == (4, 4, 3)


@pytest.mark.slow
def test_train_on_the_digits_records_what_the_model_takes(tmp_path, digits):
    """`mlplens train --data` on raw 0-16 pixels: the .keras it writes says so, and every
    command reads it back as trained (the accuracy mlplens measures is Keras')."""
    run = tmp_path / "run"
    trained = run_cli("train", "--data", "sklearn-digits", "--pixel-scale", "0-16", "--hidden",
                      "16", "--epochs", "3", "--out", str(run))
    assert trained.returncode == 0, trained.stderr
    assert trained.stdout.splitlines() == [str(run / "model.keras"), str(run / "metrics.json")]
    with zipfile.ZipFile(run / "model.keras") as archive:
        recorded = json.loads(archive.read("mlplens.json"))
    assert recorded == {"mlplens.activations": "relu,softmax", "mlplens.image_shape": "8,8",
                        "mlplens.channels": "1", "mlplens.pixel_scale": "0-16",
                        "mlplens.class_names": json.dumps([str(c) for c in range(10)])}
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["train_samples"] == 1438 and metrics["input"]["pixel_scale"] == "0-16"
    found = read_model(run / "model.keras")
    assert found.stack.pixel_scale == PixelScale(high=16) and found.stack.image_shape == (8, 8)
    assert found.recorded.class_names == tuple(str(c) for c in range(10))
    right = predict(found.stack, as_inputs(found.stack, digits.x_test)).argmax(axis=1) \
        == digits.y_test
    assert int(right.sum()) == round(metrics["test_accuracy"] * 359)
    # What every command decides from it: its recorded scale, so nothing to note.
    opened = open_model(run / "model.keras", "sklearn-digits")
    assert opened.stack.pixel_scale == PixelScale(high=16) and opened.notes == ()


def test_a_table_makes_the_model_tabular(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "table.npz"
    np.savez(path, W1=rng.normal(size=(30, 8)), W2=rng.normal(size=(8, 2)))
    opened = open_model(path, "breast-cancer", image_shape=(5, 6))
    assert opened.stack.is_tabular and opened.stack.image_shape == (1, 30)
    assert opened.stack.input_names == load_dataset("breast-cancer").feature_names
    assert opened.class_names == ("malignant", "benign") and opened.notes == ()


def test_a_bad_pixel_scale_is_one_line_before_any_work(unit_model, tmp_path):
    _, path = unit_model
    result = run_cli("visualize", str(path), "--method", "examples", "--data", "sklearn-digits",
                     "--pixel-scale", "0-sixteen", "--out", str(tmp_path / "out"))
    assert_one_error_line(result, "mlplens: error: unknown pixel scale '0-sixteen'; expected "
                                  f"{SCALE_HELP}")
    assert not (tmp_path / "out").exists()
