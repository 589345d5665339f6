"""Which of reproduce's figures goes in which section of report.html, and which are embedded.

The page embeds the figure the article shows in each of its sections and one or two telling
figures of each later section; every other figure is linked to its file beside the report, so
the page stays small enough to open at once.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from ..report.story import Figure
from .beyond_article import BeyondFigure
from .outputs import Output

# Beyond-the-article figures, by the method that drew them: (section, the (kind, layer) of the
# outputs embedded for the 60,000-image net, None: any layer). Any other method's go to
# "other-methods".
BY_METHOD = {"gradient": ("exact", (("fidelity", 2), ("per-class", None))),
             "examples": ("examples", (("examples", 1),)),
             "maximize": ("maximize", (("layer", 3),))}
EMBEDDED_CHECKS = ("randomization-curves", "deletion-insertion")  # kinds of checks' figures
EMBEDDED_FEATURES = ("features-linear",)


class StoryFigures:
    """Figures collected section by section, in the order they are added."""

    def __init__(self, full: str) -> None:
        self.full = full  # the run whose figures the story embeds
        self.sections: dict[str, list[Figure]] = defaultdict(list)

    def add(self, section: str, path: Path, caption: str, embed: bool = False) -> None:
        self.sections[section].append(Figure(path, caption, embed))

    def add_layer(self, run: str, method: str, output: Output, depth: int) -> None:
        """A layer mosaic of one of the article's nets (of a `depth`-layer net)."""
        layer = output.layer
        if depth == 1:
            section = "single-layer"
        else:
            section = "output" if layer == depth else f"hidden-{layer}"
        embed = method == "seed" and (run == self.full or depth == 1)
        self.add(section, output.path, output.caption, embed)

    def add_beyond(self, figure: BeyondFigure) -> None:
        """A figure of `beyond_the_article`, placed by the method that drew it, or by its kind
        (where digits write, evolution)."""
        output = figure.output
        if figure.method in BY_METHOD:
            section, embedded = BY_METHOD[figure.method]
            embed = figure.net == self.full and any(
                output.kind == kind and layer in (None, output.layer) for kind, layer in embedded)
            self.add(section, output.path, output.caption, embed)
        elif figure.method is None:
            self.add(output.kind, output.path, output.caption, embed=True)
        else:
            self.add("other-methods", output.path, output.caption)

    def add_checks(self, run: str, figures: list[Output]) -> None:
        for figure in figures:
            self.add("checks", figure.path, figure.caption,
                     run == self.full and figure.kind in EMBEDDED_CHECKS)

    def add_features(self, figures: list[Output]) -> None:
        """Feature figures, the last layer's first kinds embedded."""
        last = max((output.layer or 0 for output in figures), default=0)
        for output in figures:
            self.add("features", output.path, output.caption,
                     output.layer == last and output.kind in EMBEDDED_FEATURES)

    def add_circuits(self, figures: list[tuple[Path, str]]) -> None:
        """The circuits, the first one embedded."""
        for k, (path, caption) in enumerate(figures):
            self.add("circuits", path, caption, embed=k == 0)
