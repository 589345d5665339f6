"""What a figure writer made, as records: the kind of each output, its layer and its path, so
callers place and caption outputs by what they are and never read a file name back."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path


@dataclass(frozen=True)
class Output:
    """One file written: `kind` says what it is ("layer", "arrays", "fidelity", "per-class",
    "examples", "nodes", "nodes-csv", "layer-csv", ...), `layer` which Dense layer it shows
    (1 = first; None for a whole-net output), `caption` what a reader is told of it."""

    kind: str
    layer: int | None
    path: Path
    caption: str = ""

    @property
    def is_picture(self) -> bool:
        return self.path.suffix in (".png", ".gif")

    def captioned(self, caption: str) -> "Output":
        return replace(self, caption=caption)


def paths_of(outputs: Iterable[Output]) -> list[Path]:
    return [output.path for output in outputs]
