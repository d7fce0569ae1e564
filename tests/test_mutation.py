"""The mutation check (tests/mutation.py) itself: a quick run kills every mutant
of a few rows and of the differentiator's accumulations, and a mutant no check
reaches is reported as a survivor.  The whole run is by hand:
`python -m tests.mutation`."""

from __future__ import annotations

import ast

from tests import mutants, mutation

# The one known survivor: no check (nor the random suites) ever gives a folded
# gradient a second contribution, so this branch of `contribute` runs in none.
OPEN = {"contribute: `=` written `+=` (self.emit(ast.Assign([ast.Name(name, ast.Store())], self.folded.pop(name))))"}


def test_quick_run_kills_every_mutant() -> None:
    report = mutation.run(set(mutation.QUICK_ROWS), own_cases_only=True)
    assert report.count("template") > 100
    assert report.count("accumulation") == len(mutants.accumulation_patches())
    assert report.count("accumulation", "killed") >= 12
    survivors = [f"{o.where}: {o.what}" for o in report.survivors if o.what not in OPEN]
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
