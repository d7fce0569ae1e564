"""Mutation check: does the suite notice a wrong derivative?

Each mutant changes one thing codegen knows about derivatives, and is killed
when a numerical check of the rule cases (`tests/test_rules.py`, central
differences) fails on it:

- each gradient template of each row of the rule table, in turn: negated
  (`-(t)`), doubled (`2 * (t)`), and, in a row of two operands that names
  both, with the operands swapped (`y * g` for `x * g`);
- each place the differentiator accumulates a gradient with `+=`, written
  with `=` instead;
- repeated indices accumulated with `+=` rather than `np.add.at`.

Run it with `python -m tests.mutation` (about a minute; `-v` lists every
mutant). It prints the score and each survivor, and exits 1 if any survived.
`tests/test_reliability.py` runs a few mutants of each kind on every run.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import dataclasses
import functools
import inspect
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from codegen import CodegenError, differentiate, normalize
from codegen.rules import RULES, Rule
from tests.support import check_gradients, load
from tests.test_rules import CASES, Case


@dataclass(frozen=True)
class Mutant:
    """One change, applied while `patch` is entered; `cases` are what should notice."""

    label: str
    patch: Callable[[], contextlib.AbstractContextManager[None]]
    cases: tuple[Case, ...]


def killed(mutant: Mutant) -> bool:
    """Whether some case's gradients stop matching central differences."""
    with mutant.patch():
        for case in mutant.cases:
            try:
                forward, backward, _ = load(case.source)
                check_gradients(forward["f"], backward["f_backward"], case.arguments())
            except CodegenError:
                if not case.may_refuse:
                    return True
            except Exception:  # an assertion, or code that no longer runs
                return True
    return False


# ---- the rule table -----------------------------------------------------------------


@contextlib.contextmanager
def _replaced(name: str, rule: Rule) -> Iterator[None]:
    original = RULES[name]
    RULES[name] = rule
    try:
        yield
    finally:
        RULES[name] = original


def _swap(tree: ast.expr, a: str, b: str) -> ast.expr:
    class Swap(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.Name:
            return ast.Name(b if node.id == a else a if node.id == b else node.id, node.ctx)

    return Swap().visit(ast.parse(ast.unparse(tree), mode="eval").body)


def _edits(template: ast.expr, names: tuple[str, ...]) -> Iterator[tuple[str, ast.expr]]:
    """(label, mutated template) for each change of one template."""
    yield "negated", ast.parse(f"-({ast.unparse(template)})", mode="eval").body
    yield "doubled", ast.parse(f"2 * ({ast.unparse(template)})", mode="eval").body
    if len(names) == 2:
        used = {n.id for n in ast.walk(template) if isinstance(n, ast.Name)}
        if set(names) <= used:
            yield "operands swapped", _swap(template, *names)


def rule_mutants() -> Iterator[Mutant]:
    for name in sorted(RULES):
        rule = RULES[name]
        cases = tuple(c for c in CASES if c.rule == name and c.bug is None)
        if not cases:
            continue
        if rule.computed is not None:
            yield from _computed_mutants(name, rule, cases)
            continue
        for index, template in enumerate(rule.grads):
            if template is None:
                continue
            for label, edited in _edits(template, rule.args):
                grads = tuple(edited if i == index else t for i, t in enumerate(rule.grads))
                mutated = dataclasses.replace(rule, grads=grads)
                yield Mutant(f"{name}: d{rule.args[index]} {label}", functools.partial(_replaced, name, mutated), cases)


def _swap_changes(rule: Rule) -> bool:
    """Whether swapping a computed row's first two operands changes a template of
    a call of two (so that the mutant is not the row itself)."""
    compute = rule.computed
    assert compute is not None
    names = set(rule.args[:2]) if len(rule.args) == 2 else {"x0", "x1"}
    try:
        texts = [compute(i, 2, {}) for i in range(2)]
    except Exception:
        return True
    return any(names & {n.id for n in ast.walk(ast.parse(t, mode="eval")) if isinstance(n, ast.Name)} for t in texts)


def _computed_mutants(name: str, rule: Rule, cases: tuple[Case, ...]) -> Iterator[Mutant]:
    """Rows whose templates are computed per call: the computed text is edited."""
    compute = rule.computed
    assert compute is not None
    for label in ("negated", "doubled", "operands swapped"):
        def edited(index: int, count: int, statics: dict[str, ast.expr], label: str = label) -> str:
            text = compute(index, count, statics)
            if label == "negated":
                return f"-({text})"
            if label == "doubled":
                return f"2 * ({text})"
            return ast.unparse(_swap(ast.parse(text, mode="eval").body, *rule.args[:2] or ("x0", "x1")))

        if label == "operands swapped" and not _swap_changes(rule):
            continue
        mutated = dataclasses.replace(rule, computed=edited)
        yield Mutant(f"{name}: {label}", functools.partial(_replaced, name, mutated), cases)


# ---- the differentiator's accumulation --------------------------------------------


def programs() -> tuple[Case, ...]:
    """The rule cases, and the programs of `tests/test_reliability.py` with item
    assignment and repeated indices."""
    from tests.test_reliability import REPEATED

    args = (np.array([0.5, -1.5, 2.0]), np.array([0.3, 0.9, -0.4]), np.array([1, 1, 2]))
    more = [
        Case("", label, f"import numpy as np\n\n\ndef f(t, y, idx):\n{body}    return np.sum({returned})\n", args)
        for label, (body, returned, _) in REPEATED.items()
    ]
    return (*(c for c in CASES if c.bug is None), *more)


def accumulation_mutants() -> Iterator[Mutant]:
    source = inspect.getsource(differentiate)
    lines = [i + 1 for i, line in enumerate(source.splitlines()) if "self.emit(_accumulate(" in line]
    original = differentiate._accumulate
    every = programs()
    for line in lines:

        @contextlib.contextmanager
        def assigning(line: int = line) -> Iterator[None]:
            def accumulate(target: ast.expr, gradient: ast.expr) -> ast.stmt:
                if sys._getframe(1).f_lineno == line:
                    return ast.Assign([target], gradient)
                return original(target, gradient)

            setattr(differentiate, "_accumulate", accumulate)
            try:
                yield
            finally:
                setattr(differentiate, "_accumulate", original)

        yield Mutant(f"differentiate.py:{line}: `=` for `+=`", assigning, every)

    @contextlib.contextmanager
    def no_add_at() -> Iterator[None]:
        basic = normalize.Normaliser.is_basic_index
        setattr(normalize.Normaliser, "is_basic_index", lambda self, index: True)
        try:
            yield
        finally:
            setattr(normalize.Normaliser, "is_basic_index", basic)

    yield Mutant("repeated indices: `+=` for np.add.at", no_add_at, every)


def mutants() -> Iterator[Mutant]:
    yield from rule_mutants()
    yield from accumulation_mutants()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="list every mutant")
    args = parser.parse_args(argv)
    survivors: list[str] = []
    total = 0
    for mutant in mutants():
        total += 1
        caught = killed(mutant)
        if not caught:
            survivors.append(mutant.label)
        if args.verbose:
            print(f"{'killed  ' if caught else 'SURVIVED'} {mutant.label}")
    print(f"{total - len(survivors)} of {total} mutants killed")
    for label in survivors:
        print(f"survived: {label}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
