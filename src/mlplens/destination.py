"""Where output goes: checked before any work starts, claimed while a command writes into it, and
cleaned afterwards of the files the same command wrote there last time and not this time.

Every output path a user names passes through `check_folder` or `check_file`, so a bad one is one
line naming it, before a model is loaded or a network trained. `claimed_folder` holds a lock for
the length of a command, so two runs never mix their files in one folder, and keeps a manifest of
what mlplens wrote there: a rerun removes its own stale files (a `layer-3.png` from a deeper model)
and never touches anyone else's.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import MlplensError, Terminated, cleanup_pending

MANIFEST = ".mlplens-manifest.json"
_PATH_MAX = 4096


def kind_of(mode: int) -> str:
    """What a stat mode says a path is, in words."""
    for test, name in ((stat.S_ISDIR, "folder"), (stat.S_ISFIFO, "named pipe (FIFO)"),
                       (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
                       (stat.S_ISSOCK, "socket"), (stat.S_ISREG, "regular file")):
        if test(mode):
            return name
    return "special file"


def describe_os_error(exc: OSError) -> str:
    """An OSError's reason in words, e.g. 'No space left on device'."""
    if exc.errno == errno.ELOOP:
        return "a loop of symbolic links"
    return exc.strerror or type(exc).__name__


def _named(path: str | os.PathLike[str], option: str) -> Path:
    text = os.fspath(path)
    if not text.strip():
        raise MlplensError(f"{option}: the path is empty")
    named = Path(text).expanduser()
    longest = max((len(part.encode()) for part in named.parts), default=0)
    limit = _name_max(named)
    if longest > limit:
        raise MlplensError(f"{named}: a name in this path is {longest} bytes long; the file "
                           f"system allows {limit}")
    if len(os.fsencode(named)) >= _PATH_MAX:
        raise MlplensError(f"{named}: the path is longer than the system allows "
                           f"({_PATH_MAX} bytes)")
    return named


def _name_max(path: Path) -> int:
    existing = _nearest_existing(path)
    try:
        return os.pathconf(existing if existing.is_dir() else existing.parent, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _nearest_existing(path: Path) -> Path:
    """The path itself or its closest ancestor that exists (a link counts as existing)."""
    current = path.absolute()
    while not os.path.lexists(current) and current != current.parent:
        current = current.parent
    return current


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except (FileNotFoundError, NotADirectoryError):  # not there (or under a file)
        return None
    except OSError as exc:
        raise MlplensError(f"{path}: {describe_os_error(exc)}") from None


def _writable_folder(named: Path, folder: Path) -> None:
    """`folder` must be a folder that can take files: a probe file proves it (permissions,
    read-only and pseudo file systems such as /proc all answer the same way)."""
    info = _stat(folder)
    if info is None:  # a dangling link on the way
        raise MlplensError(f"{named}: {folder} is a broken symbolic link")
    if not stat.S_ISDIR(info.st_mode):
        raise MlplensError(f"{named}: {folder} is a {kind_of(info.st_mode)}, not a folder")
    try:
        handle, probe = tempfile.mkstemp(prefix=".mlplens-probe-", dir=folder)
    except OSError as exc:
        raise MlplensError(f"{named}: cannot write in {folder} "
                           f"({describe_os_error(exc)})") from None
    os.close(handle)
    os.unlink(probe)


def check_folder(path: str | os.PathLike[str], option: str = "--out") -> Path:
    """An output folder that exists, or can be created, and can take files."""
    named = _named(path, option)
    info = _stat(named)
    if info is not None and not stat.S_ISDIR(info.st_mode):
        raise MlplensError(f"{named}: exists and is a {kind_of(info.st_mode)}, not a folder "
                           f"(give {option} a folder)")
    _writable_folder(named, named if info is not None else _nearest_existing(named))
    return named


def write_target(path: Path) -> Path:
    """The file a write to `path` really replaces. A file the user names is written through
    a symbolic link to its target (the link stays); inside a claimed output folder a link is
    replaced instead, so no write leaves the folder. Only a regular file, or nothing yet, may
    be replaced."""
    inside = _claimed_root(path)
    if inside is not None:
        return _inside_claimed(path, inside)
    info = _stat(path)  # follows the link, /dev/stdout's to a pipe too
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    if info is not None and not stat.S_ISREG(info.st_mode):
        # A pipe behind /dev/stdout has no path of its own: name the link then.
        where = f"{target} (the target of the link {path})" if target != path and \
            os.path.lexists(target) else f"{path}"
        raise MlplensError(f"{where}: is a {kind_of(info.st_mode)}; mlplens writes regular "
                           "files only")
    return target


def _inside_claimed(path: Path, folder: Path) -> Path:
    """`path` itself, in the claimed `folder`: a link there is replaced, never followed, and a
    folder on the way that leads out of `folder` (a link) is refused."""
    if not Path(os.path.realpath(path.parent)).is_relative_to(os.path.realpath(folder)):
        raise MlplensError(f"{path}: leads out of the output folder {folder} through a "
                           "symbolic link; remove the link")
    info = None if path.is_symlink() else _stat(path)
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise MlplensError(f"{path}: is a {kind_of(info.st_mode)}; mlplens writes regular "
                           "files only")
    return path


def check_file(path: str | os.PathLike[str], option: str = "--output") -> Path:
    """An output file that can be written: not a folder or a device, in a folder that can take
    files (links are written through, never replaced)."""
    named = _named(path, option)
    target = write_target(named)
    _writable_folder(named, target.parent if os.path.lexists(target.parent)
                     else _nearest_existing(target.parent))
    return named


@contextlib.contextmanager
def made_folder(folder: Path) -> Iterator[Path]:
    """`folder`, created with its missing parents for the block; if the block fails, the
    folders it created are removed again while empty (a failed download leaves no trace)."""
    created = _nearest_existing(folder).absolute()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield folder
    except BaseException:
        _remove_empty_folders(folder, created)
        raise


# ---- claimed folders ----------------------------------------------------------------------------

_recording: list[Path] | None = None  # absolute paths written while a folder is claimed
_claimed_folders: list[Path] = []  # the folders claimed now, innermost last


def _claimed_root(path: Path) -> Path | None:
    """The claimed folder `path` lies in (by its name, as given), if any."""
    absolute = os.path.abspath(path)
    for folder in reversed(_claimed_folders):
        if Path(absolute).is_relative_to(os.path.abspath(folder)) and \
                absolute != os.path.abspath(folder):
            return folder
    return None


def record_written(path: Path) -> None:
    """Called for every file mlplens finishes writing (by `output.atomic_path`)."""
    if _recording is not None:
        _recording.append(path.absolute())


@contextlib.contextmanager
def claimed_folder(path: str | os.PathLike[str], command: str) -> Iterator[Path]:
    """Create and lock `path` while `command` writes into it; afterwards remove the files this
    command wrote there last time and did not write this time. A second run into the same
    folder is refused with one line while the first holds it. A run that fails removes what it
    wrote (an incomplete set of figures would pass for a whole one); one stopped by the user
    (Ctrl-C, SIGTERM) keeps its whole files; one that wrote nothing leaves no folder behind."""
    with cleanup_pending():  # a stop must unwind through here, to settle the manifest
        yield from _claimed(Path(path), command)


def _claimed(folder: Path, command: str) -> Iterator[Path]:
    global _recording
    created = _nearest_existing(folder).absolute()  # every folder below it is made here
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise MlplensError(f"{folder}: {describe_os_error(exc)}") from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released when closed
        except BlockingIOError:
            raise MlplensError(f"{folder}: another mlplens run is writing into this folder; "
                               "wait for it to finish or choose another folder") from None
        entries = _read_manifest(folder / MANIFEST)
        before = set(entries.get(command, []))
        outer, _recording = _recording, []
        _claimed_folders.append(folder)
        written: list[Path] = _recording
        finished = stopped = False
        try:
            yield folder
            finished = True
        except (KeyboardInterrupt, Terminated):
            stopped = True
            raise
        finally:
            _recording = outer
            _claimed_folders.pop()
            now = {os.path.relpath(p, folder.absolute()) for p in written
                   if p.is_relative_to(folder.absolute())}
            if finished:
                _remove_stale(folder, before - now)
                entries[command] = sorted(now)
            elif stopped:  # stopped by the user: keep what is whole, and remember it
                entries[command] = sorted(before | now)
            else:  # a failed run's files are an incomplete set: none of them stays
                _remove_stale(folder, now)
                entries[command] = sorted(name for name in before if (folder / name).exists())
            if any(entries.values()):
                _write_manifest(folder / MANIFEST, entries)
            else:  # e.g. the model was refused: leave no trace of the attempt
                (folder / MANIFEST).unlink(missing_ok=True)
                _remove_empty_folders(folder, created)
    finally:
        os.close(handle)


def _read_manifest(path: Path) -> dict[str, list[str]]:
    """Command -> files it wrote, relative to the folder; anything unreadable counts as empty
    (the worst case is then a stale file kept, never a foreign file removed)."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(entries, dict):
        return {}
    return {str(key): [str(name) for name in value if isinstance(name, str)]
            for key, value in entries.items() if isinstance(value, list)}


def _write_manifest(path: Path, entries: dict[str, list[str]]) -> None:
    """Written under a temporary name and renamed, like every output, so it is never half there."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part",
                                         dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(entries, stream, indent=1)
        os.replace(temporary, path)
    except OSError as exc:
        raise MlplensError(f"{path}: cannot write ({describe_os_error(exc)})") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _remove_empty_folders(folder: Path, stop: Path) -> None:
    """Remove `folder` and its parents up to, not including, `stop`, as long as they are empty."""
    current = folder.absolute()
    with contextlib.suppress(OSError):
        while current != stop and current.is_relative_to(stop) and not any(current.iterdir()):
            current.rmdir()
            current = current.parent


def _remove_stale(folder: Path, names: set[str]) -> None:
    root = folder.resolve()
    for name in sorted(names):
        stale = folder / name
        # Only a regular file inside the folder, never through a link or '..'.
        if stale.is_symlink() or not stale.is_file() or \
                not stale.resolve().is_relative_to(root):
            continue
        stale.unlink()
        with contextlib.suppress(OSError):  # drop folders this left empty, never the root
            parent = stale.parent
            while parent.resolve() != root and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
