"""report.html: a reproduce run told as the article's story, in one self-contained page.

Each section of `story` gets its figures embedded (with a zoom) or linked to their files beside
the report, so the page stays one file that opens offline and loads fast.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..datasets import Dataset
from ..output import write_text
from .explorer import write_explorer
from .figure_html import embedded, linked
from .page import asset, escape, fill, head
from .story import Section

EXPLORER_FILE = "explorer.html"
REPORT_FILE = "report.html"


def _href(path: Path, out: Path) -> str:
    return escape(path.relative_to(out).as_posix())


def _section(section: Section, number: int, out: Path) -> str:
    parts = [f'<section id="{section.id}"><h2>{number}. {escape(section.title)}</h2>']
    parts += [f"<p>{escape(text)}</p>" for text in section.paragraphs]
    shown = [figure for figure in section.figures if figure.embed]
    parts += [embedded(figure, out, f"{section.id}-{k}") for k, figure in enumerate(shown, 1)]
    rest = [figure for figure in section.figures if not figure.embed]
    if rest:
        parts.append('<details class="more"><summary>More figures of this section '
                     f'({len(rest)}, files beside this page)</summary><ul>'
                     + "".join(linked(figure, out) for figure in rest) + "</ul></details>")
    return "".join(parts) + "</section>"


def _contents(sections: Sequence[Section]) -> str:
    def items(beyond: bool) -> str:
        return "".join(f'<li value="{number}"><a href="#{section.id}">{escape(section.title)}'
                       "</a></li>" for number, section in enumerate(sections, 1)
                       if section.beyond == beyond)
    return (f'<h2>Contents</h2><div class="toc"><div><h3>The article</h3><ol>{items(False)}</ol>'
            f'</div><div><h3>Beyond the article</h3><ol>{items(True)}</ol>'
            '<ul class="plain"><li><a href="#runs">The runs and their explorers</a></li></ul>'
            "</div></div>")


def _runs(runs: Sequence[Mapping[str, Any]], out: Path) -> str:
    rows = []
    for run in runs:
        explorer = run.get("explorer")
        link = (f'<a href="{_href(explorer, out)}">{_href(explorer, out)}</a>'
                if explorer else "")
        rows.append(f"<tr><td><code>{escape(run['name'])}</code></td>"
                    f"<td>{escape(run['architecture'])}</td>"
                    f"<td class=\"num\">{int(run['train_samples']):,}</td>"
                    f"<td class=\"num\">{int(run['epochs'])}</td>"
                    f"<td class=\"num\">{float(run['test_accuracy']):.4f}</td>"
                    f"<td class=\"num\">{float(run['seconds']):.1f} s</td><td>{link}</td></tr>")
    return "".join(rows)


def _explorers(runs: Sequence[Mapping[str, Any]], out: Path) -> str:
    links = [f'<a href="{_href(run["explorer"], out)}">{escape(run["name"])}</a>'
             for run in runs if run.get("explorer")]
    return ("Draw a digit and watch every node in each net's explorer: " + ", ".join(links)
            + "." if links else "")


def render_report(out: Path, runs: Sequence[Mapping[str, Any]], sections: Sequence[Section],
                  seconds: float, quick: bool) -> str:
    """The report's HTML. Each run: name, architecture, train_samples, epochs, test_accuracy,
    seconds and explorer (a path under `out`, or None)."""
    notice = ('<p class="notice"><b>Quick run</b>: fewer images and one epoch; the pictures are '
              'rougher than the article\'s.</p>' if quick else "")
    return fill(asset("report.html"), {
        "head": head("mlplens reproduce", asset("report.css"), []), "title": "mlplens reproduce",
        "notice": notice, "explorers": _explorers(runs, out), "contents": _contents(sections),
        "sections": "\n".join(_section(section, number, out)
                              for number, section in enumerate(sections, 1)),
        "runs": _runs(runs, out),
        "timing": escape(f"Total wall time {seconds:.1f} s (training, figures and explorers).")})


def write_run_pages(out: str | os.PathLike[str], runs: Mapping[str, tuple[Any, Any]],
                    sections: Sequence[Section], mnist: Dataset, quick: bool,
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
        rows.append(_run_row(plan, trained, page))
    html = render_report(out, rows, sections, time.perf_counter() - started, quick)
    written.append(write_text(out / REPORT_FILE, html))
    return written


def _run_row(plan: Any, trained: Any, explorer: Path | None) -> dict[str, Any]:
    """One row of the runs table, from a plan and its trained net."""
    return {"name": plan.name, "architecture": plan.architecture,
            "train_samples": plan.train_samples, "epochs": plan.epochs,
            "test_accuracy": trained.metrics["test_accuracy"],
            "seconds": trained.metrics["seconds"], "explorer": explorer}
