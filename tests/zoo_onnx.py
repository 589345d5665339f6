"""The ONNX zoo: real dense nets trained briefly on real MNIST and written by the real tools, the
way people make ONNX files: PyTorch's `torch.onnx.export` with both exporters (the legacy
TorchScript one at its default opset 20 and at opset 13, where GELU and LayerNorm come out
decomposed; the dynamo one at its default opset 20 and at 18, which keeps the weights in
`model.onnx.data` beside the graph), and scikit-learn's MLPs through skl2onnx (with ZipMap and
with `zipmap=False`).

`build(folder, mnist)` writes one sub-folder per model (the dynamo exporter's external data sits
next to its graph) and `reference.npz`: each framework's own outputs (torch's forward, sklearn's
predict_proba / predict) on the first TEST_IMAGES real MNIST test images, which the tests compare
with mlplens' forward pass, and for a few nets (`gradient-<variant>`) torch's mean input
gradient of each output over the first GRADIENT_IMAGES. Built once per test run (conftest's
`onnx_zoo`): about 13 s of CPU.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TRAIN_IMAGES = 1000
TEST_IMAGES = 200
EPOCHS = 2
SEED = 0


@dataclass(frozen=True)
class Variant:
    """One PyTorch net: `layers(torch.nn)` after Flatten; `head` is how its output is trained and
    compared: classes (10 outputs), binary (1 logit: digit >= 5), multilabel (3 sigmoids: even,
    >= 5, in {0, 6, 8, 9} (has a loop)) or regression (1 output: the digit's value)."""

    name: str
    layers: Callable
    head: str = "classes"


def _plain(activation: Callable) -> Callable:
    return lambda nn: [nn.Linear(784, 32), activation(nn), nn.Linear(32, 10)]


VARIANTS = (
    Variant("gelu", _plain(lambda nn: nn.GELU())),
    Variant("gelu_tanh", _plain(lambda nn: nn.GELU(approximate="tanh"))),
    Variant("silu", _plain(lambda nn: nn.SiLU())),
    Variant("leaky_relu", _plain(lambda nn: nn.LeakyReLU(0.2))),
    Variant("elu", _plain(lambda nn: nn.ELU())),
    Variant("selu", _plain(lambda nn: nn.SELU())),
    Variant("mish", _plain(lambda nn: nn.Mish())),
    Variant("softplus", _plain(lambda nn: nn.Softplus())),
    Variant("relu6", _plain(lambda nn: nn.ReLU6())),
    Variant("hardsigmoid", _plain(lambda nn: nn.Hardsigmoid())),
    Variant("hardswish", _plain(lambda nn: nn.Hardswish())),
    Variant("tanh", _plain(lambda nn: nn.Tanh())),
    Variant("sigmoid", _plain(lambda nn: nn.Sigmoid())),
    Variant("batchnorm", lambda nn: [nn.Linear(784, 32), nn.BatchNorm1d(32), nn.ReLU(),
                                     nn.Linear(32, 16), nn.ReLU(), nn.BatchNorm1d(16),
                                     nn.Linear(16, 10)]),
    Variant("layernorm_gelu", lambda nn: [nn.Linear(784, 32), nn.LayerNorm(32), nn.GELU(),
                                          nn.Linear(32, 10)]),
    Variant("relu_layernorm", lambda nn: [nn.Linear(784, 32), nn.ReLU(), nn.LayerNorm(32),
                                          nn.Linear(32, 10)]),
    Variant("dropout_identity", lambda nn: [nn.Linear(784, 32), nn.ReLU(), nn.Dropout(0.2),
                                            nn.Identity(), nn.Linear(32, 10)]),
    Variant("softmax", lambda nn: [nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10),
                                   nn.Softmax(dim=1)]),
    Variant("log_softmax", lambda nn: [nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10),
                                       nn.LogSoftmax(dim=-1)]),
    Variant("binary", lambda nn: [nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 1)], "binary"),
    Variant("multilabel", lambda nn: [nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 3),
                                      nn.Sigmoid()], "multilabel"),
    Variant("regression", lambda nn: [nn.Linear(784, 32), nn.Tanh(), nn.Linear(32, 1)],
            "regression"),
)
# Opset 13 writes these differently from the default opset (decomposed GELU, LayerNorm,
# Hardswish as HardSigmoid * x); the others come out the same, so they are written once.
AT_OPSET_13 = ("gelu", "gelu_tanh", "hardswish", "layernorm_gelu", "relu_layernorm")
# The dynamo exporter takes about a second a model; these cover each form it writes that the
# legacy exporter does not (Gelu and LayerNormalization ops, Softplus's threshold as
# Greater/Where, BatchNormalization after Linear fused away, Reshape instead of Flatten).
BY_DYNAMO = ("layernorm_gelu", "gelu_tanh", "silu", "softplus", "mish", "batchnorm",
             "relu_layernorm", "binary")
# At opset 18 (before the Gelu op) the dynamo exporter writes GELU as its formula, the tanh
# one with Pow.
BY_DYNAMO_18 = ("layernorm_gelu", "gelu_tanh")


# Variants whose mean input gradients torch's autograd records, for the gradient method.
GRADIENTS = ("layernorm_gelu", "relu_layernorm", "batchnorm", "mish")
GRADIENT_IMAGES = 20


def mean_gradients(model, images: np.ndarray) -> np.ndarray:
    """Per output c, the mean over `images` of d output_c / d pixels: (outputs, H*W)."""
    import torch

    x = torch.from_numpy(images).requires_grad_(True)
    out = model(x)
    rows = []
    for c in range(out.shape[1]):
        (grad,) = torch.autograd.grad(out[:, c].sum(), x, retain_graph=True)
        rows.append(grad.reshape(len(images), -1).mean(dim=0).numpy())
    return np.stack(rows)


def targets(labels: np.ndarray, head: str) -> np.ndarray:
    """What each head learns from the digit labels."""
    if head == "binary":
        return (labels >= 5).astype(np.float32)[:, None]
    if head == "multilabel":
        return np.stack([labels % 2 == 0, labels >= 5, np.isin(labels, (0, 6, 8, 9))],
                        axis=1).astype(np.float32)
    if head == "regression":
        return labels.astype(np.float32)[:, None]
    return labels.astype(np.int64)


def _train(model, images: np.ndarray, labels: np.ndarray, head: str) -> None:
    """A few epochs of Adam in training mode (so BatchNorm learns its running statistics)."""
    import torch

    losses = {"classes": torch.nn.CrossEntropyLoss(), "binary": torch.nn.BCEWithLogitsLoss(),
              "multilabel": torch.nn.BCELoss(), "regression": torch.nn.MSELoss()}
    x = torch.from_numpy(images)
    y = torch.from_numpy(targets(labels, head))
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    last = model[-1]
    # A softmax head is trained on its logits (the layers before it), as PyTorch users do.
    body = model[:-1] if isinstance(last, (torch.nn.Softmax, torch.nn.LogSoftmax)) else model
    model.train()
    order = torch.Generator().manual_seed(SEED)
    for _ in range(EPOCHS):
        for batch in torch.randperm(len(x), generator=order).split(64):
            optimiser.zero_grad()
            losses[head](body(x[batch]), y[batch]).backward()
            optimiser.step()
    model.eval()


def _torch_models(folder: Path, train: np.ndarray, labels: np.ndarray,
                  test: np.ndarray) -> dict[str, np.ndarray]:
    import torch

    torch.manual_seed(SEED)
    reference = {}
    sample = torch.from_numpy(test[:2])
    for variant in VARIANTS:
        model = torch.nn.Sequential(torch.nn.Flatten(), *variant.layers(torch.nn))
        _train(model, train, labels, variant.head)
        with torch.no_grad():
            outputs = model(torch.from_numpy(test)).numpy()
        if variant.name in GRADIENTS:
            reference[f"gradient-{variant.name}"] = mean_gradients(model,
                                                                   test[:GRADIENT_IMAGES])
        routes = [("legacy", {})]
        if variant.name in AT_OPSET_13:
            routes.append(("legacy13", {"opset_version": 13}))
        for route, options in routes:
            name = f"torch-{route}-{variant.name}"
            path = folder / name / "model.onnx"
            path.parent.mkdir()
            torch.onnx.export(model, (sample,), str(path), dynamo=False, input_names=["image"],
                              output_names=["output"],
                              dynamic_axes={"image": {0: "batch"}, "output": {0: "batch"}},
                              **options)
            reference[name] = outputs
        dynamo = [("dynamo", {})] if variant.name in BY_DYNAMO else []
        if variant.name in BY_DYNAMO_18:
            dynamo.append(("dynamo18", {"opset_version": 18}))
        for route, options in dynamo:
            name = f"torch-{route}-{variant.name}"
            path = folder / name / "model.onnx"
            path.parent.mkdir()
            torch.onnx.export(model, (sample,), str(path), dynamo=True, verbose=False,
                              **options)
            reference[name] = outputs
    return reference


def _sklearn_models(folder: Path, train: np.ndarray, labels: np.ndarray,
                    test: np.ndarray) -> dict[str, np.ndarray]:
    from skl2onnx import to_onnx
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    x, x_test = train.reshape(len(train), -1), test.reshape(len(test), -1)
    reference = {}
    models = {"classifier": (MLPClassifier((32,), max_iter=20, random_state=SEED), labels),
              "binary": (MLPClassifier((32,), max_iter=20, random_state=SEED),
                         (labels >= 5).astype(np.int64)),
              "regressor": (MLPRegressor(hidden_layer_sizes=(32, 16), max_iter=20,
                                         random_state=SEED), labels.astype(np.float64))}
    for kind, (model, y) in models.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(x, y)
        outputs = (model.predict(x_test)[:, None] if kind == "regressor"
                   else model.predict_proba(x_test))
        routes = {"": None} if kind == "regressor" else {"": None, "-nozipmap": {"zipmap": False}}
        for suffix, options in routes.items():
            name = f"sklearn-{kind}{suffix}"
            path = folder / name / "model.onnx"
            path.parent.mkdir()
            extra = {} if options is None else {"options": options}
            path.write_bytes(to_onnx(model, x[:1], **extra).SerializeToString())
            reference[name] = outputs
    return reference


def build(folder: Path, mnist) -> Path:
    """Write the zoo into `folder` (which must exist and be empty); returns `folder`."""
    train = (mnist.x_train[:TRAIN_IMAGES] / np.float32(255)).astype(np.float32)
    test = (mnist.x_test[:TEST_IMAGES] / np.float32(255)).astype(np.float32)
    labels = mnist.y_train[:TRAIN_IMAGES].astype(np.int64)
    import torch
    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small nets: more threads only spin, on a shared machine
    quiet = logging.getLogger("torch.onnx")  # no notes that torchvision's ops are absent
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")
            reference = _torch_models(folder, train, labels, test)
            reference |= _sklearn_models(folder, train, labels, test)
    finally:
        torch.set_num_threads(threads)
        quiet.setLevel(level)
    np.savez(folder / "reference.npz", **reference)
    return folder


def names() -> list[str]:
    """Every model the zoo holds (its folder names), known without building it."""
    found = []
    for variant in VARIANTS:
        found.append(f"torch-legacy-{variant.name}")
        if variant.name in AT_OPSET_13:
            found.append(f"torch-legacy13-{variant.name}")
        if variant.name in BY_DYNAMO:
            found.append(f"torch-dynamo-{variant.name}")
        if variant.name in BY_DYNAMO_18:
            found.append(f"torch-dynamo18-{variant.name}")
    found += ["sklearn-classifier", "sklearn-classifier-nozipmap", "sklearn-binary",
              "sklearn-binary-nozipmap", "sklearn-regressor"]
    return sorted(found)
