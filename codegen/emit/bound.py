"""Which names generated code may read where no path bound them.

A name the forward binds in one branch only may be read after the `if` (a loop's
copy of its entry value, the zero of its gradient): Python raises there unless it
was bound before, so the emitter binds it to None first. An `if` whose test is
written again (the backward re-tests the forward's conditions, which keep their
values) binds in each branch what the first one with that test bound; a loop is
taken to bind what its body binds, as the code it comes from does.
"""

from __future__ import annotations

import ast

from codegen.naming import nodes


def maybe_unbound(lines: list[str], params: set[str]) -> list[str]:
    """The names `lines` (a function body taking `params`) read at some point where
    a path may not have bound them, that they bind somewhere."""
    tree = ast.parse("\n".join(lines) or "pass")
    reader = _Reader()
    reader.block(tree.body, set(params))
    bound = {n.id for n in nodes(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return sorted(reader.unsure & bound)


class _Reader:
    def __init__(self) -> None:
        self.unsure: set[str] = set()
        self.tests: dict[str, tuple[set[str], set[str]]] = {}  # test text -> names each branch bound

    def block(self, statements: list[ast.stmt], sure: set[str]) -> set[str]:
        """Names surely bound after `statements`, given those before (a new set)."""
        sure = set(sure)
        for statement in statements:
            self.statement(statement, sure)
        return sure

    def reads(self, node: ast.AST | None, sure: set[str]) -> None:
        if node is None:
            return
        for name in nodes(node):
            if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Load) and name.id not in sure:
                self.unsure.add(name.id)

    def statement(self, statement: ast.stmt, sure: set[str]) -> None:
        """Note what `statement` reads where a path may not have bound it, and add
        to `sure` (in place: copying it per statement made long functions quadratic)
        what it surely binds."""
        if isinstance(statement, ast.If):
            self.reads(statement.test, sure)
            text = ast.unparse(statement.test)
            earlier = self.tests.get(text)
            then_in, else_in = (sure | earlier[0], sure | earlier[1]) if earlier else (sure, sure)
            then_out = self.block(statement.body, then_in)
            else_out = self.block(statement.orelse, else_in)
            if earlier is None:
                self.tests[text] = (then_out - sure, else_out - sure)
            sure |= then_out & else_out
        elif isinstance(statement, (ast.For, ast.While)):
            if isinstance(statement, ast.For):
                self.reads(statement.iter, sure)
                sure |= _stored(statement.target)
            else:
                self.reads(statement.test, sure)
            sure |= self.block(statement.body, sure)
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            sure.add(statement.name)
        elif isinstance(statement, ast.AugAssign):
            self.reads(statement.value, sure)
            self.reads(statement.target, sure)
            if isinstance(statement.target, ast.Name) and statement.target.id not in sure:
                self.unsure.add(statement.target.id)
        elif isinstance(statement, (ast.Assign, ast.AnnAssign)):
            self.reads(statement.value, sure)
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                self.reads(target, sure)  # subscripts and attributes read their base
            sure.update(n for t in targets for n in _stored(t))
        else:
            self.reads(statement, sure)


def _stored(target: ast.AST) -> set[str]:
    return {n.id for n in nodes(target) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
