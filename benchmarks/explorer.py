"""The explorer page, before and after: writing it (time, peak memory, size), loading it in
headless Chromium, and the page's update time per drawn frame.

    python -m benchmarks.explorer [--quick] [--base COMMIT]

Two nets with seeded random weights of the right shapes: the article's 784-512-256-10 and a
wide 784-2048-1024-10. "before" is COMMIT (default: where this branch left main), checked out
into a temporary git worktree and run from there; "after" is this checkout. Each side writes
each page in a fresh process started by this small one (its own peak, by wait4), rounds
alternating; the load time is from navigation to the page's first finished draw
(`document.body.dataset.frame >= 1`, read on the animation frame it happens); the update times
are the page's own `state.timings` over a few strokes on the pad.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import common

NETS = {"article 784-512-256-10": (784, 512, 256, 10),
        "wide 784-2048-1024-10": (784, 2048, 1024, 10)}
CHROMIUM = "/usr/bin/chromium"
# Read on the animation frame the first draw finishes: milliseconds since navigation started.
FIRST_DRAW = "() => Number(document.body.dataset.frame) >= 1 && performance.now()"
STROKES = ([(0.52, 0.15), (0.50, 0.50), (0.48, 0.86)], [(0.25, 0.2), (0.75, 0.2)],
           [(0.3, 0.3), (0.7, 0.7), (0.3, 0.7), (0.7, 0.3)])


def write_model(path: Path, sizes: tuple[int, ...], seed: int = 0) -> Path:
    """He-initialised float32 weights, zero biases, in mlplens' npz layout."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for k, (inputs, units) in enumerate(pairwise(sizes), start=1):
        arrays[f"W{k}"] = rng.normal(0, np.sqrt(2 / inputs), (inputs, units)).astype(np.float32)
        arrays[f"b{k}"] = np.zeros(units, np.float32)
    np.savez(path, **arrays)
    return path


@contextmanager
def base_checkout(commit: str) -> Iterator[Path]:
    """COMMIT's source in a temporary git worktree, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="mlplens-base-") as scratch:
        folder = Path(scratch) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", str(folder), commit],
                       cwd=common.REPO, check=True, capture_output=True)
        try:
            yield folder
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(folder)],
                           cwd=common.REPO, check=True, capture_output=True)


def write_page(source: Path, model: Path, page: Path) -> dict[str, Any]:
    """`mlplens explore` from `source`'s src folder: wall time and the child's peak RSS."""
    measured = common.run_measured([sys.executable, "-m", "mlplens", "explore", str(model),
                                    "-o", str(page)],
                                   env={"PYTHONPATH": str(source / "src")})
    if measured["returncode"] != 0:
        raise RuntimeError(f"writing {page} from {source} failed ({measured['returncode']})")
    return {**measured, "html_mb": page.stat().st_size / 1e6}


def load_ms(browser: Any, page: Path) -> float:
    """Navigation to first draw, in a fresh browser context."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        tab = context.new_page()
        tab.goto(page.resolve().as_uri(), wait_until="commit", timeout=120_000)
        return float(tab.wait_for_function(FIRST_DRAW, polling="raf", timeout=120_000)
                     .json_value())
    finally:
        context.close()


def update_ms(browser: Any, page: Path) -> list[float]:
    """The page's whole-update times (pad -> forward pass -> redraw) over a few strokes."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        tab = context.new_page()
        tab.goto(page.resolve().as_uri(), timeout=120_000)
        tab.wait_for_function("window.mlplens && window.mlplens.ready", timeout=120_000)
        tab.keyboard.press("c")
        tab.evaluate("() => { window.mlplens.state.timings.length = 0; }")
        box = tab.locator("#pad").bounding_box()
        for stroke in STROKES:
            at = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in stroke]
            since = tab.evaluate("() => Number(document.body.dataset.frame)")
            tab.mouse.move(*at[0])
            tab.mouse.down()
            for point in at[1:]:
                tab.mouse.move(*point, steps=12)
            tab.mouse.up()
            tab.wait_for_function("(since) => Number(document.body.dataset.frame) > since && "
                                  "!window.mlplens.state.stroke", arg=since)
        return [float(t) for t in
                tab.evaluate("() => window.mlplens.state.timings.map((t) => t.update)")]
    finally:
        context.close()


def main() -> None:
    arguments = common.parser(__doc__.split("\n\n")[0])
    arguments.add_argument("--base", help="the commit measured as 'before' (default: "
                                          "git merge-base HEAD main)")
    options = arguments.parse_args()
    rounds = 1 if options.quick else 3
    base = options.base or subprocess.run(["git", "merge-base", "HEAD", "main"], cwd=common.REPO,
                                          check=True, capture_output=True,
                                          text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="mlplens-explorer-bench-") as folder:
        results = measure(Path(folder), base, rounds)
    report(results, base, rounds)


def measure(scratch: Path, base: str, rounds: int) -> dict[str, dict[str, Any]]:
    """Every figure of both nets on both sides, pages and models kept in `scratch`."""
    models = {net: write_model(scratch / f"net{i}.npz", sizes)
              for i, (net, sizes) in enumerate(NETS.items())}
    results: dict[str, dict[str, Any]] = {net: {} for net in NETS}
    with base_checkout(base) as before:
        sides = {"before": before, "after": common.REPO}
        pages = {(net, side): scratch / f"{side}-{i}.html"
                 for i, net in enumerate(NETS) for side in sides}
        writes: dict[tuple[str, str], list[dict[str, Any]]] = {key: [] for key in pages}
        for _ in range(rounds):  # sides alternate, so the machine's other load falls on both
            for net, model in models.items():
                for side, source in sides.items():
                    writes[net, side].append(write_page(source, model, pages[net, side]))
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--headless", "--no-sandbox"])
        loads: dict[tuple[str, str], list[float]] = {key: [] for key in pages}
        for _ in range(rounds):
            for key, page in pages.items():
                loads[key].append(load_ms(browser, page))
        updates = {key: update_ms(browser, page) for key, page in pages.items()}
        browser.close()
    for (net, side), measured in writes.items():
        results[net][side] = {
            "write_seconds": common.median(m["seconds"] for m in measured),
            "peak_rss_mib": common.median(m["peak_rss_mib"] for m in measured),
            "html_mb": measured[-1]["html_mb"],
            "load_ms": common.median(loads[net, side]),
            "update_median_ms": common.median(updates[net, side]),
            "update_worst_ms": max(updates[net, side]),
            "updates": len(updates[net, side])}
    return results


def report(results: dict[str, dict[str, Any]], base: str, rounds: int) -> None:
    """The side-by-side table, the issue's targets, and the JSON."""
    common.heading(f"explorer page: before ({base[:10]}) vs after, median of {rounds}")
    keys = (("write_seconds", "write s"), ("peak_rss_mib", "peak RSS MiB"),
            ("html_mb", "HTML MB"), ("load_ms", "load ms"),
            ("update_median_ms", "update median ms"), ("update_worst_ms", "update worst ms"))
    rows = []
    for net, sides in results.items():
        for key, label in keys:
            old, new = sides["before"][key], sides["after"][key]
            rows.append([f"{net}: {label}", old, new, f"{common.ratio(old, new):.2f}x"])
    print(common.table(["measure", "before", "after", "before/after"], rows))
    wide = results["wide 784-2048-1024-10"]["after"]
    article = results["article 784-512-256-10"]
    targets = [common.target("wide net: page written", wide["write_seconds"], 3, "s"),
               common.target("wide net: peak memory writing", wide["peak_rss_mib"] * 2**20 / 1e6,
                             400, "MB"),
               common.target("wide net: page loaded", wide["load_ms"] / 1000, 2, "s"),
               common.target("wide net: update median", wide["update_median_ms"], 16, "ms"),
               common.target("article's net: write time after / before",
                             common.ratio(article["after"]["write_seconds"],
                                          article["before"]["write_seconds"]), 1.1, "x"),
               common.target("article's net: load time after / before",
                             common.ratio(article["after"]["load_ms"],
                                          article["before"]["load_ms"]), 1.1, "x")]
    common.print_targets(targets)
    common.write_results("explorer", {"base": base, "rounds": rounds, "nets": results,
                                      "targets": targets})


if __name__ == "__main__":
    main()
