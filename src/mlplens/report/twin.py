"""Two nets in one explorer page (`mlplens explore A B`): one drawing, both nets' predictions,
and for each hidden layer of A its most active nodes beside the nodes of B they were matched to
(`core.compare`), each pair linked.

The page reuses the explorer's JavaScript for decoding, the forward pass, the pen and the pad
(`TWIN_SCRIPTS`) and adds its own (assets/twin/); its data is built here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core.classes import class_names_for
from ..core.compare import Comparison, compare
from ..core.mnist_like import MIN_INK, MIN_ROWS, PEN
from ..core.stack import DenseStack
from ..datasets import Dataset
from ..errors import MlplensError
from ..layout.views import layer_views
from ..memory import require
from ..output import atomic_path
from .page import asset, fill, head, json_pieces_for_script
from .pagedata import b64, data_bytes, layer_weights

# The explorer's script files (report/assets/js/) the page shares, in the explorer's order;
# report/assets/twin/twin.js, which starts the page, comes last.
TWIN_SCRIPTS = ("decode", "activations", "net", "mnist_like", "pen", "paint", "format", "pad")
DIGITS = 100  # test digits embedded to start from
MATCH_IMAGES = 2000  # test images the nodes are matched on


def refuse_other_inputs(stack: DenseStack, name: str) -> None:
    """Both nets are drawn on the one 28x28 pad."""
    if stack.is_tabular or stack.picture_shape != (28, 28):
        raise MlplensError(f"{name} does not take 28x28 grey images: 'explore A B' draws one "
                           "digit on the pad for both nets")


def _net(name: str, stack: DenseStack) -> dict[str, Any]:
    """A net's weights, pixel scale and its hidden nodes' linear pictures."""
    views = layer_views(stack, "linear", "minmax")[:-1]
    return {"name": name, "describe": stack.describe(),
            "pixel_scale": {"high": stack.pixel_scale.high, "mean": stack.pixel_scale.mean,
                            "std": stack.pixel_scale.std},
            "layers": [layer_weights(layer) for layer in stack.layers],
            "pictures": [{"shape": list(view.images.shape), "pixels": b64(view.images, "u1")}
                         for view in views]}


def twin_data(nets: Sequence[tuple[str, DenseStack]], found: Comparison, digits: np.ndarray,
              labels: np.ndarray, class_names: Sequence[str] | None, source: str) -> dict:
    """The page's data: both nets, the matching of A's hidden nodes to B's, and test digits."""
    return {
        "nets": [_net(name, stack) for name, stack in nets],
        "class_names": list(class_names_for(class_names, nets[0][1].widths[-1])),
        "pen": PEN, "min_rows": MIN_ROWS, "min_ink": MIN_INK,
        "cka": found.cka.round(6).tolist(), "images": found.images,
        "matches": [{"layer": m.layer, "other": m.other, "nodes": m.nodes.tolist(),
                     "correlations": [None if n < 0 else round(float(r), 4)
                                      for n, r in zip(m.nodes, m.correlations)]}
                    for m in found.matches],
        "digits": {"count": int(len(digits)), "pixels": b64(digits, "u1"),
                   "labels": b64(np.asarray(labels), "u1"), "source": source},
    }


def twin_bytes(a: DenseStack, b: DenseStack, digits: int) -> int:
    """The page's text for both nets (their weights, hidden pictures and the digits), held as
    pieces and as the page: three copies."""
    return 3 * sum(data_bytes(stack, sum(stack.widths[:-1]), digits) for stack in (a, b))


def twin_script() -> str:
    files = "\n".join([*(asset("js", f"{name}.js") for name in TWIN_SCRIPTS),
                       asset("twin", "twin.js")])
    return f"(function () {{\n'use strict';\n\n{files}\nstartTwin();\n}})();\n"


def twin_pieces(data: dict, title: str) -> Iterator[str]:
    css, script = asset("twin", "twin.css"), twin_script()
    marker = "\0data\0"
    before, _, after = fill(asset("twin", "twin.html"), {"head": head(title, css, [script]),
                                                 "script": script, "data": marker}
                            ).partition(marker)
    yield before
    yield from json_pieces_for_script(data)
    yield after


def write_twin_explorer(path: str | os.PathLike[str], nets: Sequence[tuple[str, DenseStack]],
                        data: Dataset, class_names: Sequence[str] | None = None) -> Path:
    """Match the two nets on the data's first test images and write the page atomically."""
    (name_a, a), (name_b, b) = nets
    for name, stack in nets:
        refuse_other_inputs(stack, name)
    shown = min(DIGITS, len(data.x_test))
    require(twin_bytes(a, b, shown), f"the explorer page of {name_a} and {name_b}")
    found = compare(a, b, data.x_test[:MATCH_IMAGES])
    page = twin_data(nets, found, data.x_test[:shown], data.y_test[:shown], class_names,
                     f"{data.name} test images 0-{shown - 1}")
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        handle.writelines(twin_pieces(page, f"mlplens explorer: {name_a} and {name_b}"))
    return Path(path)
