"""What a block of the user's code binds, read before it is lowered: the names it
assigns (with the value each gets) and its loops' targets, nested blocks included."""

from __future__ import annotations

import ast
from typing import NamedTuple

from codegen.lower.scatter import is_add_at
from codegen.lower.stacks import appended_value


def preorder(body: list[ast.stmt]) -> list[ast.AST]:
    """Every node inside `body`, parents before children, in source order."""
    found: list[ast.AST] = []
    pending: list[ast.AST] = list(reversed(body))
    while pending:
        node = pending.pop()
        found.append(node)
        pending.extend(reversed(list(ast.iter_child_nodes(node))))
    return found


class Bindings:
    """What each statement binds inside it (nested blocks included), read once per
    statement and kept: an enclosing loop joins its statements' lists instead of
    walking nested bodies again, so `n` nested loops read each statement once."""

    def __init__(self) -> None:
        self.memo: dict[int, tuple[ast.stmt, _Found]] = {}

    def assigned_names(self, body: list[ast.stmt]) -> set[str]:
        """Names statements bind anywhere inside, loop targets included."""
        return {name for name, _ in self.assignments(body)} | {name for name, _ in self.loop_targets(body)}

    def assignments(self, body: list[ast.stmt]) -> list[tuple[str, ast.expr]]:
        """(name, value) for every binding of a name inside `body`, in source order;
        `x += v` gives (x, x + v), a tuple binding gives each name the whole
        right-hand side."""
        return [found for statement in body for found in self.of(statement).assignments]

    def loop_targets(self, body: list[ast.stmt]) -> list[tuple[str, ast.expr]]:
        """(name, iterable) for every `for name in iterable:` inside `body`."""
        return [found for statement in body for found in self.of(statement).loop_targets]

    def appends(self, body: list[ast.stmt]) -> list[tuple[str, ast.expr]]:
        """(name, value) for every `name.append(value)` inside `body`."""
        return [found for statement in body for found in self.of(statement).appends]

    def of(self, statement: ast.stmt) -> _Found:
        known = self.memo.get(id(statement))
        if known is not None and known[0] is statement:
            return known[1]
        found = _own(statement)
        for inner in _statements_in(statement):
            nested = self.of(inner)
            found.assignments.extend(nested.assignments)
            found.loop_targets.extend(nested.loop_targets)
            found.appends.extend(nested.appends)
        self.memo[id(statement)] = (statement, found)
        return found


class _Found(NamedTuple):
    assignments: list[tuple[str, ast.expr]]
    loop_targets: list[tuple[str, ast.expr]]
    appends: list[tuple[str, ast.expr]]


def _own(node: ast.stmt) -> _Found:
    """What `node` itself binds, not counting the statements inside it."""
    found = _Found([], [], [])
    if isinstance(node, ast.Assign):
        for target in node.targets:
            found.assignments.extend((name, node.value) for name in _target_names(target))
    elif isinstance(node, ast.AugAssign):
        found.assignments.extend((name, ast.BinOp(node.target, ast.Add(), node.value)) for name in _target_names(node.target))
    elif is_add_at(node):  # np.add.at(a, index, v) binds a new value of a: a plus v
        assert isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
        args = node.value.args
        if len(args) == 3 and isinstance(args[0], ast.Name):
            found.assignments.append((args[0].id, ast.BinOp(args[0], ast.Add(), args[2])))
    if isinstance(node, (ast.For, ast.AsyncFor)) and isinstance(node.target, ast.Name):
        found.loop_targets.append((node.target.id, node.iter))
    appended = appended_value(node)
    if appended is not None:
        found.appends.append(appended)
    return found


def _statements_in(node: ast.AST) -> list[ast.stmt]:
    """The statements directly inside `node`, in source order (through handlers and
    match cases; an expression holds none)."""
    found: list[ast.stmt] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.stmt):
            found.append(child)
        elif not isinstance(child, ast.expr):
            found += _statements_in(child)
    return found


def _target_names(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, (ast.Tuple, ast.List)):
        return [n for e in node.elts for n in _target_names(e)]
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        return [node.value.id]
    if isinstance(node, ast.Starred):
        return _target_names(node.value)
    return []


def bound_names(statement: ast.stmt) -> list[str]:
    """The names the assignments inside `statement` bind (read where it failed)."""
    names: list[str] = []
    for node in preorder([statement]):
        if isinstance(node, ast.Assign):
            names += [n for target in node.targets for n in _names_in(target)]
        elif isinstance(node, ast.AugAssign):
            names += _names_in(node.target)
    return names


def _names_in(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, (ast.Tuple, ast.List)):
        return [n for e in node.elts for n in _names_in(e)]
    return []
