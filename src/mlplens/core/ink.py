"""Where digits write: per class, how often each pixel carries ink (pure NumPy).

The article says the 60,000-image output pictures grow lines along the image edges that catch
the few digits (7 and 9) that write there; these numbers check that claim.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EDGES = ("top", "bottom", "left", "right")


@dataclass(frozen=True)
class InkMaps:
    """Ink statistics of a labelled image set."""

    frequency: np.ndarray  # float (classes, H, W): share of each class's images inked there
    counts: np.ndarray  # int (classes, H, W): number of each class's images inked there
    class_sizes: np.ndarray  # int (classes,)

    @property
    def classes_reaching(self) -> np.ndarray:
        """(H, W): how many classes have at least one image with ink at the pixel."""
        return (self.counts > 0).sum(axis=0)


def ink_maps(images: np.ndarray, labels: np.ndarray, threshold: int = 0) -> InkMaps:
    """Frequency and count of ink (pixel > threshold) per class and pixel."""
    images = np.asarray(images)
    labels = np.asarray(labels)
    classes = int(labels.max()) + 1
    counts = np.stack([(images[labels == c] > threshold).sum(axis=0) for c in range(classes)])
    sizes = np.bincount(labels, minlength=classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        frequency = np.nan_to_num(counts / sizes[:, None, None])
    return InkMaps(frequency, counts, sizes)


def edge_ink_counts(images: np.ndarray, labels: np.ndarray, edge: str, depth: int = 1,
                    threshold: int = 0) -> np.ndarray:
    """Per class, how many images put ink in the outermost `depth` rows (or columns) of an edge."""
    if edge not in EDGES:
        raise ValueError(f"edge must be one of {', '.join(EDGES)}")
    images = np.asarray(images)
    band = {"top": images[:, :depth], "bottom": images[:, -depth:],
            "left": images[:, :, :depth], "right": images[:, :, -depth:]}[edge]
    inked = (band > threshold).reshape(len(images), -1).any(axis=1)
    classes = int(np.asarray(labels).max()) + 1
    return np.bincount(np.asarray(labels)[inked], minlength=classes)
