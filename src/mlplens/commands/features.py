"""`mlplens features`: a sparse dictionary of one hidden layer, its features drawn like nodes."""

from __future__ import annotations

import argparse
import sys

from .arguments import (add_data_option, add_head_option, count_of, open_model_from,
                        positive, print_paths)


def add_parser(commands: argparse._SubParsersAction) -> None:
    features = commands.add_parser(
        "features", help="learn a sparse dictionary of a hidden layer and draw its features",
        description="Train a top-k sparse autoencoder on hidden layer K's activations over the "
                    "training images of --data (MNIST by default), then draw each feature like "
                    "a node (linear "
                    "picture, mean input-gradient, strongest test images, activation "
                    "maximisation) and the most polysemantic nodes beside the features they "
                    "mix. Writes dictionary.safetensors, features-*.png, "
                    "polysemantic-nodes.png, features.json and features.npz into --out.")
    features.add_argument("model", metavar="MODEL",
                          help="a model file: Keras .keras or .h5, .safetensors, .onnx or .npz")
    features.add_argument("--layer", type=positive, required=True, metavar="K",
                          help="the hidden layer, 1 = first Dense layer")
    features.add_argument("--size", type=positive, metavar="M",
                          help="features in the dictionary (default: 4x the layer's width)")
    features.add_argument("--k", type=positive,
                          help="features active per image (top-k sparsity; default: 32, or "
                               "--size/16 for a smaller dictionary, so that a feature is not "
                               "active on most images)")
    features.add_argument("--steps", type=positive, default=1000,
                          help="training steps of --batch-size activations (default: 1000)")
    features.add_argument("--batch-size", type=positive, default=512, help="(default: 512)")
    features.add_argument("--learning-rate", type=float, default=2e-3, help="Adam's (default: "
                                                                              "0.002)")
    features.add_argument("--show", type=positive, default=64, metavar="N",
                          help="features drawn with examples and maximisation: the N most "
                               "frequent that are neither dead nor dense (default: 64)")
    features.add_argument("--reference", type=positive, metavar="N",
                          help="mean input-gradients over the first N test images of --data "
                               "(default: 1000, or all if fewer)")
    features.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    features.add_argument("--out", required=True, metavar="DIR", help="output folder")
    add_data_option(features)
    add_head_option(features)


def run(args: argparse.Namespace) -> None:
    import time
    from pathlib import Path

    from ..core.features.dictionary import check_layer
    from ..destination import check_folder, claimed_folder
    from ..errors import MlplensError
    from ..figures.features import draw_features
    from ..formats.dictionary_file import save_dictionary
    from ..formats.model_data import default_data
    from ..memory import require
    from ..progress import stderr_progress
    from ..training import enable_compilation_cache
    from ..training.sparse_autoencoder import Schedule, dictionary_bytes, learn_features

    check_folder(args.out)
    opened = open_model_from(args, needs_data=False)
    stack = opened.stack
    try:
        check_layer(stack, args.layer)
    except MlplensError as exc:
        raise MlplensError(f"{args.model}: {exc}") from None
    if stack.is_tabular:  # before any data is looked for
        raise MlplensError(f"{args.model}: takes {stack.n_inputs} features (a table); "
                           "mlplens features draws a dictionary's features as pictures, so it "
                           "needs a model of images")
    data = opened.data or default_data(stack, opened.name)
    size = args.size or 4 * stack.widths[args.layer - 1]
    k = args.k or min(32, max(1, size // 16))
    if k > size:
        raise MlplensError(f"--k ({k}) must be at most --size ({size})")
    require(dictionary_bytes(stack.widths[args.layer - 1], stack.n_inputs, size,
                             min(args.batch_size, len(data.x_train))),
            f"a dictionary of {size:,} features of layer {args.layer} (--size)")
    if not args.learning_rate > 0:
        raise MlplensError(f"--learning-rate must be above 0, got {args.learning_rate}")
    reference = count_of(args.reference, 1000, len(data.x_test), "--reference",
                         f"test images of {data.name}")
    enable_compilation_cache()
    schedule = Schedule(args.steps, args.batch_size, args.learning_rate, args.seed)
    out = Path(args.out)
    with claimed_folder(out, "features"):
        started = time.perf_counter()
        dictionary = learn_features(stack, args.layer, data.x_train, size, k, schedule,
                                    stderr_progress(f"layer {args.layer} dictionary, step"))
        training = {"model": str(args.model), "size": size, "k": k, "steps": args.steps,
                    "batch_size": args.batch_size, "learning_rate": args.learning_rate,
                    "seed": args.seed, "training_images": len(data.x_train),
                    "seconds": round(time.perf_counter() - started, 2)}
        paths = [save_dictionary(dictionary, out / "dictionary.safetensors", training)]
        report = draw_features(stack, dictionary, data, out, show=args.show,
                               reference=reference, seed=args.seed, training=training,
                               log=lambda message: print(f"mlplens: {message}",
                                                         file=sys.stderr))
    print_paths(paths + report.paths)
    summary = report.summary()
    print(f"layer {args.layer}: {size} features, variance explained "
          f"{summary['variance_explained']:.3f}, mean L0 {summary['mean_l0']:.1f}, "
          f"{summary['dead_features']} dead, {summary['dense_features']} dense; test accuracy "
          f"{summary['accuracy']:.4f}, spliced {summary['spliced_accuracy']:.4f}; median "
          f"selectivity features {summary['median_selectivity']['features']:.3f} vs nodes "
          f"{summary['median_selectivity']['nodes']:.3f}; trained in {training['seconds']:.0f} s",
          file=sys.stderr)

