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
import re

from codegen import unparse

_ZEROS = re.compile(r"([A-Za-z_]\w*) = \[0\.0\] \* len\(([A-Za-z_]\w*)\)")
_STORE = re.compile(r"([A-Za-z_]\w*)\[(\d+)\] (\+?)= (.*)")


def write(lines: list[str], lengths: dict[str, int] | None = None) -> list[str]:
    """`lines` (one function body) with list gradients built as literals;
    `lengths`: the lists whose length is known (annotated `w: "3"`), which need no padding."""
    zeros = [(start, match) for start, line in enumerate(lines) if (match := _ZEROS.fullmatch(line))]
    if not zeros:
        return list(lines)
    result: list[str | None] = list(lines)
    bound = [_bound(line) for line in lines]
    for start, match in zeros:
        _rewrite(result, bound, start, match.group(1), match.group(2), (lengths or {}).get(match.group(2)))
    return [part for line in _without_empty_blocks(result) for part in line.split("\n")]


def _rewrite(
    lines: list[str | None], bound: list[set[str] | None], start: int, name: str, like: str, length: int | None
) -> None:
    stores = _stores(lines, start, name)
    if not stores:
        return
    reads = [_names(value) for _, _, _, value in stores]
    first, last = stores[0][0], stores[-1][0]
    if all(not (reads[k] & _union(bound, first, at)) for k, (at, *_) in enumerate(stores)):
        place = first
    elif all(not (reads[k] & _union(bound, at + 1, last + 1)) for k, (at, *_) in enumerate(stores)):
        place = last
    else:
        return
    if any(value is None for value in bound[first:last + 1]):
        return
    elements: dict[int, ast.expr] = {}
    for _, index, add, value in stores:
        tree = ast.parse(value, mode="eval").body
        if index in elements and add:
            tree = ast.BinOp(elements[index], ast.Add(), tree)
        elif index in elements:
            return  # a second `=` to one element: not a sum, leave it be
        elements[index] = tree
    size = max(max(elements) + 1, length or 0)
    items = ", ".join(unparse.expression(elements[i]) if i in elements else "0.0" for i in range(size))
    for at, *_ in stores:
        lines[at] = None
    lines[start] = None
    padding = [f"if len({like}) > {size}:", f"    {name} += [0.0] * (len({like}) - {size})"]
    lines[place] = "\n".join([f"{name} = [{items}]", *(padding if length is None else [])])


def _stores(lines: list[str | None], start: int, name: str) -> list[tuple[int, int, bool, str]]:
    """The `name[k] = ...` / `name[k] += ...` lines after `start`, up to the first other use of `name`."""
    found: list[tuple[int, int, bool, str]] = []
    word = re.compile(rf"\b{re.escape(name)}\b")
    for at in range(start + 1, len(lines)):
        line = lines[at]
        if line is None or line.lstrip().startswith("#") or not word.search(line):
            continue
        match = _STORE.fullmatch(line)
        if match is None or match.group(1) != name or word.search(match.group(4)):
            break
        found.append((at, int(match.group(2)), bool(match.group(3)), match.group(4)))
    return found


def _names(expression: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(expression, mode="eval")) if isinstance(node, ast.Name)}


def _bound(line: str) -> set[str] | None:
    """Names a top-level simple statement binds or mutates; None for anything else."""
    if line.lstrip().startswith("#"):
        return set()
    if line[:1].isspace():
        return None
    try:
        tree = ast.parse(line)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr)):
        return None
    statement = tree.body[0]
    if isinstance(statement, ast.Expr):
        return None if any(isinstance(node, ast.Call) for node in ast.walk(statement)) else set()
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    return {node.id for target in targets for node in ast.walk(target) if isinstance(node, ast.Name)}


def _union(bound: list[set[str] | None], begin: int, end: int) -> set[str]:
    names: set[str] = set()
    for found in bound[begin:end]:
        names |= found or set()
    return names


def _without_empty_blocks(lines: list[str | None]) -> list[str]:
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
            following = next((other for other in lines[i + 1:] if other is not None), None)
            if following is None or following.startswith("#") or following.startswith("return "):
                continue
        result.append(line)
    return result
