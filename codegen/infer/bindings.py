"""What the text of a forward function says about its names, read once for the
kinds: where each name is bound and to what, where a parameter is first rebound,
which loops walk over a list, and which indices are plain integers."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from codegen.read.parse import Function, ModuleInfo


def module_values(info: ModuleInfo) -> dict[str, ast.expr]:
    """The values of the module's top-level names bound once, by a plain assignment."""
    found: dict[str, ast.expr | None] = {}
    for statement in info.tree.body:
        targets = statement.targets if isinstance(statement, ast.Assign) else []
        for target in targets:
            for name in target_names(target):
                single = len(targets) == 1 and isinstance(target, ast.Name) and name not in found
                found[name] = statement.value if single and isinstance(statement, ast.Assign) else None
    return {name: value for name, value in found.items() if value is not None}


def mentions(tree: ast.expr, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(tree))


def number_index(index: ast.expr) -> bool:
    """An index of plain integers (no slices, arrays or `None`), as far as the text shows."""
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    for part in parts:
        if isinstance(part, (ast.Slice, ast.List, ast.Tuple, ast.Compare)):
            return False
        if isinstance(part, ast.Constant) and not (type(part.value) is int):
            return False
        if isinstance(part, ast.Call) and not (isinstance(part.func, ast.Name) and part.func.id in ("len", "int")):
            return False
        if isinstance(part, ast.Attribute) and part.attr == "newaxis":
            return False
    return all(_int_like(p) for p in parts)


def _int_like(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return type(node.value) is int
    if isinstance(node, ast.Name):
        return True  # a counter or a size; an index array makes the result no number
    if isinstance(node, ast.UnaryOp):
        return _int_like(node.operand)
    if isinstance(node, ast.BinOp):
        return _int_like(node.left) and _int_like(node.right)
    return isinstance(node, (ast.Call, ast.Subscript, ast.Attribute))


def parameters(function: Function) -> Iterator[tuple[str, ast.expr | None, ast.expr | None]]:
    spec = function.args
    positional = [*spec.posonlyargs, *spec.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(spec.defaults)) + list(spec.defaults)
    for arg, default in zip(positional, defaults):
        yield arg.arg, default, arg.annotation
    for arg, default in zip(spec.kwonlyargs, spec.kw_defaults):
        yield arg.arg, default, arg.annotation


def walk_statement(statement: ast.stmt) -> Iterator[ast.AST]:
    """Every node of `statement`, nested statements included; nested functions not."""
    stack: list[ast.AST] = [statement]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)) and node is not statement:
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def name_bindings(function: Function) -> dict[str, list[ast.expr | None]]:
    """Each name the function binds, with the value of each binding (None where
    the value is not one expression: a loop variable, an unpacked element)."""
    found: dict[str, list[ast.expr | None]] = {}
    for statement in function.body:
        for node in walk_statement(statement):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    paired = dict(pairs(target, node.value))
                    for name in target_names(target):
                        found.setdefault(name, []).append(paired.get(name))
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                found.setdefault(node.target.id, []).append(node.value)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                found.setdefault(node.target.id, []).append(ast.BinOp(ast.Name(node.target.id, ast.Load()), node.op, node.value))
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                for name in target_names(node.target):
                    found.setdefault(name, []).append(loop_value(node))
            elif isinstance(node, ast.NamedExpr):
                found.setdefault(node.target.id, []).append(None)
            elif isinstance(node, (ast.comprehension,)):
                for name in target_names(node.target):
                    found.setdefault(name, []).append(None)
    return found


def statement_of(function: Function, definitions: dict[str, ast.expr]) -> dict[str, int]:
    """The index of the top-level statement holding each definition."""
    wanted = {id(value): name for name, value in definitions.items()}
    found: dict[str, int] = {}
    for index, statement in enumerate(function.body):
        for node in walk_statement(statement):
            if id(node) in wanted:
                found[wanted[id(node)]] = index
    return found


def element_loops(function: Function) -> dict[str, ast.expr]:
    """Loop variables over an iterable other than `range(...)`, with the iterable."""
    found: dict[str, ast.expr] = {}
    for statement in function.body:
        for node in walk_statement(statement):
            if isinstance(node, ast.For) and isinstance(node.target, ast.Name) and loop_value(node) is None:
                it = node.iter
                if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id in ("reversed", "enumerate", "zip")):
                    found[node.target.id] = it
    return found


def read_as_items(function: Function, names: set[str]) -> dict[str, list[ast.expr]]:
    """Those of `names` whose every use reads an item (`xs[1]`), iterates (`for t in
    xs`), is summed or measured (`sum(xs)`, `len(xs)`) or appends one value
    (`xs.append(v)`, a statement): nothing writes into them or holds them under
    another name. Each with the values appended to it."""
    parents: dict[int, ast.AST] = {}
    uses: list[ast.Name] = []
    for statement in function.body:
        for node in walk_statement(statement):
            for child in ast.iter_child_nodes(node):
                parents[id(child)] = node
            if isinstance(node, ast.Name) and node.id in names and isinstance(node.ctx, ast.Load):
                uses.append(node)
    found: dict[str, list[ast.expr]] = {name: [] for name in names}
    for use in uses:
        parent = parents.get(id(use))
        item = isinstance(parent, ast.Subscript) and parent.value is use and isinstance(parent.ctx, ast.Load)
        measured = _called_with(parent, use, ("len", "sum"))
        call = parents.get(id(parent)) if isinstance(parent, ast.Attribute) and parent.attr == "append" else None
        appends = isinstance(call, ast.Call) and call.func is parent and len(call.args) == 1 and not call.keywords
        if appends and isinstance(call, ast.Call) and isinstance(parents.get(id(call)), ast.Expr):
            if use.id in found:
                found[use.id].append(call.args[0])
        elif not (item or measured or isinstance(parent, ast.For) and parent.iter is use):
            found.pop(use.id, None)
    return found


def _called_with(node: ast.AST | None, argument: ast.expr, functions: tuple[str, ...]) -> bool:
    """Whether `node` is `f(argument)` for one of `functions`."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in functions):
        return False
    return len(node.args) == 1 and node.args[0] is argument and not node.keywords


def loop_value(node: ast.For | ast.AsyncFor) -> ast.expr | None:
    """`for i in range(n)`: the counter is a number (the call stands for its value)."""
    it = node.iter
    if isinstance(node.target, ast.Name) and isinstance(it, ast.Call) and isinstance(it.func, ast.Name):
        if it.func.id == "range":
            return ast.Constant(0)
    return None


def pairs(target: ast.expr, value: ast.expr) -> list[tuple[str, ast.expr]]:
    """The names an assignment binds, each with its value where the text gives it:
    `a = v`, and `a, b = u, v` element by element."""
    if isinstance(target, ast.Name):
        return [(target.id, value)]
    if isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)):
        starred = any(isinstance(e, (ast.Starred)) for e in (*target.elts, *value.elts))
        if not starred and len(target.elts) == len(value.elts):
            return [pair for t, v in zip(target.elts, value.elts) for pair in pairs(t, v)]
    return []


def target_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for e in target.elts for n in target_names(e)]
    if isinstance(target, ast.Starred):
        return target_names(target.value)
    return []


def first_rebindings(function: Function, names: list[str]) -> dict[str, int]:
    """For each of `names`, the index of the first top-level statement that rebinds
    it: uses in statements before it (and on the right of a simple one) see the
    parameter. One walk for all of them."""
    found: dict[str, int] = {}
    wanted = set(names)
    for index, statement in enumerate(function.body):
        if len(found) == len(wanted):
            break
        for node in walk_statement(statement):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor, ast.NamedExpr)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                simple = node is statement and isinstance(node, (ast.Assign, ast.AnnAssign))
                for name in (n for t in targets for n in target_names(t)):
                    if name in wanted and name not in found:
                        found[name] = index if simple else index - 1
    return {name: found.get(name, len(function.body)) for name in names}


def read_only_by_calls(function: Function, names: set[str]) -> set[str]:
    """The `names` the function's text passes only to calls (`np.dot(a, b)`,
    `len(a)`) or reads element by element (`a[i]`): never an operand of
    arithmetic, a method's receiver, sliced or ordered against a number (`x > 0`
    raises for a list; `a == b` and `a < b` do not). Such a value may be a list
    that numpy reads as an array; a template doing arithmetic with it must make it one."""
    used: set[str] = set()
    for statement in function.body:
        for node in ast.walk(statement):
            operands: list[ast.expr] = []
            if isinstance(node, ast.BinOp):
                operands = [node.left, node.right]
            elif isinstance(node, ast.UnaryOp):
                operands = [node.operand]
            elif isinstance(node, ast.AugAssign):
                operands = [node.target]
            elif isinstance(node, ast.Attribute):
                operands = [node.value]
            elif isinstance(node, ast.Subscript) and not number_index(node.slice):
                operands = [node.value]
            elif isinstance(node, ast.Compare):
                operands = _ordered_against_numbers(node)
            used |= {o.id for o in operands if isinstance(o, ast.Name)}
    return names - used


def _ordered_against_numbers(node: ast.Compare) -> list[ast.expr]:
    """The operands of `node` ordered (`<`, `<=`, `>`, `>=`) against a number literal."""
    chain = [node.left, *node.comparators]
    found: list[ast.expr] = []
    for op, (left, right) in zip(node.ops, zip(chain, chain[1:])):
        if isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)):
            found += [a for a, b in ((left, right), (right, left)) if _number_literal(b)]
    return found


def _number_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


@dataclass(frozen=True)
class CarriedRead:
    """A read of `name` in a loop whose body binds it once, at `binding`: before
    that binding in an iteration (`before`) it sees the value passed in on the
    first iteration and the binding's on the others; after it, the binding's."""

    name: str
    before: bool
    binding: ast.Assign | ast.AugAssign


def carried_reads(function: Function, names: set[str]) -> dict[int, CarriedRead]:
    """The reads (by node id) of each of `names` bound exactly once in the
    function, by a plain or augmented assignment in a loop's body."""
    found: dict[int, CarriedRead] = {}
    bound: dict[str, list[ast.AST]] = {}
    for statement in function.body:
        for node in walk_statement(statement):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor, ast.NamedExpr)):
                targets = [node.target]
            for name in {n for t in targets for n in target_names(t)} & names:
                bound.setdefault(name, []).append(node)
    for statement in function.body:
        for loop in walk_statement(statement):
            if not isinstance(loop, (ast.For, ast.While)):
                continue
            for position, inner in enumerate(loop.body):
                single = isinstance(inner, ast.AugAssign) or isinstance(inner, ast.Assign) and len(inner.targets) == 1
                target = inner.target if isinstance(inner, ast.AugAssign) else inner.targets[0] if single else None
                if not single or not isinstance(target, ast.Name) or bound.get(target.id) != [inner]:
                    continue
                assert isinstance(inner, (ast.Assign, ast.AugAssign))
                name = target.id
                earlier = [*loop.body[:position], inner.value] + ([loop.test] if isinstance(loop, ast.While) else [])
                for part, before in [(p, True) for p in earlier] + [(p, False) for p in loop.body[position + 1 :]]:
                    for node in ast.walk(part):
                        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
                            found[id(node)] = CarriedRead(name, before, inner)
    return found


def added_operands(function: Function) -> set[int]:
    """The ids of the slices added to a slice or a list display (`xs[1:] + xs[:1]`,
    `x[:2] + [1.0]`): a list's, concatenated, as much as an array's."""
    found: set[int] = set()
    for statement in function.body:
        for node in walk_statement(statement):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
                parts = (node.left, node.right)
                if all(is_slice(p) or isinstance(p, ast.List) for p in parts):
                    found |= {id(p) for p in parts if is_slice(p)}
    return found


def is_slice(node: ast.expr) -> bool:
    """`v[a:b]`: a slice of a list or of an array's first axis."""
    return isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice)
