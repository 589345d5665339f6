"""What a net's output means to its users, one place for every command: the class it picks, how
well it does on labelled data, what its classes and output nodes are called. (A circuit explains
the largest logit, which is the one output of a binary or regression head.)

- classes: the largest logit (= the largest probability after a softmax).
- binary: one output, a probability (sigmoid) or a logit; class 1 when p > 0.5 (logit > 0).
- multilabel: one independent sigmoid (or logit) per label; each label on when its logit > 0.
- regression: one number; no class, scored by its mean absolute error against the labels read
  as numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .classes import class_names_for
from .stack import DenseStack


def predicted_classes(stack: DenseStack, logits: np.ndarray) -> np.ndarray:
    """(n,) the class each row's output picks; for multilabel, the most confident label; for
    regression, 0 (its one output)."""
    head = stack.head
    if head == "binary":
        return (np.asarray(logits)[:, 0] > 0).astype(np.intp)
    if head == "regression":
        return np.zeros(len(logits), dtype=np.intp)
    return np.asarray(logits).argmax(axis=1)


def score_name(stack: DenseStack) -> str:
    """What `forward.accuracy` measures for this head, as the views name it."""
    return {"multilabel": "label accuracy",
            "regression": "mean absolute error"}.get(stack.head, "accuracy")


def score_terms(stack: DenseStack, logits: np.ndarray, outputs: np.ndarray,
                labels: np.ndarray) -> float:
    """The sum over rows that `forward.accuracy` divides by their count: correct predictions
    (classes, binary), correct labels per row averaged over labels (multilabel, a row's one
    label read as its one positive label), or absolute errors (regression)."""
    labels = np.asarray(labels)
    head = stack.head
    if head == "regression":
        return float(np.abs(np.asarray(outputs, np.float64)[:, 0] - labels).sum())
    if head == "multilabel":
        wanted = np.arange(np.shape(logits)[1])[None, :] == labels[:, None]
        return float(((np.asarray(logits) > 0) == wanted).mean(axis=1).sum())
    return float((predicted_classes(stack, logits) == labels).sum())


def class_names(stack: DenseStack, names: Sequence[str] | None) -> tuple[str, ...]:
    """The classes the views name (`names` padded with numbers): one per output, two for a
    binary head (class 0, then the positive class 1); for regression, the names of the labels
    read as numbers, as given (its one output is "value", `output_names`)."""
    if stack.head == "regression":
        return tuple(str(name) for name in names or ())
    return class_names_for(names, stack.n_classes)


def output_names(stack: DenseStack, class_names: Sequence[str] | None) -> tuple[str, ...]:
    """One name per output node: its class (classes, multilabel), the positive class of a binary
    head (its one output is class 1's logit or probability), "value" for regression."""
    head = stack.head
    if head == "binary":
        return (class_names_for(class_names, 2)[1],)
    if head == "regression":
        return ("value",)
    return class_names_for(class_names, stack.layers[-1].units)


def names_fit(stack: DenseStack, count: int) -> bool:
    """Whether `count` class names fit the output: one per output, or two for one output (a
    binary classifier's class 0 and class 1)."""
    return count == stack.widths[-1] or (stack.widths[-1] == 1 and count == 2)


def output_of_labels(stack: DenseStack, labels: np.ndarray) -> np.ndarray:
    """The output node that speaks for each label's class, -1 for none: the class's own node;
    a binary head's one node for class 1 (class 0 has none of its own); a regression's one
    node for every label."""
    labels = np.asarray(labels)
    if stack.head == "binary":
        return np.where(labels == 1, 0, -1)
    if stack.head == "regression":
        return np.zeros_like(labels)
    return labels


def verdict(stack: DenseStack, logits: np.ndarray,
            class_names: Sequence[str] | None) -> tuple[int, str]:
    """What the net says for one input's logits: the class picked and its name, or for a
    regression 0 and the number itself."""
    if stack.head == "regression":
        return 0, f"{float(logits[0]):.2f}"
    picked = int(predicted_classes(stack, np.asarray(logits)[None])[0])
    return picked, label_name(stack, class_names, picked)


def label_name(stack: DenseStack, class_names: Sequence[str] | None, label: int) -> str:
    """What the data's label `label` is called: its class's name, else its number."""
    return class_names_for(class_names, max(stack.n_classes, label + 1))[label]
