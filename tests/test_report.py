"""report.html from a small fake run: the article's order, a table of contents that resolves,
alt text on every picture, sentences that carry the summary's own numbers, and a page that fits
a phone and zooms its mosaics in Chromium."""

from __future__ import annotations

import base64
import copy
import html
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mlplens.report.figure_html import image_size
from mlplens.report.story import STORY, Figure, Nets, story_sections
from mlplens.report.summary import render_report

from .helpers import launch_chromium

NETS = Nets("mlp-500", "mlp-60000", "single-60000")
ARTICLE = ["network", "mnist", "hidden-1", "hidden-2", "output", "training-size",
           "where-digits-write", "single-layer"]
BEYOND = ["exact", "examples", "maximize", "evolution", "checks", "features", "circuits"]


def _run(accuracy: float, train: int, hidden: list[int], history: list[float]) -> dict:
    return {"test_accuracy": accuracy, "train_samples": train, "hidden": hidden, "epochs": 6,
            "optimizer": "rmsprop", "batch_size": 128, "seconds": 4.5,
            "history": {"accuracy": history}}


def _check_row(method: str, verdict: str) -> dict:
    return {"method": method, "fidelity": {"median": 0.9, "verdict": verdict},
            "deletion": {"auc": 0.1, "random": 0.7, "mean_image": 0.3, "verdict": "pass"}}


def _feature(layer: int, explained: float) -> dict:
    return {"layer": layer, "features": 1024 // layer, "variance_explained": explained,
            "mean_l0": 32.0, "spliced_accuracy": 0.9654, "accuracy": 0.9771,
            "median_selectivity": {"features": 0.84, "nodes": 0.6446}}


SUMMARY = {
    "data": {"train": 60000, "test": 10000},
    "runs": {"mlp-500": _run(0.8112, 500, [512, 256], [0.31, 0.9613]),
             "mlp-60000": _run(0.9771, 60000, [512, 256], [0.9137, 0.9933]),
             "single-60000": _run(0.9242, 60000, [], [0.8812, 0.9225])},
    "beyond": {"reference": 1000,
               "median_fidelity": {"mlp-60000": [1.0, 0.9576, 0.9498], "single-60000": [1.0]},
               "dead_nodes": {"mlp-60000": [7, 3, 0], "single-60000": [0]},
               "edge_ink_counts": {"top 1": [0, 0, 1, 0, 0, 0, 1, 0, 0, 0],
                                   "bottom 1": [0, 0, 0, 0, 0, 1, 0, 675, 0, 47],
                                   "bottom 2": [0, 2, 0, 28, 57, 62, 0, 4061, 11, 1875],
                                   "left 1": [1, 3, 0, 0, 0, 1, 0, 8, 0, 1],
                                   "right 1": [3, 5, 17, 0, 1, 29, 3, 2, 16, 0]},
               "seconds": {"mlp-60000 maximize": 1.19, "single-60000 maximize": 0.03}},
    "checks": {"mlp-60000": {"rows": [_check_row("linear", "pass"),
                                      _check_row("maximize", "flagged")]}},
    "features": {"mlp-60000": [_feature(1, 0.8029), _feature(2, 0.8456)]},
    "circuits": [{"digit": 0, "index": 3, "predicted": 0},
                 {"digit": 9, "index": 7, "predicted": 4}],
    "compare": {"images": 10000, "cka": [[0.843602, 0.687827], [0.7827, 0.699731]],
                "matched_layer": {"1": 1, "2": 1},
                "median_correlation": {"1": 0.5408, "2": 0.5368},
                "same_node": {"1": 397, "2": 0}, "alone_below": 0.5,
                "alone": {"a": {"1": 124, "2": 61}, "b": {"1": 136, "2": 31}},
                "output_ssim_median": 0.4361},
}

# What each section must say, formatted from SUMMARY by hand.
EXPECTED = {
    "network": ["784-512-256-10", "535,818 weights", "97.71% of the 10,000 test images"],
    "mnist": ["60,000 training and 10,000 test", "first 500."],
    "hidden-1": ["512 nodes", "first 1,000 test images, 7 of them never fire"],
    "hidden-2": ["similarity is 0.958", "3 of its 256 nodes never fire"],
    "output": ["right on 97.71%", "exact ones is 0.950"],
    "training-size": ["first 500 images reaches 81.12%", "against 97.71% with 60,000",
                      "96.13% training accuracy",
                      "first 10,000 test images, linear CKA", "is layer 1: 0.844; layer 2: 0.700.",
                      "Layer 2 of the 500-image net is most like layer 1 of the 60,000-image net "
                      "(CKA 0.783).",
                      "layer 1 to layer 1, median correlation 0.54, 397 of 512 nodes to the node "
                      "of the same number; layer 2 to layer 1, median correlation 0.54.",
                      "below 0.5, what only one net has: 124 in layer 1, 61 in layer 2 of the "
                      "500-image net; 136 in layer 1, 31 in layer 2 of the 60,000-image net.",
                      "median SSIM of 0.44."],
    "where-digits-write": ["723 have ink in the bottom row", "675 of them 7s and 47 9s",
                           "6,096 in the bottom two rows, 97% of those", "top row is reached by 2",
                           "left column by 14", "right column by 76"],
    "single-layer": ["median fidelity 1.000", "reaches 92.42%, 5.3 points below"],
    "exact": ["over 1,000", "mlp-60000: layer 1: 1.000, layer 2: 0.958, layer 3: 0.950",
              "single-60000: layer 1: 1.000"],
    "examples": ["mlp-60000: layer 1: 7, layer 2: 3, layer 3: 0"],
    "maximize": ["mlp-60000 1.19 s, single-60000 0.03 s"],
    "evolution": ["mlp-500 from 31.00% after epoch 1 to 96.13% after epoch 2",
                  "mlp-60000 from 91.37%"],
    "checks": ["mlp-60000, 2 methods: 1 flagged, 3 pass; not passed: maximize (fidelity)."],
    "features": ["Layer 1: 1,024 features explain 80.3%", "Layer 2: 512 features explain 84.6%",
                 "scores 96.54% (itself 97.71%)", "selectivity 0.84 for features, 0.64 for nodes"],
    "circuits": ["1 of 2 are classified correctly", "the 9 (test image 7) is read as 4"],
}


class _Page(HTMLParser):
    """The ids, links, pictures and section texts of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.sections: list[str] = []
        self.hrefs: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self.text: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(found["id"])
        if tag == "section":
            self.sections.append(found["id"])
            self.text[found["id"]] = ""
        if tag == "a" and found.get("href"):
            self.hrefs.append(found["href"])
        if tag == "img":
            self.images.append(found)

    def handle_data(self, data: str) -> None:
        if self.sections:
            self.text[self.sections[-1]] += data


def _png(path: Path, width: int, height: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(width)
    Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8)).save(path)
    return path


def _fake_run(out: Path, summary: dict = SUMMARY) -> str:
    """A report over small pictures: one wide mosaic embedded per section, one linked."""
    figures = {}
    for key, *_ in STORY:
        if key == "other-methods":
            continue
        shown = _png(out / key / "shown.png", 1924 if key == "hidden-1" else 300, 200)
        more = _png(out / key / "more.png", 20, 20)
        figures[key] = [Figure(shown, f"The {key} figure", embed=True),
                        Figure(more, f"Another {key} figure")]
    runs = [{"name": name, "architecture": "784-10", "train_samples": run["train_samples"],
             "epochs": 6, "test_accuracy": run["test_accuracy"], "seconds": run["seconds"],
             "explorer": out / name / "explorer.html"} for name, run in summary["runs"].items()]
    return render_report(out, runs, story_sections(summary, NETS, figures), 3.0, quick=False)


def test_sections_follow_the_article_and_the_contents_resolve(tmp_path):
    page = _Page()
    page.feed(_fake_run(tmp_path))
    assert page.sections == ARTICLE + BEYOND + ["runs"]
    local = [href[1:] for href in page.hrefs if href.startswith("#")]
    assert {f"{key}" for key in ARTICLE + BEYOND + ["runs"]} <= set(local)
    assert set(local) <= set(page.ids)
    assert len(page.images) == len(ARTICLE + BEYOND)
    assert all(image["alt"] and image["width"] and image["height"] for image in page.images)
    files = [href for href in page.hrefs if href.endswith(".png")]
    # Every figure, embedded or not, links to its file beside the report.
    assert sorted(files) == sorted(f"{key}/{name}.png" for key in ARTICLE + BEYOND
                                   for name in ("shown", "more"))


def test_every_sentence_carries_the_summarys_numbers(tmp_path):
    page = _Page()
    page.feed(_fake_run(tmp_path))
    for section, fragments in EXPECTED.items():
        for fragment in fragments:
            assert fragment in page.text[section], (section, fragment, page.text[section])
    # Other numbers give other sentences: nothing is written into the templates.
    changed = copy.deepcopy(SUMMARY)
    changed["runs"]["mlp-60000"]["test_accuracy"] = 0.5
    changed["runs"]["mlp-500"]["train_samples"] = 1000
    other = _Page()
    other.feed(_fake_run(tmp_path, changed))
    assert "50.00% of the 10,000 test images" in other.text["network"]
    assert "1,000 vs 60,000 images" in other.text["training-size"]


def test_report_escapes_names_and_embeds_figures(tmp_path):
    figure = _png(tmp_path / "a<b>.png", 4, 3)
    explorer = tmp_path / "<run>" / "explorer.html"
    sections = story_sections(SUMMARY, NETS, {"mnist": [Figure(figure, 'caption "<i>"', True)]})
    page = render_report(tmp_path, [{"name": "<run>", "architecture": "784-10",
                                     "train_samples": 60000, "epochs": 6,
                                     "test_accuracy": 0.92421, "seconds": 1.94,
                                     "explorer": explorer}], sections, seconds=3.0, quick=False)
    assert "<run>" not in page and "<i>" not in page
    assert '<a href="&lt;run&gt;/explorer.html">&lt;run&gt;/explorer.html</a>' in page
    assert "<td class=\"num\">60,000</td>" in page and ">0.9242<" in page and ">1.9 s<" in page
    payload = base64.b64encode(figure.read_bytes()).decode()
    assert f'src="data:image/png;base64,{payload}" alt="caption &quot;&lt;i&gt;&quot;"' in page
    assert 'width="4" height="3"' in page
    assert "Quick run" not in page and "script-src &#x27;none&#x27;" in page
    assert html.escape("a<b>.png") in page


def test_image_size_reads_png_and_gif_headers(tmp_path):
    gif = tmp_path / "a.gif"
    Image.new("L", (7, 5)).save(gif)
    assert image_size(_png(tmp_path / "a.png", 9, 4).read_bytes()) == (9, 4)
    assert image_size(gif.read_bytes()) == (7, 5)
    assert image_size(b"not a picture") is None


@pytest.mark.slow
def test_the_report_fits_a_phone_and_zooms_a_mosaic(tmp_path):
    from playwright.sync_api import sync_playwright

    report = tmp_path / "report.html"
    report.write_text(_fake_run(tmp_path), encoding="utf-8")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(report.as_uri())
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        mosaic = page.locator("#zoom-hidden-1-1 img")
        assert mosaic.bounding_box()["width"] <= 390
        page.click('a[href="#zoom-hidden-1-1"]')
        zoomed = page.locator("#zoom-hidden-1-1")
        assert zoomed.evaluate("node => getComputedStyle(node).position") == "fixed"
        assert mosaic.evaluate("img => img.getBoundingClientRect().width") == 1924
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.click("#zoom-hidden-1-1 .close")
        assert zoomed.evaluate("node => getComputedStyle(node).position") == "static"
        assert mosaic.bounding_box()["width"] <= 390
        browser.close()
