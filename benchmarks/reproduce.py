"""`mlplens reproduce` against the article's way of doing the same work: wall time and memory.

    python -m benchmarks.reproduce [--quick] [--rounds N]

Each side runs as its own process on the same verified MNIST, the same networks, epochs and
seed, and makes the article's figures (see benchmarks/article_baseline.py for the baseline);
mlplens also writes what goes beyond the article (training snapshots, the evolution GIF, the
gradient and examples figures, run pages), so the speed-up understates. Rounds
alternate which side goes first. Peak memory is each process's own peak resident set size
(`wait4`'s ru_maxrss). The data cache is warmed first, untimed: "after set-up". mlplens
keeps JAX's compiled programs between runs, so it runs twice per round: first with an empty
compilation cache (the targets are judged on this one) and again with the cache it filled.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks import common

GIB = 1024  # MiB


def pngs(folder: Path) -> list[str]:
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*.png"))


def main() -> None:
    arguments = common.parser(__doc__.split("\n\n")[0])
    arguments.add_argument("--rounds", type=int, default=1,
                           help="runs of each side, alternating which goes first (default 1)")
    options = arguments.parse_args()
    quick = ["--quick"] if options.quick else []
    common.heading("reproduce: `mlplens reproduce` vs the article's way, same data and figures"
                   + (" (quick: 2,000 images, 1 epoch)" if options.quick else
                      " (60,000 images, 6 epochs)"))
    warm = common.run_measured([str(common.BIN / "mlplens"), "data", "info"])
    if warm["returncode"] != 0:
        sys.exit("mlplens data info failed: is the MNIST data installed (make setup)?")

    ours_command = [str(common.BIN / "mlplens"), "reproduce", *quick, "--out"]
    base_command = [sys.executable, "-m", "benchmarks.article_baseline", *quick, "--out"]
    # mlplens keeps JAX's compiled programs between runs: "cold" is a first run (an empty
    # cache, what the targets are judged on), "warm" the same command run again.
    names = {"cold": "mlplens reproduce", "warm": "mlplens reproduce, run again",
             "base": "article's way (baseline)"}
    runs: dict[str, list[dict]] = {name: [] for name in names.values()}
    figures: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="mlplens-bench-") as scratch:
        for round_index in range(options.rounds):
            jax_cache = Path(scratch) / f"jax-cache-{round_index}"
            order = ["cold", "warm", "base"] if round_index % 2 == 0 else ["base", "cold", "warm"]
            for key in order:
                out = Path(scratch) / f"{round_index}-{key}"
                command = (base_command if key == "base" else ours_command) + [str(out)]
                result = common.run_measured(command, cwd=common.REPO,
                                             env={"MLPLENS_JAX_CACHE": str(jax_cache)})
                if result["returncode"] != 0:
                    sys.exit(f"{names[key]} failed with exit code {result['returncode']}: "
                             f"{' '.join(command)}")
                figures[names[key]] = pngs(out)
                runs[names[key]].append(result)
                print(f"  round {round_index + 1}: {names[key]}: {result['seconds']:.1f} s, "
                      f"peak {result['peak_rss_mib']:.0f} MiB", flush=True)
                shutil.rmtree(out, ignore_errors=True)

    # mlplens makes every figure the baseline makes, and more (beyond the article's figures):
    # those extras are work the baseline does not do, so the speed-up understates.
    ours_figures, base_figures = set(figures[names["cold"]]), set(figures[names["base"]])
    same_figures = base_figures <= ours_figures
    extra_figures = sorted(ours_figures - base_figures)
    summary = {name: {"seconds": common.median(r["seconds"] for r in results),
                      "peak_rss_mib": max(r["peak_rss_mib"] for r in results),
                      "runs": results} for name, results in runs.items()}
    ours, base = summary[names["cold"]], summary[names["base"]]
    warm = summary[names["warm"]]
    speedup = common.ratio(base["seconds"], ours["seconds"])
    print()
    print(common.table(["", "wall s (median)", "peak MiB", "figures"],
                       [[name, s["seconds"], s["peak_rss_mib"], len(figures[name])]
                        for name, s in summary.items()]))
    print(f"\nmlplens is {speedup:.1f}x faster than the article's way on a first run, "
          f"{common.ratio(base['seconds'], warm['seconds']):.1f}x run again; peak memory "
          f"{common.ratio(ours['peak_rss_mib'], base['peak_rss_mib']):.2f}x the baseline's. "
          f"Every figure of the baseline made by mlplens too: {'yes' if same_figures else 'NO'}"
          f"; mlplens made {len(extra_figures)} more PNG files beyond the article's.")
    targets = [common.target("reproduce speed-up over the article's way", speedup, 3, "x",
                             at_most=False)]
    if not options.quick:
        targets.append(common.target("mlplens reproduce wall time", ours["seconds"], 60, "s"))
    targets.append(common.target("mlplens reproduce peak memory",
                                 max(ours["peak_rss_mib"], warm["peak_rss_mib"]) / GIB,
                                 1.5, "GiB"))
    common.print_targets(targets)
    common.write_results("reproduce", {"quick": options.quick, "rounds": options.rounds,
                                       "sides": summary, "speedup": speedup,
                                       "speedup_warm": common.ratio(base["seconds"],
                                                                    warm["seconds"]),
                                       "same_figures": same_figures,
                                       "extra_figures": extra_figures,
                                       "figures": figures[names["cold"]],
                                       "targets": targets})


if __name__ == "__main__":
    main()
