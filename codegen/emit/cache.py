"""Which forward values the backward pass recomputes rather than saves: cheap
shapes, views and re-reads of what the forward pass bound (the cache plan of
the split style)."""

from __future__ import annotations

import ast

from codegen import ir, unparse
from codegen.ad import operations
from codegen.naming import nodes


def always_bound(statements: list[ast.stmt]) -> set[str]:
    """Names every path through `statements` binds (loops may not run)."""
    found: set[str] = set()
    for statement in statements:
        if isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            found |= {n.id for t in targets for n in nodes(t) if isinstance(n, ast.Name)}
        elif isinstance(statement, ast.If):
            found |= always_bound(statement.body) & always_bound(statement.orelse)
    return found


def cache_plan(fn: ir.Function, forward: list[str], backward: list[str]) -> tuple[list[str], list[str]]:
    """What the backward reads of the forward: the names to cache, and the cheap
    statements (shape arithmetic) it recomputes instead of caching their values."""
    forward_tree = ast.parse("\n".join(forward) or "pass")
    available = {p.name for p in fn.params} | {
        n.id for n in ast.walk(forward_tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    available |= {
        n.id
        for n in ast.walk(forward_tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "append"
        for n in [n.func.value]
        if isinstance(n, ast.Name)
    }
    needed = [n for n in first_reads(ast.parse("\n".join(backward))) if n in available]
    bound = [n.id for n in ast.walk(forward_tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
    cheap = {
        name: statement
        for statement in forward_tree.body
        if isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and (names := _target_names(statement.targets[0])) is not None
        and all(bound.count(name) == 1 for name in names)
        and (_is_cheap_shape(statement.value) or _is_view(statement.value, available))
        for name in names
    }
    recomputed: list[ast.Assign] = []
    cached = list(needed)

    def recipe(name: str, known: set[str], seen: frozenset[str]) -> list[ast.Assign] | None:
        """The cheap statements that recompute `name` from `known` names, or None."""
        statement = cheap.get(name)
        if statement is None or name in seen:
            return None
        steps: list[ast.Assign] = []
        for used in sorted({n.id for n in ast.walk(statement.value) if isinstance(n, ast.Name)} & available):
            if used in known:
                continue
            inner = recipe(used, known, seen | {name})
            if inner is None:
                return None
            steps += inner
        return [*steps, statement]

    changed = True
    while changed:
        changed = False
        for name in list(cached):
            known = set(cached) - {name} | {n for s in recomputed for n in _target_names(s.targets[0]) or ()}
            steps = recipe(name, known, frozenset())
            if steps is not None:
                recomputed += [s for s in steps if s not in recomputed]
                cached.remove(name)
                changed = True
    order = [s for s in forward_tree.body if s in recomputed]
    return cached, [unparse.statement(s) for s in order]


def _target_names(target: ast.expr) -> list[str] | None:
    """The names `name = ...` or `a, b = ...` binds; None for other targets."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple) and all(isinstance(e, ast.Name) for e in target.elts):
        return [e.id for e in target.elts if isinstance(e, ast.Name)]
    return None


def _is_cheap_shape(expr: ast.expr) -> bool:
    """Shape arithmetic: cheaper to recompute than to keep."""
    for node in ast.walk(expr):
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id == "len"):
            return False
    return any(isinstance(n, ast.Attribute) and n.attr in ("shape", "ndim", "size") for n in ast.walk(expr)) or any(
        isinstance(n, ast.Call) for n in ast.walk(expr)
    )


def _is_view(expr: ast.expr, local: set[str]) -> bool:
    """A reshape, transpose or basic slice of a value: recomputed instead of cached,
    as hand-written code does (`x.reshape(N, -1)` again in the backward)."""
    if isinstance(expr, ast.Attribute):
        return expr.attr in ("T", "mT") and _is_view_base(expr.value, local)
    if isinstance(expr, ast.Subscript):
        return _is_view_base(expr.value, local) and _is_basic_index(expr.slice)
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and operations.recomputed_view(expr.func.attr):
        receiver = expr.func.value
        module = isinstance(receiver, ast.Name) and receiver.id not in local  # np.reshape(x, shape)
        args = [*expr.args] if module else [receiver, *expr.args]
        base, rest = (args[0], args[1:]) if args else (None, [])
        static = all(_is_static(a) for a in [*rest, *(k.value for k in expr.keywords)])
        return base is not None and _is_view_base(base, local) and static
    return False


def _is_view_base(expr: ast.expr, local: set[str]) -> bool:
    return (isinstance(expr, ast.Name) and expr.id in local) or _is_view(expr, local)


def _is_static(expr: ast.expr) -> bool:
    """Shape arithmetic: integers, sizes, tuples of them."""
    if isinstance(expr, ast.Attribute):
        return expr.attr in ("shape", "ndim", "size") or expr.attr == "newaxis"
    if isinstance(expr, ast.Subscript):
        return _is_static(expr.value) and _is_static(expr.slice)
    if isinstance(expr, ast.Call):
        return isinstance(expr.func, ast.Name) and expr.func.id == "len"
    return all(
        isinstance(n, (ast.Constant, ast.Name, ast.Tuple, ast.Slice, ast.UnaryOp, ast.BinOp, ast.Attribute, ast.Subscript, ast.Call))
        or isinstance(n, (ast.expr_context, ast.operator, ast.unaryop))
        for n in ast.walk(expr)
    ) and all(_is_static(n) for n in ast.iter_child_nodes(expr) if isinstance(n, (ast.Attribute, ast.Subscript, ast.Call)))


def _is_basic_index(index: ast.expr) -> bool:
    """Constants, slices and np.newaxis: a view, never a copy (no array indices)."""
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    for part in parts:
        if isinstance(part, ast.Slice):
            if not all(b is None or _is_static(b) for b in (part.lower, part.upper, part.step)):
                return False
        elif isinstance(part, ast.Attribute):
            if part.attr != "newaxis":
                return False
        elif not (isinstance(part, ast.Constant) and (part.value is None or type(part.value) is int)):
            return False
    return True


def first_reads(tree: ast.Module) -> list[str]:
    """Names read before they are bound on some path, in the order first read."""
    found: dict[str, None] = {}  # ordered, and a set's lookups (a list's made long functions quadratic)
    bound: set[str] = set()

    def load(node: ast.AST) -> None:
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in bound:
                found.setdefault(n.id)

    def store(node: ast.AST) -> None:
        bound.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))

    def block(statements: list[ast.stmt]) -> None:
        for statement in statements:
            if isinstance(statement, ast.Assign):
                load(statement.value)
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        store(target)
                    else:
                        load(target)
            elif isinstance(statement, ast.AugAssign):
                load(statement.value)
                load(ast.Name(statement.target.id, ast.Load()) if isinstance(statement.target, ast.Name) else statement.target)
            elif isinstance(statement, (ast.For, ast.While)):
                load(statement.iter if isinstance(statement, ast.For) else statement.test)
                before = set(bound)
                if isinstance(statement, ast.For):
                    store(statement.target)
                block(statement.body)
                bound.intersection_update(before)  # the body may not run
            elif isinstance(statement, ast.If):
                load(statement.test)
                before = set(bound)
                block(statement.body)
                after_body = set(bound)
                bound.intersection_update(before)
                block(statement.orelse)
                bound.intersection_update(after_body)  # bound after the `if` on either path
            else:
                load(statement)

    block(tree.body)
    return list(found)
