"""What is known statically about shapes: which values share a shape.

Without annotations codegen cannot know an array's shape, but it can often
prove that two values have the same one (`exp(x)` and `x`), that a value is a
Python number, or that one is a keepdims reduction of another. A broadcasting
operation then needs no "sum the gradient back to the operand's shape" step.
"""

from __future__ import annotations

import ast

from codegen import ir
from codegen.resolve import is_number

SCALAR = "()"


class ShapeKeys:
    """Shape keys of a function's values: equal keys mean equal shapes.

    A key is "()" for a Python number, "<=K|axis" for a keepdims reduction over
    `axis` of a value with key K, otherwise the name of a value it shares its
    shape with; None means unknown.
    """

    def __init__(self, numbers: set[str]) -> None:
        self.numbers = numbers
        self.keys: dict[str, str] = {}

    def record(self, target: str, value: ir.Node | None) -> None:
        key = self.key(value) if value is not None else None
        self.keys[target] = key or target

    def key(self, node: ir.Node) -> str | None:
        if isinstance(node, ir.Leaf):
            if node.var is not None and node.index is None:
                return self.keys.get(node.var, node.var)
            return SCALAR if is_number(node.expr, self.numbers) else None
        kind = node.rule.kind
        if kind == "scalar":
            return SCALAR
        if kind == "elementwise":
            keys = {self.key(a) for a in node.args} - {SCALAR}
            keys = {k for k in keys if not (k and k.startswith("<=") and k[2:].split("|")[0] in keys)}
            if not keys:
                return SCALAR
            return keys.pop() if len(keys) == 1 and None not in keys else None
        if kind == "reduce":
            axis = node.keywords.get("axis", ast.Constant(None))
            keepdims = node.keywords.get("keepdims")
            kept = isinstance(keepdims, ast.Constant) and keepdims.value is True
            none_axis = isinstance(axis, ast.Constant) and axis.value is None
            if none_axis and not kept:
                return SCALAR
            inner = self.key(node.args[0])
            if kept and inner is not None and not none_axis:
                return f"<={inner}|{ast.unparse(axis)}"
        return None

    def summing(self, arg: ir.Node, op: ir.Node) -> str | None:
        """How to sum a gradient of `op`'s shape back to `arg`'s: None (no need),
        "all" (arg is a number), "axis:<axis>" (a keepdims reduction), or "helper"."""
        arg_key = self.key(arg)
        out_key = self.key(op)
        if arg_key is not None and arg_key == out_key:
            return None
        if arg_key == SCALAR:
            return "all"
        if arg_key is not None and out_key is not None and arg_key.startswith(f"<={out_key}|"):
            return "axis:" + arg_key.split("|", 1)[1]
        return "helper"
