"""What a model file records about its inputs and outputs beyond its weights.

A net's weights do not say what images it takes: the pixel scale it was trained on, its
channels, its class names. `save_stack` and `mlplens train` write them as text under the
`mlplens.*` keys below, in each format's own place for metadata: a safetensors header's
`__metadata__`, an ONNX model's `metadata_props`, an `mlplens.json` member of a `.keras` archive
(Keras ignores it), and for `.npz` (which has no metadata) the arrays `channels`, `pixel_scale`
and `class_names`. Every reader turns what it finds into one `Recorded`: missing keys are None or
empty, so a caller knows what the file said and what it did not (a scale nobody recorded is
assumed with a note, never silently).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..core.pixel_scale import UNIT, PixelScale, parse_pixel_scale
from ..core.stack import DenseStack
from ..errors import MlplensError
from .common import Chain

ACTIVATIONS = "mlplens.activations"  # relu,relu,softmax
IMAGE_SHAPE = "mlplens.image_shape"  # H,W
CHANNELS = "mlplens.channels"  # 1 or 3
PIXEL_SCALE = "mlplens.pixel_scale"  # as core.pixel_scale names it: 0-1, 0-16, standardised:M,S
CLASS_NAMES = "mlplens.class_names"  # a JSON list of strings
FEATURE_NAMES = "mlplens.feature_names"  # a JSON list of strings: a table's columns, in order
KERAS_MEMBER = "mlplens.json"  # the keys above as one JSON object, inside a .keras archive


@dataclass(frozen=True)
class Recorded:
    """What a model file says about its inputs and outputs; None or () where it says nothing."""

    pixel_scale: PixelScale | None = None
    channels: int | None = None
    class_names: tuple[str, ...] = ()
    feature_names: tuple[str, ...] = ()  # a tabular model's inputs
    notes: tuple[str, ...] = ()  # what the reader assumed where the file says nothing, a line each


NOTHING = Recorded()


def metadata_text(stack: DenseStack, class_names: Sequence[str] = ()) -> dict[str, str]:
    """Everything a file should record about `stack` (and its classes), as text."""
    text = {ACTIVATIONS: ",".join(layer.activation for layer in stack.layers),
            IMAGE_SHAPE: ",".join(str(size) for size in stack.image_shape),
            CHANNELS: str(stack.channels),
            PIXEL_SCALE: stack.pixel_scale.name}
    if class_names:
        if len(class_names) != stack.widths[-1]:
            raise MlplensError(f"{len(class_names)} class names for a model with "
                               f"{stack.widths[-1]} outputs")
        text[CLASS_NAMES] = json.dumps([str(name) for name in class_names])
    if stack.input_names:
        text[FEATURE_NAMES] = json.dumps(list(stack.input_names))
    return text


def recorded(metadata: Mapping[str, str]) -> Recorded:
    """The `mlplens.*` keys a file holds -> Recorded; a malformed value is one line naming it."""
    scale = None
    if PIXEL_SCALE in metadata:
        try:
            scale = parse_pixel_scale(str(metadata[PIXEL_SCALE]))
        except MlplensError as exc:
            raise MlplensError(f"metadata {PIXEL_SCALE}: {exc}") from None
    channels = None
    if CHANNELS in metadata:
        if str(metadata[CHANNELS]) not in ("1", "3"):
            raise MlplensError(f"metadata {CHANNELS} {metadata[CHANNELS]!r} is not 1 or 3")
        channels = int(metadata[CHANNELS])
    return Recorded(scale, channels, _names(metadata, CLASS_NAMES),
                    _names(metadata, FEATURE_NAMES))


def _names(metadata: Mapping[str, str], key: str) -> tuple[str, ...]:
    """A JSON list of strings under `key`, () when the file has none."""
    if key not in metadata:
        return ()
    try:
        listed = json.loads(str(metadata[key]))
    except json.JSONDecodeError:
        listed = None
    if not (isinstance(listed, list) and all(isinstance(name, str) for name in listed)):
        raise MlplensError(f"metadata {key} is not a JSON list of strings")
    return tuple(listed)


def finished(chain: Chain, image_shape: tuple[int, int] | None,
             activations: Sequence[str] | None, found: Recorded,
             input_names: Sequence[str] = (),
             channels: int | None = None) -> tuple[DenseStack, Recorded]:
    """What every reader returns: its chain as a DenseStack with the channels given, else the
    recorded ones, and the recorded pixel scale (0-1 where none is recorded), read as a table
    when `input_names` are given or the file records feature names, and what the file
    recorded."""
    return chain.stack(image_shape, activations, channels=channels or found.channels or 1,
                       pixel_scale=found.pixel_scale or UNIT,
                       input_names=input_names or found.feature_names), found
