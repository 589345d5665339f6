"""The explorer in a real browser on nets that are not the article's: a GELU + LayerNorm net
whose page computes NumPy's probabilities, a binary classifier shown as a pair of probability
bars, and a regression shown as its number. Each net is trained briefly with Keras on real
MNIST; one browser for the module."""

from __future__ import annotations

import re

import numpy as np
import pytest

from mlplens import DenseStack, load_stack, open_model
from mlplens.core.circuits.contributions import contributions
from mlplens.core.forward import brightness, pre_activations, predict
from mlplens.core.stack import LayerNorm
from mlplens.keras_backend import import_keras
from mlplens.report import write_explorer

from .helpers import run_cli
from .test_explorer_browser import PROBABILITY_TOLERANCE, Page

pytestmark = pytest.mark.slow

TRAIN = 3000
SHOWN = 40  # test digits each page is checked on


def _fit(model, x, y, loss) -> None:
    keras = import_keras()

    keras.utils.set_random_seed(0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=loss)
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)


def _flat(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1).astype(np.float32) / 255


@pytest.fixture(scope="module")
def gelu_norm(mnist, tmp_path_factory):
    """784-32-10: Dense -> LayerNorm -> GELU (exact erf), then softmax; its page."""
    keras = import_keras()

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(32),
                              keras.layers.LayerNormalization(epsilon=1e-3),
                              keras.layers.Activation("gelu"),
                              keras.layers.Dense(10, activation="softmax")])
    _fit(model, _flat(mnist.x_train[:TRAIN]), mnist.y_train[:TRAIN],
         "sparse_categorical_crossentropy")
    dense, norm, _, out = (layer for layer in model.layers)
    gamma, beta = (np.asarray(w) for w in norm.get_weights())
    stack = DenseStack.from_arrays([dense.get_weights()[0], out.get_weights()[0]],
                                   [dense.get_weights()[1], out.get_weights()[1]],
                                   ["gelu", "softmax"],
                                   norms=[LayerNorm(gamma, beta, 1e-3), None])
    expected = np.asarray(model.predict(_flat(mnist.x_test[:500]), verbose=0))
    page = tmp_path_factory.mktemp("gelu") / "explorer.html"
    write_explorer(page, stack, mnist, model_name="gelu-norm")
    return {"stack": stack, "page": page, "keras": expected}


def test_gelu_layernorm_page_computes_numpys_probabilities(browser, gelu_norm, mnist):
    stack = gelu_norm["stack"]
    assert stack.describe() == "784-32-10 (layernorm+gelu, softmax)"
    numpy = predict(stack, brightness(mnist.x_test[:500]))
    assert np.abs(numpy - gelu_norm["keras"]).max() < 1e-4  # the stack is Keras' net
    assert (numpy.argmax(1) == mnist.y_test[:500]).mean() > 0.8  # trained, not random
    page = Page(browser, gelu_norm["page"])
    results = page.js(f"""() => {{
        const out = [];
        for (let i = 0; i < {SHOWN}; i++) {{
            window.mlplens.loadTestDigit(i);
            out.push({{p: window.mlplens.probabilities(), c: window.mlplens.contributions()}});
        }}
        return out;
    }}""")
    got = np.array([r["p"] for r in results])
    difference = float(np.abs(got - numpy[:SHOWN]).max())
    print(f"\nGELU + LayerNorm: largest probability difference JS vs NumPy {difference:.3g}")
    assert difference < PROBABILITY_TOLERANCE
    assert (got.argmax(1) == numpy[:SHOWN].argmax(1)).all()
    # contributions on the linearised net: a * dz_c/da with LayerNorm's scale frozen and GELU's
    # gate; the last hidden layer's is exactly a * W[:, c], whatever the linearisation
    hidden = predict(DenseStack(stack.layers[:1], stack.image_shape), brightness(
        mnist.x_test[:SHOWN]))
    wanted = hidden * stack.layers[1].kernel[:, numpy[:SHOWN].argmax(1)].T
    shown = np.array([r["c"][0] for r in results])
    np.testing.assert_allclose(shown, wanted, rtol=1e-4, atol=1e-5 * np.abs(wanted).max())
    page.close()


@pytest.fixture(scope="module")
def binary(mnist, tmp_path_factory):
    """784-16-1 with one linear output (a logit), trained on MNIST's threes against eights, and
    an .npz of those two classes; explored by the command line, which reads the one output as
    a binary logit because the data has two classes."""
    keras = import_keras()

    folder = tmp_path_factory.mktemp("binary")
    pick = lambda labels: np.flatnonzero((labels == 3) | (labels == 8))  # noqa: E731
    train, test = pick(mnist.y_train)[:TRAIN], pick(mnist.y_test)[:200]
    y_train, y_test = (mnist.y_train[train] == 8), (mnist.y_test[test] == 8)
    np.savez(folder / "three-eight.npz", x_train=mnist.x_train[train],
             y_train=y_train.astype(np.int64), x_test=mnist.x_test[test],
             y_test=y_test.astype(np.int64), class_names=np.array(["three", "eight"]))
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(1)])
    _fit(model, _flat(mnist.x_train[train]), y_train.astype(np.float32),
         keras.losses.BinaryCrossentropy(from_logits=True))
    model.save(folder / "model.keras")
    result = run_cli("explore", str(folder / "model.keras"), "--data",
                     str(folder / "three-eight.npz"), "-o", str(folder / "explorer.html"))
    assert result.returncode == 0, result.stderr
    return {"folder": folder, "stderr": result.stderr, "test": test,
            "stack": load_stack(folder / "model.keras")}


def test_binary_model_shows_a_probability_bar_pair(browser, binary, mnist):
    assert ("mlplens: note: model.keras has one linear output and three-eight two classes: "
            "reading it as a binary classifier's logit (eight when above 0); pass --head "
            "regression if it predicts a number") in binary["stderr"].splitlines()
    images = mnist.x_test[binary["test"][:SHOWN]]
    logits = pre_activations(binary["stack"], brightness(images))[-1][:, 0].astype(np.float64)
    p_eight = 1 / (1 + np.exp(-logits))
    labels = (mnist.y_test[binary["test"][:SHOWN]] == 8)
    assert ((logits > 0) == labels).mean() > 0.85  # trained: it tells threes from eights
    page = Page(browser, binary["folder"] / "explorer.html")
    assert page.js("() => Array.from(document.querySelectorAll('#bars .digit'), "
                   "(d) => d.textContent)") == ["three", "eight"]
    for i in (0, 1, 2, 3):
        page.js(f"() => window.mlplens.loadTestDigit({i})")
        shown = page.js("() => window.mlplens.bars()")
        np.testing.assert_allclose(shown, [1 - p_eight[i], p_eight[i]], rtol=0, atol=1e-6)
        texts = page.js("() => Array.from(document.querySelectorAll('#bars .value'), "
                        "(v) => v.textContent)")
        assert texts == [f"{100 * (1 - p_eight[i]):.1f}%", f"{100 * p_eight[i]:.1f}%"]
        winner = "eight" if logits[i] > 0 else "three"
        assert page.page.locator(".bar.top .digit").all_text_contents() == [winner]
        chance = p_eight[i] if logits[i] > 0 else 1 - p_eight[i]
        assert page.page.locator("#verdict").text_content() == \
            f"It reads {winner} ({100 * chance:.1f}%)."
        # the circuit and the output node are the one logit's
        assert page.js("() => window.mlplens.circuit().target") == 0
        assert page.page.locator("#node-title").text_content() == \
            "Output node 0 (logit of class eight)"
    page.close()


@pytest.fixture(scope="module")
def regression(mnist, tmp_path_factory):
    """784-16-1 linear, trained to say a digit's value as a number (MNIST's labels read as
    numbers); explored on MNIST through the Python API."""
    keras = import_keras()

    folder = tmp_path_factory.mktemp("regression")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(1)])
    _fit(model, _flat(mnist.x_train[:TRAIN]), mnist.y_train[:TRAIN].astype(np.float32), "mse")
    model.save(folder / "model.keras")
    opened = open_model(folder / "model.keras", mnist)
    assert opened.notes == () and opened.class_names == tuple("0123456789")
    write_explorer(folder / "explorer.html", opened.stack, opened.data, model_name=opened.name)
    return {"folder": folder, "stack": opened.stack}


def test_regression_model_shows_its_number(browser, regression, mnist):
    stack = regression["stack"]
    assert stack.head == "regression"
    values = predict(stack, brightness(mnist.x_test[:SHOWN]))[:, 0]
    assert np.abs(values - mnist.y_test[:SHOWN]).mean() < 2.0  # trained: near the digit
    page = Page(browser, regression["folder"] / "explorer.html")
    assert page.js("() => Array.from(document.querySelectorAll('#bars .digit'), "
                   "(d) => d.textContent)") == ["value"]
    assert re.fullmatch(r"model\.keras · 784-16-1 \(relu, linear\) · test mean absolute error "
                        r"\d\.\d{4}", page.page.locator("#model-line").text_content())
    for i in (0, 1, 2):
        page.js(f"() => window.mlplens.loadTestDigit({i})")
        assert abs(page.js("() => window.mlplens.bars()[0]") - values[i]) < 1e-5
        assert page.page.locator("#bars .value").text_content() == f"{values[i]:.4f}"
        assert page.page.locator("#verdict").text_content() == f"It reads {values[i]:.4f}."
        assert page.page.locator(".bar.top").count() == 0
        contributed = np.array(page.js("() => window.mlplens.contributions()[0]"))
        wanted = contributions(stack, brightness(mnist.x_test[i:i + 1]))[0][0]
        np.testing.assert_allclose(contributed, wanted, rtol=1e-4, atol=1e-6)
    assert page.page.locator("#node-title").text_content() == "Output node 0 (the value)"
    page.close()


def test_multilabel_model_shows_independent_probabilities(browser, gelu_norm, mnist, tmp_path):
    """The GELU + LayerNorm net with ten independent sigmoids for its output: one per label."""
    trained = gelu_norm["stack"]
    stack = DenseStack.from_arrays(trained.kernels, trained.biases, ["gelu", "sigmoid"],
                                   norms=[trained.layers[0].norm, None])
    assert stack.head == "multilabel"
    opened = open_model(stack, mnist)
    write_explorer(tmp_path / "explorer.html", opened.stack, opened.data, model_name="labels")
    probabilities = predict(stack, brightness(mnist.x_test[:3]))
    page = Page(browser, tmp_path / "explorer.html")
    for i in range(3):
        page.js(f"() => window.mlplens.loadTestDigit({i})")
        shown = np.array(page.js("() => window.mlplens.bars()"))
        assert np.abs(shown - probabilities[i]).max() < PROBABILITY_TOLERANCE
        on = [str(label) for label in np.flatnonzero(probabilities[i] > 0.5)]
        assert page.page.locator(".bar.top .digit").all_text_contents() == on
        said = ", ".join(f"{label} ({100 * probabilities[i][int(label)]:.1f}%)" for label in on)
        assert page.page.locator("#verdict").text_content() == \
            f"It reads {said or 'no label above 50%'}."
    assert abs(probabilities.sum(axis=1) - 1).max() > 0.05  # they need not sum to 1
    page.close()
