"""Parts of a dataset: a test part split off data that has none, and the training subset the
article trains on."""

from __future__ import annotations

import numpy as np

from ..errors import MlplensError

# Data without an official split (scikit-learn's toy sets, a source with no test part): the last
# fifth of a seeded permutation (the same for every run) is the test part.
TEST_SHARE = 0.2
SPLIT_SEED = 0


def split_test_part(x: np.ndarray, y: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test): the last fifth of a seeded permutation is the test
    part, the same every run, each part in the data's own order."""
    order = np.random.default_rng(SPLIT_SEED).permutation(len(x))
    test = order[len(x) - int(round(len(x) * TEST_SHARE)):]
    train = np.sort(order[:len(x) - len(test)])
    test = np.sort(test)
    return x[train], y[train], x[test], y[test]


def subset(x: np.ndarray, y: np.ndarray, count: int, stratified: bool = False,
           seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The first `count` images (the article's "a portion"), or a class-balanced random draw."""
    if not 1 <= count <= len(x):
        raise MlplensError(f"--train-samples must be between 1 and {len(x)}, got {count}")
    if not stratified:
        return x[:count], y[:count]
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    picks = []
    for rank, label in enumerate(classes):
        share = count // len(classes) + (1 if rank < count % len(classes) else 0)
        members = np.flatnonzero(y == label)
        if members.size < share:
            raise MlplensError(f"--train-samples {count} --stratified needs {share} images of "
                               f"class {label}, but there are only {members.size}")
        picks.append(rng.choice(members, size=share, replace=False))
    chosen = np.sort(np.concatenate(picks))
    return x[chosen], y[chosen]
