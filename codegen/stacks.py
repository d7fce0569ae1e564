"""Lists that code run forwards only keeps: `xs.append(v)`, `xs.pop()`, `xs[i]`
(part of normalise, in forward mode).

A generated backward saves each iteration's values in one list per variable
and pops them again in its reverse sweep. Forward mode over it (Hessian-vector
products) follows those lists with a tangent list each. Reverse mode would have
to reverse the mutation itself and refuses them.
"""

from __future__ import annotations

import ast

import libcst as cst

from codegen import ir
from codegen.rules import Rule

# `xs.pop()`: linear, its tangent is the tangent list's own pop.
POP = Rule("list.pop", ("xs",), (ast.Name("g", ast.Load()),), kind="other")


def is_append(node: cst.CSTNode) -> bool:
    """Whether `node` is the statement `name.append(value)`."""
    if not isinstance(node, cst.Expr) or not isinstance(node.value, cst.Call):
        return False
    func = node.value.func
    return isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.attr.value == "append"


class StackLowering:
    """`append` and `pop` for `Normaliser` (which provides the rest)."""

    env: dict[str, str]
    active: set[str]
    stacks: set[str]
    body: list[ir.Statement]

    def append_statement(self, node: cst.Expr, origin: int) -> None:
        call = node.value
        assert isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
        assert isinstance(call.func.value, cst.Name)
        listed = self.env.get(call.func.value.value)
        if listed is None:
            raise self.fail(call.func.value, f"append to an unknown list {call.func.value.value!r}")  # type: ignore[attr-defined]
        if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
            raise self.fail(call, "append takes one value")  # type: ignore[attr-defined]
        value = self.lower(call.args[0].value)  # type: ignore[attr-defined]
        if isinstance(value, ir.Op):
            value = self.stage_children(value, origin)  # type: ignore[attr-defined]
            temp = self.new_temp(f"{listed}_item")  # type: ignore[attr-defined]
            self.emit_stage(temp, value, origin)  # type: ignore[attr-defined]
            value = ir.Leaf(ast.Name(temp, ast.Load()), temp)
        if value.var is not None and listed not in self.active:
            if self.is_read(listed):  # type: ignore[attr-defined]
                message = f"{call.func.value.value} is read before a differentiated value is appended to it"
                raise self.fail(call, message)  # type: ignore[attr-defined]
            self.active.add(listed)
            self.stacks.add(listed)
        self.body.append(ir.Append(listed, value, origin))

    def pop_call(self, node: cst.Call) -> ir.Node:
        func = node.func
        assert isinstance(func, cst.Attribute)
        listed = self.env.get(func.value.value) if isinstance(func.value, cst.Name) else None
        if listed is None or listed not in self.stacks:
            raise self.fail(node, "pop is only supported on a named list of differentiated values")  # type: ignore[attr-defined]
        if node.args:
            raise self.fail(node, "only pop() of the last element is supported")  # type: ignore[attr-defined]
        leaf = ir.Leaf(ast.Name(listed, ast.Load()), listed)
        spelling = ast.Call(ast.Attribute(ast.Name("__0__", ast.Load()), "pop", ast.Load()), [], [])
        return ir.Op(POP, [leaf], {}, spelling)
