"""Patterns the lowering turns into one fused operation: the sigmoid `1 / (1 + exp(-z))`,
softmax `e / np.sum(e, axis, keepdims=True)` and log-softmax, and the sum of squares
`np.sum(w * w)`. Recognised in the user's trees, before they are lowered."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeGuard

from codegen.ad.rules import Rule
from codegen.lower.nodes import is_number_literal, slot
from codegen.lower.softmax import int_axis

if TYPE_CHECKING:
    from codegen.lower.normalize import Normaliser


class Patterns:
    """Recognition of the fused patterns, asking a `Normaliser` how names resolve."""

    def __init__(self, n: Normaliser) -> None:
        self.n = n  # the lowering whose names and arrays the patterns are read in

    def softmax_parts(self, node: ast.BinOp) -> tuple[str, ast.Name, ast.expr] | None:
        """("numpy.normalize", e, axis) for `e / np.sum(e, axis, keepdims=True)`, and
        ("numpy.log_softmax", s, axis) for `s - np.log(np.sum(np.exp(s), axis, keepdims=True))`."""
        if not self.n.arrays or not isinstance(node.left, ast.Name):
            return None
        name = node.left.id
        if isinstance(node.op, ast.Div):
            axis = self.kept_sum_axis(node.right, lambda e: isinstance(e, ast.Name) and e.id == name)
            return None if axis is None else ("numpy.normalize", node.left, axis)
        if isinstance(node.op, ast.Sub):
            log = node.right
            if not (_one_argument(log) and self.n.resolve(log.func) == "numpy.log"):
                return None

            def is_exp(e: ast.expr) -> bool:
                if not (_one_argument(e) and self.n.resolve(e.func) == "numpy.exp"):
                    return False
                inner = e.args[0]
                return isinstance(inner, ast.Name) and inner.id == name

            axis = self.kept_sum_axis(log.args[0], is_exp)
            return None if axis is None else ("numpy.log_softmax", node.left, axis)
        return None

    def kept_sum_axis(self, node: ast.expr, operand: Callable[[ast.expr], bool]) -> ast.expr | None:
        """The axis of `np.sum(x, axis=k, keepdims=True)` (or `np.sum(x)`) when `operand(x)`."""
        if not isinstance(node, ast.Call) or self.n.resolve(node.func) != "numpy.sum":
            return None
        positional = node.args
        keywords = {k.arg: k.value for k in node.keywords}
        if len(positional) != 1 or not operand(positional[0]) or set(keywords) - {"axis", "keepdims"}:
            return None
        if "axis" not in keywords:
            return None if "keepdims" in keywords else ast.Constant(None)
        kept = keywords.get("keepdims")
        if not (isinstance(kept, ast.Constant) and kept.value is True):
            return None
        axis = self.n.calls.static(keywords["axis"], "np.sum")
        return axis if int_axis(axis) is not None else None  # `axis=-1` too

    def sigmoid_argument(self, node: ast.BinOp) -> ast.expr | None:
        """`z` when `node` is `1 / (1 + exp(-z))`, spelled with math or numpy."""
        if not isinstance(node.op, ast.Div) or not _is_one(node.left):
            return None
        den = node.right
        if not (isinstance(den, ast.BinOp) and isinstance(den.op, ast.Add)):
            return None
        call = den.right if _is_one(den.left) else den.left if _is_one(den.right) else None
        if not _one_argument(call):
            return None
        if self.n.resolve(call.func) not in ("math.exp", "numpy.exp"):
            return None
        return _negated(call.args[0])

    def sigmoid_spelling(self, node: ast.BinOp) -> ast.expr:
        tree = self.n.copies.to_ast(node)
        assert isinstance(tree, ast.BinOp)
        den = tree.right
        assert isinstance(den, ast.BinOp)
        call = den.right if isinstance(den.right, ast.Call) else den.left
        assert isinstance(call, ast.Call)
        call.args = [ast.UnaryOp(ast.USub(), slot(0))]
        return tree

    def sum_of_squares(self, rule: Rule, operands: list[ast.expr], statics: dict[str, ast.expr]) -> ast.expr | None:
        """`w` when the call is `np.sum(w * w)` or `np.sum(w ** 2)` over all axes (L2 terms)."""
        if rule.name != "numpy.sum" or statics or len(operands) != 1:
            return None
        inner = operands[0]
        if not isinstance(inner, ast.BinOp) or not isinstance(inner.left, ast.Name):
            return None
        if isinstance(inner.op, ast.Mult) and isinstance(inner.right, ast.Name):
            return inner.left if inner.left.id == inner.right.id else None
        if isinstance(inner.op, ast.Pow) and isinstance(inner.right, ast.Constant):
            return inner.left if type(inner.right.value) is int and inner.right.value == 2 else None
        return None


def _negated(node: ast.expr) -> ast.expr | None:
    """`z` when `node` is `-z`, or `-a * b` (which is `-(a * b)`)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return node.operand
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
        left = _negated(node.left)
        if left is not None:
            return ast.BinOp(left, node.op, node.right)
    return None


def with_slot(spelling: ast.expr, operand: str) -> ast.expr:
    """`spelling` with every use of the name `operand` replaced by the operand's slot."""

    class _Slot(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.expr:
            return slot(0) if node.id == operand else node

    return _Slot().visit(spelling)


def with_square_slot(spelling: ast.Call, method: bool) -> ast.Call:
    """`np.sum(w * w)` with `w` replaced by the operand's slot."""
    inner = spelling.func.value if method and isinstance(spelling.func, ast.Attribute) else spelling.args[0]
    assert isinstance(inner, ast.BinOp)
    inner.left = slot(0)
    if isinstance(inner.op, ast.Mult):
        inner.right = slot(0)
    return spelling


def _one_argument(node: ast.expr | None) -> TypeGuard[ast.Call]:
    """Whether `node` is a call with one plain positional argument."""
    return (
        isinstance(node, ast.Call)
        and len(node.args) == 1
        and not node.keywords
        and not isinstance(node.args[0], ast.Starred)
    )


def _is_one(node: ast.expr) -> bool:
    return is_number_literal(node) and node.value == 1.0  # an int or a float
