"""`mlplens prune`: remove a layer's nodes by each importance score and chart the accuracy."""

from __future__ import annotations

import argparse

from .arguments import (add_activations_option, add_data_option, add_head_option,
                        add_image_shape_option,
                        open_model_from, positive, print_paths)


def add_parser(commands: argparse._SubParsersAction) -> None:
    prune = commands.add_parser(
        "prune", help="accuracy as a layer's nodes are removed, by each importance score",
        description="Remove the nodes of each hidden layer, least important first, by three "
                    "scores (mean |contribution| on the first --reference test images of --data, "
                    "weight norm, seeded random), and measure accuracy on the other test "
                    "images: pruning.png and pruning.json.")
    prune.add_argument("model", metavar="MODEL",
                       help="a model file (.keras, .h5, .safetensors, .onnx or .npz)")
    prune.add_argument("--out", required=True, metavar="DIR", help="output folder")
    prune.add_argument("--layers", type=positive, nargs="+", metavar="K",
                       help="hidden layers to prune, 1 = first Dense layer (default: all)")
    prune.add_argument("--reference", type=positive, metavar="N",
                       help="test images the contribution score is measured on; accuracy is "
                            "measured on the rest (default: 1000, or half the test images if "
                            "fewer than 2000)")
    prune.add_argument("--steps", type=positive, default=20, metavar="N",
                       help="points per curve, from none to all nodes removed (default: 20)")
    prune.add_argument("--seed", type=int, default=0, help="the random order's seed")
    add_image_shape_option(prune)
    add_activations_option(prune)
    add_data_option(prune)
    add_head_option(prune)


def run(args: argparse.Namespace) -> None:
    from ..core.circuits.importance import hidden_layer
    from ..destination import check_folder, claimed_folder
    from ..errors import MlplensError
    from ..figures.pruning import write_pruning

    check_folder(args.out)
    opened = open_model_from(args)
    stack, data = opened.stack, opened.data
    layers = args.layers or list(range(1, len(stack.layers)))
    if not layers:
        raise MlplensError(f"{args.model}: has no hidden layer to prune")
    for layer in layers:
        hidden_layer(stack, layer)
    reference = min(1000, len(data.x_test) // 2) if args.reference is None else args.reference
    if reference >= len(data.x_test):
        raise MlplensError(f"--reference must be below {len(data.x_test)}: accuracy is "
                           "measured on the test images after them")
    with claimed_folder(args.out, "prune"):
        written, _ = write_pruning(stack, data.x_test[:reference],
                                   data.x_test[reference:], data.y_test[reference:],
                                   args.out, layers, args.steps, args.seed,
                                   class_names=opened.class_names)
    print_paths(written)
