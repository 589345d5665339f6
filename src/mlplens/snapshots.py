"""Weights over training, stored compactly beside the model: RUN/snapshots.npz.

Layout (float16 weights, zip-compressed; a 784-512-256-10 net is about 1 MB a snapshot):
  steps          int64 (S,)            optimizer steps taken when the snapshot was made (0 first)
  test_accuracy  float32 (S,)          accuracy on the test set (MNIST, or the --data trained on)
  kernel_<k>     float16 (S, n_in, n_k)  for k = 1..L
  bias_<k>       float16 (S, n_k)
  activations    str (L,)              e.g. ['relu', 'relu', 'softmax']
  image_shape    int64 (2,)
  channels       int64 ()              only for colour nets: 3 (inputs interleaved as (H, W, C))
  pixel_scale    str ()                only when not 0-1, e.g. '0-16', as core.pixel_scale names it
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .core.pixel_scale import UNIT, PixelScale, parse_pixel_scale
from .core.stack import DenseStack
from .errors import MlplensError
from .input_files import checked_input
from .output import save_npz

SNAPSHOT_FILE = "snapshots.npz"


@dataclass(frozen=True)
class Snapshots:
    """The weights of one run at several steps of its training."""

    steps: np.ndarray
    test_accuracy: np.ndarray
    kernels: tuple[np.ndarray, ...]  # per layer (S, n_in, n_out)
    biases: tuple[np.ndarray, ...]  # per layer (S, n_out)
    activations: tuple[str, ...]
    image_shape: tuple[int, int]
    channels: int = 1
    pixel_scale: PixelScale = UNIT

    def __len__(self) -> int:
        return int(self.steps.size)

    def stack(self, index: int) -> DenseStack:
        """The network as it was at snapshot `index`."""
        return DenseStack.from_arrays([k[index] for k in self.kernels],
                                      [b[index] for b in self.biases],
                                      self.activations, self.image_shape,
                                      channels=self.channels, pixel_scale=self.pixel_scale)

    @classmethod
    def from_stacks(cls, steps: list[int], accuracies: list[float],
                    stacks: list[DenseStack]) -> "Snapshots":
        first = stacks[0]
        count = len(first.layers)
        return cls(np.asarray(steps, dtype=np.int64), np.asarray(accuracies, dtype=np.float32),
                   tuple(np.stack([s.layers[k].kernel for s in stacks]).astype(np.float16)
                         for k in range(count)),
                   tuple(np.stack([s.layers[k].bias for s in stacks]).astype(np.float16)
                         for k in range(count)),
                   tuple(layer.activation for layer in first.layers), first.image_shape,
                   first.channels, first.pixel_scale)


def spread_frames(steps: np.ndarray, limit: int) -> list[int]:
    """At most `limit` indices into `steps` (the optimizer steps of a run's snapshots), evenly
    spread over training by step, the first and the last always included (the last alone if
    `limit` is 1). The GIF of `mlplens evolve` and the explorer's slider both choose this way."""
    steps = np.asarray(steps)
    if len(steps) <= limit:
        return list(range(len(steps)))
    if limit == 1:
        return [len(steps) - 1]
    targets = np.linspace(steps[0], steps[-1], limit)
    return sorted({int(np.abs(steps - target).argmin()) for target in targets})


def save_snapshots(snapshots: Snapshots, path: str | os.PathLike[str]) -> Path:
    arrays: dict[str, np.ndarray] = {"steps": snapshots.steps,
                                     "test_accuracy": snapshots.test_accuracy,
                                     "activations": np.array(snapshots.activations),
                                     "image_shape": np.array(snapshots.image_shape, np.int64)}
    if snapshots.channels != 1:  # a grey net's file stays as it was
        arrays["channels"] = np.array(snapshots.channels, np.int64)
    if snapshots.pixel_scale != UNIT:  # so does one on the article's 0-1 scale
        arrays["pixel_scale"] = np.array(snapshots.pixel_scale.name)
    for index, (kernel, bias) in enumerate(zip(snapshots.kernels, snapshots.biases), start=1):
        arrays[f"kernel_{index}"] = kernel
        arrays[f"bias_{index}"] = bias
    return save_npz(path, arrays, compressed=True)


def load_snapshots(path: str | os.PathLike[str]) -> Snapshots:
    """Read RUN/snapshots.npz (or the file itself), never unpickling."""
    path = Path(path)
    if path.is_dir():
        path = path / SNAPSHOT_FILE
    if not os.path.lexists(path):
        raise MlplensError(f"{path}: no training snapshots (train with --snapshot-every N)")
    checked_input(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            count = sum(1 for name in archive.files if name.startswith("kernel_"))
            snapshots = Snapshots(
                archive["steps"], archive["test_accuracy"],
                tuple(archive[f"kernel_{k}"] for k in range(1, count + 1)),
                tuple(archive[f"bias_{k}"] for k in range(1, count + 1)),
                tuple(str(a) for a in archive["activations"]),
                tuple(int(s) for s in archive["image_shape"]),  # type: ignore[arg-type]
                int(archive["channels"]) if "channels" in archive.files else 1,
                parse_pixel_scale(str(archive["pixel_scale"])) if "pixel_scale" in archive.files
                else UNIT)
    except (OSError, ValueError, KeyError, MlplensError) as exc:
        raise MlplensError(f"{path}: not a readable snapshot file ({exc})") from None
    if count == 0 or len(snapshots) == 0:
        raise MlplensError(f"{path}: the snapshot file holds no weights")
    return snapshots
