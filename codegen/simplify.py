"""Algebraic clean-up of generated expressions: no `* 1`, no `+ 0`, folded constants.

Negative numbers are always kept as `-(constant)`: a negative `ast.Constant`
would unparse as `-2 ** 2`, which Python reads as `-(2 ** 2)`.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable

_FOLD: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
}


def number(node: ast.expr) -> float | None:
    """The value of a numeric literal, `-literal` included; None otherwise."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = number(node.operand)
        return None if inner is None else -inner
    return None


def literal(value: float) -> ast.expr:
    if value < 0:
        return ast.UnaryOp(ast.USub(), ast.Constant(-value))
    return ast.Constant(value)


def _is(node: ast.expr, value: float) -> bool:
    n = number(node)
    return n is not None and n == value


def _negate(node: ast.expr) -> ast.expr:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return node.operand
    return ast.UnaryOp(ast.USub(), node)


class _Simplifier(ast.NodeTransformer):
    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.op, ast.USub):
            value = number(node.operand)
            if value is not None:
                return literal(-value)
            return _negate(node.operand)
        if isinstance(node.op, ast.UAdd):
            return node.operand
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        left, right, op = node.left, node.right, node.op
        a, b = number(left), number(right)
        if a is not None and b is not None and type(op) in _FOLD:
            value = _FOLD[type(op)](a, b)
            if math.isfinite(value):
                return literal(value)
        if isinstance(op, ast.Mult):
            if _is(left, 1):
                return right
            if _is(right, 1):
                return left
            if _is(left, -1):
                return _negate(right)
            if _is(right, -1):
                return _negate(left)
            if isinstance(left, ast.UnaryOp) and isinstance(left.op, ast.USub) and number(left) is None:
                return _negate(self.visit_BinOp(ast.BinOp(left.operand, op, right)))
            if isinstance(right, ast.UnaryOp) and isinstance(right.op, ast.USub) and number(right) is None:
                return _negate(self.visit_BinOp(ast.BinOp(left, op, right.operand)))
            if isinstance(right, ast.BinOp) and isinstance(right.op, ast.Mult):
                # a * (b * c) reads as a * b * c
                inner = self.visit_BinOp(ast.BinOp(left, ast.Mult(), right.left))
                return ast.BinOp(inner, ast.Mult(), right.right)
        if isinstance(op, ast.Div) and _is(right, 1):
            return left
        if isinstance(op, ast.Add):
            if _is(left, 0):
                return right
            if _is(right, 0):
                return left
            if isinstance(right, ast.UnaryOp) and isinstance(right.op, ast.USub):
                return ast.BinOp(left, ast.Sub(), right.operand)
        if isinstance(op, ast.Sub):
            if _is(right, 0):
                return left
            if _is(left, 0):
                return _negate(right)
            if isinstance(right, ast.UnaryOp) and isinstance(right.op, ast.USub):
                return ast.BinOp(left, ast.Add(), right.operand)
        if isinstance(op, ast.Pow) and _is(right, 1):
            return left
        return node


    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        # Reductions in templates default to axis=None.
        node.keywords = [
            k for k in node.keywords if not (k.arg == "axis" and isinstance(k.value, ast.Constant) and k.value.value is None)
        ]
        return node


def simplify(node: ast.expr) -> ast.expr:
    """Return a simpler expression with the same value."""
    return _Simplifier().visit(node)
