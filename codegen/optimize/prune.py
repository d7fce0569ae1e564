"""Dead code out of generated functions.

Forward mode writes every staged statement and its tangent, so over a
generated backward it would also recompute values only the original output
needed (the loss a gradient function computes on the way) and copy values
from name to name. `prune` keeps what the returned values depend on
(backward liveness, so a loop-carried value that leads nowhere goes too),
then drops copies `a = b` whose names can simply be merged.

A backward recomputes its forward pass, often including values no gradient
reads (the output itself, when its derivative does not need it): `live_forward`
keeps only the forward statements whose values are read later, as linters ask.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterator

from codegen import ir
from codegen.naming import nodes

Block = list[ast.stmt]


def prune(body: Block, params: frozenset[str] = frozenset(), draws: frozenset[str] = frozenset()) -> Block:
    """`body` (a function's statements) without dead statements and needless copies;
    `params` are bound before it (a copy into one is no single binding); `draws` are
    names bound to random draws, which stay (see `live_forward`)."""
    body, _ = _live_before(body, set(), sweep=True, draws=draws, loops={})
    counts = _assignment_counts(body)
    for name in params:
        counts[name] = counts.get(name, 0) + 1
    _merge_copies(body, counts)
    return _without_empty_blocks(body)


def live_forward(forward: Block, live_after: set[str], draws: frozenset[str] = frozenset()) -> Block:
    """`forward` without the statements whose values nothing reads, given the
    names read after it (blocks are swept too; asserts and calls stay). A random
    draw nothing reads stays as its bare call (`np.random.rand(3)`): the draws after
    it must get the values they get in the forward, for a seeded generator."""
    kept, _ = _live_before(forward, set(live_after), sweep=True, draws=draws, loops={})
    return _without_empty_blocks(kept)


# ---- liveness ------------------------------------------------------------------------
def _loads(*trees: ast.AST | None) -> set[str]:
    return {
        n.id
        for tree in trees
        if tree is not None
        for n in nodes(tree)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }


def _popped(value: ast.expr) -> str | None:
    """`xs` when `value` is `xs.pop()`."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "pop":
        base = value.func.value
        return base.id if isinstance(base, ast.Name) else None
    return None


def _appended(statement: ast.stmt) -> str | None:
    """`xs` when `statement` is `xs.append(v)`."""
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        func = statement.value.func
        if isinstance(func, ast.Attribute) and func.attr == "append" and isinstance(func.value, ast.Name):
            return func.value.id
    return None


def _written(target: ast.expr) -> set[str]:
    """The names an assignment target binds or writes into (`xs[i] = v` writes xs)."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return {name for element in target.elts for name in _written(element)}
    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
        return {target.value.id}
    return set()


def _needed(statement: ast.stmt, live: set[str]) -> bool:
    """Whether `statement` must run, given the names that are live."""
    listed = _appended(statement)
    if listed is not None:
        return listed in live
    if isinstance(statement, ast.Assign):
        popped = _popped(statement.value)
        # A pop keeps a list in step with its appends even when nothing reads the value.
        if popped is not None and popped in live:
            return True
        return any(_written(target) & live for target in statement.targets)
    if isinstance(statement, ast.AugAssign):
        return bool(_written(statement.target) & live)
    return True  # a return, say


def _reads(statement: ast.stmt) -> set[str]:
    if isinstance(statement, ast.Assign):
        subscripts = [t for t in statement.targets if not isinstance(t, ast.Name)]
        return _loads(statement.value, *subscripts)
    if isinstance(statement, ast.AugAssign):
        return _loads(statement.value) | _written(statement.target) | _loads(statement.target)
    return _loads(statement)


def _kills(statement: ast.stmt) -> set[str]:
    if isinstance(statement, ast.Assign):
        return {t.id for t in statement.targets if isinstance(t, ast.Name)}
    return set()


# A loop, and the names live after it and read by its head -> those live at the top
# of every iteration (the loop is kept with it, so that its id is not reused).
Entries = dict[tuple[int, frozenset[str]], tuple[ast.stmt, set[str]]]


def _live_before(
    block: Block, live: set[str], sweep: bool, draws: frozenset[str], loops: Entries
) -> tuple[Block, set[str]]:
    """The names live before `block`, given those live after it (a backward
    dataflow pass); with `sweep`, also the block without its dead statements.
    `live` is copied once and then updated in place: a copy per statement made
    long functions quadratic."""
    live = set(live)
    kept: Block = []
    for statement in reversed(block):
        if isinstance(statement, ast.If):
            body, live_body = _live_before(statement.body, live, sweep, draws, loops)
            orelse, live_else = _live_before(statement.orelse, live, sweep, draws, loops)
            live = live_body | live_else | _loads(statement.test)
            if sweep and (body or orelse):
                statement.body, statement.orelse = body or [ast.Pass()], orelse
                kept.append(statement)
        elif isinstance(statement, (ast.For, ast.While)):
            entry = _loop_entry(statement, live, draws, loops)
            if sweep:
                body, _ = _live_before(statement.body, entry, True, draws, loops)
                if body or isinstance(statement, ast.While):
                    statement.body = body or [ast.Pass()]
                    kept.append(statement)
            live = entry
        elif _needed(statement, live):
            live -= _kills(statement)
            live |= _reads(statement)
            kept.append(statement)
        elif isinstance(statement, ast.Assign) and _written(statement.targets[0]) & draws:
            bare = ast.copy_location(ast.Expr(statement.value), statement)
            live |= _reads(bare)
            kept.append(bare)
    kept.reverse()
    return kept, live


def _loop_entry(statement: ast.For | ast.While, live: set[str], draws: frozenset[str], loops: Entries) -> set[str]:
    """The names live at the top of every iteration of `statement`, given those live
    after it (a fixpoint). Each is kept: the sweep of an enclosing loop asks again
    with what its own fixpoint's last pass asked, and would otherwise run the inner
    fixpoints once more at every level (n nested loops, n * n / 2 bodies)."""
    head = _loads(statement.iter if isinstance(statement, ast.For) else statement.test)
    entry = live | head
    key = (id(statement), frozenset(entry))
    known = loops.get(key)
    if known is not None and known[0] is statement:
        return set(known[1])
    while True:
        _, inner = _live_before(statement.body, entry, False, draws, loops)
        grown = entry | inner
        if grown == entry:
            break
        entry = grown
    loops[key] = (statement, set(entry))
    return entry


# ---- copies --------------------------------------------------------------------------
def _assignment_counts(body: Block) -> dict[str, int]:
    counts: dict[str, int] = {}
    for node in ast.walk(ast.Module(body=body, type_ignores=[])):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            counts[node.id] = counts.get(node.id, 0) + 1
    return counts


def _merge_copies(body: Block, counts: dict[str, int]) -> None:
    """Copies `a = b` with `a` bound once, where `a` can be read as `b`:

    - `b` is bound once too, before the copy in its block, and `a` is not read
      before the copy there: `a` is `b` wherever it is read (after the block,
      both still hold the same value);
    - or every read of `a` follows the copy in its block, before `b` is bound
      again there: `b` is read in those statements instead.
    """
    returned = _loads(*(s for s in body if isinstance(s, ast.Return)))  # their names stay
    mentions = Counter(n.id for s in body for n in ast.walk(s) if isinstance(n, ast.Name))  # kept up to date
    for block in _blocks(body):
        i = 0
        while i < len(block):
            copy = _copy(block[i])
            if copy is not None and copy[0] == copy[1]:
                del block[i]  # `a = a`
                mentions[copy[0]] -= 2
                continue
            if copy is None or copy[0] in returned:
                i += 1
                continue
            new, old = copy
            if _mergeable(block, i, new, old, counts):
                del block[i]
                mentions[old] += mentions.pop(new) - 2  # the copy's two names go
                for statement in body:
                    ir.Rename(new, old).visit(statement)
            elif counts.get(new) == 1 and _reads_until_rebound(block, i, new, old, mentions[new]):
                del block[i]
                mentions[old] += mentions.pop(new) - 2
                for statement in block[i : _rebinding(block, i, old) + 1]:
                    ir.Rename(new, old).visit(statement)
            else:
                i += 1


def _without_empty_blocks(block: Block) -> Block:
    """`block` without the `for` loops and `if`s that merged copies left empty
    (their ranges and tests compute nothing that is kept); `pass` in an empty
    `while`, which may still have to run out, and in an empty branch."""
    kept: Block = []
    for statement in block:
        if isinstance(statement, (ast.If, ast.For, ast.While)):
            statement.body = _without_empty_blocks(statement.body)
            statement.orelse = _without_empty_blocks(statement.orelse)
            if not statement.body and not statement.orelse and not isinstance(statement, ast.While):
                continue
            statement.body = statement.body or [ast.Pass()]
        kept.append(statement)
    return kept


def _rebinding(block: Block, i: int, name: str) -> int:
    """The index of the first statement after `block[i]` that binds `name` (or the end)."""
    for j in range(i + 1, len(block)):
        if any(isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id == name for n in ast.walk(block[j])):
            return j
    return len(block)


def _reads_until_rebound(block: Block, i: int, new: str, old: str, total: int) -> bool:
    """Whether every read of `new` is in `block[i + 1 : j + 1]`, `block[j]` being the
    statement that binds `old` again (a simple statement: it reads before it binds);
    `total`: how often the whole body names `new`."""
    j = _rebinding(block, i, old)
    if j < len(block) and isinstance(block[j], (ast.If, ast.For, ast.While)):
        window = block[i + 1 : j]
    else:
        window = block[i + 1 : j + 1]
    inside = sum(1 for s in window for n in ast.walk(s) if isinstance(n, ast.Name) and n.id == new)
    return inside > 0 and inside == total - 1  # the copy's own target is the one other mention


def _blocks(block: Block) -> Iterator[Block]:
    yield block
    for statement in block:
        if isinstance(statement, (ast.If, ast.For, ast.While)):
            yield from _blocks(statement.body)
            yield from _blocks(statement.orelse)


def _copy(statement: ast.stmt) -> tuple[str, str] | None:
    if (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
        and isinstance(statement.value, ast.Name)
    ):
        return statement.targets[0].id, statement.value.id
    return None


def _mergeable(block: Block, i: int, new: str, old: str, counts: dict[str, int]) -> bool:
    if counts.get(new) != 1 or counts.get(old) != 1:
        return False
    bound_before = any(
        isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == old for t in s.targets)
        for s in block[:i]
    )
    return bound_before and new not in _loads(*block[:i])


