"""report.html: one self-contained page for a reproduce run, with every figure inside it."""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..data import Mnist
from ..output import write_text
from .explorer import write_explorer
from .page import asset, escape, fill, head

EXPLORER_FILE = "explorer.html"
REPORT_FILE = "report.html"


def _href(path: Path, out: Path) -> str:
    return escape(path.relative_to(out).as_posix())


def _figure(path: Path, caption: str, out: Path) -> str:
    picture = base64.b64encode(path.read_bytes()).decode("ascii")
    mime = "image/gif" if path.suffix == ".gif" else "image/png"
    return (f'<figure><img src="data:{mime};base64,{picture}" alt="{escape(caption)}">'
            f'<figcaption>{escape(caption)} <a href="{_href(path, out)}">'
            f'{escape(path.relative_to(out).as_posix())}</a></figcaption></figure>')


def render_report(out: Path, runs: Sequence[Mapping[str, Any]],
                  figures: Sequence[tuple[Path, str]], seconds: float, quick: bool) -> str:
    """The report's HTML. Each run: name, architecture, train_samples, epochs, test_accuracy,
    seconds and explorer (a path under `out`, or None)."""
    rows = []
    for run in runs:
        explorer = run.get("explorer")
        link = (f'<a href="{_href(explorer, out)}">{escape(explorer.relative_to(out).as_posix())}'
                f'</a>' if explorer else "")
        rows.append(f"<tr><td><code>{escape(run['name'])}</code></td>"
                    f"<td>{escape(run['architecture'])}</td>"
                    f"<td class=\"num\">{int(run['train_samples']):,}</td>"
                    f"<td class=\"num\">{int(run['epochs'])}</td>"
                    f"<td class=\"num\">{float(run['test_accuracy']):.4f}</td>"
                    f"<td class=\"num\">{float(run['seconds']):.1f} s</td><td>{link}</td></tr>")
    notice = ('<p class="notice"><b>Quick run</b>: fewer images and one epoch; the pictures are '
              'rougher than the article\'s.</p>' if quick else "")
    return fill(asset("report.html"), {
        "head": head("mlplens reproduce", asset("report.css"), []), "title": "mlplens reproduce",
        "notice": notice, "runs": "".join(rows),
        "timing": escape(f"Total wall time {seconds:.1f} s (training, figures and explorers)."),
        "figures": "\n".join(_figure(path, caption, out) for path, caption in figures)})


def write_run_pages(out: str | os.PathLike[str], runs: Mapping[str, tuple[Any, Any]],
                    figures: Sequence[tuple[Path, str]], mnist: Mnist, quick: bool,
                    started: float, log: Callable[[str], None] | None = None) -> list[Path]:
    """An explorer per trained net (RUN/explorer.html) and report.html; their paths, report last.

    `runs` maps a key to (plan, trained) as `mlplens.figures.article.reproduce` has them: plan.name,
    .architecture, .train_samples, .epochs; trained.stack, .metrics, .snapshots.
    """
    out = Path(out)
    written, rows = [], []
    for plan, trained in runs.values():
        if log:
            log(f"writing the explorer of {plan.name}")
        page = write_explorer(out / plan.name / EXPLORER_FILE, trained.stack, mnist,
                              model_name=f"{plan.name}/model.keras", snapshots=trained.snapshots)
        written.append(page)
        rows.append({"name": plan.name, "architecture": plan.architecture,
                     "train_samples": plan.train_samples, "epochs": plan.epochs,
                     "test_accuracy": trained.metrics["test_accuracy"],
                     "seconds": trained.metrics["seconds"], "explorer": page})
    html = render_report(out, rows, figures, time.perf_counter() - started, quick)
    written.append(write_text(out / REPORT_FILE, html))
    return written
