"""Item writes in place where nothing else sees the array.

The forward writes `a[index] = v` as a new version of `a`: `a_1 = a.copy();
a_1[index] = v`, and the backward zeroes the written part of a gradient the same
way. In a loop over T steps that copies the whole array at every step: O(T^2).
The copy is only needed where the old array is seen again: read later under
another name, kept in a list or a cache, or the caller's. This pass turns
`new = old.copy()` into `new = old` where none of that can happen.

A may-point-to analysis of the function's text decides it: every value is a set
of allocation sites (the statement that made it, a parameter, a name from
outside); views, list appends and unknown calls keep their operands' sites. The
write is in place when no site of `old` came from outside or reached an
unknown call, and no other name that may share a site is read afterwards
(liveness). Two moves help it apply: the pair sinks past later statements of
its block that cannot tell (so a view taken before it is no longer read after
it), and an array carried into a loop from outside is copied once before the
loop, so that the loop owns it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from codegen.infer.shapes import SHAPE_HELPERS
from codegen.optimize.sharing import (
    Context,
    analyse,
    closure,
    mutated,
    names,
    scatter_target,
    stored,
)

Loops = list[ast.For | ast.While]
Found = tuple[list[ast.stmt], int, Loops]  # a candidate's block, position and enclosing loops


def write_in_place(lines: list[str], params: Iterable[str], helpers: dict[str, str] | None = None) -> list[str]:
    """`lines` (a function body) with the copies before item writes dropped where sound.
    `helpers` spells the generated helpers (`_unbroadcast` may be renamed)."""
    spelled = helpers or {}
    context = Context(
        tuple(params),
        frozenset(spelled.get(n, n) for n in SHAPE_HELPERS.values()),
        frozenset(spelled.get(n, n) for n in ("_unbroadcast", "_spread_back")),
    )
    if not any(".copy()" in line for line in lines):
        return lines  # nothing to write in place: no analysis (long straight-line functions)
    try:
        ast.parse("\n".join(lines))
    except SyntaxError:
        return lines
    tried: set[tuple[str, int]] = set()
    while True:
        body = ast.parse("\n".join(lines)).body
        analysis = analyse(body, context)
        if not analysis.ok:
            return lines
        changed = False
        for block, position in _candidates(body):
            key = (ast.unparse(block[position]), _count_before(body, block[position]))
            if key in tried:
                continue
            tried.add(key)
            attempt = _attempt(lines, context, key)
            if attempt is not None:
                lines, changed = attempt, True
                break
        if not changed:
            return lines


def _count_before(body: list[ast.stmt], statement: ast.stmt) -> int:
    """Which occurrence of its own text `statement` is, in the order `_find` counts."""
    text = ast.unparse(statement)
    count = 0
    for node in _in_order(body):
        if node is statement:
            return count
        if isinstance(node, ast.Assign) and ast.unparse(node) == text:
            count += 1
    return count


def _in_order(block: list[ast.stmt]) -> list[ast.stmt]:
    """Every statement, nested ones right after the statement holding them."""
    found: list[ast.stmt] = []
    for statement in block:
        found.append(statement)
        for inner in _blocks(statement):
            found += _in_order(inner)
    return found


def _find(body: list[ast.stmt], key: tuple[str, int]) -> Found | None:
    """The block, position and enclosing loops of the candidate `key`."""
    text, wanted = key
    count = 0

    def search(block: list[ast.stmt], loops: Loops) -> Found | None:
        nonlocal count
        for i, statement in enumerate(block):
            if isinstance(statement, ast.Assign) and ast.unparse(statement) == text:
                if count == wanted:
                    return block, i, loops
                count += 1
            for inner in _blocks(statement):
                found = search(inner, [*loops, statement] if isinstance(statement, (ast.For, ast.While)) else loops)
                if found is not None:
                    return found
        return None

    return search(body, [])


def _attempt(lines: list[str], context: Context, key: tuple[str, int]) -> list[str] | None:
    """`lines` with the candidate `key` written in place (sunk, maybe with a copy
    hoisted before its outermost loop), or None when that is not sound."""
    plain = _sunk(lines, context, key)
    if plain is not None and _safe(plain, context, key):
        return _without_copy(plain, key)
    body = ast.parse("\n".join(lines)).body
    found = _find(body, key)
    if found is None or not found[2]:
        return None
    hoisted = _hoisted(lines, body, context, found)
    if hoisted is None:
        return None
    sunk = _sunk(hoisted, context, key)
    if sunk is not None and _safe(sunk, context, key):
        return _without_copy(sunk, key)
    return None


def _pair(block: list[ast.stmt], i: int) -> tuple[str, str] | None:
    """(new, old) when block[i:i+2] is `new = old.copy()` and `new[index] = ...` / `+= ...`
    / `np.add.at(new, index, ...)`."""
    if i + 1 >= len(block):
        return None
    first, second = block[i], block[i + 1]
    if not (isinstance(first, ast.Assign) and len(first.targets) == 1 and isinstance(first.targets[0], ast.Name)):
        return None
    value = first.value
    copy = (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr == "copy"
        and isinstance(value.func.value, ast.Name)
        and not value.args
        and not value.keywords
    )
    if not copy or first.lineno != first.end_lineno:
        return None
    assert isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and isinstance(value.func.value, ast.Name)
    new, old = first.targets[0].id, value.func.value.id
    target = second.targets[0] if isinstance(second, ast.Assign) and len(second.targets) == 1 else None
    target = second.target if isinstance(second, ast.AugAssign) else target
    if isinstance(second, ast.Expr) and isinstance(second.value, ast.Call):
        scattered = scatter_target(second.value, {})
        if scattered is not None and scattered.id == new:
            return new, old
    if not (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and target.value.id == new):
        return None
    return new, old


def _candidates(body: list[ast.stmt]) -> list[tuple[list[ast.stmt], int]]:
    found: list[tuple[list[ast.stmt], int]] = []

    def search(block: list[ast.stmt]) -> None:
        for i, statement in enumerate(block):
            if _pair(block, i) is not None:
                found.append((block, i))
            for inner in _blocks(statement):
                search(inner)

    search(body)
    return found


def _blocks(statement: ast.stmt) -> list[list[ast.stmt]]:
    if isinstance(statement, (ast.For, ast.While, ast.If)):
        return [statement.body, statement.orelse]
    return []


# ---- the moves ---------------------------------------------------------------------------


def _sunk(lines: list[str], context: Context, key: tuple[str, int]) -> list[str] | None:
    """`lines` with the pair moved down its block past the statements that neither
    read its new name nor touch what it reads or may share."""
    body = ast.parse("\n".join(lines)).body
    found = _find(body, key)
    if found is None:
        return None
    block, i, _ = found
    pair = _pair(block, i)
    if pair is None:
        return None
    new, old = pair
    analysis = analyse(body, context)
    if not analysis.ok:
        return None
    write = block[i + 1]
    reads = names(write) | {old}
    state = analysis.before.get(id(block[i]), {})
    touched = set(closure(state.get(old, frozenset()), analysis))
    for name in reads:
        touched |= closure(state.get(name, frozenset()), analysis)
    end = i + 2
    while end < len(block):
        statement = block[end]
        if not isinstance(statement, (ast.Assign, ast.AugAssign, ast.Expr)):
            break
        if new in names(statement):
            break
        if stored(statement) & (reads | {new}):
            break
        here = analysis.before.get(id(statement), {})
        if any(closure(here.get(name, frozenset()), analysis) & touched for name in mutated(statement)):
            break
        end += 1
    if end == i + 2:
        return lines
    first, last = block[i].lineno - 1, block[i + 1].end_lineno or block[i + 1].lineno
    after = block[end - 1].end_lineno or block[end - 1].lineno
    moved = lines[first:last]
    return lines[:first] + lines[last:after] + moved + lines[after:]


def _hoisted(lines: list[str], body: list[ast.stmt], context: Context, found: Found) -> list[str] | None:
    """`lines` with `c = c.copy()` before the outermost loop around the candidate,
    `c` the name the loop carries into the array the candidate copies."""
    block, i, loops = found
    pair = _pair(block, i)
    assert pair is not None
    name = pair[1]
    current, position = block, i
    for depth in range(len(loops) - 1, -1, -1):
        name = _copied_from(current[:position], name)
        if depth > 0:
            current = loops[depth - 1].body
            if loops[depth] not in current:
                return None
            position = current.index(loops[depth])
    outermost = loops[0]
    if outermost not in body or not (name in context.params or _bound_before(body[: body.index(outermost)], name)):
        return None  # the copy must find the name bound, whether or not the loop runs
    indent = " " * outermost.col_offset
    line = outermost.lineno - 1
    return lines[:line] + [f"{indent}{name} = {name}.copy()"] + lines[line:]


def _bound_before(statements: list[ast.stmt], name: str) -> bool:
    return any(isinstance(s, ast.Assign) and name in stored(s) for s in statements)


def _copied_from(statements: list[ast.stmt], name: str) -> str:
    """The name `name` was last copied from by a plain `name = other` among `statements`."""
    for statement in reversed(statements):
        if isinstance(statement, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in statement.targets):
            if isinstance(statement.value, ast.Name):
                name = statement.value.id
            else:
                return name
    return name


def _without_copy(lines: list[str], key: tuple[str, int]) -> list[str]:
    body = ast.parse("\n".join(lines)).body
    found = _find(body, key)
    assert found is not None
    block, i, _ = found
    pair = _pair(block, i)
    assert pair is not None
    new, old = pair
    line = block[i].lineno - 1
    indent = " " * block[i].col_offset
    replacement = [] if new == old else [f"{indent}{new} = {old}"]
    return lines[:line] + replacement + lines[line + 1 :]


def _safe(lines: list[str], context: Context, key: tuple[str, int]) -> bool:
    """Whether the candidate `key` may write into its old array itself."""
    body = ast.parse("\n".join(lines)).body
    found = _find(body, key)
    if found is None:
        return False
    block, i, _ = found
    pair = _pair(block, i)
    if pair is None:
        return False
    new, old = pair
    analysis = analyse(body, context)
    if not analysis.ok:
        return False
    state = analysis.before.get(id(block[i]), {})
    write = block[i + 1]
    if isinstance(write, ast.Expr) and isinstance(write.value, ast.Call) and scatter_target(write.value, state) is None:
        return False  # `m.add.at(...)` of a local m: not numpy's
    sites = state.get(old, frozenset())
    if sites & analysis.escaped:
        return False
    live = analysis.live_after.get(id(block[i + 1]), frozenset())
    return not any(closure(state.get(name, frozenset()), analysis) & sites for name in live if name != new)
