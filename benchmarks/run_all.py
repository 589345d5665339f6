"""Every benchmark, each in its own process, then every ratio and target in one summary.

    python -m benchmarks.run_all [--quick] [--only NAME ...]      (what `make bench` runs)

Start-up goes first, while nothing else of ours is warm; reproduce goes last, as it is longest.
Benchmarks are not tests: a target that is not met is reported, not failed; the exit code is
non-zero only when a benchmark itself could not run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from benchmarks import common

ORDER = ("startup", "render", "project", "memory", "compare", "explorer", "train", "reproduce")


def ratios(name: str, result: dict) -> list[tuple[str, str]]:
    """The comparisons each benchmark exists to make, as (what, value) lines."""
    lines: list[tuple[str, str]] = []
    if name == "startup":
        base = result["median_seconds"]["python -c pass"]
        for command, seconds in result["median_seconds"].items():
            if command != "python -c pass":
                lines.append((f"{command} vs python -c pass",
                              f"{common.ratio(seconds, base):.2f}x ({seconds * 1000:.0f} ms vs "
                              f"{base * 1000:.0f} ms)"))
    elif name == "render":
        for count, sizes in result["sizes"].items():
            medians = sizes["median_seconds"]
            subplots = medians["subplots (article)"]
            for kind in ("mosaic", "labelled mosaic"):
                lines.append((f"{count} nodes: subplots vs {kind}",
                              f"{common.ratio(subplots, medians[kind]):.0f}x faster "
                              f"({subplots:.2f} s vs {medians[kind]:.3f} s)"))
    elif name == "project":
        for method, timing in result["trained_net"].items():
            lines.append((f"{method} on the 60,000-image net",
                          f"{timing['median_seconds'] * 1000:.1f} ms"))
        for method, growth in result["width"].items():
            lines.append((f"{method}: time vs layer width", f"grows as W^{growth['exponent']:.2f}"))
        for method, growth in result["reference"].items():
            if growth.get("ignores_reference"):
                continue
            lines.append((f"{method}: time / memory vs reference size",
                          f"N^{growth['exponent']:.2f} / N^{growth['memory_exponent']:.2f}"))
        if not result["reference"]:
            lines.append(("reference-set growth", "no method takes a reference set yet"))
    elif name == "memory":
        for bomb, measured in result["bombs"].items():
            lines.append((f"bomb {bomb}: {'refused' if measured['refused'] else 'NOT refused'}",
                          f"{measured['peak_mb']:.0f} MB, {measured['seconds']:.2f} s"))
        for model, load in result["loads"].items():
            lines.append((f"load {model}: peak over base per float32 weight byte",
                          f"{load['over_base_per_weight']:.2f}x ({load['peak_mb']:.0f} MB, "
                          f"weights {load['weights_mb']:.0f} MB, base {load['base_mb']:.0f} "
                          "MB)"))
    elif name == "compare":
        for case, measured in result["cases"].items():
            lines.append((f"compare {case}: peak over base / estimate",
                          f"{measured['over_base_mb']:.0f} MB / {measured['estimate_mb']:.0f} MB"
                          f", {measured['seconds']:.1f} s"))
    elif name == "explorer":
        for net, sides in result["nets"].items():
            old, new = sides["before"], sides["after"]
            lines.append((f"explorer {net}: page written, before vs after",
                          f"{common.ratio(old['write_seconds'], new['write_seconds']):.1f}x "
                          f"faster ({old['write_seconds']:.1f} s vs {new['write_seconds']:.1f} s"
                          f"; {old['peak_rss_mib']:.0f} vs {new['peak_rss_mib']:.0f} MiB)"))
            lines.append((f"explorer {net}: load / update median / worst, after",
                          f"{new['load_ms']:.0f} ms / {new['update_median_ms']:.1f} ms / "
                          f"{new['update_worst_ms']:.1f} ms"))
    elif name == "train":
        for net, summary in result["nets"].items():
            for kind, label in (("mlplens", "mlplens"), ("keras_fit", "Keras fit")):
                lines.append((f"{net}: {label} per epoch vs NumPy matmul floor",
                              f"{summary[kind]['ratio_to_numpy_floor']:.2f}x "
                              f"({summary[kind]['steady_seconds_per_epoch']:.3f} s vs "
                              f"{summary['numpy_floor_seconds']:.3f} s at "
                              f"{summary['numpy_gflops']:.0f} GFLOP/s; compile "
                              f"{summary[kind]['compile_seconds']:.1f} s)"))
    elif name == "reproduce":
        sides = result["sides"]
        ours, base = sides["mlplens reproduce"], sides["article's way (baseline)"]
        warm = sides["mlplens reproduce, run again"]
        lines.append(("reproduce: article's way vs mlplens (first run)",
                      f"{result['speedup']:.1f}x faster ({base['seconds']:.0f} s vs "
                      f"{ours['seconds']:.1f} s)"))
        lines.append(("reproduce: article's way vs mlplens run again (compilation cached)",
                      f"{result['speedup_warm']:.1f}x faster ({base['seconds']:.0f} s vs "
                      f"{warm['seconds']:.1f} s)"))
        lines.append(("reproduce peak memory: mlplens / article's way",
                      f"{ours['peak_rss_mib']:.0f} MiB / {base['peak_rss_mib']:.0f} MiB"))
    return lines


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument("--quick", action="store_true", help="every benchmark's --quick")
    arguments.add_argument("--only", nargs="+", choices=ORDER, default=list(ORDER))
    options = arguments.parse_args()
    started = time.perf_counter()
    failed = []
    for name in ORDER:
        if name not in options.only:
            continue
        command = [sys.executable, "-m", f"benchmarks.{name}", *(["--quick"] if options.quick
                                                                 else [])]
        if subprocess.run(command, cwd=common.REPO).returncode != 0:
            failed.append(name)

    print("\n== summary: every ratio ==")
    rows, targets, documents = [], [], {}
    for name in options.only:
        path = common.RESULTS / f"{name}.json"
        if name in failed or not path.exists():
            rows.append([name, "did not run"])
            continue
        result = json.loads(path.read_text(encoding="utf-8"))
        documents[name] = result
        rows += [[what, value] for what, value in ratios(name, result)]
        targets += result.get("targets", [])
    print(common.table(["comparison", "measured"], rows))
    common.print_targets(targets)
    met = sum(target["met"] for target in targets)
    print(f"\n{met} of {len(targets)} targets met; {time.perf_counter() - started:.0f} s in all")
    common.write_results("summary", {"quick": options.quick, "failed": failed,
                                     "targets": targets,
                                     "ratios": [dict(zip(("comparison", "measured"), row))
                                                for row in rows]})
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
