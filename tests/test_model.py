"""mlplens.training, mlplens.formats.keras_model and mlplens.stack: Keras models in and out, real
training on real MNIST.

Every Keras model here is built with keras itself (imported through `import_keras()` so the JAX
default applies), given seeded random weights, and compared exactly with what mlplens reads.
The training tests run the real `train()` on the real MNIST once per module and share it.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import mlplens
from mlplens import DenseStack, load_stack
from mlplens.formats.keras_model import stack_from_keras
from mlplens.training import TrainedModel, build, fast_fit, run, train
from mlplens.training.inputs import as_inputs

from .helpers import (
    LazyKeras,
    assert_message,
    assert_same_stack,
    error_of,
    numpy_forward,
)

# Trains real networks or runs the command line in new interpreters: `make test`, not
# `make check`.
pytestmark = pytest.mark.slow

keras = LazyKeras()
L = LazyKeras("layers")


# ---- helpers ---------------------------------------------------------------------------------

def random_weights(model, seed: int) -> list[np.ndarray]:
    """Seeded non-zero float32 weights shaped like the model's, set into the model."""
    rng = np.random.default_rng(seed)
    weights = [rng.uniform(0.05, 1.0, size=w.shape).astype(np.float32)
               * rng.choice(np.array([-1, 1], np.float32), size=w.shape)
               for w in model.get_weights()]
    for w in weights:
        assert np.all(w != 0)
    model.set_weights(weights)
    return weights


# ---- 1. Keras round trip -----------------------------------------------------------------------

def sequential_784() -> object:
    return keras.Sequential([keras.Input((784,)),
                             L.Dense(16, activation="relu", name="first"),
                             L.Dense(8, activation="tanh", name="second"),
                             L.Dense(10, activation="softmax", name="last")], name="seq784")


def functional_6x8() -> object:
    inputs = keras.Input((6, 8), name="img")
    x = L.Flatten(name="flat")(inputs)
    x = L.Dense(5, activation="sigmoid", name="h")(x)
    x = L.Dropout(0.3, name="drop")(x)
    x = L.Dense(3, use_bias=False, name="logits")(x)
    outputs = L.Activation("softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="func6x8")


ROUND_TRIP_CASES = {
    # builder, expected widths, activations, names, image_shape, n weight arrays per Dense
    "sequential_784": (sequential_784, (16, 8, 10), ("relu", "tanh", "softmax"),
                       ("first", "second", "last"), (28, 28)),
    "functional_6x8": (functional_6x8, (5, 3), ("sigmoid", "softmax"), ("h", "logits"), (6, 8)),
}


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("case", sorted(ROUND_TRIP_CASES))
def test_keras_round_trip_is_exact(case, suffix, tmp_path):
    builder, widths, activations, names, image_shape = ROUND_TRIP_CASES[case]
    model = builder()
    weights = random_weights(model, seed=1234)
    live = stack_from_keras(model)

    path = tmp_path / f"model{suffix}"
    model.save(path)
    assert path.is_file() and path.stat().st_size > 0
    loaded = load_stack(path)
    via_package = mlplens.load_stack(str(path))

    assert_same_stack(loaded, live)
    assert_same_stack(via_package, live)
    assert loaded.widths == widths
    assert tuple(layer.activation for layer in loaded.layers) == activations
    assert tuple(layer.name for layer in loaded.layers) == names
    assert loaded.image_shape == image_shape

    # Against the weights we set: kernels in order; biases where the Dense has one, else zero.
    if case == "sequential_784":
        expected_kernels = weights[0::2]
        expected_biases = weights[1::2]
    else:
        expected_kernels = [weights[0], weights[2]]
        expected_biases = [weights[1], np.zeros(3, np.float32)]
    assert len(loaded.kernels) == len(expected_kernels)
    for got, want in zip(loaded.kernels, expected_kernels):
        assert np.array_equal(got, want)
    for got, want in zip(loaded.biases, expected_biases):
        assert got.shape == want.shape
        assert np.array_equal(got, want)

    # The stack means what the model means (Dropout is inactive at inference).
    x = np.random.default_rng(5).uniform(0, 1, size=(7, *image_shape)).astype(np.float32)
    x_model = x.reshape(7, *model.input_shape[1:])
    np.testing.assert_allclose(numpy_forward(loaded, x), np.asarray(model(x_model)),
                               rtol=1e-4, atol=1e-6)


def test_load_stack_image_shape_override(tmp_path):
    model = sequential_784()
    random_weights(model, seed=3)
    path = tmp_path / "m.keras"
    model.save(path)
    stack = load_stack(path, image_shape=(16, 49))
    assert stack.image_shape == (16, 49)
    assert_same_stack(stack, stack_from_keras(model, image_shape=(16, 49)))


def test_uppercase_suffix_that_load_stack_accepts_is_readable(tmp_path):
    # load_stack compares the suffix case-insensitively, so "MODEL.KERAS" passes its format
    # check; it must then actually load (not fail inside Keras with "File format not supported").
    model = sequential_784()
    random_weights(model, seed=4)
    model.save(tmp_path / "lower.keras")
    upper = tmp_path / "MODEL.KERAS"
    upper.write_bytes((tmp_path / "lower.keras").read_bytes())
    assert_same_stack(load_stack(upper), stack_from_keras(model))


# ---- 2. models as people write them ------------------------------------------------------------

def test_article_style_sequential_with_separate_activation_and_dropout():
    model = keras.Sequential([keras.Input((28, 28)), L.Flatten(), L.Dense(32),
                              L.Activation("relu"), L.Dropout(0.2),
                              L.Dense(10, activation="softmax")])
    weights = random_weights(model, seed=7)
    stack = stack_from_keras(model)
    assert len(stack.layers) == 2
    assert tuple(layer.activation for layer in stack.layers) == ("relu", "softmax")
    assert stack.image_shape == (28, 28)
    assert stack.widths == (32, 10)
    assert stack.describe() == "784-32-10 (relu, softmax)"
    dense_names = tuple(layer.name for layer in model.layers if type(layer).__name__ == "Dense")
    assert tuple(layer.name for layer in stack.layers) == dense_names
    for got, want in zip(stack.kernels + stack.biases, weights[0::2] + weights[1::2]):
        assert np.array_equal(got, want)
    x = np.random.default_rng(8).uniform(0, 1, size=(5, 28, 28)).astype(np.float32)
    np.testing.assert_allclose(numpy_forward(stack, x), np.asarray(model(x)),
                               rtol=1e-4, atol=1e-6)


def test_relu_and_softmax_layers_fold():
    model = keras.Sequential([keras.Input((784,)), L.Dense(20, name="a"), L.ReLU(name="r"),
                              L.Dense(10, name="b"), L.Softmax(name="s")])
    random_weights(model, seed=9)
    stack = stack_from_keras(model)
    assert tuple(layer.activation for layer in stack.layers) == ("relu", "softmax")
    assert tuple(layer.name for layer in stack.layers) == ("a", "b")
    assert stack.widths == (20, 10)
    x = np.random.default_rng(10).uniform(0, 1, size=(4, 784)).astype(np.float32)
    np.testing.assert_allclose(numpy_forward(stack, x), np.asarray(model(x)),
                               rtol=1e-4, atol=1e-6)


def test_relu_capped_other_than_at_six_is_refused_not_folded():
    model = keras.Sequential([keras.Input((784,)), L.Dense(20), L.ReLU(max_value=4.0, name="r4"),
                              L.Dense(10)])
    assert error_of(stack_from_keras, model) == (
        "layer 'r4' (ReLU) has max_value 4.0 and negative_slope 0.0: mlplens reads ReLU, "
        "ReLU(max_value=6) (relu6) and ReLU(negative_slope=s)")


def test_reshape_to_vector_is_accepted():
    model = keras.Sequential([keras.Input((28, 28)), L.Reshape((784,)),
                              L.Dense(12, activation="relu"), L.Dense(10, activation="softmax")])
    random_weights(model, seed=11)
    stack = stack_from_keras(model)
    assert stack.image_shape == (28, 28)
    assert stack.describe() == "784-12-10 (relu, softmax)"


def test_reshape_to_an_image_is_refused():
    model = keras.Sequential([keras.Input((784,)), L.Reshape((28, 28), name="back"),
                              L.Flatten(), L.Dense(10)])
    assert_message(error_of(stack_from_keras, model), "'back'", "(Reshape)")


def test_dense_without_bias_gives_zero_bias():
    model = keras.Sequential([keras.Input((784,)), L.Dense(6, use_bias=False, activation="relu"),
                              L.Dense(10, activation="softmax")])
    weights = random_weights(model, seed=12)
    assert len(weights) == 3
    stack = stack_from_keras(model)
    assert stack.biases[0].shape == (6,)
    assert stack.biases[0].dtype == np.float32
    assert np.array_equal(stack.biases[0], np.zeros(6, np.float32))
    assert np.array_equal(stack.kernels[0], weights[0])
    assert np.array_equal(stack.kernels[1], weights[1])
    assert np.array_equal(stack.biases[1], weights[2])


def test_non_square_input_needs_image_shape(tmp_path):
    model = keras.Sequential([keras.Input((12,)), L.Dense(4), L.Dense(2)])
    weights = random_weights(model, seed=13)
    assert_message(error_of(stack_from_keras, model), "12 inputs", "--image-shape")
    stack = stack_from_keras(model, image_shape=(3, 4))
    assert stack.image_shape == (3, 4)
    assert stack.describe() == "12-4-2 (linear, linear)"
    for got, want in zip(stack.kernels + stack.biases, weights[0::2] + weights[1::2]):
        assert np.array_equal(got, want)
    path = tmp_path / "twelve.keras"
    model.save(path)
    assert_message(error_of(load_stack, path), str(path), "--image-shape")
    assert_same_stack(load_stack(path, image_shape=(3, 4)), stack)


def test_dense_on_unflattened_image_is_refused():
    # Without a Flatten, Dense acts on the last axis: this model takes 16x16 images and applies
    # the same 16->16 kernel to each row. It is not a chain of Dense layers over a flattened
    # image, and reading it as a 4x4-pixel MLP (16 inputs) would draw nonsense.
    model = keras.Sequential([keras.Input((16, 16)), L.Dense(16, name="rows"), L.Dense(10)])
    assert_message(error_of(stack_from_keras, model),
                   "the model's input (16, 16) has 256 values but its first Dense layer takes "
                   "16: flatten the input before the first Dense layer")


# ---- 3. refusals -------------------------------------------------------------------------------

def test_conv_model_is_refused_by_layer_name(tmp_path):
    model = keras.Sequential([keras.Input((28, 28, 1)), L.Conv2D(4, 3, name="my_conv"),
                              L.Flatten(), L.Dense(10)])
    assert_message(error_of(stack_from_keras, model), "'my_conv'", "(Conv2D)")
    path = tmp_path / "conv.keras"
    model.save(path)
    assert_message(error_of(load_stack, path), str(path), "'my_conv'", "(Conv2D)")


def test_lstm_model_is_refused():
    model = keras.Sequential([keras.Input((28, 28)), L.LSTM(8, name="rnn"), L.Dense(10)])
    assert_message(error_of(stack_from_keras, model), "'rnn'", "(LSTM)", "not supported")


def test_activation_before_any_dense_is_refused():
    model = keras.Sequential([keras.Input((784,)), L.Activation("relu", name="early"),
                              L.Dense(10)])
    assert_message(error_of(stack_from_keras, model), "'early'", "comes before any Dense layer")


def test_second_activation_on_a_dense_is_refused():
    model = keras.Sequential([keras.Input((784,)), L.Dense(16, activation="relu", name="d1"),
                              L.Activation("sigmoid", name="again"), L.Dense(10)])
    assert_message(error_of(stack_from_keras, model), "'again'", "'d1'", "already applies relu")


def test_unsupported_dense_activation_is_named():
    model = keras.Sequential([keras.Input((784,)), L.Dense(16, activation="softsign", name="e"),
                              L.Dense(10)])
    assert_message(error_of(stack_from_keras, model), "'e'", "'softsign'", "not supported")


def test_unsupported_activation_layer_is_named():
    model = keras.Sequential([keras.Input((784,)), L.Dense(16), L.Activation("celu", name="act"),
                              L.Dense(10)])
    assert_message(error_of(stack_from_keras, model), "'act'", "'celu'", "not supported")


def test_nan_weights_are_refused():
    model = keras.Sequential([keras.Input((784,)), L.Dense(4), L.Dense(10)])
    weights = random_weights(model, seed=14)
    weights[2][1, 3] = np.nan
    model.set_weights(weights)
    assert_message(error_of(stack_from_keras, model), "layer 2", "NaN or infinite")


def test_infinite_bias_is_refused():
    model = keras.Sequential([keras.Input((784,)), L.Dense(4), L.Dense(10)])
    weights = random_weights(model, seed=15)
    weights[1][0] = np.inf
    model.set_weights(weights)
    assert_message(error_of(stack_from_keras, model), "layer 1", "NaN or infinite")


def test_load_stack_missing_file(tmp_path):
    path = tmp_path / "nope.keras"
    assert_message(error_of(load_stack, path), str(path), "no such file")


def test_load_stack_empty_file(tmp_path):
    path = tmp_path / "empty.keras"
    path.write_bytes(b"")
    assert_message(error_of(load_stack, path), str(path), "the file is empty")


@pytest.mark.parametrize("name", ["x.keras", "x.h5"])
def test_load_stack_garbage_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"this is not a model\n" * 20)
    message = error_of(load_stack, path)
    assert_message(message, str(path), "cannot read this Keras model")
    assert "\n" not in message


def test_load_stack_folder(tmp_path):
    folder = tmp_path / "model.keras"
    folder.mkdir()
    assert_message(error_of(load_stack, folder), str(folder), "is a folder")


def test_load_stack_unsupported_suffix(tmp_path):
    path = tmp_path / "weights.txt"
    path.write_text("1 2 3\n")
    assert_message(error_of(load_stack, path), str(path), "unsupported model format", "'.txt'")


def test_model_without_dense_is_refused():
    model = keras.Sequential([keras.Input((28, 28)), L.Flatten()])
    assert_message(error_of(stack_from_keras, model), "no Dense layers")


# ---- 4. DenseStack.from_arrays by hand ---------------------------------------------------------

def test_from_arrays_chain_mismatch():
    message = error_of(DenseStack.from_arrays,
                       [np.ones((784, 16), np.float32), np.ones((8, 10), np.float32)])
    assert_message(message, "layer 2 takes 8 inputs but layer 1 gives 16")


def test_from_arrays_bias_shape_mismatch():
    message = error_of(DenseStack.from_arrays, [np.ones((784, 16), np.float32)],
                       [np.zeros(15, np.float32)], ["softmax"])
    assert_message(message, "layer 1", "bias shape (15,)", "16 units")


def test_from_arrays_zero_unit_layer():
    message = error_of(DenseStack.from_arrays,
                       [np.ones((784, 16), np.float32), np.ones((16, 0), np.float32)])
    assert_message(message, "layer 2", "zero-sized")


def test_from_arrays_one_pixel_image_is_too_small():
    message = error_of(DenseStack.from_arrays, [np.ones((1, 3), np.float32)], image_shape=(1, 1))
    assert_message(message, "1x1", "too small")


def test_from_arrays_image_shape_must_match_inputs():
    message = error_of(DenseStack.from_arrays, [np.ones((784, 10), np.float32)],
                       image_shape=(28, 27))
    assert_message(message, "28x27", "756 pixels", "784 inputs")


def test_from_arrays_non_square_without_image_shape():
    message = error_of(DenseStack.from_arrays, [np.ones((12, 2), np.float32)])
    assert_message(message, "12 inputs", "--image-shape")
    assert DenseStack.from_arrays([np.ones((12, 2), np.float32)],
                                  image_shape=(4, 3)).image_shape == (4, 3)


def test_from_arrays_other_refusals():
    assert_message(error_of(DenseStack.from_arrays, []), "no Dense layers")
    assert_message(error_of(DenseStack.from_arrays, [np.ones(784, np.float32)],
                            image_shape=(28, 28)), "2-D")
    assert_message(error_of(DenseStack.from_arrays, [np.ones((784, 10), np.float32)],
                            [np.zeros(10, np.float32)], ["relu", "softmax"]), "differ in length")
    assert_message(error_of(DenseStack.from_arrays, [np.ones((784, 10), np.float32)],
                            activations=["softsign"]), "'softsign'", "not supported")
    bad = np.ones((784, 10), np.float32)
    bad[3, 4] = -np.inf
    assert_message(error_of(DenseStack.from_arrays, [bad]), "NaN or infinite")


def test_from_arrays_copies_and_freezes_as_float32():
    rng = np.random.default_rng(21)
    k1 = rng.standard_normal((784, 512))  # float64 source
    b1 = rng.standard_normal(512).astype(np.float32)
    k2 = rng.standard_normal((512, 256)).astype(np.float32)
    k3 = rng.standard_normal((256, 10)).astype(np.float32)
    k1_before, b1_before, k2_before = k1.astype(np.float32), b1.copy(), k2.copy()
    stack = DenseStack.from_arrays([k1, k2, k3], [b1, np.zeros(256), np.zeros(10)])

    assert stack.describe() == "784-512-256-10 (relu, relu, softmax)"
    assert stack.widths == (512, 256, 10)
    assert stack.n_inputs == 784
    assert stack.image_shape == (28, 28)
    assert tuple(layer.name for layer in stack.layers) == ("dense_1", "dense_2", "dense_3")
    for array in stack.kernels + stack.biases:
        assert array.dtype == np.float32
        assert not array.flags.writeable
    assert np.array_equal(stack.kernels[0], k1_before)

    k1[:] = 7.0
    b1[:] = 7.0
    k2[0, 0] = 99.0
    assert np.array_equal(stack.kernels[0], k1_before)
    assert np.array_equal(stack.biases[0], b1_before)
    assert np.array_equal(stack.kernels[1], k2_before)

    with pytest.raises(ValueError):
        stack.kernels[0][0, 0] = 1.0
    with pytest.raises(ValueError):
        stack.biases[1][0] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        stack.image_shape = (784, 1)  # type: ignore[misc]


def test_from_arrays_defaults():
    stack = DenseStack.from_arrays([np.ones((4, 2), np.float32), np.ones((2, 3), np.float32)])
    assert stack.describe() == "4-2-3 (relu, softmax)"
    assert stack.image_shape == (2, 2)
    for bias, units in zip(stack.biases, (2, 3)):
        assert np.array_equal(bias, np.zeros(units, np.float32))
    single = DenseStack.from_arrays([np.ones((9, 5), np.float32)])
    assert single.describe() == "9-5 (softmax)"
    assert single.image_shape == (3, 3)


# ---- 5. real training on real MNIST ------------------------------------------------------------

@pytest.fixture(scope="module")
def trained() -> TrainedModel:
    return train(hidden=(512, 256), train_samples=3000, epochs=2, seed=0, verbose=0)


@pytest.fixture(scope="module")
def trained_again() -> TrainedModel:
    return train(hidden=(512, 256), train_samples=3000, epochs=2, seed=0, verbose=0)


def test_training_accuracy_and_metrics(trained):
    metrics = trained.metrics
    print(f"measured test_accuracy={metrics['test_accuracy']:.4f} "
          f"test_loss={metrics['test_loss']:.4f} seconds={metrics['seconds']}")
    # Measured 0.9010 (test loss 0.340) with keras 3.15.1 on JAX 0.10.2, CPU.
    assert metrics["test_accuracy"] >= 0.88
    assert metrics["test_accuracy"] <= 1.0
    assert 0 < metrics["test_loss"] < 0.6  # measured 0.340
    for key in ("test_accuracy", "test_loss", "history", "train_samples", "hidden", "epochs",
                "seed", "backend", "seconds", "batch_size", "optimizer", "keras_version",
                "stratified"):
        assert key in metrics, key
    history = metrics["history"]
    assert len(history["loss"]) == 2
    assert len(history["accuracy"]) == 2
    assert all(len(values) == 2 for values in history.values())
    assert history["loss"][1] < history["loss"][0]  # measured 0.932 -> 0.376
    assert metrics["train_samples"] == 3000
    assert metrics["hidden"] == [512, 256]
    assert metrics["epochs"] == 2
    assert metrics["seed"] == 0
    assert metrics["batch_size"] == 128
    assert metrics["optimizer"] == "rmsprop"
    assert metrics["stratified"] is False
    assert metrics["backend"] == "jax"
    assert metrics["keras_version"] == keras.__version__
    assert metrics["seconds"] > 0
    json.dumps(metrics)  # plain JSON types only


def test_trained_stack_is_the_articles_network(trained):
    stack = trained.stack
    assert stack.describe() == "784-512-256-10 (relu, relu, softmax)"
    assert stack.image_shape == (28, 28)
    assert tuple(layer.name for layer in stack.layers) == ("hidden_1", "hidden_2", "output")
    weights = trained.model.get_weights()
    assert len(weights) == 6
    for got, want in zip(stack.kernels + stack.biases, weights[0::2] + weights[1::2]):
        assert np.array_equal(got, want)
    # The stack predicts like the model on real test images.
    mnist = mlplens.load_mnist()
    x = mnist.x_test[:64].reshape(64, -1).astype(np.float32) / np.float32(255)
    np.testing.assert_allclose(numpy_forward(stack, x), np.asarray(trained.model(x)),
                               rtol=1e-3, atol=1e-5)


def test_training_is_reproducible_with_a_seed(trained, trained_again):
    first, second = trained.model.get_weights(), trained_again.model.get_weights()
    assert len(first) == len(second) == 6
    for a, b in zip(first, second):
        assert np.array_equal(a, b)
    assert trained_again.metrics["test_accuracy"] == trained.metrics["test_accuracy"]
    assert trained_again.metrics["history"] == trained.metrics["history"]


def test_a_different_seed_gives_different_weights(trained):
    other = train(hidden=(512, 256), train_samples=3000, epochs=2, seed=1, verbose=0)
    assert other.metrics["seed"] == 1
    for a, b in zip(trained.model.get_weights(), other.model.get_weights()):
        assert a.shape == b.shape
        assert not np.array_equal(a, b)


def test_trained_model_save_and_reload(trained, tmp_path):
    out = tmp_path / "run" / "nested"
    written = trained.save(out)
    assert written == [out / "model.keras", out / "metrics.json"]
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "model.keras"]
    assert json.loads((out / "metrics.json").read_text(encoding="utf-8")) == trained.metrics
    assert_same_stack(load_stack(out / "model.keras"), trained.stack)
    # Saving again over the same files leaves no temporaries either.
    trained.save(out)
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "model.keras"]
    assert_same_stack(load_stack(out / "model.keras"), trained.stack)


def test_single_layer_network():
    single = train(hidden=(), train_samples=2000, epochs=1, seed=0, verbose=0)
    stack = single.stack
    print(f"measured single-layer test_accuracy={single.metrics['test_accuracy']:.4f}")
    assert stack.widths == (10,)
    assert tuple(layer.activation for layer in stack.layers) == ("softmax",)
    assert stack.describe() == "784-10 (softmax)"
    assert single.metrics["hidden"] == []
    assert single.metrics["train_samples"] == 2000
    assert len(single.metrics["history"]["loss"]) == 1
    # Measured 0.6476 (keras 3.15.1, JAX 0.10.2, CPU).
    assert single.metrics["test_accuracy"] >= 0.62


# ---- 6. the on-device training loop is Keras' fit, bit for bit -----------------------------------

def _fresh_model(hidden, seed=0):
    keras.utils.set_random_seed(seed)
    model = build(hidden)
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("count, hidden", [(700, (32, 16)), (256, ()), (90, (8,))])
def test_fit_on_device_equals_keras_fit(count, hidden, monkeypatch, capsys):
    # 700 images: five full batches of 128 and a tail of 60, run two steps per compiled call so
    # that chunk boundaries, the tail and the progress bar are all exercised; 256: no tail;
    # 90: a single batch smaller than batch_size.
    monkeypatch.setattr(fast_fit, "STEPS_PER_EXECUTION", 2)
    mnist = mlplens.load_mnist()
    x = as_inputs(mnist.x_train[:count])
    y = keras.utils.to_categorical(mnist.y_train[:count], 10)
    reference = _fresh_model(hidden)
    expected = reference.fit(x, y, batch_size=128, epochs=2, verbose=0).history
    capsys.readouterr()
    model = _fresh_model(hidden)
    history = fast_fit.fit_on_device(model, x, y, batch_size=128, epochs=2, verbose=1)
    progress, notes = capsys.readouterr()
    assert "mlplens: note" not in notes  # the compiled loop ran, not the fallback
    assert history.history == expected
    for got, want in zip(model.get_weights(), reference.get_weights()):
        assert np.array_equal(got, want)
    steps = -(-count // 128)
    assert "Epoch 1/2" in progress and "Epoch 2/2" in progress
    assert f"{steps}/{steps}" in progress and "accuracy:" in progress and "loss:" in progress


def test_train_takes_the_fast_path_on_jax(monkeypatch):
    calls = []
    original = run.fit_on_device
    monkeypatch.setattr(run, "fit_on_device",
                        lambda *args, **kwargs: calls.append(1) or original(*args, **kwargs))
    trained = train(hidden=(8,), train_samples=300, epochs=1, seed=0, verbose=0)
    assert calls == [1]
    assert len(trained.metrics["history"]["loss"]) == 1


@pytest.mark.parametrize("every", [3, 7])
def test_snapshots_from_the_fast_path_equal_keras_fits(every, monkeypatch):
    # 700 images: 6 steps an epoch, 12 in two epochs; snapshots fall mid-call (3, 9), at an
    # epoch's end where a call ends too (6) and across epochs (7); two steps per compiled call
    # make calls end between snapshots too.
    monkeypatch.setattr(fast_fit, "STEPS_PER_EXECUTION", 2)
    fast = train(hidden=(16,), train_samples=700, epochs=2, seed=0, verbose=0,
                 snapshot_every=every)

    def keras_fit(model, inputs, targets, batch_size, epochs, verbose, callbacks=None,
                  sync_every=None):
        return model.fit(inputs, targets, batch_size=batch_size, epochs=epochs,
                         verbose=verbose, callbacks=callbacks)

    monkeypatch.setattr(run, "fit_on_device", keras_fit)
    reference = train(hidden=(16,), train_samples=700, epochs=2, seed=0, verbose=0,
                      snapshot_every=every)
    ours, theirs = fast.snapshots, reference.snapshots
    assert ours.steps.tolist() == theirs.steps.tolist() == sorted(
        {0, *range(every, 13, every), 12})
    np.testing.assert_array_equal(ours.test_accuracy, theirs.test_accuracy)
    for mine, want in zip(ours.kernels + ours.biases, theirs.kernels + theirs.biases):
        np.testing.assert_array_equal(mine, want)


# ---- 7. a Keras whose internals differ trains with Keras' fit instead ----------------------------

SET_UP_FAILED = f"the compiled training loop could not be set up on Keras {keras.__version__}"


def _lacks_an_internal(monkeypatch, model) -> str:
    monkeypatch.setattr(fast_fit, "MODEL_INTERNALS", (*fast_fit.MODEL_INTERNALS, "_gone"))
    return f"Keras {keras.__version__} lacks Model._gone"


def _build_takes_no_data_batch(monkeypatch, model) -> str:
    # Fails before the model is built: fit then builds it and draws its own permutation.
    keras_build = model._symbolic_build

    def symbolic_build(iterator=None, data_batch=None):
        if data_batch is not None:
            raise TypeError("got an unexpected keyword argument 'data_batch'")
        return keras_build(iterator=iterator)

    monkeypatch.setattr(model, "_symbolic_build", symbolic_build)
    return f"{SET_UP_FAILED} (TypeError: got an unexpected keyword argument 'data_batch')"


def _set_up_fails_after_touching_a_weight(monkeypatch, model) -> str:
    # Fails after the model is built: fit then draws no permutation of its own while building,
    # and must start from the weights the model had.
    compile_loop = fast_fit._compile

    def fail(model, *args):
        compile_loop(model, *args)
        model.trainable_variables[0].assign(model.trainable_variables[0] + 1)
        raise RuntimeError("XLA says no")

    monkeypatch.setattr(fast_fit, "_compile", fail)
    return f"{SET_UP_FAILED} (RuntimeError: XLA says no)"


def _callback_list_takes_other_arguments(monkeypatch, model) -> str:
    def callback_list(*args, **kwargs):
        raise TypeError("got an unexpected keyword argument 'steps'")

    monkeypatch.setattr(keras.callbacks, "CallbackList", callback_list)  # not the one fit uses
    return f"{SET_UP_FAILED} (TypeError: got an unexpected keyword argument 'steps')"


@pytest.fixture(scope="module")
def fitted_by_keras():
    """1,000 real images (seven full batches and a tail), one epoch, one small hidden layer,
    trained by Keras' own fit: what every fallback must give, bit for bit."""
    mnist = mlplens.load_mnist()
    x = as_inputs(mnist.x_train[:1000])
    y = keras.utils.to_categorical(mnist.y_train[:1000], 10)
    reference = _fresh_model((16,))
    history = reference.fit(x, y, batch_size=128, epochs=1, verbose=0).history
    return x, y, history, reference.get_weights()


@pytest.mark.parametrize("force", [_lacks_an_internal, _build_takes_no_data_batch,
                                   _set_up_fails_after_touching_a_weight,
                                   _callback_list_takes_other_arguments])
def test_fit_on_device_falls_back_to_keras_fit(force, fitted_by_keras, monkeypatch, capsys):
    x, y, expected, weights = fitted_by_keras
    capsys.readouterr()
    model = _fresh_model((16,))
    reason = force(monkeypatch, model)
    history = fast_fit.fit_on_device(model, x, y, batch_size=128, epochs=1, verbose=0)
    assert capsys.readouterr().err == (f"mlplens: note: {reason}; training with Keras' fit "
                                       "(slower)\n")
    assert history.history == expected
    assert len(history.history["loss"]) == 1
    for got, want in zip(model.get_weights(), weights, strict=True):
        assert np.array_equal(got, want)


def test_a_train_step_that_returns_its_state_differently_fails_the_set_up(monkeypatch):
    # Caught while compiling, before training: fit_on_device then falls back as above.
    mnist = mlplens.load_mnist()
    x = as_inputs(mnist.x_train[:200])
    y = keras.utils.to_categorical(mnist.y_train[:200], 10)
    model = _fresh_model((8,))
    model._symbolic_build(data_batch=(x[:128], y[:128]))
    model.optimizer.build(model.trainable_variables)
    keras_step = model.train_step

    def train_step(state, data):
        logs, new_state = keras_step(state, data)
        return logs, new_state[:3]  # say, the metrics' state kept elsewhere

    monkeypatch.setattr(model, "train_step", train_step)
    with pytest.raises(TypeError, match="another layout"):
        fast_fit._compile(model, x, y, 128)


# ---- 8. bad parameters -------------------------------------------------------------------------

def test_bad_epochs():
    assert_message(error_of(train, epochs=0), "--epochs", "got 0")


def test_unknown_optimizer():
    assert_message(error_of(train, train_samples=100, epochs=1, optimizer="nope", verbose=0),
                   "unknown optimizer", "'nope'")


def test_bad_train_samples():
    assert_message(error_of(train, train_samples=0, epochs=1, verbose=0),
                   "--train-samples", "got 0")
    assert_message(error_of(train, train_samples=60001, epochs=1, verbose=0),
                   "--train-samples", "got 60001")


def test_bad_batch_size_and_hidden():
    assert_message(error_of(train, batch_size=0), "--batch-size")
    assert_message(error_of(train, hidden=(16, 0)), "hidden layer sizes")
