"""Heads: what a net's output means (classes, binary, multilabel, regression), decided once in
`open_model` and honoured by the data checks, the scores and the command line."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from mlplens import DenseStack, open_model, stack_from
from mlplens.cli import build_parser
from mlplens.core import heads
from mlplens.core.checks.measures import deletion_check, deletion_set
from mlplens.core.circuits.intervene import pruning_curve
from mlplens.core.forward import accuracy, as_inputs, pre_activations, predict
from mlplens.core.heads import output_of_labels
from mlplens.datasets import Dataset, check_matches, load_dataset
from mlplens.errors import MlplensError
from mlplens.figures.checks import QUICK_SETTINGS, check_net
from mlplens.figures.diagram import write_circuit
from mlplens.figures.layers import visualize_stack

from .helpers import assert_one_error_line, run_cli


@pytest.fixture(scope="module")
def cancer():
    return load_dataset("breast-cancer")


@pytest.fixture(scope="module")
def classifier(cancer):
    """scikit-learn's binary MLPClassifier (one logistic output) on its breast-cancer table."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=200, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(cancer.x_train / 1000, cancer.y_train)
    return model


def _logit_net(cancer, seed: int = 0) -> DenseStack:
    """30 features -> 6 relu -> 1 linear output, seeded weights."""
    rng = np.random.default_rng(seed)
    return DenseStack.from_arrays([rng.normal(size=(30, 6)) / 100, rng.normal(size=(6, 1))],
                                  [np.zeros(6), np.array([0.5])], ["relu", "linear"],
                                  input_names=cancer.feature_names)


def test_binary_classifier_scores_as_scikit_learn_does(classifier, cancer):
    stack = stack_from(classifier, input_names=cancer.feature_names)
    assert stack.head == "binary" and stack.n_classes == 2
    x_test = (cancer.x_test / 1000).astype(np.float32)
    # the tabular rows are given as the model takes them
    score = accuracy(stack, x_test, cancer.y_test)
    assert score == classifier.score(x_test, cancer.y_test)
    logits = pre_activations(stack, x_test)[-1]
    assert (heads.predicted_classes(stack, logits) == classifier.predict(x_test)).all()
    opened = open_model(stack, cancer)
    assert opened.class_names == ("malignant", "benign") and opened.notes == ()
    # pruning nothing keeps the accuracy: the curves score a binary head as accuracy does
    assert pruning_curve(stack, x_test, cancer.y_test, 1, np.arange(8), [0])[0] == score


def test_one_linear_output_on_two_classes_is_a_binary_logit_said_in_a_note(cancer):
    opened = open_model(_logit_net(cancer), cancer)
    assert opened.stack.head == "binary"
    assert opened.notes == (
        "the model has one linear output and scikit-learn breast cancer two classes: reading it "
        "as a binary classifier's logit (benign when above 0); pass --head regression if it "
        "predicts a number",)
    logits = pre_activations(opened.stack, cancer.x_test)[-1][:, 0]
    assert accuracy(opened.stack, cancer.x_test, cancer.y_test) == \
        ((logits > 0) == cancer.y_test).mean()
    told = open_model(_logit_net(cancer), cancer, head="regression")
    assert told.stack.head == "regression" and told.notes == ()
    assert told.class_names == ("malignant", "benign")  # the labels, read as numbers
    assert heads.output_names(told.stack, told.class_names) == ("value",)
    assert heads.score_name(told.stack) == "mean absolute error"
    np.testing.assert_allclose(accuracy(told.stack, cancer.x_test, cancer.y_test),
                               np.abs(logits - cancer.y_test).mean(), rtol=1e-6)


def test_data_is_checked_against_the_head(cancer):
    wine = load_dataset("wine")
    binary = DenseStack.from_arrays([np.ones((13, 1))], activations=["sigmoid"],
                                    input_names=wine.feature_names)
    with pytest.raises(MlplensError) as caught:
        check_matches(binary, wine, "net.npz")
    assert str(caught.value) == (
        "scikit-learn wine: the data has 3 classes but net.npz is a binary classifier (one "
        "output: class 1 against class 0); give it data with two classes")
    regression = DenseStack.from_arrays([np.ones((13, 1))], activations=["linear"],
                                        input_names=wine.feature_names)
    check_matches(regression, wine, "net.npz")  # any labels, read as numbers
    classes = DenseStack.from_arrays([np.ones((13, 2))], activations=["softmax"],
                                     input_names=wine.feature_names)
    with pytest.raises(MlplensError, match=r"^scikit-learn wine: the data has 3 classes but "
                                           r"net.npz has 2 outputs$"):
        check_matches(classes, wine, "net.npz")
    with pytest.raises(MlplensError, match=r"^a binary head does not fit an output layer of 2 "
                                           r"softmax unit\(s\)$"):
        open_model(classes, wine, head="binary")


def test_multilabel_reads_each_label_as_its_one_positive_label(cancer):
    rng = np.random.default_rng(1)
    stack = DenseStack.from_arrays([rng.normal(size=(30, 2)) / 100], activations=["sigmoid"],
                                   input_names=cancer.feature_names)
    opened = open_model(stack, cancer)
    assert opened.stack.head == "multilabel"
    assert opened.notes == ("the model has 2 independent outputs (multi-label) and scikit-learn "
                            "breast cancer one label per image: each image's label is read as "
                            "its one positive label",)
    logits = pre_activations(stack, cancer.x_test)[-1]
    wanted = np.stack([cancer.y_test == 0, cancer.y_test == 1], axis=1)
    assert heads.score_name(stack) == "label accuracy"
    assert accuracy(stack, cancer.x_test, cancer.y_test) == ((logits > 0) == wanted).mean()


def test_every_command_that_takes_a_model_takes_head():
    parser = build_parser()
    for name in ("check", "diagram", "explore", "features", "prune", "visualize"):
        output = {"explore": ["-o", "page.html"], "features": ["--out", "out", "--layer", "1"]
                  }.get(name, ["--out", "out"])
        args = parser.parse_args([name, "model.keras", "--head", "binary", *output])
        assert (args.model, args.head) == ("model.keras", "binary")


@pytest.mark.slow
def test_head_on_the_command_line(tmp_path, cancer):
    from mlplens import save_stack

    save_stack(_logit_net(cancer), tmp_path / "logit.npz")
    bad = run_cli("prune", str(tmp_path / "logit.npz"), "--data", "breast-cancer", "--head",
                  "labels", "--out", str(tmp_path / "out"))
    assert bad.returncode == 2
    assert "argument --head: invalid choice: 'labels'" in bad.stderr
    result = run_cli("prune", str(tmp_path / "logit.npz"), "--data", "breast-cancer",
                     "--head", "regression", "--layers", "1", "--steps", "2",
                     "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "out" / "pruning.json").read_text())
    assert record["measure"] == "mean absolute error"
    assert record["class_names"] == ["malignant", "benign"]
    refused = run_cli("prune", str(tmp_path / "logit.npz"), "--data", "breast-cancer",
                      "--head", "multilabel", "--out", str(tmp_path / "multi"))
    assert_one_error_line(refused, "a multilabel head does not fit an output layer of 1 "
                                   "linear unit(s)")
    assert not (tmp_path / "multi").exists()


def _zeros_and_ones() -> Dataset:
    """scikit-learn's 8x8 digits 0 and 1: a two-class image set."""
    digits = load_dataset("sklearn-digits")
    keep = lambda x, y: (x[(y == 0) | (y == 1)], y[(y == 0) | (y == 1)])  # noqa: E731
    return Dataset("digits 0 and 1", *keep(digits.x_train, digits.y_train),
                   *keep(digits.x_test, digits.y_test), ("zero", "one"))


def test_check_reads_a_binary_heads_probability_on_class_1_images(tmp_path):
    data = _zeros_and_ones()
    rng = np.random.default_rng(0)
    stack = DenseStack.from_arrays([rng.normal(size=(64, 8)), rng.normal(size=(8, 1))],
                                   activations=["relu", "sigmoid"])
    found = deletion_set(stack, data.x_test, output_of_labels(stack, data.y_test), 3, 1)
    ones = np.flatnonzero(data.y_test == 1)[:3]
    np.testing.assert_array_equal(found.inputs, as_inputs(stack, data.x_test[ones]))
    assert found.classes.tolist() == [0, 0, 0]  # the one output node
    written = check_net("binary", stack, data, tmp_path, QUICK_SETTINGS, log=lambda _: None)
    record = json.loads((tmp_path / "checks.json").read_text())
    assert record["architecture"] == "64-8-1 (relu, sigmoid)"
    assert record["notes"] == ["Data randomisation skipped: the net has 1 outputs but "
                               "digits 0 and 1 has 2 classes."]
    curves = deletion_check(stack, np.ones((1, 64)), found, steps=4)["random"]
    p_one = predict(stack, as_inputs(stack, data.x_test[ones]))[:, 0]
    np.testing.assert_allclose(curves.deletion[:, 0], p_one, rtol=1e-6)  # class 1's probability
    assert tmp_path / "deletion-insertion.png" in written.paths


def test_circuit_diagram_of_a_binary_head_explains_its_one_logit(tmp_path):
    data = _zeros_and_ones()
    rng = np.random.default_rng(3)
    stack = DenseStack.from_arrays([rng.normal(size=(64, 8)) / 4, rng.normal(size=(8, 1))],
                                   activations=["relu", "linear"], head="binary")
    image = data.x_test[0]
    logit = float(pre_activations(stack, as_inputs(stack, image[None]))[-1][0, 0])
    said = "one" if logit > 0 else "zero"
    paths, circuit = write_circuit(stack, image, tmp_path, label=1,
                                   class_names=data.class_names)
    record = json.loads((tmp_path / "circuit.json").read_text())
    assert (record["class_names"], record["label_name"]) == (["one"], "one")
    assert (record["predicted"], record["predicted_name"]) == (int(logit > 0), said)
    assert circuit.attribution.target == 0
    assert abs(record["logit"] - logit) < 1e-5
    regression = DenseStack.from_arrays([rng.normal(size=(64, 8)), rng.normal(size=(8, 1))],
                                        activations=["relu", "linear"])
    write_circuit(regression, image, tmp_path / "r", label=7,
                  class_names=None)
    record = json.loads((tmp_path / "r" / "circuit.json").read_text())
    assert record["class_names"] == ["value"] and record["label_name"] == "7"
    assert record["predicted_name"] == f"{record['logit']:.2f}"


def test_a_binary_heads_output_is_drawn_as_its_positive_class(tmp_path, cancer):
    opened = open_model(_logit_net(cancer), cancer)
    visualize_stack(opened.stack, tmp_path, "linear", class_names=opened.class_names)
    rows = (tmp_path / "layer-2.csv").read_text().splitlines()
    assert rows[0] == "layer,node,label,rank,feature,value"
    assert {row.split(",")[2] for row in rows[1:]} == {"0: benign"}
