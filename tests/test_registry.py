"""The method registry: one object per method, and everything that offers methods reads it."""

from __future__ import annotations

import numpy as np
import pytest

import mlplens
from mlplens.cli import build_parser, main
from mlplens.methods import (
    METHODS,
    Method,
    UnknownOptionError,
    get_method,
    project,
)
from mlplens.core.projection import Projection, linear_rows
from mlplens.report import all_views, explorer_data


def _negated(stack, *, factor: float = 1.0) -> Projection:
    """A toy method: the linear pictures, negated and scaled."""
    return Projection("negated", tuple(-factor * rows for rows in linear_rows(stack)))


TOY = Method("negated", "The linear pictures, upside down.", "linear, negated", _negated)


@pytest.fixture
def toy(monkeypatch):
    """The toy method registered here alone, for one test (the registry is process-wide)."""
    monkeypatch.setitem(METHODS, TOY.name, TOY)
    return TOY


def test_each_method_declares_everything_the_tools_need():
    assert list(METHODS) == ["linear", "seed", "gradient", "maximize", "examples"]
    assert [m.name for m in METHODS.values() if m.needs_data] == ["gradient", "examples"]
    assert {m.name: m.normalization for m in METHODS.values()} == {
        "linear": "minmax", "seed": "minmax", "gradient": "symmetric", "maximize": "minmax",
        "examples": "minmax"}
    assert [m.name for m in METHODS.values() if m.signed] == ["gradient"]
    assert [m.name for m in METHODS.values() if m.layers == "output"] == ["maximize"]
    assert METHODS["linear"].options == ()
    assert METHODS["gradient"].options == ("reference", "labels", "per_class", "batch_size",
                                           "progress")
    assert METHODS["examples"].options == ("reference", "labels", "k", "batch_size",
                                           "progress")
    assert METHODS["maximize"].options == ("layers", "nodes", "seed", "steps", "step_size", "l2",
                                           "blur_every", "jitter", "progress")


def test_an_unknown_option_names_the_method_and_the_option(tiny_stack):
    with pytest.raises(UnknownOptionError) as raised:
        project(tiny_stack, "linear", top_k=3)
    assert str(raised.value) == "the linear method has no option 'top_k' (its options: none)"
    with pytest.raises(UnknownOptionError, match=r"the examples method has no option 'kk' "
                                                 r"\(its options: reference, labels, k, "):
        project(tiny_stack, "examples", kk=3)
    assert isinstance(raised.value, TypeError) and isinstance(raised.value, mlplens.MlplensError)
    with pytest.raises(ValueError, match="unknown method 'nope'; choose from linear, seed"):
        get_method("nope")


def test_accepted_keeps_only_a_methods_own_options():
    offered = {"reference": 1, "labels": 2, "k": 3, "nodes": 4, "progress": 5}
    assert METHODS["examples"].accepted(offered) == {"reference": 1, "labels": 2, "k": 3,
                                                     "progress": 5}
    assert METHODS["seed"].accepted(offered) == {}


def test_registering_twice_or_an_output_only_method_without_layers_is_refused(toy):
    with pytest.raises(ValueError, match="'negated' is already registered"):
        mlplens.register_method(toy)
    with pytest.raises(ValueError, match="must take a `layers` option"):
        mlplens.register_method(Method("slow", "x", "x", _negated, layers="output"))


def test_a_registered_method_reaches_the_cli_visualize_and_the_explorer(toy, tiny_stack,
                                                                         tmp_path, capsys):
    model = mlplens.save_stack(tiny_stack, tmp_path / "tiny.npz")
    visualize = build_parser()._subparsers._group_actions[0].choices["visualize"]
    help_text = visualize.format_help()
    assert "negated: The linear pictures, upside down." in " ".join(help_text.split())
    method_option = next(a for a in visualize._actions if a.dest == "method")
    assert method_option.choices[-1] == "negated"

    assert main(["visualize", str(model), "--method", "negated", "--out",
                 str(tmp_path / "figs")]) == 0
    written = capsys.readouterr().out.split()
    assert [p.rsplit("/", 1)[-1] for p in written] == ["layer-1.png", "layer-2.png",
                                                       "arrays.npz"]
    with np.load(tmp_path / "figs" / "arrays.npz") as arrays:
        np.testing.assert_array_equal(arrays["raw_2"], -linear_rows(tiny_stack)[1])

    views = all_views(tiny_stack)
    # Without reference images the data methods are left out; maximize draws its output layer.
    assert list(views) == ["linear", "maximize", "negated", "seed"]
    assert [view is None for view in views["maximize"]] == [True, False]
    data = explorer_data(tiny_stack, views, digits=np.zeros((1, 2, 2), np.uint8),
                         digit_labels=[0], digit_source="", stats=[], stats_source="",
                         colormaps={})
    toy_block = next(m for m in data["methods"] if m["name"] == "negated")
    assert toy_block["description"] == "The linear pictures, upside down."
    assert toy_block["normalization"] == "minmax"
    assert [block["shape"] for block in toy_block["layers"]] == [[2, 2, 2], [3, 2, 2]]
