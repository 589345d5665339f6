"""What every benchmark shares: the machine, interleaved timing, medians, tables, JSON.

Timings on shared 2-core machines are noisy, so every benchmark runs the things it compares in
one process (or one run), alternating them round by round, and reports medians and ratios.
Results go to benchmarks/results/<name>.json (not committed: the README keeps the numbers and
the machine they came from).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
BIN = Path(sys.executable).parent


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


def ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else float("inf")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_total_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in ("numpy", "jax", "jaxlib", "keras", "matplotlib", "pillow"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
    return found


def machine() -> dict[str, Any]:
    """What the numbers depend on: cores, CPU, memory, versions, and how busy the machine was."""
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "memory_gib": memory_total_gib(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "versions": versions(),
    }


def alternate(candidates: dict[str, Callable[[], Any]], rounds: int,
              counts: dict[str, int] | None = None) -> dict[str, list[float]]:
    """Time each candidate once per round, in turn, for `rounds` rounds (or `counts[name]`).

    Returns the wall times (seconds) of each. Alternating spreads the machine's other load
    evenly over the candidates instead of letting one of them have a quiet minute.
    """
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for round_index in range(rounds):
        for name, call in candidates.items():
            if counts is not None and round_index >= counts.get(name, rounds):
                continue
            started = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - started)
    return times


def run_measured(command: Sequence[str], env: dict[str, str] | None = None,
                 cwd: Path | None = None, quiet: bool = True,
                 address_space: int | None = None) -> dict[str, Any]:
    """Run a command; its wall time, exit code and peak resident memory (its own, by wait4).

    `address_space` (bytes) caps the child's virtual memory: a runaway fails instead of taking
    the machine. Linux counts in a child's peak what its parent held when starting it, so
    measure from a small process.
    """
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    started = time.perf_counter()
    process = subprocess.Popen(list(command), cwd=cwd, env={**os.environ, **(env or {})},
                               stdout=subprocess.DEVNULL if quiet else None,
                               stderr=subprocess.DEVNULL if quiet else None,
                               preexec_fn=limit if address_space else None)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in KiB on Linux: the peak of this one child (and of any it waited for).
    return {"seconds": seconds, "returncode": process.returncode,
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1)}


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table, columns right-aligned except the first."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(str(header)), *(len(row[i]) for row in cells)) if cells else len(header)
              for i, header in enumerate(headers)]
    lines = ["  ".join(str(h).ljust(w) if i == 0 else str(h).rjust(w)
                       for i, (h, w) in enumerate(zip(headers, widths))),
             "  ".join("-" * w for w in widths)]
    for row in cells:
        lines.append("  ".join(value.ljust(w) if i == 0 else value.rjust(w)
                               for i, (value, w) in enumerate(zip(row, widths))))
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 100:
            return f"{value:.0f}"
        if abs(value) >= 1:
            return f"{value:.2f}"
        return f"{value:.3g}"
    return str(value)


def target(name: str, measured: float, limit: float, unit: str, at_most: bool = True
           ) -> dict[str, Any]:
    """One target of the issue: met when `measured` is at most (or at least) `limit`."""
    met = measured <= limit if at_most else measured >= limit
    return {"name": name, "measured": round(measured, 4), "limit": limit, "unit": unit,
            "rule": "at most" if at_most else "at least", "met": bool(met)}


def print_targets(targets: Sequence[dict[str, Any]]) -> None:
    if not targets:
        return
    print()
    print(table(["target", "measured", "limit", "met"],
                [[t["name"], f"{t['measured']:.3g} {t['unit']}",
                  f"{t['rule']} {t['limit']:g} {t['unit']}", "yes" if t["met"] else "NO"]
                 for t in targets]))


def write_results(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {"benchmark": name, "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "machine": machine(), **payload}
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {path.relative_to(REPO)}")
    return path


def parser(description: str) -> argparse.ArgumentParser:
    arguments = argparse.ArgumentParser(description=description)
    arguments.add_argument("--quick", action="store_true",
                           help="fewer rounds and smaller sizes: a check that it runs, not a "
                                "measurement")
    return arguments


def heading(text: str) -> None:
    print(f"\n== {text} ==")
    info = machine()
    print(f"machine: {info['nproc']} cores, {info['cpu']}, load average "
          f"{' '.join(map(str, info['load_average']))}")
