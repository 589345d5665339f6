"""`mlplens data`: where MNIST comes from, and how to get it."""

from __future__ import annotations

import argparse

from .arguments import add_data_option, print_paths


def add_parser(commands: argparse._SubParsersAction) -> None:
    data = commands.add_parser("data", help="MNIST: where it comes from, and how to get it",
                               description="Inspect or download MNIST.")
    actions = data.add_subparsers(dest="data_command", metavar="ACTION",
                                  parser_class=type(data))
    info = actions.add_parser("info", help="source, path, shapes, label counts, verified",
                              description="Show which MNIST mlplens would use and whether it is "
                                          "the canonical data.")
    add_data_option(info)
    fetch = actions.add_parser(
        "fetch", help="download Keras' mnist.npz (pinned SHA-256)",
        description="Download Keras' mnist.npz into ~/.keras/datasets, verified by SHA-256.")
    fetch.add_argument("--url", default=None, help="download from this address instead")
    fetch.add_argument("--out", default=None, metavar="FILE",
                       help="save here (default: ~/.keras/datasets/mnist.npz)")


def run(args: argparse.Namespace) -> None:
    import json

    from .. import data
    from ..errors import MlplensError

    if args.data_command == "info":
        info, problem = data.data_info(args.data)
        for key, value in info.items():
            shown = "yes" if value is True else "no" if value is False else value
            print(f"{key}: {json.dumps(shown) if isinstance(shown, (dict, list)) else shown}")
        if problem:
            raise MlplensError(problem)
    elif args.data_command == "fetch":
        from ..destination import check_file

        target = check_file(args.out, "--out") if args.out is not None else None
        print_paths([data.fetch(args.url or data.KERAS_MNIST_URL, destination=target)])
    else:
        raise MlplensError("choose an action: info or fetch (see 'mlplens data --help')")
