"""Datasets users ask for by name, fetched once (`mlplens data fetch NAME`) into mlplens' cache
and verified by the SHA-256 of every file, as published; `--data NAME` then reads the cache.

The digests are the ones TensorFlow Datasets records for these exact addresses
(tensorflow_datasets/url_checksums/*.txt) and torchvision's dataset registry. EMNIST's digits
are published only inside NIST's 562 MB archive of every EMNIST split, whose digest is pinned:
the four digit files are taken out of the verified archive, their digests recorded beside them
(`extracted.json`, checked on every load) and the archive removed.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..cache import cache_dir
from ..errors import MlplensError
from ..output import atomic_path, write_json
from ..readers.idx import read_idx
from .dataset import Dataset
from .download import download, file_sha256
from .sources import assemble, brightness, labels

IDX_FILES = {"x_train": "train-images-idx3-ubyte.gz", "y_train": "train-labels-idx1-ubyte.gz",
             "x_test": "t10k-images-idx3-ubyte.gz", "y_test": "t10k-labels-idx1-ubyte.gz"}


EXTRACTED = "extracted.json"  # the digests of files taken out of a verified archive


@dataclass(frozen=True)
class Named:
    """A published dataset of four gzipped IDX files, MNIST's way (IDX_FILES' names), or one
    archive that holds them (`members`: each IDX file's path inside it)."""

    title: str
    base_url: str  # the files are base_url + their names
    sha256: dict[str, str]  # file name -> its published SHA-256
    class_names: tuple[str, ...]
    members: dict[str, str] = field(default_factory=dict)
    transposed: bool = False  # images stored column by column (EMNIST): turned on load


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
    "emnist-digits": Named(
        "EMNIST digits", "https://biometrics.nist.gov/cs_links/EMNIST/",
        {"gzip.zip": "fb9bb67e33772a9cc0b895e4ecf36d2cf35be8b709693c3564cea2a019fcda8e"},
        tuple(str(digit) for digit in range(10)),
        members={file_name: f"gzip/emnist-digits-{file_name.replace('t10k', 'test')}"
                 for file_name in IDX_FILES.values()},
        transposed=True),
}


def folder_of(name: str) -> Path:
    return cache_dir() / "datasets" / name


def fetch_named(name: str, base_url: str | None = None) -> list[Path]:
    """Download the dataset's files into the cache, each verified by its pinned SHA-256; a file
    that does not match is refused and nothing of it is kept. An archive's IDX files are taken
    out of it (unless they already are) and the archive removed."""
    entry = NAMED[name]
    base = base_url or entry.base_url
    base = base if base.endswith("/") else base + "/"
    folder = folder_of(name)
    if entry.members and _extracted_digests(folder) is not None:
        return [folder / file_name for file_name in entry.members]
    got = [download(base + file_name, digest, folder / file_name, f"{entry.title}'s {file_name}")
           for file_name, digest in entry.sha256.items()]
    if not entry.members:
        return got
    archive = got[0]
    try:
        digests = {file_name: _extract(archive, member, folder / file_name)
                   for file_name, member in entry.members.items()}
        write_json(folder / EXTRACTED, digests)
    finally:
        archive.unlink(missing_ok=True)
    return [folder / file_name for file_name in entry.members]


def _extract(archive: Path, member: str, target: Path) -> str:
    """Copy one member of a verified archive to `target`; its SHA-256."""
    digest = hashlib.sha256()
    try:
        with zipfile.ZipFile(archive) as opened, opened.open(member) as source, \
                atomic_path(target) as tmp, open(tmp, "wb") as out:
            for block in iter(lambda: source.read(1 << 20), b""):
                digest.update(block)
                out.write(block)
    except (KeyError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise MlplensError(f"{archive}: cannot take {member} out of it "
                           f"({type(exc).__name__})") from None
    return digest.hexdigest()


def _extracted_digests(folder: Path) -> dict[str, str] | None:
    """The digests recorded when the files were taken out of their archive, if all are there."""
    try:
        digests = json.loads((folder / EXTRACTED).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(digests, dict) or not all((folder / name).is_file() for name in digests):
        return None
    return digests


def load_named(name: str) -> Dataset:
    """The named dataset from the cache, its files checked against their pinned digests (or,
    for files taken out of a verified archive, the digests recorded then)."""
    entry = NAMED[name]
    folder = folder_of(name)
    pinned = _extracted_digests(folder) if entry.members else entry.sha256
    arrays = {}
    for part, file_name in IDX_FILES.items():
        path = folder / file_name
        if pinned is None or not path.is_file():
            raise MlplensError(f"{entry.title} is not downloaded yet ({path} is missing); run "
                               f"'mlplens data fetch {name}'")
        if file_sha256(path) != pinned.get(file_name):
            raise MlplensError(f"{path}: not the published {entry.title} file (SHA-256 "
                               f"mismatch); run 'mlplens data fetch {name}' again")
        arrays[part] = read_idx(path)
    read = {}
    for part in ("train", "test"):
        images = arrays[f"x_{part}"]
        if entry.transposed:
            images = np.ascontiguousarray(images.transpose(0, 2, 1))
        x = brightness(images, str(folder / IDX_FILES[f"x_{part}"]))
        read[part] = (x, labels(arrays[f"y_{part}"], str(folder / IDX_FILES[f"y_{part}"]),
                                len(x)))
    return assemble(entry.title, folder, "cache", read["train"], read["test"], entry.class_names)
