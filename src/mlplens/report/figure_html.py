"""One figure of the report as HTML: embedded with a script-free zoom, or a link to its file.

A mosaic of 512 nodes is 1924 px wide; the page shows it at the column's width and a tap opens
it at full size. The zoom is the figure itself as the :target of its own link (CSS turns it into
a scrolling overlay), so the picture is in the page once and the report needs no script.
"""

from __future__ import annotations

import base64
import struct
from pathlib import Path

from .page import escape
from .story import Figure


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG or GIF from its header, so the page reserves its box."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:4] == b"GIF8" and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    return None


def _file_link(path: Path, out: Path) -> str:
    name = escape(path.relative_to(out).as_posix())
    return f'<a class="file" href="{name}">{name}</a>'


def embedded(figure: Figure, out: Path, anchor: str) -> str:
    """The figure in the page; `anchor` names its zoom (#zoom-ANCHOR) and its place."""
    data = figure.path.read_bytes()
    mime = "image/gif" if figure.path.suffix == ".gif" else "image/png"
    size = image_size(data)
    box = f' width="{size[0]}" height="{size[1]}"' if size else ""
    caption = escape(figure.caption)
    return (f'<span class="place" id="at-{anchor}"></span>'
            f'<figure class="zoomable" id="zoom-{anchor}">'
            f'<a class="open" href="#zoom-{anchor}" title="Full size">'
            f'<img src="data:{mime};base64,{base64.b64encode(data).decode("ascii")}" '
            f'alt="{caption}"{box}></a>'
            f'<a class="close" href="#at-{anchor}">Close</a>'
            f'<figcaption>{caption} <span class="hint">Click or tap the picture for full '
            f'size.</span> {_file_link(figure.path, out)}</figcaption></figure>')


def linked(figure: Figure, out: Path) -> str:
    """A list item pointing at a figure that stays beside the report."""
    return f"<li>{_file_link(figure.path, out)}: {escape(figure.caption)}</li>"
