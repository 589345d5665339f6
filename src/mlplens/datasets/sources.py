"""Datasets from files: .npz, IDX, a folder of class subfolders (to be filled in)."""

from __future__ import annotations

from ..data import load_mnist
from .bundled import MNIST_CLASSES
from .dataset import Dataset


def read_source(path: str) -> Dataset:
    found = load_mnist(path)
    return Dataset("MNIST", found.x_train, found.y_train, found.x_test, found.y_test,
                   MNIST_CLASSES, source=found.source, path=str(found.path))
