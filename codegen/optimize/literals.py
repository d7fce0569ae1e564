"""A list gradient filled element by element is written as a list literal.

The backward of `dot = w[0] * x[0] + w[1] * x[1] + w[2]` starts `dw` as
`[0.0] * len(w)` and stores `dw[0] = x[0] * ddot`, ... one element at a time.
The notes write `dw = [x[0] * ddot, x[1] * ddot, ddot]`, which is also faster.
A list parameter may be longer than the elements the forward reads, so the
literal is followed by `if len(w) > 3: dw += [0.0] * (len(w) - 3)`: a gradient
has its parameter's length, and the test costs next to nothing. A list whose
length is annotated (`w: "3"`) needs no such test.

Each element's expression moves to where the literal is built: the first store
if every later expression can already be computed there, else the last one if
nothing an earlier expression reads is rebound in between; otherwise the
gradient is left as it is.
"""

from __future__ import annotations

import ast

from codegen import unparse
from codegen.optimize.body import names, statements

Store = tuple[int, int, bool, ast.expr]  # line, element, whether added (`+=`), value


def write(lines: list[str], lengths: dict[str, int] | None = None) -> list[str]:
    """`lines` (one function body) with list gradients built as literals;
    `lengths`: the lists whose length is known (annotated `w: "3"`), which need no padding."""
    if not any("[0.0] * len(" in line for line in lines):
        return list(lines)  # no list gradient: the common case, decided without parsing
    body = statements(lines)
    if body is None:
        return list(lines)
    trees: list[list[ast.stmt]] = [[] for _ in lines]  # the statements starting on each line
    for at, statement in body:
        trees[at].append(statement)
    zeros = [(at, found) for at, found in enumerate(map(_zeros, trees)) if found is not None]
    result: list[str | None] = list(lines)
    moved = [_moved(line, statements) for line, statements in zip(lines, trees)]
    for start, (name, like) in zeros:
        _rewrite(result, trees, moved, start, name, like, (lengths or {}).get(like))
    return [part for line in _without_empty_blocks(result, trees) for part in line.split("\n")]


def _zeros(statements: list[ast.stmt]) -> tuple[str, str] | None:
    """`name = [0.0] * len(like)`: name and like."""
    if len(statements) != 1 or not isinstance(assign := statements[0], ast.Assign) or len(assign.targets) != 1:
        return None
    target, value = assign.targets[0], assign.value
    if not isinstance(target, ast.Name) or not isinstance(value, ast.BinOp) or not isinstance(value.op, ast.Mult):
        return None
    zero, size = value.left, value.right
    if not (isinstance(zero, ast.List) and len(zero.elts) == 1 and _is_zero(zero.elts[0])):
        return None
    if not (isinstance(size, ast.Call) and isinstance(size.func, ast.Name) and size.func.id == "len" and not size.keywords):
        return None
    like = size.args[0] if len(size.args) == 1 else None
    return (target.id, like.id) if isinstance(like, ast.Name) else None


def _is_zero(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is float and node.value == 0.0


def _rewrite(
    lines: list[str | None],
    trees: list[list[ast.stmt]],
    moved: list[set[str] | None],
    start: int,
    name: str,
    like: str,
    length: int | None,
) -> None:
    stores = _stores(lines, trees, start, name)
    if not stores:
        return
    reads = [names(value) for _, _, _, value in stores]
    first, last = stores[0][0], stores[-1][0]
    if all(not (reads[k] & _union(moved, first, at)) for k, (at, *_) in enumerate(stores)):
        place = first
    elif all(not (reads[k] & _union(moved, at + 1, last + 1)) for k, (at, *_) in enumerate(stores)):
        place = last
    else:
        return
    if any(value is None for value in moved[first:last + 1]):
        return
    elements: dict[int, ast.expr] = {}
    for _, index, add, value in stores:
        if index in elements and add:
            value = ast.BinOp(elements[index], ast.Add(), value)
        elif index in elements:
            return  # a second `=` to one element: not a sum, leave it be
        elements[index] = value
    size = max(max(elements) + 1, length or 0)
    items = [elements[i] if i in elements else ast.Constant(0.0) for i in range(size)]
    built: list[ast.stmt] = [ast.Assign([ast.Name(name, ast.Store())], ast.List(items, ast.Load()))]
    if length is None:  # `if len(like) > size: name += [0.0] * (len(like) - size)`
        long = ast.Call(ast.Name("len", ast.Load()), [ast.Name(like, ast.Load())], [])
        test = ast.Compare(long, [ast.Gt()], [ast.Constant(size)])
        rest = ast.BinOp(ast.List([ast.Constant(0.0)], ast.Load()), ast.Mult(), ast.BinOp(long, ast.Sub(), ast.Constant(size)))
        built.append(ast.If(test, [ast.AugAssign(ast.Name(name, ast.Store()), ast.Add(), rest)], []))
    for at, *_ in stores:
        lines[at], trees[at] = None, []
    lines[start], trees[start] = None, []
    lines[place], trees[place] = "\n".join(unparse.statement(statement) for statement in built), built


def _stores(lines: list[str | None], trees: list[list[ast.stmt]], start: int, name: str) -> list[Store]:
    """The `name[k] = ...` / `name[k] += ...` statements after line `start`, up to
    the first other use of `name`."""
    found: list[Store] = []
    for at in range(start + 1, len(lines)):
        if lines[at] is None or not any(name in names(statement) for statement in trees[at]):
            continue
        store = _store(trees[at], name)
        if store is None:
            break
        found.append((at, *store))
    return found


def _store(statements: list[ast.stmt], name: str) -> tuple[int, bool, ast.expr] | None:
    """`name[k] = value` or `name[k] += value`, its value not reading `name`: k, whether added, value."""
    if len(statements) != 1:
        return None
    statement = statements[0]
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        target, add = statement.targets[0], False
    elif isinstance(statement, ast.AugAssign) and isinstance(statement.op, ast.Add):
        target, add = statement.target, True
    else:
        return None
    if not (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and target.value.id == name):
        return None
    index = target.slice
    if not (isinstance(index, ast.Constant) and type(index.value) is int and index.value >= 0) or name in names(statement.value):
        return None
    return index.value, add, statement.value


def _moved(line: str, statements: list[ast.stmt]) -> set[str] | None:
    """Names a top-level simple statement binds or mutates (a comment: none); None
    for anything else, across which no element's expression moves."""
    if line.lstrip().startswith("#"):
        return set()
    if line[:1].isspace() or len(statements) != 1:
        return None
    statement = statements[0]
    if not isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr)):
        return None
    if isinstance(statement, ast.Expr):
        return None if any(isinstance(node, ast.Call) for node in ast.walk(statement)) else set()
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    return {n for target in targets for n in names(target)}


def _union(moved: list[set[str] | None], begin: int, end: int) -> set[str]:
    union: set[str] = set()
    for found in moved[begin:end]:
        union |= found or set()
    return union


def _returns(statements: list[ast.stmt]) -> bool:
    return bool(statements) and isinstance(statements[0], ast.Return)


def _without_empty_blocks(lines: list[str | None], trees: list[list[ast.stmt]]) -> list[str]:
    """The remaining lines, less `# backprop` comments whose block lost all its lines."""
    kept = [line for line in lines if line is not None]
    emptied = {i for i, line in enumerate(lines) if line is None}
    if not emptied:
        return kept
    result: list[str] = []
    for i, line in enumerate(lines):
        if line is None:
            continue
        if line.startswith("# backprop ") and i + 1 in emptied:
            following = next((k for k in range(i + 1, len(lines)) if lines[k] is not None), None)
            if following is None or str(lines[following]).startswith("#") or _returns(trees[following]):
                continue  # nothing, a comment or the return follows
        result.append(line)
    return result
