"""Python's containers and conveniences, for the normaliser: list and tuple
displays, the values a tuple assignment unpacks, slogdet's (sign, logdet)
pair, and local aliases of math and numpy functions (`exp = math.exp`)."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from codegen import ir
from codegen.ad.rules import RULES

if TYPE_CHECKING:
    from codegen.lower.normalize import Normaliser

_LOAD = ast.Load()


class ContainerLowering:
    """Displays, unpacking and local aliases, lowered for a `Normaliser`."""

    def __init__(self, n: Normaliser) -> None:
        self.n = n  # the lowering these displays and aliases are lowered in

    def lower_display(self, node: ast.List | ast.Tuple) -> ir.Node:
        """`[1.0, a * a, 3.0]`: a list (or tuple) whose entries carry their own gradients."""
        if any(isinstance(e, ast.Starred) for e in node.elts):
            raise self.n.fail(node, "starred elements in a list are not supported")
        args = [self.n.lower(e) for e in node.elts]
        container = ast.List if isinstance(node, ast.List) else ast.Tuple
        return ir.Op(RULES["list"], args, {}, container([ast.Name(f"__{i}__", _LOAD) for i in range(len(args))], _LOAD))

    def slogdet_parts(self, call: ast.expr) -> tuple[ir.Leaf, ir.Node] | None:
        """`np.linalg.slogdet(a)` as (its sign, never differentiated; its logdet)."""
        if not (isinstance(call, ast.Call) and self.n.resolve(call.func) == "numpy.linalg.slogdet"):
            return None
        sign = ir.Leaf(ast.Subscript(self.n.copies.to_ast(call), ast.Constant(0), _LOAD))
        self.n.logdet_call = True
        try:
            logdet = self.n.lower(call)
        finally:
            self.n.logdet_call = False
        if isinstance(logdet, ir.Op):
            logdet.spelling = ast.Subscript(logdet.spelling, ast.Constant(1), _LOAD)
        return sign, logdet

    def note_callable(self, target: str, expr: ast.expr) -> None:
        """Remember that `target` names a math or numpy function, `expr` (a local alias)."""
        if isinstance(expr, (ast.Name, ast.Attribute)):
            name = self.n.resolve(expr)
            if name is not None and name.startswith(("math.", "numpy.")) and name != "numpy.random.":
                self.n.callables[target] = name

    def unpacked(self, value: ast.expr, count: int) -> list[ast.expr] | None:
        """The `count` values a tuple assignment takes from `value`: a tuple's elements,
        `x[0], x[1]` of an array or list `x`, `f(a), f(b)` of `map(f, (a, b))`."""
        if isinstance(value, (ast.Tuple, ast.List)):
            return list(value.elts) if len(value.elts) == count else None
        if isinstance(value, ast.Call):
            if self.n.resolve(value.func) != "map" or len(value.args) != 2 or value.keywords:
                return None
            items = value.args[1]
            if not isinstance(items, (ast.Tuple, ast.List)) or len(items.elts) != count:
                return None
            return [ast.copy_location(ast.Call(value.args[0], [item], []), item) for item in items.elts]
        if isinstance(value, (ast.Starred, ast.Dict, ast.Set)) or not self.n.activity.is_active(value):
            return None
        return [ast.copy_location(ast.Subscript(value, ast.Constant(i), _LOAD), value) for i in range(count)]
