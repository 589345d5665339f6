"""Memory bounded by what is real: hostile files and huge requests, and models of growing width.

    python -m benchmarks.memory [--quick]

Side by side, each a process of its own (peak resident memory from `wait4`, wall time):
- every bomb: the corpus' model bombs (tests/corpus), MNIST bombs made here (a gzipped IDX file
  inflating to 3 GB, one declaring 5 million images, a sparse 5 GB IDX file, an mnist.npz
  member declaring 3.9 GB), and commands asking for huge work under MLPLENS_MEMORY_LIMIT
  (--scale 1000, examples with --top-k 10000 --reference 10000, gradient on 1500-wide layers,
  the explorer of a 784-100000-10 net). Goal: refused under 300 MB and 2 s each (the explorer's
  314 MB of weights are loaded before it is refused, so its goal adds them);
- loading 784-W-10 nets (W = 1k, 4k, 16k, 64k; random float32 weights) as .npz, .safetensors,
  .h5 (and .onnx, .keras, reported): peak against the float32 weights. Goal: under twice the
  weights plus the format's base, the peak of loading a tiny 784-16-10 net the same way.
Files are made by a child process, so this process stays small (Linux counts a parent's memory
in the peak of the children it starts) and every child runs under a 3 GiB address-space limit.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from benchmarks import common

MB = 10**6
ADDRESS_SPACE = 3 * 2**30  # a regression fails, the shared machine does not
WIDTHS = (1000, 4000, 16000, 64000)
FORMATS = (".npz", ".safetensors", ".h5", ".onnx", ".keras")
TARGETED = (".npz", ".safetensors", ".h5")  # the goal's formats; ONNX and Keras are reported
CORPUS = common.REPO / "tests" / "corpus"
CORPUS_BOMBS = ("npz-bomb.npz", "npz-forged.npz", "npz-short.npz", "h5-unwritten.h5",
                "h5-bomb.h5", "keras-bomb.keras", "keras-unwritten.keras")
LOAD = "import sys; from mlplens.formats import load_stack; load_stack(sys.argv[1])"


def write_models(folder: Path, widths: list[int], formats: list[str]) -> None:
    """784-W-10 nets of random float32 weights in every format (run in a child process)."""
    import h5py
    import numpy as np

    from mlplens import DenseStack, save_stack

    rng = np.random.default_rng(0)
    for width in widths:
        kernels = [rng.normal(0, 0.05, shape).astype(np.float32)
                   for shape in ((784, width), (width, 10))]
        biases = [np.zeros(width, np.float32), np.zeros(10, np.float32)]
        stack = DenseStack.from_arrays(kernels, biases, ["relu", "softmax"])
        for suffix in formats:
            path = folder / f"784-{width}-10{suffix}"
            if suffix == ".h5":  # Keras' save_weights layout, written by h5py
                with h5py.File(path, "w") as h5:
                    h5.attrs["layer_names"] = np.array([b"dense_1", b"dense_2"])
                    for name, kernel, bias in zip(("dense_1", "dense_2"), kernels, biases):
                        group = h5.create_group(name)
                        group.attrs["weight_names"] = np.array(
                            [f"{name}/kernel:0".encode(), f"{name}/bias:0".encode()])
                        group.create_dataset(f"{name}/kernel:0", data=kernel)
                        group.create_dataset(f"{name}/bias:0", data=bias)
            elif suffix == ".keras":
                from mlplens.keras_backend import import_keras

                keras = import_keras()
                model = keras.Sequential([keras.Input((784,)),
                                          keras.layers.Dense(width, activation="relu"),
                                          keras.layers.Dense(10, activation="softmax")])
                model.set_weights([kernels[0], biases[0], kernels[1], biases[1]])
                model.save(path)
            else:
                save_stack(stack, path)


def write_bombs(folder: Path) -> None:
    """The MNIST bombs and the nets the command bombs draw (run in a child process)."""
    import struct
    import zipfile

    from tests.make_corpus import deflated_zeros, npy_header_only, zip_bytes

    def idx(*shape: int) -> bytes:
        return struct.pack(f">BBBB{len(shape)}I", 0, 0, 0x08, len(shape), *shape)

    def gzipped(prefix: bytes, zeros: int) -> bytes:
        stream, crc = deflated_zeros(prefix, zeros)
        return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + stream
                + struct.pack("<II", crc, (len(prefix) + zeros) & 0xFFFFFFFF))

    images = "train-images-idx3-ubyte"
    for name, content in (("idx-gzip-3GB", gzipped(idx(60000, 28, 28), 3 * 10**9)),
                          ("idx-5M-images", gzipped(idx(5_000_000, 28, 28), 10**6))):
        (folder / name).mkdir()
        (folder / name / f"{images}.gz").write_bytes(content)
    (folder / "idx-5GB").mkdir()
    with open(folder / "idx-5GB" / images, "wb") as handle:  # sparse: nothing on disk
        handle.write(idx(60000, 28, 28))
        handle.truncate(5 * 10**9)
    header = npy_header_only((5_000_000, 28, 28), "|u1")
    stream, crc = deflated_zeros(header, 5_000_000 * 784)
    (folder / "mnist-bomb.npz").write_bytes(zip_bytes([
        ("x_train.npy", stream, zipfile.ZIP_DEFLATED, crc, len(header) + 5_000_000 * 784)]))
    write_models(folder, [16, 64], [".npz"])
    import numpy as np

    rng = np.random.default_rng(0)
    # Three wide layers: layer 3's gradient needs (batch, 1500, 1500) products (layer 2's not).
    np.savez(folder / "784-1500-1500-1500-10.npz",
             W1=rng.normal(0, 0.05, (784, 1500)).astype("f4"),
             W2=rng.normal(0, 0.05, (1500, 1500)).astype("f4"),
             W3=rng.normal(0, 0.05, (1500, 1500)).astype("f4"),
             W4=rng.normal(0, 0.05, (1500, 10)).astype("f4"))


def bombs(folder: Path, quick: bool) -> list[tuple[str, list[str], dict[str, str], float]]:
    """(name, mlplens arguments, environment, peak goal in bytes) of every bomb."""
    out = str(folder / "out")
    limit = {"MLPLENS_MEMORY_LIMIT": "2G"}
    plan = [(name, ["visualize", str(CORPUS / name), "--out", out], {}, 300 * MB)
            for name in CORPUS_BOMBS]
    plan += [(name, ["data", "info", "--data", str(folder / name)], {}, 300 * MB)
             for name in ("idx-gzip-3GB", "idx-5M-images", "idx-5GB", "mnist-bomb.npz")]
    plan += [
        ("visualize --scale 1000 (784-16-10)",
         ["visualize", str(folder / "784-16-10.npz"), "--scale", "1000", "--out", out], limit,
         300 * MB),
        ("examples --top-k 10000 --reference 10000",
         ["visualize", str(folder / "784-64-10.npz"), "--method", "examples", "--top-k",
          "10000", "--reference", "10000", "--out", out], limit, 300 * MB),
        ("gradient, 784-1500-1500-1500-10",
         ["visualize", str(folder / "784-1500-1500-1500-10.npz"), "--method", "gradient",
          "--out", out], limit, 300 * MB)]
    if not quick:
        plan.append(("explore 784-100000-10 (4G limit)",
                     ["explore", str(folder / "784-100000-10.npz"), "-o",
                      str(folder / "x.html")], {"MLPLENS_MEMORY_LIMIT": "4G"}, 614 * MB))
    return plan


def child(code: str, *args: str) -> None:
    """Run Python code in a child process from the repository (its imports: benchmarks, tests)."""
    result = common.run_measured([sys.executable, "-c", code, *args], cwd=common.REPO,
                                 quiet=False)
    if result["returncode"] != 0:
        sys.exit(f"making the benchmark's files failed: {code}")


def main() -> None:
    options = common.parser(__doc__.split("\n\n")[0]).parse_args()
    widths = list(WIDTHS[:2] if options.quick else WIDTHS)
    formats = [suffix for suffix in FORMATS if not (options.quick and suffix == ".keras")]
    common.heading("memory: bombs refused from their headers; loading nets of growing width")
    mlplens = str(common.BIN / "mlplens")
    targets, rows, bomb_results = [], [], {}
    with tempfile.TemporaryDirectory(prefix="mlplens-bench-") as scratch:
        folder = Path(scratch)
        child("import sys; from pathlib import Path; from benchmarks.memory import write_bombs; "
              "write_bombs(Path(sys.argv[1]))", scratch)
        if not options.quick:
            child("import sys; from pathlib import Path; from benchmarks.memory import "
                  "write_models; write_models(Path(sys.argv[1]), [100000], ['.npz'])", scratch)
        for name, arguments, env, goal in bombs(folder, options.quick):
            result = common.run_measured([mlplens, *arguments], env=env,
                                         address_space=ADDRESS_SPACE)
            peak = result["peak_rss_mib"] * 2**20
            bomb_results[name] = {**result, "peak_mb": round(peak / MB, 1),
                                  "refused": result["returncode"] == 2}
            rows.append([name, "yes" if result["returncode"] == 2 else "NO", peak / MB,
                         result["seconds"], " ".join(f"{k}={v}" for k, v in env.items())])
            targets.append(common.target(f"{name}: peak", peak / MB, goal / MB, "MB"))
            targets.append(common.target(f"{name}: time", result["seconds"], 2, "s"))
        print(common.table(["bomb", "refused", "peak MB", "seconds", "environment"], rows))

        child("import sys; from pathlib import Path; from benchmarks.memory import "
              "write_models; write_models(Path(sys.argv[1]), [16, *map(int, sys.argv[2:])], "
              f"{formats!r})", scratch, *map(str, widths))
        loads: dict[str, dict] = {}
        rows = []
        for suffix in formats:
            base = common.run_measured([sys.executable, "-c", LOAD,
                                        str(folder / f"784-16-10{suffix}")],
                                       address_space=ADDRESS_SPACE)["peak_rss_mib"] * 2**20
            for width in widths:
                weights = 4 * (784 * width + width + 10 * width + 10)
                result = common.run_measured([sys.executable, "-c", LOAD,
                                              str(folder / f"784-{width}-10{suffix}")],
                                             address_space=ADDRESS_SPACE)
                peak = result["peak_rss_mib"] * 2**20
                ratio = (peak - base) / weights
                loads[f"{suffix} 784-{width}-10"] = {
                    "weights_mb": round(weights / MB, 1), "base_mb": round(base / MB, 1),
                    "peak_mb": round(peak / MB, 1), "over_base_per_weight": round(ratio, 2),
                    "seconds": round(result["seconds"], 2)}
                rows.append([f"{suffix} 784-{width}-10", weights / MB, base / MB, peak / MB,
                             ratio, result["seconds"]])
                if suffix in TARGETED and width == widths[-1]:
                    targets.append(common.target(f"load {suffix} 784-{width}-10: peak",
                                                 peak / MB, round((2 * weights + base) / MB, 1),
                                                 "MB"))
        print()
        print(common.table(["model", "weights MB", "base MB", "peak MB", "(peak-base)/weights",
                            "seconds"], rows))
    common.print_targets(targets)
    common.write_results("memory", {"quick": options.quick, "bombs": bomb_results,
                                    "loads": loads, "targets": targets})


if __name__ == "__main__":
    main()
