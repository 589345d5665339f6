"""`mlplens reproduce`: every figure of the article, and the views beyond it, in one command."""

from __future__ import annotations

import argparse

from .arguments import add_data_option, print_paths


def add_parser(commands: argparse._SubParsersAction) -> None:
    reproduce = commands.add_parser(
        "reproduce", help="every figure of the article in one command",
        description="Train the article's three networks on real MNIST and draw every figure, "
                    "with the article's seed method in viridis and the linear method in gray; "
                    "writes index.md listing them.")
    reproduce.add_argument("--out", required=True, metavar="DIR", help="output folder")
    reproduce.add_argument("--quick", action="store_true",
                           help="a small run for tests: 2,000 images and 1 epoch")
    reproduce.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    add_data_option(reproduce)


def run(args: argparse.Namespace) -> None:
    from ..destination import check_folder, claimed_folder
    from ..figures.article import reproduce
    from ..training import enable_compilation_cache

    check_folder(args.out)
    enable_compilation_cache()
    with claimed_folder(args.out, "reproduce"):
        written = reproduce(args.out, quick=args.quick, seed=args.seed, data=args.data)
    print_paths(written)
