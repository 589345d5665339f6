"""`mlplens train`: the article's network on MNIST or the user's data, saved with its metrics."""

from __future__ import annotations

import argparse
import sys

from .arguments import add_data_option, positive, print_paths


def add_parser(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser(
        "train", help="train the article's network on MNIST or your data",
        description="Train Dense(relu) layers and a softmax output on --data (MNIST by "
                    "default); writes DIR/model.keras (recording its image shape, channels, "
                    "pixel scale and class names, so later commands need no options) and "
                    "DIR/metrics.json.")
    train.add_argument("--hidden", type=positive, nargs="*", default=[512, 256], metavar="N",
                       help="hidden layer sizes (default: 512 256; none for the 784-10 net)")
    train.add_argument("--train-samples", type=positive, metavar="N",
                       help="train on the first N training images (default: all; MNIST has "
                            "60000)")
    train.add_argument("--stratified", action="store_true",
                       help="draw the N images at random, balanced across classes")
    train.add_argument("--epochs", type=positive, default=6, help="(default: 6)")
    train.add_argument("--batch-size", type=positive, default=128, help="(default: 128)")
    train.add_argument("--optimizer", default="rmsprop", help="a Keras optimizer (default: rmsprop)")
    train.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    train.add_argument("--snapshot-every", type=positive, metavar="N",
                       help="also keep the weights every N steps in DIR/snapshots.npz "
                            "(for 'mlplens evolve')")
    train.add_argument("--out", required=True, metavar="DIR", help="output folder")
    add_data_option(train, trains=True)


def run(args: argparse.Namespace) -> None:
    from ..destination import check_folder, claimed_folder

    check_folder(args.out)  # before importing Keras and JAX: a wrong --out costs nothing
    from dataclasses import replace

    from ..core.pixel_scale import parse_pixel_scale
    from ..datasets import load_dataset
    from ..training import enable_compilation_cache, train

    data = load_dataset(args.data)
    if args.pixel_scale is not None:  # train on these numbers; the model records them
        data = replace(data, pixel_scale=parse_pixel_scale(args.pixel_scale))
    enable_compilation_cache()
    with claimed_folder(args.out, "train"):  # held while training: no second run mixes in
        trained = train(tuple(args.hidden), args.train_samples or len(data.x_train),
                        args.epochs, args.batch_size, args.optimizer, args.seed, data=data,
                        stratified=args.stratified, snapshot_every=args.snapshot_every)
        paths = trained.save(args.out)
    print_paths(paths)
    print(f"test accuracy {trained.metrics['test_accuracy']:.4f}", file=sys.stderr)
