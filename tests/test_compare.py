"""Two nets side by side: linear CKA against its Gram-matrix definition and its invariances, the
Hungarian assignment against brute force and scipy, a net against a copy with its hidden nodes
permuted, two nets trained from different seeds on real MNIST, and `mlplens compare`'s files
and refusals."""

from __future__ import annotations

import contextlib
import io
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.optimize import linear_sum_assignment  # with scikit-learn, a dependency

import mlplens
from mlplens import DenseStack, MlplensError, load_stack, save_stack
from mlplens.cli import main
from mlplens.core.assignment import assignment
from mlplens.core.compare import compare_bytes, hidden_values, linear_cka
from mlplens.core.forward import as_inputs, layer_output, pre_activations
from mlplens.core.stack import LayerNorm


def _hsic_cka(x: np.ndarray, y: np.ndarray) -> float:
    """CKA by its definition: HSIC of the centred Gram matrices K = XX^T and L = YY^T."""
    n = len(x)
    centre = np.eye(n) - np.ones((n, n)) / n
    k, ell = centre @ (x @ x.T) @ centre, centre @ (y @ y.T) @ centre

    def hsic(p: np.ndarray, q: np.ndarray) -> float:
        return float(np.sum(p * q)) / (n - 1) ** 2

    return hsic(k, ell) / np.sqrt(hsic(k, k) * hsic(ell, ell))


def _activations(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two related layers of ReLU activations, 300 images: 40 and 25 nodes."""
    rng = np.random.default_rng(seed)
    x = np.maximum(rng.normal(size=(300, 40)) + 0.5, 0)
    y = np.maximum(x[:, :25] @ rng.normal(size=(25, 25)) + rng.normal(size=(300, 25)), 0)
    return x, y


def test_cka_is_the_gram_form_of_hsic():
    x, y = _activations()
    assert linear_cka(x, y) == pytest.approx(_hsic_cka(x, y), rel=1e-12)
    assert linear_cka(x, y) == pytest.approx(0.4679502797, abs=1e-9)
    assert linear_cka(x, x) == pytest.approx(1.0, abs=1e-14)
    # Independent layers share almost nothing.
    rng = np.random.default_rng(7)
    assert linear_cka(rng.normal(size=(2000, 5)), rng.normal(size=(2000, 5))) < 0.01


def test_cka_ignores_rotation_scale_and_offset_but_not_stretching():
    x, y = _activations()
    base = linear_cka(x, y)
    rotation, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(25, 25)))
    assert linear_cka(x, y @ rotation) == pytest.approx(base, rel=1e-12)
    assert linear_cka(x @ np.linalg.qr(np.random.default_rng(2).normal(size=(40, 40)))[0],
                      y) == pytest.approx(base, rel=1e-12)
    assert linear_cka(x, 37.5 * y) == pytest.approx(base, rel=1e-12)
    assert linear_cka(1e-3 * x, y + 1e4) == pytest.approx(base, rel=1e-9)
    stretched = y * np.linspace(0.1, 10, 25)  # a scaling that is not isotropic changes it
    assert abs(linear_cka(x, stretched) - base) > 0.05


def _brute_force(cost: np.ndarray) -> float:
    rows, columns = cost.shape
    if rows <= columns:
        return min(sum(cost[r, c] for r, c in enumerate(pick))
                   for pick in itertools.permutations(range(columns), rows))
    return _brute_force(cost.T)


def test_assignment_is_the_cheapest_against_brute_force_and_scipy():
    rng = np.random.default_rng(3)
    for rows, columns in [(1, 1), (1, 4), (4, 1), (3, 3), (5, 5), (4, 6), (6, 4), (6, 6)]:
        for _ in range(5):
            cost = rng.normal(size=(rows, columns))
            found_rows, found_columns = assignment(cost)
            assert len(found_rows) == min(rows, columns)
            assert len(set(found_columns.tolist())) == len(found_columns)
            assert cost[found_rows, found_columns].sum() == pytest.approx(_brute_force(cost),
                                                                          abs=1e-12)
    for rows, columns in [(40, 40), (30, 70), (70, 30), (128, 128)]:
        cost = rng.normal(size=(rows, columns))
        expected_rows, expected_columns = linear_sum_assignment(cost)
        found_rows, found_columns = assignment(cost)
        np.testing.assert_array_equal(found_rows, expected_rows)
        np.testing.assert_array_equal(found_columns, expected_columns)
    integer_ties = rng.integers(0, 3, size=(12, 12)).astype(float)
    expected = integer_ties[linear_sum_assignment(integer_ties)].sum()
    assert integer_ties[assignment(integer_ties)].sum() == expected
    with pytest.raises(ValueError, match="finite costs"):
        assignment(np.array([[0.0, np.inf]]))


def _random_net(seed: int, hidden: tuple[int, ...]) -> DenseStack:
    rng = np.random.default_rng(seed)
    widths = (16, *hidden, 3)
    return DenseStack.from_arrays(
        [rng.normal(size=(i, o)).astype(np.float32) / np.sqrt(i)
         for i, o in zip(widths, widths[1:])],
        [rng.normal(size=o).astype(np.float32) * 0.1 for o in widths[1:]],
        ["relu"] * len(hidden) + ["softmax"], image_shape=(4, 4))


def test_streamed_comparison_equals_the_whole_matrices():
    a, b = _random_net(0, (12, 7)), _random_net(1, (9,))
    images = np.random.default_rng(5).random((257, 4, 4)).astype(np.float32)
    found = mlplens.compare(a, b, images, batch_size=10)
    values_a, values_b = hidden_values(a, images), hidden_values(b, images)
    assert found.cka.shape == (2, 1) and found.images == 257
    assert found.cka[0, 0] == pytest.approx(linear_cka(values_a[:, :12], values_b), rel=1e-10)
    assert found.cka[1, 0] == pytest.approx(linear_cka(values_a[:, 12:], values_b), rel=1e-10)
    live_a, live_b = values_a.std(axis=0) > 0, values_b.std(axis=0) > 0
    np.testing.assert_array_equal(found.live_a, live_a)
    expected = np.corrcoef(values_a[:, live_a], values_b[:, live_b], rowvar=False)
    np.testing.assert_allclose(found.correlation[np.ix_(live_a, live_b)],
                               expected[:live_a.sum(), live_a.sum():], atol=1e-10)
    assert np.all(found.correlation[~live_a] == 0)
    # Layer 2 of A (7 nodes) against the 9 of B: every node of A matched, 2 of B left over.
    second = found.matches[1]
    assert second.other == 1 and len(second.nodes) == 7
    assert len(set(second.nodes[second.nodes >= 0].tolist())) == (second.nodes >= 0).sum()
    # A's wider first layer: only as many of its varying nodes matched as B's layer has.
    first = found.matches[0]
    assert (first.nodes >= 0).sum() == min(live_a[:12].sum(), live_b.sum())
    assert np.all(first.nodes[~live_a[:12]] == -1)


def _normed_net(side: int = 4) -> DenseStack:
    """A net of side x side inputs whose first hidden layer has a LayerNorm before its GELU."""
    rng = np.random.default_rng(4)
    norm = LayerNorm(rng.normal(size=12).astype(np.float32), rng.normal(size=12).astype(np.float32))
    return DenseStack.from_arrays(
        [rng.normal(size=(side * side, 12)).astype(np.float32),
         rng.normal(size=(12, 5)).astype(np.float32), rng.normal(size=(5, 3)).astype(np.float32)],
        activations=["gelu", "relu", "softmax"], image_shape=(side, side), norms=[norm, None, None])


def test_hidden_values_are_each_layers_output_layernorm_included():
    stack = _normed_net()
    images = np.random.default_rng(6).random((9, 4, 4)).astype(np.float32)
    pre = pre_activations(stack, as_inputs(stack, images))
    expected = np.concatenate([layer_output(layer, z) for layer, z in
                               zip(stack.layers[:-1], pre)], axis=1)
    np.testing.assert_allclose(hidden_values(stack, images), expected, rtol=1e-6)
    assert not np.allclose(expected[:, :12], np.maximum(pre[0], 0))  # the norm matters


def test_refusals_and_memory_estimate(monkeypatch):
    a, b = _random_net(0, (12,)), _random_net(1, (9,))
    with pytest.raises(MlplensError, match=r"^A and B take different inputs \(4x4 images and "
                                           r"2x8 images\): only nets that take the same inputs "
                                           r"can be compared$"):
        mlplens.compare(a, b.with_input(image_shape=(2, 8)), np.zeros((3, 4, 4)))
    single = DenseStack.from_arrays([np.ones((16, 3), np.float32)], image_shape=(4, 4),
                                    activations=["softmax"])
    with pytest.raises(MlplensError, match="^B has no hidden layer to compare$"):
        mlplens.compare(a, single, np.zeros((3, 4, 4)))
    # 8 bytes per value of A x B four times, each layer with itself, three cost matrices; a
    # batch of 1,024 images through both nets.
    assert compare_bytes(a, b) == 8 * (4 * 12 * 9 + 144 + 81 + 3 * 12 * 9) + \
        1024 * (8 * (16 + 15 + 12) + 8 * 21)
    monkeypatch.setenv("MLPLENS_MEMORY_LIMIT", "1")
    with pytest.raises(MlplensError, match=r"^comparing 16-12-3 \(relu, softmax\) with 16-9-3 "
                                           r"\(relu, softmax\) needs about 532 KB of memory but "
                                           r"0 bytes is available under "
                                           r"MLPLENS_MEMORY_LIMIT=1$"):
        mlplens.compare(a, b, np.zeros((3, 4, 4)))


def run_main(*args: str) -> tuple[int, str, str]:
    """The command line in this process: exit code, stdout, stderr."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(list(args))
    return code, stdout.getvalue(), stderr.getvalue()


@pytest.fixture(scope="module")
def seeds(mnist, tmp_path_factory) -> tuple[Path, Path]:
    """784-256-128-10 trained from seeds 0 and 1 on the first 5,000 real training images, 2
    epochs each: the smallest of the tests' nets whose two hidden layers already differ (at
    784-64-32-10, one seed's layer 2 is still closer to the other's layer 1)."""
    from mlplens.training import train

    folder = tmp_path_factory.mktemp("seeds")
    return tuple(train((256, 128), train_samples=5000, epochs=2, seed=seed, data=mnist,
                       verbose=0).save(folder / f"seed-{seed}")[0] for seed in (0, 1))


@pytest.mark.slow  # trains nets
def test_a_permuted_copy_is_the_same_net_and_its_permutation_is_found(seeds, mnist):
    stack = load_stack(seeds[0])
    rng = np.random.default_rng(11)
    first, second = rng.permutation(256), rng.permutation(128)
    kernels, biases = stack.kernels, stack.biases
    permuted = DenseStack.from_arrays(
        [kernels[0][:, first], kernels[1][first][:, second], kernels[2][second]],
        [biases[0][first], biases[1][second], biases[2]], ["relu", "relu", "softmax"])
    found = mlplens.compare(stack, permuted, mnist.x_test[:2000])
    np.testing.assert_allclose(np.diag(found.cka), [1.0, 1.0], atol=1e-6)
    for match, order in zip(found.matches, (first, second)):
        assert match.other == match.layer
        live = found.live("a", match.layer)
        expected = np.where(live, np.argsort(order), -1)  # B's node j is A's node order[j]
        np.testing.assert_array_equal(match.nodes, expected)
        np.testing.assert_allclose(match.correlations[live], 1.0, atol=1e-6)
        # A node constant on the images is constant in the copy too, and matched to nothing.
        np.testing.assert_array_equal(np.sort(np.argsort(order)[~live]),
                                      np.flatnonzero(~found.live("b", match.layer)))


@pytest.mark.slow  # trains nets
def test_nets_from_different_seeds_are_most_alike_layer_for_layer(seeds, mnist):
    found = mlplens.compare(*(load_stack(path) for path in seeds), mnist.x_test[:2000])
    cka = found.cka
    assert cka.shape == (2, 2)
    for k in range(2):  # each diagonal value is the largest of its row and of its column
        assert cka[k, k] > cka[k, 1 - k] and cka[k, k] > cka[1 - k, k], cka
    assert [m.other for m in found.matches] == [1, 2]
    # Different seeds: nodes match by what they do, not by their number.
    first = found.matches[0]
    assert np.nanmedian(first.correlations) > 0.5
    assert np.sum(first.nodes == np.arange(256)) < 10


@pytest.mark.slow  # trains nets
def test_compare_writes_its_json_and_figures(seeds, tmp_path):
    out = tmp_path / "out"
    code, stdout, stderr = run_main("compare", *map(str, seeds), "--out", str(out),
                                    "--images", "1500")
    assert code == 0, stderr
    found = json.loads((out / "compare.json").read_text())
    alone = [f"only-{net}-{k}.png" for net in "ab" for k in "12" if found["alone"][net][k]]
    names = ["compare.json", "cka.png", "matched-1.png", "matched-2.png", *alone, "output.png"]
    assert stdout.splitlines() == [str(out / name) for name in names]
    assert sorted(path.name for path in out.iterdir()) == sorted([*names, ".mlplens-manifest.json"])
    assert list(found) == ["a", "b", "method", "images", "cka", "matched_layer", "matches",
                           "correlations", "alone_below", "alone", "constant", "outputs"]
    described = "784-256-128-10 (relu, relu, softmax)"
    assert found["a"] == {"name": str(seeds[0]), "model": described,
                          "accuracy": found["a"]["accuracy"]}
    assert found["b"]["name"] == str(seeds[1]) and found["b"]["model"] == described
    assert 0.8 < found["a"]["accuracy"] < 1
    assert found["images"] == 1500 and found["method"] == "linear"
    assert np.array(found["cka"]).shape == (2, 2)
    assert found["matched_layer"] == {"1": 1, "2": 2}
    assert [len(found["matches"][k]) for k in "12"] == [256, 128]
    for k, width in (("1", 256), ("2", 128)):
        nodes = [node for node in found["matches"][k] if node is not None]
        assert len(set(nodes)) == len(nodes) and all(0 <= node < width for node in nodes)
        for node, value in zip(found["matches"][k], found["correlations"][k]):
            assert (node is None) == (value is None)
            assert value is None or -1 <= value <= 1
        # Constant nodes are matched to nothing; every other node while B has nodes left.
        constant_a, constant_b = found["constant"]["a"][k], found["constant"]["b"][k]
        assert all(found["matches"][k][node] is None for node in constant_a)
        assert len(nodes) == min(width - len(constant_a), width - len(constant_b))
    assert found["alone_below"] == 0.5
    assert list(found["alone"]) == list(found["constant"]) == ["a", "b"]
    assert [entry["class"] for entry in found["outputs"]] == [str(k) for k in range(10)]
    assert all(list(entry) == ["class", "spearman", "ssim"] for entry in found["outputs"])
    with Image.open(out / "cka.png") as heatmap:
        assert heatmap.size == (520, 380)


def _saved(tmp_path: Path, name: str, inputs: int, shape: tuple[int, int]) -> Path:
    rng = np.random.default_rng(inputs)
    stack = DenseStack.from_arrays([rng.normal(size=(inputs, 6)).astype(np.float32),
                                    rng.normal(size=(6, 10)).astype(np.float32)],
                                   image_shape=shape)
    return save_stack(stack, tmp_path / name)


def test_compare_refuses_in_one_line(tmp_path):
    mnist_net = _saved(tmp_path, "net.npz", 784, (28, 28))
    other = _saved(tmp_path, "digits.npz", 64, (8, 8))
    out = tmp_path / "out"
    for args, message in [
        ((mnist_net, other), "mlplens: error: net.npz and digits.npz take different inputs "
                             "(28x28 images and 8x8 images): only nets that take the same "
                             "inputs can be compared"),
        ((mnist_net, mnist_net, "--data", "sklearn-digits"),
         "mlplens: error: scikit-learn digits: the data has 8x8 inputs but net.npz takes 28x28"),
        ((mnist_net, mnist_net, "--alone-below", "2"),
         "mlplens: error: argument --alone-below: expected a correlation above -1 and at most "
         "1, got 2 (see 'mlplens compare --help')"),
        ((mnist_net, mnist_net, "--images", "20000"),
         "mlplens: error: --images must be at most 10000 (the test images of MNIST), got 20000"),
    ]:
        code, stdout, stderr = run_main("compare", *map(str, args), "--out", str(out))
        assert (code, stdout, stderr) == (2, "", message + "\n")
        assert not out.exists()
    page = tmp_path / "two.html"
    normed = save_stack(_normed_net(28), tmp_path / "normed.npz")
    for args, message in [
        ((mnist_net, other), "mlplens: error: digits.npz does not take 28x28 grey images: "
                             "'explore A B' draws one digit on the pad for both nets"),
        ((mnist_net, normed), "mlplens: error: normed.npz: layer 1 (layernorm+gelu) is not one "
                              "the two-net page computes (Dense layers with linear, relu, "
                              "sigmoid, tanh, softmax, no LayerNorm)"),
        ((mnist_net, mnist_net, "--snapshots", "snapshots.npz"),
         "mlplens: error: --snapshots is for one net's explorer, not for 'explore A B'"),
    ]:
        code, stdout, stderr = run_main("explore", *map(str, args), "-o", str(page))
        assert (code, stdout, stderr) == (2, "", message + "\n")
        assert not page.exists()


@pytest.mark.slow  # trains nets and starts a browser
def test_explore_two_nets_draws_once_for_both(seeds, mnist, browser, tmp_path):
    from mlplens.core.forward import predict

    path = tmp_path / "twin.html"
    code, stdout, stderr = run_main("explore", *map(str, seeds), "-o", str(path))
    assert (code, stdout) == (0, f"{path}\n"), stderr
    stacks = [load_stack(seed) for seed in seeds]
    found = mlplens.compare(*stacks, mnist.x_test[:2000])  # what the page matches on
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri())
    page.wait_for_function("window.mlplens && window.mlplens.ready")

    def check_both_nets() -> np.ndarray:
        """Both nets' outputs are NumPy's for the page's input; the pairs shown are A's 12 most
        active nodes of each layer with the nodes of B matched to them."""
        pixels = np.array(page.evaluate("window.mlplens.input()"), np.uint8).reshape(1, 28, 28)
        shown = page.evaluate("window.mlplens.probabilities()")
        activations = page.evaluate("window.mlplens.activations()")
        for k, stack in enumerate(stacks):
            np.testing.assert_allclose(shown[k], predict(stack, as_inputs(stack, pixels))[0],
                                       atol=1e-5)
        hidden = hidden_values(stacks[0], pixels)[0]  # layer 1's 256 nodes, then layer 2's
        for match, pairs in zip(found.matches, page.evaluate("window.mlplens.pairs()")):
            values = np.array(activations[0][match.layer - 1])
            start = 0 if match.layer == 1 else 256
            np.testing.assert_allclose(values, hidden[start:start + len(values)], atol=1e-4)
            top = np.lexsort((np.arange(len(values)), -values))[:12]
            assert pairs == [[int(node), int(match.nodes[node])] for node in top]
        return pixels

    np.testing.assert_array_equal(check_both_nets()[0], mnist.x_test[0])
    box = page.locator("#pad").bounding_box()
    page.mouse.move(box["x"] + 60, box["y"] + 200)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(box["x"] + 60 + 16 * step, box["y"] + 200 - 4 * step)
    page.mouse.up()
    drawn = check_both_nets()
    assert not np.array_equal(drawn[0], mnist.x_test[0])
    assert "A reads" in page.locator("#verdict").inner_text()
    page.locator(".cell.a").first.hover()
    linked = page.locator(".cell.linked")
    assert linked.count() == 2
    first = page.evaluate("window.mlplens.pairs()")[0][0]
    assert [linked.nth(k).get_attribute("data-node") for k in range(2)] == list(map(str, first))
    assert errors == []
