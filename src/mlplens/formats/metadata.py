"""What a model file records about its inputs and outputs beyond its weights.

A net's weights do not say what images it takes: the pixel scale it was trained on, its
channels, its class names. `save_stack` and `mlplens train` write them as text under the
`mlplens.*` keys below, in each format's own place for metadata: a safetensors header's
`__metadata__`, an ONNX model's `metadata_props`, an `mlplens.json` member of a `.keras` archive
(Keras ignores it), and for `.npz` (which has no metadata) the arrays `channels`, `pixel_scale`,
`class_names` and `head` (its LayerNorms are arrays of their own). Every reader turns what it
finds into one `Recorded`: missing keys are None or empty, so a caller knows what the file said
and what it did not (a scale nobody recorded is assumed with a note, never silently).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..core.pixel_scale import UNIT, PixelScale, parse_pixel_scale
from ..core.heads import names_fit
from ..core.stack import HEADS, DenseStack, LayerNorm
from ..errors import MlplensError
from .common import Chain

ACTIVATIONS = "mlplens.activations"  # relu,leaky_relu(0.2),softmax
HEAD = "mlplens.head"  # classes, binary, multilabel or regression: written when told, not inferred
# Per Dense layer, null or its LayerNorm's {"epsilon": 1e-05, "after": false}: what a state_dict
# cannot hold (its weights are tensors `<index>.weight`, `<index>.bias` in nn.Sequential order).
NORMS = "mlplens.norms"
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
    head: str = ""  # what the output is, when told (DenseStack.head_kind)
    # Per Dense layer, None or its LayerNorm's (epsilon, after the activation); () if unrecorded.
    norms: tuple[tuple[float, bool] | None, ...] = ()
    notes: tuple[str, ...] = ()  # what the reader assumed where the file says nothing, a line each


NOTHING = Recorded()


def metadata_text(stack: DenseStack, class_names: Sequence[str] = ()) -> dict[str, str]:
    """Everything a file should record about `stack` (and its classes), as text."""
    text = {ACTIVATIONS: ",".join(layer.activation for layer in stack.layers),
            IMAGE_SHAPE: ",".join(str(size) for size in stack.image_shape),
            CHANNELS: str(stack.channels),
            PIXEL_SCALE: stack.pixel_scale.name}
    if class_names:
        if not names_fit(stack, len(class_names)):
            raise MlplensError(f"{len(class_names)} class names for a model with "
                               f"{stack.widths[-1]} outputs")
        text[CLASS_NAMES] = json.dumps([str(name) for name in class_names])
    if stack.input_names:
        text[FEATURE_NAMES] = json.dumps(list(stack.input_names))
    if stack.head_kind:
        text[HEAD] = stack.head_kind
    if stack.has_norms:
        text[NORMS] = json.dumps([None if layer.norm is None else
                                  {"epsilon": layer.norm.epsilon, "after": layer.norm_after}
                                  for layer in stack.layers])
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
    head = str(metadata.get(HEAD, ""))
    if head and head not in HEADS:
        raise MlplensError(f"metadata {HEAD} {head!r} is not one of {', '.join(HEADS)}")
    return Recorded(scale, channels, _names(metadata, CLASS_NAMES),
                    _names(metadata, FEATURE_NAMES), head, _norms(metadata))


def _norms(metadata: Mapping[str, str]) -> tuple[tuple[float, bool] | None, ...]:
    """The NORMS key -> per layer None or (epsilon, after); () when the file has none."""
    if NORMS not in metadata:
        return ()
    try:
        listed = json.loads(str(metadata[NORMS]))
    except json.JSONDecodeError:
        listed = None

    def entry(item: object) -> tuple[float, bool] | None:
        if item is None:
            return None
        if not (isinstance(item, dict) and set(item) == {"epsilon", "after"}
                and isinstance(item["epsilon"], (int, float))
                and not isinstance(item["epsilon"], bool) and item["epsilon"] >= 0
                and isinstance(item["after"], bool)):
            raise ValueError(item)
        return float(item["epsilon"]), item["after"]

    try:
        if not isinstance(listed, list):
            raise ValueError(listed)
        return tuple(entry(item) for item in listed)
    except ValueError:
        raise MlplensError(f"metadata {NORMS} is not a JSON list of null or "
                           '{"epsilon": <number>, "after": <true|false>} per Dense layer') from None


def _recorded_norms(chain: Chain, norms: Sequence[tuple[float, bool] | None]) -> None:
    """Give the chain's LayerNorms the epsilons the file recorded (a state_dict holds none),
    refusing a file whose recorded norms and tensors disagree."""
    if len(norms) != len(chain.kernels):
        raise MlplensError(f"metadata {NORMS} lists {len(norms)} layer(s) but the model has "
                           f"{len(chain.kernels)} Dense layer(s)")
    for index, (found, told) in enumerate(zip(chain.norms, norms)):
        if (found is None) != (told is None) or (
                told is not None and chain.norm_after[index] != told[1]):
            raise MlplensError(f"metadata {NORMS} does not match the LayerNorms the file holds "
                               f"(Dense layer {chain.names[index]!r})")
        if found is not None and told is not None:
            chain.norms[index] = LayerNorm(found.scale, found.offset, told[0])


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
    when `input_names` are given or the file records feature names, with its recorded head and
    LayerNorm epsilons, and what the file recorded."""
    if found.norms:
        _recorded_norms(chain, found.norms)
    return chain.stack(image_shape, activations, channels=channels or found.channels or 1,
                       pixel_scale=found.pixel_scale or UNIT,
                       input_names=input_names or found.feature_names, head=found.head), found
