"""Mutation check: the suite's numerical tests catch every wrong derivative
template and every wrong accumulation of the differentiator.

    python -m tests.mutation                  # the whole table and the differentiator (minutes)
    python -m tests.mutation --rule numpy.tanh --rule mul
    python -m tests.mutation --quick          # a few rows and the accumulations (seconds)

Each template of `codegen.ad.rules.RULES` is mutated in turn (`tests.mutants`:
negated, doubled, operands swapped, `out` for the operand, a factor dropped,
`+`/`-` exchanged, a constant moved, a comparison reversed, branches swapped, a
call dropped); rows whose templates are computed per call (products,
`concatenate`, `einsum`, ...) are mutated in each template their cases make
them write.  The mutant replaces the row in RULES (`dataclasses.replace`, put
back after), and the checks that instantiated that template when nothing was
mutated run until one fails: the mutant is then killed.  The checks are the
suite's numerical ones, with black skipped: the cases of tests/test_rules.py in
reverse mode and in forward mode (tests/test_rules_forward.py), its checks of
generated code differentiated again (the rows met only there), the conventions
at kinks (tests/test_kinks.py), the golden cases' `# check:` calls and their
Hessian-vector products, the control-flow programs.  Golden text comparisons are left out on purpose: they catch any
change of output text, and so prove nothing about the numbers.

Each accumulation of codegen/ad/differentiate.py (`=` on a gradient's first
contribution, `+=` on the next, and the few places that keep `+=` correct) is
turned the wrong way; its checks are the golden calls, the control-flow
programs, the rule cases and `--examples` random programs of each random suite.

A mutant no check kills is a survivor, unless it computes the same values as
the original anyway: a commutative operation written the other way round,
`range(k)` for `list(range(k))` as `np.moveaxis`'s axes, an array for its
`np.shape` as `_unbroadcast`'s `like` are equivalent by construction and never
run (tests/mutants.py); a survivor in `EQUIVALENT` below, or that agrees with
the original on random values (ties included), is listed as equivalent, for review.
The exit status is 1 when a mutant survives.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import dataclasses
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from codegen import ir, pipeline
from codegen.ad.rules import RULES, Rule
from tests import mutants, support

Site = tuple[str, int, str]  # (row, operand index, template text)

# Templates codegen never instantiates, with why: their mutants are equivalent
# (while no check reaches them; one that does is mutated like any other).
NEVER_INSTANTIATED = {
    ("setitem", 0): "differentiate's mask_written writes this gradient itself (zero where v was written)",
}

# Mutants that survive because they cannot change a value codegen computes,
# by (row, operand, mutant), with why (a kill would still count as a kill).
EQUIVALENT = {
    ("numpy.tolist", 0, "g"): "the gradient of x.tolist() is an array of the list's shape, x's: the reshape never changes it",
    ("numpy.rollaxis", 0, "np.moveaxis(g, 1 if 1 <= np.ndim(x) - 1 else 1 - 2, -1)"):
        "np.rollaxis(x, -1, 1): the else branch runs only for a 1-d x, where every moveaxis is the identity",
}

# A few rows of different kinds, for --quick and the test suite's own run.
QUICK_ROWS = ("mul", "math.atan2", "numpy.tanh", "numpy.sum", "numpy.matmul", "numpy.concatenate")
# Rows whose cases the quick run's accumulation mutants also meet (a repeated
# gather, a sum of four, a shift also returned, slices of a list parameter:
# accumulations the programs miss).
QUICK_ACCUMULATION_ROWS = ("numpy.mul", "numpy.add.n", "numpy.sub", "list.concat")


@dataclass
class Check:
    """One numerical test of the suite; `run` raises when it fails."""

    name: str
    run: Callable[[], None]
    sites: set[Site] = field(default_factory=set)
    seconds: float = 0.0


@dataclass
class Outcome:
    kind: str  # "template" or "accumulation"
    where: str
    what: str
    status: str  # "killed", "equivalent", "survived"
    detail: str = ""


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, kind: str, status: str | None = None) -> int:
        return sum(1 for o in self.outcomes if o.kind == kind and (status is None or o.status == status))

    @property
    def survivors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "survived"]

    def table(self) -> str:
        lines = [f"{'':16}{'mutants':>9}{'killed':>9}{'equivalent':>12}{'survived':>10}"]
        for kind, label in (("template", "rule templates"), ("accumulation", "accumulations")):
            cells = [self.count(kind, s) for s in (None, "killed", "equivalent", "survived")]
            lines.append(f"{label:16}{cells[0]:>9}{cells[1]:>9}{cells[2]:>12}{cells[3]:>10}")
        total = len(self.outcomes)
        killed = sum(1 for o in self.outcomes if o.status == "killed")
        equivalent = sum(1 for o in self.outcomes if o.status == "equivalent")
        score = killed / max(total - equivalent, 1)
        lines.append(f"score: {killed} of {total - equivalent} non-equivalent mutants killed ({score:.1%})")
        return "\n".join(lines)


# ---- the checks ------------------------------------------------------------------------
def _with_normalised(test: Callable[..., None], *args: Any) -> None:
    """Call `test(*args, normalised)` as its `normalised` fixture would (tests/test_rules.py)."""
    seen: list[ir.Function] = []
    normalise = pipeline.normalise

    def record(*call: Any, **kwargs: Any) -> ir.Function:
        fn = normalise(*call, **kwargs)
        seen.append(fn)
        return fn

    pipeline.normalise = record
    try:
        test(*args, seen)
    finally:
        pipeline.normalise = normalise


def _parametrized(module: Any) -> Iterator[tuple[str, Callable[[], None]]]:
    """Each test of `module` that needs no fixture, once per parameter set."""
    import inspect
    import itertools

    for name, test in vars(module).items():
        if not name.startswith("test_") or not callable(test):
            continue
        grids = []
        for mark in getattr(test, "pytestmark", []):
            if mark.name == "parametrize":
                names = mark.args[0] if isinstance(mark.args[0], (list, tuple)) else [n.strip() for n in mark.args[0].split(",")]
                rows = [tuple(getattr(v, "values", v if len(names) > 1 else (v,))) for v in mark.args[1]]
                grids.append([dict(zip(names, row)) for row in rows])
        if set(inspect.signature(test).parameters) - {n for grid in grids for n in grid[0]}:
            continue  # a fixture
        for k, combination in enumerate(itertools.product(*grids)):
            kwargs = {key: value for part in combination for key, value in part.items()}
            yield f"{name}[{k}]", partial(test, **kwargs)


def _golden_calls(path: Any) -> None:
    from tests.test_golden import case_options, split_case

    source, _ = split_case(path)
    options = case_options(source)
    forward, backward, _ = support.load(source, path.name, **options)
    for call in re.findall(r"^# check: (.+)$", source, flags=re.MULTILINE):
        name, _, rest = call.partition("(")
        args = eval(f"({rest[:-1]},)", {"np": np, "rng": np.random.default_rng(0)})  # noqa: S307  # the case's own line
        support.check_gradients(forward[name], backward[f"{name}_backward"], list(args))


def rule_checks(rows: set[str] | None = None) -> list[Check]:
    """The cases of tests/test_rules.py (of `rows` only, if given), both modes."""
    from tests import test_kinks
    from tests.test_rules import (
        CASES,
        GENERATED,
        newer_than_python,
        test_rule_gradient,
        test_unreachable_row_in_generated_code,
    )
    from tests.test_rules_forward import test_rule_jvp

    checks = []
    for case in CASES:
        if case.bug or newer_than_python(case) or (rows is not None and case.rule not in rows):
            continue
        checks.append(Check(f"rules {case.id}", partial(_with_normalised, test_rule_gradient, case)))
        checks.append(Check(f"forward {case.id}", partial(test_rule_jvp, case)))
    for generated in GENERATED:
        if rows is None or generated[0] in rows:
            name = f"rules {generated[0]}[generated{',' + generated[1] if generated[1] else ''}]"
            checks.append(Check(name, partial(_with_normalised, test_unreachable_row_in_generated_code, generated)))
    if rows is None:
        checks += [Check(f"kinks {name}", test) for name, test in _parametrized(test_kinks)]
    return checks


def program_checks(hvp: bool = True) -> list[Check]:
    """The golden cases' checked calls (and their HVPs), and the control-flow programs."""
    from tests import test_control_flow, test_hvp
    from tests.test_golden import case_files

    checks = [Check(f"golden {p.stem}", partial(_golden_calls, p)) for p in case_files()]
    checks += [Check(f"control-flow {n}", partial(test_control_flow.test_program, n, s, c)) for n, s, c in test_control_flow.PROGRAMS]
    if hvp:
        checks += [Check(f"hvp {p.stem}", partial(test_hvp.test_golden_case_hvp, p)) for p in case_files()]
        checks.append(Check("hvp lgamma-gamma", test_hvp.test_hvp_of_lgamma_and_gamma_uses_trigamma))
    return checks


def random_checks(examples: int) -> list[Check]:
    """The two random-program suites, `examples` programs each."""
    from tests import test_random_numpy, test_random_programs

    def run(module: Any, test: Callable[[], None]) -> None:
        # The suite's own copy of EXAMPLES too: its checks of what a full run covers
        # (the merges of 1,000 programs) must not hold a shorter run to them.
        holders = [h for h in (support, module) if hasattr(h, "EXAMPLES")]
        saved = [h.EXAMPLES for h in holders]
        for holder in holders:
            holder.EXAMPLES = examples
        try:
            test()
        finally:
            for holder, value in zip(holders, saved):
                holder.EXAMPLES = value

    scalar = test_random_programs.test_random_programs_differentiate_correctly_or_fail_cleanly
    arrays = test_random_numpy.test_random_numpy_programs_differentiate_correctly_or_fail_cleanly
    return [
        Check("random programs", partial(run, test_random_programs, scalar)),
        Check("random numpy programs", partial(run, test_random_numpy, arrays)),
    ]


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Black skipped (the checks are numerical) and warnings silenced while checks run."""
    format_code = pipeline.fmt.format_code
    pipeline.fmt.format_code = lambda code, **options: code
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        pipeline.fmt.format_code = format_code


@contextlib.contextmanager
def recording(sites: set[Site]) -> Iterator[None]:
    """Note every template instantiated, as (row, operand, text)."""
    template = Rule.template

    def record(self: Rule, index: int, count: int, statics: dict[str, ast.expr]) -> ast.expr | None:
        tree = template(self, index, count, statics)
        if tree is not None:
            sites.add((self.name, index, ast.unparse(tree)))
        return tree

    setattr(Rule, "template", record)  # restored below
    try:
        yield
    finally:
        setattr(Rule, "template", template)


def baseline(checks: list[Check]) -> None:
    """Run every check unmutated, noting the templates each reaches and its time."""
    for check in checks:
        start = time.perf_counter()
        with recording(check.sites):
            try:
                check.run()
            except Exception as error:
                raise RuntimeError(f"{check.name} fails with nothing mutated: {error}") from error
        check.seconds = time.perf_counter() - start


def first_failure(checks: list[Check]) -> str | None:
    """The name of the first check that fails (and how), or None if all pass."""
    for check in sorted(checks, key=lambda c: c.seconds):
        try:
            check.run()
        except Exception as error:
            message = str(error).strip().splitlines()
            return f"{check.name}: {type(error).__name__}: {message[0][:100] if message else ''}"
    return None


# ---- template mutants ----------------------------------------------------------------------
@contextlib.contextmanager
def mutated(row: str, index: int, text: str, tree: ast.expr) -> Iterator[None]:
    """RULES[row] with the template `text` of operand `index` replaced by `tree`."""
    rule = RULES[row]
    if rule.computed is None:
        grads = list(rule.grads)
        grads[index] = tree
        RULES[row] = dataclasses.replace(rule, grads=tuple(grads))
    else:
        computed, mutant = rule.computed, ast.unparse(tree)

        def instead(i: int, count: int, statics: dict[str, ast.expr]) -> str:
            written = computed(i, count, statics)
            same = i == index and ast.unparse(ast.parse(written, mode="eval").body) == text
            return mutant if same else written

        RULES[row] = dataclasses.replace(rule, computed=instead)
    try:
        yield
    finally:
        RULES[row] = rule


def template_sites(rows: set[str] | None, reached: set[Site]) -> list[tuple[Site, ast.expr]]:
    """Every fixed template of `rows`, and every computed one the checks reached."""
    sites: list[tuple[Site, ast.expr]] = []
    for name, rule in RULES.items():
        if rows is not None and name not in rows:
            continue
        if rule.computed is None:
            sites += [((name, i, ast.unparse(t)), t) for i, t in enumerate(rule.grads) if t is not None]
        else:
            texts = sorted((i, text) for row, i, text in reached if row == name)
            sites += [((name, i, text), ast.parse(text, mode="eval").body) for i, text in texts]
    return sites


def _operands(rule: Rule, tree: ast.expr) -> list[str]:
    if not rule.variadic:
        return list(rule.args)
    return sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and re.fullmatch(r"x\d+", n.id)})


def _probe_values(rule: Rule) -> dict[str, Any]:
    return {key: ast.literal_eval(default) for key, default in rule.keywords}


def run_templates(rows: set[str] | None, checks: list[Check], report: Report, log: Callable[[str], None]) -> None:
    reached = set().union(*(c.sites for c in checks)) if checks else set()
    for (row, index, text), tree in template_sites(rows, reached):
        rule = RULES[row]
        operands = _operands(rule, tree)
        where = f"{row}[{rule.arg_name(index) if not rule.variadic else index}] {text}"
        reaching = [c for c in checks if (row, index, text) in c.sites]
        dead = None if reaching or not checks else NEVER_INSTANTIATED.get((row, index))
        for mutation in mutants.template_mutations(tree, operands):
            after = ast.unparse(mutation.tree)
            what = f"{mutation.what}: {after}"
            if mutation.equivalent or dead:
                report.outcomes.append(Outcome("template", where, what, "equivalent", mutation.equivalent or dead or ""))
                continue
            with mutated(row, index, text, mutation.tree):
                killer = first_failure(reaching)
            if killer is not None:
                report.outcomes.append(Outcome("template", where, what, "killed", killer))
                continue
            known = EQUIVALENT.get((row, index, after))
            if known:
                report.outcomes.append(Outcome("template", where, what, "equivalent", known))
                continue
            names = [*operands, "g", "out"]
            if mutants.probe_equivalent(tree, mutation.tree, names, rule.kind == "scalar", _probe_values(rule)):
                report.outcomes.append(Outcome("template", where, what, "equivalent", "same values on random points"))
                continue
            why = f"{len(reaching)} checks reach it" if reaching else "no check reaches this template"
            report.outcomes.append(Outcome("template", where, what, "survived", why))
            log(f"  survived: {where}: {what} ({why})")


# ---- accumulation mutants --------------------------------------------------------------------
def run_accumulations(checks: list[Check], report: Report, log: Callable[[str], None]) -> None:
    for patch in mutants.accumulation_patches():
        owner, name, function = mutants.compiled(patch)
        original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        setattr(owner, name, function)
        try:
            killer = first_failure(checks)
        finally:
            setattr(owner, name, original)
        if killer is not None:
            report.outcomes.append(Outcome("accumulation", "codegen/ad/differentiate.py", patch.what, "killed", killer))
        elif patch.equivalent:
            report.outcomes.append(Outcome("accumulation", "codegen/ad/differentiate.py", patch.what, "equivalent", patch.equivalent))
        else:
            report.outcomes.append(Outcome("accumulation", "codegen/ad/differentiate.py", patch.what, "survived", f"{len(checks)} checks ran"))
            log(f"  survived: {patch.what}")


def run(
    rows: set[str] | None = None,
    *,
    own_cases_only: bool = False,
    accumulations: bool = True,
    examples: int = 100,
    log: Callable[[str], None] = lambda line: None,
) -> Report:
    """Mutate the templates of `rows` (all if None) and, if asked, the accumulations.

    With `own_cases_only` the template mutants meet only their rows' own cases
    and the accumulation mutants no random programs (the golden calls, the
    control-flow programs and the cases of a few rows): the quick run.
    """
    report = Report()
    with quiet():
        template_checks = rule_checks(rows if own_cases_only else None)
        if not own_cases_only:
            template_checks += program_checks()
        log(f"baseline: {len(template_checks)} checks")
        baseline(template_checks)
        run_templates(rows, template_checks, report, log)
        if accumulations:
            cases = rule_checks(set(QUICK_ROWS) | set(QUICK_ACCUMULATION_ROWS) if own_cases_only else None)
            accumulation_checks = program_checks(hvp=False) + [c for c in cases if c.name.startswith("rules ")]
            if not own_cases_only:
                accumulation_checks += random_checks(examples)
            log(f"accumulations: {len(accumulation_checks)} checks")
            baseline(accumulation_checks)
            run_accumulations(accumulation_checks, report, log)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rule", action="append", metavar="NAME", help="mutate only this row (repeatable); no accumulations")
    parser.add_argument("--quick", action="store_true", help=f"rows {', '.join(QUICK_ROWS)} against their own cases, and the accumulations")
    parser.add_argument("--examples", type=int, default=100, help="random programs per random suite for the accumulations (100)")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every mutant")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.rule or ()) - set(RULES))
    if unknown:
        parser.error(f"not rows of codegen.ad.rules.RULES: {', '.join(unknown)}")
    start = time.perf_counter()
    rows = set(args.rule) if args.rule else set(QUICK_ROWS) if args.quick else None
    report = run(rows, own_cases_only=args.quick, accumulations=not args.rule, examples=args.examples, log=print)
    for outcome in report.outcomes:
        if args.verbose or outcome.status == "equivalent" and outcome.detail != mutants.COMMUTATIVE:
            print(f"{outcome.status:>10}  {outcome.where}: {outcome.what}  [{outcome.detail}]")
    print(report.table())
    for outcome in report.survivors:
        print(f"SURVIVED  {outcome.where}: {outcome.what}  [{outcome.detail}]")
    print(f"{time.perf_counter() - start:.0f} s")
    return 1 if report.survivors else 0


if __name__ == "__main__":
    sys.exit(main())
