"""`mlplens check`: does each picture method's view mean something on this model?"""

from __future__ import annotations

import argparse

from .arguments import add_activations_option, add_data_option, positive, print_paths


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
                    "--out. The model must take 28x28 MNIST images to 10 classes.")
    check.add_argument("model", metavar="MODEL",
                       help="a model file: Keras .keras or .h5, .safetensors, .onnx or .npz")
    check.add_argument("--out", required=True, metavar="DIR", help="output folder")
    add_activations_option(check)
    check.add_argument("--reference", type=positive, default=500, metavar="N",
                       help="test images for the methods that look at data (default: 500)")
    check.add_argument("--images-per-class", type=positive, default=10, metavar="N",
                       help="test images of each class for deletion and insertion (default: 10)")
    check.add_argument("--maximize-steps", type=positive, default=100, metavar="N",
                       help="gradient-ascent steps of the maximize method (default: 100)")
    check.add_argument("--shuffled-images", type=positive, default=5000, metavar="N",
                       help="training images of the shuffled-label net (default: 5000)")
    check.add_argument("--shuffled-epochs", type=positive, default=5, metavar="N",
                       help="epochs of the shuffled-label net (default: 5)")
    check.add_argument("--seed", type=int, default=0,
                       help="seed of the random weights, orders and training (default: 0)")
    add_data_option(check)


def run(args: argparse.Namespace) -> None:
    from pathlib import Path

    from ..datasets import load_dataset
    from ..destination import check_folder, claimed_folder
    from ..errors import MlplensError
    from ..figures.checks import CheckSettings, check_net
    from ..formats import load_stack

    check_folder(args.out)
    stack = load_stack(args.model, None, args.activations)
    if stack.image_shape != (28, 28) or stack.widths[-1] != 10:
        raise MlplensError(f"{args.model}: the checks run on MNIST test images, so the model "
                           f"must take 28x28 images to 10 classes; it is {stack.describe()}")
    mnist = load_dataset(args.data)
    if args.reference > len(mnist.x_test):
        raise MlplensError(f"--reference must be at most {len(mnist.x_test)}")
    if args.shuffled_images > len(mnist.x_train):
        raise MlplensError(f"--shuffled-images must be at most {len(mnist.x_train)}")
    settings = CheckSettings(args.reference, args.images_per_class, args.maximize_steps,
                             args.shuffled_images, args.shuffled_epochs, args.seed)
    with claimed_folder(args.out, "check"):
        written = check_net(Path(args.model).name, stack, mnist, Path(args.out), settings)
    print_paths(written.paths)
