"""`mlplens check`: does each picture method's view mean something on this model?"""

from __future__ import annotations

import argparse

from .arguments import (add_activations_option, add_data_option, add_head_option, count_of,
                        open_model_from, positive, print_paths)


def add_parser(commands: argparse._SubParsersAction) -> None:
    check = commands.add_parser(
        "check", help="sanity checks of every picture method on a model",
        description="For every method that can draw the model: redraw it with its layers "
                    "re-initialised (cascading from the output down, and each alone) and "
                    "measure how similar the output pictures stay (Spearman rank correlation "
                    "of |values|, SSIM); delete and insert test-image pixels in the order the "
                    "class's picture ranks them, against a random and the mean image's order; "
                    "compare with the same net trained on shuffled labels. Writes checks.json, "
                    "checks.md (one row per method, a verdict per check) and the figures into "
                    "--out. The images are the test (and, for the shuffled-label net, "
                    "training) images of --data.")
    check.add_argument("model", metavar="MODEL",
                       help="a model file: Keras .keras or .h5, .safetensors, .onnx or .npz")
    check.add_argument("--out", required=True, metavar="DIR", help="output folder")
    add_activations_option(check)
    check.add_argument("--reference", type=positive, metavar="N",
                       help="test images of --data for the methods that look at data "
                            "(default: 500, or all if fewer)")
    check.add_argument("--images-per-class", type=positive, default=10, metavar="N",
                       help="test images of each class for deletion and insertion (default: 10)")
    check.add_argument("--maximize-steps", type=positive, default=100, metavar="N",
                       help="gradient-ascent steps of the maximize method (default: 100)")
    check.add_argument("--shuffled-images", type=positive, metavar="N",
                       help="training images of the shuffled-label net (default: 5000, or all "
                            "if fewer)")
    check.add_argument("--shuffled-epochs", type=positive, default=5, metavar="N",
                       help="epochs of the shuffled-label net (default: 5)")
    check.add_argument("--seed", type=int, default=0,
                       help="seed of the random weights, orders and training (default: 0)")
    add_data_option(check)
    add_head_option(check)


def run(args: argparse.Namespace) -> None:
    from pathlib import Path

    from ..figures.check_methods import require_pictures
    from ..destination import check_folder, claimed_folder
    from ..errors import MlplensError, UnsuitableModel
    from ..figures.checks import CheckSettings, check_net

    check_folder(args.out)
    opened = open_model_from(args)
    try:
        require_pictures(opened.stack)
    except UnsuitableModel as exc:  # before any work: name the file
        raise MlplensError(f"{opened.name}: {exc}") from None
    data = opened.data
    reference = count_of(args.reference, 500, len(data.x_test), "--reference",
                         f"test images of {data.name}")
    shuffled = count_of(args.shuffled_images, 5000, len(data.x_train), "--shuffled-images",
                        f"training images of {data.name}")
    settings = CheckSettings(reference, args.images_per_class, args.maximize_steps, shuffled,
                             args.shuffled_epochs, args.seed)
    with claimed_folder(args.out, "check"):
        written = check_net(opened.name, opened.stack, data, Path(args.out), settings)
    print_paths(written.paths)
