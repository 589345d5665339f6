"""The Keras and PyTorch zoo: nets made by the real tools, trained briefly on real MNIST.

`build(folder, mnist)` trains each net for a few epochs on the first 1,500 training images (so
its weights are realistic, not initial), saves it the way its users do (Keras `.keras` and
`.h5`; PyTorch state_dicts through `safetensors.torch.save_file`, with the modules' own key
names) and writes, beside each file, the framework's own outputs on the first 200 test images
(`<name>.expected.npy`), which the tests compare mlplens' outputs with. Live torch modules are
pickled with `torch.save` (the zoo's own files, read back by the tests with torch) so that the
test workers share one trained copy. Run once per test session (conftest's `keras_torch_zoo`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

TRAIN = 1500
TEST = 200
EPOCHS = 3
SEED = 0

# name -> what the tests expect of it: the head, and the files made.
KERAS_MODELS = ("keras_bn_gelu", "keras_acts", "keras_hard", "keras_multilabel",
                "keras_regression")
TORCH_STATES = ("torch_named", "torch_nested", "torch_numbered")
TORCH_MODULES = ("torch_sequential", "torch_custom")


def images(mnist, part: str, count: int) -> np.ndarray:
    """The first `count` images of a part, as floats 0-1, shape (count, 28, 28)."""
    return (getattr(mnist, f"x_{part}")[:count] / 255.0).astype(np.float32)


def targets(name: str, digits: np.ndarray) -> np.ndarray:
    """What each net learns from the digits: classes, a binary or multi-label answer, or a
    number."""
    digits = digits.astype(np.int64)
    if name == "keras_hard":  # binary: is the digit 5 or more?
        return (digits >= 5).astype(np.float32)[:, None]
    if name == "keras_multilabel":  # even; 5 or more; has a loop (0 6 8 9); a stroke (1 7)
        return np.stack([digits % 2 == 0, digits >= 5, np.isin(digits, (0, 6, 8, 9)),
                         np.isin(digits, (1, 7))], axis=1).astype(np.float32)
    if name == "keras_regression":  # the digit's value, 0-1
        return (digits / 9.0).astype(np.float32)[:, None]
    return np.eye(10, dtype=np.float32)[digits]


def keras_model(keras, name: str):
    """Each Keras net: every layer and activation the Keras readers take, across five nets."""
    layers = keras.layers
    if name == "keras_bn_gelu":  # BatchNorm after the activation and after a Dense; Softmax layer
        body = [layers.Input((28, 28)), layers.Flatten(),
                layers.Dense(48, activation="gelu", name="hidden1"),
                layers.BatchNormalization(name="bn1"), layers.Dense(32, name="hidden2"),
                layers.BatchNormalization(name="bn2"), layers.Activation("swish"),
                layers.Dropout(0.2), layers.Dense(10, name="logits"), layers.Softmax()]
    elif name == "keras_acts":  # modern activations by name; a BatchNorm without beta
        body = [layers.Input((784,)), layers.Dense(32, activation="elu"),
                layers.BatchNormalization(center=False),
                layers.Dense(32, activation="selu"), layers.Dense(32, activation="mish"),
                layers.Dense(32, activation="softplus"), layers.Dense(32, activation="relu6"),
                layers.Dense(32, activation="silu"), layers.Dense(10, activation="log_softmax")]
    elif name == "keras_hard":  # hard and leaky activations, activation layers; binary head
        body = [layers.Input((28, 28)), layers.Flatten(),
                layers.Dense(32, activation="hard_sigmoid"),
                layers.Dense(32, activation="hard_silu"),
                layers.Dense(32, activation="leaky_relu"),
                layers.Dense(32), layers.LeakyReLU(negative_slope=0.2),
                layers.Dense(32), layers.ELU(alpha=0.5),
                layers.Dense(32), layers.ReLU(max_value=6.0),
                layers.Dense(1, activation="sigmoid")]
    elif name == "keras_multilabel":  # LayerNorm before and after an activation; 4 sigmoids
        body = [layers.Input((28, 28)), layers.Flatten(),
                layers.Dense(32), layers.LayerNormalization(), layers.Activation("gelu"),
                layers.Dense(32, activation="tanh"), layers.LayerNormalization(epsilon=1e-3),
                layers.Dense(4, activation="sigmoid")]
    else:  # keras_regression: BatchNorm on the input pixels, Dropout; one linear output
        body = [layers.Input((28, 28)), layers.Flatten(), layers.BatchNormalization(),
                layers.Dense(32, activation="relu"), layers.Dropout(0.1),
                layers.Dense(16, activation="swish"), layers.Dense(1)]
    model = keras.Sequential(body, name=name)
    loss = {"keras_hard": "binary_crossentropy", "keras_multilabel": "binary_crossentropy",
            "keras_regression": "mse",
            "keras_acts": keras.losses.CategoricalCrossentropy(from_logits=True)}
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss=loss.get(name, "categorical_crossentropy"))
    return model


def build_keras(folder: Path, mnist) -> None:
    from mlplens.keras_backend import import_keras

    keras = import_keras()
    train, test = images(mnist, "train", TRAIN), images(mnist, "test", TEST)
    for name in KERAS_MODELS:
        keras.utils.set_random_seed(SEED)
        model = keras_model(keras, name)
        x_train = train if model.input_shape[1:] == (28, 28) else train.reshape(TRAIN, -1)
        x_test = test if model.input_shape[1:] == (28, 28) else test.reshape(TEST, -1)
        model.fit(x_train, targets(name, mnist.y_train[:TRAIN]), epochs=EPOCHS, batch_size=64,
                  verbose=0)
        model.save(folder / f"{name}.keras")
        model.save(folder / f"{name}.h5")
        np.save(folder / f"{name}.expected.npy", model.predict(x_test, verbose=0))


# ---- PyTorch ------------------------------------------------------------------------------------

def torch_modules():
    """The torch nets, made fresh (seeded): name -> module."""
    import torch
    from torch import nn
    import torch.nn.functional as F

    class Named(nn.Module):
        """Named layers: Linear -> BatchNorm -> ReLU, Linear -> LayerNorm -> GELU, a head."""

        def __init__(self) -> None:
            super().__init__()
            self.fc1, self.bn1 = nn.Linear(784, 64), nn.BatchNorm1d(64)
            self.fc2, self.norm2 = nn.Linear(64, 32), nn.LayerNorm(32)
            self.head = nn.Linear(32, 10)

        def forward(self, x):
            x = torch.flatten(x, 1)
            x = F.relu(self.bn1(self.fc1(x)))
            x = F.gelu(self.norm2(self.fc2(x)))
            return self.head(x)

    class Custom(nn.Module):
        """fc1 -> F.gelu -> LayerNorm -> fc2 -> BatchNorm -> F.silu -> Dropout -> fc3 ->
        leaky ReLU -> head -> log_softmax, with a view to a vector first."""

        def __init__(self) -> None:
            super().__init__()
            self.fc1, self.norm = nn.Linear(784, 48), nn.LayerNorm(48)
            self.fc2, self.bn = nn.Linear(48, 32), nn.BatchNorm1d(32)
            self.drop = nn.Dropout(0.1)
            self.fc3, self.head = nn.Linear(32, 24), nn.Linear(24, 10)

        def forward(self, x):
            x = x.view(x.size(0), -1)
            x = self.norm(F.gelu(self.fc1(x), approximate="tanh"))
            x = self.drop(F.silu(self.bn(self.fc2(x))))
            x = F.leaky_relu(self.fc3(x), negative_slope=0.05)
            return F.log_softmax(self.head(x), dim=-1)

    class Nested(nn.Module):
        """An encoder Sequential (keys encoder.0.weight ...) and a named head."""

        def __init__(self) -> None:
            super().__init__()
            self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, 40), nn.ELU(),
                                         nn.Linear(40, 24), nn.Mish())
            self.classifier = nn.Linear(24, 10)

        def forward(self, x):
            return self.classifier(self.encoder(x))

    torch.manual_seed(SEED)
    return {
        "torch_named": Named(),
        "torch_nested": Nested(),
        # numbered keys 0,2,4 (ReLU modules between): today's documented default reads it
        "torch_numbered": nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(),
                                        nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 10)),
        "torch_sequential": nn.Sequential(
            nn.Flatten(), nn.Linear(784, 40), nn.BatchNorm1d(40), nn.Hardswish(),
            nn.Linear(40, 32), nn.SELU(), nn.Linear(32, 32), nn.Softplus(),
            nn.Linear(32, 24), nn.Hardsigmoid(), nn.Linear(24, 24), nn.ReLU6(),
            nn.Linear(24, 16), nn.Tanh(), nn.Identity(), nn.Linear(16, 10), nn.Softmax(dim=-1)),
        "torch_custom": Custom(),
    }


def build_torch(folder: Path, mnist) -> None:
    import torch
    import torch.nn.functional as F
    from safetensors.torch import save_file

    train = torch.from_numpy(images(mnist, "train", TRAIN))
    labels = torch.from_numpy(mnist.y_train[:TRAIN].astype(np.int64))
    test = torch.from_numpy(images(mnist, "test", TEST))
    for name, module in torch_modules().items():
        optimizer = torch.optim.Adam(module.parameters(), lr=3e-3)
        generator = torch.Generator().manual_seed(SEED)
        module.train()
        for _ in range(EPOCHS):
            for batch in torch.randperm(TRAIN, generator=generator).split(64):
                optimizer.zero_grad()
                out = module(train[batch])
                # the Softmax/log_softmax heads give probabilities/log-probabilities
                logits = out.clamp_min(1e-12).log() if name == "torch_sequential" else out
                F.cross_entropy(logits, labels[batch]).backward()
                optimizer.step()
        module.eval()
        with torch.no_grad():
            np.save(folder / f"{name}.expected.npy", module(test).numpy())
        if name in TORCH_STATES:
            save_file({key: value.contiguous() for key, value in module.state_dict().items()},
                      folder / f"{name}.safetensors")
        else:
            torch.save(module.state_dict(), folder / f"{name}.state.pt")


def load_module(folder: Path, name: str):
    """A live torch module of the zoo, trained weights restored, in eval mode."""
    import torch

    module = torch_modules()[name]
    module.load_state_dict(torch.load(folder / f"{name}.state.pt", weights_only=True))
    return module.eval()


def zoo_images(mnist) -> np.ndarray:
    """The images every zoo net's expected outputs are for: (TEST, 28, 28), 0-1."""
    return images(mnist, "test", TEST)


def build(folder: Path, mnist) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    build_torch(folder, mnist)
    build_keras(folder, mnist)
    (folder / "done").write_text("zoo built\n")
    return folder
