"""Lists that code run forwards only keeps: `xs.append(v)`, `xs.pop()`, `xs[i]`
(part of normalise, in forward mode).

A generated backward saves each iteration's values in one list per variable
and pops them again in its reverse sweep. Forward mode over it (Hessian-vector
products) follows those lists with a tangent list each. Reverse mode would have
to reverse the mutation itself and refuses them.
"""

from __future__ import annotations

import ast

from codegen import ir
from codegen.ad.rules import Rule

# `xs.pop()`: linear, its tangent is the tangent list's own pop.
POP = Rule("list.pop", ("xs",), (ast.Name("g", ast.Load()),), kind="other")


def is_append(node: ast.AST) -> bool:
    """Whether `node` is the statement `name.append(value)`."""
    if not isinstance(node, ast.Expr) or not isinstance(node.value, ast.Call):
        return False
    func = node.value.func
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.attr == "append"


class StackLowering:
    """`append` and `pop` for `Normaliser` (which provides the rest)."""

    env: dict[str, str]
    active: set[str]
    stacks: set[str]
    body: list[ir.Statement]

    def append_statement(self, node: ast.Expr, origin: int) -> None:
        call = node.value
        assert isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
        assert isinstance(call.func.value, ast.Name)
        listed = self.env.get(call.func.value.id)
        if listed is None:
            raise self.fail(call.func.value, f"append to an unknown list {call.func.value.id!r}")  # type: ignore[attr-defined]
        if len(call.args) != 1 or call.keywords or isinstance(call.args[0], ast.Starred):
            raise self.fail(call, "append takes one value")  # type: ignore[attr-defined]
        value = self.lower(call.args[0])  # type: ignore[attr-defined]
        if isinstance(value, ir.Op):
            value = self.stage_children(value, origin)  # type: ignore[attr-defined]
            temp = self.new_temp(f"{listed}_item")  # type: ignore[attr-defined]
            self.emit_stage(temp, value, origin)  # type: ignore[attr-defined]
            value = ir.Leaf(ast.Name(temp, ast.Load()), temp)
        if value.var is not None and listed not in self.active:
            if self.is_read(listed):  # type: ignore[attr-defined]
                message = f"{call.func.value.id} is read before a differentiated value is appended to it"
                raise self.fail(call, message)  # type: ignore[attr-defined]
            self.active.add(listed)
            self.stacks.add(listed)
        self.body.append(ir.Append(listed, value, origin))

    def pop_call(self, node: ast.Call) -> ir.Node:
        func = node.func
        assert isinstance(func, ast.Attribute)
        listed = self.env.get(func.value.id) if isinstance(func.value, ast.Name) else None
        if listed is None or listed not in self.stacks:
            raise self.fail(node, "pop is only supported on a named list of differentiated values")  # type: ignore[attr-defined]
        if node.args or node.keywords:
            raise self.fail(node, "only pop() of the last element is supported")  # type: ignore[attr-defined]
        leaf = ir.Leaf(ast.Name(listed, ast.Load()), listed)
        spelling = ast.Call(ast.Attribute(ast.Name("__0__", ast.Load()), "pop", ast.Load()), [], [])
        return ir.Op(POP, [leaf], {}, spelling)
