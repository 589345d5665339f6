"""The sanity checks: their measures against hand-computed values, their curves against a
brute-force loop, and their verdicts on nets built so that the answer is known."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlplens import DenseStack, Method, Projection
from mlplens.core.checks.deletion import area, changed_counts, curves, order_of
from mlplens.core.checks.measures import DeletionSet, deletion_set
from mlplens.core.checks.randomization import glorot_uniform, randomizations, randomized
from mlplens.core.checks.similarity import average_ranks, spearman_abs, ssim
from mlplens.core.forward import predict
from mlplens.figures.check_methods import check_methods
from mlplens.figures.verdicts import FLAGGED, PASS, table
from mlplens.methods import METHODS

from .helpers import assert_one_error_line, run_cli

RNG = np.random.default_rng(7)


# ---- the measures ----------------------------------------------------------------------------

def test_spearman_by_hand() -> None:
    # |a| = 3, 1, 2 against 1, 2, 3: rank differences 2, -1, -1, so 1 - 6*6/(3*8) = -0.5
    assert spearman_abs([[-3, 1, 2]], [[1, 2, 3]])[0] == pytest.approx(-0.5)
    assert spearman_abs([[1, -2, 3, 4]], [[10, 20, -30, 40]])[0] == pytest.approx(1.0)
    assert np.isnan(spearman_abs([[2, 2, 2]], [[1, 2, 3]])[0])  # a constant picture


def test_ranks_share_ties() -> None:
    assert average_ranks(np.array([5, 1, 5, 0])).tolist() == [3.5, 2.0, 3.5, 1.0]


def test_spearman_agrees_with_scipy_on_ties() -> None:
    from scipy import stats  # installed with scikit-learn, a dependency: never skipped

    a = RNG.integers(-3, 4, size=(5, 60)).astype(float)
    b = RNG.integers(-3, 4, size=(5, 60)).astype(float)
    expected = [stats.spearmanr(np.abs(x), np.abs(y))[0] for x, y in zip(a, b)]
    np.testing.assert_allclose(spearman_abs(a, b), expected, atol=1e-12)


def _ssim_loop(a: np.ndarray, b: np.ndarray, size: int = 7) -> float:
    """SSIM by its definition, one window at a time."""
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    values = []
    for top in range(a.shape[0] - size + 1):
        for left in range(a.shape[1] - size + 1):
            x = a[top:top + size, left:left + size].ravel()
            y = b[top:top + size, left:left + size].ravel()
            mx, my = x.mean(), y.mean()
            cov = ((x - mx) * (y - my)).mean()
            values.append((2 * mx * my + c1) * (2 * cov + c2)
                          / ((mx ** 2 + my ** 2 + c1) * (x.var() + y.var() + c2)))
    return float(np.mean(values))


def test_ssim_by_hand() -> None:
    a, b = RNG.random((2, 28, 28)), RNG.random((2, 28, 28))
    assert ssim(a, a) == pytest.approx([1.0, 1.0])
    np.testing.assert_allclose(ssim(a, b), [_ssim_loop(x, y) for x, y in zip(a, b)], atol=1e-10)
    # two flat pictures of 0.2 and 0.6: only the luminance term is left
    flat = ssim(np.full((1, 10, 10), 0.2), np.full((1, 10, 10), 0.6))[0]
    assert flat == pytest.approx((2 * 0.12 + 1e-4) / (0.04 + 0.36 + 1e-4))


# ---- randomisation ---------------------------------------------------------------------------

def _random_net(seed: int, hidden: tuple[int, ...] = (16,)) -> DenseStack:
    rng = np.random.default_rng(seed)
    sizes = (784, *hidden, 10)
    return DenseStack.from_arrays([rng.normal(0, 0.1, (n, m)) for n, m in zip(sizes, sizes[1:])],
                                  [rng.normal(0, 0.1, m) for m in sizes[1:]])


def test_randomisation_is_seeded_and_keeps_the_rest() -> None:
    net = _random_net(0, (16, 12))
    once, again, other = randomized(net, [2], 3), randomized(net, [2], 3), randomized(net, [2], 4)
    np.testing.assert_array_equal(once.kernels[1], again.kernels[1])
    assert not np.array_equal(once.kernels[1], other.kernels[1])
    np.testing.assert_array_equal(once.kernels[0], net.kernels[0])
    np.testing.assert_array_equal(once.kernels[2], net.kernels[2])
    assert not once.biases[1].any()
    limit = np.sqrt(6 / (16 + 12))
    assert np.abs(once.kernels[1]).max() <= limit
    # a layer draws the same weights alone and within a cascade
    np.testing.assert_array_equal(randomized(net, [1, 2, 3], 3).kernels[1], once.kernels[1])
    assert glorot_uniform(4, 5, np.random.default_rng(0)).dtype == np.float32


def test_randomisation_steps() -> None:
    steps = randomizations(3)
    assert [s.label for s in steps] == ["layer 3", "layers 2-3", "layers 1-3", "layer 2 alone",
                                        "layer 1 alone"]
    assert [s.layers for s in steps] == [(3,), (2, 3), (1, 2, 3), (2,), (1,)]
    assert [s.label for s in randomizations(1)] == ["layer 1"]


# ---- deletion and insertion ------------------------------------------------------------------

def test_curves_equal_a_brute_force_loop() -> None:
    net = _random_net(1, (6,))
    inputs = RNG.random((3, 784)).astype(np.float32)
    classes = np.array([0, 4, 9])
    orders = np.stack([RNG.permutation(784) for _ in classes])
    found = curves(net, inputs, classes, orders, steps=7)
    for i, (image, label, order) in enumerate(zip(inputs, classes, orders)):
        for step, count in enumerate(changed_counts(784, 7)):
            deleted, inserted = image.copy(), np.zeros_like(image)
            for pixel in order[:count]:
                deleted[pixel] = 0
                inserted[pixel] = image[pixel]
            assert found.deletion[i, step] == pytest.approx(predict(net, deleted[None])[0, label],
                                                            abs=1e-6)
            assert found.insertion[i, step] == pytest.approx(
                predict(net, inserted[None])[0, label], abs=1e-6)
    assert area(np.array([[1.0, 0.0]])) == pytest.approx(0.5)
    assert order_of(np.array([0.1, 3.0, 3.0, -1.0])).tolist() == [1, 2, 0, 3]


# ---- verdicts on nets whose answer is known --------------------------------------------------

def _templates(mnist) -> np.ndarray:
    """Each class's mean test image minus the mean of all: a known picture per class."""
    images = mnist.x_test[:2000].reshape(2000, -1) / 255.0
    labels = mnist.y_test[:2000]
    means = np.stack([images[labels == c].mean(axis=0) for c in range(10)])
    return (means - images.mean(axis=0)).astype(np.float32)


def _planted(mnist) -> DenseStack:
    """784-10 whose class weights are the class templates, scaled so it classifies well."""
    return DenseStack.from_arrays([_templates(mnist).T * 20], None, ["softmax"])


def _bar_net() -> DenseStack:
    """784-4-10: hidden node 0 detects a horizontal bar (rows 12-15) and alone drives class 0."""
    rng = np.random.default_rng(3)
    bar = np.zeros((28, 28), np.float32)
    bar[12:16, 4:24] = 1
    w1 = rng.normal(0, 0.01, (784, 4)).astype(np.float32)
    w1[:, 0] = bar.ravel() - bar.mean()
    w2 = np.zeros((4, 10), np.float32)
    w2[0, 0] = 0.2
    w2[1:, 1:] = rng.normal(0, 0.01, (3, 9))
    return DenseStack.from_arrays([w1, w2], [np.zeros(4), np.zeros(10)], ["relu", "softmax"])


def _bar_images(count: int) -> DeletionSet:
    """Noisy bars, all of class 0, with a random order each and the bar images' mean order."""
    rng = np.random.default_rng(5)
    images = rng.random((count, 28, 28)).astype(np.float32) * 0.3
    images[:, 12:16, 4:24] = 1
    inputs = images.reshape(count, -1)
    return DeletionSet(inputs, np.zeros(count, np.intp),
                       np.stack([rng.permutation(784) for _ in range(count)]),
                       order_of(np.ones(784)))  # a flat mean: pixel order, a second random one


def _blind(stack: DenseStack, *, reference=None) -> Projection:
    """A picture that ignores the weights: the mean reference image, for every node."""
    mean = np.asarray(reference, np.float32).reshape(len(reference), -1).mean(axis=0) / 255
    return Projection("blind", tuple(np.tile(mean, (width, 1)) for width in stack.widths))


BLIND = Method("blind", "ignores the weights", "the mean image", _blind, needs_data=True)


def _rows(stack, mnist, shuffled, deletion, methods):
    offered = {"reference": mnist.x_test[:200], "labels": mnist.y_test[:200]}
    return {row["method"]: row for row in table(check_methods(
        stack, offered, deletion, shuffled, seed=0, methods=methods).checks)}


def test_planted_template_passes_and_a_blind_picture_is_flagged(mnist) -> None:
    planted = _planted(mnist)
    deletion = deletion_set(planted, mnist.x_test[:1000], mnist.y_test[:1000], 5, 10)
    rows = _rows(planted, mnist, _random_net(9, ()), deletion, [METHODS["linear"], BLIND])
    linear, blind = rows["linear"], rows["blind"]
    for check in ("model_randomization", "data_randomization", "deletion", "insertion"):
        assert linear[check]["verdict"] == PASS, (check, linear[check])
    assert linear["deletion"]["auc"] < linear["deletion"]["random"]
    for check in ("model_randomization", "data_randomization", "deletion", "insertion"):
        assert blind[check]["verdict"] == FLAGGED, (check, blind[check])
    assert blind["model_randomization"]["spearman"] == pytest.approx(1.0)


def test_bar_detector_passes(mnist) -> None:
    net = _bar_net()
    rows = _rows(net, mnist, _random_net(2, (4,)), _bar_images(6),
                 [METHODS["linear"], METHODS["seed"]])
    for method in ("linear", "seed"):
        for check in ("model_randomization", "independent_randomization", "data_randomization",
                      "deletion", "insertion"):
            assert rows[method][check]["verdict"] == PASS, (method, check, rows[method][check])


def test_random_nets_pass_randomisation_and_deletion_stays_faithful(mnist) -> None:
    """A random net's pictures are random: randomising it again changes them as much, and the
    linear picture still ranks the pixels that move its (random) output."""
    net = _random_net(11, ())
    deletion = deletion_set(net, mnist.x_test[:1000], mnist.y_test[:1000], 5, 10)
    linear = _rows(net, mnist, _random_net(12, ()), deletion, [METHODS["linear"]])["linear"]
    for check in ("model_randomization", "data_randomization", "deletion"):
        assert linear[check]["verdict"] == PASS, (check, linear[check])


def test_checks_are_reproducible(mnist) -> None:
    net = _bar_net()
    first = _rows(net, mnist, None, _bar_images(3), [METHODS["linear"], METHODS["seed"]])
    assert first == _rows(net, mnist, None, _bar_images(3), [METHODS["linear"],
                                                               METHODS["seed"]])


def test_methods_that_cannot_draw_are_skipped() -> None:
    hidden_softmax = DenseStack.from_arrays([np.ones((784, 3)), np.ones((3, 10))], None,
                                            ["softmax", "softmax"])
    found = check_methods(hidden_softmax, {}, None, methods=[METHODS["gradient"], BLIND,
                                                             METHODS["linear"]])
    assert set(found.skipped) == {"gradient", "blind"}
    assert [c.method for c in found.checks] == ["linear"]


# ---- the command -----------------------------------------------------------------------------

@pytest.mark.slow
def test_check_command_writes_the_table(tmp_path) -> None:
    net = _random_net(4, (16,))
    model = tmp_path / "net.npz"
    np.savez(model, W1=net.kernels[0], b1=net.biases[0], W2=net.kernels[1], b2=net.biases[1])
    out = tmp_path / "checks"
    result = run_cli("check", str(model), "--out", str(out), "--activations", "relu,softmax",
                     "--reference", "50", "--images-per-class", "2", "--maximize-steps", "5",
                     "--shuffled-images", "300", "--shuffled-epochs", "1")
    assert result.returncode == 0, result.stderr
    document = json.loads((out / "checks.json").read_text())
    assert [row["method"] for row in document["rows"]] == list(METHODS)
    for row in document["rows"]:
        for check in ("model_randomization", "data_randomization", "deletion", "insertion"):
            assert row[check]["verdict"] in (PASS, FLAGGED)
    for name in ("checks.md", "randomization-curves.png", "deletion-insertion.png",
                 "data-randomization.png", "randomization-linear.png"):
        assert (out / name).is_file(), name
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_check_refuses_a_model_that_is_not_mnist_without_data(tmp_path) -> None:
    model = tmp_path / "small.npz"
    np.savez(model, W1=np.ones((16, 3), np.float32), b1=np.zeros(3, np.float32))
    result = run_cli("check", str(model), "--out", str(tmp_path / "out"))
    assert_one_error_line(result, "mlplens: error: small.npz takes 4x4 grey images, not MNIST's "
                                  "28x28 digits: pass --data with images it takes")
    assert not (tmp_path / "out").exists()


def test_check_refuses_images_smaller_than_the_ssim_window(tmp_path):
    rng = np.random.default_rng(0)
    model, data = tmp_path / "small.npz", tmp_path / "data.npz"
    np.savez(model, W1=rng.normal(size=(16, 4)).astype(np.float32),
             W2=rng.normal(size=(4, 3)).astype(np.float32))
    np.savez(data, x=rng.integers(0, 256, size=(60, 4, 4)).astype(np.uint8),
             y=np.arange(60) % 3)
    assert_one_error_line(
        run_cli("check", str(model), "--data", str(data), "--pixel-scale", "0-1", "--out",
                str(tmp_path / "c")),
        "small.npz: the checks compare pictures with a 7x7 SSIM window; this model's 4x4 "
        "images are smaller")
    assert not (tmp_path / "c").exists()
