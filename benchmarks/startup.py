"""Start-up: `mlplens --help` and `mlplens data info` against `python -c pass`.

    python -m benchmarks.startup [--quick]

Each command is a fresh process; the three alternate, 20 rounds (5 with --quick); medians.
`--help` needs no framework and should cost little more than Python's own start; `data info`
must read and verify the MNIST arrays (SHA-256 of 55 MB), so it is reported, not targeted.
"""

from __future__ import annotations

import subprocess
import sys

from benchmarks import common


def main() -> None:
    options = common.parser(__doc__.split("\n\n")[0]).parse_args()
    rounds = 5 if options.quick else 20
    mlplens = str(common.BIN / "mlplens")
    commands = {"python -c pass": [sys.executable, "-c", "pass"],
                "mlplens --help": [mlplens, "--help"],
                "mlplens data info": [mlplens, "data", "info"]}
    for name, command in commands.items():  # warm the file cache and .pyc files, untimed
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    common.heading(f"startup: median of {rounds} runs each, alternating")
    times = common.alternate(
        {name: (lambda command=command: subprocess.run(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True))
         for name, command in commands.items()}, rounds)
    medians = {name: common.median(values) for name, values in times.items()}
    base = medians["python -c pass"]
    print(common.table(["command", "ms (median)", "x python -c pass"],
                       [[name, seconds * 1000, common.ratio(seconds, base)]
                        for name, seconds in medians.items()]))
    targets = [common.target("mlplens --help vs python -c pass",
                             common.ratio(medians["mlplens --help"], base), 3, "x")]
    common.print_targets(targets)
    common.write_results("startup", {"rounds": rounds, "seconds": times,
                                     "median_seconds": medians, "targets": targets})


if __name__ == "__main__":
    main()
