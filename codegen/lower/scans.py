"""What a block of the user's code binds, read before it is lowered: the names it
assigns (with the value each gets) and its loops' targets, nested blocks included."""

from __future__ import annotations

import ast

from codegen.lower.scatter import is_add_at


def assigned_names(body: list[ast.stmt]) -> set[str]:
    """Names statements bind anywhere inside, loop targets included."""
    return {name for name, _ in assignments(body)} | {name for name, _ in loop_targets(body)}


def preorder(body: list[ast.stmt]) -> list[ast.AST]:
    """Every node inside `body`, parents before children, in source order."""
    found: list[ast.AST] = []
    pending: list[ast.AST] = list(reversed(body))
    while pending:
        node = pending.pop()
        found.append(node)
        pending.extend(reversed(list(ast.iter_child_nodes(node))))
    return found


def loop_targets(body: list[ast.stmt]) -> list[tuple[str, ast.expr]]:
    """(name, iterable) for every `for name in iterable:` inside `body`."""
    return [
        (n.target.id, n.iter)
        for n in preorder(body)
        if isinstance(n, (ast.For, ast.AsyncFor)) and isinstance(n.target, ast.Name)
    ]


def assignments(body: list[ast.stmt]) -> list[tuple[str, ast.expr]]:
    """(name, value) for every binding of a name inside `body`; `x += v` gives
    (x, x + v), a tuple binding gives each name the whole right-hand side."""
    found: list[tuple[str, ast.expr]] = []
    for n in preorder(body):
        if isinstance(n, ast.Assign):
            for target in n.targets:
                found += [(name, n.value) for name in _target_names(target)]
        elif isinstance(n, ast.AugAssign):
            found += [(name, ast.BinOp(n.target, ast.Add(), n.value)) for name in _target_names(n.target)]
        elif is_add_at(n):  # np.add.at(a, index, v) binds a new value of a: a plus v
            assert isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)
            args = n.value.args
            if len(args) == 3 and isinstance(args[0], ast.Name):
                found.append((args[0].id, ast.BinOp(args[0], ast.Add(), args[2])))
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
