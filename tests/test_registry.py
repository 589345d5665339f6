"""The method registry: one object per method, and everything that offers methods reads it."""

from __future__ import annotations

import numpy as np
import pytest

import mlplens
from mlplens.cli import build_parser, main
from mlplens.core.projection import Fidelity, Projection, linear_rows
from mlplens.core.stack import DenseStack
from mlplens.figures.beyond_article import BeyondResults, _views_of_net
from mlplens.figures.check_methods import check_methods
from mlplens.figures.story_figures import StoryFigures
from mlplens.methods import (
    METHODS,
    CliOption,
    Method,
    UnknownOptionError,
    get_method,
    project,
)
from mlplens.report import all_views, explorer_data


def _negated(stack, *, factor: int = 1) -> Projection:
    """A toy method: the linear pictures, negated and scaled; its fidelity says how faithful
    the linear pictures are to it (-1 everywhere), typed, so the checks pair them by type."""
    rows = tuple(-factor * rows for rows in linear_rows(stack))
    scores = tuple(np.full(len(layer), -1.0) for layer in rows)
    return Projection("negated", rows, extras=(Fidelity("linear", scores, 0),))


# Everything a new method is, registered in one place (the fixture below).
TOY = Method("negated", "The linear pictures, upside down.", "linear, negated", _negated,
             cli=(CliOption("factor", "--factor", "how much to scale them (default: 1)",
                            "count", "F"),))


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

    assert "--factor F negated: how much to scale them (default: 1)" in " ".join(
        help_text.split())

    assert main(["visualize", str(model), "--method", "negated", "--factor", "3", "--out",
                 str(tmp_path / "figs")]) == 0
    written = capsys.readouterr().out.split()
    # its typed further result is written by its type, as the gradient's fidelity is
    assert [p.rsplit("/", 1)[-1] for p in written] == ["layer-1.png", "layer-2.png",
                                                       "arrays.npz", "fidelity-2.png"]
    with np.load(tmp_path / "figs" / "arrays.npz") as arrays:
        np.testing.assert_array_equal(arrays["raw_2"], -3 * linear_rows(tiny_stack)[1])
        np.testing.assert_array_equal(arrays["fidelity_2"], [-1.0, -1.0, -1.0])
    # a flag of one method is refused for another, by name
    assert main(["visualize", str(model), "--method", "seed", "--factor", "3", "--out",
                 str(tmp_path / "no")]) == 2
    assert capsys.readouterr().err == ("mlplens: error: --factor is an option of --method "
                                       "negated; --method seed does not take it\n")
    # evolve offers only methods that draw from the weights alone, with no options
    evolve = build_parser()._subparsers._group_actions[0].choices["evolve"]
    evolve.format_help()
    assert next(a for a in evolve._actions if a.dest == "method").choices == ["linear", "seed"]

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


def _net(seed: int) -> DenseStack:
    rng = np.random.default_rng(seed)
    sizes = (784, 16, 10)
    return DenseStack.from_arrays([rng.normal(0, 0.1, (n, m)) for n, m in zip(sizes, sizes[1:])],
                                  [rng.normal(0, 0.1, m) for m in sizes[1:]])


def test_a_registered_method_reaches_the_checks(toy):
    """`check` runs every registered method; the toy's fidelity, typed, judges the pictures of
    the method it names (linear), as the gradient's does."""
    found = check_methods(_net(0), {"steps": 5}, None, seed=0)
    assert [c.method for c in found.checks] == ["linear", "seed", "maximize", "negated"]
    assert found.skipped == {"gradient": "needs reference images",
                             "examples": "needs reference images"}
    by_name = {c.method: c for c in found.checks}
    np.testing.assert_array_equal(by_name["negated"].trained.layers[1],
                                  -linear_rows(_net(0))[1])
    assert by_name["linear"].fidelity == -1.0
    assert by_name["seed"].fidelity is None


def test_a_registered_method_reaches_reproduces_figures(toy, mnist, tmp_path):
    """reproduce's "beyond the article" draws every registered method but the article's own;
    the story places a method it has no section for under "other methods", captioned from its
    records (kind and layer), with no file name read back."""
    results = BeyondResults(reference=20)
    _views_of_net("toy-net", _net(1), mnist, tmp_path, results, lambda _: None, quick=True)
    drawn = [(f.method, f.output.kind, f.output.layer) for f in results.figures]
    assert [d for d in drawn if d[0] == "negated"] == [
        ("negated", "layer", 1), ("negated", "layer", 2), ("negated", "fidelity", 2)]
    assert ("gradient", "fidelity", 2) in drawn and ("gradient", "per-class", 2) in drawn
    story = StoryFigures("toy-net")
    for figure in results.figures:
        story.add_beyond(figure)
    other = story.sections["other-methods"]
    assert [(f.path.relative_to(tmp_path).as_posix(), f.caption, f.embed) for f in other] == [
        ("beyond/toy-net/negated/layer-1.png", "toy-net, layer 1, negated: linear, negated.",
         False),
        ("beyond/toy-net/negated/layer-2.png", "toy-net, layer 2, negated: linear, negated.",
         False),
        ("beyond/toy-net/negated/fidelity-2.png", "toy-net, layer 2: nodes sorted by fidelity, "
         "cosine(article's picture, exact picture), with the most and least faithful drawn "
         "side by side.", False)]
    assert [f.path.name for f in story.sections["exact"] if f.embed] == ["fidelity-2.png",
                                                                        "per-class.png"]
