"""Display normalisation to uint8: exact pixels for each mode, constant rows never NaN."""

import numpy as np
import pytest

from mlplens import normalize

ROW = [-2.0, 0.0, 1.0, 2.0]
WEAK = [0.5, 0.0, 0.0, -1.0]


def test_minmax_is_the_articles_truncation():
    result = normalize(np.array([ROW]), "minmax")
    assert result.pixels.dtype == np.uint8
    assert result.pixels.tolist() == [[0, 127, 191, 255]]
    assert result.constant_count == 0


def test_minmax_stretches_an_all_negative_node_to_full_range():
    # The article's own complaint: the sign is lost.
    assert normalize(np.array([[-4.0, -2.0, -1.0, -3.0]]), "minmax").pixels.tolist() == \
        [[0, 170, 255, 85]]


def test_symmetric_keeps_sign_with_zero_at_mid_grey():
    assert normalize(np.array([ROW]), "symmetric").pixels.tolist() == [[1, 128, 192, 255]]
    assert normalize(np.array([[-4.0, -2.0, -1.0, -3.0]]), "symmetric").pixels.tolist() == \
        [[1, 64, 96, 33]]
    assert normalize(np.array([WEAK]), "symmetric").pixels.tolist() == [[192, 128, 128, 1]]


def test_layer_mode_shares_one_scale_so_weak_nodes_look_weak():
    pixels = normalize(np.array([ROW, WEAK]), "layer").pixels
    assert pixels.tolist() == [[1, 128, 192, 255], [160, 128, 128, 64]]


@pytest.mark.parametrize("mode, expected", [("minmax", 0), ("symmetric", 255), ("layer", 255)])
def test_constant_row_is_counted_and_finite(mode, expected):
    result = normalize(np.array([[3.0, 3.0, 3.0], [1.0, 2.0, 3.0]]), mode)
    assert result.pixels[0].tolist() == [expected] * 3
    assert result.constant_rows.tolist() == [0]
    assert result.constant_count == 1


def test_all_zero_row_is_mid_grey_in_signed_modes():
    for mode in ("symmetric", "layer"):
        assert normalize(np.zeros((1, 3)), mode).pixels.tolist() == [[128, 128, 128]]
    assert normalize(np.zeros((1, 3)), "minmax").pixels.tolist() == [[0, 0, 0]]


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown normalisation 'max'"):
        normalize(np.zeros((1, 3)), "max")
    with pytest.raises(ValueError, match=r"rows must be 2-D \(nodes, pixels\), got shape \(3,\)"):
        normalize(np.zeros(3), "minmax")
