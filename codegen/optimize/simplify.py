"""Algebraic clean-up of generated expressions: no `* 1`, no `+ 0`, folded constants.

Negative numbers are always kept as `-(constant)`: a negative `ast.Constant`
would unparse as `-2 ** 2`, which Python reads as `-(2 ** 2)`.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import overload

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


def _negate(node: ast.expr) -> ast.expr:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return node.operand
    return ast.UnaryOp(ast.USub(), node)


@overload
def _visit(node: ast.expr) -> ast.expr: ...
@overload
def _visit(node: ast.AST) -> ast.AST: ...


# A direct walk rather than an ast.NodeTransformer: it runs on every gradient term.
def _visit(node: ast.AST) -> ast.AST:
    if isinstance(node, ast.BinOp):
        return _binop(node)
    if isinstance(node, (ast.Name, ast.Constant)):
        return node
    if isinstance(node, ast.UnaryOp):
        return _unaryop(node)
    if isinstance(node, ast.Call):
        return _call(node)
    _children(node)
    return node


def _children(node: ast.AST) -> None:
    """Every child of `node` simplified in place (as NodeTransformer.generic_visit)."""
    for field in node._fields:
        old = getattr(node, field, None)
        if isinstance(old, list):
            old[:] = [_visit(item) if isinstance(item, ast.AST) else item for item in old]
        elif isinstance(old, ast.AST):
            setattr(node, field, _visit(old))


def _unaryop(node: ast.UnaryOp) -> ast.expr:
    node.operand = _visit(node.operand)
    if isinstance(node.op, ast.USub):
        value = number(node.operand)
        if value is not None:
            return literal(-value)
        return _negate(node.operand)
    if isinstance(node.op, ast.UAdd):
        return node.operand
    return node


def _binop(node: ast.BinOp) -> ast.expr:
    node.left = _visit(node.left)
    node.right = _visit(node.right)
    left, right, op = node.left, node.right, node.op
    a, b = number(left), number(right)
    if a is not None and b is not None and type(op) in _FOLD:
        value = _FOLD[type(op)](a, b)
        if math.isfinite(value):
            return literal(value)
    if isinstance(op, ast.Mult):
        if a == 1:
            return right
        if b == 1:
            return left
        if a == -1:
            return _negate(right)
        if b == -1:
            return _negate(left)
        if isinstance(left, ast.UnaryOp) and isinstance(left.op, ast.USub) and a is None:
            return _negate(_binop(ast.BinOp(left.operand, op, right)))
        if isinstance(right, ast.UnaryOp) and isinstance(right.op, ast.USub) and b is None:
            return _negate(_binop(ast.BinOp(left, op, right.operand)))
        if isinstance(right, ast.BinOp) and isinstance(right.op, ast.Mult):
            # a * (b * c) reads as a * b * c
            inner = _binop(ast.BinOp(left, ast.Mult(), right.left))
            return ast.BinOp(inner, ast.Mult(), right.right)
    if isinstance(op, ast.Div) and b == 1:
        return left
    if isinstance(op, ast.Div) and isinstance(left, ast.UnaryOp) and isinstance(left.op, ast.USub) and a is None:
        return _negate(_binop(ast.BinOp(left.operand, op, right)))  # -a / b is -(a / b), exactly
    if isinstance(op, ast.Add):
        if a == 0:
            return right
        if b == 0:
            return left
        if isinstance(right, ast.UnaryOp) and isinstance(right.op, ast.USub):
            return ast.BinOp(left, ast.Sub(), right.operand)
    if isinstance(op, ast.Sub):
        if b == 0:
            return left
        if a == 0:
            return _negate(right)
        if isinstance(right, ast.UnaryOp) and isinstance(right.op, ast.USub):
            return ast.BinOp(left, ast.Add(), right.operand)
    if isinstance(op, ast.Pow) and b == 1:
        return left
    return node


# Functions whose axis defaults to None (np.sort's, np.diff's, np.take_along_axis's do not).
_AXIS_NONE = frozenset({"sum", "mean", "max", "min", "prod", "var", "std", "norm", "flip", "cumsum", "take"})


def _call(node: ast.Call) -> ast.expr:
    _children(node)
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr == "where" and len(node.args) == 3 and not node.keywords:
        test = _truth(node.args[0])
        if test is not None:  # a rule's np.where(y, y - 1, 1) of a literal y, np.where(2.0 == 0, 1, 2.0)
            return node.args[1] if test else node.args[2]
    if (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")) in _AXIS_NONE:
        node.keywords = [
            k for k in node.keywords if not (k.arg == "axis" and isinstance(k.value, ast.Constant) and k.value.value is None)
        ]
    return node


def _truth(test: ast.expr) -> bool | None:
    """The truth of a literal number, or of `a == b` / `a != b` of two; None otherwise."""
    value = number(test)
    if value is not None:
        return bool(value)
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Eq, ast.NotEq)):
        left, right = number(test.left), number(test.comparators[0])
        if left is not None and right is not None:
            return (left == right) == isinstance(test.ops[0], ast.Eq)
    return None


def simplify(node: ast.expr) -> ast.expr:
    """Return a simpler expression with the same value."""
    return _visit(node)
