"""What is known statically about shapes: which values share a shape.

Without annotations codegen cannot know an array's shape, but it can often
prove that two values have the same one (`exp(x)` and `x`), that a value is a
Python number, or that one is a keepdims reduction of another. A broadcasting
operation then needs no "sum the gradient back to the operand's shape" step.
"""

from __future__ import annotations

import ast

from codegen import ir
from codegen.infer.dims import Dims
from codegen.read.resolve import is_number

SCALAR = "()"

# Products whose shape the output computes from their operands' shapes, by helper,
# so a product needed only for its shape is never kept.
SHAPED_BY_OPERANDS = {"numpy.dot": "_dot_shape", "numpy.matmul": "_matmul_shape"}
# Rows whose value has their first operand's shape.
_SAME_SHAPE = frozenset({
    "numpy.normalize", "numpy.log_softmax", "numpy.normalize.staged", "numpy.log_softmax.staged", "numpy.flip",
    "numpy.linalg.inv", "numpy.copy", "numpy.normalize.exp", "numpy.normalize.staged.exp",
})  # fmt: skip


class ShapeKeys:
    """Shape keys of a function's values: equal keys mean equal shapes.

    A key is "()" for a Python number, "<=K|axis" for a keepdims reduction over
    `axis` of a value with key K, otherwise the name of a value it shares its
    shape with; None means unknown.
    """

    def __init__(self, numbers: set[str], dims: Dims | None = None) -> None:
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
        if node.rule.name in _SAME_SHAPE:
            return self.key(node.args[0])
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
    if not (isinstance(op, ir.Op) and op.rule.kind == "elementwise" and isinstance(arg, ir.Leaf)):
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

    def __init__(self, numbers: set[str], dims: Dims | None = None) -> None:
        self.numbers = numbers
        self.ranks: dict[str, int] = {}
        self.dims = dims

    def record(self, target: str, value: ir.Node | None) -> None:
        rank = self.rank(value) if value is not None else None
        if rank is None:
            self.ranks.pop(target, None)
        else:
            self.ranks[target] = rank

    def rank(self, node: ir.Node) -> int | None:
        shape = self.dims.shape(node) if self.dims is not None else None
        if shape is not None:
            return len(shape)
        if isinstance(node, ir.Leaf):
            if node.number:
                return 0
            if node.var is None:
                return 0 if is_number(node.expr, self.numbers) else None
            base = self.ranks.get(node.var)
            if node.index is None or base is None:
                return base
            return self.indexed_rank(base, node.index)
        ranks = [self.rank(a) for a in node.args]
        kind, name = node.rule.kind, node.rule.name
        if kind == "scalar":
            return 0
        if kind == "elementwise":
            return None if None in ranks else max(ranks, default=0)  # type: ignore[type-var]
        if kind == "reduce":
            return _reduced_rank(ranks[0], node.keywords)
        if name in ("numpy.matmul", "numpy.dot", "numpy.inner") and None not in ranks:
            return max(ranks[0] + ranks[1] - 2, 0)  # type: ignore[operator]
        if name in (
            "numpy.T", "numpy.mT", "numpy.transpose", "numpy.transpose.axes", "numpy.copy", "numpy.float",
            "setitem", "numpy.normalize", "numpy.log_softmax", "numpy.normalize.staged", "numpy.log_softmax.staged",
            "numpy.flip", "numpy.moveaxis", "numpy.rollaxis", "numpy.pad", "numpy.diff", "numpy.linalg.inv",
            "numpy.normalize.exp", "numpy.normalize.staged.exp",
        ):  # fmt: skip
            return ranks[0]
        if name in ("numpy.linalg.det", "numpy.linalg.slogdet") and ranks[0] is not None:
            return max(ranks[0] - 2, 0)
        if name == "numpy.linalg.solve" and ranks[0] == 2:
            return ranks[1]
        if name == "numpy.reshape":
            shape = node.keywords.get("shape")
            if isinstance(shape, ast.Tuple):
                return len(shape.elts)
            return 1 if shape is not None and is_number(shape, self.numbers) else None
        if name == "numpy.ravel":
            return 1
        return None


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


def _reduced_rank(rank: int | None, keywords: dict[str, ast.expr]) -> int | None:
    axis = keywords.get("axis", ast.Constant(None))
    keepdims = keywords.get("keepdims")
    if isinstance(keepdims, ast.Constant) and keepdims.value is True:
        return rank
    if isinstance(axis, ast.Constant) and axis.value is None:
        return 0
    if rank is None:
        return None
    if isinstance(axis, ast.Tuple):
        return rank - len(axis.elts)
    return rank - 1
