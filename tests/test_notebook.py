"""examples/article.ipynb, run by a real Jupyter kernel, and its explorer opened in Chromium."""

from __future__ import annotations

import base64
import io
import os
import re

import nbclient
import nbformat
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import sync_playwright

import mlplens
from mlplens.render import Legend, colormap_lut, node_mosaic

from .helpers import REPO, launch_chromium

pytestmark = pytest.mark.slow  # trains three networks in a kernel
NOTEBOOK = REPO / "examples" / "article.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> list:
    """The notebook's code cells after a run of a 784-64-32-10 net on 2,000 images, one epoch."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    environment = {"MLPLENS_EXAMPLE_HIDDEN": "64,32", "MLPLENS_EXAMPLE_SAMPLES": "2000",
                   "MLPLENS_EXAMPLE_EPOCHS": "1"}
    saved = {key: os.environ.get(key) for key in environment}
    os.environ.update(environment)  # the kernel inherits this process' environment
    try:
        nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _png(cell) -> Image.Image:
    [data] = [output["data"]["image/png"] for output in cell.outputs
              if "image/png" in output.get("data", {})]
    return Image.open(io.BytesIO(base64.b64decode(data)))


def _text(cell) -> str:
    return "".join(output.get("text", "") for output in cell.outputs)


def test_the_notebook_walks_through_the_article(executed):
    assert len(executed) == 10 and not any(
        output["output_type"] == "error" for cell in executed for output in cell.outputs)
    mnist = mlplens.load_mnist()
    digits = executed[1]["outputs"][0]["data"]["image/png"]
    expected = mlplens.DigitGrid.from_images(mnist.x_train, mnist.y_train)._repr_png_()
    assert base64.b64decode(digits) == expected  # the Pillow mosaic, byte for byte
    assert re.fullmatch(r"784-64-32-10 \(relu, relu, softmax\)\ntest accuracy 0\.\d{4}\n",
                        _text(executed[2]))
    accuracy = float(_text(executed[2]).split()[-1])
    assert 0.7 < accuracy < 1
    layer_1 = node_mosaic(np.zeros((64, 28, 28), np.uint8), colormap_lut("gray"),
                          labels=[str(node) for node in range(64)], scale=3,
                          title="Layer 1: 64 nodes (seed, minmax)",
                          legend=Legend("node's min", "", "node's max"))
    assert _png(executed[3]).size == layer_1.size
    figure = _png(executed[5])  # matplotlib's figure in viridis: colours, not greys
    pixels = np.asarray(figure.convert("RGB")).reshape(-1, 3).astype(int)
    assert (np.abs(pixels[:, 0] - pixels[:, 2]) > 60).mean() > 0.05
    assert re.fullmatch(r"test accuracy on 500 images: 0\.\d{4}\n", _text(executed[6]))
    assert re.fullmatch(r"test accuracy: 0\.\d{4}\n", _text(executed[7]))
    fidelity = _text(executed[8]).splitlines()
    assert fidelity[0] == "layer 1: median fidelity 1.000"
    assert [line.split(":")[0] for line in fidelity] == ["layer 1", "layer 2", "layer 3"]


def test_the_inline_explorer_runs_in_chromium(executed, tmp_path):
    html = executed[9]["outputs"][0]["data"]["text/html"]
    assert html.startswith('<iframe sandbox="allow-scripts" title="mlplens explorer" ')
    page_file = tmp_path / "cell.html"
    # As a notebook holds it: UTF-8 (the page's script hash covers its non-ASCII characters).
    page_file.write_text(f'<!doctype html><html><head><meta charset="utf-8"></head><body>{html}'
                         "</body></html>", encoding="utf-8")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1200})
            page.goto(page_file.as_uri())
            frame = page.frame_locator("iframe")
            frame.locator("#bars").wait_for()
            inner = page.locator("iframe").element_handle().content_frame()
            inner.wait_for_function("() => Number(document.body.dataset.frame) > 0")
            inner.locator("#random").click()
            inner.wait_for_function("() => Number(document.body.dataset.frame) > 1")
            assert inner.locator("#model-line").text_content().startswith("the article's net")
            assert len(inner.locator("#bars").text_content()) > 0
            page.screenshot(path=str(tmp_path / "inline.png"))
        finally:
            browser.close()
