"""The explorer of models that are not MNIST's, in Debian's Chromium: an 8x8 net trained on
scikit-learn's digits (with class names of its own, so a page showing numbers fails) and a tiny
hand-made colour net. No drawing pad: the data's own test images to click, and pictures loaded
as they are, in colour for a colour model; every prediction equals NumPy's."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from mlplens import DenseStack
from mlplens.core.forward import as_inputs, predict
from mlplens.core.pixel_scale import PixelScale
from mlplens.datasets import Dataset, load_dataset
from mlplens.report import write_explorer

from .mnist_like_reference import as_is


# Trains a real network: `make test`, not `make check`.
pytestmark = pytest.mark.slow

PROBABILITY_TOLERANCE = 1e-5  # the page computes in float64 from float32 weights
NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


@pytest.fixture(scope="module")
def digits():
    """scikit-learn's 8x8 digits (float brightness k/16) under names of their own."""
    return dataclasses.replace(load_dataset("sklearn-digits"), class_names=NAMES)


@pytest.fixture(scope="module")
def net(digits):
    from mlplens.training import train

    return train((32,), train_samples=len(digits.x_train), epochs=8, batch_size=32,
                 data=digits, verbose=0).stack


class Page:
    """A page opened from file://; console errors and page errors fail the test."""

    def __init__(self, browser, path):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", lambda message: message.type in ("error", "warning")
                     and self.problems.append(f"{message.type}: {message.text}"))
        self.page.on("pageerror", lambda error: self.problems.append(f"pageerror: {error}"))
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_function("window.mlplens && window.mlplens.ready")

    def js(self, expression: str, argument=None):
        return self.page.evaluate(expression, argument)

    def canvas(self, selector: str) -> np.ndarray:
        """A canvas's RGBA pixels, (height, width, 4): read from a copy, so that the page's
        canvases are never read back (Chromium warns when one is read often)."""
        found = self.js("""(selector) => {
            const canvas = document.querySelector(selector), copy = document.createElement('canvas');
            [copy.width, copy.height] = [canvas.width, canvas.height];
            const context = copy.getContext('2d', {willReadFrequently: true});
            context.drawImage(canvas, 0, 0);
            const data = context.getImageData(0, 0, canvas.width, canvas.height);
            return [canvas.height, canvas.width, Array.from(data.data)];
        }""", selector)
        return np.array(found[2], np.uint8).reshape(found[0], found[1], 4)

    def close(self) -> None:
        self.context.close()
        assert self.problems == []


@pytest.fixture(scope="module")
def digits_page(net, digits, tmp_path_factory):
    path = tmp_path_factory.mktemp("digits") / "explorer.html"
    write_explorer(path, net, digits, model_name="digits-8x8")
    return path


@pytest.fixture
def page(browser, digits_page):
    opened = Page(browser, digits_page)
    yield opened
    opened.close()


def _probabilities(page: Page) -> np.ndarray:
    return np.array(page.js("() => window.mlplens.probabilities()"))


def test_an_8x8_model_shows_its_own_test_images_and_class_names_not_the_pad(page, digits):
    assert not page.page.locator("#pad").is_visible()
    assert not page.page.locator("#image-mode").is_visible()  # always "as it is"
    assert page.page.locator("#draw-title").text_content() == "Pick or load an image"
    references = page.page.locator(".reference")
    assert references.count() == 300 <= len(digits.x_test)
    assert references.nth(7).get_attribute("aria-label") == \
        f"test image #7, labelled {NAMES[digits.y_test[7]]}"
    assert page.page.locator(".bar .digit").all_text_contents() == list(NAMES)
    # Each thumbnail is its image's grey levels, one pixel per pixel.
    for index in (0, 7, 299):
        drawn = page.canvas(f".reference[data-index='{index}'] canvas")
        grey = np.floor(digits.x_test[index].astype(np.float32) * 255 + 0.5).astype(np.uint8)
        np.testing.assert_array_equal(drawn[:, :, :3], np.repeat(grey[:, :, None], 3, axis=2))
        assert (drawn[:, :, 3] == 255).all()
    assert "MNIST" not in page.page.locator("footer").inner_text()


def test_clicking_a_test_image_gives_numpys_prediction_and_names_it(page, net, digits):
    count = 60
    expected = predict(net, as_inputs(net, digits.x_test[:count]))
    got, verdicts = [], []
    for index in range(count):
        page.page.locator(f".reference[data-index='{index}']").click()
        got.append(_probabilities(page))
        verdicts.append(page.page.locator("#verdict").text_content())
    got = np.array(got)
    np.testing.assert_allclose(got, expected, atol=PROBABILITY_TOLERANCE, rtol=0)
    np.testing.assert_array_equal(got.argmax(axis=1), expected.argmax(axis=1))
    assert (expected.argmax(axis=1) == digits.y_test[:count]).mean() > 0.8  # a trained net
    for verdict, p in zip(verdicts, expected):
        assert verdict == f"It says {NAMES[p.argmax()]} ({100 * p.max():.1f}%)."
    assert page.page.locator(".bar.top .digit").text_content() == NAMES[expected[-1].argmax()]
    assert page.page.locator(".reference.shown").get_attribute("data-index") == str(count - 1)
    title = page.page.locator("#node-title").text_content()
    assert title == f"Output node {expected[-1].argmax()} (class {NAMES[expected[-1].argmax()]})"
    assert page.page.locator("#input-note").text_content() == (
        f"What the network sees (8×8): test image #{count - 1}, labelled "
        f"{NAMES[digits.y_test[count - 1]]}.")


def _probabilities_of_test_images(browser, path, count: int) -> np.ndarray:
    """The page's probabilities for its first `count` test images, each clicked in turn."""
    opened = Page(browser, path)
    got = np.array(opened.js(f"""() => Array.from({{length: {count}}}, (_, i) => {{
        window.mlplens.loadTestDigit(i);
        return window.mlplens.probabilities();
    }})"""))
    opened.close()
    return got


def test_the_pages_forward_pass_takes_the_models_pixel_scale(browser, net, digits, tmp_path):
    scaled = net.with_input(pixel_scale=PixelScale(mean=0.3, std=0.4))
    path = tmp_path / "scaled.html"
    write_explorer(path, scaled, digits)
    got = _probabilities_of_test_images(browser, path, 50)
    expected = predict(scaled, as_inputs(scaled, digits.x_test[:50]))
    np.testing.assert_allclose(got, expected, atol=PROBABILITY_TOLERANCE, rtol=0)
    unscaled = predict(net, as_inputs(net, digits.x_test[:50]))
    assert np.abs(got - unscaled).max() > 0.1  # the scale matters: a page ignoring it fails


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 300 steps: enough
def test_a_scikit_learn_mlp_on_0_16_pixels_reads_its_digits_as_scikit_learn_does(
        browser, digits, tmp_path):
    from sklearn.neural_network import MLPClassifier

    from mlplens import stack_from

    pixels16 = digits.x_train.reshape(len(digits.x_train), -1) * 16  # scikit-learn's own 0-16
    model = MLPClassifier((24,), max_iter=300, random_state=0).fit(pixels16, digits.y_train)
    stack = stack_from(model, (8, 8)).with_input(pixel_scale=PixelScale(high=16))
    path = tmp_path / "mlp.html"
    write_explorer(path, stack, digits, model_name="mlp")
    got = _probabilities_of_test_images(browser, path, 50)
    x16 = digits.x_test[:50].reshape(50, -1) * 16
    np.testing.assert_allclose(got, predict(stack, as_inputs(stack, digits.x_test[:50])),
                               atol=PROBABILITY_TOLERANCE, rtol=0)
    np.testing.assert_allclose(got, model.predict_proba(x16), atol=1e-4, rtol=0)
    np.testing.assert_array_equal(got.argmax(axis=1), model.predict(x16))


def test_a_loaded_picture_is_resized_as_it_is_and_predicted_as_numpy_does(page, net, tmp_path):
    rows, columns = np.mgrid[0:30, 0:22]
    picture = np.zeros((30, 22, 3), np.uint8)
    picture[..., 0] = 255 * ((columns - 11) ** 2 + (rows - 15) ** 2 < 70)  # a red ring-ish zero
    picture[..., 1] = 7 * columns
    picture[..., 2] = 255 * ((columns - 11) ** 2 + (rows - 15) ** 2 < 30)
    path = tmp_path / "mine.png"
    Image.fromarray(picture).save(path)
    since = page.js("() => Number(document.body.dataset.frame)")
    page.page.set_input_files("#image-file", path)
    page.page.wait_for_function("(since) => Number(document.body.dataset.frame) > since",
                                arg=since)
    expected = as_is(np.asarray(Image.open(path).convert("L"), np.float64) / 255, (8, 8))
    np.testing.assert_array_equal(np.array(page.js("() => window.mlplens.input()")),
                                  expected.ravel())
    np.testing.assert_allclose(_probabilities(page), predict(net, as_inputs(net, expected[None]))[0],
                               atol=PROBABILITY_TOLERANCE, rtol=0)
    assert page.page.locator("#input-note").text_content() == \
        "What the network sees (8×8): mine.png as it is, area-averaged to 8×8."
    assert page.page.locator(".reference.shown").count() == 0


# ---- colour -------------------------------------------------------------------------------------

RED, BLUE, GREEN = (230, 20, 10), (5, 30, 240), (20, 200, 40)


def _colour_case() -> tuple[DenseStack, Dataset, dict]:
    """A 4x4x3 net by hand: hidden node 0 sums the red channel, node 1 the blue; output "red"
    and "blue" copy them. Its test images are flat red, blue and green, and one half red, half
    blue (top rows red)."""
    kernel = np.zeros((48, 2), np.float32)
    kernel[0::3, 0] = 1  # inputs interleave (H, W, C): every third is red
    kernel[2::3, 1] = 1
    stack = DenseStack.from_arrays([kernel, np.eye(2, dtype=np.float32)],
                                   activations=["relu", "softmax"], image_shape=(4, 4),
                                   channels=3)
    images = np.array([np.broadcast_to(np.array(c, np.uint8), (4, 4, 3))
                       for c in (RED, BLUE, GREEN, RED)])
    images[3, 2:] = BLUE
    data = Dataset("colours", images, np.array([0, 1, 0, 0]), images, np.array([0, 1, 0, 0]),
                   ("red", "blue"))
    # Layer 1's pictures in colour as the colour views make them, (nodes, H, W, 3): node 0
    # all red, node 1 blue at the left, black at the right.
    pictures = np.zeros((2, 4, 4, 3), np.uint8)
    pictures[0] = RED
    pictures[1, :, :2] = BLUE
    view = SimpleNamespace(images=pictures, legend=("min", "", "max"), normalization="minmax")
    return stack, data, {"linear": [view, None]}


def test_a_colour_models_test_images_input_and_node_pictures_are_drawn_in_colour(
        browser, tmp_path):
    stack, data, views = _colour_case()
    path = tmp_path / "colour.html"
    write_explorer(path, stack, data, views=views)
    page = Page(browser, path)
    try:
        assert not page.page.locator("#pad").is_visible()
        assert page.page.locator(".bar .digit").all_text_contents() == ["red", "blue"]
        for index, image in enumerate(data.x_test):
            drawn = page.canvas(f".reference[data-index='{index}'] canvas")
            np.testing.assert_array_equal(drawn[:, :, :3], image)
        assert tuple(page.canvas(".reference[data-index='3'] canvas")[0, 0, :3]) == RED
        assert tuple(page.canvas(".reference[data-index='3'] canvas")[3, 3, :3]) == BLUE
        expected = predict(stack, as_inputs(stack, data.x_test))
        for index in range(4):
            page.page.locator(f".reference[data-index='{index}']").click()
            np.testing.assert_allclose(_probabilities(page), expected[index],
                                       atol=PROBABILITY_TOLERANCE, rtol=0)
            np.testing.assert_array_equal(page.canvas("#input-view")[:, :, :3],
                                          data.x_test[index])
        # Half red (230 red, 10 blue), half blue (5 red, 240 blue): more blue than red.
        assert page.page.locator("#verdict").text_content() == \
            f"It says blue ({100 * expected[3].max():.1f}%)."
        assert page.page.locator("#input-note").text_content().startswith(
            "What the network sees (4×4×3): test image #3, labelled red")
        page.js("() => window.mlplens.select(0, 1)")
        picture = page.canvas('.picture[data-method="linear"] canvas')
        assert tuple(picture[0, 0, :3]) == BLUE and tuple(picture[0, 3, :3]) == (0, 0, 0)
        page.js("() => window.mlplens.select(0, 0)")
        assert (page.canvas('.picture[data-method="linear"] canvas')[:, :, :3] == RED).all()
    finally:
        page.close()
