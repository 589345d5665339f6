"""A model read for a run on data: the stack on the right pixel scale, the data checked against
it, and the class names, decided once here for every command and for the Python API.

- Data: what the caller names (`datasets.load_dataset`), else MNIST for a model that takes 28x28
  grey images, else a refusal saying what images the model takes and to pass `--data`.
- Pixel scale: the one given (`--pixel-scale`), else what the model file records, else, on
  MNIST, the article's 0-1; else the data's own scale (0-1 brightness for images), assumed with
  a note, never silently.
- Class names: the data's (explicitly named), else the model file's, else "0".."K-1".
- Head (what the output means, `DenseStack.head`): the one given (`--head`), else a 1-output
  linear model on data with exactly two classes is a binary classifier's logit (with a note),
  else what the output layer says (softmax: classes; one sigmoid: binary; several:
  multilabel; one linear output: regression).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.heads import class_names
from ..core.pixel_scale import SCALE_HELP, PixelScale, parse_pixel_scale
from ..core.stack import HEADS, DenseStack
from ..datasets import Dataset, check_matches, load_dataset
from ..errors import MlplensError
from .metadata import NOTHING, Recorded

MNIST_NAME = "MNIST"  # `datasets.load_dataset()`'s name for the default data
MNIST_SHAPE = (28, 28)


@dataclass(frozen=True)
class ModelData:
    """What every command needs about a model and its data."""

    name: str  # the model as messages and figures name it (its file's name)
    stack: DenseStack  # on the pixel scale chosen
    data: Dataset | None  # None only when the caller needs no data and named none
    class_names: tuple[str, ...]  # one per class (`heads.class_names`): two for a binary head
    notes: tuple[str, ...] = ()  # what was assumed, one line each, for the user to read


def takes_mnist(stack: DenseStack) -> bool:
    """Whether MNIST's digits fit the model: 28x28 single-channel images."""
    return not stack.is_tabular and stack.image_shape == MNIST_SHAPE and stack.channels == 1


def describe_input(stack: DenseStack) -> str:
    """E.g. '8x8 grey images', '32x32 colour images' or '30 features'."""
    if stack.is_tabular:
        return f"{stack.n_inputs} features"
    height, width = stack.image_shape
    return f"{height}x{width} {'colour' if stack.channels == 3 else 'grey'} images"


def default_data(stack: DenseStack, name: str) -> Dataset:
    """The data a model runs on when none is named: MNIST for a model that takes its 28x28 grey
    digits; for any other, one line saying what it takes and to pass --data."""
    if not takes_mnist(stack):
        raise MlplensError(f"{name} takes {describe_input(stack)}, not MNIST's 28x28 digits: "
                           "pass --data with images it takes (a file or folder, or "
                           "sklearn-digits for scikit-learn's 8x8 digits)")
    return load_dataset()


def open_model(model: str | os.PathLike[str] | DenseStack | Any,
               data: Dataset | str | os.PathLike[str] | None = None, *,
               needs_data: bool = True, image_shape: tuple[int, ...] | None = None,
               activations: str | None = None, layer_order: str | None = None,
               pixel_scale: PixelScale | str | None = None,
               input_names: Sequence[str] = (), head: str | None = None) -> ModelData:
    """Read `model` (a file, a DenseStack or a live scikit-learn/Keras model) for a run on
    `data` (a Dataset or what `load_dataset` takes). With `needs_data` False and no data named,
    none is loaded (pictures from the weights alone). `input_names` (else a table's feature
    names from the data) read the model as tabular."""
    from . import ModelFile, read_model, stack_from

    if isinstance(pixel_scale, str):  # a typo fails before anything is read
        pixel_scale = parse_pixel_scale(pixel_scale)
    named = data is not None
    # Data named is read first: what it is (a table's feature names) can tell how to read the
    # model.
    dataset = data if isinstance(data, Dataset) or data is None else load_dataset(data)
    if not input_names and dataset is not None:
        input_names = dataset.feature_names
    if isinstance(model, (str, os.PathLike)):
        found: ModelFile = read_model(model, image_shape, activations, input_names=input_names,
                                      layer_order=layer_order)
        name, stack, recorded = Path(model).name, found.stack, found.recorded
    else:  # a DenseStack knows its scale; a live model records nothing
        stack = stack_from(model, image_shape, activations, input_names=input_names)
        recorded = Recorded(pixel_scale=stack.pixel_scale) if isinstance(model, DenseStack) \
            else NOTHING
        name = "the model"
    if not named and needs_data:
        dataset = default_data(stack, name)
    stack, notes = _head(name, stack, dataset, head)
    if dataset is not None:
        check_matches(stack, dataset, name)
        if dataset.is_tabular and not stack.is_tabular:  # the table's columns are the inputs
            stack = stack.with_input(input_names=dataset.feature_names)
    scale, scale_notes = _pixel_scale(name, stack, recorded, dataset, pixel_scale)
    stack = stack.with_input(pixel_scale=scale)
    return ModelData(name, stack, dataset,
                     _class_names(stack, recorded, dataset if named else None),
                     tuple(f"{name}: {note}" for note in recorded.notes) + notes
                     + scale_notes)


def _head(name: str, stack: DenseStack, data: Dataset | None,
          given: str | None) -> tuple[DenseStack, tuple[str, ...]]:
    """The stack with its head decided, and a note when it was read from the data."""
    if given:
        if given not in HEADS:
            raise MlplensError(f"--head must be one of {', '.join(HEADS)}, got {given!r}")
        return dataclasses.replace(stack, head_kind=given), ()
    last = stack.layers[-1]
    if (data is not None and not stack.head_kind and last.units == 1
            and last.activation == "linear" and len(data.class_names) == 2):
        return dataclasses.replace(stack, head_kind="binary"), (
            f"{name} has one linear output and {data.name} two classes: reading it as a binary "
            f"classifier's logit ({data.class_names[1]} when above 0); pass --head regression "
            "if it predicts a number",)
    if data is not None and stack.head == "multilabel":
        return stack, (f"{name} has {last.units} independent outputs (multi-label) and "
                       f"{data.name} one label per image: each image's label is read as its one "
                       "positive label",)
    return stack, ()


def _pixel_scale(name: str, stack: DenseStack, recorded: Recorded, data: Dataset | None,
                 given: PixelScale | None) -> tuple[PixelScale, tuple[str, ...]]:
    """The scale the model takes, and a note when it is assumed on data that is not MNIST."""
    if given is not None:
        return given, ()
    if recorded.pixel_scale is not None:
        return recorded.pixel_scale, ()
    if data is None or data.is_tabular or data.name == MNIST_NAME:
        return stack.pixel_scale, ()
    assumed = data.pixel_scale
    return assumed, (f"{name} does not record the pixel scale it was trained on; assuming "
                     f"{assumed.name} (the {data.name} pixels as brightness); if it took other "
                     f"numbers, pass --pixel-scale: {SCALE_HELP}",)


def _class_names(stack: DenseStack, recorded: Recorded,
                 data: Dataset | None) -> tuple[str, ...]:
    """The data's names (padded with numbers if it has fewer classes than the model has
    outputs), else the model file's, else "0".."K-1"; two for a binary head (`heads`)."""
    return class_names(stack, data.class_names if data is not None else recorded.class_names)
