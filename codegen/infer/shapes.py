"""What is known statically about shapes: which values share a shape.

Without annotations codegen cannot know an array's shape, but it can often
prove that two values have the same one (`exp(x)` and `x`), that a value is a
Python number, or that one is a keepdims reduction of another. A broadcasting
operation then needs no "sum the gradient back to the operand's shape" step.
"""

from __future__ import annotations

import ast
from collections.abc import Container

from codegen import ir
from codegen.infer import shape_rules
from codegen.infer.dims import Dims
from codegen.infer.lattice import ARRAY, Kind
from codegen.read.resolve import is_number

SCALAR = "()"

# Products whose shape the output computes from their operands' shapes, by helper
# (by the row's shape tag), so a product needed only for its shape is never kept.
SHAPE_HELPERS = {"dot": "_dot_shape", "matmul": "_matmul_shape"}


def shape_helper(node: ir.Node) -> str | None:
    """The helper that computes `node`'s shape from its operands', for a product."""
    return SHAPE_HELPERS.get(node.rule.shape) if isinstance(node, ir.Op) else None


class ShapeKeys:
    """Shape keys of a function's values: equal keys mean equal shapes.

    A key is "()" for a Python number, "<=K|axis" for a keepdims reduction over
    `axis` of a value with key K, otherwise the name of a value it shares its
    shape with; None means unknown.
    """

    def __init__(self, numbers: Container[str], dims: Dims | None = None) -> None:
        self.numbers = numbers
        self.keys: dict[str, str] = {}
        self.dims = dims

    def record(self, target: str, value: ir.Node | None) -> None:
        key = self.key(value) if value is not None else None
        self.keys[target] = SCALAR if target in self.numbers else key or target

    def compared(self, compare: ast.Compare) -> str | None:
        """A comparison of names and numbers (a mask) broadcasts as arithmetic does."""
        keys: set[str | None] = set()
        for operand in (compare.left, *compare.comparators):
            if isinstance(operand, ast.Name) and operand.id not in self.numbers:
                keys.add(self.keys.get(operand.id, operand.id))
            elif not is_number(operand, self.numbers):
                return None
        keys.discard(SCALAR)
        return keys.pop() if len(keys) == 1 and None not in keys else SCALAR if not keys else None

    def key(self, node: ir.Node) -> str | None:
        if isinstance(node, ir.Leaf):
            if node.number:
                return SCALAR
            if node.var is not None and node.index is None:
                return self.keys.get(node.var, node.var)
            if isinstance(node.expr, ast.Compare):
                return self.compared(node.expr)
            if is_number(node.expr, self.numbers):
                return SCALAR
            return self.keys.get(node.expr.id, node.expr.id) if isinstance(node.expr, ast.Name) else None
        tag = node.rule.shape
        if tag == "number":
            return SCALAR
        if tag == "broadcast":
            keys = {self.key(a) for a in node.args} - {SCALAR}
            keys = {k for k in keys if not (k and k.startswith("<=") and k[2:].split("|")[0] in keys)}
            if not keys:
                return SCALAR
            return keys.pop() if len(keys) == 1 and None not in keys else None
        if tag == "same":
            return self.key(node.args[0])
        if tag == "reduce":
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
        "all" (arg is a number), "axis:<axis>" (a keepdims reduction), "dims:<lead>|<kept>"
        (shapes known from annotations), or "helper"."""
        exact = self.dims.summing(arg, op) if self.dims is not None else None
        if exact is not None:
            lead, kept = exact
            return None if not lead and not kept else f"dims:{lead}|{kept}"
        if _only_operand(arg, op):
            return None
        arg_key = self.key(arg)
        out_key = self.key(op)
        if arg_key is not None and arg_key == out_key:
            return None
        if arg_key == SCALAR:
            return "all"
        if arg_key is not None and out_key is not None and arg_key.startswith(f"<={out_key}|"):
            return "axis:" + arg_key.split("|", 1)[1]
        return "helper"


def _only_operand(arg: ir.Node, op: ir.Node) -> bool:
    """Whether `op` is elementwise in `arg`, a part of an array (`x[mask]`), and numbers:
    it has `arg`'s shape, whatever the part's (`0.01 * x[mask]`)."""
    if not (isinstance(op, ir.Op) and op.rule.shape == "broadcast" and isinstance(arg, ir.Leaf)):
        return False
    if arg.var is None or arg.index is None:
        return False
    same = ast.dump(arg.expr)
    for other in op.args:
        if isinstance(other, ir.Leaf) and (ast.dump(other.expr) == same or other.number or _literal(other.expr)):
            continue
        return False
    return True


def _literal(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and type(expr.value) in (int, float)


class Ranks:
    """Numbers of dimensions, where the code tells them: annotations, `N, D =
    x.shape`, reshapes, reductions, and what follows from those."""

    def __init__(self, numbers: Container[str], dims: Dims | None = None) -> None:
        self.numbers = numbers
        self.ranks: dict[str, int] = {}
        self.dims = dims

    def record(self, target: str, value: ir.Node | None) -> None:
        rank = self.rank(value) if value is not None else None
        if rank is None:
            self.ranks.pop(target, None)
        else:
            self.ranks[target] = rank

    def learn(self, target: str | None, kind: Kind) -> None:
        """What the kinds stage proves of `target`'s value where its operations did not tell."""
        if target is not None and target not in self.ranks and kind.what == ARRAY and kind.rank is not None:
            self.ranks[target] = kind.rank

    def rank(self, node: ir.Node) -> int | None:
        shape = self.dims.shape(node) if self.dims is not None else None
        if shape is not None:
            return len(shape)
        if isinstance(node, ir.Leaf):
            if node.number:
                return 0
            if node.var is None and isinstance(node.expr, ast.Name) and node.expr.id not in self.numbers:
                return self.ranks.get(node.expr.id)  # a constant named (`mask`)
            if node.var is None:
                return 0 if is_number(node.expr, self.numbers) else None
            base = self.ranks.get(node.var)
            if node.index is None or base is None:
                return base
            return self.indexed_rank(base, node.index)
        ranks = [self.rank(a) for a in node.args]
        return shape_rules.rank(node.rule.shape, ranks, node.keywords, lambda size: is_number(size, self.numbers))

    def indexed_rank(self, base: int, index: ast.expr) -> int | None:
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        rank = base
        for part in parts:
            if isinstance(part, ast.Slice):
                continue
            if isinstance(part, ast.Constant) and part.value is None:
                rank += 1
            elif isinstance(part, ast.Attribute) and part.attr == "newaxis":
                rank += 1
            elif is_number(part, self.numbers):
                rank -= 1
            else:
                return None  # an array of indices, or Ellipsis: cannot tell
        return rank if rank >= 0 else None
