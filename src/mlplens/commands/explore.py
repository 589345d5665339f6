"""`mlplens explore`: one offline HTML page to draw a digit and watch every node."""

from __future__ import annotations

import argparse

from .arguments import (
    add_activations_option,
    add_data_option,
    add_feature_names_option,
    add_head_option,
    add_image_shape_option,
    open_model_from,
    positive,
    print_paths,
)


def add_parser(commands: argparse._SubParsersAction) -> None:
    explore = commands.add_parser(
        "explore", help="one offline HTML page: draw a digit (or pick an image) and watch every "
                        "node",
        description="Write a self-contained HTML page (no server, no network) with the model's "
                    "weights, every node's pictures and statistics, the data's test images and "
                    "class names (MNIST's by default) and, when the run has them, its training "
                    "snapshots. A 28x28 grey model gets a drawing pad; any other the data's "
                    "test images to click and an image loader. With a second model B, one page "
                    "for both: one drawing, both nets' predictions, and each hidden layer's "
                    "most active nodes of A above the nodes of B matched to them (as 'mlplens "
                    "compare' matches them, on the first 2,000 test images).")
    explore.add_argument("model", metavar="MODEL",
                         help="a model file (.keras, .h5, .safetensors, .onnx or .npz) whose "
                              "input is an image")
    explore.add_argument("other", metavar="B", nargs="?",
                         help="a second model that takes the same 28x28 grey digits: one page "
                              "with one drawing, both nets' predictions and each hidden layer's "
                              "most active nodes beside the nodes of B matched to them")
    explore.add_argument("-o", "--output", default="explorer.html", metavar="FILE",
                         help="the page to write (default: explorer.html)")
    explore.add_argument("--snapshots", metavar="FILE",
                         help="training snapshots (default: snapshots.npz beside MODEL, if any)")
    explore.add_argument("--frames", type=positive, default=8, metavar="N",
                         help="slider positions for the training snapshots, the trained model "
                              "last (default: 8; 1 for no slider; each frame adds about "
                              "0.8 MB for the article's net)")
    add_image_shape_option(explore)
    add_activations_option(explore)
    add_feature_names_option(explore)
    add_data_option(explore)
    add_head_option(explore)


def run(args: argparse.Namespace) -> None:
    from pathlib import Path

    if args.other is not None:
        _run_twin(args)
        return

    from ..destination import check_file
    from ..formats.model_data import default_data
    from ..report import refuse_tables, write_explorer
    from ..snapshots import SNAPSHOT_FILE, load_snapshots

    check_file(args.output)
    model = Path(args.model)
    opened = open_model_from(args, needs_data=False)
    refuse_tables(opened.stack, opened.name)  # before any data is looked for
    data = opened.data or default_data(opened.stack, opened.name)
    if args.snapshots:
        snapshots = load_snapshots(args.snapshots)
    elif (model.parent / SNAPSHOT_FILE).is_file():
        snapshots = load_snapshots(model.parent / SNAPSHOT_FILE)
    else:
        snapshots = None
    print_paths([write_explorer(args.output, opened.stack, data, model_name=opened.name,
                                snapshots=snapshots, max_frames=args.frames)])


def _run_twin(args: argparse.Namespace) -> None:
    """`explore A B`: both nets in one page."""
    from ..core.compare import check_comparable
    from ..destination import check_file
    from ..errors import MlplensError
    from ..formats.model_data import default_data, open_model
    from ..report.twin import refuse_other_inputs, write_twin_explorer

    check_file(args.output)
    if args.snapshots:
        raise MlplensError("--snapshots is for one net's explorer, not for 'explore A B'")
    first = open_model_from(args, needs_data=False)
    second = open_model(args.other, first.data, needs_data=False,
                        image_shape=tuple(args.image_shape) if args.image_shape else None,
                        pixel_scale=args.pixel_scale)
    names = (first.name, second.name) if first.name != second.name else (args.model, args.other)
    for name, opened in zip(names, (first, second)):
        refuse_other_inputs(opened.stack, str(name))
    check_comparable(first.stack, second.stack, *map(str, names))
    data = first.data or default_data(first.stack, first.name)
    print_paths([write_twin_explorer(args.output, [(str(names[0]), first.stack),
                                                   (str(names[1]), second.stack)],
                                     data, first.class_names)])
