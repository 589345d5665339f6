"""A PyTorch state_dict's forward pass worked out from its key names and shapes alone.

Keys are grouped by module prefix (`fc1.weight` -> `fc1`) and each group is recognised by its
suffixes and shapes: a Linear (2-D weight, optional bias), a BatchNorm1d (running_mean and
running_var, optional weight and bias, num_batches_tracked) or a LayerNorm (1-D weight and bias,
no running statistics). The Linears are chained by their shapes (each takes what the one before
gives; nn.Sequential's indices, `encoder.0` before `encoder.2`, must be kept); a norm sits after
the Linear whose width it has (by index, in a Sequential). Where more than one order fits, the
file is refused in one line listing them: `layer_order` (`--layer-order`) says it.

A state_dict records no activations. They come from `layer_order` (activation names between the
modules), `--activations` or the `mlplens.activations` metadata; only for an nn.Sequential
(every module numbered under one prefix) is one assumed, and said in a note: ReLU where the
indices skip a parameter-free module, logits at the output (mlplens' documented default).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice

from ..errors import MlplensError
from .common import activation_name, split_outside_parentheses

NORM_SUFFIXES = {"running_mean", "running_var", "num_batches_tracked"}
SUFFIXES = {"weight", "bias"} | NORM_SUFFIXES
SHOWN = 4  # candidate orders a refusal lists


@dataclass(frozen=True)
class Module:
    """One module's keys (suffix -> key) and the widths it takes and gives."""

    prefix: str
    kind: str  # "Linear", "BatchNorm1d" or "LayerNorm"
    keys: dict[str, str]
    takes: int
    gives: int

    @property
    def stem(self) -> str | None:
        """`encoder.` for `encoder.2`, '' for `2`: the nn.Sequential it is numbered in."""
        head, _, last = self.prefix.rpartition(".")
        return (f"{head}." if head else "") if last.isdigit() else None

    @property
    def index(self) -> int:
        return int(self.prefix.rpartition(".")[2]) if self.stem is not None else -1


@dataclass
class Plan:
    """The forward pass: modules and activation names (canonical) in order, and what was
    assumed, one note a line."""

    steps: list[Module | str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def modules(shapes: Mapping[str, Sequence[int]]) -> list[Module]:
    """The file's keys grouped into modules, in natural key order; any other key is refused."""
    groups: dict[str, dict[str, str]] = {}
    for key in shapes:
        prefix, _, suffix = key.rpartition(".")
        if suffix not in SUFFIXES:
            raise MlplensError(f"tensor {key!r} is not a Linear layer's weight or bias, nor a "
                               "BatchNorm1d's or LayerNorm's (expected keys like fc1.weight, "
                               "fc1.bias, 0.weight, bn1.running_mean)")
        groups.setdefault(prefix, {})[suffix] = key
    if not groups:
        raise MlplensError("the file holds no tensors")
    return [_module(prefix, keys, shapes) for prefix, keys in
            sorted(groups.items(), key=lambda item: natural(item[0]))]


def natural(text: str) -> list[object]:
    """'fc10' after 'fc2': numbers compared as numbers."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text)]


def _module(prefix: str, keys: dict[str, str], shapes: Mapping[str, Sequence[int]]) -> Module:
    shape = {suffix: tuple(int(size) for size in shapes[key]) for suffix, key in keys.items()}
    weight = shape.get("weight")
    if "running_mean" in keys or "running_var" in keys:
        kind = "BatchNorm1d"
        width = shape.get("running_mean", shape.get("running_var", (0,)))
        wanted = {"running_mean", "running_var"}
    elif weight is not None and len(weight) == 2:
        if "bias" in shape and shape["bias"] != weight[:1]:
            raise MlplensError(f"tensor {keys['bias']!r} has shape {shape['bias']} but "
                               f"{keys['weight']!r} gives {weight[0]} values")
        return Module(prefix, "Linear", keys, weight[1], weight[0])
    elif weight is not None and len(weight) == 1:
        kind, width, wanted = "LayerNorm", weight, set()
    elif weight is not None:
        raise MlplensError(f"tensor {keys['weight']!r} has shape {weight}: not a Linear layer's "
                           "(out, in) weight")
    else:
        raise MlplensError(f"tensor {next(iter(keys.values()))!r} has no matching weight")
    missing = wanted - set(keys)
    if missing:
        raise MlplensError(f"{kind} {prefix!r} has no {', '.join(sorted(missing))}")
    for suffix in ("weight", "bias", "running_mean", "running_var"):
        if suffix in shape and shape[suffix] != width:
            raise MlplensError(f"tensor {keys[suffix]!r} has shape {shape[suffix]}; the "
                               f"{kind}'s other tensors have {width}")
    if len(width) != 1:
        raise MlplensError(f"{kind} {prefix!r} has shape {width}: mlplens reads norms over a "
                           "Linear layer's values (one axis)")
    return Module(prefix, kind, keys, width[0], width[0])


def plan(found: list[Module], layer_order: str | None, told: Sequence[str] | None,
         recorded: Sequence[str] | None = None) -> Plan:
    """The forward pass of `found`, told by `layer_order` or worked out from shapes and indices;
    the activations (one per Linear) `told` (--activations), else `recorded` (the file's
    metadata), else assumed for an nn.Sequential."""
    if layer_order is not None:
        return _told(found, layer_order, told, recorded)
    activations = told if told is not None else recorded
    linears = [module for module in found if module.kind == "Linear"]
    if not linears:
        raise MlplensError("the file holds no Linear layer (a 2-D weight)")
    order = _linear_order(linears)
    leading, segments = _place_norms(order,
                                     [module for module in found if module.kind != "Linear"])
    sequential = len({module.stem for module in found}) == 1 and found[0].stem is not None
    result = Plan(list(leading))
    if activations is None:
        if not sequential:
            names = ", ".join(linear.prefix for linear in order)
            raise MlplensError(f"the file records no activations (a state_dict holds only "
                               f"weights): pass --activations with one per Linear layer, in "
                               f"order ({names}), e.g. {','.join(['relu'] * (len(order) - 1))}"
                               f"{',' if len(order) > 1 else ''}linear")
        activations = [("relu" if _gap(segment, following) is not None else "linear")
                       for segment, following in zip(segments, segments[1:])] + ["linear"]
        result.notes.append(
            f"the file records no activations; assuming {','.join(activations)} (ReLU where the "
            "nn.Sequential's indices skip a parameter-free module, logits at the output): pass "
            "--activations if they differ")
    elif len(activations) != len(order):
        raise MlplensError(f"--activations lists {len(activations)} activation(s) but the model "
                           f"has {len(order)} Dense layer(s)")
    assumed: list[str] = []
    for position, (segment, activation) in enumerate(zip(segments, activations)):
        following = segments[position + 1] if position + 1 < len(segments) else None
        gap = _gap(segment, following) if sequential else None
        norms = segment[1:]
        before = [norm for norm in norms if gap is None or norm.index < gap]
        result.steps += [segment[0], *before, activation, *norms[len(before):]]
        if not sequential and activation != "linear":
            assumed += [norm.prefix for norm in norms]
    if assumed:
        shown = ",".join(step if isinstance(step, str) else step.prefix for step in result.steps
                         if step != "linear")
        result.notes.append(
            f"{', '.join(assumed)} read as applied before their Linear layer's activation "
            f"(Linear -> norm -> activation): if an activation comes first, give the whole "
            f"order with --layer-order (now {shown})")
    return result


def epsilon_note(found: list[Module]) -> list[str]:
    """A state_dict does not record a norm's epsilon: PyTorch's default is taken, and said."""
    norms = [module.prefix for module in found if module.kind != "Linear"]
    return [f"a state_dict does not record epsilon: using PyTorch's default 1e-05 for "
            f"{', '.join(norms)}"] if norms else []


def _gap(segment: list[Module], following: list[Module] | None) -> int | None:
    """The first Sequential index after a segment's Linear that holds no module with weights (a
    parameter-free module: its activation), or None."""
    taken = {module.index for module in segment}
    end = following[0].index if following else max(taken) + 1
    return next((index for index in range(segment[0].index + 1, end) if index not in taken), None)


def _linear_order(linears: list[Module]) -> list[Module]:
    """The one order in which each Linear takes what the one before gives, keeping Sequential
    indices; a refusal listing the orders when several fit. None fitting: key order (the
    stack then says which layer does not fit)."""
    orders = list(islice(_orders(linears, []), SHOWN + 1))
    if len(orders) == 1:
        return orders[0]
    if not orders:
        if all(linear.stem is not None for linear in linears):
            return linears
        shapes = ", ".join(f"{linear.prefix} ({linear.takes}->{linear.gives})"
                           for linear in linears)
        raise MlplensError(f"no order of the Linear layers chains their shapes: {shapes}")
    listed = " or ".join(",".join(linear.prefix for linear in order) for order in orders[:SHOWN])
    more = " (and more)" if len(orders) > SHOWN else ""
    raise MlplensError(f"the Linear layers chain by their shapes in more than one order: "
                       f"{listed}{more}; say which with --layer-order (layer_order= in Python), "
                       f"e.g. --layer-order {','.join(linear.prefix for linear in orders[0])}")


def _orders(left: list[Module], done: list[Module]):
    """Every shape-consistent order of the Linears, lazily (the caller takes a few)."""
    if not left:
        yield list(done)
        return
    for module in left:
        if done and module.takes != done[-1].gives:
            continue
        if any(other.stem == module.stem and other.index > module.index
               for other in done if module.stem is not None):
            continue
        yield from _orders([other for other in left if other is not module], [*done, module])


def _place_norms(order: list[Module],
                 norms: list[Module]) -> tuple[list[Module], list[list[Module]]]:
    """The BatchNorms on the input values, and each Linear with the norms after it
    ([linear, norm, ...])."""
    segments = [[linear] for linear in order]
    leading: list[Module] = []
    for norm in norms:
        sequence = [segment for segment in segments if segment[0].stem is not None
                    and segment[0].stem == norm.stem]
        if sequence:  # the Linear numbered just before it in the same nn.Sequential
            earlier = [segment for segment in sequence if segment[0].index < norm.index]
            places = [max(earlier, key=lambda segment: segment[0].index)] if earlier else []
        else:
            places = [segment for segment in segments if segment[0].gives == norm.takes]
        if not places and norm.kind == "BatchNorm1d" and order[0].takes == norm.takes:
            leading.append(norm)
            continue
        if len(places) != 1:
            where = ("no Linear gives" if not places else
                     f"Linears {', '.join(place[0].prefix for place in places)} each give")
            raise MlplensError(f"{norm.kind} {norm.prefix!r} normalises {norm.takes} values and "
                               f"{where} {norm.takes}: say where it sits with --layer-order "
                               "(layer_order= in Python)")
        if places[0][0].gives != norm.takes:
            raise MlplensError(f"{norm.kind} {norm.prefix!r} normalises {norm.takes} values but "
                               f"Linear {places[0][0].prefix!r} before it gives "
                               f"{places[0][0].gives}")
        if len(places[0]) > 1 and places[0][0].stem is None:
            raise MlplensError(f"{places[0][1].prefix!r} and {norm.prefix!r} both follow Linear "
                               f"{places[0][0].prefix!r}: say their order with --layer-order "
                               "(layer_order= in Python)")
        places[0].append(norm)
    for segment in segments:
        segment[1:] = sorted(segment[1:], key=lambda module: module.index)
    return leading, segments


def _told(found: list[Module], text: str, told: Sequence[str] | None,
          recorded: Sequence[str] | None) -> Plan:
    """`--layer-order fc1,bn1,relu,fc2,head`: every module once, activations optionally between."""
    by_prefix = {module.prefix: module for module in found}
    result = Plan()
    for token in (part.strip() for part in split_outside_parentheses(text)):
        if token in by_prefix:
            if by_prefix[token] in result.steps:
                raise MlplensError(f"--layer-order names {token!r} twice")
            result.steps.append(by_prefix[token])
        elif token:
            try:
                result.steps.append(activation_name(token, "--layer-order"))
            except MlplensError:
                raise MlplensError(f"--layer-order: {token!r} is neither a module of the file "
                                   f"({', '.join(by_prefix)}) nor an activation") from None
    missing = [prefix for prefix, module in by_prefix.items() if module not in result.steps]
    if missing:
        raise MlplensError(f"--layer-order leaves out {', '.join(missing)}: it must name every "
                           "module of the file")
    linears = [step for step in result.steps if isinstance(step, Module) and step.kind == "Linear"]
    named = any(isinstance(step, str) for step in result.steps)
    if named and told is not None:
        raise MlplensError("give the activations in --layer-order or in --activations, not both")
    if not named:
        activations = told if told is not None else recorded
        if activations is None:
            raise MlplensError("the file records no activations (a state_dict holds only "
                               "weights): pass --activations, or name them in --layer-order "
                               "between the modules")
        if len(activations) != len(linears):
            raise MlplensError(f"--activations lists {len(activations)} activation(s) but the "
                               f"model has {len(linears)} Dense layer(s)")
        result.steps = _after_norms(result.steps, list(activations))
    return result


def _after_norms(steps: list[Module | str], activations: list[str]) -> list[Module | str]:
    """Each Linear's activation placed after the norms that follow it (Linear -> norm -> act)."""
    placed: list[Module | str] = []
    pending = iter(activations)
    seen = False
    for step in steps:
        if isinstance(step, Module) and step.kind == "Linear":
            if seen:
                placed.append(next(pending))
            seen = True
        placed.append(step)
    placed.append(next(pending))
    return placed
