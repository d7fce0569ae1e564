"""Symbolic shapes from annotations: `x: "N D"`, `Float[np.ndarray, "N D"]`,
or `N, D = x.shape`.

A dimension is a symbol (a name), a literal int, or None (unknown). With both
an operand's and a result's shape fully known, a broadcast gradient is summed
back exactly (`db = np.sum(dout, axis=0)`) instead of by a generic helper, and
matrix products know their operands' ranks.
"""

from __future__ import annotations

import ast
import keyword
from collections.abc import Container, Sequence

from codegen import ir
from codegen.infer.shape_rules import reshaped_rank
from codegen.read.resolve import is_number

Dim = str | int | None
Shape = tuple[Dim, ...]


def parse_dims(text: str) -> Shape | None:
    """`"N D"` -> ("N", "D"); `"3 N"` -> (3, "N"); `"_ N"`, `"#N N"`, `"N+1 N"`
    -> (None, "N"): one dimension of unknown size; `"*batch N"` or `"... N"`
    -> None: jaxtyping's any number of dimensions, so not even the rank is known."""
    dims: list[Dim] = []
    for word in text.split():
        if word.startswith("*") or word == "...":
            return None
        if word.isdigit():
            dims.append(int(word))
        elif word.isidentifier() and not word.startswith("_") and not keyword.iskeyword(word):
            dims.append(word)
        else:
            dims.append(None)
    return tuple(dims)


def known(shape: Shape | None) -> bool:
    return shape is not None and all(d is not None for d in shape)


def broadcast(shapes: Sequence[Shape]) -> Shape | None:
    """numpy's broadcasting of shapes whose dimensions are symbols."""
    rank = max((len(s) for s in shapes), default=0)
    result: list[Dim] = []
    for i in range(rank):
        dims = {s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0}
        dims.discard(1)
        if not dims:
            result.append(1)
        elif len(dims) == 1:
            result.append(dims.pop())
        else:
            result.append(None)  # different symbols: equal only at run time
    return tuple(result)


class Dims:
    """The symbolic shapes of a function's values."""

    def __init__(self, numbers: Container[str]) -> None:
        self.numbers = numbers
        self.shapes: dict[str, Shape] = {}

    def record(self, target: str, value: ir.Node | None) -> None:
        shape = self.shape(value) if value is not None else None
        if shape is None:
            self.shapes.pop(target, None)
        else:
            self.shapes[target] = shape

    def shape(self, node: ir.Node) -> Shape | None:
        if isinstance(node, ir.Leaf):
            return self.leaf(node)
        return self.combine(node, [self.shape(a) for a in node.args])

    def leaf(self, node: ir.Leaf) -> Shape | None:
        if node.var is None and isinstance(node.expr, ast.Name) and node.expr.id not in self.numbers:
            return self.shapes.get(node.expr.id)  # a constant named (`mask`)
        if node.var is None and node.index is not None and isinstance(node.expr, ast.Subscript):
            named = node.expr.value  # a part of a constant (`buf[:, 0]` of `buf = np.zeros(...)`)
            base = self.shapes.get(named.id) if isinstance(named, ast.Name) else None
            return None if base is None else self.indexed(base, node.index)
        if node.var is None:
            return () if is_number(node.expr, self.numbers) else None
        base = self.shapes.get(node.var)
        if node.index is None or base is None:
            return base
        return self.indexed(base, node.index)

    def combine(self, node: ir.Op, shapes: list[Shape | None]) -> Shape | None:
        """The shape of `node`'s value from its operands' shapes."""
        tag = node.rule.shape
        first = shapes[0] if shapes else None
        if tag == "number":
            return ()
        if tag == "broadcast":
            known = [s for s in shapes if s is not None]
            return broadcast(known) if len(known) == len(shapes) else None
        if tag == "reduce":
            return _reduced(first, node.keywords)
        if tag in ("matmul", "dot"):
            return _product(shapes[0], shapes[1])
        if tag == "inner":
            return _inner(shapes[0], shapes[1])
        if tag == "reversed" and first is not None:
            return tuple(reversed(first))
        if tag == "same":
            return first
        if tag == "same-rank" and first is not None:
            return (None,) * len(first)
        if tag == "ravel":
            return (None,)
        if tag == "det" and first is not None:
            return first[:-2]
        if tag == "solve" and first is not None and len(first) == 2:
            return shapes[1]
        if tag == "reshape":
            return self.reshaped(node.keywords.get("shape"))
        if tag == "diag" and first is not None and len(first) in (1, 2):
            return _diag(first, node.keywords.get("k", ast.Constant(0)))
        return None

    def indexed(self, base: Shape, index: ast.expr) -> Shape | None:
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        result: list[Dim] = []
        position = 0
        for part in parts:
            if isinstance(part, ast.Constant) and part.value is None:
                result.append(1)
                continue
            if position >= len(base):
                return None
            if isinstance(part, ast.Slice):
                whole = part.lower is None and part.upper is None and part.step is None
                result.append(base[position] if whole else None)
            elif not is_number(part, self.numbers):
                return None  # an array of indices
            position += 1
        return tuple(result) + base[position:]

    def reshaped(self, shape: ast.expr | None) -> Shape | None:
        if shape is None or reshaped_rank([shape], lambda size: is_number(size, self.numbers)) is None:
            return None  # np.shape(x), a tuple built at run time: not even the rank is known
        elements = shape.elts if isinstance(shape, (ast.Tuple, ast.List)) else [shape]
        dims: list[Dim] = []
        for element in elements:
            if isinstance(element, ast.Constant) and type(element.value) is int and element.value >= 0:
                dims.append(element.value)
            elif isinstance(element, ast.Name) and element.id in self.numbers:
                dims.append(element.id)
            else:
                dims.append(None)
        return tuple(dims)

    def summing(self, arg: ir.Node, op: ir.Node) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
        """With both shapes known: (leading axes to sum away, axes to sum keeping
        them) that take a gradient of `op`'s shape to `arg`'s; None if unknown."""
        small, big = self.shape(arg), self.shape(op)
        if not known(small) or not known(big) or len(small) > len(big):  # type: ignore[arg-type]
            return None
        assert small is not None and big is not None
        lead = len(big) - len(small)
        kept = tuple(i for i, d in enumerate(small) if d == 1 and big[lead + i] != 1)
        if any(d != big[lead + i] and d != 1 for i, d in enumerate(small)):
            return None
        return tuple(range(lead)), kept


def _reduced(shape: Shape | None, keywords: dict[str, ast.expr]) -> Shape | None:
    if shape is None:
        return None
    axis = keywords.get("axis", ast.Constant(None))
    keepdims = keywords.get("keepdims")
    kept = isinstance(keepdims, ast.Constant) and keepdims.value is True
    if isinstance(axis, ast.Constant) and axis.value is None:
        return tuple(1 for _ in shape) if kept else ()
    try:
        value = ast.literal_eval(axis)
    except ValueError:
        return None
    axes = value if isinstance(value, tuple) else (value,)
    if not all(isinstance(a, int) for a in axes):
        return None
    axes = tuple(a % len(shape) for a in axes) if shape else ()
    if kept:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _product(x: Shape | None, y: Shape | None) -> Shape | None:
    if x is None or y is None or len(x) > 2 or len(y) > 2 or not x or not y:
        return None
    if len(x) == 2 and len(y) == 2:
        return (x[0], y[1])
    if len(x) == 2:
        return (x[0],)
    if len(y) == 2:
        return (y[1],)
    return ()


def _inner(x: Shape | None, y: Shape | None) -> Shape | None:
    """`np.inner(x, y)`: x's dimensions but the last, then y's but the last; a number
    operand multiplies."""
    if x is None or y is None:
        return None
    if not x or not y:
        return x or y
    return x[:-1] + y[:-1]


def _diag(shape: Shape, k: ast.expr) -> Shape:
    """np.diag(x, k) of an x of `shape`: a vector's matrix, a matrix's diagonal."""
    offset = k.value if isinstance(k, ast.Constant) and type(k.value) is int else None
    if len(shape) == 2:
        rows, cols = shape
        if offset is None or not isinstance(rows, int) or not isinstance(cols, int):
            return (None,)
        return (max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols)),)
    (size,) = shape
    if offset == 0:
        return (size, size)
    side = size + abs(offset) if isinstance(size, int) and offset is not None else None
    return (side, side)
