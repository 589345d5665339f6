"""Datasets from files: .npz, IDX, a folder of class subfolders (to be filled in)."""

from __future__ import annotations

from .bundled import mnist
from .dataset import Dataset


def read_source(path: str) -> Dataset:
    return mnist(path)
