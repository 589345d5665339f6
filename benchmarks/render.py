"""Drawing a layer: one matplotlib subplot per node vs the NumPy/Pillow mosaic, plain and labelled.

    python -m benchmarks.render [--quick]

For 512, 256 and 10 nodes (the article's three layers): the article's way (one subplot per node
on a 20 x 20 inch figure, benchmarks/article_baseline.py), `node_mosaic` without labels, and the
labelled mosaic `mlplens visualize` writes (labels, title, colour bar). Every time includes
writing the PNG file. The three alternate within each round.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from benchmarks import common
from benchmarks.article_baseline import draw_nodes

SIZES = (512, 256, 10)


def random_stack(widths: tuple[int, ...], seed: int = 0):
    """A 784-...-10 stack with Glorot-uniform weights: node pictures that look like a net's."""
    from mlplens import DenseStack

    rng = np.random.default_rng(seed)
    sizes = (784, *widths)
    kernels = [rng.uniform(-1, 1, (a, b)).astype(np.float32) * np.sqrt(6 / (a + b))
               for a, b in zip(sizes, sizes[1:])]
    return DenseStack.from_arrays(kernels)


def main() -> None:
    arguments = common.parser(__doc__.split("\n\n")[0])
    options = arguments.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    from mlplens.render import colormap_lut, node_mosaic
    from mlplens.layout.views import layer_views
    from mlplens.figures.layers import default_scale, render_view
    from mlplens.output import save_png

    rounds = 3 if options.quick else 7
    subplot_rounds = 1 if options.quick else 2  # a 512-node figure takes most of a minute
    common.heading(f"render: one layer's node pictures to a PNG ({rounds} rounds, the article's "
                   f"subplots {subplot_rounds})")
    views = {view.raw.shape[0]: view for view in layer_views(random_stack((512, 256, 10)))}
    rows, results, targets = [], {}, []
    with tempfile.TemporaryDirectory(prefix="mlplens-bench-") as scratch:
        folder = Path(scratch)
        for count in SIZES:
            view = views[count]
            scale = default_scale(count)
            candidates = {
                "subplots (article)": lambda: draw_nodes(list(view.images),
                                                         folder / "subplots.png", "viridis",
                                                         titled=count <= 10),
                "mosaic": lambda: save_png(node_mosaic(view.images, colormap_lut("viridis"),
                                                       scale=scale), folder / "mosaic.png"),
                "labelled mosaic": lambda: save_png(render_view(view, "viridis", scale),
                                                    folder / "labelled.png"),
            }
            candidates["labelled mosaic"]()  # fonts and colour tables load once, untimed
            times = common.alternate(candidates, rounds, counts={"subplots (article)":
                                                                 subplot_rounds})
            medians = {name: common.median(values) for name, values in times.items()}
            results[count] = {"seconds": times, "median_seconds": medians}
            for name, seconds in medians.items():
                rows.append([f"{count} nodes: {name}", seconds,
                             common.ratio(medians["subplots (article)"], seconds)])
            if count == 512:
                targets.append(common.target("labelled 512-node grid, drawn and saved",
                                             medians["labelled mosaic"], 0.2, "s"))
    print(common.table(["", "seconds (median)", "speed-up vs subplots"], rows))
    common.print_targets(targets)
    common.write_results("render", {"rounds": rounds, "subplot_rounds": subplot_rounds,
                                    "sizes": results, "targets": targets})


if __name__ == "__main__":
    main()
