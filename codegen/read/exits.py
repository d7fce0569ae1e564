"""`break`, `continue` and `return` wherever Python allows them, as flags and guards.

Done by `desugar` after its simpler rewrites (a `continue` ending a branch, a
`return` in an `if` at the top level), for what is left:

- `break`: a flag set instead (`stopped = True`); a `while` loop tests it first
  (`while not stopped and err > tol:`), a `for` loop's body runs under
  `if not stopped:` (a loop variable read after the loop is bound inside the guard,
  so it keeps the value of the iteration that broke). A loop's `else` runs under
  `if not stopped:` after it.
- `continue` where more of the iteration follows: a flag reset at the start of each
  iteration (`skipped = False`), set instead, and what follows runs under
  `if not skipped:`.
- `return` inside a loop or a nested branch: the values are assigned there
  (`out = v`), a flag is set (`returned = True`) that ends the loops around it and
  guards what follows, and the function returns `out` once, at its end.

Where a branch always leaves and the other never does, what follows the `if` moves
into the other branch instead of under a guard. The new statements have empty spans
where they start (their text is written from the tree) so positions stay in order.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

_Loop = ast.For | ast.While


@dataclass
class _LoopFlags:
    stop: str | None  # the flag a break sets
    skip: str | None  # the flag a continue sets


@dataclass
class _Exits:
    statements: list[ast.stmt]  # the function's, to tell where a name is read
    fresh: Callable[[str], str]
    assigned: Callable[[ast.Return, list[str]], ast.stmt]
    returns: bool  # returns are rewritten (one inside a loop, or in a nested branch)
    outs: list[str] = field(default_factory=list)
    returned: str | None = None
    loops: list[_LoopFlags] = field(default_factory=list)
    read: set[str] = field(default_factory=set)  # flags some guard or loop test reads
    flags: dict[int, str] = field(default_factory=dict)  # id of each flag's assignment -> the flag

    # ---- what a statement may do ----------------------------------------------------
    def leaves(self, statement: ast.stmt) -> set[str]:
        """The exits `statement` may take out of the block it is in: 'break',
        'continue' (of the innermost loop) and 'return'."""
        found: set[str] = set()
        pending: list[tuple[ast.AST, bool]] = [(statement, False)]
        while pending:
            node, nested = pending.pop()
            if isinstance(node, ast.Return) and self.returns:
                found.add("return")
            elif isinstance(node, (ast.Break, ast.Continue)) and not nested:
                found.add("break" if isinstance(node, ast.Break) else "continue")
            elif isinstance(node, (ast.For, ast.While)):
                pending += [(n, True) for n in node.body]
                pending += [(n, nested) for n in node.orelse]  # a loop's else is outside it
            elif isinstance(node, ast.stmt) and not isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                for name in ("body", "orelse"):
                    pending += [(n, nested) for n in getattr(node, name, [])]
        return found

    def always_leaves(self, statements: list[ast.stmt]) -> bool:
        for statement in statements:
            if isinstance(statement, (ast.Break, ast.Continue)) or (isinstance(statement, ast.Return) and self.returns):
                return True
            if isinstance(statement, ast.If) and self.always_leaves(statement.body) and self.always_leaves(statement.orelse):
                return True
        return False

    # ---- rewriting ----------------------------------------------------------------
    def flag(self, name: str | None, value: bool, where: ast.expr | ast.stmt) -> ast.stmt:
        assert name is not None
        statement = _located(ast.Assign([ast.Name(name, ast.Store())], ast.Constant(value)), where)
        self.flags[id(statement)] = name
        return statement

    def block(self, statements: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for i, statement in enumerate(statements):
            rest = statements[i + 1 :]
            if isinstance(statement, ast.Break):
                return out + [self.flag(self.loops[-1].stop, True, statement)]
            if isinstance(statement, ast.Continue):
                return out + [self.flag(self.loops[-1].skip, True, statement)]
            if isinstance(statement, ast.Return) and self.returns:
                return out + self.leave(statement)
            if isinstance(statement, ast.If):
                leaves = self.leaves(statement)
                if leaves and rest:
                    body, orelse = statement.body, statement.orelse
                    if self.always_leaves(body) and not any(map(self.leaves, orelse)):
                        statement.orelse, rest = orelse + rest, []
                    elif self.always_leaves(orelse) and not any(map(self.leaves, body)):
                        statement.body, rest = body + rest, []
                statement.body = self.block(statement.body) or [_located(ast.Pass(), statement)]
                statement.orelse = self.block(statement.orelse)
                out.append(statement)
                if leaves:
                    return out + self.guarded(leaves, rest)
                continue
            if isinstance(statement, (ast.For, ast.While)):
                leaves = {"return"} if self.returns and any(map(_has_return, statement.body)) else set()
                head, after = self.loop(statement)
                out += head
                rest = after + rest
                if leaves and rest:
                    return out + self.guarded(leaves, rest)
                return out + self.block(rest)
            out.append(statement)
        return out

    def guarded(self, leaves: set[str], rest: list[ast.stmt]) -> list[ast.stmt]:
        """`rest` under `if not <the flags of the exits that may have been taken>:`."""
        flags = [self.returned] if "return" in leaves and self.returned else []
        for exit, flag in (("break", "stop"), ("continue", "skip")):
            if exit in leaves:
                name = getattr(self.loops[-1], flag)
                assert name is not None  # the loop has one: it found this exit
                flags.append(name)
        body = self.block(rest)
        if not body or not flags:
            return body
        self.read.update(flags)
        return [_guard(flags, body)]

    def leave(self, returned: ast.Return) -> list[ast.stmt]:
        return [self.assigned(returned, self.outs), self.flag(self.returned, True, returned)]

    def loop(self, node: _Loop) -> tuple[list[ast.stmt], list[ast.stmt]]:
        """The loop rewritten with the statements before it, and its else block
        (which runs after it)."""
        stop = self.fresh("stopped") if _finds(node.body, ast.Break) else None
        skip = self.fresh("skipped") if _finds(node.body, ast.Continue) else None
        returns = self.returns and any(map(_has_return, node.body))
        ends = [f for f in (stop, self.returned if returns else None) if f is not None]
        self.loops.append(_LoopFlags(stop, skip))
        try:
            body = self.block(node.body)
        finally:
            self.loops.pop()
        if skip is not None:
            body = [self.flag(skip, False, node.body[0]), *body]
        before = [self.flag(stop, False, node)] if stop else []
        self.read.update(ends)
        if ends and isinstance(node, ast.While):
            test = _not_flags(ends, node.test)
            if not (isinstance(node.test, ast.Constant) and node.test.value is True):  # `while True:` ends on its flag alone
                test = _span(ast.BoolOp(ast.And(), [test, node.test]), node.test)
            node.test = test
        elif ends:
            assert isinstance(node, ast.For)
            body = [_guard(ends, self.rebound_target(node, body))]
        node.body = body
        orelse, node.orelse = node.orelse, []
        after = [_guard([stop], orelse)] if orelse and stop else orelse
        return [*before, node], after

    def rebound_target(self, node: ast.For, body: list[ast.stmt]) -> list[ast.stmt]:
        """The loop variable bound inside the guard where it is read outside the loop:
        it keeps the value of the iteration that left."""
        target = node.target
        if not isinstance(target, ast.Name) or not _read_outside(self.statements, node, target.id):
            return body
        own = self.fresh(target.id)
        node.target = ast.copy_location(ast.Name(own, ast.Store()), target)
        bind = ast.Assign([ast.Name(target.id, ast.Store())], ast.Name(own, ast.Load()))
        return [_located(bind, body[0] if body else node), *body]


def rewrite(
    body: list[ast.stmt],
    fresh: Callable[[str], str],
    assigned: Callable[[ast.Return, list[str]], ast.stmt],
    single: Callable[[list[ast.stmt]], bool],
) -> list[ast.stmt] | None:
    """The function's `body` with its breaks, continues and returns rewritten (see
    the module's docstring); None where there is nothing to do. `single` tells
    whether desugar's rewrite of top-level returns is enough for the returns."""
    doc = body[:1] if body and _is_docstring(body[0]) else []
    statements = body[len(doc) :]
    loops = [n for s in statements for n in ast.walk(s) if isinstance(n, (ast.For, ast.While))]
    returns = any(_has_return(n) for n in loops) or not single(statements)
    if not returns and not any(isinstance(n, (ast.Break, ast.Continue)) for s in statements for n in ast.walk(s)):
        return None
    exits = _Exits(statements, fresh, assigned, returns)
    counts = {_count(r) for s in statements for r in ast.walk(s) if isinstance(r, ast.Return)}
    if returns and (len(counts) != 1 or None in counts or not exits.always_leaves(statements)):
        # Refused later (returns of different numbers of values, or a way without
        # one): the breaks and continues are still rewritten, for that message.
        exits.returns = returns = False
        if not any(isinstance(n, (ast.Break, ast.Continue)) for s in statements for n in ast.walk(s)):
            return None
    if returns:
        count = counts.pop()
        assert count is not None
        exits.outs = [fresh("out")] if count == 1 else [fresh(f"out{k + 1}") for k in range(count)]
        exits.returned = fresh("returned")
    rewritten = exits.block(statements)
    if returns:
        rewritten = [exits.flag(exits.returned, False, statements[0]), *rewritten]
        values: list[ast.expr] = [ast.Name(n, ast.Load()) for n in exits.outs]
        result = values[0] if len(values) == 1 else ast.Tuple(values, ast.Load())
        rewritten.append(_located(ast.Return(result), _end(statements[-1])))
    return doc + _unread_flags_removed(rewritten, exits)


# ---- tree helpers ----------------------------------------------------------------------
def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _count(returned: ast.Return) -> int | None:
    if returned.value is None:
        return None
    return len(returned.value.elts) if isinstance(returned.value, ast.Tuple) else 1


def _has_return(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Return) for n in ast.walk(node))


def _finds(statements: list[ast.stmt], kind: type[ast.stmt]) -> bool:
    """Whether a `kind` statement of this loop (not of a loop inside it) is among `statements`."""
    pending: list[ast.AST] = list(statements)
    while pending:
        node = pending.pop()
        if isinstance(node, kind):
            return True
        if isinstance(node, (ast.For, ast.While)):
            pending.extend(node.orelse)
        elif isinstance(node, ast.stmt) and not isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            for name in ("body", "orelse"):
                pending.extend(getattr(node, name, []))
    return False


def _read_outside(statements: list[ast.stmt], loop: ast.AST, name: str) -> bool:
    pending: list[ast.AST] = list(statements)
    while pending:
        node = pending.pop()
        if node is loop:
            continue
        if isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Store):
            return True
        pending.extend(ast.iter_child_nodes(node))
    return False


def _start(node: ast.expr | ast.stmt) -> tuple[int, int]:
    return node.lineno, node.col_offset


def _end(node: ast.expr | ast.stmt) -> tuple[int, int]:
    return node.end_lineno or node.lineno, node.end_col_offset or 0


def _located(node: ast.stmt, where: tuple[int, int] | ast.expr | ast.stmt) -> ast.stmt:
    """`node` and what it holds that has no position given an empty span at `where`
    (a position, or the start of a node)."""
    line, column = where if isinstance(where, tuple) else _start(where)
    for inner in ast.walk(node):
        if isinstance(inner, (ast.expr, ast.stmt)) and not hasattr(inner, "lineno"):
            inner.lineno, inner.col_offset, inner.end_lineno, inner.end_col_offset = line, column, line, column
    return node


def _span(node: ast.expr, where: ast.expr | ast.stmt) -> ast.expr:
    line, column = _start(where)
    for inner in ast.walk(node):
        if not hasattr(inner, "lineno") and isinstance(inner, ast.expr):
            inner.lineno, inner.col_offset, inner.end_lineno, inner.end_col_offset = line, column, line, column
    return node


def _not_flags(flags: list[str], where: ast.expr | ast.stmt) -> ast.expr:
    names: list[ast.expr] = [ast.Name(f, ast.Load()) for f in flags]
    return _span(ast.UnaryOp(ast.Not(), names[0] if len(names) == 1 else ast.BoolOp(ast.Or(), names)), where)


def _guard(flags: list[str], body: list[ast.stmt]) -> ast.stmt:
    """`if not flag: body`, spanning the statements it holds."""
    first, last = body[0], body[-1]
    guard = ast.If(_not_flags(flags, first), body, [])
    guard.lineno, guard.col_offset = _start(first)
    guard.end_lineno, guard.end_col_offset = _end(last)
    return guard


def _unread_flags_removed(statements: list[ast.stmt], exits: _Exits) -> list[ast.stmt]:
    """The assignments of flags that no guard or loop test reads removed."""
    out: list[ast.stmt] = []
    for statement in statements:
        flag = exits.flags.get(id(statement))
        if flag is not None and flag not in exits.read:
            continue
        for name in ("body", "orelse"):
            inner = getattr(statement, name, None)
            if isinstance(inner, list) and inner:
                kept = _unread_flags_removed(inner, exits)
                setattr(statement, name, kept or ([_located(ast.Pass(), statement)] if name == "body" else []))
        out.append(statement)
    return out
