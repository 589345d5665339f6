"""How alike two pictures of the same node are: the two measures of the sanity checks.

Spearman rank correlation of absolute values asks "do both pictures rank the same pixels as
important?" whatever their scale or sign convention; SSIM asks "would a reader see the same
picture?" on the pixels as drawn. Both are row-wise over a layer: row i of `a` against row i of
`b`. A constant picture has no ranking or structure to compare: its Spearman is NaN, left out
of medians by the callers.
"""

from __future__ import annotations

import numpy as np

# The standard SSIM constants (Wang et al. 2004) for pictures scaled to [0, 1].
K1, K2 = 0.01, 0.03
WINDOW = 7  # a uniform 7x7 window: small enough for 28x28 pictures to keep 22x22 positions


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of a 1-D array, ties sharing the mean of their ranks (as Spearman needs)."""
    values = np.asarray(values)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts_run = np.r_[True, ordered[1:] != ordered[:-1]]
    run = np.cumsum(starts_run) - 1
    starts = np.flatnonzero(starts_run)
    ends = np.r_[starts[1:], len(values)]
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = ((starts + ends - 1) / 2 + 1)[run]
    return ranks


def spearman_abs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per row, the Spearman rank correlation of |a| and |b| (NaN where a row is constant)."""
    a, b = np.atleast_2d(np.abs(np.asarray(a, np.float64))), np.atleast_2d(
        np.abs(np.asarray(b, np.float64)))
    if a.shape != b.shape:
        raise ValueError(f"cannot compare pictures of shapes {a.shape} and {b.shape}")
    result = np.full(len(a), np.nan)
    for row, (left, right) in enumerate(zip(a, b)):
        x = average_ranks(left) - (len(left) + 1) / 2
        y = average_ranks(right) - (len(right) + 1) / 2
        scale = np.sqrt((x @ x) * (y @ y))
        if scale > 0:
            result[row] = (x @ y) / scale
    return result


def _window_means(images: np.ndarray, size: int) -> np.ndarray:
    """The mean over every size x size window that fits: (n, H-size+1, W-size+1)."""
    summed = np.cumsum(np.cumsum(np.pad(images, ((0, 0), (1, 0), (1, 0))), axis=1), axis=2)
    total = (summed[:, size:, size:] - summed[:, :-size, size:] - summed[:, size:, :-size]
             + summed[:, :-size, :-size])
    return total / (size * size)


def ssim(a: np.ndarray, b: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """Per picture, the mean SSIM of two stacks of pictures (n, H, W) with values in [0, 1];
    of colour pictures (n, H, W, C), the mean over channels of each channel's SSIM.

    Local means, variances and covariance over a uniform window (population statistics), the
    standard constants C1 = (0.01)^2 and C2 = (0.03)^2 for a data range of 1.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim == 4 and a.shape == b.shape:
        count, height, width, channels = a.shape
        per_channel = ssim(*(np.moveaxis(x, 3, 1).reshape(-1, height, width) for x in (a, b)),
                           window=window)
        return per_channel.reshape(count, channels).mean(axis=1)
    if a.shape != b.shape or a.ndim != 3:
        raise ValueError(f"SSIM compares two stacks of pictures (n, H, W) of one shape, got "
                         f"{a.shape} and {b.shape}")
    if min(a.shape[1:]) < window:
        raise ValueError(f"pictures of {a.shape[1]}x{a.shape[2]} are smaller than the "
                         f"{window}x{window} SSIM window")
    c1, c2 = K1 ** 2, K2 ** 2
    mean_a, mean_b = _window_means(a, window), _window_means(b, window)
    var_a = _window_means(a * a, window) - mean_a ** 2
    var_b = _window_means(b * b, window) - mean_b ** 2
    covariance = _window_means(a * b, window) - mean_a * mean_b
    local = ((2 * mean_a * mean_b + c1) * (2 * covariance + c2)
             / ((mean_a ** 2 + mean_b ** 2 + c1) * (var_a + var_b + c2)))
    return local.mean(axis=(1, 2))
