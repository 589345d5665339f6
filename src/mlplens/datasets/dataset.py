"""`Dataset`: the user's images (or rows of features) and their classes, one concept for every
command that uses data: reference images for the data-driven methods, test images for the
explorer and the checks, training images for `train`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.pixel_scale import PixelScale
from ..core.stack import DenseStack
from ..errors import MlplensError

PARTS = ("x_train", "y_train", "x_test", "y_test")


@dataclass(frozen=True)
class Dataset:
    """Train and test parts of one dataset, with its class names.

    Images are brightness: uint8 0-255 or float32 in [0, 1], shaped (n, H, W) for grey and
    (n, H, W, C) for colour. Tabular rows (`feature_names` given) are float32 (n, F) values as a
    model takes them. Labels are int64 class indices into `class_names`.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str = ""  # where it came from, e.g. "cache" or "folder" (MNIST: the resolution step)
    path: str = ""  # the file or folder it was read from, if any: what messages name
    feature_names: tuple[str, ...] = ()
    # The pixel scale a net trained on this data by mlplens takes (recorded with the model).
    pixel_scale: PixelScale = field(default_factory=PixelScale)

    def arrays(self) -> dict[str, np.ndarray]:
        """The four parts by name, as a Keras-layout .npz holds them."""
        return {name: getattr(self, name) for name in PARTS}

    @property
    def is_tabular(self) -> bool:
        return bool(self.feature_names)

    @property
    def image_shape(self) -> tuple[int, int]:
        """(H, W) of one image; (1, F) for tabular rows."""
        if self.is_tabular:
            return (1, len(self.feature_names))
        return (int(self.x_test.shape[1]), int(self.x_test.shape[2]))

    @property
    def channels(self) -> int:
        return 1 if self.is_tabular or self.x_test.ndim == 3 else int(self.x_test.shape[3])

    @property
    def n_inputs(self) -> int:
        return int(np.prod(self.x_test.shape[1:]))

    def describe_shape(self) -> str:
        """E.g. '28x28', '32x32x3' or '30 features', as messages name it."""
        if self.is_tabular:
            return f"{len(self.feature_names)} features"
        height, width = self.image_shape
        return f"{height}x{width}" + (f"x{self.channels}" if self.channels > 1 else "")


def check_matches(stack: DenseStack, data: Dataset, model: str) -> None:
    """Refuse, before any work, data the model cannot take: one line naming both shapes (and
    both class counts when the data has more classes than the model has outputs, or more than
    two for a binary head). A regression head takes any labels, read as numbers."""
    if stack.is_tabular or data.is_tabular:
        wanted, same = f"{stack.n_inputs} features", data.n_inputs == stack.n_inputs
    else:
        height, width = stack.image_shape
        wanted = f"{height}x{width}" + (f"x{stack.channels}" if stack.channels > 1 else "")
        same = data.image_shape == stack.image_shape and data.channels == stack.channels
    if not same:
        raise MlplensError(f"{data.path or data.name}: the data has {data.describe_shape()} "
                           f"inputs but {model} takes {wanted}")
    classes, head = len(data.class_names), stack.head
    if head == "binary" and classes > 2:
        raise MlplensError(f"{data.path or data.name}: the data has {classes} classes but "
                           f"{model} is a binary classifier (one output: class 1 against "
                           "class 0); give it data with two classes")
    if head in ("classes", "multilabel") and classes > stack.widths[-1]:
        raise MlplensError(f"{data.path or data.name}: the data has {classes} "
                           f"classes but {model} has {stack.widths[-1]} outputs")


def describe(data: Dataset) -> dict[str, object]:
    """What `mlplens data info` prints: name, where from, shapes, classes, label counts and the
    range of its values (pixel brightness, or a table's values)."""
    values = [part for part in (data.x_train, data.x_test) if part.size]
    low = min(float(part.min()) for part in values)
    high = max(float(part.max()) for part in values)
    kind = "values" if data.is_tabular else "pixels"
    count = len(data.class_names)
    info: dict[str, object] = {
        "name": data.name, "source": data.source, "path": data.path,
        "shapes": {name: list(getattr(data, name).shape)
                   for name in PARTS},
        "classes": list(data.class_names),
        "train_label_counts": np.bincount(data.y_train, minlength=count).tolist(),
        "test_label_counts": np.bincount(data.y_test, minlength=count).tolist(),
        kind: f"{data.x_test.dtype} {low:g} to {high:g}",
    }
    if data.is_tabular:
        info["features"] = list(data.feature_names)
    return info
