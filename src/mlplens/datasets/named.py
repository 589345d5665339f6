"""Datasets users ask for by name, fetched once (`mlplens data fetch NAME`) into mlplens' cache
and verified by the SHA-256 of every file, as published; `--data NAME` then reads the cache.

The digests are the ones TensorFlow Datasets records for these exact addresses
(tensorflow_datasets/url_checksums/fashion_mnist.txt) and torchvision's dataset registry
(Fashion-MNIST and KMNIST). EMNIST is left out: its digits come only inside NIST's 562 MB
archive of every EMNIST split, with no published digest of the digit files themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..data import cache_dir, download, file_sha256, read_idx
from ..errors import MlplensError
from .dataset import Dataset
from .sources import assemble, brightness, labels

IDX_FILES = {"x_train": "train-images-idx3-ubyte.gz", "y_train": "train-labels-idx1-ubyte.gz",
             "x_test": "t10k-images-idx3-ubyte.gz", "y_test": "t10k-labels-idx1-ubyte.gz"}


@dataclass(frozen=True)
class Named:
    """A published dataset of four gzipped IDX files, MNIST's way."""

    title: str
    base_url: str  # the files are base_url + their names
    sha256: dict[str, str]  # file name -> its published SHA-256
    class_names: tuple[str, ...]


NAMED = {
    "fashion-mnist": Named(
        "Fashion-MNIST", "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        {"train-images-idx3-ubyte.gz":
         "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
         "train-labels-idx1-ubyte.gz":
         "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
         "t10k-images-idx3-ubyte.gz":
         "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
         "t10k-labels-idx1-ubyte.gz":
         "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"},
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
         "Bag", "Ankle boot")),
    "kmnist": Named(
        "KMNIST", "http://codh.rois.ac.jp/kmnist/dataset/kmnist/",
        {"train-images-idx3-ubyte.gz":
         "51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4",
         "train-labels-idx1-ubyte.gz":
         "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17",
         "t10k-images-idx3-ubyte.gz":
         "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5",
         "t10k-labels-idx1-ubyte.gz":
         "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c"},
        ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")),
}


def folder_of(name: str) -> Path:
    return cache_dir() / "datasets" / name


def fetch_named(name: str, base_url: str | None = None) -> list[Path]:
    """Download the dataset's files into the cache, each verified by its pinned SHA-256; a file
    that does not match is refused and nothing of it is kept."""
    entry = NAMED[name]
    base = base_url or entry.base_url
    base = base if base.endswith("/") else base + "/"
    return [download(base + file_name, digest, folder_of(name) / file_name,
                     f"{entry.title}'s {file_name}")
            for file_name, digest in entry.sha256.items()]


def load_named(name: str) -> Dataset:
    """The named dataset from the cache, its files checked against their pinned digests."""
    entry = NAMED[name]
    folder = folder_of(name)
    arrays = {}
    for part, file_name in IDX_FILES.items():
        path = folder / file_name
        if not path.is_file():
            raise MlplensError(f"{entry.title} is not downloaded yet ({path} is missing); run "
                               f"'mlplens data fetch {name}'")
        if file_sha256(path) != entry.sha256[file_name]:
            raise MlplensError(f"{path}: not the published {entry.title} file (SHA-256 "
                               f"mismatch); run 'mlplens data fetch {name}' again")
        arrays[part] = read_idx(path, mnist=False)
    read = {}
    for part in ("train", "test"):
        x = brightness(arrays[f"x_{part}"], str(folder / IDX_FILES[f"x_{part}"]))
        read[part] = (x, labels(arrays[f"y_{part}"], str(folder / IDX_FILES[f"y_{part}"]),
                                len(x)))
    return assemble(entry.title, folder, "cache", read["train"], read["test"], entry.class_names)
