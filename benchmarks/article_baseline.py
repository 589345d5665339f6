"""The article's way of making `mlplens reproduce`'s figures: the baseline it is measured against.

    python -m benchmarks.article_baseline --out DIR [--quick] [--seed 0]

Written here for the benchmark, after the method of the article's notebook: train with Keras'
`Model.fit` (here on JAX, TensorFlow-free, so that the comparison is about the method and not
the backend), compute every node's picture in Python loops node by node, and draw each node as
its own matplotlib subplot of a 20 x 20 inch figure (the notebook's figure size; output nodes
titled at size 40, as there), saved as PNG at matplotlib's default 100 dpi.

It makes the same figures from the same data as `mlplens reproduce` (same MNIST arrays, the same
three networks, epochs, batch size and seed; every layer with the article's `seed` method in
viridis and with the `linear` method in gray; the sample digits; the output layers of the
500-image and 60,000-image nets side by side), so that the benchmark compares two ways of doing
one piece of work. Two things the notebook also did are left out because mlplens does not do
them: evaluating on the test set after every epoch, and printing every weight to a text file.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

FIGSIZE = (20, 20)  # inches, the notebook's figure size for its node pictures
TITLE_SIZE = 40  # the notebook's title size for output nodes
ROWS = COLS = 28


def grid(count: int) -> tuple[int, int]:
    """A square grid of subplots big enough for every node (the notebook used 4 x 4 for 10)."""
    side = math.ceil(math.sqrt(count))
    return math.ceil(count / side), side


def node_images(weights: list[np.ndarray], method: str) -> list[np.ndarray]:
    """Each layer's node pictures as the notebook computed them: node by node, in Python.

    `seed`: the first layer's images are the columns of W1 + b1; a deeper layer's are the
    normalised images of the layer before times (Wk + bk). `linear`: W1 W2 ... Wk, no bias.
    Each node's row is min-max normalised to 0-255 and truncated, then cut into 28 rows.
    """
    kernels, biases = weights[0::2], weights[1::2]
    layers = []
    previous = None
    for kernel, bias in zip(kernels, biases):
        if method == "seed":  # previous: the layer before's normalised images (n_{k-1}, 784)
            shifted = kernel + bias
            raw = shifted.T if previous is None else np.dot(previous.T, shifted).T
        else:  # previous: W1 ... W_{k-1}, (784, n_{k-1})
            product = kernel if previous is None else np.dot(previous, kernel)
            raw = product.T
        raw = np.array(raw, dtype=np.float32)
        images = []
        normalised = np.empty_like(raw)
        for i in range(len(raw)):  # the notebook's per-node loop
            row = raw[i] - raw[i].min()
            top = row.max()
            row = row * (255.0 / top) if top else row * 0
            normalised[i] = np.trunc(row)
            image = [np.array(normalised[i][j:j + COLS]) for j in range(0, ROWS * COLS, COLS)]
            images.append(image)
        layers.append(images)
        previous = normalised if method == "seed" else product
    return layers


def draw_nodes(images: list, path: Path, cmap: str, titled: bool) -> None:
    """One figure, one subplot per node, as the notebook drew them."""
    import matplotlib.pyplot as plt

    rows, cols = grid(len(images))
    figure = plt.figure(figsize=FIGSIZE)
    for i, image in enumerate(images):
        axes = figure.add_subplot(rows, cols, i + 1)
        plt.imshow(image, interpolation="nearest", cmap=cmap)
        if titled:
            axes.set_title(str(i), size=TITLE_SIZE)
        plt.axis("off")
    path.parent.mkdir(parents=True, exist_ok=True)
    plt.savefig(path)
    plt.close(figure)


def draw_side_by_side(left: list, right: list, headings: tuple[str, str], path: Path,
                      cmap: str) -> None:
    """The output nodes of two nets, one subplot each, in two rows."""
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=FIGSIZE)
    for row, (images, heading) in enumerate(((left, headings[0]), (right, headings[1]))):
        for i, image in enumerate(images):
            axes = figure.add_subplot(2, len(images), row * len(images) + i + 1)
            plt.imshow(image, interpolation="nearest", cmap=cmap)
            axes.set_title(f"{heading}: {i}" if i == 0 else str(i))
            plt.axis("off")
    path.parent.mkdir(parents=True, exist_ok=True)
    plt.savefig(path)
    plt.close(figure)


def train_net(keras, hidden: tuple[int, ...], x, y, x_test, y_test, epochs: int, seed: int):
    """The notebook's network and training, with Keras' own fit."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential()
    model.add(keras.Input(shape=(ROWS * COLS,)))
    for units in hidden:
        model.add(keras.layers.Dense(units, activation="relu"))
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=128, epochs=epochs, verbose=2)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    return model, accuracy


def main(argv: list[str] | None = None) -> int:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument("--out", required=True, type=Path)
    arguments.add_argument("--quick", action="store_true",
                           help="as `mlplens reproduce --quick`: 2,000 images and 1 epoch")
    arguments.add_argument("--seed", type=int, default=0)
    options = arguments.parse_args(argv)
    started = time.perf_counter()
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import mlplens

    out: Path = options.out
    mnist = mlplens.load_mnist()  # the same verified arrays as mlplens uses
    x_train = mnist.x_train.reshape(len(mnist.x_train), ROWS * COLS).astype("float32") / 255
    x_test = mnist.x_test.reshape(len(mnist.x_test), ROWS * COLS).astype("float32") / 255
    y_train = keras.utils.to_categorical(mnist.y_train, 10)
    y_test = keras.utils.to_categorical(mnist.y_test, 10)

    figure = plt.figure(figsize=FIGSIZE)
    for i in range(20):  # the sample digits, one subplot each
        axes = figure.add_subplot(4, 5, i + 1)
        plt.imshow(mnist.x_train[i], cmap="gray", interpolation="nearest")
        axes.set_title(str(int(mnist.y_train[i])), size=TITLE_SIZE)
        plt.axis("off")
    out.mkdir(parents=True, exist_ok=True)
    plt.savefig(out / "digits.png")
    plt.close(figure)

    full, epochs = (2000, 1) if options.quick else (60000, 6)
    plans = (("mlp-500", (512, 256), 500), (f"mlp-{full}", (512, 256), full),
             (f"single-{full}", (), full))
    outputs: dict[str, dict[str, list]] = {}
    for name, hidden, count in plans:
        model, accuracy = train_net(keras, hidden, x_train[:count], y_train[:count], x_test,
                                    y_test, epochs, options.seed)
        print(f"{name}: test accuracy {accuracy:.4f}", file=sys.stderr)
        (out / name).mkdir(parents=True, exist_ok=True)
        model.save(out / name / "model.keras")
        weights = model.get_weights()
        for method, cmap in (("seed", "viridis"), ("linear", "gray")):
            layers = node_images(weights, method)
            for index, images in enumerate(layers, start=1):
                draw_nodes(images, out / name / method / f"layer-{index}.png", cmap,
                           titled=index == len(layers))
            outputs.setdefault(name, {})[method] = layers[-1]
    for method, cmap in (("seed", "viridis"), ("linear", "gray")):
        draw_side_by_side(outputs["mlp-500"][method], outputs[f"mlp-{full}"][method],
                          ("500 images", f"{full} images"),
                          out / f"output-500-vs-{full}-{method}.png", cmap)
    print(f"article baseline done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
