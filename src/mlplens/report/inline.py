"""The explorer inside a notebook: the same self-contained page, shown in a sandboxed iframe.

The page travels in the iframe's `srcdoc`, so JupyterLab, Notebook 7 and VS Code show it with no
server and no extension; the sandbox lets its one script run and nothing else (no same-origin
access to the notebook), and the page's own Content-Security-Policy still forbids every request.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from ..core.stack import DenseStack
from ..datasets import Dataset, load_dataset
from ..output import write_text
from ..snapshots import Snapshots
from .explorer import build_explorer


class Explorer:
    """Draw a digit (or pick or load an image) and watch every node, in a notebook cell (or
    saved as a page); `data` gives the test images and class names (default: MNIST)."""

    def __init__(self, stack: DenseStack, data: Dataset | None = None, *,
                 snapshots: Snapshots | None = None, frames: int = 1, name: str = "",
                 height: int = 1100) -> None:
        self.page = build_explorer(stack, data if data is not None else load_dataset(),
                                   model_name=name, snapshots=snapshots, max_frames=frames)
        self.height = height

    def _repr_html_(self) -> str:
        return (f'<iframe sandbox="allow-scripts" title="mlplens explorer" '
                f'style="width: 100%; height: {self.height}px; border: 0" '
                f'srcdoc="{html.escape(self.page, quote=True)}"></iframe>')

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the page as a file that opens in any browser, offline."""
        return write_text(path, self.page)
