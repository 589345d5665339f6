"""The explorer in a real browser: Debian's Chromium driven by Playwright, from file://.

One small net trained on real MNIST (with training snapshots) and its page, written by the
`mlplens explore` command; one browser for the whole module. These tests never skip: without
/usr/bin/chromium they fail and say how to install it.
"""

from __future__ import annotations

import base64
import json
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mlplens import DenseStack, layer_views, load_stack
from mlplens.core.circuits.circuit import attribute, prune
from mlplens.core.circuits.contributions import contributions
from mlplens.core.circuits.intervene import intervene
from mlplens.core.forward import brightness, predict
from mlplens.digit_image import read_digit
from mlplens.methods import METHODS
from mlplens.report import write_explorer
from mlplens.report.explorer import DIGITS, REFERENCE, all_views
from mlplens.snapshots import load_snapshots, spread_frames

from .helpers import (
    assert_one_error_line,
    paper_photo,
    run_cli,
    save_16_bit_png,
    save_turned_jpeg,
)
from .mnist_like_reference import as_is, mean_stroke_width, strokes_like

# Trains real networks or runs the command line in new interpreters: `make test`, not
# `make check`.
pytestmark = pytest.mark.slow

# The page computes in float64 from the model's float32 weights; NumPy in float32 BLAS.
PROBABILITY_TOLERANCE = 1e-5
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def run(small_run, tmp_path_factory):
    """The shared small net (784-64-32-10, with snapshots) and its explorer page."""
    folder = small_run
    page = tmp_path_factory.mktemp("explorer") / "explorer.html"
    result = run_cli("explore", str(folder / "model.keras"), "-o", str(page))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str(page)]
    return {"folder": folder, "page": page, "stack": load_stack(folder / "model.keras"),
            "snapshots": load_snapshots(folder)}


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("screenshots")
    print(f"\nexplorer screenshots: {folder}")
    return folder


class Page:
    """A page opened from file://, with every request, console message and dialog recorded."""

    def __init__(self, browser, path: Path, viewport=None, **options):
        self.context = browser.new_context(viewport=viewport or {"width": 1280, "height": 800},
                                           **options)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.problems: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda message: message.type in ("error", "warning")
                     and self.problems.append(f"{message.type}: {message.text}"))
        self.page.on("pageerror", lambda error: self.problems.append(f"pageerror: {error}"))
        self.page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message),
                                               dialog.dismiss()))
        self.url = path.resolve().as_uri()
        self.page.goto(self.url)
        self.page.wait_for_function("window.mlplens && window.mlplens.ready")

    def js(self, expression: str, argument=None):
        return self.page.evaluate(expression, argument)

    def close(self) -> None:
        self.context.close()
        assert self.problems == []
        assert self.dialogs == []


@pytest.fixture
def page(browser, run):
    opened = Page(browser, run["page"])
    yield opened
    opened.close()


@contextmanager
def _redrawn(page: Page):
    """Returns once the page has redrawn after what the block did, with no stroke still being
    drawn: the page counts its finished redraws in <body data-frame>."""
    since = page.js("() => Number(document.body.dataset.frame)")
    yield
    page.page.wait_for_function("(since) => Number(document.body.dataset.frame) > since"
                                " && !window.mlplens.state.stroke", arg=since)


def _stroke(page: Page, points: list[tuple[float, float]], steps: int = 8) -> None:
    """A mouse stroke through points given in the pad's 0..1 coordinates, `steps` mouse moves
    from one to the next."""
    box = page.page.locator("#pad").bounding_box()
    at = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in points]
    with _redrawn(page):  # the pad updates on animation frames and when the stroke ends
        page.page.mouse.move(*at[0])
        page.page.mouse.down()
        for point in at[1:]:
            page.page.mouse.move(*point, steps=steps)
        page.page.mouse.up()


def _drawn(page: Page) -> np.ndarray:
    """The page's 28x28 input from its strokes, checked against the NumPy reference."""
    drawn = np.array(page.js("() => window.mlplens.input()"), np.uint8).reshape(28, 28)
    strokes = page.js("() => window.mlplens.strokes()")
    reference = strokes_like([np.array(stroke) for stroke in strokes])
    assert np.abs(drawn.astype(int) - reference).max() <= 1  # float64 sums in another order
    assert (drawn == reference).mean() > 0.99
    return drawn


# A two in the pad's 0..1 coordinates, 0.72 high: an arc, then the base.
TWO = [(0.5 + 0.33 * np.cos(a), 0.28 + 0.22 * np.sin(a)) for a in np.linspace(3.4, 6.9, 9)] + \
    [(0.24, 0.78), (0.76, 0.78)]


def test_strokes_are_as_thick_as_mnists_whatever_the_drawings_size(page, mnist, shots):
    mnist_width = np.mean([mean_stroke_width(image) for image in mnist.x_train[:1000]])
    widths = {}
    for size in (0.3, 0.6, 0.9):
        page.page.keyboard.press("c")
        _stroke(page, [(0.5 + (x - 0.5) * size / 0.72, 0.5 + (y - 0.42) * size / 0.72)
                       for x, y in TWO], steps=2)
        drawn = _drawn(page)
        widths[size] = mean_stroke_width(drawn)
        assert drawn.any(axis=1).sum() == 20  # the ink's longer side, pen included
    page.page.screenshot(path=shots / "two-at-0.9.png")
    print(f"\nmean stroke width: MNIST {mnist_width:.2f} px, drawn "
          + ", ".join(f"{w:.2f} px at {size} of the pad" for size, w in widths.items()))
    assert all(abs(w - mnist_width) < 0.3 for w in widths.values())


def test_too_little_ink_asks_for_a_digit(page):
    verdict = page.page.locator("#verdict")
    page.page.keyboard.press("c")
    assert verdict.text_content().startswith("Draw a digit")
    for dash in ([(0.5, 0.5)], [(0.45, 0.5), (0.55, 0.5)]):  # a dot, a short dash
        _stroke(page, dash)
        assert verdict.text_content().startswith("Draw a digit")
        assert page.page.locator(".bar.top").count() == 0
        page.page.keyboard.press("c")
    _stroke(page, [(0.52, 0.15), (0.50, 0.50), (0.48, 0.86)])
    assert verdict.text_content().startswith("It reads 1 (")
    assert page.page.locator(".bar.top .digit").text_content() == "1"


def _picture(page: Page, method: str) -> np.ndarray:
    """The red channel of the node panel's picture for `method` (the gray colormap's value)."""
    data = page.js("""(method) => {
        const canvas = document.querySelector(`.picture[data-method="${method}"] canvas`);
        return Array.from(canvas.getContext('2d').getImageData(0, 0, canvas.width,
                                                                canvas.height).data);
    }""", method)
    return np.array(data, np.uint8).reshape(-1, 4)[:, 0]


def test_javascript_forward_pass_equals_numpy_on_real_test_digits(page, run, mnist):
    results = page.js(f"""() => {{
        const out = [];
        for (let i = 0; i < {DIGITS}; i++) {{
            window.mlplens.loadTestDigit(i);
            out.push({{x: window.mlplens.input(), p: window.mlplens.probabilities(),
                       c: window.mlplens.contributions(),
                       note: document.getElementById('input-note').textContent}});
        }}
        return out;
    }}""")
    assert len(results) == DIGITS >= 200
    images, labels = mnist.x_test[:DIGITS], mnist.y_test[:DIGITS]
    np.testing.assert_array_equal(np.array([r["x"] for r in results]), images.reshape(DIGITS, -1))
    assert f"test digit #7, labelled {labels[7]}" in results[7]["note"]
    expected = predict(run["stack"], brightness(images))
    got = np.array([r["p"] for r in results])
    np.testing.assert_array_equal(got.argmax(axis=1), expected.argmax(axis=1))
    difference = float(np.abs(got - expected).max())
    print(f"\nlargest probability difference JS vs NumPy on {DIGITS} test digits: "
          f"{difference:.3g}")
    assert difference < PROBABILITY_TOLERANCE
    for k, wanted in enumerate(contributions(run["stack"], brightness(images))):
        shown = np.array([r["c"][k] for r in results])
        np.testing.assert_allclose(shown, wanted, rtol=1e-4, atol=1e-5 * np.abs(wanted).max())
    assert all(r["c"][-1] is None for r in results)  # the output layer has none


def test_drawing_changes_the_prediction_and_the_activations(page, run, shots):
    page.page.keyboard.press("c")
    blank = page.js("() => [window.mlplens.probabilities(), window.mlplens.activations()]")
    assert page.js("() => window.mlplens.input().every((v) => v === 0)")
    page.js("() => { window.mlplens.state.timings.length = 0; }")
    _stroke(page, [(0.52, 0.15), (0.50, 0.50), (0.48, 0.86)])
    one = page.js("() => [window.mlplens.probabilities(), window.mlplens.activations()]")
    assert int(np.argmax(one[0])) == 1
    assert not np.allclose(one[0], blank[0])
    for before, after in zip(blank[1], one[1]):
        assert not np.allclose(before, after)
    # The page's 28x28 is the NumPy reference algorithm applied to the pad's own strokes.
    drawn = _drawn(page)
    rows, cols = np.nonzero(drawn)
    assert rows.max() - rows.min() + 1 == 20  # fitted into 20x20 by its longer side
    _stroke(page, [(0.25, 0.2), (0.75, 0.2)])  # a bar on top: now a 7
    seven = page.js("() => window.mlplens.probabilities()")
    assert not np.allclose(seven, one[0])
    page.page.screenshot(path=shots / "drawn-7.png")
    with _redrawn(page):
        page.page.locator("#undo").click()
    np.testing.assert_array_equal(page.js("() => window.mlplens.probabilities()"), one[0])
    timings = page.js("() => window.mlplens.state.timings.map((t) => t.update)")
    print(f"\nupdate per pointer frame (pad -> 28x28 -> forward -> redraw): median "
          f"{np.median(timings):.2f} ms, max {np.max(timings):.2f} ms over {len(timings)}")
    with _redrawn(page):
        page.page.locator("#clear").click()
    np.testing.assert_array_equal(page.js("() => window.mlplens.probabilities()"), blank[0])


# Two nodes of layer 1 switched off and one of layer 2 clamped, as the page and NumPy take them.
ABLATE, CLAMP = {1: [3, 7]}, {(2, 5): 2.5}
PAGE_INTERVENTIONS = [{"layer": 0, "node": 3, "value": 0, "off": True},
                      {"layer": 0, "node": 7, "value": 0, "off": True},
                      {"layer": 1, "node": 5, "value": 2.5, "off": False}]


def _relative(got: np.ndarray, wanted: np.ndarray) -> float:
    """The largest |got - wanted| relative to the largest |wanted| of the layer."""
    return float(np.abs(got - wanted).max() / max(np.abs(wanted).max(), 1e-300))


def test_the_circuit_and_interventions_equal_numpys_on_real_test_digits(page, run, mnist):
    results = page.js(f"""(held) => {{
        const m = window.mlplens, out = [];
        for (let i = 0; i < {DIGITS}; i++) {{
            m.loadTestDigit(i);
            const circuit = m.circuit();
            m.setInterventions(held);
            out.push({{circuit: circuit, a: m.activations(), p: m.probabilities()}});
            m.setInterventions([]);
        }}
        return out;
    }}""", PAGE_INTERVENTIONS)
    assert len(results) == DIGITS >= 200
    stack, inputs = run["stack"], brightness(mnist.x_test[:DIGITS])
    worst = {"nodes": 0.0, "edges": 0.0}
    for image, result in zip(inputs, results):
        wanted, shown = prune(attribute(stack, image)), result["circuit"]
        assert shown["target"] == wanted.attribution.target
        assert shown["nodes"] == [kept.tolist() for kept in wanted.nodes]
        for k, kept in enumerate(wanted.nodes):
            values = wanted.attribution.nodes(k + 1)[kept]
            worst["nodes"] = max(worst["nodes"], _relative(np.array(shown["nodeValues"][k]), values))
        for k, (edges, values) in enumerate(zip(wanted.edges, wanted.edge_values)):
            kept_edges = shown["edges"][k]  # parallel arrays
            pairs = zip(kept_edges["sources"], kept_edges["targets"], strict=True)
            assert list(map(list, pairs)) == edges.tolist()
            got = np.array(kept_edges["values"])
            worst["edges"] = max(worst["edges"], _relative(got, values) if len(values) else 0.0)
    print(f"\ncircuit JS vs NumPy on {DIGITS} test digits: same kept nodes and edges; largest "
          f"relative difference: node contributions {worst['nodes']:.2g}, edges "
          f"{worst['edges']:.2g}")
    assert max(worst.values()) < 1e-6
    held = intervene(stack, inputs, ablate=ABLATE, clamp=CLAMP)  # NumPy's float32
    for k, wanted in enumerate(held):
        got = np.array([r["a"][k] for r in results])
        np.testing.assert_allclose(got, wanted, rtol=1e-5, atol=1e-5 * np.abs(wanted).max())
    print("intervened activations JS vs NumPy, largest difference relative to the layer's "
          "largest: " + ", ".join(f"{_relative(np.array([r['a'][k] for r in results]), w):.2g}"
                                  for k, w in enumerate(held)))
    assert all(r["a"][0][3] == r["a"][0][7] == 0 and r["a"][1][5] == 2.5 for r in results)
    np.testing.assert_array_equal(np.array([r["p"] for r in results]).argmax(axis=1),
                                  held[-1].argmax(axis=1))
    assert np.abs(np.array([r["p"] for r in results]) - held[-1]).max() < PROBABILITY_TOLERANCE


def test_the_circuit_from_the_keyboard(page):
    page.js("() => window.mlplens.loadTestDigit(0)")
    page.page.locator("#circuit-panel").scroll_into_view_if_needed()
    kept = page.js("() => window.mlplens.circuit().nodes[0]")[:14]  # CIRCUIT_NODES are drawn
    heights = {node: page.js(f"() => window.mlplens.circuitNodeCentre(0, {node})")[1]
               for node in kept}
    column = sorted(kept, key=heights.get)  # layer 1 as drawn, top to bottom
    tip = page.page.locator("#circuit-tip")

    def press(key: str) -> str:
        page.page.keyboard.press(key)
        assert page.page.locator("#announce").text_content() == tip.text_content()
        return tip.text_content()

    page.page.locator("#trace-clear").focus()
    page.page.keyboard.press("Tab")  # the keyboard's focus: the cursor on layer 1's top node
    assert page.js("() => document.activeElement.id") == "circuit"
    assert tip.text_content().startswith(f"layer 1 node {column[0]} · ")
    assert press("ArrowDown").startswith(f"layer 1 node {column[1]} · ")
    assert press("ArrowRight").startswith("layer 2 node ")
    assert press("ArrowRight").startswith("class ")
    assert press("ArrowRight").startswith("class ")  # the last column: it stays
    for key in ("ArrowLeft", "ArrowLeft", "ArrowLeft"):
        text = press(key)
    assert text == "the input: its pixels feed every node of layer 1"
    assert press("ArrowRight").startswith("layer 1 node ")
    for _ in column:
        press("ArrowUp")
    assert press("ArrowDown").startswith(f"layer 1 node {column[1]} · ")
    assert page.js("() => window.mlplens.state.trace") is None
    with _redrawn(page):
        page.page.keyboard.press("Enter")
    assert page.js("() => window.mlplens.state.trace") == {"layer": 0, "node": column[1]}
    assert page.js("() => window.mlplens.state.selected") == {"layer": 0, "node": column[1]}
    assert page.page.locator("#node-title").text_content() == f"Layer 1, node {column[1]}"
    assert tip.text_content().startswith(f"layer 1 node {column[1]} · ")  # still on it
    with _redrawn(page):
        page.page.keyboard.press("Escape")
    assert page.js("() => window.mlplens.state.trace") is None
    page.page.keyboard.press("Tab")
    assert tip.is_hidden()


def test_the_circuit_panel_traces_a_node_and_the_node_panel_switches_it_off(page, shots):
    page.js("() => window.mlplens.loadTestDigit(0)")
    page.page.locator("#circuit-panel").scroll_into_view_if_needed()
    kept = page.js("() => window.mlplens.circuit().nodes[0]")
    box = page.page.locator("#circuit").bounding_box()
    at = page.js(f"() => window.mlplens.circuitNodeCentre(0, {kept[0]})")
    with _redrawn(page):
        page.page.mouse.click(box["x"] + at[0], box["y"] + at[1])
    assert page.js("() => window.mlplens.state.selected") == {"layer": 0, "node": kept[0]}
    assert page.page.locator("#circuit").bounding_box() == box  # it stays under the pointer
    traced = page.js("() => window.mlplens.state.traced.nodes")
    assert traced[0] == [kept[0]] and len(traced[1]) == 3 and len(traced[2]) == 3
    page.page.mouse.move(box["x"] + at[0], box["y"] + at[1])
    assert page.page.locator("#circuit-tip").text_content().startswith(f"layer 1 node {kept[0]} · ")
    # An edge of the trace (into the traced node, from the input): its numbers on hover.
    middle = page.js(f"() => window.mlplens.circuitEdgeMiddle(0, -1, {kept[0]})")
    page.page.mouse.move(box["x"] + middle[0], box["y"] + middle[1])
    text = page.page.locator("#circuit-tip").text_content()
    assert text.startswith(f"input → layer 1 node {kept[0]} · Σ pixel × weight "), text
    assert " · contribution " in text
    before = page.js("() => window.mlplens.probabilities()")
    with _redrawn(page):
        page.page.locator("#node-intervene button", has_text="Switch off").click()
    assert page.js(f"() => window.mlplens.activations()[0][{kept[0]}]") == 0
    assert page.page.locator("#intervention-list li").all_text_contents() == \
        [f"layer 1, node {kept[0]} off×"]
    assert page.js("() => window.mlplens.probabilities()") != before
    assert kept[0] not in page.js("() => window.mlplens.circuit().nodes[0]")
    page.js("() => { window.mlplens.state.timings.length = 0; }")
    page.page.locator("#pad").scroll_into_view_if_needed()
    _stroke(page, [(0.2, 0.3), (0.8, 0.5), (0.3, 0.8)], steps=30)  # on the digit: many updates
    timings = page.js("() => window.mlplens.state.timings.map((t) => t.update)")
    print(f"\nupdate per pointer frame with the circuit, a trace and an intervention: median "
          f"{np.median(timings):.2f} ms, max {np.max(timings):.2f} ms over {len(timings)}")
    page.page.locator("#circuit-panel").scroll_into_view_if_needed()
    page.page.screenshot(path=shots / "circuit-intervened.png")
    with _redrawn(page):
        page.page.locator("#intervention-undo").click()
    assert page.page.locator("#intervention-list li").count() == 0
    assert page.page.locator("#intervention-undo").is_disabled()


@pytest.fixture(scope="module")
def pictures(mnist, tmp_path_factory) -> dict[str, Path]:
    """Real MNIST test digits as people's pictures are: dark ink on light paper, in colour, of
    another size and shape than 28x28; as a PNG and as a JPEG."""
    folder = tmp_path_factory.mktemp("pictures")
    paper = [Image.fromarray(255 - mnist.x_test[i]).resize(size, Image.Resampling.BICUBIC)
             .convert("RGB") for i, size in ((3, (47, 61)), (18, (90, 75)))]
    paper[0].save(folder / "zero.png")
    paper[1].save(folder / "three.jpg", quality=90)
    (folder / "notes.txt").write_text("a shopping list, not a digit\n")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    return {path.name: path for path in folder.iterdir()}


def _load_picture(page: Page, how: str, path: Path, wait: bool = True) -> None:
    """Give the page a file as a user would: through the file picker, dropped on the pad, or
    pasted; a File built in the page from the file's bytes for the last two."""
    since = page.js("() => Number(document.body.dataset.frame)")
    if how == "picker":
        page.page.set_input_files("#image-file", path)
    else:
        page.js("""([how, name, data]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name));
            const event = how === 'drop'
                ? new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true})
                : new ClipboardEvent('paste', {clipboardData: transfer, bubbles: true,
                                               cancelable: true});
            (how === 'drop' ? document.getElementById('pad') : document.body).dispatchEvent(event);
        }""", [how, path.name, base64.b64encode(path.read_bytes()).decode("ascii")])
    if wait:
        page.page.wait_for_function("(since) => Number(document.body.dataset.frame) > since",
                                    arg=since)


def _input(page: Page) -> np.ndarray:
    return np.array(page.js("() => window.mlplens.input()"), np.uint8).reshape(28, 28)


def _as_is(path: Path) -> np.ndarray:
    """The NumPy reference of "use as is": Pillow's greyscale, area-averaged to 28x28."""
    with Image.open(path) as picture:
        return as_is(np.asarray(picture.convert("L"), np.float64) / 255)


def _choose_mode(page: Page, mode: str) -> None:
    """The mode menu; a change redoes the picture shown, so the page redraws."""
    with _redrawn(page):
        page.page.select_option("#image-mode", mode)


def test_a_picture_loads_by_picker_drop_and_paste_as_the_numpy_references_make_it(
        page, pictures, shots):
    png, jpeg = pictures["zero.png"], pictures["three.jpg"]
    note = page.page.locator("#input-note")
    _load_picture(page, "picker", png)
    np.testing.assert_array_equal(_input(page), read_digit(png))
    assert "zero.png made MNIST-like (inverted, fitted into 20×20" in note.text_content()
    page.page.screenshot(path=shots / "picture-mnist-like.png")
    _choose_mode(page, "as-is")
    np.testing.assert_array_equal(_input(page), _as_is(png))
    assert "zero.png as it is, area-averaged to 28×28" in note.text_content()
    # Chromium and Pillow both decode JPEG with libjpeg-turbo, but may be built with other IDCT
    # or chroma upsampling choices: a pixel's grey may differ by one level, not more.
    _load_picture(page, "drop", jpeg)
    assert np.abs(_input(page).astype(int) - _as_is(jpeg)).max() <= 1
    _choose_mode(page, "mnist-like")
    dropped = _input(page)
    assert np.abs(dropped.astype(int) - read_digit(jpeg)).max() <= 1
    assert page.page.locator("#verdict").text_content().startswith("It reads ")
    _load_picture(page, "paste", png)
    np.testing.assert_array_equal(_input(page), read_digit(png))
    page.page.screenshot(path=shots / "picture-pasted.png")
    with _redrawn(page):
        page.page.keyboard.press("u")  # undo: back to the dropped picture
    np.testing.assert_array_equal(_input(page), dropped)


def test_a_phones_turned_jpeg_and_a_16_bit_png_load_as_mlplens_reads_them(page, mnist, tmp_path):
    """The page's loader decodes with the browser, which honours EXIF orientation and scales
    16-bit grey: the same 28x28 input, pixel for pixel, as `mlplens diagram --image` reads."""
    for index in (0, 3):
        photo = paper_photo(mnist.x_test[index])
        turned = save_turned_jpeg(photo, tmp_path / f"turned-{index}.jpg")
        deep = save_16_bit_png(np.asarray(photo.convert("L")), tmp_path / f"deep-{index}.png")
        for path in (turned, deep):
            _load_picture(page, "picker", path)
            np.testing.assert_array_equal(_input(page), read_digit(path))


def test_a_file_that_is_no_picture_is_refused_in_one_line(page, pictures):
    message = page.page.locator("#image-message")
    before = _input(page)
    for name, said in (("notes.txt", "notes.txt is not a PNG or JPEG image."),
                       ("broken.png", "broken.png could not be decoded: a damaged PNG file?")):
        _load_picture(page, "drop", pictures[name], wait=False)
        page.page.wait_for_function("(said) => document.getElementById('image-message')"
                                    ".textContent === said", arg=said)
        assert message.is_visible()
    page.js("""() => {
        const text = new DataTransfer();
        text.setData('text/plain', '7');
        document.body.dispatchEvent(new ClipboardEvent('paste', {clipboardData: text,
                                                                 bubbles: true}));
    }""")
    assert message.text_content() == "Nothing to load: the clipboard holds no image file."
    np.testing.assert_array_equal(_input(page), before)
    # From the keyboard: the button, then I anywhere, open the file picker. Each opening is
    # counted and its dialog cancelled in the page: the picker is the browser's, not the page's.
    page.js("""() => { window.opened = 0; document.getElementById('image-file')
        .addEventListener('click', (event) => { window.opened++; event.preventDefault(); }); }""")
    page.page.locator("#load-image").focus()
    page.page.keyboard.press("Enter")
    page.page.locator("#undo").focus()
    page.page.keyboard.press("i")
    assert page.js("() => window.opened") == 2
    _load_picture(page, "picker", pictures["zero.png"])
    assert not message.is_visible()


def test_clicking_a_node_shows_its_pictures_and_the_slider_steps_them(page, run, mnist, shots):
    centre = page.js("() => window.mlplens.cellCentre(0, 5)")
    page.page.mouse.click(centre["x"], centre["y"])
    assert page.page.locator("#node-title").text_content() == "Layer 1, node 5"
    shown = page.page.locator(".picture").evaluate_all(
        "(nodes) => nodes.map((n) => n.dataset.method)")
    # Every method draws layer 1 except maximize, which the explorer runs on the output only.
    views = all_views(run["stack"], mnist.x_test[:REFERENCE], mnist.y_test[:REFERENCE])
    assert sorted(shown) == sorted(set(METHODS) - {"maximize"})
    assert views["maximize"][0] is None and views["maximize"][-1] is not None
    for method in shown:
        np.testing.assert_array_equal(_picture(page, method), views[method][0].images[5].ravel())
    page.page.screenshot(path=shots / "node-picked.png")
    # The slider: first position = the first chosen snapshot, last = the trained model.
    snapshots = run["snapshots"]
    assert page.page.locator("#training").is_visible()
    page.page.locator("#step").focus()
    page.page.keyboard.press("Home")
    first = spread_frames(snapshots.steps[:-1], 7)[0]
    assert page.page.locator("#step-label").text_content().startswith(
        f"step {int(snapshots.steps[first])} · test accuracy")
    early = layer_views(snapshots.stack(first), "linear", "minmax")[0].images[5].ravel()
    np.testing.assert_array_equal(_picture(page, "linear"), early)
    assert page.page.locator('.picture[data-method="linear"] .name').text_content() == \
        f"linear · step {int(snapshots.steps[first])}"
    page.page.screenshot(path=shots / "slider-start.png", full_page=True)
    page.page.keyboard.press("End")
    final = layer_views(run["stack"], "linear", "minmax")[0].images[5].ravel()
    np.testing.assert_array_equal(_picture(page, "linear"), final)
    assert not np.array_equal(early, final)
    assert page.page.locator("#step-label").text_content().startswith("trained model (step ")
    # The gallery shows every node of the layer (64 at twice their size); a click opens one.
    page.page.locator("#gallery").click(position={"x": 56 + 4 + 10, "y": 10})
    assert page.page.locator("#node-title").text_content() == "Layer 1, node 1"


def test_a_phone_sized_page_fits_and_shows_a_tapped_node(browser, run, shots):
    opened = Page(browser, run["page"], {"width": 390, "height": 844}, has_touch=True)
    try:
        page = opened.page
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        clipped = page.locator(".bar .value").evaluate_all(
            "(values) => values.filter((v) => v.scrollWidth > v.clientWidth).length")
        assert clipped == 0
        assert not page.locator(".keys").is_visible()
        page.screenshot(path=shots / "phone.png")
        page.locator("#strips canvas").first.scroll_into_view_if_needed()
        centre = opened.js("() => window.mlplens.cellCentre(0, 5)")
        page.touchscreen.tap(centre["x"], centre["y"])
        assert page.locator("#node-title").text_content() == "Layer 1, node 5"
        top = opened.js("() => document.getElementById('node-panel').getBoundingClientRect().top")
        assert 0 <= top < 100  # scrolled to the panel
        page.screenshot(path=shots / "phone-node.png")
        # A picture choice that cannot draw this layer says why.
        page.select_option("#gallery-method", "maximize")
        assert page.locator("#gallery-note").text_content() == \
            "maximize draws the output layer only (a hidden layer would take minutes)."
        assert page.locator("#gallery").bounding_box()["height"] == 0
    finally:
        opened.close()


def test_a_wide_page_says_what_lies_below_and_maps_colours_by_sign(page):
    below = page.page.locator("nav.below")
    assert below.is_visible() and below.bounding_box()["y"] < 800
    assert below.text_content().split() == ["Below:", "the", "circuit", "of", "this", "input,",
                                            "and", "interventions", "·", "Watch", "it", "learn",
                                            "·", "every", "node", "of", "a", "layer"]
    page.page.select_option("#cmap", "RdBu_r")
    legends = dict(zip(page.page.locator(".picture").evaluate_all(
        "(nodes) => nodes.map((n) => n.dataset.method)"),
        page.page.locator(".picture .legend").all_text_contents()))
    assert legends["gradient"].startswith("symmetric") and "in gray" not in legends["gradient"]
    assert legends["linear"].endswith(" · in gray: RdBu_r is for signed pictures")
    gradient = page.page.locator('.picture[data-method="gradient"] canvas').evaluate(
        "(c) => Array.from(c.getContext('2d').getImageData(0, 0, 1, 1).data)")
    assert len(set(gradient[:3])) > 1  # coloured, not gray


def test_hover_and_keyboard(page):
    centre = page.js("() => window.mlplens.cellCentre(1, 3)")
    page.page.mouse.move(centre["x"], centre["y"])
    tip = page.page.locator("#tooltip")
    assert tip.is_visible()
    value = page.js("() => window.mlplens.activations()[1][3]")
    assert tip.text_content().startswith(f"node 3 · activation {value:.3f}")
    page.page.mouse.move(5, 5)
    page.page.locator("#strips canvas").nth(1).focus()
    for key in ("ArrowRight", "ArrowRight", "ArrowLeft", "Enter"):
        page.page.keyboard.press(key)
    assert page.page.locator("#node-title").text_content() == "Layer 2, node 1"
    page.page.locator("#strips canvas").nth(0).focus()
    for key in ("End", "ArrowUp", "Enter"):  # the last node, then one row up
        page.page.keyboard.press(key)
    columns = page.js("() => window.mlplens.layout()[0]")
    assert page.page.locator("#node-title").text_content() == f"Layer 1, node {63 - columns}"
    page.page.locator("#undo").focus()
    before = page.js("() => window.mlplens.input()")
    page.page.keyboard.press("r")
    assert page.js("() => window.mlplens.input()") != before
    assert page.page.locator("#input-note").text_content().startswith(
        "What the network sees (28×28): test digit #")
    page.page.keyboard.press("u")
    assert page.js("() => window.mlplens.input()") == before


def test_the_page_makes_no_request_and_forbids_them(page, shots):
    page.page.screenshot(path=shots / "explorer.png")
    assert page.url.startswith("file://")
    assert page.requests == [page.url]  # the page itself and nothing else
    failed: list[str] = []
    page.page.on("requestfailed", lambda request: failed.append(request.failure))
    # The image is refused last: once its refusal is logged, every refusal is.
    with page.page.expect_console_message(lambda message: "probe.png" in message.text):
        blocked = page.js("""async () => {
            const seen = [];
            document.addEventListener('securitypolicyviolation', (e) => seen.push(e.violatedDirective));
            let fetched = 'allowed';
            try { await fetch('http://127.0.0.1:9/probe'); } catch (error) { fetched = 'blocked'; }
            const image = new Image();
            image.src = 'http://127.0.0.1:9/probe.png';
            // Its refusal's event is queued before its error event, on the same task source.
            await new Promise((done) => { image.onerror = done; image.onload = done; });
            return {fetched, seen};
        }""")
    assert blocked["fetched"] == "blocked"
    assert sorted(set(blocked["seen"])) == ["connect-src", "img-src"]
    # Chromium names the image it refused; it never left the browser.
    assert page.requests[1:] == ["http://127.0.0.1:9/probe.png"]
    assert failed == ["csp"]
    assert page.problems and all("127.0.0.1:9" in problem for problem in page.problems)
    page.problems.clear()  # the refusals above are logged as console errors, as they should be


def test_a_hostile_layer_name_is_shown_as_text(browser, mnist, tmp_path, shots):
    rng = np.random.default_rng(0)
    stack = DenseStack.from_arrays([rng.normal(0, 0.05, (784, 8)), rng.normal(0, 0.3, (8, 10))],
                                   names=[HOSTILE, "</script><script>alert(2)</script>"])
    path = write_explorer(tmp_path / f"x{HOSTILE[:4]}.html", stack, mnist, model_name=HOSTILE,
                          max_frames=1)
    opened = Page(browser, path)
    try:
        assert opened.js("() => document.querySelectorAll('img, script:not([id])').length") == 1
        heads = opened.page.locator(".strip-head b").all_text_contents()
        assert heads == [f"Layer 1 · {HOSTILE}", "Output · </script><script>alert(2)</script>"]
        assert opened.page.title() == f"mlplens explorer: {HOSTILE}"
        assert opened.page.locator("#model-line").text_content().startswith(HOSTILE)
        opened.page.screenshot(path=shots / "hostile-names.png")
    finally:
        opened.close()


def test_explore_errors_are_one_line(run, tmp_path):
    out = tmp_path / "page.html"
    missing = run_cli("explore", str(tmp_path / "none.keras"), "-o", str(out))
    assert_one_error_line(missing, "none.keras: no such file")
    other = tmp_path / "other.npz"
    np.savez(other, steps=np.array([0]), test_accuracy=np.array([0.1], np.float32),
             kernel_1=np.zeros((1, 784, 3), np.float16), bias_1=np.zeros((1, 3), np.float16),
             activations=np.array(["softmax"]), image_shape=np.array([28, 28]))
    wrong = run_cli("explore", str(run["folder"] / "model.keras"), "--snapshots", str(other),
                    "-o", str(out))
    assert_one_error_line(wrong, "the training snapshots do not match the model's layers")
    assert not out.exists()
    assert json.loads((run["folder"] / "metrics.json").read_text())["snapshot_every"] == 8
