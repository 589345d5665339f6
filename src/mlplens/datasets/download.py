"""A file downloaded and kept only when its SHA-256 is the pinned one (MNIST, named datasets)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..destination import made_folder
from ..errors import MlplensError, reason


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, sha256: str, target: Path, what: str) -> Path:
    """`url` saved as `target` through pooch, kept only if its SHA-256 is the pinned one (`what`
    the file should be, for the message when it is not)."""
    from urllib.parse import urlsplit

    import pooch

    try:
        address = urlsplit(url)
        valid = address.scheme in ("http", "https", "ftp") and bool(address.netloc)
        address.port  # noqa: B018 (a port that is no number raises here)
    except ValueError:  # e.g. 'http://[::1': an unclosed IPv6 address
        valid = False
    if not valid:
        raise MlplensError(f"--url {url!r}: not a web address (http://, https:// or ftp://)")
    pooch.get_logger().setLevel("WARNING")  # its "Downloading ..." line would be a second line
    try:
        with made_folder(target.parent):  # a failed download leaves no empty folder
            downloaded = pooch.retrieve(url, known_hash=f"sha256:{sha256}", fname=target.name,
                                        path=target.parent, progressbar=False)
    except ValueError as exc:
        if "hash" in str(exc).lower():  # pooch's words for a file that is not the pinned one
            raise MlplensError(f"download from {url} failed verification: the file is not "
                               f"{what} ({reason(exc)})") from None
        raise MlplensError(f"cannot download {url}: {reason(exc)}") from None
    except Exception as exc:  # network errors come in many types (many of them OSErrors)
        raise MlplensError(f"cannot download {url}: {reason(exc)}") from None
    return Path(downloaded)
