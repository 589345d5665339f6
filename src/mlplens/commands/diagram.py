"""`mlplens diagram`: the network as a diagram, or the circuit of one input through it."""

from __future__ import annotations

import argparse

from .arguments import (add_activations_option, add_data_option, add_head_option,
                        add_image_shape_option,
                        open_model_from, positive, print_paths)


def share(text: str) -> float:
    """A share in (0, 1], e.g. 0.9."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text}")
    return value


def add_parser(commands: argparse._SubParsersAction) -> None:
    diagram = commands.add_parser(
        "diagram", help="the network as a diagram, or the circuit of one input",
        description="Draw the network left to right (input, then each layer as a column of "
                    "node pictures, edges coloured by weight): diagram.png and diagram.svg. "
                    "With --image or --test-index, draw that input's circuit instead: what "
                    "each node and edge adds to the predicted class's logit, pruned to the "
                    "fewest that keep --keep of each layer's total; circuit.png, circuit.svg "
                    "and circuit.json.")
    diagram.add_argument("model", metavar="MODEL",
                         help="a model file (.keras, .h5, .safetensors, .onnx or .npz)")
    diagram.add_argument("--out", required=True, metavar="DIR", help="output folder")
    which = diagram.add_mutually_exclusive_group()
    which.add_argument("--image", metavar="FILE",
                       help="a PNG or JPEG of a digit (dark on light is inverted), made "
                            "MNIST-like: fitted into 20x20 and centred in 28x28")
    which.add_argument("--test-index", type=int, metavar="N",
                       help="test image N of --data (MNIST by default)")
    diagram.add_argument("--keep", type=share, default=0.9, metavar="SHARE",
                         help="share of each layer's total |contribution| the circuit keeps "
                              "(default: 0.9)")
    diagram.add_argument("--nodes", type=positive, default=16, metavar="N",
                         help="nodes drawn per wide layer (default: 16)")
    diagram.add_argument("--top-k", type=positive, default=3, metavar="K",
                         help="edges drawn per node, its strongest in and out (default: 3)")
    diagram.add_argument("--width", type=positive, default=1600, metavar="PX",
                         help="picture width (default: 1600)")
    add_image_shape_option(diagram)
    add_activations_option(diagram)
    add_data_option(diagram)
    add_head_option(diagram)


def run(args: argparse.Namespace) -> None:
    from ..destination import check_folder, claimed_folder
    from ..errors import MlplensError
    from ..figures.diagram import write_circuit, write_diagram

    check_folder(args.out)
    if args.width < 400:
        raise MlplensError(f"--width must be at least 400, got {args.width}")
    image, label, source = None, None, ""
    if args.image is not None:
        from ..digit_image import read_digit

        image, source = read_digit(args.image), args.image
    opened = open_model_from(args, needs_data=args.test_index is not None)
    stack = opened.stack
    if args.test_index is not None:
        data = opened.data
        if not 0 <= args.test_index < len(data.x_test):
            raise MlplensError(f"--test-index must be in 0-{len(data.x_test) - 1}, got "
                               f"{args.test_index}")
        image, label = data.x_test[args.test_index], int(data.y_test[args.test_index])
        source = f"{data.name} test image {args.test_index}"
    elif image is not None and stack.picture_shape != image.shape:
        height, width = stack.image_shape
        raise MlplensError(f"{args.model}: takes {height}x{width} images, not the 28x28 "
                           "MNIST-like digit --image makes; pass --test-index with --data")
    with claimed_folder(args.out, "diagram"):
        if image is None:
            written = write_diagram(stack, args.out, args.width, args.nodes, args.top_k)
        else:
            written, _ = write_circuit(stack, image, args.out, args.keep, label, source,
                                       args.width, args.nodes, args.top_k,
                                       class_names=opened.class_names)
    print_paths(written)
