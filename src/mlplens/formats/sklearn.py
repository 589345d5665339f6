"""A fitted scikit-learn `MLPClassifier` (or `MLPRegressor`) object -> DenseStack.

Read from its attributes alone (`coefs_` are (n_in, n_out) like Keras kernels, `intercepts_`,
`activation` for the hidden layers and `out_activation_` for the output): scikit-learn is not
imported here. Saved estimators are pickles, which mlplens never loads: convert one with
`mlplens.save_stack(mlplens.stack_from(estimator), "model.onnx")` (or .safetensors / .npz).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..core.stack import DenseStack
from ..errors import MlplensError
from .common import Chain, activation_name

KINDS = ("MLPClassifier", "MLPRegressor")


def is_sklearn_mlp(obj: Any) -> bool:
    return type(obj).__name__ in KINDS and type(obj).__module__.startswith("sklearn.")


def stack_from_sklearn(estimator: Any, image_shape: tuple[int, int] | None = None,
                       activations: tuple[str, ...] | None = None, *, channels: int = 1,
                       input_names: Sequence[str] = ()) -> DenseStack:
    kind = type(estimator).__name__
    coefs = getattr(estimator, "coefs_", None)
    intercepts = getattr(estimator, "intercepts_", None)
    if coefs is None or intercepts is None:
        raise MlplensError(f"the {kind} is not fitted yet: call fit() first")
    if len(coefs) != len(intercepts):
        raise MlplensError(f"the {kind} has {len(coefs)} coefs_ but {len(intercepts)} "
                           "intercepts_")
    hidden = activation_name(estimator.activation, f"{kind} hidden layers")
    output = activation_name(estimator.out_activation_, f"{kind} output layer")
    chain = Chain()
    for index, (kernel, bias) in enumerate(zip(coefs, intercepts), start=1):
        last = index == len(coefs)
        chain.dense("output" if last else f"hidden_{index}", kernel, bias,
                    output if last else hidden)
    return chain.stack(image_shape, activations, channels=channels, input_names=input_names)
