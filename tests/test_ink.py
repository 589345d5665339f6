"""Where digits write: counts checked on small hand-made images, then the article's claim."""

import numpy as np
import pytest

from mlplens import load_mnist
from mlplens.core.ink import edge_ink_counts, ink_maps

# Three 3x3 images: class 0 inks the top-left corner twice, class 1 the bottom row once.
IMAGES = np.zeros((3, 3, 3), np.uint8)
IMAGES[0, 0, 0] = 9
IMAGES[1, 0, 0] = 200
IMAGES[1, 1, 1] = 1
IMAGES[2, 2, :] = 255
LABELS = np.array([0, 0, 1])


def test_ink_frequency_and_counts_by_hand():
    maps = ink_maps(IMAGES, LABELS)
    assert maps.class_sizes.tolist() == [2, 1]
    assert maps.counts[0].tolist() == [[2, 0, 0], [0, 1, 0], [0, 0, 0]]
    assert maps.counts[1].tolist() == [[0, 0, 0], [0, 0, 0], [1, 1, 1]]
    assert maps.frequency[0].tolist() == [[1, 0, 0], [0, 0.5, 0], [0, 0, 0]]
    assert maps.classes_reaching.tolist() == [[1, 0, 0], [0, 1, 0], [1, 1, 1]]


def test_threshold_ignores_faint_ink():
    maps = ink_maps(IMAGES, LABELS, threshold=10)
    assert maps.counts[0].tolist() == [[1, 0, 0], [0, 0, 0], [0, 0, 0]]


@pytest.mark.parametrize("edge, depth, expected", [
    ("top", 1, [2, 0]), ("bottom", 1, [0, 1]), ("left", 1, [2, 1]), ("right", 1, [0, 1]),
    ("bottom", 2, [1, 1]), ("right", 2, [1, 1])])
def test_edge_counts_by_hand(edge, depth, expected):
    assert edge_ink_counts(IMAGES, LABELS, edge, depth).tolist() == expected


def test_unknown_edge():
    with pytest.raises(ValueError, match="edge must be one of top, bottom, left, right"):
        edge_ink_counts(IMAGES, LABELS, "middle")


def test_on_real_mnist_few_digits_but_7_and_9_reach_the_bottom():
    mnist = load_mnist()
    bottom = edge_ink_counts(mnist.x_train, mnist.y_train, "bottom", 1)
    assert bottom.tolist() == [0, 0, 0, 0, 0, 1, 0, 675, 0, 47]
    two_rows = edge_ink_counts(mnist.x_train, mnist.y_train, "bottom", 2)
    assert two_rows.tolist() == [0, 2, 0, 28, 57, 62, 0, 4061, 11, 1875]
    maps = ink_maps(mnist.x_train, mnist.y_train)
    assert maps.class_sizes.tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851,
                                         5949]
    # The bottom row: 20 of its 28 pixels are ever inked, by at most 3 classes (5, 7, 9).
    assert (maps.classes_reaching[-1] > 0).sum() == 20
    assert maps.classes_reaching[-1].max() == 3
    assert np.flatnonzero(maps.counts[:, -1].sum(axis=1)).tolist() == [5, 7, 9]
    assert maps.counts.sum() == (mnist.x_train > 0).sum()
