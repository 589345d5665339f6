"""Write the bad-input corpus into tests/corpus/: every file mlplens must refuse cleanly.

    python tests/make_corpus.py            # rewrites tests/corpus/ and tests/corpus/manifest.json

Each format gets empty, truncated and bit-flipped files, plus files that are well formed but
hold what mlplens cannot draw: conv and LSTM models, shapes that do not chain, NaN/Inf weights,
a 0-unit layer, a 1x1 image, huge declared shapes (small files that must not be allocated),
bombs under the size cap (a kernel declared and never written, zip and HDF5 data that inflate
a thousandfold, zip members whose declared sizes are forged: each about a gigabyte, none more
than a megabyte on disk), wrong data checksums, npz object arrays and pickles. The manifest
maps each file name to the exact fragment its one-line error must contain. Files are made by
the library that writes the format (Keras, h5py in Keras 2's layout, safetensors, onnx, NumPy's
.npy writer) or, for bombs, by hand; all but the Keras-saved ones come out byte for byte the
same on every run.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import os
import pickle
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CORPUS = Path(__file__).resolve().parent / "corpus"
HUGE = (1 << 20, 1 << 20)  # 2**40 values: declared, never written
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
CAP = "mlplens refuses models above 268,435,456 values in all"
# Bombs declare this first layer, 1.06 GB of float32, just under the size cap with a 10-unit layer
# after it; their files stay under a megabyte.
BOMB = (784, 337000)
BOMB_SHAPE = f"declares shape {BOMB} (1.1 GB)"
ZEROS_BLOCK = 1 << 24


@dataclass(frozen=True)
class Deflated:
    """An HDF5 dataset of zeros stored as gzip chunks, written chunk by chunk (never in memory)."""

    shape: tuple[int, ...]
    chunk: tuple[int, ...]


def deflated_zeros(prefix: bytes, zeros: int) -> tuple[bytes, int]:
    """A raw deflate stream of `prefix` then `zeros` zero bytes, and its CRC-32, made in a blink:
    each 16 MiB of zeros is compressed once, after a full flush, and repeated."""
    def block(data: bytes) -> bytes:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)

    whole, rest = divmod(zeros, ZEROS_BLOCK)
    stream = block(prefix) + block(bytes(ZEROS_BLOCK)) * whole + block(bytes(rest))
    crc = zlib.crc32(prefix)
    for _ in range(whole):
        crc = zlib.crc32(bytes(ZEROS_BLOCK), crc)
    crc = zlib.crc32(bytes(rest), crc)
    return stream + zlib.compressobj(9, zlib.DEFLATED, -15).flush(), crc


def zip_bytes(members: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip archive written by hand, so a member's stream can be made fast and its declared
    size forged: (name, stream, method, CRC-32, declared uncompressed size) per member."""
    body, central = bytearray(), bytearray()
    for name, stream, method, crc, size in members:
        raw = name.encode()
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc,
                               len(stream), size, len(raw), 0, 0, 0, 0, 0, len(body)) + raw
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc,
                            len(stream), size, len(raw), 0) + raw + stream
    return bytes(body + central + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members),
                                              len(members), len(central), len(body), 0))


def weights(sizes: list[int], seed: int = 0) -> list[np.ndarray]:
    """Kernels (n_in, n_out) and biases, alternating, seeded float32."""
    rng = np.random.default_rng(seed)
    out = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        out += [rng.normal(0, 0.1, (n_in, n_out)).astype(np.float32),
                rng.normal(0, 0.1, n_out).astype(np.float32)]
    return out


# ---- writers ---------------------------------------------------------------------------------

def write_npz(path: Path, arrays: dict[str, object], allow_pickle: bool = False) -> None:
    """np.savez's layout (stored .npy members) with fixed timestamps, so reruns match."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, value in arrays.items():
            buffer = io.BytesIO()
            if isinstance(value, bytes):
                buffer.write(value)
            else:
                np.lib.format.write_array(buffer, np.asanyarray(value), allow_pickle=allow_pickle)
            archive.writestr(zipfile.ZipInfo(f"{name}.npy", FIXED_TIME), buffer.getvalue())


def npy_header_only(shape: tuple[int, ...], dtype: str = "<f4") -> bytes:
    """A .npy member that declares `shape` but carries no data."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False,
                                                  "shape": shape})
    return buffer.getvalue()


def keras2_config(layers: list[dict], input_dim: int | list[int | None]) -> dict:
    """A Sequential model_config as Keras 2.2-2.4 wrote it: batch_input_shape on the first layer."""
    entries = []
    for index, layer in enumerate(layers):
        config = {"name": layer["name"], "trainable": True, "dtype": "float32",
                  **layer.get("config", {})}
        if index == 0:
            shape = input_dim if isinstance(input_dim, list) else [input_dim]
            config["batch_input_shape"] = [None, *shape]
        entries.append({"class_name": layer["class_name"], "config": config})
    return {"class_name": "Sequential", "config": {"name": "sequential_1", "layers": entries}}


def dense(name: str, units: int, activation: str = "relu") -> dict:
    return {"class_name": "Dense", "name": name,
            "config": {"units": units, "activation": activation, "use_bias": True,
                       "kernel_initializer": {"class_name": "VarianceScaling",
                                              "config": {"scale": 1.0, "mode": "fan_avg",
                                                         "distribution": "uniform",
                                                         "seed": None}},
                       "bias_initializer": {"class_name": "Zeros", "config": {}},
                       "kernel_regularizer": None, "bias_regularizer": None,
                       "activity_regularizer": None, "kernel_constraint": None,
                       "bias_constraint": None}}


def write_keras2_h5(path: Path, layers: list[dict], input_dim: int | list[int | None],
                    arrays: dict[str, list[np.ndarray | tuple]], fletcher32: bool = False,
                    config: dict | None = None) -> None:
    """An .h5 file in the layout Keras 2 wrote with `model.save` (TF1/TF2 era, h5py).

    `arrays` maps a layer name to its weights in order (kernel, bias); a tuple is a shape that
    is declared (chunked, never written) instead of stored; a Deflated, zeros in gzip chunks.
    """
    import h5py

    config = config or keras2_config(layers, input_dim)
    with h5py.File(path, "w", track_order=False) as h5:
        h5.attrs["keras_version"] = np.bytes_("2.2.4")
        h5.attrs["backend"] = np.bytes_("tensorflow")
        h5.attrs["model_config"] = np.bytes_(json.dumps(config))
        h5.attrs["training_config"] = np.bytes_(json.dumps({
            "optimizer_config": {"class_name": "RMSprop", "config": {"lr": 0.001}},
            "loss": "categorical_crossentropy", "metrics": ["accuracy"]}))
        group = h5.create_group("model_weights", track_order=False)
        names = [layer["name"] for layer in layers]
        group.attrs["layer_names"] = np.array([n.encode() for n in names])
        group.attrs["backend"] = np.bytes_("tensorflow")
        group.attrs["keras_version"] = np.bytes_("2.2.4")
        for name in names:
            layer_group = group.create_group(name)
            values = arrays.get(name, [])
            weight_names = [f"{name}/{kind}:0" for kind in ("kernel", "bias")[:len(values)]]
            layer_group.attrs["weight_names"] = np.array([w.encode() for w in weight_names])
            for weight_name, value in zip(weight_names, values):
                options = {"track_times": False}
                if isinstance(value, tuple):
                    layer_group.create_dataset(weight_name, shape=value, dtype="f4",
                                               chunks=(1,) * len(value), **options)
                    continue
                if isinstance(value, Deflated):
                    dataset = layer_group.create_dataset(
                        weight_name, shape=value.shape, dtype="f4", chunks=value.chunk,
                        compression="gzip", **options)
                    chunk = zlib.compress(bytes(4 * math.prod(value.chunk)), 9)
                    for offset in itertools.product(*(range(0, size, step) for size, step
                                                      in zip(value.shape, value.chunk))):
                        dataset.id.write_direct_chunk(offset, chunk)
                    continue
                if fletcher32:
                    options.update(fletcher32=True, chunks=value.shape)
                layer_group.create_dataset(weight_name, data=value, **options)


def safetensors_file(path: Path, tensors: dict[str, np.ndarray],
                     metadata: dict[str, str] | None = None) -> None:
    from safetensors.numpy import save_file

    save_file(tensors, str(path), metadata=metadata)


def safetensors_raw(path: Path, header: dict, data: bytes) -> None:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)


def torch_layout(arrays: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Kernels/biases as nn.Sequential(Linear, ReLU, Linear, ...) saves them: 0.weight (out, in)."""
    out = {}
    for index in range(0, len(arrays), 2):
        out[f"{index}.weight"] = np.ascontiguousarray(arrays[index].T)
        out[f"{index}.bias"] = arrays[index + 1]
    return out


def onnx_chain(path: Path, layers: list[tuple[str, np.ndarray, np.ndarray | None]],
               extra_nodes: list | None = None, n_inputs: int | None = None,
               raw_initializers: list | None = None) -> None:
    """A graph of Gemm/activation nodes: layers are (activation, kernel, bias)."""
    from onnx import TensorProto, helper, numpy_helper, save_model

    nodes, inits, current = [], [], "x"
    for index, (activation, kernel, bias) in enumerate(layers, start=1):
        inputs = [current, f"W{index}"]
        inits.append(numpy_helper.from_array(kernel, f"W{index}"))
        if bias is not None:
            inits.append(numpy_helper.from_array(bias, f"B{index}"))
            inputs.append(f"B{index}")
        nodes.append(helper.make_node("Gemm", inputs, [f"h{index}"], name=f"gemm{index}"))
        current = f"h{index}"
        if activation:
            nodes.append(helper.make_node(activation, [current], [f"a{index}"],
                                          name=f"{activation.lower()}{index}"))
            current = f"a{index}"
    for node in extra_nodes or []:
        nodes.append(node)
        current = node.output[0]
    inits += raw_initializers or []
    width = n_inputs if n_inputs is not None else layers[0][1].shape[0]
    graph = helper.make_graph(nodes, "corpus",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                             ["N", width])],
                              [helper.make_tensor_value_info(current, TensorProto.FLOAT, None)],
                              inits)
    model = helper.make_model(graph, producer_name="corpus",
                              opset_imports=[helper.make_opsetid("", 17)])
    save_model(model, str(path))


def flip_bit(data: bytes, offset: int, bit: int = 0) -> bytes:
    changed = bytearray(data)
    changed[offset] ^= 1 << bit
    return bytes(changed)


def member_data_offset(data: bytes, member: str) -> int:
    """Where a stored zip member's bytes start."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(member)
    start = info.header_offset
    name_length, extra_length = struct.unpack("<HH", data[start + 26:start + 30])
    return start + 30 + name_length + extra_length


def wrong_crc(data: bytes, member: str) -> bytes:
    """The member's CRC-32, in its local header and the central directory, off by one."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        crc = archive.getinfo(member).CRC
    old, new = struct.pack("<I", crc), struct.pack("<I", (crc + 1) & 0xFFFFFFFF)
    assert data.count(old) == 2, "the CRC must appear once in each header"
    return data.replace(old, new)


def repack(data: bytes, replace: dict[str, bytes]) -> bytes:
    """A zip with some members' contents replaced, fixed timestamps."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = replace.get(info.filename, source.read(info.filename))
            target.writestr(zipfile.ZipInfo(info.filename, FIXED_TIME), content)
    return out.getvalue()


# ---- the corpus ------------------------------------------------------------------------------

def build(folder: Path = CORPUS, with_keras: bool = True) -> dict[str, str]:
    """Write every corpus file into `folder`; return {file name: expected message fragment}."""
    folder.mkdir(parents=True, exist_ok=True)
    expected: dict[str, str] = {}

    def put(name: str, content: bytes | None, fragment: str) -> Path:
        path = folder / name
        if content is not None:
            path.write_bytes(content)
        expected[name] = fragment
        return path

    small = weights([16, 8, 4])  # 4x4 images -> 8 -> 4
    empty = "the file is empty"
    nan_msg = "NaN or infinite"
    chain_msg = "layer 2 takes 16 inputs but layer 1 gives 8"
    zero_msg = "has a zero-sized side"
    tiny_msg = "image shape 1x1 is too small to draw (at least 2x2)"

    # -- NumPy .npz
    good_npz = folder / "_good.npz"
    write_npz(good_npz, {"W1": small[0], "b1": small[1], "W2": small[2], "b2": small[3]})
    npz = good_npz.read_bytes()
    good_npz.unlink()
    put("npz-empty.npz", b"", empty)
    put("npz-truncated.npz", npz[:len(npz) // 2], "not an .npz file (not a zip archive; "
                                                  "truncated?)")
    put("npz-bitflip.npz", flip_bit(npz, member_data_offset(npz, "W1.npy") + 200, 3),
        "Bad CRC-32 for file 'W1.npy'")
    put("npz-checksum.npz", wrong_crc(npz, "W2.npy"), "Bad CRC-32 for file 'W2.npy'")
    write_npz(put("npz-object.npz", None, "array 'W1' holds Python objects (a pickle)"),
              {"W1": np.array([small[0], "x"], dtype=object)}, allow_pickle=True)
    put("npz-pickle.npz", pickle.dumps({"W1": small[0]}, protocol=4),
        "holds a pickle, not an .npz archive; mlplens never unpickles files")
    write_npz(put("npz-pickle-member.npz", None, "array 'W1' is not a NumPy array"),
              {"W1": pickle.dumps(small[0], protocol=4)})
    write_npz(put("npz-chain.npz", None, chain_msg),
              {"W1": small[0], "W2": np.ones((16, 4), np.float32)})
    bad = small[2].copy()
    bad[3, 1] = np.nan
    write_npz(put("npz-nan.npz", None, f"layer 2 (W2): weights contain {nan_msg} values"),
              {"W1": small[0], "W2": bad})
    write_npz(put("npz-zero-units.npz", None, f"layer 1 (W1): kernel shape (16, 0) {zero_msg}"),
              {"W1": np.zeros((16, 0), np.float32)})
    write_npz(put("npz-1x1.npz", None, tiny_msg), {"W1": np.ones((1, 3), np.float32)})
    write_npz(put("npz-huge.npz", None, f"tensor 'W1' declares shape {HUGE}"),
              {"W1": npy_header_only(HUGE)})
    write_npz(put("npz-conv.npz", None, "layer 1 (W1): kernel must be 2-D, got shape "
                                        "(8, 1, 3, 3)"),
              {"W1": np.ones((8, 1, 3, 3), np.float32)})
    write_npz(put("npz-inf-bias.npz", None, f"layer 1 (W1): weights contain {nan_msg}"),
              {"W1": small[0], "b1": np.full(8, np.inf, np.float32)})
    header = npy_header_only(BOMB)
    data_size = 4 * math.prod(BOMB)
    stream, crc = deflated_zeros(header, data_size)
    put("npz-bomb.npz", zip_bytes([("W1.npy", stream, zipfile.ZIP_DEFLATED, crc,
                                    len(header) + data_size)]),
        f"tensor 'W1' {BOMB_SHAPE} from 1.0 MB of compressed data: mlplens refuses data that "
        "inflates over 100x")
    stream, crc = deflated_zeros(header, 64)
    put("npz-forged.npz", zip_bytes([("W1.npy", stream, zipfile.ZIP_DEFLATED, crc,
                                      len(header) + data_size)]),
        f"tensor 'W1' {BOMB_SHAPE} from {len(stream)} bytes of compressed data")
    stored = header + bytes(16)
    put("npz-short.npz", zip_bytes([("W1.npy", stored, zipfile.ZIP_STORED, zlib.crc32(stored),
                                     len(stored))]),
        f"tensor 'W1' {BOMB_SHAPE} but the file holds 16 bytes of its data")

    # -- safetensors (torch's nn.Sequential key layout)
    good_st = folder / "_good.safetensors"
    safetensors_file(good_st, torch_layout(small))
    st = good_st.read_bytes()
    good_st.unlink()
    (header_length,) = struct.unpack("<Q", st[:8])
    put("st-empty.safetensors", b"", empty)
    put("st-truncated.safetensors", st[:len(st) - 40], "lies outside the file's")
    put("st-bitflip.safetensors", flip_bit(st, 8, 1), "not a safetensors file: its header is "
                                                      "not JSON")
    put("st-bitflip-length.safetensors", flip_bit(st, 5, 0),
        "not a safetensors file, or truncated: its header claims")
    nan_layers = [w.copy() for w in small]
    nan_layers[0][2, 5] = np.nan
    safetensors_file(put("st-nan.safetensors", None, nan_msg), torch_layout(nan_layers))
    safetensors_file(put("st-conv.safetensors", None, "tensor '0.weight' has shape (8, 1, 3, 3): "
                                                      "not a Linear layer's (out, in) weight"),
                     {"0.weight": np.ones((8, 1, 3, 3), np.float32),
                      "0.bias": np.zeros(8, np.float32)})
    safetensors_file(put("st-lstm.safetensors", None, "tensor 'rnn.weight_hh_l0' is not a "
                                                      "Linear layer's weight or bias"),
                     {"rnn.weight_ih_l0": np.ones((32, 16), np.float32),
                      "rnn.weight_hh_l0": np.ones((32, 8), np.float32)})
    safetensors_file(put("st-chain.safetensors", None, chain_msg),
                     torch_layout([small[0], small[1], np.ones((16, 4), np.float32),
                                   np.ones(4, np.float32)]))
    safetensors_raw(put("st-huge.safetensors", None, f"tensor '0.weight' declares shape {HUGE}"),
                    {"0.weight": {"dtype": "F32", "shape": list(HUGE),
                                  "data_offsets": [0, 16]}}, bytes(16))
    safetensors_file(put("st-zero-units.safetensors", None, zero_msg),
                     {"0.weight": np.zeros((0, 16), np.float32)})
    safetensors_file(put("st-1x1.safetensors", None, tiny_msg),
                     {"0.weight": np.ones((3, 1), np.float32)})
    safetensors_raw(put("st-offsets.safetensors", None, "tensor '0.weight': 64 bytes of data for "
                                                        "shape (8, 16) in F32"),
                    {"0.weight": {"dtype": "F32", "shape": [8, 16], "data_offsets": [0, 64]}},
                    bytes(64))
    safetensors_file(put("st-no-linear.safetensors", None, "tensor 'embedding' is not a Linear "
                                                           "layer's weight or bias"),
                     {"embedding": np.ones((10, 16), np.float32)})

    # -- ONNX
    from onnx import TensorProto, helper

    good_onnx = folder / "_good.onnx"
    onnx_chain(good_onnx, [("Relu", small[0], small[1]), ("Softmax", small[2], small[3])])
    onnx_bytes = good_onnx.read_bytes()
    good_onnx.unlink()
    put("onnx-empty.onnx", b"", empty)
    put("onnx-truncated.onnx", onnx_bytes[:len(onnx_bytes) // 2],
        "cannot read this ONNX model (Error parsing message")
    put("onnx-bitflip.onnx", flip_bit(onnx_bytes, 0, 2),
        "cannot read this ONNX model (Error parsing message")
    conv = helper.make_node("Conv", ["x", "K"], ["c"], name="edges")
    onnx_chain(put("onnx-conv.onnx", None, "node 'edges' (Conv) is not supported"), [],
               extra_nodes=[conv], n_inputs=16,
               raw_initializers=[helper.make_tensor("K", TensorProto.FLOAT, [2, 1, 3, 3],
                                                    [0.5] * 18)])
    lstm = helper.make_node("LSTM", ["x", "LW", "LR"], ["y"], name="rnn", hidden_size=4)
    onnx_chain(put("onnx-lstm.onnx", None, "node 'rnn' (LSTM) is not supported"), [],
               extra_nodes=[lstm], n_inputs=16,
               raw_initializers=[helper.make_tensor("LW", TensorProto.FLOAT, [1, 16, 16],
                                                    [0.1] * 256),
                                 helper.make_tensor("LR", TensorProto.FLOAT, [1, 16, 4],
                                                    [0.1] * 64)])
    inf_kernel = small[0].copy()
    inf_kernel[0, 0] = -np.inf
    onnx_chain(put("onnx-inf.onnx", None, nan_msg), [("Relu", inf_kernel, small[1])])
    huge = TensorProto(name="W1", data_type=TensorProto.FLOAT, dims=list(HUGE), raw_data=bytes(16))
    huge_graph = helper.make_graph([helper.make_node("MatMul", ["x", "W1"], ["y"], name="mm")],
                                   "huge", [helper.make_tensor_value_info(
                                       "x", TensorProto.FLOAT, ["N", HUGE[0]])],
                                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                                   [huge])
    put("onnx-huge.onnx", helper.make_model(
        huge_graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString(),
        f"tensor 'W1' declares shape {HUGE}")
    onnx_chain(put("onnx-chain.onnx", None, chain_msg),
               [("Relu", small[0], small[1]), (None, np.ones((16, 4), np.float32), None)])
    external = TensorProto(name="W1", data_type=TensorProto.FLOAT, dims=[16, 8])
    external.data_location = TensorProto.EXTERNAL
    external.external_data.add(key="location", value="weights.bin")
    ext_graph = helper.make_graph([helper.make_node("MatMul", ["x", "W1"], ["y"], name="mm")],
                                  "external", [helper.make_tensor_value_info(
                                      "x", TensorProto.FLOAT, ["N", 16])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                                  [external])
    put("onnx-external.onnx", helper.make_model(
        ext_graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString(),
        "tensor 'W1': external data 'weights.bin' is not in the model's folder")
    branch = [helper.make_node("Relu", ["x"], ["r"], name="side")]
    onnx_chain(put("onnx-branch.onnx", None, "node 'side' (Relu) does not continue the chain"),
               [("Relu", small[0], small[1])], extra_nodes=branch)
    onnx_chain(put("onnx-zero-units.onnx", None, zero_msg),
               [(None, np.zeros((16, 0), np.float32), None)])

    # -- Keras 2-era .h5 (h5py, Keras 2's layout)
    h5_layers = [dense("dense_1", 8), dense("dense_2", 4, "softmax")]
    h5_arrays = {"dense_1": small[:2], "dense_2": small[2:]}
    good_h5 = folder / "_good.h5"
    write_keras2_h5(good_h5, h5_layers, 16, h5_arrays)
    h5 = good_h5.read_bytes()
    good_h5.unlink()
    put("h5-empty.h5", b"", empty)
    put("h5-truncated.h5", h5[:len(h5) // 2], "cannot read this Keras model")
    put("h5-bitflip.h5", flip_bit(h5, 1, 4), "cannot read this Keras model (not an HDF5 file")
    checksum = put("h5-checksum.h5", None, "layer 'dense_1': weight 'dense_1/kernel:0' cannot "
                                           "be read, the file is damaged (Can't synchronously "
                                           "read data (filter returned failure during read))")
    write_keras2_h5(checksum, h5_layers, 16, h5_arrays, fletcher32=True)
    import h5py

    with h5py.File(checksum, "r") as opened:
        offset = opened["model_weights/dense_1/dense_1/kernel:0"].id.get_chunk_info(0).byte_offset
    checksum.write_bytes(flip_bit(checksum.read_bytes(), offset + 100, 5))
    write_keras2_h5(put("h5-conv.h5", None, "layer 'conv2d_1' (Conv2D) is not supported"),
                    [{"class_name": "Conv2D", "name": "conv2d_1",
                      "config": {"filters": 2, "kernel_size": [3, 3]}},
                     {"class_name": "Flatten", "name": "flatten_1"}, dense("dense_1", 4)],
                    [4, 4, 1], {"conv2d_1": [np.ones((3, 3, 1, 2), np.float32),
                                             np.zeros(2, np.float32)]})
    write_keras2_h5(put("h5-lstm.h5", None, "layer 'lstm_1' (LSTM) is not supported"),
                    [{"class_name": "LSTM", "name": "lstm_1", "config": {"units": 4}},
                     dense("dense_1", 4)], [4, 4], {})
    write_keras2_h5(put("h5-chain.h5", None, chain_msg),
                    [dense("dense_1", 8), dense("dense_2", 4)], 16,
                    {"dense_1": small[:2], "dense_2": [np.ones((16, 4), np.float32),
                                                       np.zeros(4, np.float32)]})
    inf_bias = small[1].copy()
    inf_bias[0] = np.inf
    write_keras2_h5(put("h5-inf.h5", None, f"layer 1 (dense_1): weights contain {nan_msg}"),
                    h5_layers, 16, {"dense_1": [small[0], inf_bias], "dense_2": small[2:]})
    write_keras2_h5(put("h5-huge.h5", None, f"tensor 'dense_1/dense_1/kernel:0' declares shape "
                                            f"{HUGE}"),
                    h5_layers, 16, {"dense_1": [HUGE, small[1]], "dense_2": small[2:]})
    write_keras2_h5(put("h5-huge-units.h5", None, "tensor 'dense_1' declares shape "
                                                  "(16, 1099511627776)"),
                    [dense("dense_1", 1 << 40)], 16, {})
    bomb_layers = [dense("dense_1", BOMB[1]), dense("dense_2", 10, "softmax")]
    write_keras2_h5(put("h5-unwritten.h5", None, f"tensor 'dense_1/dense_1/kernel:0' {BOMB_SHAPE} "
                                                 "but the file holds 0 bytes of its data"),
                    bomb_layers, BOMB[0], {"dense_1": [BOMB, (BOMB[1],)]})
    write_keras2_h5(put("h5-bomb.h5", None, f"tensor 'dense_1/dense_1/kernel:0' {BOMB_SHAPE} "
                                            "from 1.0 MB of compressed data"),
                    bomb_layers, BOMB[0], {"dense_1": [Deflated(BOMB, (BOMB[0], 1000)),
                                                       (BOMB[1],)]})
    write_keras2_h5(put("h5-zero-units.h5", None, zero_msg), [dense("dense_1", 0)], 16,
                    {"dense_1": [np.zeros((16, 0), np.float32), np.zeros(0, np.float32)]})
    write_keras2_h5(put("h5-1x1.h5", None, tiny_msg), [dense("dense_1", 3)], 1,
                    {"dense_1": [np.ones((1, 3), np.float32), np.zeros(3, np.float32)]})

    # -- Keras 3 .keras (saved by Keras itself)
    put("keras-empty.keras", b"", empty)
    if with_keras:
        _keras_files(folder, put, small, chain_msg, nan_msg)
    (folder / "manifest.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    return expected


def _keras_files(folder: Path, put, small: list[np.ndarray], chain_msg: str,
                 nan_msg: str) -> None:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    layers = keras.layers

    def saved(model, arrays=None) -> bytes:
        if arrays is not None:
            model.set_weights(arrays)
        path = folder / "_model.keras"
        model.save(path)
        data = path.read_bytes()
        path.unlink()
        # Fixed timestamps inside the archive; metadata.json records the save date.
        return repack(data, {"metadata.json": json.dumps(
            {"keras_version": keras.__version__, "date_saved": "1980-01-01@00:00:00"}).encode()})

    good = saved(keras.Sequential([keras.Input((16,)), layers.Dense(8, activation="relu"),
                                   layers.Dense(4, activation="softmax")]), small)
    put("keras-truncated.keras", good[:len(good) // 2], "cannot read this Keras model (not a zip "
                                                        "archive")
    put("keras-bitflip.keras",
        flip_bit(good, member_data_offset(good, "model.weights.h5") + 1500, 6),
        "'model.weights.h5' fails its CRC-32 check: the file is damaged")
    put("keras-checksum.keras", wrong_crc(good, "config.json"),
        "'config.json' fails its CRC-32 check: the file is damaged")
    config = json.loads(zipfile.ZipFile(io.BytesIO(good)).read("config.json"))
    config["config"]["layers"][1]["config"]["units"] = 1 << 40
    put("keras-huge.keras", repack(good, {"config.json": json.dumps(config).encode()}),
        "declares shape (16, 1099511627776)")
    put("keras-conv.keras", saved(keras.Sequential([
        keras.Input((4, 4, 1)), layers.Conv2D(2, 3, name="edges"), layers.Flatten(),
        layers.Dense(4)])), "layer 'edges' (Conv2D) is not supported")
    put("keras-lstm.keras", saved(keras.Sequential([
        keras.Input((4, 4)), layers.LSTM(3, name="rnn"), layers.Dense(4)])),
        "layer 'rnn' (LSTM) is not supported")
    nan_weights = [w.copy() for w in small]
    nan_weights[3][1] = np.nan
    put("keras-nan.keras", saved(keras.Sequential([
        keras.Input((16,)), layers.Dense(8, name="d1"), layers.Dense(4, name="d2")]),
        nan_weights), f"layer 2 (d2): weights contain {nan_msg}")
    put("keras-branch.keras", saved(_branching(keras)),
        "layer 'right' (Dense) is not called on 'left' alone")
    archive = zipfile.ZipFile(io.BytesIO(good))
    weights_h5 = archive.read("model.weights.h5")
    stream, crc = deflated_zeros(weights_h5, 4 * math.prod(BOMB))
    put("keras-bomb.keras", zip_bytes(
        [(name, archive.read(name), zipfile.ZIP_STORED, zlib.crc32(archive.read(name)),
          len(archive.read(name))) for name in ("metadata.json", "config.json")]
        + [("model.weights.h5", stream, zipfile.ZIP_DEFLATED, crc,
            len(weights_h5) + 4 * math.prod(BOMB))]),
        "cannot read this Keras model ('model.weights.h5' inflates from 1.0 MB to 1.1 GB: "
        "mlplens refuses members that inflate over 100x")
    # Keras names a weight by its place in the model (layers/dense/vars/0 is the first kernel).
    put("keras-unwritten.keras", repack(good, {"model.weights.h5": _unwritten_kernel(
        weights_h5, "layers/dense/vars/0")}),
        f"tensor 'layers/dense/vars/0' {BOMB_SHAPE} but the file holds 0 bytes of its data")


def _unwritten_kernel(weights_h5: bytes, target: str) -> bytes:
    """A Keras 3 weights file with one dataset swapped for a BOMB-shaped one never written."""
    import h5py

    out = io.BytesIO()
    with h5py.File(io.BytesIO(weights_h5), "r") as source, h5py.File(out, "w") as copy:
        def visit(name: str, item) -> None:
            if isinstance(item, h5py.Group):
                copy.require_group(name).attrs.update(item.attrs)
            elif name == target:
                copy.create_dataset(name, shape=BOMB, dtype="f4", chunks=(1, 1000))
            else:
                copy.create_dataset(name, data=item[()])

        source.visititems(visit)
    return out.getvalue()


def _branching(keras):
    inputs = keras.Input((16,), name="pixels")
    left = keras.layers.Dense(4, name="left")(inputs)
    right = keras.layers.Dense(4, name="right")(inputs)
    return keras.Model(inputs, keras.layers.Add(name="sum")([left, right]))


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=CORPUS,
                        help="folder to (re)write (default: tests/corpus)")
    out = parser.parse_args().out
    for old in out.glob("*") if out.is_dir() else ():
        old.unlink()
    written = build(out)
    print(f"{len(written)} files in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
