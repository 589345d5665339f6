"""`mlplens evolve`: the output-layer pictures over training, as an animated GIF."""

from __future__ import annotations

import argparse

from .arguments import positive, print_paths


def add_parser(commands: argparse._SubParsersAction) -> None:
    evolve = commands.add_parser(
        "evolve", help="animate the output-layer pictures over training",
        description="Turn RUN/snapshots.npz (from 'mlplens train --snapshot-every N') into an "
                    "animated GIF of the output-layer pictures, with the step and test "
                    "accuracy in each frame.", arguments=_arguments)


def _arguments(evolve: argparse.ArgumentParser) -> None:
    """Added when the command is first used: the choices come from the method registry, which
    `mlplens --help` must not import."""
    from ..methods import METHODS

    weights_only = [method.name for method in METHODS.values() if method.from_weights]
    evolve.add_argument("run", metavar="RUN", help="a training folder (or its snapshots.npz)")
    evolve.add_argument("--method", choices=weights_only, default="linear",
                        help=f"picture method, one that draws from the weights alone: "
                             f"{', '.join(weights_only)} (default: linear)")
    evolve.add_argument("--cmap", default="gray", help="colormap (default: gray)")
    evolve.add_argument("--frames", type=positive, default=40,
                        help="at most this many frames, spread over training (default: 40)")
    evolve.add_argument("--out", metavar="DIR", help="output folder (default: RUN)")


def run(args: argparse.Namespace) -> None:
    from pathlib import Path

    from ..destination import check_folder, claimed_folder
    from ..figures.evolution import evolve_run

    run_path = Path(args.run)
    out = Path(args.out) if args.out else (run_path if run_path.is_dir() else run_path.parent)
    check_folder(out)
    with claimed_folder(out, "evolve"):
        written = evolve_run(run_path, out / "evolution.gif", args.method, args.cmap,
                             args.frames)
    print_paths([written])
