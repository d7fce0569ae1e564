"""Python's containers and conveniences, for the normaliser: list and tuple
displays, the values a tuple assignment unpacks, slogdet's (sign, logdet)
pair, and local aliases of math and numpy functions (`exp = math.exp`)."""

from __future__ import annotations

import ast
from collections.abc import Callable

from codegen import ir
from codegen.ad.rules import RULES
from codegen.errors import CodegenError

_LOAD = ast.Load()


class ContainerLowering:
    """Methods of `Normaliser` (which provides the attributes declared here)."""

    callables: dict[str, str]  # local name -> the function it stands for
    logdet_call: bool  # lowering np.linalg.slogdet(a) for its logdet alone
    fail: Callable[[ast.AST, str], CodegenError]
    lower: Callable[[ast.expr], ir.Node]
    resolve: Callable[[ast.expr], str | None]
    to_ast: Callable[[ast.expr], ast.expr]
    is_active: Callable[[ast.AST], bool]

    def lower_display(self, node: ast.List | ast.Tuple) -> ir.Node:
        """`[1.0, a * a, 3.0]`: a list (or tuple) whose entries carry their own gradients."""
        if any(isinstance(e, ast.Starred) for e in node.elts):
            raise self.fail(node, "starred elements in a list are not supported")
        args = [self.lower(e) for e in node.elts]
        container = ast.List if isinstance(node, ast.List) else ast.Tuple
        return ir.Op(RULES["list"], args, {}, container([ast.Name(f"__{i}__", _LOAD) for i in range(len(args))], _LOAD))

    def slogdet_parts(self, call: ast.expr) -> tuple[ir.Leaf, ir.Node] | None:
        """`np.linalg.slogdet(a)` as (its sign, never differentiated; its logdet)."""
        if not (isinstance(call, ast.Call) and self.resolve(call.func) == "numpy.linalg.slogdet"):
            return None
        sign = ir.Leaf(ast.Subscript(self.to_ast(call), ast.Constant(0), _LOAD))
        self.logdet_call = True
        try:
            logdet = self.lower(call)
        finally:
            self.logdet_call = False
        if isinstance(logdet, ir.Op):
            logdet.spelling = ast.Subscript(logdet.spelling, ast.Constant(1), _LOAD)
        return sign, logdet

    def note_callable(self, target: str, expr: ast.expr) -> None:
        """Remember that `target` names a math or numpy function, `expr` (a local alias)."""
        if isinstance(expr, (ast.Name, ast.Attribute)):
            name = self.resolve(expr)
            if name is not None and name.startswith(("math.", "numpy.")) and name != "numpy.random.":
                self.callables[target] = name

    def unpacked(self, value: ast.expr, count: int) -> list[ast.expr] | None:
        """The `count` values a tuple assignment takes from `value`: a tuple's elements,
        `x[0], x[1]` of an array or list `x`, `f(a), f(b)` of `map(f, (a, b))`."""
        if isinstance(value, (ast.Tuple, ast.List)):
            return list(value.elts) if len(value.elts) == count else None
        if isinstance(value, ast.Call):
            if self.resolve(value.func) != "map" or len(value.args) != 2 or value.keywords:
                return None
            items = value.args[1]
            if not isinstance(items, (ast.Tuple, ast.List)) or len(items.elts) != count:
                return None
            return [ast.copy_location(ast.Call(value.args[0], [item], []), item) for item in items.elts]
        if isinstance(value, (ast.Starred, ast.Dict, ast.Set)) or not self.is_active(value):
            return None
        return [ast.copy_location(ast.Subscript(value, ast.Constant(i), _LOAD), value) for i in range(count)]
