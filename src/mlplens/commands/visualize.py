"""`mlplens visualize`: every node of every layer of a model, drawn with one method."""

from __future__ import annotations

import argparse

from .arguments import (
    add_activations_option,
    add_data_option,
    add_feature_names_option,
    add_head_option,
    add_image_shape_option,
    count_of,
    node_list,
    note,
    open_model_from,
    positive,
    print_paths,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..methods import CliOption, Method


def add_parser(commands: argparse._SubParsersAction) -> None:
    commands.add_parser(
        "visualize", help="draw every node of every layer of a model",
        description="Draw each node of each Dense layer as an HxW picture (a tabular model's "
                    "as a bar chart of its features, largest |value| first); writes "
                    "layer-<k>.png (1 = first Dense layer) and arrays.npz into --out.",
        arguments=_arguments)


def _arguments(visualize: argparse.ArgumentParser) -> None:
    """Added when the command is first used: the choices come from the NumPy modules (the
    method registry), which `mlplens --help` must not import."""
    from ..core.normalization import MODES
    from ..methods import METHODS

    visualize.add_argument("model", metavar="MODEL",
                           help="a model file: Keras .keras or .h5, PyTorch .safetensors, "
                                ".onnx, or .npz (W1, b1, W2, b2, ...)")
    visualize.add_argument(
        "--method", choices=list(METHODS), default="linear",
        help=" ".join(f"{method.name}: {method.description}" for method in METHODS.values())
        + " (default: linear)")
    defaults = ", ".join(f"{method.normalization} for {method.name}"
                         for method in METHODS.values() if method.normalization != "minmax")
    visualize.add_argument("--normalize", choices=MODES, default=None,
                           help="minmax: the article's per-node 0-255; symmetric: 0 is "
                                "mid-grey, per node; layer: one signed scale for the layer "
                                f"(default: {defaults + ', ' if defaults else ''}minmax "
                                "otherwise)")
    visualize.add_argument("--cmap", default=None,
                           help="any matplotlib colormap (default: gray for minmax, RdBu_r "
                                "for signed views; viridis is the article's look; colour "
                                "pictures drawn together need none)")
    visualize.add_argument("--channels", choices=("together", "side-by-side"),
                           default="together",
                           help="colour models: together draws each node as one colour "
                                "picture (its three channels on one scale, each channel's "
                                "value its intensity); side-by-side draws its R, G and B "
                                "pictures next to each other in --cmap (default: together)")
    visualize.add_argument("--scale", type=positive, default=None,
                           help="pixels per image pixel (default: 2-4 by layer size)")
    add_image_shape_option(visualize)
    add_activations_option(visualize)
    data_methods = ", ".join(method.name for method in METHODS.values() if method.needs_data)
    visualize.add_argument("--reference", type=positive, metavar="N",
                           help=f"{data_methods}: the first N test images (or rows) of --data "
                                "(default: 1000, or all if fewer)")
    for option, takers in method_flags().values():
        given: dict[str, Any] = {"metavar": option.metavar} if option.metavar else {}
        visualize.add_argument(option.flag, dest=option.name,
                               help=f"{', '.join(takers)}: {option.help}",
                               **_KINDS[option.value], **given)
    visualize.add_argument("--top", type=positive, default=12, metavar="N",
                           help="tabular models: bars per node chart, largest |value| first "
                                "(default: 12; every value is in layer-<k>.csv)")
    add_feature_names_option(visualize)
    visualize.add_argument("--out", required=True, metavar="DIR", help="output folder")
    add_data_option(visualize)
    add_head_option(visualize)


def run(args: argparse.Namespace) -> None:
    from ..destination import check_folder, claimed_folder
    from ..errors import MlplensError, UnsuitableModel
    from ..figures.layers import visualize_stack
    from ..methods import get_method
    from ..progress import stderr_progress
    from ..render import colormap_lut

    check_folder(args.out)
    if args.cmap:
        colormap_lut(args.cmap)  # fail on a typo before loading anything
    method = get_method(args.method)
    given = _given_options(args, method)
    opened = open_model_from(args, needs_data=method.needs_data)
    stack = opened.stack
    offered: dict[str, object] = {**given, "progress": stderr_progress(f"{method.name}:")}
    if method.needs_data:
        data = opened.data
        count = count_of(args.reference, 1000, len(data.x_test), "--reference",
                         f"test images of {data.name}")
        offered.update(reference=data.x_test[:count], labels=data.y_test[:count])
    try:
        with claimed_folder(args.out, "visualize"):
            written = visualize_stack(stack, args.out, method.name, args.normalize, args.cmap,
                                      args.scale, channels=args.channels, top=args.top,
                                      class_names=opened.class_names,
                                      **method.accepted(offered))
    except UnsuitableModel as exc:  # a model this method cannot picture: name the file
        raise MlplensError(f"{args.model}: {exc}") from None
    for layer, nodes in written.constant_rows.items():
        note(f"layer {layer}: {len(nodes)} node(s) have a constant picture, drawn flat: "
             f"{nodes[:20]}{' ...' if len(nodes) > 20 else ''}")
    print_paths(written.paths)


# How each kind of option value is parsed (`CliOption.value`).
_KINDS: dict[str, dict[str, Any]] = {
    "switch": {"action": "store_true", "default": None}, "int": {"type": int},
    "count": {"type": positive}, "counts": {"type": positive, "nargs": "+"},
    "nodes": {"type": node_list}}


def method_flags() -> dict[str, tuple[CliOption, list[str]]]:
    """Every registered method's command-line options, by flag, with the methods that take
    each (a flag two methods share is one option)."""
    from ..methods import METHODS

    flags: dict[str, tuple[CliOption, list[str]]] = {}
    for method in METHODS.values():
        for option in method.cli:
            flags.setdefault(option.flag, (option, []))[1].append(method.name)
    return flags


def _given_options(args: argparse.Namespace, method: Method) -> dict[str, object]:
    """The method options the user gave (by the method's names; the method's own defaults
    stand for the rest); one the method does not take is refused by name, before any work."""
    from ..errors import MlplensError
    from ..methods import METHODS

    flags = {option.name: option.flag for option, _ in method_flags().values()}
    flags["reference"] = "--reference"  # a count of images, taken from the data in `run`
    given = {name: getattr(args, name) for name in flags if getattr(args, name) is not None}
    for name in given:
        if name not in method.options:
            takers = [other.name for other in METHODS.values() if name in other.options]
            raise MlplensError(f"{flags[name]} is an option of --method "
                               f"{' or '.join(takers)}; --method {method.name} does not take it")
    given.pop("reference", None)
    return given
