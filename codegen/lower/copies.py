"""Code that is never differentiated (tests, indices, shapes, constants), copied
into the output as the user wrote it: names renamed to their SSA names, calls of
the module's functions inlined, and random draws named so that they are drawn once."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from codegen import ir
from codegen.lower.nodes import LOAD
from codegen.read import resolve

if TYPE_CHECKING:
    from codegen.lower.normalize import Normaliser


class Copies:
    """Copies of the user's constant expressions, in the current state of a `Normaliser`."""

    def __init__(self, n: Normaliser) -> None:
        self.n = n  # the lowering whose names the copies read

    def to_ast(self, node: ast.expr, hoist: bool = True) -> ast.expr:
        """The user's expression `node`, never differentiated, as the output writes it:
        a copy with the names renamed, and calls to module functions inlined (the
        output does not define them). With `hoist`, each random draw is computed
        first and named, so that code reading the expression again (a derivative,
        a test the backward repeats) reads the same draw."""
        env = self.n.env

        def renamed(name: ast.Name) -> ast.expr:
            return ast.Name(env.get(name.id, name.id), LOAD)

        def inlined(call: ast.Call) -> ast.expr | None:
            if hoist and resolve.is_draw(call, self.n.info, env):
                return ast.Name(self.draw(call), LOAD)
            result = self.n.inlining.inline_constant_call(call)
            return None if result is None else ast.Name(env.get(result, result), LOAD)

        copy = ir.copy_with(node, renamed, inlined)
        assert isinstance(copy, ast.expr)
        return copy

    def draw(self, call: ast.Call) -> str:
        """`rand = np.random.rand(3)` in the current block, the first time the
        statement being lowered copies the call: the name of the draw."""
        if id(call) in self.n.drawn:
            return self.n.drawn[id(call)]
        func = call.func
        target = self.n.staging.new_temp(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "draw"))
        args = [self.to_ast(a) for a in call.args]  # draws among them come first
        keywords = [ast.keyword(k.arg, self.to_ast(k.value)) for k in call.keywords]
        copied = ast.Call(self.to_ast(func), args, keywords)
        self.n.body.append(ir.Plain(ast.Assign([ast.Name(target, ast.Store())], copied), len(self.n.origins) - 1))
        self.n.record_constant(target, copied)  # `np.random.rand(*x.shape)`: x's shape
        self.n.drawn[id(call)] = target
        self.n.draws.add(target)
        return target
