"""Loops over `zip(...)`, `enumerate(...)` and tuples, rewritten as loops over
an index, the form codegen differentiates:

    for x, w in zip(xs, ws):          for i in range(min(len(xs), len(ws))):
        s += x * w                        x = xs[i]
                                          w = ws[i]
                                          s += x * w

`enumerate(xs)` gives its index as the loop variable; `for a, b in pairs:`
unpacks `pairs[i]`. `for c in reversed(xs)` and `for c in xs[::-1]` run over
`reversed(range(len(xs)))` reading `xs[i]`; other slices and attributes
(`for a in v[1:]`, `for col in X.T`) are named before the loop. The new statements carry the `for` statement's position,
so errors point at it and the generated comments quote the user's line. An
iterable that reads a name the body rebinds (`for i, row in enumerate(W):`
then `W = ...`) is bound to a name of its own before the loop, which iterates
over what it was when the loop began, as Python's does.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from codegen.naming import Names
from codegen.read.desugar import located

_Function = ast.FunctionDef | ast.AsyncFunctionDef


def index_loops(function: _Function, taken: set[str]) -> None:
    """Rewrite, in place, every loop of `function` over `zip`, `enumerate` or
    with a tuple target; `taken` are the names the module binds (`zip` rebound
    there is not the builtin)."""
    shadowed = taken | _bound_in(function.body) | {a.arg for a in ast.walk(function) if isinstance(a, ast.arg)}
    names = Names(shadowed | {n.id for n in ast.walk(function) if isinstance(n, ast.Name)})
    blocks = {id(s): block for n in ast.walk(function) for block in _statement_lists(n) for s in block}
    for loop in [n for n in ast.walk(function) if isinstance(n, ast.For)]:
        target = loop.target
        if isinstance(target, ast.Name):
            _over_a_name(loop, blocks.get(id(loop)), names, shadowed)
            continue
        if not _shaped(target, loop.iter, shadowed):
            continue
        block = blocks.get(id(loop))
        if block is not None:
            before = _snapshots(loop, names, shadowed)
            at = next(i for i, s in enumerate(block) if s is loop)
            block[at:at] = before
        first = target.elts[0]
        own = _is_builtin(loop.iter, "enumerate", shadowed) and _start(loop.iter) is None
        if own and isinstance(first, ast.Name) and first.id not in _bound_in(loop.body):
            index = first.id  # `for i, x in enumerate(xs)`: i is the loop's own index
            items = list(_items(target, loop.iter, index, shadowed))[1:]
        else:
            index = names.fresh("i")
            items = list(_items(target, loop.iter, index, shadowed))
        where: ast.AST = loop if hasattr(loop, "lineno") else loop.iter  # a comprehension's loop has no position
        lengths = list(_lengths(loop.iter, shadowed))
        bound = lengths[0] if len(lengths) == 1 else ast.Call(ast.Name("min", ast.Load()), lengths, [])
        loop.iter = located(ast.Call(ast.Name("range", ast.Load()), [bound], []), loop.iter)
        loop.target = ast.copy_location(ast.Name(index, ast.Store()), target)
        loop.body = [located(ast.Assign([t], value), where) for t, value in items] + loop.body


def _over_a_name(loop: ast.For, block: list[ast.stmt] | None, names: Names, shadowed: set[str]) -> None:
    """`for c in reversed(xs)` as a loop over `reversed(range(len(xs)))` reading
    `xs[i]`; `for c in xs[::-1]` (or `x.T`) over a name bound to it before the loop,
    read once as Python reads it."""
    iterable = loop.iter
    backwards = (
        _is_builtin(iterable, "reversed", shadowed)
        and isinstance(iterable, ast.Call)
        and len(iterable.args) == 1
        and not iterable.keywords
        and not _is_builtin(iterable.args[0], "range", shadowed)
    )
    inner = iterable.args[0] if backwards and isinstance(iterable, ast.Call) else iterable
    if _reversing(iterable):  # `xs[::-1]` is reversed(xs), of a list or of an array's rows
        assert isinstance(iterable, ast.Subscript)
        backwards, inner = True, iterable.value
    rebound = isinstance(inner, ast.Name) and inner.id in _bound_in(loop.body)
    if block is not None and (isinstance(inner, (ast.Subscript, ast.Attribute)) or backwards and rebound):
        root = next((n.id for n in ast.walk(inner) if isinstance(n, ast.Name)), "")
        name = names.fresh(f"{root}_items" if root else "items")
        at = next(i for i, s in enumerate(block) if s is loop)
        block.insert(at, located(ast.Assign([ast.Name(name, ast.Store())], inner), loop))
        inner = located(ast.Name(name, ast.Load()), inner)
        loop.iter = inner
    if not backwards or not isinstance(inner, ast.Name):
        return
    index = names.fresh("i")
    length = ast.Call(ast.Name("len", ast.Load()), [inner], [])
    indices = ast.Call(ast.Name("range", ast.Load()), [length], [])
    loop.iter = located(ast.Call(ast.Name("reversed", ast.Load()), [indices], []), iterable)
    item = ast.Subscript(ast.Name(inner.id, ast.Load()), ast.Name(index, ast.Load()), ast.Load())
    loop.body = [located(ast.Assign([_stored(loop.target)], item), loop), *loop.body]
    loop.target = ast.copy_location(ast.Name(index, ast.Store()), loop.target)


def _reversing(iterable: ast.expr) -> bool:
    if not isinstance(iterable, ast.Subscript) or not isinstance(iterable.slice, ast.Slice):
        return False
    key = iterable.slice
    step = key.step
    return key.lower is None and key.upper is None and isinstance(step, ast.UnaryOp) and isinstance(step.op, ast.USub) and (
        isinstance(step.operand, ast.Constant) and step.operand.value == 1
    )


def _statement_lists(node: ast.AST) -> Iterator[list[ast.stmt]]:
    for field in ("body", "orelse", "finalbody"):
        value = getattr(node, field, None)
        if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
            yield value


def _snapshots(loop: ast.For, names: Names, shadowed: set[str]) -> list[ast.stmt]:
    """`W_items = W` before the loop for each iterable of `loop` (an argument of its
    zip or enumerate) that reads a name the body rebinds; the loop then reads those."""
    rebound = _bound_in(loop.body)
    assigned: list[ast.stmt] = []

    def snapshot(iterable: ast.expr) -> ast.expr:
        zipped = _is_builtin(iterable, "zip", shadowed)
        if isinstance(iterable, ast.Call) and (zipped or _is_builtin(iterable, "enumerate", shadowed)):
            count = len(iterable.args) if zipped else 1  # enumerate's start is read once
            iterable.args[:count] = [snapshot(a) for a in iterable.args[:count]]
            return iterable
        if rebound.isdisjoint(n.id for n in ast.walk(iterable) if isinstance(n, ast.Name)):
            return iterable
        name = names.fresh(f"{iterable.id}_items" if isinstance(iterable, ast.Name) else "items")
        assigned.append(located(ast.Assign([ast.Name(name, ast.Store())], iterable), loop))
        return located(ast.Name(name, ast.Load()), iterable)

    loop.iter = snapshot(loop.iter)
    return assigned


def _shaped(target: ast.expr, iterable: ast.expr, names: set[str]) -> bool:
    """Whether the target unpacks what the zip or enumerate yields, item by item."""
    if not isinstance(target, ast.Tuple):
        return isinstance(target, ast.Name)
    if isinstance(iterable, ast.Call) and _is_builtin(iterable, "zip", names):
        return not iterable.keywords and len(target.elts) == len(iterable.args) and all(
            _shaped(t, a, names) for t, a in zip(target.elts, iterable.args)
        )
    if isinstance(iterable, ast.Call) and _is_builtin(iterable, "enumerate", names):
        keywords = [k.arg for k in iterable.keywords]
        arguments = len(iterable.args) + len(keywords)
        return len(target.elts) == 2 and 1 <= len(iterable.args) <= arguments <= 2 and keywords in ([], ["start"]) and (
            isinstance(target.elts[0], ast.Name) and _shaped(target.elts[1], iterable.args[0], names)
        )
    return all(isinstance(e, (ast.Name, ast.Tuple)) for e in target.elts)


def _items(target: ast.expr, iterable: ast.expr, index: str, names: set[str]) -> Iterator[tuple[ast.expr, ast.expr]]:
    """(target, value) assignments that bind `target` to item `index` of `iterable`."""
    if isinstance(target, ast.Tuple) and _is_builtin(iterable, "zip", names):
        assert isinstance(iterable, ast.Call)
        for part, argument in zip(target.elts, iterable.args):
            yield from _items(part, argument, index, names)
    elif isinstance(target, ast.Tuple) and _is_builtin(iterable, "enumerate", names):
        assert isinstance(iterable, ast.Call)
        start = _start(iterable)
        counter: ast.expr = ast.Name(index, ast.Load())
        yield _stored(target.elts[0]), located(ast.BinOp(counter, ast.Add(), start) if start else counter, iterable)
        yield from _items(target.elts[1], iterable.args[0], index, names)
    elif _is_builtin(iterable, "reversed", names) and isinstance(iterable, ast.Call) and len(iterable.args) == 1:
        items = iterable.args[0]  # `zip(reversed(xs), ...)`: item len(xs) - 1 - i of xs
        last = ast.BinOp(ast.Call(ast.Name("len", ast.Load()), [items], []), ast.Sub(), ast.Constant(1))
        position = ast.BinOp(last, ast.Sub(), ast.Name(index, ast.Load()))
        yield _stored(target), located(ast.Subscript(items, position, ast.Load()), iterable)
    else:
        yield _stored(target), located(ast.Subscript(iterable, ast.Name(index, ast.Load()), ast.Load()), iterable)


def _lengths(iterable: ast.expr, names: set[str]) -> Iterator[ast.expr]:
    if isinstance(iterable, ast.Call) and _is_builtin(iterable, "zip", names):
        for argument in iterable.args:
            yield from _lengths(argument, names)
    elif isinstance(iterable, ast.Call) and _is_builtin(iterable, "enumerate", names):
        yield from _lengths(iterable.args[0], names)
    elif isinstance(iterable, ast.Call) and _is_builtin(iterable, "reversed", names) and len(iterable.args) == 1:
        yield from _lengths(iterable.args[0], names)
    else:
        yield ast.Call(ast.Name("len", ast.Load()), [iterable], [])


def _start(call: ast.expr) -> ast.expr | None:
    """The start of `enumerate(xs, k)` or `enumerate(xs, start=k)`; None for 0."""
    if not isinstance(call, ast.Call):
        return None
    starts = call.args[1:2] + [k.value for k in call.keywords if k.arg == "start"]
    if not starts or isinstance(starts[0], ast.Constant) and starts[0].value == 0:
        return None
    return starts[0]


def _stored(target: ast.expr) -> ast.expr:
    if isinstance(target, ast.Tuple):
        return ast.Tuple([_stored(e) for e in target.elts], ast.Store())
    assert isinstance(target, ast.Name)
    return ast.Name(target.id, ast.Store())


def _is_builtin(call: ast.expr, name: str, shadowed: set[str]) -> bool:
    return isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == name and name not in shadowed


def _bound_in(body: list[ast.stmt]) -> set[str]:
    return {n.id for s in body for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
