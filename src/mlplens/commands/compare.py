"""`mlplens compare`: two nets side by side, layer by layer and node by node."""

from __future__ import annotations

import argparse

from .arguments import (add_activations_option, add_data_option, add_image_shape_option,
                        count_of, positive, print_paths)


def _correlation(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not -1 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a correlation above -1 and at most 1, got "
                                         f"{value:g}")
    return value


def _arguments(compare: argparse.ArgumentParser) -> None:
    from ..core.compare import ALONE_BELOW
    from ..methods import METHODS

    compare.add_argument("a", metavar="A", help="a model file (.keras, .h5, .safetensors, .onnx "
                                                "or .npz)")
    compare.add_argument("b", metavar="B", help="another model file that takes the same inputs")
    compare.add_argument("--out", required=True, metavar="DIR", help="output folder")
    compare.add_argument("--images", type=positive, metavar="N",
                         help="compare on the first N test images of --data (default: all)")
    compare.add_argument("--method", choices=list(METHODS), default="linear",
                         help="how the nodes' pictures are drawn (default: linear)")
    compare.add_argument("--reference", type=positive, metavar="N",
                         help="for a method that needs data: its first N test images (default: "
                              "1000, or all if fewer)")
    compare.add_argument("--alone-below", type=_correlation, default=ALONE_BELOW, metavar="R",
                         help="a node matches nothing in the other net when its best "
                              f"correlation there is below R (default: {ALONE_BELOW:g}: the "
                              "best counterpart shares under a quarter of its variance)")
    add_image_shape_option(compare)
    add_activations_option(compare)
    add_data_option(compare)


def add_parser(commands: argparse._SubParsersAction) -> None:
    commands.add_parser(
        "compare", help="two nets side by side: layer similarity and matched nodes",
        description="Run nets A and B on the test images of --data (MNIST by default): linear "
                    "CKA between every hidden layer of A and every hidden layer of B, and for "
                    "each hidden layer of A a one-to-one matching of its nodes to the layer of B "
                    "most like it (Hungarian assignment on activation correlation). Writes "
                    "compare.json, cka.png, matched-<k>.png (matched nodes' pictures side by "
                    "side), only-a-<k>.png and only-b-<k>.png (nodes that match nothing in the "
                    "other net) and output.png (both output layers, each class's pair with "
                    "its similarity).",
        arguments=_arguments)


def run(args: argparse.Namespace) -> None:
    from pathlib import Path

    from ..core.compare import check_comparable
    from ..destination import check_folder, claimed_folder
    from ..figures.compare import Net, write_comparison
    from ..formats import read_model
    from ..formats.model_data import open_model
    from .arguments import note

    check_folder(args.out)
    shape = tuple(args.image_shape) if args.image_shape else None
    names = Path(args.a).name, Path(args.b).name
    if names[0] == names[1]:
        names = str(args.a), str(args.b)
    # The inputs are compared first, from the files alone: a pair that cannot share images is
    # refused before any data is read.
    check_comparable(*(read_model(path, shape, args.activations).stack
                       for path in (args.a, args.b)), *names)
    a = open_model(args.a, args.data, image_shape=shape, activations=args.activations,
                   pixel_scale=args.pixel_scale)
    b = open_model(args.b, a.data, image_shape=shape, activations=args.activations,
                   pixel_scale=args.pixel_scale)
    for message in dict.fromkeys(a.notes + b.notes):
        note(message)
    data = a.data
    count = count_of(args.images, len(data.x_test), len(data.x_test), "--images",
                     f"test images of {data.name}")
    reference = count_of(args.reference, 1000, count, "--reference", "images compared")
    with claimed_folder(args.out, "compare"):
        written = write_comparison(Net(names[0], a.stack), Net(names[1], b.stack),
                                   data.x_test[:count], args.out, labels=data.y_test[:count],
                                   class_names=a.class_names, method=args.method,
                                   reference=reference, below=args.alone_below)
    print_paths(written.paths)
