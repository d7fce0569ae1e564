"""The mutation check (tests/mutation.py) itself: a quick run kills every mutant
of a few rows and of the differentiator's accumulations, and a mutant no check
reaches is reported as a survivor.  The whole run is by hand:
`python -m tests.mutation`."""

from __future__ import annotations

import ast

from tests import mutants, mutation


def test_quick_run_kills_every_mutant() -> None:
    report = mutation.run(set(mutation.QUICK_ROWS), own_cases_only=True)
    assert report.count("template") > 100
    assert report.count("accumulation") == len(mutants.accumulation_patches())
    assert report.count("accumulation", "killed") >= 12
    survivors = [f"{o.where}: {o.what}" for o in report.survivors]
    assert not survivors, "\n".join(survivors)


def test_a_mutant_no_check_reaches_survives() -> None:
    """Without checks every non-equivalent mutant of `mul` survives: the tool can fail."""
    report = mutation.Report()
    with mutation.quiet():
        mutation.run_templates({"mul"}, [], report, lambda line: None)
    statuses = {o.status for o in report.outcomes}
    assert statuses == {"survived", "equivalent"}
    assert report.count("template", "survived") >= 10


def test_commutative_and_einsum_swaps_are_equivalent() -> None:
    found = {m.what: m for m in mutants.template_mutations(ast.parse("y * g", mode="eval").body, ["x", "y"])}
    assert found["swap the operands x <-> y"].equivalent is None
    assert found["swap the operands: y * g -> g * y"].equivalent == mutants.COMMUTATIVE
    assert found["negate"].equivalent is None
    einsum = ast.parse("np.einsum('i,ij,ij->j', g, x0, x1)", mode="eval").body
    swaps = [m for m in mutants.template_mutations(einsum, ["x0", "x1"]) if m.what.startswith("swap the operands x0")]
    assert [m.equivalent for m in swaps] == ["einsum operands with the same subscripts"]


def test_calls_that_cannot_matter_are_equivalent_and_others_not() -> None:
    """range(k) for list(range(k)) as moveaxis axes, v for np.shape(v) as _unbroadcast's like."""
    moved = ast.parse("np.moveaxis(y, list(range(k)), list(range(-k, 0)))", mode="eval").body
    drops = {m.what: m.equivalent for m in mutants.template_mutations(moved, ["x", "y"]) if m.what.startswith("drop the call")}
    assert drops["drop the call: list(range(k)) -> range(k)"] == mutants.MOVEAXIS_AXES
    assert drops["drop the call: list(range(-k, 0)) -> range(-k, 0)"] == mutants.MOVEAXIS_AXES
    assert drops["drop the call: np.moveaxis(y, list(range(k)), list(range(-k, 0))) -> y"] is None
    summed = ast.parse("_unbroadcast(np.einsum('i,j->i', g, x1), np.shape(x0))", mode="eval").body
    drops = {m.what: m.equivalent for m in mutants.template_mutations(summed, ["x0", "x1"]) if m.what.startswith("drop the call")}
    assert drops["drop the call: np.shape(x0) -> x0"] == mutants.UNBROADCAST_LIKE
    assert drops["drop the call: _unbroadcast(np.einsum('i,j->i', g, x1), np.shape(x0)) -> np.einsum('i,j->i', g, x1)"] is None
    listed = ast.parse("np.shape(list(range(k)))", mode="eval").body  # not moveaxis's axes
    assert all(m.equivalent is None for m in mutants.template_mutations(listed, ["x"]))


def test_a_list_gradient_is_doubled_element_by_element() -> None:
    """`2 * list(g)` would repeat the list, not double its gradients."""
    for text in ("list(g)", "[g] * len(xs)", "np.split(g, 2)", "[_unbroadcast(g, item) for item in xs]"):
        doubled = next(m for m in mutants.template_mutations(ast.parse(text, mode="eval").body, ["xs"]) if m.what == "double")
        assert ast.unparse(doubled.tree) == f"[2 * _part for _part in {text}]"
    doubled = next(m for m in mutants.template_mutations(ast.parse("g", mode="eval").body, ["x"]) if m.what == "double")
    assert ast.unparse(doubled.tree) == "2 * g"


def test_probe_tells_a_changed_value_from_the_same_one() -> None:
    original = ast.parse("g / (1 + x ** 2)", mode="eval").body
    same = ast.parse("g / (x ** 2 + 1)", mode="eval").body
    changed = ast.parse("g / (1 - x ** 2)", mode="eval").body
    assert mutants.probe_equivalent(original, same, ["x", "g", "out"], scalar=False, fixed={})
    assert not mutants.probe_equivalent(original, changed, ["x", "g", "out"], scalar=False, fixed={})


def test_every_accumulation_site_is_found_in_the_differentiator() -> None:
    """A change to codegen/ad/differentiate.py that moves a site fails here, not silently."""
    patches = mutants.accumulation_patches()
    assert len({p.what for p in patches}) == len(patches)
    for patch in patches:
        owner, name, function = mutants.compiled(patch)
        assert callable(function) and hasattr(owner, name)
