"""`mlplens data`: what a dataset holds and where it comes from, and how to get MNIST or a
named dataset."""

from __future__ import annotations

import argparse

from .arguments import add_data_option, print_paths


def add_parser(commands: argparse._SubParsersAction) -> None:
    data = commands.add_parser("data", help="what a dataset holds; download MNIST or a named "
                                            "dataset",
                               description="Inspect any dataset --data reads, or download MNIST "
                                           "or a named dataset (emnist-digits, fashion-mnist, kmnist).")
    actions = data.add_subparsers(dest="data_command", metavar="ACTION",
                                  parser_class=type(data))
    info = actions.add_parser("info", help="name, source, shapes, classes, label counts, pixels",
                              description="Show what --data reads (by default MNIST, found and "
                                          "verified): its name, source, shapes, classes, label "
                                          "counts and pixel range.")
    add_data_option(info)
    fetch = actions.add_parser(
        "fetch", help="download Keras' mnist.npz or a named dataset (pinned SHA-256)",
        description="Download Keras' mnist.npz into ~/.keras/datasets, or a named dataset's "
                    "files into mlplens' cache (then --data NAME reads it), each verified by "
                    "its published SHA-256.")
    fetch.add_argument("name", nargs="?", metavar="NAME",
                       help="a named dataset: emnist-digits, fashion-mnist, kmnist (default: "
                            "MNIST)")
    fetch.add_argument("--url", default=None,
                       help="download from this address instead (with NAME: the folder address "
                            "its files are in)")
    fetch.add_argument("--out", default=None, metavar="FILE",
                       help="save MNIST here (default: ~/.keras/datasets/mnist.npz)")


def run(args: argparse.Namespace) -> None:
    import json

    from ..errors import MlplensError

    if args.data_command == "info":
        from ..core.pixel_scale import parse_pixel_scale
        from ..datasets import load_dataset
        from ..datasets.dataset import describe

        if args.pixel_scale is not None:
            parse_pixel_scale(args.pixel_scale)  # a typo is refused, as every command does
        for key, value in describe(load_dataset(args.data)).items():
            print(f"{key}: {json.dumps(value) if isinstance(value, (dict, list)) else value}")
    elif args.data_command == "fetch" and args.name is not None:
        from ..datasets.named import NAMED, fetch_named

        if args.name not in NAMED:
            raise MlplensError(f"no dataset named {args.name!r}; mlplens fetches "
                               f"{', '.join(sorted(NAMED))} (or MNIST, without a name)")
        if args.out is not None:
            raise MlplensError(f"--out is for MNIST's one file; {args.name} goes into mlplens' "
                               "cache, where --data reads it")
        print_paths(fetch_named(args.name, args.url))
    elif args.data_command == "fetch":
        from ..datasets import mnist
        from ..destination import check_file

        target = check_file(args.out, "--out") if args.out is not None else None
        print_paths([mnist.fetch(args.url or mnist.KERAS_MNIST_URL, destination=target)])
    else:
        raise MlplensError("choose an action: info or fetch (see 'mlplens data --help')")
