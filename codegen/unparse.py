"""`ast.unparse`, faster, for the expressions and simple statements codegen writes.

`ast.unparse` goes through a NodeVisitor, a precedence table keyed by node and
a context manager per bracket; a long function's backward unparses tens of
thousands of statements. This writes the common kinds of node directly, with
the very same text (precedence, brackets and spacing; tests/test_source.py
compares the two), and hands anything else to `ast.unparse` whole.

One difference, never met in the trees codegen builds: `ast.unparse` keys its
precedences by node, so a node object used twice in one tree may be
bracketed by its other use; here every use is written for its own place.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable
from typing import Any

# ast._Precedence, in order.
_TUPLE, _YIELD, _TEST, _OR, _AND, _NOT, _CMP, _EXPR = 2, 3, 4, 5, 6, 7, 8, 9
_ARITH, _TERM, _FACTOR, _POWER, _ATOM = 13, 14, 15, 16, 18

_BINOPS: dict[type[ast.operator], tuple[str, int]] = {
    ast.Add: ("+", _ARITH),
    ast.Sub: ("-", _ARITH),
    ast.Mult: ("*", _TERM),
    ast.MatMult: ("@", _TERM),
    ast.Div: ("/", _TERM),
    ast.Mod: ("%", _TERM),
    ast.FloorDiv: ("//", _TERM),
    ast.Pow: ("**", _POWER),
    ast.LShift: ("<<", 12),
    ast.RShift: (">>", 12),
    ast.BitOr: ("|", _EXPR),
    ast.BitXor: ("^", 10),
    ast.BitAnd: ("&", 11),
}
_UNARY: dict[type[ast.unaryop], tuple[str, int]] = {
    ast.USub: ("-", _FACTOR),
    ast.UAdd: ("+", _FACTOR),
    ast.Invert: ("~", _FACTOR),
    ast.Not: ("not ", _NOT),
}
_COMPARE: dict[type[ast.cmpop], str] = {
    ast.Eq: " == ",
    ast.NotEq: " != ",
    ast.Lt: " < ",
    ast.LtE: " <= ",
    ast.Gt: " > ",
    ast.GtE: " >= ",
    ast.Is: " is ",
    ast.IsNot: " is not ",
    ast.In: " in ",
    ast.NotIn: " not in ",
}
_INFINITY = "1e" + repr(sys.float_info.max_10_exp + 1)


class _Unsupported(Exception):
    """A node this module does not write: `ast.unparse` writes the whole tree."""


def expression(node: ast.expr) -> str:
    """`ast.unparse(node)` for an expression."""
    try:
        return _expr(node, _TEST)
    except _Unsupported:
        return ast.unparse(node)


def statement(node: ast.stmt) -> str:
    """`ast.unparse(node)` for a statement (its `lineno`, which `ast.unparse`
    reads for an assignment's type comment, must be set)."""
    try:
        return _statement(node)
    except _Unsupported:
        return ast.unparse(node)


def _statement(node: ast.stmt) -> str:
    if isinstance(node, ast.Assign) and node.type_comment is None:
        targets = "".join(f"{_expr(target, _TUPLE)} = " for target in node.targets)
        return targets + _expr(node.value, _TEST)
    if isinstance(node, ast.AugAssign):
        op = _BINOPS[node.op.__class__][0]
        return f"{_expr(node.target, _TEST)} {op}= {_expr(node.value, _TEST)}"
    if isinstance(node, ast.Expr):
        return _expr(node.value, _YIELD)
    if isinstance(node, ast.Return):
        value = node.value
        return "return" if value is None else f"return {_expr(value, _TEST)}"
    raise _Unsupported


def _expr(node: ast.expr, precedence: int) -> str:
    """`node` written where an operator of `precedence` binds it."""
    if isinstance(node, ast.Name):  # most nodes: no call
        return node.id
    writer = _WRITERS.get(node.__class__)
    if writer is None:
        raise _Unsupported
    return writer(node, precedence)


def _constant(node: ast.Constant, precedence: int) -> str:
    value = node.value
    if isinstance(value, tuple) or value is ...:
        raise _Unsupported
    prefix = "u" if node.kind == "u" else ""
    if isinstance(value, (float, complex)):
        return prefix + repr(value).replace("inf", _INFINITY).replace("nan", f"({_INFINITY}-{_INFINITY})")
    return prefix + repr(value)


def _binop(node: ast.BinOp, precedence: int) -> str:
    op, own = _BINOPS[node.op.__class__]
    if own == _POWER:  # right-associative
        text = f"{_expr(node.left, own + 1)} {op} {_expr(node.right, own)}"
    else:
        text = f"{_expr(node.left, own)} {op} {_expr(node.right, own + 1)}"
    return f"({text})" if precedence > own else text


def _unaryop(node: ast.UnaryOp, precedence: int) -> str:
    op, own = _UNARY[node.op.__class__]
    text = op + _expr(node.operand, own)
    return f"({text})" if precedence > own else text


def _compare(node: ast.Compare, precedence: int) -> str:
    text = _expr(node.left, _CMP + 1) + "".join(
        _COMPARE[op.__class__] + _expr(right, _CMP + 1) for op, right in zip(node.ops, node.comparators)
    )
    return f"({text})" if precedence > _CMP else text


def _boolop(node: ast.BoolOp, precedence: int) -> str:
    own = _AND if isinstance(node.op, ast.And) else _OR
    word = " and " if own == _AND else " or "
    # As ast.unparse does: each operand binds one level tighter than the one before.
    text = word.join(_expr(value, min(own + i, _ATOM)) for i, value in enumerate(node.values, 1))
    return f"({text})" if precedence > own else text


def _ifexp(node: ast.IfExp, precedence: int) -> str:
    text = f"{_expr(node.body, _OR)} if {_expr(node.test, _OR)} else {_expr(node.orelse, _TEST)}"
    return f"({text})" if precedence > _TEST else text


def _attribute(node: ast.Attribute, precedence: int) -> str:
    value = node.value
    space = " " if isinstance(value, ast.Constant) and isinstance(value.value, int) else ""
    return f"{_expr(value, _ATOM)}{space}.{node.attr}"


def _call(node: ast.Call, precedence: int) -> str:
    parts = [_expr(arg, _TEST) for arg in node.args]
    for keyword in node.keywords:
        value = _expr(keyword.value, _TEST)
        parts.append(f"**{value}" if keyword.arg is None else f"{keyword.arg}={value}")
    return f"{_expr(node.func, _ATOM)}({', '.join(parts)})"


def _subscript(node: ast.Subscript, precedence: int) -> str:
    index = node.slice
    if isinstance(index, ast.Tuple) and index.elts:
        text = _items(index.elts)
    else:
        text = _expr(index, _TEST)
    return f"{_expr(node.value, _ATOM)}[{text}]"


def _slice(node: ast.Slice, precedence: int) -> str:
    lower = "" if node.lower is None else _expr(node.lower, _TEST)
    upper = "" if node.upper is None else _expr(node.upper, _TEST)
    return f"{lower}:{upper}" if node.step is None else f"{lower}:{upper}:{_expr(node.step, _TEST)}"


def _items(elements: list[ast.expr]) -> str:
    if len(elements) == 1:
        return _expr(elements[0], _TEST) + ","
    return ", ".join(_expr(element, _TEST) for element in elements)


def _tuple(node: ast.Tuple, precedence: int) -> str:
    text = _items(node.elts)
    return f"({text})" if not node.elts or precedence > _TUPLE else text


def _list(node: ast.List, precedence: int) -> str:
    return f"[{', '.join(_expr(element, _TEST) for element in node.elts)}]"


def _starred(node: ast.Starred, precedence: int) -> str:
    return "*" + _expr(node.value, _EXPR)


_WRITERS: dict[type[ast.AST], Callable[[Any, int], str]] = {
    ast.Constant: _constant,
    ast.BinOp: _binop,
    ast.UnaryOp: _unaryop,
    ast.Compare: _compare,
    ast.BoolOp: _boolop,
    ast.IfExp: _ifexp,
    ast.Attribute: _attribute,
    ast.Call: _call,
    ast.Subscript: _subscript,
    ast.Slice: _slice,
    ast.Tuple: _tuple,
    ast.List: _list,
    ast.Starred: _starred,
}
