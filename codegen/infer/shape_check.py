"""Shape mismatches that are certain, refused with a position before anything is written.

Only what the known shapes prove is an error: two literal sizes that differ
where numpy needs them equal (`"N 3" @ "4 M"`, broadcasting 3 against 4), an
index or a reduction axis beyond an array's number of dimensions, a reshape
to a different number of elements, a matrix product of a scalar. Two
different symbols may be equal at run time, and any symbol may be 1, which
broadcasts: a symbol is never in conflict with anything.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Container, Sequence

from codegen import ir
from codegen.infer.dims import Dims, Shape
from codegen.read.resolve import is_number


def describe(shape: Shape) -> str:
    """`(N, 3)`, `(M,)`, `()`; a dimension of unknown size is `?`."""
    words = ["?" if d is None else str(d) for d in shape]
    return f"({words[0]},)" if len(words) == 1 else f"({', '.join(words)})"


class Either:
    """Membership in any of several sets that keep growing."""

    def __init__(self, *sets: Container[str]) -> None:
        self.sets = sets

    def __contains__(self, name: object) -> bool:
        return any(name in s for s in self.sets)


class ShapeCheck:
    """Proves operations wrong on the shapes that are certain.

    The normaliser's `Dims` also takes a parameter with a number as default
    (`dout=1.0`, `reg=0.1`) for a number; that is a good guess for what to
    emit, but no proof: here only literals, ints (sizes, counters) and
    parameters annotated `int`/`float`/`bool` are numbers, and a value's shape
    is recomputed on that basis as its stage is emitted. Shapes are memoised,
    so that checking every operation of a long expression stays linear.
    """

    def __init__(self, dims: Dims, certain: Container[str]) -> None:
        self.dims = dims
        self.strict = Dims(certain)
        self.records: dict[str, Shape | None] = {}
        self.memo: dict[int, tuple[ir.Op, Shape | None]] = {}

    def record(self, target: str, value: ir.Node) -> None:
        """`target = value` was staged (in each branch: they must agree)."""
        shape = self.shape(value)
        if target in self.records and self.records[target] != shape:
            shape = None
        self.records[target] = shape

    def copy(self, target: str, source: str) -> None:
        """`target = source`, a copy the flow lowering made."""
        self.records[target] = self.known(source) if target not in self.records else None

    def known(self, var: str) -> Shape | None:
        """A variable's shape: what `dims` still knows (a loop may have made it
        forget), as recomputed here where the variable was staged."""
        if var not in self.dims.shapes:
            return None
        return self.records[var] if var in self.records else self.dims.shapes[var]

    def shape(self, node: ir.Node) -> Shape | None:
        if isinstance(node, ir.Leaf):
            if node.var is None:
                return self.strict.leaf(node)
            base = self.known(node.var)
            return base if base is None or node.index is None else self.strict.indexed(base, node.index)
        cached = self.memo.get(id(node))
        if cached is not None and cached[0] is node:
            return cached[1]
        shape = self.strict.combine(node, [self.shape(a) for a in node.args])
        self.memo[id(node)] = (node, shape)
        return shape

    def operation(self, op: ir.Op) -> str | None:
        """Why `op` certainly fails at run time, or None."""
        shapes = [self.shape(a) for a in op.args]
        tag = op.rule.shape
        if tag == "broadcast" and len(shapes) > 1:
            return broadcast_conflict([s for s in shapes if s is not None])
        if tag == "reduce" and shapes[0] is not None:
            return axis_conflict(shapes[0], op.keywords.get("axis"))
        if tag in ("matmul", "dot") and shapes[0] is not None and shapes[1] is not None:
            return product_conflict(shapes[0], shapes[1], tag == "matmul")
        if tag == "reshape" and shapes[0] is not None:
            return reshape_conflict(shapes[0], op.keywords.get("shape"))
        return None

    def index(self, var: str, index: ast.expr) -> str | None:
        """Why indexing `var` with `index` certainly fails, or None."""
        shape = self.known(var)
        return None if shape is None else index_conflict(shape, index, self.strict.numbers)


def broadcast_conflict(shapes: Sequence[Shape]) -> str | None:
    """Two literal sizes other than 1 facing each other (aligned from the right)."""
    rank = max((len(s) for s in shapes), default=0)
    for i in range(1, rank + 1):
        sizes = {s[-i] for s in shapes if len(s) >= i and isinstance(s[-i], int) and s[-i] != 1}
        if len(sizes) > 1:
            a, b = sorted(sizes)[:2]
            listed = " and ".join(describe(s) for s in shapes)
            return f"shapes {listed} do not broadcast: size {a} against {b}"
    return None


def _literal_ints(node: ast.expr | None) -> tuple[int, ...] | None:
    """An axis or shape argument as literal ints: `1`, `-1`, `(0, 2)`; else None."""
    if node is None:
        return None
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    values = value if isinstance(value, tuple) else (value,)
    return values if all(type(v) is int for v in values) else None


def axis_conflict(shape: Shape, axis: ast.expr | None) -> str | None:
    """A reduction over an axis the operand does not have."""
    axes = _literal_ints(axis)
    for a in axes or ():
        if not -len(shape) <= a < len(shape):
            return f"axis {a} is out of range for an array of shape {describe(shape)}"
    return None


def product_conflict(x: Shape, y: Shape, matmul: bool) -> str | None:
    """`x @ y` (or `np.dot`): a scalar operand of `@`, inner sizes that differ,
    stacked matrices whose stack shapes do not broadcast."""
    if matmul and (not x or not y):
        side = "left" if not x else "right"
        return f"the {side} operand of a matrix product is a scalar, of shape ()"
    if not x or not y:
        return None  # np.dot of a scalar multiplies
    inner = y[0] if len(y) == 1 else y[-2]
    if isinstance(x[-1], int) and isinstance(inner, int) and x[-1] != inner:
        return (
            f"matrix product of shapes {describe(x)} and {describe(y)}: "
            f"inner sizes {x[-1]} and {inner} differ"
        )
    if matmul and len(x) > 2 and len(y) > 2:
        conflict = broadcast_conflict([x[:-2], y[:-2]])
        if conflict is not None:
            return f"matrix product of shapes {describe(x)} and {describe(y)}: stacks {conflict}"
    return None


def reshape_conflict(shape: Shape, target: ast.expr | None) -> str | None:
    """A reshape to literal sizes that cannot hold the operand's elements."""
    sizes = _literal_ints(target)
    if sizes is None or any(s < -1 for s in sizes):
        return None
    if sizes.count(-1) > 1:
        return "a reshape can infer only one size (-1)"
    known = math.prod(s for s in sizes if s != -1)
    literal = math.prod(d for d in shape if isinstance(d, int))
    symbolic = any(not isinstance(d, int) for d in shape)
    into = f"cannot reshape an array of shape {describe(shape)}"
    if -1 in sizes:
        if not symbolic and known > 0 and literal % known:
            return f"{into}, {literal} elements, into {describe(sizes)}"
        return None
    if not symbolic and literal != known:
        return f"{into}, {literal} elements, into {describe(sizes)}, {known} elements"
    # With symbols the operand holds `literal` times their product: a multiple of it.
    if symbolic and (known % literal if literal else known):
        return f"{into}, a multiple of {literal} elements, into {describe(sizes)}, {known} elements"
    return None


def index_conflict(shape: Shape, index: ast.expr, numbers: Container[str]) -> str | None:
    """More indices than dimensions, or a literal index beyond a literal size."""
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    taken = 0  # dimensions certainly consumed so far
    exact = True  # whether `taken` is also the position of the next dimension
    for part in parts:
        if isinstance(part, ast.Constant) and part.value is None:
            continue
        if isinstance(part, ast.Attribute) and part.attr == "newaxis":
            continue
        if isinstance(part, ast.Slice):
            taken += 1
        elif is_number(part, numbers):
            position = _literal_ints(part)
            if exact and position is not None and taken < len(shape):
                size = shape[taken]
                if isinstance(size, int) and not -size <= position[0] < size:
                    return f"index {position[0]} is out of range for axis {taken}, of size {size}"
            taken += 1
        else:
            exact = False  # `...` or an index array: it may take any number of dimensions
    if taken > len(shape):
        return f"too many indices: {taken} for an array of shape {describe(shape)}"
    return None
