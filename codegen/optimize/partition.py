"""A gradient assembled from slices that tile its array is written, not accumulated.

The backward of `i = a[:, :H]`, `f = a[:, H:2 * H]`, ... starts `da` as
`np.zeros_like(a)` and adds each slice's gradient with `+=`. When those slices
tile the array (they follow each other along one axis, from the start to the
end, and no other statement touches `da` meanwhile), every element is written
exactly once: `np.empty_like(a)` and `=` do the same work without the zero fill
and the reads, as a hand-written LSTM backward does.

The slices tile only if their bounds never decrease: each bound is read as a sum
of non-negative terms (literals, sizes from `.shape` or `len`, and their
products with literals), and consecutive bounds must compare term by term.
"""

from __future__ import annotations

import ast
from collections import Counter

from codegen import unparse
from codegen.optimize.body import names, statements

Linear = Counter[str]  # term -> non-negative coefficient; "" for the constant


def tile(lines: list[str]) -> list[str]:
    """`lines` (one function body) with tiled gradients written directly."""
    if not any("zeros_like(" in line for line in lines):
        return list(lines)  # nothing to tile: the common case, decided without parsing
    body = statements(lines)
    if body is None:
        return list(lines)
    sizes: set[str] | None = None  # read from all the statements, when first needed
    result = list(lines)
    for start, (at, statement) in enumerate(body):
        zeros = _zeros(statement)
        if zeros is None:
            continue
        name, like = zeros
        contributions = _contributions(body[start + 1 :], name)
        if not contributions:
            continue
        if sizes is None:
            sizes = _sizes([s for _, s in body])
        if _tiles([target.slice for _, target, _ in contributions], sizes):
            result[at] = unparse.statement(ast.Assign([ast.Name(name, ast.Store())], like))
            for line, target, value in contributions:
                result[line] = unparse.statement(ast.Assign([target], value))
    return result


def _zeros(statement: ast.stmt) -> tuple[str, ast.Call] | None:
    """`name = np.zeros_like(x)` (or `..., dtype=float)`): the name, and the same
    call of `empty_like`."""
    if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
        return None
    target, call = statement.targets[0], statement.value
    if not isinstance(target, ast.Name) or not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute):
        return None
    module = call.func.value
    while isinstance(module, ast.Attribute):
        module = module.value
    plain = len(call.args) == 1 and isinstance(call.args[0], ast.Name)
    as_float = all(k.arg == "dtype" and isinstance(k.value, ast.Name) and k.value.id == "float" for k in call.keywords)
    if call.func.attr != "zeros_like" or not isinstance(module, ast.Name) or not plain or len(call.keywords) > 1 or not as_float:
        return None
    return target.id, ast.Call(ast.Attribute(call.func.value, "empty_like", ast.Load()), call.args, call.keywords)


def _sizes(body: list[ast.stmt]) -> set[str]:
    """Names bound only to a `.shape[k]` or a `len(...)`: never negative."""
    binds: Counter[str] = Counter()
    as_size: Counter[str] = Counter()
    for statement in body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                binds[node.id] += 1
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
            if _is_size(statement.value):
                as_size[statement.targets[0].id] += 1
    return {name for name, count in as_size.items() if binds[name] == count}


def _is_size(value: ast.expr) -> bool:
    """`x.shape[k]` or `len(x)`."""
    if isinstance(value, ast.Subscript):
        shape, axis = value.value, value.slice
        return (
            isinstance(shape, ast.Attribute) and shape.attr == "shape" and isinstance(shape.value, ast.Name)
            and isinstance(axis, ast.Constant) and type(axis.value) is int and axis.value >= 0
        )
    return (
        isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "len"
        and len(value.args) == 1 and isinstance(value.args[0], ast.Name) and not value.keywords
    )


def _contributions(after: list[tuple[int, ast.stmt]], name: str) -> list[tuple[int, ast.Subscript, ast.expr]]:
    """The `name[index] += ...` statements of `after` (line, target, value), up to
    the first other use of `name`."""
    found: list[tuple[int, ast.Subscript, ast.expr]] = []
    for at, statement in after:
        if name not in names(statement):
            continue
        target = statement.target if isinstance(statement, ast.AugAssign) else None
        if (
            not isinstance(statement, ast.AugAssign) or not isinstance(statement.op, ast.Add)
            or not isinstance(target, ast.Subscript) or not isinstance(target.value, ast.Name)
            or target.value.id != name or name in names(target.slice) or name in names(statement.value)
        ):
            break
        found.append((at, target, statement.value))
    return found


def _tiles(indices: list[ast.expr], sizes: set[str]) -> bool:
    """Whether the slices follow each other along one axis from start to end."""
    spans: dict[str, ast.expr | None] = {}  # lower bound ("" for the start) -> upper bound (None: the end)
    axis: int | None = None
    for index in indices:
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        partial = [i for i, p in enumerate(parts) if not _is_full(p)]
        piece = parts[partial[0]] if len(partial) == 1 else None
        if not isinstance(piece, ast.Slice) or (axis is not None and partial[0] != axis):
            return False
        axis = partial[0]
        if piece.step is not None:
            return False
        lower = "" if piece.lower is None else unparse.expression(piece.lower)
        if lower in spans or lower == "0" and "" in spans or lower == "" and "0" in spans:
            return False
        spans["" if lower == "0" else lower] = piece.upper
    bound: ast.expr = ast.Constant(0)
    key, visited = "", 0
    while key in spans and visited < len(spans):
        following = spans[key]
        visited += 1
        if following is None:
            return visited == len(spans)
        if not _at_most(bound, following, sizes):
            return False
        bound, key = following, unparse.expression(following)
    return False


def _is_full(part: ast.expr) -> bool:
    return isinstance(part, ast.Slice) and part.lower is None and part.upper is None and part.step is None


def _at_most(low: ast.expr, high: ast.expr, sizes: set[str]) -> bool:
    """Whether `low <= high` for every non-negative value of the sizes."""
    a, b = _linear(low, sizes), _linear(high, sizes)
    return a is not None and b is not None and all(b[term] >= coefficient for term, coefficient in a.items())


def _linear(bound: ast.expr, sizes: set[str]) -> Linear | None:
    """`bound` as non-negative coefficients of sizes, or None."""

    def read(node: ast.expr) -> Linear | None:
        if isinstance(node, ast.Constant) and type(node.value) is int and node.value >= 0:
            return Counter({"": node.value})
        if isinstance(node, ast.Name) and node.id in sizes:
            return Counter({node.id: 1})
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = read(node.left), read(node.right)
            return None if left is None or right is None else left + right
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            left, right = read(node.left), read(node.right)
            if left is None or right is None:
                return None
            for scale, other in ((left, right), (right, left)):
                if set(scale) <= {""}:
                    return Counter({term: scale[""] * c for term, c in other.items()})
        return None

    return read(bound)
