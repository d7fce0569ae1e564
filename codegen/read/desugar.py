"""Python conveniences rewritten as the statements codegen differentiates.

Done on the parsed function, before it is validated, so the rest of codegen
sees only what it handles; the new statements keep the positions of the code
they come from, which error messages and the generated comments quote.

- Sums over comprehensions: `sum(f(x) for x in xs)`, `sum([f(x) for x in xs])`,
  `np.sum([...])` and `math.fsum(...)` become an accumulator and a `for` loop
  (an `if` for each condition) before the statement that uses them, and
  `sum([a, b, c])` becomes `a + b + c`. A comprehension's variables are renamed
  where the function uses the same name elsewhere (they have a scope of their own).
- `continue` as the last statement of an `if` in a loop body: the rest of the
  body moves into the other branch.
- `for ... else` and `while ... else` without `break`: the `else` block always
  runs after the loop, so it is written after it.
- An early `return` in an `if` at the function's top level: each branch
  assigns the returned values and the function returns them once, at its end.
- What is left of `break`, `continue` and `return` (in loops, in nested
  branches): flags and guards, by `exits`.
"""

from __future__ import annotations

import ast
import builtins
import copy
from collections.abc import Container
from typing import TypeVar

from codegen.read import exits

_Comprehension = ast.GeneratorExp | ast.ListComp
_Function = ast.FunctionDef | ast.AsyncFunctionDef


def desugar(function: _Function, aliases: dict[str, str], functions: Container[str]) -> None:
    """Rewrite `function` in place; `aliases` maps the module's import names to what
    they import, `functions` are the module's own."""
    rewriter = _Rewriter(function, aliases, functions)
    rewriter.block(function.body)
    function.body = _control_flow(function.body)
    rewritten = exits.rewrite(function.body, rewriter.fresh, rewriter.assigned, _single_return_works)
    function.body = rewriter.single_return(function.body if rewritten is None else rewritten)


def _control_flow(statements: list[ast.stmt], tail: bool = False) -> list[ast.stmt]:
    """`continue` at the end of a branch, and loops' `else` blocks, rewritten.

    `tail`: the iteration of the innermost loop ends when `statements` do (a loop
    body, or a branch that is the last statement of one), so a `continue` at the
    end of a branch here skips exactly the statements after it in this list.
    """
    out: list[ast.stmt] = []
    for i, statement in enumerate(statements):
        last = i == len(statements) - 1
        if isinstance(statement, ast.Continue) and tail:
            return out  # what follows in the iteration is skipped: nothing, or dead code
        if isinstance(statement, (ast.For, ast.While)):
            statement.body = _control_flow(statement.body, tail=True)
            if statement.orelse and not _breaks(statement.body):
                # Without a break the else block always runs, right after the loop.
                orelse, statement.orelse = statement.orelse, []
                out += [statement, *_control_flow(orelse, tail and last)]
                continue
        elif isinstance(statement, ast.If):
            skips = [_ends_in_continue(statement.body), _ends_in_continue(statement.orelse)]
            if tail and any(skips) and not all(skips):
                # `if c: A; continue` then B: `if c: A else: B` (and the mirror image).
                rest = statements[i + 1 :]
                if skips[0]:
                    statement.orelse = statement.orelse + rest
                else:
                    statement.body = statement.body + rest
                last = True
            statement.body = _control_flow(statement.body, tail and last) or [located(ast.Pass(), statement)]
            statement.orelse = _control_flow(statement.orelse, tail and last)
            out.append(statement)
            if last:
                return out
            continue
        out.append(statement)
    return out


def _ends_in_continue(statements: list[ast.stmt]) -> bool:
    return bool(statements) and isinstance(statements[-1], ast.Continue)


def _breaks(statements: list[ast.stmt]) -> bool:
    """Whether a `break` of this loop (not of a loop inside it) is among `statements`."""
    pending: list[ast.AST] = list(statements)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Break):
            return True
        if not isinstance(node, (ast.For, ast.While, ast.AsyncFor, ast.FunctionDef, ast.Lambda)):
            pending.extend(ast.iter_child_nodes(node))
        elif isinstance(node, (ast.For, ast.While, ast.AsyncFor)):
            pending.extend(node.orelse)  # a loop's else belongs to the enclosing loop
    return False


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return None if inner is None else f"{inner}.{node.attr}"
    return None


class _Rewriter:
    def __init__(self, function: _Function, aliases: dict[str, str], functions: Container[str]) -> None:
        self.function = function
        self.aliases = aliases
        self.functions = functions
        self.hint = "total"  # the name of the next accumulator
        spec = function.args
        self.params = {a.arg for a in (*spec.posonlyargs, *spec.args, *spec.kwonlyargs)}
        self.taken = {n.id for n in ast.walk(function) if isinstance(n, ast.Name)} | {
            a.arg for a in ast.walk(function.args) if isinstance(a, ast.arg)
        }

    def fresh(self, base: str) -> str:
        name, k = base, 0
        while name in self.taken:
            k += 1
            name = f"{base}_{k}"
        self.taken.add(name)
        return name

    # ---- early returns ------------------------------------------------------------
    def single_return(self, statements: list[ast.stmt]) -> list[ast.stmt]:
        """Returns in `if`s at the top level (`if c: return a` then `return b`, or a
        return in each branch) as one return at the end, each branch assigning the
        values; the statements unchanged where that cannot be done."""
        if statements and isinstance(statements[-1], ast.Return) and not any(map(_returns_inside, statements[:-1])):
            return statements  # the common case: nothing to do
        merged = _merged(copy.deepcopy(statements))
        returns = _final_returns(merged)
        if returns is None or any(_returns_inside(s) for s in _non_final(merged)):
            return statements
        counts = {len(r.value.elts) if isinstance(r.value, ast.Tuple) else 1 for r in returns}
        if len(counts) != 1:
            return statements  # refused later: the values returned differ in number
        count = counts.pop()
        names = [self.fresh("out")] if count == 1 else [self.fresh(f"out{k + 1}") for k in range(count)]
        for returned in returns:
            _replace(merged, returned, self.assigned(returned, names))
        values: list[ast.expr] = [ast.Name(n, ast.Load()) for n in names]
        result = values[0] if count == 1 else ast.Tuple(values, ast.Load())
        # Just after the last statement: the values are read after the `if` that sets them.
        after = merged[-1]
        final = ast.Return(result)
        line, column = after.end_lineno or after.lineno, after.end_col_offset or 0
        for node in ast.walk(final):
            if isinstance(node, (ast.expr, ast.stmt)):
                node.lineno, node.col_offset, node.end_lineno, node.end_col_offset = line, column, line, column
        return merged + [final]

    def assigned(self, returned: ast.Return, names: list[str]) -> ast.stmt:
        """`return e` as `out = e` (`out1, out2 = a, b` for several values)."""
        value = returned.value
        count = len(value.elts) if isinstance(value, ast.Tuple) else 1
        if value is None or count != len(names):
            return returned  # refused later: the values returned differ in number
        target: ast.expr = (
            ast.Name(names[0], ast.Store())
            if count == 1
            else ast.Tuple([ast.Name(n, ast.Store()) for n in names], ast.Store())
        )
        return located(ast.Assign([target], value), returned)

    # ---- statements ---------------------------------------------------------------
    def block(self, statements: list[ast.stmt]) -> None:
        i = 0
        while i < len(statements):
            statement = statements[i]
            branches = _branched(statement)
            if branches is not None:  # `s = sum(...) if c else sum(...)`: an `if` of two assignments
                statements[i] = statement = branches
            for field in ("body", "orelse"):
                inner = getattr(statement, field, None)
                if isinstance(inner, list) and not isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
                    self.block(inner)
            kept = self.kept_list(statement)
            if kept is not None:  # `terms = [w[i] * x[i] for i in range(n)]`: built in place
                statements[i : i + 1] = kept
                i += len(kept)
                continue
            before = self.hoist(statement)
            statements[i:i] = before
            i += len(before) + 1

    def kept_list(self, statement: ast.stmt) -> list[ast.stmt] | None:
        """`name = [f(x) for x in xs]` as `name = []` and a loop appending to it."""
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
            return None
        target, value = statement.targets[0], statement.value
        if not isinstance(target, ast.Name) or not isinstance(value, ast.ListComp):
            return None
        if any(isinstance(n, ast.Name) and n.id == target.id for n in ast.walk(value)):
            return None  # it reads the name's earlier value
        before: list[ast.stmt] = []
        self.listed(value, before, target.id)
        return before

    def hoist(self, statement: ast.stmt) -> list[ast.stmt]:
        """The statements computing the sums in `statement`'s own expressions, which
        are replaced by their accumulators (`if` tests included, loop tests not)."""
        roots: list[tuple[ast.AST, str]] = []
        if isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Expr)):
            roots.append((statement, "value"))
            # `return sum(...)` returns the accumulator: name it as a returned value.
            self.hint = "out" if isinstance(statement, ast.Return) and isinstance(statement.value, ast.Call) else "total"
        elif isinstance(statement, ast.If):
            roots.append((statement, "test"))
        elif isinstance(statement, ast.For):
            roots.append((statement, "iter"))
        before: list[ast.stmt] = []
        for parent, field in roots:
            value = getattr(parent, field, None)
            if isinstance(value, ast.expr):
                setattr(parent, field, self.expression(value, before))
        return before

    # ---- expressions ----------------------------------------------------------------
    def expression(self, node: ast.expr, before: list[ast.stmt], hoisted: bool = True) -> ast.expr:
        """`node` with each sum it evaluates unconditionally replaced by its accumulator,
        and each list comprehension (`hoisted`) by a list built before it."""
        if isinstance(node, ast.ListComp) and hoisted:
            return ast.copy_location(ast.Name(self.listed(node, before, self.fresh("items")), ast.Load()), node)
        if isinstance(node, ast.IfExp) and _comprehends(node):
            # `f([...] if c else b)`: the branch chosen is named first, by an `if`
            chosen = ast.Name(self.fresh("choice"), ast.Store())
            choice = _branched(located(ast.Assign([chosen], node), node))
            assert choice is not None
            built: list[ast.stmt] = [choice]
            self.block(built)
            before.extend(built)
            # read just after the `if` (what lowering's reads-after ask of its position)
            read = ast.Name(chosen.id, ast.Load(), lineno=node.end_lineno, col_offset=node.end_col_offset)
            read.end_lineno, read.end_col_offset = node.end_lineno, node.end_col_offset
            return read
        if isinstance(node, (ast.IfExp, ast.BoolOp, ast.Lambda, ast.GeneratorExp, ast.ListComp)):
            return node  # evaluated only sometimes, or in a scope of its own
        # a sum's own comprehension becomes its loop (`reduced`), not a list; with an
        # axis (`np.sum([...], axis=0)`) it is a list of arrays built before the call
        summed = node.args[0] if isinstance(node, ast.Call) and node.args and not node.keywords and self.reduction(node) else None
        for field, value in ast.iter_fields(node):
            if isinstance(value, ast.expr):
                setattr(node, field, self.expression(value, before, value is not summed))
            elif isinstance(value, list):
                setattr(node, field, [self.expression(v, before, v is not summed) if isinstance(v, ast.expr) else v for v in value])
        if isinstance(node, ast.Call):
            return self.reduced(node, before) or node
        return node

    def reduction(self, call: ast.Call) -> str | None:
        """'sum', 'numpy' or 'fsum' when `call` is the builtin sum, numpy's or math.fsum."""
        name = _dotted(call.func)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        if head in self.aliases:
            full = self.aliases[head] + (f".{rest}" if rest else "")
            return {"numpy.sum": "numpy", "math.fsum": "fsum"}.get(full)
        if name == "sum" and name not in self.functions and hasattr(builtins, name):
            return "sum"
        return None

    def reduced(self, call: ast.Call, before: list[ast.stmt]) -> ast.expr | None:
        kind = self.reduction(call)
        if kind is None or call.keywords or not call.args:
            return None
        if kind != "numpy" and isinstance(call.args[0], (ast.List, ast.Tuple)) and len(call.args) == 1:
            elements = call.args[0].elts
            if not elements or any(isinstance(e, ast.Starred) for e in elements):
                return None
            total = elements[0]
            for element in elements[1:]:
                total = ast.copy_location(ast.BinOp(total, ast.Add(), element), call)
            return total
        comprehension = call.args[0]
        if kind != "numpy" and isinstance(comprehension, ast.Name) and comprehension.id in self.params:
            # `sum(v)` of a parameter (a list, an array: its rows) is Python's loop
            item = self.fresh(f"{comprehension.id}_item")
            target, element = (_placed(ast.Name(item, ctx), comprehension) for ctx in (ast.Store(), ast.Load()))
            loop = ast.comprehension(target, comprehension, [], 0)
            comprehension = located(ast.GeneratorExp(element, [loop]), comprehension)
        if not isinstance(comprehension, _Comprehension) or len(call.args) > (2 if kind == "sum" else 1):
            return None
        start = call.args[1] if len(call.args) == 2 else ast.Constant(0.0)
        accumulator = self.fresh(self.hint)
        self.hint = "total"
        before.append(located(ast.Assign([ast.Name(accumulator, ast.Store())], start), call))
        element = comprehension.elt
        if kind == "numpy":  # np.sum of a list of arrays adds up every element of each
            element = ast.copy_location(ast.Call(copy.deepcopy(call.func), [element], []), element)
        step: ast.stmt = located(
            ast.Assign(
                [ast.Name(accumulator, ast.Store())],
                ast.copy_location(ast.BinOp(ast.Name(accumulator, ast.Load()), ast.Add(), element), element),
            ),
            element,
        )
        if not self.loops(comprehension, [step], before):
            return None
        return ast.copy_location(ast.Name(accumulator, ast.Load()), call)

    def listed(self, comprehension: ast.ListComp, before: list[ast.stmt], name: str) -> str:
        """`name = []` and the loop appending each element, added to `before`."""
        start = located(ast.Assign([ast.Name(name, ast.Store())], ast.List([], ast.Load())), comprehension)
        append = ast.Attribute(ast.Name(name, ast.Load()), "append", ast.Load())
        step = located(ast.Expr(ast.Call(append, [comprehension.elt], [])), comprehension.elt)
        built = [start]
        if not self.loops(comprehension, [step], built):
            return name  # an async comprehension: left as it is, refused later
        before.extend(built)
        return name

    def loops(self, comprehension: _Comprehension, body: list[ast.stmt], before: list[ast.stmt]) -> bool:
        """The comprehension's loops and conditions around `body`, added to `before`;
        False for an async one."""
        if any(generator.is_async for generator in comprehension.generators):
            return False
        self.rename_targets(comprehension)
        self.block(body)  # a sum inside the element
        first = comprehension.generators[0]
        iterable = first.iter
        if not isinstance(iterable, ast.Name) and not (
            isinstance(iterable, ast.Call) and _dotted(iterable.func) in ("range", "enumerate", "zip", "reversed")
        ):
            # Loops run over a named list or array: name the iterable first.
            items = self.fresh("items")
            before.append(located(ast.Assign([ast.Name(items, ast.Store())], iterable), iterable))
            first.iter = ast.copy_location(ast.Name(items, ast.Load()), iterable)
        for generator in reversed(comprehension.generators):
            for condition in reversed(generator.ifs):
                body = [located(ast.If(condition, body, []), condition)]
            # An ast.comprehension has no position: the loop stands at the whole comprehension.
            body = [located(ast.For(generator.target, generator.iter, body, []), comprehension)]
        before.extend(body)
        return True

    def rename_targets(self, comprehension: _Comprehension) -> None:
        """Give the comprehension's variables names of their own in the function."""
        outside = _names_outside(self.function, comprehension)
        renames: dict[str, str] = {}
        for generator in comprehension.generators:
            for target in ast.walk(generator.target):
                if isinstance(target, ast.Name) and target.id in outside and target.id not in renames:
                    renames[target.id] = self.fresh(target.id)
        # The first iterable is evaluated outside the comprehension's scope.
        inside: list[ast.AST] = [comprehension.elt]
        for i, generator in enumerate(comprehension.generators):
            inside += [generator.target, *generator.ifs] + ([generator.iter] if i else [])
        for part in inside:
            for node in ast.walk(part):
                if isinstance(node, ast.Name) and node.id in renames:
                    node.id = renames[node.id]


def _branched(statement: ast.stmt) -> ast.If | None:
    """`name = a if c else b` (or `return a if c else b`) as an `if` assigning (or
    returning) in each branch, where a branch holds a comprehension: each branch's
    comprehension then becomes the loop that runs only in that branch."""
    value = statement.value if isinstance(statement, (ast.Assign, ast.Return)) else None
    if not isinstance(value, ast.IfExp):
        return None
    if isinstance(statement, ast.Assign) and (len(statement.targets) != 1 or not isinstance(statement.targets[0], ast.Name)):
        return None
    if not _comprehends(value):
        return None

    def branch(part: ast.expr) -> list[ast.stmt]:
        if isinstance(statement, ast.Assign):
            return [located(ast.Assign([copy.deepcopy(statement.targets[0])], part), statement)]
        return [located(ast.Return(part), statement)]

    return located(ast.If(value.test, branch(value.body), branch(value.orelse)), statement)


def _comprehends(choice: ast.IfExp) -> bool:
    return any(isinstance(n, _Comprehension) for branch in (choice.body, choice.orelse) for n in ast.walk(branch))


def _names_outside(function: _Function, skipped: ast.AST) -> set[str]:
    found: set[str] = set()
    pending: list[ast.AST] = [function]
    while pending:
        node = pending.pop()
        if node is skipped:
            continue
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
        pending.extend(ast.iter_child_nodes(node))
    return found


_Located = TypeVar("_Located", ast.expr, ast.stmt)


def located(node: _Located, where: ast.AST) -> _Located:
    """`node` made by codegen, at `where`'s position, with every part of it that has
    none (the code it stands for, which error messages and comments quote)."""
    node = ast.copy_location(node, where)
    for part in ast.walk(node):
        if not hasattr(part, "lineno") and isinstance(part, (ast.expr, ast.stmt)):
            ast.copy_location(part, where)
    return node


def _placed(node: ast.Name, where: ast.AST) -> ast.Name:
    """A name codegen made, at `where` with an empty span: quoted as it is written."""
    ast.copy_location(node, where)
    node.end_lineno, node.end_col_offset = node.lineno, node.col_offset
    return node


def _single_return_works(statements: list[ast.stmt]) -> bool:
    """Whether `_Rewriter.single_return` leaves one return, at the end of `statements`."""
    if statements and isinstance(statements[-1], ast.Return) and not any(map(_returns_inside, statements[:-1])):
        return True
    if not any(map(_returns_inside, statements)):
        return True  # refused later: no return
    merged = _merged(copy.deepcopy(statements))
    return _final_returns(merged) is not None and not any(_returns_inside(s) for s in _non_final(merged))


def _ends(statements: list[ast.stmt]) -> bool:
    """Whether every way through `statements` ends with a return of a value."""
    if not statements:
        return False
    last = statements[-1]
    if isinstance(last, ast.Return):
        return last.value is not None
    return isinstance(last, ast.If) and _ends(last.body) and _ends(last.orelse)


def _merged(statements: list[ast.stmt]) -> list[ast.stmt]:
    """`if c: A (ending in a return)` then B: `if c: A else: B`, in every branch."""
    for i, statement in enumerate(statements):
        if not isinstance(statement, ast.If):
            continue
        rest = statements[i + 1 :]
        if rest and _ends(statement.body) != _ends(statement.orelse):
            if _ends(statement.body):
                statement.orelse = statement.orelse + rest
            else:
                statement.body = statement.body + rest
            rest = []
        statement.body = _merged(statement.body)
        statement.orelse = _merged(statement.orelse)
        if not rest:
            return statements[: i + 1]
    return statements


def _final_returns(statements: list[ast.stmt]) -> list[ast.Return] | None:
    """The returns that end every way through `statements`; None unless all do."""
    if not _ends(statements):
        return None
    last = statements[-1]
    if isinstance(last, ast.Return):
        return [last]
    assert isinstance(last, ast.If)
    return (_final_returns(last.body) or []) + (_final_returns(last.orelse) or [])


def _non_final(statements: list[ast.stmt]) -> list[ast.AST]:
    """The statements of `statements` other than the final returns (and the `if`s holding them)."""
    if not statements:
        return []
    *first, last = statements
    before: list[ast.AST] = list(first)
    if isinstance(last, ast.If):
        return before + [last.test] + _non_final(last.body) + _non_final(last.orelse)
    return before if isinstance(last, ast.Return) else [*before, last]


def _replace(statements: list[ast.stmt], old: ast.stmt, new: ast.stmt) -> None:
    for i, statement in enumerate(statements):
        if statement is old:
            statements[i] = new
        elif isinstance(statement, ast.If):
            _replace(statement.body, old, new)
            _replace(statement.orelse, old, new)


def _returns_inside(statement: ast.AST) -> bool:
    return any(isinstance(n, ast.Return) for n in ast.walk(statement))
