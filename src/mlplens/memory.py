"""How much memory a piece of work may take, and the one refusal when it would need more.

Work that can grow large (a model read from its headers, MNIST, a mosaic, the explorer page)
estimates its peak before it allocates anything and calls `require`: a file that declares or
inflates into huge arrays, or an option that asks for a huge picture, is refused in one line
that gives both figures, instead of running for minutes and dying with a MemoryError.

What is available is what the machine can give without swapping: MemAvailable from
/proc/meminfo, or the headroom under this process' cgroup (v2 or v1) memory limit when that is
lower. `MLPLENS_MEMORY_LIMIT` (e.g. `2G`, `500M`, `1.5GiB`, a byte count) replaces it: the most
this process should hold, less what it already holds. An estimate may use all that is available:
estimates are peaks that count every copy the work makes. Where nothing is known (no /proc),
nothing is refused.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .errors import MlplensError

LIMIT_VARIABLE = "MLPLENS_MEMORY_LIMIT"
UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12,
         "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}
SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmgt]i?)?b?\s*$", re.IGNORECASE)
NO_LIMIT = 2**60  # cgroup v1 writes "no limit" as a page-rounded 2**63 - 1
CGROUP_ROOT = Path("/sys/fs/cgroup")


def parse_size(text: str) -> int:
    """`2G`, `500M`, `1.5GiB`, `750MB` or a byte count -> bytes (k, M, G, T are powers of 1000;
    Ki, Mi, Gi, Ti powers of 1024)."""
    match = SIZE.match(text)
    if match is None:
        raise MlplensError(f"{LIMIT_VARIABLE}={text!r} is not a memory size; write it like 2G, "
                           "500M, 1.5GiB or a number of bytes")
    return int(float(match.group(1)) * UNITS[(match.group(2) or "").lower()])


def format_size(nbytes: float) -> str:
    """7.9 GB, 850 MB, 12 KB: decimal units, as the figures in messages are rough."""
    for unit, size in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if nbytes >= size:
            value = nbytes / size
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{int(nbytes)} bytes"


def _numbers(path: Path) -> dict[str, int]:
    """A `key value` file such as /proc/meminfo or a cgroup's memory.stat, in plain numbers."""
    found = {}
    for line in path.read_text().splitlines():
        parts = line.replace(":", " ").split()
        if len(parts) >= 2 and parts[1].isdigit():
            found[parts[0]] = int(parts[1]) * (1024 if parts[2:] == ["kB"] else 1)
    return found


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # cgroup v2 writes "max" for no limit


def _cgroup_headroom() -> int | None:
    """The least room left under any memory limit of this process' cgroup and its parents.

    Reclaimable page cache (inactive files) is counted as room, as MemAvailable counts it.
    """
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    rooms = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # v2
            base, names = CGROUP_ROOT, ("memory.max", "memory.current", "inactive_file")
        elif "memory" in controllers.split(","):  # v1
            base, names = CGROUP_ROOT / "memory", ("memory.limit_in_bytes",
                                                   "memory.usage_in_bytes", "total_inactive_file")
        else:
            continue
        folder = base / path.lstrip("/")
        while True:
            rooms.append(_room(folder, *names))
            if folder == base or base not in folder.parents:
                break
            folder = folder.parent
    known = [room for room in rooms if room is not None]
    return min(known) if known else None


def _room(folder: Path, limit_name: str, usage_name: str, inactive_name: str) -> int | None:
    limit = _read_int(folder / limit_name)
    usage = _read_int(folder / usage_name)
    if limit is None or usage is None or limit >= NO_LIMIT:
        return None
    try:
        inactive = _numbers(folder / "memory.stat").get(inactive_name, 0)
    except OSError:
        inactive = 0
    return max(0, limit - usage + inactive)


def _resident() -> int:
    """This process' resident memory now."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def available() -> tuple[int | None, str]:
    """(bytes this process may still allocate, or None if unknown; where the figure comes from)."""
    override = os.environ.get(LIMIT_VARIABLE)
    if override:
        return max(0, parse_size(override) - _resident()), f"under {LIMIT_VARIABLE}={override}"
    try:
        free = _numbers(Path("/proc/meminfo")).get("MemAvailable")
    except OSError:
        free = None
    headroom = _cgroup_headroom()
    known = [figure for figure in (free, headroom) if figure is not None]
    return (min(known) if known else None), f"(set {LIMIT_VARIABLE} to change the limit)"


def require(nbytes: float, what: str) -> None:
    """Refuse, in one line with both figures, work whose estimated peak exceeds what is
    available; `what` names the work and the file or option that asks for it."""
    room, where = available()
    if room is not None and nbytes > room:
        raise MlplensError(f"{what} needs about {format_size(nbytes)} of memory but "
                           f"{format_size(room)} is available {where}")
