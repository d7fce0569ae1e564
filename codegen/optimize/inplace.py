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
from dataclasses import dataclass, field

from codegen.ad import operations

Sites = frozenset[str]
State = dict[str, Sites]
_IMMUTABLE_ATTRIBUTES = frozenset({"shape", "ndim", "size", "dtype"})
_NUMBER_BUILTINS = frozenset({"len", "range", "reversed", "float", "int", "bool", "abs", "isinstance", "round"})
_SIZES = frozenset({"shape", "ndim", "size"})  # np.shape(a): a tuple of ints, nothing shared
_ADDS_TO_RECEIVER = frozenset({"append", "extend", "insert"})
Loops = list[ast.For | ast.While]
Found = tuple[list[ast.stmt], int, Loops]  # a candidate's block, position and enclosing loops


@dataclass(frozen=True)
class _Context:
    """The function's parameters, and how its helpers are spelled."""

    params: tuple[str, ...]
    sizes: frozenset[str]  # helpers that return shapes
    first_only: frozenset[str]  # helpers whose result shares only their first argument


@dataclass
class _Analysis:
    """Sites per name before each statement, sites that escaped, liveness after."""

    before: dict[int, State] = field(default_factory=dict)
    escaped: set[str] = field(default_factory=set)
    elements: dict[str, set[str]] = field(default_factory=dict)  # what each site's object holds
    live_after: dict[int, frozenset[str]] = field(default_factory=dict)
    ok: bool = True
    sizes: frozenset[str] = frozenset()
    first_only: frozenset[str] = frozenset()


def write_in_place(lines: list[str], params: Iterable[str], helpers: dict[str, str] | None = None) -> list[str]:
    """`lines` (a function body) with the copies before item writes dropped where sound.
    `helpers` spells the generated helpers (`_unbroadcast` may be renamed)."""
    spelled = helpers or {}
    context = _Context(
        tuple(params),
        frozenset(spelled.get(n, n) for n in ("_dot_shape", "_matmul_shape")),
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
        analysis = _analyse(body, context)
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


def _attempt(lines: list[str], context: _Context, key: tuple[str, int]) -> list[str] | None:
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
    """(new, old) when block[i:i+2] is `new = old.copy()` and `new[index] = ...` / `+= ...`."""
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


def _sunk(lines: list[str], context: _Context, key: tuple[str, int]) -> list[str] | None:
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
    analysis = _analyse(body, context)
    if not analysis.ok:
        return None
    write = block[i + 1]
    reads = _names(write) | {old}
    state = analysis.before.get(id(block[i]), {})
    touched = set(_closure(state.get(old, frozenset()), analysis))
    for name in reads:
        touched |= _closure(state.get(name, frozenset()), analysis)
    end = i + 2
    while end < len(block):
        statement = block[end]
        if not isinstance(statement, (ast.Assign, ast.AugAssign, ast.Expr)):
            break
        if new in _names(statement):
            break
        if _stored(statement) & (reads | {new}):
            break
        here = analysis.before.get(id(statement), {})
        if any(_closure(here.get(name, frozenset()), analysis) & touched for name in _mutated(statement)):
            break
        end += 1
    if end == i + 2:
        return lines
    first, last = block[i].lineno - 1, block[i + 1].end_lineno or block[i + 1].lineno
    after = block[end - 1].end_lineno or block[end - 1].lineno
    moved = lines[first:last]
    return lines[:first] + lines[last:after] + moved + lines[after:]


def _hoisted(lines: list[str], body: list[ast.stmt], context: _Context, found: Found) -> list[str] | None:
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
    return any(isinstance(s, ast.Assign) and name in _stored(s) for s in statements)


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


def _safe(lines: list[str], context: _Context, key: tuple[str, int]) -> bool:
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
    analysis = _analyse(body, context)
    if not analysis.ok:
        return False
    state = analysis.before.get(id(block[i]), {})
    sites = state.get(old, frozenset())
    if sites & analysis.escaped:
        return False
    live = analysis.live_after.get(id(block[i + 1]), frozenset())
    return not any(_closure(state.get(name, frozenset()), analysis) & sites for name in live if name != new)


# ---- the analyses ---------------------------------------------------------------------------


def _analyse(body: list[ast.stmt], context: _Context) -> _Analysis:
    params = context.params
    analysis = _Analysis(sizes=context.sizes, first_only=context.first_only)
    try:
        while True:  # until what the containers hold settles too
            held = {site: set(inner) for site, inner in analysis.elements.items()}
            state: State = {name: frozenset({f"param:{name}"}) for name in params}
            analysis.escaped |= {f"param:{name}" for name in params}
            _points_to(body, state, analysis)
            if held == analysis.elements:
                break
        analysis.escaped = set(_closure(frozenset(analysis.escaped), analysis))
        _liveness(body, frozenset(), analysis)
    except _Unknown:
        analysis.ok = False
    return analysis


class _Unknown(Exception):
    """A statement the analysis does not model: nothing is written in place."""


def _closure(sites: Sites, analysis: _Analysis) -> Sites:
    """`sites` and everything they hold, transitively (a list's arrays)."""
    seen = set(sites)
    todo = list(sites)
    while todo:
        for inner in analysis.elements.get(todo.pop(), ()):
            if inner not in seen:
                seen.add(inner)
                todo.append(inner)
    return frozenset(seen)


def _hold(holders: Sites, sites: Sites, analysis: _Analysis) -> None:
    for holder in holders:
        analysis.elements.setdefault(holder, set()).update(sites)


def _inside(sites: Sites, analysis: _Analysis) -> Sites:
    return frozenset().union(*(analysis.elements.get(s, ()) for s in sites))


def _new(site: str, holding: Sites, analysis: _Analysis) -> Sites:
    _hold(frozenset({site}), holding, analysis)
    return frozenset({site})


def _flows(expr: ast.expr | None, state: State, site: str, analysis: _Analysis) -> Sites:
    """The sites the value of `expr` may be or be a view of (`site` for what it makes anew)."""
    if expr is None or isinstance(expr, ast.Constant):
        return frozenset()
    if isinstance(expr, ast.Name):
        if expr.id not in state:
            outside = f"global:{expr.id}"
            analysis.escaped.add(outside)
            return frozenset({outside})
        return state[expr.id]
    if isinstance(expr, (ast.BinOp, ast.UnaryOp, ast.Compare)):
        # A new array or number; a new list or tuple (`[a] * 2`) holds its operands' elements.
        operands = [expr.left, expr.right] if isinstance(expr, ast.BinOp) else []
        held = frozenset().union(*(_inside(_flows(o, state, site, analysis), analysis) for o in operands))
        return _new(site, held, analysis)
    if isinstance(expr, ast.Attribute):
        if expr.attr in _IMMUTABLE_ATTRIBUTES:
            return frozenset()
        return _flows(expr.value, state, site, analysis)
    if isinstance(expr, ast.Subscript):
        whole = _flows(expr.value, state, site, analysis)
        return whole | _inside(whole, analysis)  # a view, or an element
    if isinstance(expr, (ast.IfExp, ast.BoolOp)):
        parts = [expr.body, expr.orelse] if isinstance(expr, ast.IfExp) else expr.values
        return frozenset().union(*(_flows(p, state, site, analysis) for p in parts))
    if isinstance(expr, ast.Call):
        return _call_flows(expr, state, site, analysis)
    # Displays, comprehensions, anything else: a new object holding whatever it names.
    named = [n for n in ast.walk(expr) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]
    held = frozenset().union(*(_flows(n, state, site, analysis) for n in named))
    return _new(site, held | _inside(held, analysis), analysis)


def _call_flows(call: ast.Call, state: State, site: str, analysis: _Analysis) -> Sites:
    func = call.func
    operands = [*call.args, *(k.value for k in call.keywords)]
    if isinstance(func, ast.Name) and (func.id in _NUMBER_BUILTINS or func.id in analysis.sizes):
        return frozenset({site})
    if isinstance(func, ast.Name) and func.id in analysis.first_only and call.args:
        return _flows(call.args[0], state, site, analysis) | {site}  # the gradient itself, or its sum
    if isinstance(func, ast.Attribute):
        receiver = func.value
        is_module = isinstance(receiver, ast.Name) and receiver.id not in state
        if not is_module and func.attr == "copy" and not operands:
            # A new object; a list's copy holds the same elements.
            whole = _flows(receiver, state, site, analysis)
            return _new(site, _inside(whole, analysis), analysis)
        if is_module and func.attr in _SIZES:
            return frozenset()
        if operations.fresh(func.attr) and (is_module or operations.proves_array(func.attr)):
            return frozenset({site})
        if func.attr == "pop" and not is_module:
            whole = _flows(receiver, state, site, analysis)
            return _inside(whole, analysis)
        if not is_module:
            operands.append(receiver)
    kept = frozenset().union(*(_flows(o, state, site, analysis) for o in operands))
    return frozenset({site}) | kept | _inside(kept, analysis)


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _stored(statement: ast.stmt) -> set[str]:
    targets = statement.targets if isinstance(statement, ast.Assign) else []
    targets = [statement.target] if isinstance(statement, (ast.AugAssign, ast.For)) else targets
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _mutated(statement: ast.stmt) -> set[str]:
    """Names whose objects `statement` may change in place."""
    if isinstance(statement, ast.AugAssign):
        target = statement.target
        return _names(target.value if isinstance(target, ast.Subscript) else target)
    if isinstance(statement, ast.Assign):
        bases = [t.value if isinstance(t, ast.Subscript) else t for t in statement.targets if not isinstance(t, ast.Name)]
        return {n for base in bases for n in _names(base)}
    if isinstance(statement, ast.Expr):
        return _names(statement)
    return set()


def _join(a: State, b: State) -> State:
    joined = dict(a)
    for name, sites in b.items():
        joined[name] = joined.get(name, frozenset()) | sites
    return joined


def _points_to(block: list[ast.stmt], state: State, analysis: _Analysis) -> State:
    for statement in block:
        analysis.before[id(statement)] = dict(state)
        site = f"site:{statement.lineno}:{statement.col_offset}"
        if isinstance(statement, ast.Assign):
            sites = _flows(statement.value, state, site, analysis)
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    state[target.id] = sites
                elif isinstance(target, (ast.Tuple, ast.List)):
                    unpacked = sites | _inside(sites, analysis)
                    for name in _names(target):
                        state[name] = unpacked
                elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                    _hold(_flows(target.value, state, site, analysis), sites, analysis)
                else:
                    raise _Unknown
        elif isinstance(statement, ast.AugAssign):
            sites = _flows(statement.value, state, site, analysis)
            target = statement.target
            holder = target.value if isinstance(target, ast.Subscript) else target
            if not isinstance(holder, ast.Name):
                raise _Unknown
            whole = _flows(holder, state, site, analysis)
            # `an_array += e` keeps nothing of e; `a_list += [b]` holds b, an element of e.
            _hold(whole, _inside(sites, analysis), analysis)
            if isinstance(target, ast.Name):
                state[holder.id] = whole | {site}  # in place, or a new number
        elif isinstance(statement, ast.Expr):
            call = statement.value
            if isinstance(call, ast.Constant):
                continue
            if not isinstance(call, ast.Call):
                raise _Unknown
            func = call.func
            operands = [*call.args, *(k.value for k in call.keywords)]
            args = frozenset().union(*(_flows(a, state, site, analysis) for a in operands))
            adds = isinstance(func, ast.Attribute) and func.attr in _ADDS_TO_RECEIVER
            if adds and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in state:
                _hold(state[func.value.id], args | _inside(args, analysis), analysis)
            else:
                # An unknown call may keep or change anything it is given.
                analysis.escaped.update(args)
                if isinstance(func, ast.Attribute):
                    analysis.escaped.update(_flows(func.value, state, site, analysis))
        elif isinstance(statement, ast.If):
            _flows(statement.test, state, site, analysis)
            left = _points_to(statement.body, dict(state), analysis)
            right = _points_to(statement.orelse, dict(state), analysis)
            state.clear()
            state.update(_join(left, right))
        elif isinstance(statement, (ast.For, ast.While)):
            if statement.orelse:
                raise _Unknown
            entry = dict(state)
            while True:
                inside = dict(entry)
                if isinstance(statement, ast.For):
                    if not isinstance(statement.target, ast.Name):
                        raise _Unknown
                    whole = _flows(statement.iter, inside, site, analysis)
                    inside[statement.target.id] = whole | _inside(whole, analysis) | {site}
                else:
                    _flows(statement.test, inside, site, analysis)
                out = _points_to(statement.body, inside, analysis)
                joined = _join(entry, out)
                if joined == entry:
                    break
                entry = joined
            state.clear()
            state.update(entry)
        elif isinstance(statement, ast.Return):
            _flows(statement.value, state, site, analysis)
        elif isinstance(statement, ast.Pass):
            pass
        else:
            raise _Unknown
    return state


def _reads(node: ast.AST | None) -> frozenset[str]:
    if node is None:
        return frozenset()
    return frozenset(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load))


def _liveness(block: list[ast.stmt], live: frozenset[str], analysis: _Analysis) -> frozenset[str]:
    """Names live before `block`, given those live after it; records each statement's live-out."""
    for statement in reversed(block):
        analysis.live_after[id(statement)] = live
        if isinstance(statement, ast.Assign):
            killed = {t.id for t in statement.targets if isinstance(t, ast.Name)}
            killed |= {n for t in statement.targets if isinstance(t, (ast.Tuple, ast.List)) for n in _names(t)}
            live = (live - killed) | _reads(statement)
        elif isinstance(statement, ast.AugAssign):
            live = live | _reads(statement) | _names(statement.target)
        elif isinstance(statement, ast.Expr):
            live = live | _reads(statement)
        elif isinstance(statement, ast.Return):
            live = _reads(statement)
        elif isinstance(statement, ast.Pass):
            pass
        elif isinstance(statement, ast.If):
            left = _liveness(statement.body, live, analysis)
            right = _liveness(statement.orelse, live, analysis)
            live = left | right | _reads(statement.test)
        elif isinstance(statement, (ast.For, ast.While)):
            head = live | (_reads(statement.iter) if isinstance(statement, ast.For) else _reads(statement.test))
            target = _stored(statement) if isinstance(statement, ast.For) else set()
            while True:
                body_in = _liveness(statement.body, head, analysis)
                widened = head | (body_in - target)
                if widened == head:
                    break
                head = widened
            live = head
        else:
            raise _Unknown
    return live
