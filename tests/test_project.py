"""seed and linear projections against hand-computed values (see conftest for the tiny net)."""

import numpy as np
import pytest

from mlplens import DenseStack, project
from mlplens.core.normalization import rownorm

from .helpers import B1, W1, W2


def test_linear_is_the_transposed_product_of_kernels(tiny_stack):
    result = project(tiny_stack, "linear")
    assert result.method == "linear"
    np.testing.assert_array_equal(result.layers[0], [[1, 2, 0, -1], [0, -1, 1, 3]])
    np.testing.assert_array_equal(result.layers[1],
                                  [[1, 2, 0, -1], [0, -1, 1, 3], [2, 5, -1, -5]])
    assert all(layer.dtype == np.float32 for layer in result.layers)
    assert [layer.shape for layer in result.layers] == [(2, 4), (3, 4)]


def test_linear_is_the_default(tiny_stack):
    np.testing.assert_array_equal(project(tiny_stack).layers[1],
                                  project(tiny_stack, "linear").layers[1])


def test_seed_reproduces_the_notebook_by_hand(tiny_stack):
    # S1 = (W1 + b1)^T: the bias is added to every row of W1 (column j gets b1[j]).
    # N1 = trunc((S1 - min) * 255 / max(S1 - min)) = [[170,255,85,0], [63,0,127,255]].
    # S2 = (N1^T (W2 + b2))^T with W2 + b2 = [[1,1,1],[0,2,-2]].
    result = project(tiny_stack, "seed")
    np.testing.assert_array_equal(result.layers[0], [[2, 3, 1, 0], [-2, -3, -1, 1]])
    np.testing.assert_array_equal(result.layers[1], [[170, 255, 85, 0],
                                                     [296, 255, 339, 510],
                                                     [44, 255, -169, -510]])
    assert [rows.size for rows in result.chain_constant_rows] == [0, 0]


def test_rownorm_truncates_in_float32():
    scaled, constant = rownorm(np.array([[2, 3, 1, 0], [-2, -3, -1, 1]], dtype=np.float32))
    np.testing.assert_array_equal(scaled, [[170, 255, 85, 0], [63, 0, 127, 255]])
    assert scaled.dtype == np.float32
    assert constant.tolist() == [False, False]


def test_seed_bias_is_a_no_op_for_layer_one_after_normalisation(tiny_stack):
    no_bias = DenseStack.from_arrays([W1, W2], None, ["relu", "softmax"])
    with_bias_rows = rownorm(project(tiny_stack, "seed").layers[0])[0]
    without_rows = rownorm(project(no_bias, "seed").layers[0])[0]
    np.testing.assert_array_equal(with_bias_rows, without_rows)
    # ...but not for layer 2, whose chain mixes the bias in.
    assert not np.array_equal(project(tiny_stack, "seed").layers[1],
                              project(no_bias, "seed").layers[1])


def test_seed_constant_row_becomes_zeros_and_is_reported():
    kernel = W1.copy()
    kernel[:, 1] = 5.0  # node 1 of layer 1 sees every pixel equally
    stack = DenseStack.from_arrays([kernel, W2], [B1, np.zeros(3, np.float32)])
    result = project(stack, "seed")
    assert result.chain_constant_rows[0].tolist() == [1]
    assert np.isfinite(result.layers[1]).all()
    # N1 row 1 is all zeros, so layer-2 node 0 sees only N1 row 0 = [170, 255, 85, 0].
    np.testing.assert_array_equal(result.layers[1][0], [170, 255, 85, 0])


def test_unknown_method_is_refused(tiny_stack):
    with pytest.raises(ValueError, match="unknown method 'nope'; choose from linear, seed"):
        project(tiny_stack, "nope")
