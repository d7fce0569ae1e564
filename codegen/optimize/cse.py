"""Common subexpressions computed once: the last clean-up of a generated function body.

Works on the trees of the emitted lines, before black: the body is parsed once a
round, the lines it leaves alone keep their text and the statements it changes
are written from their trees. Only simple statements take part; a block (`if`,
`for`, `while`) or a statement that mutates something (`x += ...`, `x[i] = ...`,
`xs.append(...)`) ends every run of equal expressions, since numpy arrays may be
shared. A block's body is treated the same way on its own. An expression
repeated within a run is bound to a name before its first use (or reuses the
name its first use is assigned to). Uses that are a whole assigned or returned
value are left alone: replacing them by a name would make two names share one
array, which later in-place updates of gradients must never see.
"""

from __future__ import annotations

import ast
import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from codegen import unparse
from codegen.ad import operations
from codegen.naming import Names, nodes
from codegen.optimize.body import bound, names

# Array methods without side effects.
_IMPURE_FUNCTIONS = ("empty", "random")
_WORDS = {ast.Add: "plus", ast.Sub: "minus", ast.Mult: "times", ast.Div: "over", ast.MatMult: "dot"}
_MAX_NAME = 16
_SIMPLE = (ast.Assign, ast.AugAssign, ast.Return)  # the statements whose expressions take part


@dataclass(slots=True)
class _Use:
    line: int
    node: ast.expr
    replaceable: bool  # False for a whole assigned or returned value
    binds: str | None = None  # the name a whole `name = expr` assigns it to
    also: tuple[ast.expr, ...] = ()  # the same expression in the other branch of a conditional


def eliminate(lines: list[str], names: Names, pure_modules: set[str], owned: frozenset[str] = frozenset()) -> list[str]:
    """`lines` (statements and comments of one function body) with repeated pure
    expressions computed once. `owned` names are only ever updated in place (`dx +=
    ...`) while they hold an array of their own (the backward's gradients): such an
    update rebinds the name and changes no other."""
    lines = [part for line in lines for part in line.split("\n")]
    read = _read(lines, pure_modules)
    if read is None:
        return lines
    names.taken |= _words(read.statements)
    bodies = _in_bodies(lines, names, pure_modules, owned)
    if bodies != lines:
        lines, read = bodies, _read(bodies, pure_modules)
    while read is not None:
        changed, lines = _round(read, names, pure_modules, owned)
        if not changed:
            break
        read = _read(lines, pure_modules)
    return lines


def _in_bodies(lines: list[str], names: Names, pure_modules: set[str], owned: frozenset[str]) -> list[str]:
    """`lines` with the body of each top-level block (the lines indented under a
    line ending in `:`) given common subexpressions of its own: one pass through a
    loop's body is straight-line code."""
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        out.append(line)
        index += 1
        if not line or line[0].isspace() or line.startswith("#") or not line.rstrip().endswith(":"):
            continue
        end = index
        while end < len(lines) and (not lines[end] or lines[end][0].isspace()):
            end += 1
        body = lines[index:end]
        depth = min((len(b) - len(b.lstrip()) for b in body if b.strip()), default=0)
        if depth:
            inner = eliminate([b[depth:] for b in body], names, pure_modules, owned)
            body = [" " * depth + b if b else b for b in inner]
        out += body
        index = end
    return out


def _words(statements: list[ast.stmt]) -> set[str]:
    """The names, attributes and keywords `statements` spell: a name given to a
    shared value is none of them (`sqrt_1` beside `math.sqrt`, not `sqrt`)."""
    found: set[str] = set()
    for node in nodes(ast.Module(statements, [])):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, (ast.keyword, ast.arg)) and node.arg:
            found.add(node.arg)
    return found


def _round(read: _Read, names: Names, pure_modules: set[str], owned: frozenset[str]) -> tuple[bool, list[str]]:
    lines, trees, quiet = read.lines, read.trees, read.quiet
    barriers = sorted(read.others)  # lines after which nothing computed before may be reused
    stores: dict[str, list[int]] = {}
    for index in range(len(lines)):
        if index in quiet:
            for name in bound(quiet[index]):
                stores.setdefault(name, []).append(index)
            continue
        statement = trees.get(index)
        if statement is None:
            continue
        if _mutates(statement, owned):
            barriers.append(index)
        for name in _stored_names(statement):
            stores.setdefault(name, []).append(index)
    barriers.sort()
    candidates = _index(trees, lines)
    touched: set[int] = set()
    replace: dict[int, list[tuple[ast.expr, str]]] = {}
    insert: dict[int, str] = {}
    dropped: set[int] = set()
    for text in sorted(candidates, key=len, reverse=True):
        uses = candidates[text]
        if len(uses) < 2 or not _eligible(uses[0].node, pure_modules):
            continue
        reads = frozenset(n.id for n in ast.walk(uses[0].node) if isinstance(n, ast.Name))
        for run, binder in _runs(uses, reads, barriers, stores, read):
            lines_used = {use.line for use in run} | ({binder.line} if binder else set())
            if lines_used & touched:
                continue
            first = run[0]
            if binder is not None and binder.binds is not None:  # `name = expr` moves up to the first use
                name = binder.binds
                insert[first.line] = lines[binder.line]
                dropped.add(binder.line)
                shared = run
            elif first.binds is None:
                name = names.fresh(_name_for(first.node))
                insert[first.line] = f"{name} = {text}"
                shared = run
            else:
                name = first.binds
                shared = run[1:]
            for use in shared:
                for node in (use.node, *use.also):
                    replace.setdefault(use.line, []).append((node, name))
            touched |= lines_used
    if not replace:
        return False, lines
    result: list[str] = []
    for index, line in enumerate(lines):
        if index in insert:
            result.append(insert[index])
        if index in dropped:
            continue
        if index in replace:
            result.append(unparse.statement(_replaced(trees[index], {id(n): name for n, name in replace[index]})))
        else:
            result.append(line)
    return True, result


def _read(lines: list[str], pure_modules: set[str]) -> _Read | None:
    """The body's statements, parsed at once, by the lines they stand on; None if
    the body does not parse."""
    try:
        statements = ast.parse("\n".join(lines)).body
    except SyntaxError:
        return None
    read = _Read(lines, statements, {}, {}, set())
    for statement in statements:
        first, last = statement.lineno - 1, (statement.end_lineno or statement.lineno) - 1
        if isinstance(statement, _SIMPLE) and first == last and first not in read.others and first not in read.trees:
            read.trees[first] = statement
        elif isinstance(statement, ast.If) and _only_binds_names(statement, pure_modules):
            read.quiet.update({i: statement for i in range(first, last + 1)})
        else:
            read.trees.pop(first, None)  # two statements on a line
            read.others.update(range(first, last + 1))
    return read


def _only_binds_names(statement: ast.If, pure_modules: set[str]) -> bool:
    """Whether the `if` statement only binds names to pure values (`if np.ndim(g)
    == 0: g = np.broadcast_to(...)`): such a block mutates nothing, so it ends only
    the runs that read the names it binds."""
    for node in ast.walk(statement):
        if isinstance(node, ast.Call) and not _pure_call(node, pure_modules):
            return False  # `h = hs.pop()` changes hs
        if isinstance(node, ast.stmt) and not isinstance(node, (ast.If, ast.Assign, ast.Pass)):
            return False
        if isinstance(node, ast.Assign) and not all(isinstance(t, ast.Name) for t in node.targets):
            return False
    return True


def _mutates(statement: ast.stmt, owned: frozenset[str]) -> bool:
    if isinstance(statement, ast.AugAssign):
        return not (isinstance(statement.target, ast.Name) and statement.target.id in owned)
    return isinstance(statement, ast.Assign) and any(not isinstance(t, (ast.Name, ast.Tuple)) for t in statement.targets)


def _stored_names(statement: ast.stmt) -> Iterator[str]:
    if isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name):
        yield statement.target.id
    targets = statement.targets if isinstance(statement, ast.Assign) else []
    for target in targets:
        if isinstance(target, ast.Name):  # most of them: no need to walk
            if isinstance(target.ctx, ast.Store):
                yield target.id
            continue
        for node in ast.walk(target):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                yield node.id


_HIDING = (ast.IfExp, ast.BoolOp, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_KINDS = (ast.Call, ast.Compare, ast.Subscript, ast.BinOp, ast.UnaryOp)


def _index(trees: dict[int, ast.stmt], lines: list[str]) -> dict[str, list[_Use]]:
    """The uses of every expression that might be worth naming, keyed by its text
    (ast.unparse's canonical spelling: equal text, equal expression). A statement
    without a call, an index or a comparison has none (arithmetic on names is not
    worth naming), and is passed over."""
    found: dict[str, list[_Use]] = {}

    def scan(root: ast.expr, line: int, whole: bool, binds: str | None, into: list[tuple[str, _Use]]) -> bool:
        """Whether `root` holds a call, an index or a comparison; its uses go `into`."""
        text = lines[line]
        stack: list[ast.AST] = [root]
        worth = False
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.Name, ast.Constant)):
                continue
            if isinstance(node, ast.IfExp):  # its test, usually a cheap comparison, reads best in place
                worth = both(node, line, whole and node is root, into) or worth
                continue
            if isinstance(node, _HIDING):
                continue  # parts of a conditional expression may never be evaluated
            if isinstance(node, _KINDS):
                worth = worth or not isinstance(node, (ast.BinOp, ast.UnaryOp))
                top = node is root
                into.append((text[node.col_offset : node.end_col_offset], _Use(line, node, not (top and whole), binds if top else None)))
            stack.extend(_children(node))
        return worth

    def both(node: ast.IfExp, line: int, whole: bool, into: list[tuple[str, _Use]]) -> bool:
        """What both branches of `node` compute is computed whichever runs: one use."""
        body: list[tuple[str, _Use]] = []
        orelse: list[tuple[str, _Use]] = []
        worth = scan(node.body, line, whole, None, body) | scan(node.orelse, line, whole, None, orelse)
        first: dict[str, list[_Use]] = {}
        second: dict[str, list[_Use]] = {}
        for into_branch, pairs in ((first, body), (second, orelse)):
            for key, use in pairs:
                into_branch.setdefault(key, []).append(use)
        for key in sorted(first.keys() & second.keys()):
            uses = first[key] + second[key]
            nodes = [n for use in uses for n in (use.node, *use.also)]
            replaceable = all(use.replaceable for use in uses)
            into.append((key, _Use(line, nodes[0], replaceable, None, tuple(nodes[1:]))))
        return worth

    for line, statement in trees.items():  # in line order
        uses: list[tuple[str, _Use]] = []
        worth = False
        if isinstance(statement, ast.Assign):
            single = statement.targets[0] if len(statement.targets) == 1 else None
            worth = scan(statement.value, line, True, single.id if isinstance(single, ast.Name) else None, uses)
            for target in statement.targets:
                if not isinstance(target, (ast.Name, ast.Tuple)):
                    # `d[i] = ...` stores into d[i]: only d and i are read.
                    for part in _children(target):
                        if isinstance(part, ast.expr):
                            worth = scan(part, line, False, None, uses) or worth
        elif isinstance(statement, ast.AugAssign):
            worth = scan(statement.value, line, False, None, uses)
            if not isinstance(statement.target, ast.Name):
                for part in _children(statement.target):
                    if isinstance(part, ast.expr):
                        worth = scan(part, line, False, None, uses) or worth
        elif isinstance(statement, ast.Return) and statement.value is not None:
            values = statement.value.elts if isinstance(statement.value, ast.Tuple) else [statement.value]
            for value in values:
                worth = scan(value, line, True, None, uses) or worth
        if worth:
            for key, use in uses:
                found.setdefault(key, []).append(use)
    return found  # each list in line order, as the lines were scanned


def _children(node: ast.AST) -> Iterable[ast.AST]:
    """The children of `node` (neither a name nor a constant) that may hold an
    expression worth naming, in the order ast.iter_child_nodes gives them
    (contexts, operators and keyword wrappers left out)."""
    if isinstance(node, ast.BinOp):
        return (node.left, node.right)
    if isinstance(node, ast.Call):
        return [node.func, *node.args, *(keyword.value for keyword in node.keywords)]
    if isinstance(node, ast.Attribute):
        return (node.value,)
    if isinstance(node, ast.Subscript):
        return (node.value, node.slice)
    if isinstance(node, ast.UnaryOp):
        return (node.operand,)
    return ast.iter_child_nodes(node)


def _eligible(node: ast.expr, pure_modules: set[str]) -> bool:
    """Worth naming, free of side effects, and not a constant."""
    if not _worth_naming(node):
        return False
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    if not names - pure_modules:
        return False  # a constant such as math.sqrt(math.pi) is left to read as one
    return all(_pure_call(n, pure_modules) for n in ast.walk(node) if isinstance(n, ast.Call)) and not any(
        isinstance(n, (*_HIDING, ast.NamedExpr)) for n in ast.walk(node)
    )


def _pure_call(node: ast.Call, pure_modules: set[str]) -> bool:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in pure_modules
    if not isinstance(func, ast.Attribute):
        return False
    path = [func.attr]
    owner = func.value
    while isinstance(owner, ast.Attribute):  # np.linalg.solve: a function of a submodule
        path.append(owner.attr)
        owner = owner.value
    if isinstance(owner, ast.Name) and owner.id in pure_modules:
        return not any(part.startswith(_IMPURE_FUNCTIONS) for part in path)
    return operations.pure_method(func.attr)


def _worth_naming(node: ast.expr) -> bool:
    """Calls, fancy indexing and comparisons of two values, or arithmetic on them;
    not names, attributes, views or arithmetic on plain names (`2 * x` is clearer
    written twice)."""
    if isinstance(node, ast.Call) or _fancy(node):
        return True
    if isinstance(node, ast.Compare):
        return len(node.ops) == 1 and not any(isinstance(n, ast.Constant) for n in (node.left, *node.comparators))
    if isinstance(node, (ast.BinOp, ast.UnaryOp)):
        return any(isinstance(n, ast.Call) or _fancy(n) for n in ast.walk(node))
    return False


def _fancy(node: ast.AST) -> bool:
    if not isinstance(node, ast.Subscript):
        return False
    index = node.slice
    no_slices = not any(isinstance(n, ast.Slice) for n in ast.walk(index))
    return no_slices and any(isinstance(n, (ast.Name, ast.Call)) for n in ast.walk(index))


@dataclass(slots=True)
class _Read:
    """A round's view of the body: its lines, and their statements."""

    lines: list[str]
    statements: list[ast.stmt]  # every top-level statement
    trees: dict[int, ast.stmt]  # the simple statements (one a line), by line
    quiet: dict[int, ast.If]  # the lines of blocks that only bind names
    others: set[int]  # the lines of every other statement (each ends every run)

    def mentioned(self, begin: int, end: int) -> set[str] | None:
        """The names lines `begin` to `end` read or bind; None if one is not a
        statement of the round's (not met within a run: a barrier ends it)."""
        found: set[str] = set()
        for index in range(begin, end):
            if index in self.others:
                return None
            statement = self.trees.get(index) or self.quiet.get(index)
            if statement is not None:
                found |= names(statement)
        return found


def _runs(
    uses: list[_Use], reads: frozenset[str], barriers: list[int], stores: dict[str, list[int]], lines: _Read
) -> Iterator[tuple[list[_Use], _Use | None]]:
    """Maximal groups of uses that see the same value (as `_usable` picks them)."""
    watched = sorted(line for name in reads for line in stores.get(name, ()))
    run: list[_Use] = []
    for use in uses:
        if run and not _same_value(run, use.line, barriers, watched, stores):
            yield from _usable(run, lines)
            run = []
        run.append(use)
    yield from _usable(run, lines)


def _same_value(run: list[_Use], after: int, barriers: list[int], watched: list[int], stores: dict[str, list[int]]) -> bool:
    """Whether the expression used on `run`'s last line still has its value on line
    `after`: nothing mutated or rebound from that line (its own stores happen after
    its uses are evaluated) up to `after`, nor the name the first use binds."""
    before, first = run[-1].line, run[0]
    if _any_in(barriers, before, after) or _any_in(watched, before, after):
        return False
    return first.binds is None or not _any_in(stores.get(first.binds, []), max(before, first.line + 1), after)


def _any_in(lines: list[int], low: int, high: int) -> bool:
    """Whether sorted `lines` has a line in [low, high)."""
    position = bisect.bisect_left(lines, low)
    return position < len(lines) and lines[position] < high


def _usable(run: list[_Use], lines: _Read) -> Iterator[tuple[list[_Use], _Use | None]]:
    """The uses to share: a first `name = expr` and later uses, or two or more uses;
    or uses before a later `name = expr` that can move up to the first of them
    (`db = np.linalg.solve(A.T, g)` before `dA = -np.outer(np.linalg.solve(A.T, g), x)`),
    with that statement."""
    if not run:
        return
    first, rest = run[0], [use for use in run[1:] if use.replaceable]
    if first.binds is not None:
        if rest:
            yield [first, *rest], None
        return
    group = [use for use in run if use.replaceable]
    binder = next((use for use in run if use.binds is not None), None)
    if binder is not None and group and _movable(binder, group[0].line, lines):
        yield group, binder
    elif len(group) >= 2:
        yield group, None


def _movable(binder: _Use, to: int, lines: _Read) -> bool:
    """Whether `binder`'s `name = expr` can move up to line `to`: nothing from there
    on reads or binds the name (the expression's own value is the same there)."""
    between = lines.mentioned(to, binder.line) if to < binder.line else None
    return between is not None and binder.binds not in between


def _name_for(node: ast.expr) -> str:
    name = _describe(node)
    return name if name and len(name) <= _MAX_NAME else "shared"


def _describe(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return str(node.value)
    if isinstance(node, ast.Call):
        func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        parts = [part for part in map(_describe, node.args) if part]
        return f"{func}_{'_'.join(parts)}" if func and parts and len(parts) == len(node.args) else func
    if isinstance(node, ast.Subscript):
        index = node.slice.elts[-1] if isinstance(node.slice, ast.Tuple) else node.slice
        base, last = _describe(node.value), _describe(index)
        return f"{base}_{last}" if base and last else None
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        right = _describe(node.comparators[0])
        if isinstance(node.ops[0], ast.Eq) and right:
            return f"is_{right}"
        return "mask"
    if isinstance(node, ast.BinOp) and type(node.op) in _WORDS:
        left, right = _describe(node.left), _describe(node.right)
        return f"{left}_{_WORDS[type(node.op)]}_{right}" if left and right else None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _describe(node.operand)
        return f"neg_{inner}" if inner else None
    return None


def _replaced(statement: ast.stmt, names: dict[int, str]) -> ast.stmt:
    """`statement` with each node whose id `names` holds read from that name instead."""
    result = _Replace(names).visit(statement)
    assert isinstance(result, ast.stmt)  # a statement is never one of the nodes replaced
    return result


class _Replace(ast.NodeTransformer):
    def __init__(self, names: dict[int, str]) -> None:
        self.names = names

    def visit(self, node: ast.AST) -> ast.AST:
        name = self.names.get(id(node))
        if name is not None:
            return ast.Name(name, ast.Load())
        return super().visit(node)
