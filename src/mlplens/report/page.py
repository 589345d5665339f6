"""Fill the page templates (package assets) into self-contained HTML files.

The template, its CSS and its JavaScript live in report/assets/ and are read as package data;
this module only inserts them, with the page's data as JSON that cannot end its <script> element,
and a Content-Security-Policy that admits exactly the inline script and style of the page (by
SHA-256) and nothing from any address.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any

_SLOT = re.compile(r"\{\{(\w+)\}\}")

# The explorer's script files (report/assets/js/NAME.js), in the order they are joined into the
# page's one inline script: the pure parts first, then the parts of the page, then main. Each
# file only declares functions and constants; the script's last line starts the page.
EXPLORER_SCRIPTS = ("decode", "activations", "net", "interventions", "circuit", "mnist_like",
                    "image_input", "pen", "enough_ink", "paint", "format", "pad", "image_loader",
                    "references", "bars", "strips", "node_panel", "gallery", "training",
                    "intervention_controls", "circuit_panel", "main")


def asset(*path: str) -> str:
    """The text of report/assets/PATH (a name, or a folder and a name)."""
    return resources.files(__package__).joinpath("assets", *path).read_text(encoding="utf-8")


def source_hash(text: str) -> str:
    """A CSP source for one inline <script> or <style> element's exact text."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def policy(styles: list[str], scripts: list[str]) -> str:
    """No network of any kind: images only from data:/blob:, only these inline blocks run."""
    parts = ["default-src 'none'", "img-src data: blob:", "base-uri 'none'",
             "form-action 'none'", "style-src " + " ".join(source_hash(s) for s in styles)]
    parts.append("script-src " + (" ".join(source_hash(s) for s in scripts)
                                  if scripts else "'none'"))
    return "; ".join(parts)


def _escaped(text: str) -> str:
    """JSON text safe inside <script type="application/json">: no '<' (so no '</script>'), no
    '&', and no line separators that older parsers mistake for line ends. Each replaced
    character stands alone, so pieces of one JSON text can be escaped one by one."""
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def json_for_script(data: Any) -> str:
    """`data` as JSON safe inside <script type="application/json"> (see _escaped)."""
    return _escaped(_ENCODER.encode(data))


def json_pieces_for_script(data: Any) -> Iterator[str]:
    """json_for_script's text in pieces, so a page of tens of MB is never one string."""
    for piece in _ENCODER.iterencode(data):
        yield _escaped(piece)


def fill(template: str, slots: Mapping[str, str]) -> str:
    """Replace every {{name}} once, in one pass, so inserted text is never scanned again."""
    missing = set(_SLOT.findall(template)) - set(slots)
    if missing:
        raise KeyError(f"template slots without values: {sorted(missing)}")
    return _SLOT.sub(lambda match: slots[match.group(1)], template)


def escape(text: object) -> str:
    """Any text from a model or a file name, as HTML text or attribute value."""
    return html.escape(str(text), quote=True)


def head(title: str, css: str, scripts: list[str]) -> str:
    """The <head> every page shares: its policy, title, style, and no favicon request."""
    return fill(asset("head.html"), {"csp": escape(policy([css], scripts)),
                                     "title": escape(title), "css": css})


def explorer_script() -> str:
    """The explorer's JavaScript: its files joined in one function scope (their names stay out
    of the page's globals), in strict mode, then the call that starts the page."""
    files = "\n".join(asset("js", f"{name}.js") for name in EXPLORER_SCRIPTS)
    return f"(function () {{\n'use strict';\n\n{files}\nstartExplorer();\n}})();\n"


def render_explorer_bytes(data_text: int) -> int:
    """render_explorer's peak beside its data (`data_text` bytes of strings in it): the pieces
    as they are joined, then the page: two copies."""
    return 2 * data_text


_DATA = "\0data\0"  # stands for the data while the rest is filled: no page text holds NUL


def explorer_pieces(data: dict[str, Any], title: str) -> Iterator[str]:
    """The explorer page: template + CSS + JS + the data from `pagedata.explorer_data`, in
    pieces to be joined or written one by one."""
    css, script = asset("explorer.css"), explorer_script()
    before, _, after = fill(asset("explorer.html"), {"head": head(title, css, [script]),
                                                     "script": script, "data": _DATA}
                            ).partition(_DATA)
    yield before
    yield from json_pieces_for_script(data)
    yield after


def render_explorer(data: dict[str, Any], title: str) -> str:
    """The explorer page as one string."""
    return "".join(explorer_pieces(data, title))
