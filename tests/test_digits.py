"""A second real dataset end to end: scikit-learn's bundled 8x8 digits (offline, in the wheel).

Train an MLPClassifier, write it to ONNX and safetensors with mlplens' own writers, and draw it
with `mlplens visualize`, as the README's "bring your own model" example does.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image

import mlplens
from mlplens import layer_views
from mlplens.render.mosaic import _font

from .helpers import run_cli

# Trains real networks or runs the command line in new interpreters: `make test`, not
# `make check`.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def digits_model():
    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier

    digits = load_digits()
    assert digits.data.shape == (1797, 64)
    assert digits.data.max() == 16.0
    x, y = digits.data / 16.0, digits.target
    model = MLPClassifier(hidden_layer_sizes=(32,), max_iter=1000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # it must converge, not stop at max_iter
        model.fit(x[:1200], y[:1200])
    return model, x[1200:], y[1200:]


def test_digits_classifier_is_real(digits_model):
    model, x_test, y_test = digits_model
    accuracy = model.score(x_test, y_test)
    print(f"measured digits test accuracy={accuracy:.4f} on {len(y_test)} images")
    assert len(y_test) == 597
    # Measured 0.9263 after 398 iterations (scikit-learn 1.9.1, seed 0); the last 597 digits
    # come from writers the first 1,200 never saw.
    assert 0.90 <= accuracy <= 1.0


@pytest.mark.parametrize("suffix", [".onnx", ".safetensors"])
def test_digits_model_saved_and_visualized(digits_model, tmp_path, suffix):
    model, x_test, _ = digits_model
    stack = mlplens.stack_from(model)
    assert stack.describe() == "64-32-10 (relu, softmax)"
    path = mlplens.save_stack(stack, tmp_path / f"digits{suffix}")

    # The file means what the classifier means.
    if suffix == ".onnx":
        from onnx.reference import ReferenceEvaluator

        probabilities = ReferenceEvaluator(str(path)).run(
            None, {"pixels": x_test.astype(np.float32)})[0]
        np.testing.assert_allclose(probabilities, model.predict_proba(x_test), atol=2e-5)
        assert (probabilities.argmax(1) == model.predict(x_test)).all()
    else:
        from safetensors.numpy import load_file

        tensors = load_file(str(path))
        assert sorted(tensors) == ["0.bias", "0.weight", "2.bias", "2.weight"]
        assert np.array_equal(tensors["0.weight"], model.coefs_[0].T.astype(np.float32))
        assert np.array_equal(tensors["2.bias"], model.intercepts_[1].astype(np.float32))

    out = tmp_path / "figs"
    result = run_cli("visualize", str(path), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str(out / "layer-1.png"), str(out / "layer-2.png"),
                                          str(out / "arrays.npz")]
    views = layer_views(stack, "linear", "minmax")
    with np.load(out / "arrays.npz") as arrays:
        assert arrays["raw_1"].shape == (32, 64) and arrays["image_2"].shape == (10, 8, 8)
        for view in views:
            np.testing.assert_array_equal(arrays[f"raw_{view.index}"], view.raw)
            np.testing.assert_array_equal(arrays[f"image_{view.index}"], view.images)
    # The first layer's pictures are its incoming weights, pixel for pixel.
    np.testing.assert_array_equal(views[0].raw, model.coefs_[0].T.astype(np.float32))
    # 10 output nodes of 8x8 pictures, enlarged to about MNIST's size: scale 12 (96 px tiles,
    # gaps of 2 * 12 px, 16 px labels in 19 px), 5 per row: 2 rows, 5 * (96 + 24) + 24 = 624 px
    # wide, wider than the title; 30 px of title, 2 rows of 19 + 96 + 24, a gap and the legend.
    title_width = int(_font(18).getlength(views[-1].title)) + 2 * 24
    assert title_width < 624
    assert Image.open(out / "layer-2.png").size == (624, 30 + 2 * (19 + 96 + 24) + 24 + 44)
