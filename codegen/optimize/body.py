"""A function body's lines read as trees: what the late clean-up passes look at.

The passes keep the lines they leave alone as they were written and rewrite
only the statements they change; what they decide, they decide on the trees.
"""

from __future__ import annotations

import ast

from codegen.naming import nodes


def statements(lines: list[str]) -> list[tuple[int, ast.stmt]] | None:
    """The top-level statements of `lines` (one function body), each with the
    index of the line it starts on; None if the lines do not parse."""
    try:
        body = ast.parse("\n".join(lines)).body
    except SyntaxError:
        return None
    line_of: list[int] = []  # physical line number - 1 -> index in `lines`
    for index, line in enumerate(lines):
        line_of += [index] * (line.count("\n") + 1)
    return [(line_of[statement.lineno - 1], statement) for statement in body]


def names(node: ast.AST) -> set[str]:
    """The names `node` reads or binds."""
    return {n.id for n in nodes(node) if isinstance(n, ast.Name)}


def bound(node: ast.AST) -> set[str]:
    """The names `node` binds."""
    return {n.id for n in nodes(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
