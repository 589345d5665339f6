"""Training speed: seconds per epoch against the matrix-product floor measured in the same run.

    python -m benchmarks.train [--quick]

The floor is the arithmetic no implementation can skip: the matrix products of one epoch,
forward and backward (weight gradients for every layer, input gradients for all but the first),
at batch 128, timed with NumPy's BLAS on preallocated arrays, with all of its threads and
with one (the floor is the faster). It is measured after every training epoch, so the floor
and the training share the machine's load, in a worker process of its own (XLA's idle threads
in the training process would slow OpenBLAS tenfold). The same products compiled by XLA are
timed in-process too, to show how much of the gap is XLA's matmul speed. Compared: mlplens'
training loop (`mlplens.training.fit_on_device`: Keras' own train step, compiled loops, data on
the device), plain `keras.Model.fit`, and `fit` after `compile(steps_per_execution=N)`, Keras'
public way to run N steps per call, in alternating sessions, each a fresh seeded model.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import numpy as np

from benchmarks import common

BATCH = 128
NETS = {"784-512-256-10 (the article's)": (512, 256), "784-10 (single layer)": ()}
# Each compared implementation: its name in the table and Keras' steps_per_execution, or None
# for mlplens' own loop (which runs 128 steps per compiled call whatever the model says).
VARIANTS = {"mlplens": ("mlplens fit_on_device", None),
            "keras_fit": ("keras Model.fit", 1),
            "keras_fit_spe32": ("keras fit, steps_per_execution=32", 32),
            "keras_fit_spe128": ("keras fit, steps_per_execution=128", 128)}


def matmul_flops(sizes: tuple[int, ...], samples: int) -> int:
    """Multiply-adds x 2 of one epoch: forward, weight gradients, input gradients past layer 1."""
    total = 0
    for index, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        products = 3 if index > 0 else 2
        total += 2 * fan_in * fan_out * samples * products
    return total


class NumpyFloor:
    """The epoch's matrix products with NumPy, on preallocated arrays (no allocation timed)."""

    def __init__(self, sizes: tuple[int, ...], samples: int, batch: int = BATCH) -> None:
        rng = np.random.default_rng(0)
        full, tail = divmod(samples, batch)
        self.plan = [(batch, full)] + ([(tail, 1)] if tail else [])
        self.weights = [rng.standard_normal((a, b), dtype=np.float32) * 0.05
                        for a, b in zip(sizes, sizes[1:])]
        self.buffers = {}
        for rows, _ in self.plan:
            acts = [rng.standard_normal((rows, n), dtype=np.float32) for n in sizes]
            grads = [rng.standard_normal((rows, n), dtype=np.float32) for n in sizes]
            outs = [np.empty((rows, n), np.float32) for n in sizes]
            weight_grads = [np.empty_like(w) for w in self.weights]
            self.buffers[rows] = (acts, grads, outs, weight_grads)

    def epoch(self) -> None:
        weights = self.weights
        for rows, repeats in self.plan:
            acts, grads, outs, weight_grads = self.buffers[rows]
            for _ in range(repeats):
                for k, kernel in enumerate(weights):  # forward: h_{k+1} = h_k W_k
                    np.matmul(acts[k], kernel, out=outs[k + 1])
                for k in range(len(weights) - 1, -1, -1):  # backward
                    np.matmul(acts[k].T, grads[k + 1], out=weight_grads[k])  # dW_k = h_k^T g
                    if k > 0:
                        np.matmul(grads[k + 1], weights[k].T, out=outs[k])  # g_k = g W_k^T


def xla_floor(sizes: tuple[int, ...], samples: int, batch: int = BATCH):
    """The same products as one compiled JAX loop: what XLA's own matmuls cost on this CPU.

    Each step's input is a different slice of a device array and each product feeds the next,
    as in training, and an optimisation barrier keeps every product whole: otherwise XLA
    hoists loop-invariant products out of the loop or shrinks products whose results are
    only partly used.
    """
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(0)
    weights = [jnp.asarray(rng.standard_normal((a, b), dtype=np.float32) * 0.05)
               for a, b in zip(sizes, sizes[1:])]
    data = jnp.asarray(rng.standard_normal((samples, sizes[0]), dtype=np.float32))
    full, tail = divmod(samples, batch)

    def products(rows: int, first: int, steps: int):
        @jax.jit
        def run(weights, data):
            def body(step, total):
                x = jax.lax.dynamic_slice(data, ((first + step) * batch, 0), (rows, sizes[0]))
                acts = [x]
                for kernel in weights:  # forward
                    acts.append(acts[-1] @ kernel)
                grad, outputs = acts[-1], []
                for k in range(len(weights) - 1, -1, -1):  # backward
                    outputs.append(acts[k].T @ grad)
                    if k > 0:
                        grad = grad @ weights[k].T
                outputs = jax.lax.optimization_barrier(outputs)
                return total + sum(out[0, 0] for out in outputs)
            return jax.lax.fori_loop(0, steps, body, jnp.float32(0))

        run(weights, data).block_until_ready()  # compile outside the timing
        return lambda: run(weights, data).block_until_ready()

    calls = [products(batch, 0, full)] + ([products(tail, full, 1)] if tail else [])
    return lambda: [call() for call in calls]


class BlasThreads:
    """Set the number of threads of the OpenBLAS that NumPy loaded, if it can be found.

    Two-thread OpenBLAS collapses (10x slower) when other processes keep both cores busy,
    while one thread only halves: the floor is the faster of the two, measured in turn.
    """

    NAMES = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
             "openblas_set_num_threads64_", "openblas_set_num_threads")

    def __init__(self) -> None:
        import ctypes
        import re

        self.setter = None
        try:
            maps = open("/proc/self/maps", encoding="utf-8").read()
        except OSError:
            return
        for path in sorted(set(re.findall(r"(/\S*openblas\S*\.so\S*)", maps))):
            library = ctypes.CDLL(path)
            for name in self.NAMES:
                if hasattr(library, name):
                    self.setter = getattr(library, name)
                    return

    def set(self, threads: int) -> bool:
        if self.setter is None:
            return False
        self.setter(threads)
        return True


class FloorWorker:
    """The NumPy floor, timed in a process of its own, on request, between training epochs.

    In the training process XLA's worker threads are still spinning when an epoch ends, and
    OpenBLAS' threads then fight them for the two cores (measured: 2-thread NumPy 10x slower
    there). A separate process that sleeps while the training runs, and runs while the
    training sleeps, measures the products as a NumPy user gets them.
    """

    def __init__(self, sizes: tuple[int, ...], samples: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.train", "--floor-worker", str(samples),
             *map(str, sizes)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            cwd=common.REPO)
        self.threads = self._ask("ready")  # the worker's default OpenBLAS thread count

    def _ask(self, request: str) -> float:
        self.process.stdin.write(request + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError("the NumPy floor worker stopped")
        return float(answer)

    def epoch(self, threads: int | None = None) -> float:
        """Seconds for one epoch of products, with `threads` OpenBLAS threads (or the default)."""
        return self._ask(f"epoch {threads or 0}")

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def floor_worker(samples: int, sizes: tuple[int, ...]) -> None:
    """The worker's side: answer 'ready' with the thread count, 'epoch N' with seconds."""
    blas = BlasThreads()
    default = os.cpu_count() or 1
    floor = NumpyFloor(sizes, samples)
    floor.epoch()  # warm caches and threads, untimed
    for line in sys.stdin:
        request = line.split()
        if request[0] == "ready":
            answer = float(default if blas.setter is not None else 0)
        else:
            threads = int(request[1]) or default
            blas.set(threads)
            started = time.perf_counter()
            floor.epoch()
            answer = time.perf_counter() - started
            blas.set(default)
        print(answer, flush=True)


def make_model(hidden: tuple[int, ...], seed: int = 0, steps_per_execution: int = 1) -> Any:
    from mlplens.training import build, import_keras

    keras = import_keras()
    keras.utils.set_random_seed(seed)
    model = build(hidden)
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=steps_per_execution)
    return model


def session(kind: str, hidden: tuple[int, ...], x: np.ndarray, y: np.ndarray, epochs: int,
            floors: dict[str, Any]) -> dict[str, Any]:
    """One training run of `epochs`; after each epoch, time the floors once each."""
    from mlplens.training import fit_on_device, import_keras

    keras = import_keras()
    epoch_seconds: list[float] = []
    floor_seconds: dict[str, list[float]] = {name: [] for name in floors}

    class Timer(keras.callbacks.Callback):
        async_safe = True  # acts at epoch ends only; keeps Keras' fit on its fast dispatch path

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epoch_seconds.append(time.perf_counter() - self.started)
            time.sleep(0.1)  # let XLA's threads go idle before the floors run
            for name, floor in floors.items():
                floor_seconds[name].append(floor())
            time.sleep(0.1)  # and the worker's BLAS threads before the next epoch

    steps_per_execution = VARIANTS[kind][1]
    model = make_model(hidden, steps_per_execution=steps_per_execution or 1)
    started = time.perf_counter()
    if steps_per_execution is None:
        history = fit_on_device(model, x, y, BATCH, epochs, verbose=0, callbacks=[Timer()])
    else:
        history = model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0,
                            callbacks=[Timer()])
    return {"epoch_seconds": epoch_seconds, "floor_seconds": floor_seconds,
            "total_seconds": time.perf_counter() - started,
            "final_loss": float(history.history["loss"][-1])}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--floor-worker":
        floor_worker(int(sys.argv[2]), tuple(int(size) for size in sys.argv[3:]))
        return
    arguments = common.parser(__doc__.split("\n\n")[0])
    arguments.add_argument("--samples", type=int, default=None, help="training images (60000)")
    arguments.add_argument("--epochs", type=int, default=None, help="epochs per session (6)")
    arguments.add_argument("--sessions", type=int, default=None,
                           help="sessions per implementation, alternating (2)")
    options = arguments.parse_args()
    samples = options.samples or (12000 if options.quick else 60000)
    epochs = options.epochs or (3 if options.quick else 6)
    sessions = options.sessions or (1 if options.quick else 2)
    os.environ.setdefault("KERAS_BACKEND", "jax")

    import mlplens
    from mlplens.training import import_keras
    from mlplens.training.inputs import as_inputs

    keras = import_keras()
    common.heading(f"train: seconds per epoch, {samples} images, batch {BATCH}, {epochs} epochs "
                   f"x {sessions} sessions per implementation")
    mnist = mlplens.load_mnist()
    x = as_inputs(mnist.x_train[:samples])
    y = keras.utils.to_categorical(mnist.y_train[:samples], 10)

    rows, results, targets = [], {}, []
    for label, hidden in NETS.items():
        sizes = (784, *hidden, 10)
        worker = FloorWorker(sizes, samples)
        xla_epoch = xla_floor(sizes, samples)

        def timed_xla() -> float:
            started = time.perf_counter()
            xla_epoch()
            return time.perf_counter() - started

        floors = {"numpy": worker.epoch, "xla": timed_xla}
        if worker.threads > 1:
            floors["numpy_1_thread"] = lambda: worker.epoch(1)
        runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in VARIANTS}
        for _ in range(sessions):
            for kind in runs:
                runs[kind].append(session(kind, hidden, x, y, epochs, floors))
        worker.close()
        flops = matmul_flops(sizes, samples)
        all_floors = {name: [s for kind in runs.values() for run in kind
                             for s in run["floor_seconds"][name]] for name in floors}
        numpy_threads = {name: common.median(all_floors[name]) for name in all_floors
                         if name.startswith("numpy")}
        floor = min(numpy_threads.values())
        xla = common.median(all_floors["xla"])
        summary = {"sizes": sizes, "matmul_gflop_per_epoch": flops / 1e9,
                   "numpy_floor_seconds": floor, "numpy_floor_by_threads": numpy_threads,
                   "numpy_gflops": flops / floor / 1e9,
                   "xla_floor_seconds": xla, "xla_gflops": flops / xla / 1e9, "runs": runs}
        ours = common.median(s for run in runs["mlplens"] for s in run["epoch_seconds"][1:])
        for kind, sessions_of_kind in runs.items():
            steady = common.median(s for run in sessions_of_kind for s in run["epoch_seconds"][1:])
            first = common.median(run["epoch_seconds"][0] for run in sessions_of_kind)
            summary[kind] = {"steady_seconds_per_epoch": steady, "first_epoch_seconds": first,
                             "compile_seconds": first - steady,
                             "ratio_to_numpy_floor": common.ratio(steady, floor),
                             "ratio_to_xla_floor": common.ratio(steady, xla),
                             "ratio_to_mlplens": common.ratio(steady, ours),
                             "final_loss": [run["final_loss"] for run in sessions_of_kind]}
            rows.append([f"{label}: {VARIANTS[kind][0]}", steady, first - steady,
                         common.ratio(steady, floor), common.ratio(steady, xla),
                         common.ratio(steady, ours)])
        for name, seconds in numpy_threads.items():
            threads = "1 thread" if name.endswith("1_thread") else "all threads"
            rows.append([f"{label}: matmul floor, NumPy {threads} "
                         f"({flops / seconds / 1e9:.0f} GFLOP/s)", seconds, "",
                         common.ratio(seconds, floor), common.ratio(seconds, xla),
                         common.ratio(seconds, ours)])
        rows.append([f"{label}: matmul floor, XLA ({flops / xla / 1e9:.0f} GFLOP/s)", xla, "",
                     common.ratio(xla, floor), 1.0, common.ratio(xla, ours)])
        results[label] = summary
        if hidden == (512, 256):
            targets.append(common.target("article net at batch 128 vs the NumPy matmul floor",
                                         summary["mlplens"]["ratio_to_numpy_floor"], 1.25, "x"))
    print(common.table(["what", "s/epoch", "compile s", "x NumPy floor", "x XLA floor",
                        "x mlplens"], rows))
    print("(NumPy floor: the faster of its thread counts; compile: first epoch minus steady)")
    load = os.getloadavg()[0]
    if load > (os.cpu_count() or 1):
        print(f"warning: load average {load:.1f} on {os.cpu_count()} cores: other work shares "
              "the machine, so these ratios are unreliable")
    article = results[next(iter(NETS))]
    print()
    for kind, (name, _) in VARIANTS.items():
        if kind != "mlplens":
            print(f"{name} on the article's net: {article[kind]['ratio_to_mlplens']:.2f}x "
                  "mlplens' seconds per epoch")
    common.print_targets(targets)
    common.write_results("train", {"samples": samples, "epochs": epochs, "sessions": sessions,
                                   "batch_size": BATCH, "nets": results, "targets": targets})


if __name__ == "__main__":
    main()
