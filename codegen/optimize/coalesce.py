"""A value computed under one name only to be handed to another: computed under that one.

`dshifted = probs * g` ... `dx = dshifted`, with `dshifted` bound nowhere else and
read nowhere after: the value is computed as `dx` and read as `dx` in between, as
the author writes it. Only top-level statements take part, and nothing between
the two may mention the name taken over (nor be a block mentioning either: its
comments would be lost in the rewrite). The names then hold the same value
wherever either is read, so in-place updates of it change nothing else.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from codegen import unparse
from codegen.optimize.body import names, statements


def coalesce(lines: list[str], keep: Iterable[str] = ()) -> list[str]:
    """`lines` (a backward's statements and comments, its return last) with each
    `b = a` folded into the statement computing `a`. `keep`: names bound outside
    `lines` (parameters), never renamed."""
    kept = frozenset(keep)
    lines = [part for line in lines for part in line.split("\n")]
    while True:
        parsed = statements(lines)
        if parsed is None:
            return lines
        found = _candidate(parsed, kept)
        if found is None:
            return lines
        lines = _folded(lines, parsed, *found)


def _candidate(parsed: list[tuple[int, ast.stmt]], kept: frozenset[str]) -> tuple[int, int, str, str] | None:
    """(position of `a = ...`, position of `b = a`, a, b) of the first fold that is sound."""
    binders: dict[str, int] = {}
    for _, statement in parsed:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                binders[node.id] = binders.get(node.id, 0) + 1
    definitions: dict[str, int] = {}
    for k, (_, statement) in enumerate(parsed):
        alias = _plain_assign(statement)
        if alias is not None and isinstance(alias[1], ast.Name):
            b, a = alias[0], alias[1].id
            d = definitions.get(a)
            if d is not None and a != b and a not in kept and binders.get(a) == 1 and _sound(parsed, d, k, a, b):
                return d, k, a, b
        if alias is not None:
            definitions[alias[0]] = k
    return None


def _plain_assign(statement: ast.stmt) -> tuple[str, ast.expr] | None:
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
        return statement.targets[0].id, statement.value
    return None


def _sound(parsed: list[tuple[int, ast.stmt]], d: int, k: int, a: str, b: str) -> bool:
    """Nothing from `a = ...` to `b = a` mentions b or reads a but to update it in
    place (`a[i] += v`, `np.add.at(a, i, v)`: `b = a` is then its only reader), and
    nothing after reads a."""
    definition = parsed[d][1]
    assert isinstance(definition, ast.Assign)
    if names(definition.value) & {a, b}:
        return False  # `a = f(b)`, or `a = f(a)` of an `a` bound elsewhere
    for _, statement in parsed[d + 1 : k]:
        mentioned = names(statement)
        if b in mentioned or (a in mentioned and not _updates(statement, a)):
            return False
    return not any(a in names(statement) for _, statement in parsed[k + 1 :])


def _updates(statement: ast.stmt, a: str) -> bool:
    """Whether `statement` only writes into `a` in place, reading it nowhere else."""
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        target, others = statement.targets[0], [statement.value]
    elif isinstance(statement, ast.AugAssign):
        target, others = statement.target, [statement.value]
    elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call) and statement.value.args:
        call = statement.value
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr == "at" and isinstance(func.value, ast.Attribute)):
            return False
        target, others = call.args[0], [*call.args[1:], *(k.value for k in call.keywords)]
    else:
        return False
    if isinstance(target, ast.Subscript):
        others.append(target.slice)
        target = target.value
    return isinstance(target, ast.Name) and target.id == a and not any(a in names(o) for o in others)


class _Rename(ast.NodeTransformer):
    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.Name(self.new, node.ctx) if node.id == self.old else node


def _folded(lines: list[str], parsed: list[tuple[int, ast.stmt]], d: int, k: int, a: str, b: str) -> list[str]:
    out = list(lines)
    for line, statement in parsed[d:k]:
        if a in names(statement):
            out[line] = unparse.statement(_Rename(a, b).visit(statement))
    at = parsed[k][0]
    del out[at]
    following = out[at].strip() if at < len(out) else ""
    if following.startswith(("#", "return")) or not following:
        # The comment that stood over `b = a` alone now stands over nothing.
        while at > 0 and out[at - 1].startswith("# backprop") or at > 0 and out[at - 1].startswith("#     "):
            at -= 1
            del out[at]
    return out
