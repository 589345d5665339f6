"""Projection methods: time per method on the 60,000-image net, and how time grows.

    python -m benchmarks.project [--quick]

Every method in `mlplens.methods.METHODS` is timed, so methods added later are picked up. A
method that needs a reference set is called as `project(stack, method, reference=images)`;
one that cannot be called either way is listed as skipped. Growth is measured at three sizes:
layer width (784-W-W/2-10 nets with random weights) for every method, and reference-set size
(1,000, 3,000, 10,000 test images) for the methods that take one, with the peak memory NumPy
allocates during the call (tracemalloc), which stays flat when a method streams its reference
set in batches. Slow methods get fewer rounds (about 6 s of timing each). The net is trained
once (seed 0, 6 epochs) and kept in benchmarks/results/models.
"""

from __future__ import annotations

import inspect
import math
import os
import shutil
import time
import tracemalloc
from typing import Any

import numpy as np

from benchmarks import common
from benchmarks.render import random_stack

WIDTHS = (512, 1024, 2048)
REFERENCE_SIZES = (1000, 3000, 10000)
MODEL = common.RESULTS / "models" / "mlp-60000-seed0.keras"


def trained_stack():
    """The article's net trained on all 60,000 images, trained once and then read from disk."""
    import mlplens

    if not MODEL.exists():
        print(f"training the 60,000-image net once ({MODEL.relative_to(common.REPO)})",
              flush=True)
        trained = mlplens.train(hidden=(512, 256), train_samples=60000, epochs=6, seed=0,
                                verbose=0)
        folder = MODEL.parent / "tmp-mlp-60000"
        trained.save(folder)
        (folder / "model.keras").replace(MODEL)
        shutil.rmtree(folder)
    return mlplens.load_stack(MODEL)


def reference_forms(images: np.ndarray) -> list[np.ndarray]:
    """The reference set as the method may want it: flat float32 in [0, 1], or uint8 images."""
    flat = images.reshape(len(images), -1).astype(np.float32) / np.float32(255)
    return [flat, images]


def calling_plan(project, stack, method: str, reference: np.ndarray,
                 labels: np.ndarray) -> dict[str, Any]:
    """How `method` can be called: plainly, with `reference=` (and `labels=` if it takes them),
    both, or not at all (and why)."""
    plan: dict[str, Any] = {"plain": False, "reference_form": None, "labels": False,
                            "error": None}
    try:
        project(stack, method)
        plan["plain"] = True
    except Exception as exc:  # e.g. MlplensError: "the gradient method needs reference images"
        plan["error"] = f"{type(exc).__name__}: {exc}"
    parameters = inspect.signature(project).parameters
    takes_keywords = "reference" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    if not takes_keywords:
        return plan
    for form, candidate in enumerate(reference_forms(reference)):
        for with_labels in (True, False):
            extra = {"labels": labels} if with_labels else {}
            try:
                project(stack, method, reference=candidate, **extra)
            except Exception as exc:
                plan["error"] = plan["error"] or f"{type(exc).__name__}: {exc}"
                continue
            plan.update(reference_form=form, labels=with_labels)
            return plan
    return plan


def budgeted_times(call, rounds: int, budget: float = 6.0) -> list[float]:
    """Up to `rounds` timings of `call` after one untimed warm-up, fewer for slow calls so
    that each measurement takes about `budget` seconds at most."""
    started = time.perf_counter()
    call()
    first = time.perf_counter() - started
    count = max(1, min(rounds, int(budget / max(first, 1e-9))))
    return common.alternate({"x": call}, count)["x"]


def growth_exponent(sizes: tuple[int, ...], values: list[float]) -> float:
    """The p in value ~ size^p, from a least-squares line through the log-log points."""
    slope, _ = np.polyfit(np.log(sizes), np.log(values), 1)
    return float(slope)


def peak_traced_mib(call) -> float:
    tracemalloc.start()
    try:
        call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    options = common.parser(__doc__.split("\n\n")[0]).parse_args()
    rounds = 3 if options.quick else 7
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import mlplens
    from mlplens.methods import METHODS, project

    stack = trained_stack()
    mnist = mlplens.load_mnist()
    test_images, test_labels = mnist.x_test, mnist.y_test
    common.heading(f"project: every method in mlplens.methods.METHODS ({', '.join(METHODS)}), "
                   f"median of {rounds}")

    plans = {method: calling_plan(project, stack, method, test_images[:REFERENCE_SIZES[0]],
                                  test_labels[:REFERENCE_SIZES[0]])
             for method in METHODS}
    callable_methods = {m: p for m, p in plans.items() if p["plain"] or
                        p["reference_form"] is not None}
    reference_methods = [m for m, p in plans.items() if p["reference_form"] is not None]

    def call(method: str, net, reference_size: int | None = None):
        """`project` as the method can be called: plainly if it can, unless a reference size
        is asked for; with `reference=` (1,000 images unless told) if it needs one."""
        plan = plans[method]
        if plan["reference_form"] is not None and (reference_size or not plan["plain"]):
            reference_size = reference_size or REFERENCE_SIZES[0]
            reference = reference_forms(test_images[:reference_size])[plan["reference_form"]]
            extra = {"labels": test_labels[:reference_size]} if plan["labels"] else {}
            return lambda: project(net, method, reference=reference, **extra)
        return lambda: project(net, method)

    rows, results = [], {"trained_net": {}, "width": {}, "reference": {}, "skipped": {}}
    counts = {}
    for method in callable_methods:  # warm up each, and give slow ones fewer rounds
        started = time.perf_counter()
        call(method, stack)()
        counts[method] = max(1, min(rounds, int(6.0 / max(time.perf_counter() - started, 1e-9))))
    times = common.alternate({m: call(m, stack) for m in callable_methods}, rounds, counts)
    for method, values in times.items():
        seconds = common.median(values)
        results["trained_net"][method] = {"median_seconds": seconds, "seconds": values,
                                          "reference": plans[method]["reference_form"] is not None}
        rows.append([f"{method} on the 60,000-image net", seconds * 1000])
    for method, plan in plans.items():
        if method not in callable_methods:
            results["skipped"][method] = plan["error"]
            rows.append([f"{method}: skipped ({plan['error']})", ""])
    print(common.table(["method", "ms (median)"], rows))

    print(f"\ngrowth with layer width: 784-W-W/2-10 nets, W = {', '.join(map(str, WIDTHS))}")
    width_rows = []
    nets = {width: random_stack((width, width // 2, 10)) for width in WIDTHS}
    for method in callable_methods:
        by_width = {width: common.median(budgeted_times(call(method, nets[width]), rounds))
                    for width in WIDTHS}
        exponent = growth_exponent(WIDTHS, list(by_width.values()))
        results["width"][method] = {"seconds": by_width, "exponent": exponent}
        width_rows.append([method, *(s * 1000 for s in by_width.values()), f"W^{exponent:.2f}"])
    print(common.table(["method", *(f"W={w} ms" for w in WIDTHS), "grows as"], width_rows))

    print(f"\ngrowth with reference-set size N = {', '.join(map(str, REFERENCE_SIZES))}")
    if not reference_methods:
        print("no method takes a reference set yet (linear and seed need none): nothing to "
              "measure; methods added with `reference=` are measured here automatically")
    reference_rows, ignoring = [], []
    for method in reference_methods:
        seconds, memory = {}, {}
        for size in REFERENCE_SIZES:
            seconds[size] = common.median(budgeted_times(call(method, stack, size), rounds))
            memory[size] = peak_traced_mib(call(method, stack, size))
        exponent = growth_exponent(REFERENCE_SIZES, list(seconds.values()))
        memory_exponent = growth_exponent(REFERENCE_SIZES, list(memory.values()))
        results["reference"][method] = {"seconds": seconds, "peak_traced_mib": memory,
                                        "exponent": exponent,
                                        "memory_exponent": memory_exponent}
        if plans[method]["plain"] and exponent < 0.2:
            ignoring.append(method)  # accepts `reference=` but does not use it
            continue
        reference_rows.append([method, *(seconds[n] * 1000 for n in REFERENCE_SIZES),
                               f"N^{exponent:.2f}", *(memory[n] for n in REFERENCE_SIZES),
                               f"N^{memory_exponent:.2f}"])
    if ignoring:
        print(f"accept a reference set but take no longer with more of it: {', '.join(ignoring)}")
        for method in ignoring:
            results["reference"][method]["ignores_reference"] = True
    if reference_rows:
        print(common.table(["method", *(f"N={n} ms" for n in REFERENCE_SIZES), "time grows as",
                            *(f"N={n} MiB" for n in REFERENCE_SIZES), "memory grows as"],
                           reference_rows))
    common.write_results("project", {"rounds": rounds, "methods": list(METHODS),
                                     "widths": WIDTHS, "reference_sizes": REFERENCE_SIZES,
                                     **results, "targets": []})
    if any(not math.isfinite(r["exponent"]) for r in results["width"].values()):
        raise SystemExit("a growth exponent is not finite")


if __name__ == "__main__":
    main()
