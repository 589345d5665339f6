"""save_stack(..., ".onnx"): every activation, LayerNorm before or after it, and every head are
written so that onnx's own reference runtime computes what mlplens computes, and reading the
file back gives the same stack."""

from __future__ import annotations

import numpy as np
import pytest

from mlplens import DenseStack, load_stack, save_stack
from mlplens.core.forward import predict
from mlplens.core.stack import LayerNorm

HIDDEN = ("relu", "relu6", "leaky_relu(0.2)", "elu(1.0)", "selu", "gelu", "gelu_tanh", "silu",
          "mish", "softplus", "sigmoid", "hard_sigmoid", "hard_swish", "tanh", "linear")


def _stack(output: str, units: int, head: str = "") -> DenseStack:
    """16 inputs, one hidden layer of 8 per activation of HIDDEN, LayerNorms on two of them
    (before the activation on the third layer, after it on the sixth)."""
    rng = np.random.default_rng(5)
    widths = [16] + [8] * len(HIDDEN) + [units]
    kernels = [rng.normal(0, 0.6, (a, b)).astype(np.float32) for a, b in zip(widths, widths[1:])]
    biases = [rng.normal(0, 0.2, b).astype(np.float32) for b in widths[1:]]
    norms: list[LayerNorm | None] = [None] * len(kernels)
    norms[2] = LayerNorm(rng.normal(1, 0.1, 8).astype(np.float32),
                         rng.normal(0, 0.1, 8).astype(np.float32), 1e-5)
    norms[5] = LayerNorm(np.ones(8, np.float32), np.zeros(8, np.float32), 1e-3)
    after = [index == 5 for index in range(len(kernels))]
    return DenseStack.from_arrays(kernels, biases, [*HIDDEN, output], (4, 4), norms=norms,
                                  norm_after=after, head=head)


@pytest.mark.parametrize("output, units, head", [("softmax", 3, ""), ("log_softmax", 3, ""),
                                                  ("sigmoid", 3, ""), ("linear", 1, "binary"),
                                                  ("linear", 1, "")])
def test_onnx_export_round_trip(tmp_path, output, units, head):
    from onnx.reference import ReferenceEvaluator

    stack = _stack(output, units, head)
    path = save_stack(stack, tmp_path / "net.onnx")
    back = load_stack(path)
    assert back.describe() == stack.describe()
    assert back.head == stack.head == (head or {"softmax": "classes", "log_softmax": "classes",
                                                "sigmoid": "multilabel",
                                                "linear": "regression"}[output])
    for written, read in zip(stack.layers, back.layers):
        assert (read.name, read.activation, read.norm_after) == (written.name, written.activation,
                                                                 written.norm_after)
        assert np.array_equal(read.kernel, written.kernel)
        assert np.array_equal(read.bias, written.bias)
        assert (read.norm is None) == (written.norm is None)
        if written.norm is not None:
            assert np.array_equal(read.norm.scale, written.norm.scale)
            assert np.array_equal(read.norm.offset, written.norm.offset)
            assert read.norm.epsilon == written.norm.epsilon
    x = np.random.default_rng(6).uniform(0, 1, (40, 16)).astype(np.float32)
    (runtime,) = ReferenceEvaluator(str(path)).run(None, {"pixels": x})
    assert runtime.shape == (40, units)
    np.testing.assert_allclose(runtime, predict(stack, x), rtol=0, atol=2e-5)


def test_onnx_export_writes_opset_17_ops(tmp_path):
    import onnx

    model = onnx.load(str(save_stack(_stack("softmax", 3), tmp_path / "net.onnx")))
    assert [entry.version for entry in model.opset_import] == [17]
    ops = [node.op_type for node in model.graph.node]
    assert ops.count("Gemm") == len(HIDDEN) + 1
    assert ops.count("LayerNormalization") == 2
    for op in ("Clip", "LeakyRelu", "Elu", "Selu", "Erf", "HardSigmoid", "HardSwish", "Softmax"):
        assert op in ops, op
    assert "Gelu" not in ops and "Mish" not in ops  # ops of opsets 20 and 18
    onnx.checker.check_model(model, full_check=True)
