"""`mlplens.compare`'s time and peak memory against its estimate (`core.compare.compare_bytes`),
as the nets widen and as the images grow in number.

    python -m benchmarks.compare [--quick]

Each case is a process of its own (peak resident memory from `wait4`) comparing two 784-W-W/2-10
nets of seeded random weights on N random 28x28 images: W = 512, 1024, 2048 (4096 without
--quick) on 10,000 images, and N = 2,000, 10,000, 60,000 at W = 512. The images are made in the
child, so its peak includes them (N x 784 bytes); the estimate is compared with the peak over a
run that makes the same images and nets but compares nothing (the base). Goal: the streamed
pass' peak grows with the widths, not with N, and stays under the estimate.
"""

from __future__ import annotations

import sys

from benchmarks import common

MB = 10**6
ADDRESS_SPACE = 6 * 2**30
CHILD = """
import sys, time
import numpy as np
from mlplens import DenseStack, compare
from mlplens.core.compare import compare_bytes

width, count, run = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "run"
rng = np.random.default_rng(0)
def net():
    widths = (784, width, width // 2, 10)
    return DenseStack.from_arrays(
        [rng.normal(0, 1 / np.sqrt(i), (i, o)).astype(np.float32)
         for i, o in zip(widths, widths[1:])],
        [np.zeros(o, np.float32) for o in widths[1:]], ["relu", "relu", "softmax"])
a, b = net(), net()
images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
started = time.perf_counter()
if run:
    compare(a, b, images)
with open(sys.argv[4], "w") as out:
    out.write(f"{time.perf_counter() - started} {compare_bytes(a, b)}")
"""


def measure(width: int, count: int, run: bool) -> dict[str, float]:
    """One child: its seconds comparing (0 for the base), the estimate and its peak."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report"
        measured = common.run_measured([sys.executable, "-c", CHILD, str(width), str(count),
                                        "run" if run else "base", str(report)],
                                       address_space=ADDRESS_SPACE)
        if measured["returncode"] != 0:
            raise RuntimeError(f"compare of width {width} on {count} images failed")
        seconds, estimate = report.read_text().split()
    return {"seconds": float(seconds), "estimate_mb": int(estimate) / MB,
            "peak_mb": measured["peak_rss_mib"] * 2**20 / MB}


def main() -> None:
    options = common.parser(__doc__.split("\n\n")[0]).parse_args()
    common.heading("compare: time and memory against the estimate")
    widths = (512, 1024, 2048) if options.quick else (512, 1024, 2048, 4096)
    counts = (2000, 10000) if options.quick else (2000, 10000, 60000)
    cases = [(width, 10000) for width in widths] + [(512, n) for n in counts if n != 10000]
    rows, results, targets = [], {}, []
    for width, count in cases:
        base = measure(width, count, run=False)
        run = measure(width, count, run=True)
        over = run["peak_mb"] - base["peak_mb"]
        key = f"784-{width}-{width // 2}-10 x2, {count:,} images"
        results[key] = {"seconds": round(run["seconds"], 3), "peak_mb": round(run["peak_mb"], 1),
                        "over_base_mb": round(over, 1),
                        "estimate_mb": round(run["estimate_mb"], 1)}
        rows.append([key, run["seconds"], run["peak_mb"], over, run["estimate_mb"]])
        targets.append(common.target(f"{key}: peak over base within the estimate", over,
                                     run["estimate_mb"], "MB"))
    print(common.table(["case", "seconds", "peak MB", "over base MB", "estimate MB"], rows))
    common.print_targets(targets)
    common.write_results("compare", {"quick": options.quick, "cases": results,
                                     "targets": targets})


if __name__ == "__main__":
    main()
