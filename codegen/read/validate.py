"""Refuse unsupported syntax early, with a position, before any transformation."""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Callable

from codegen.ad import operations
from codegen.errors import Collector
from codegen.infer import aliasing
from codegen.lower.scatter import is_add_at
from codegen.lower.stacks import is_append
from codegen.read import constants, reports, resolve
from codegen.read.parse import Function, ModuleInfo

# Node types that cannot appear anywhere inside a forward function, with the
# word used in the message.
_REFUSED: dict[type[ast.AST], str] = {
    ast.Try: "try statements",
    ast.With: "with statements",
    ast.AsyncWith: "with statements",
    ast.Yield: "yield (generators)",
    ast.YieldFrom: "yield (generators)",
    ast.Await: "await",
    ast.Lambda: "lambda expressions",
    ast.Global: "global statements",
    ast.Nonlocal: "nonlocal statements",
    ast.ClassDef: "class definitions",
    ast.FunctionDef: "nested function definitions",
    ast.AsyncFunctionDef: "nested function definitions",
    ast.Delete: "del statements",
    ast.Raise: "raise statements",
    ast.Import: "imports inside a function",
    ast.ImportFrom: "imports inside a function",
    ast.ListComp: "list comprehensions",
    ast.GeneratorExp: "generator expressions",
    ast.SetComp: "set comprehensions",
    ast.DictComp: "dict comprehensions",
    ast.NamedExpr: "assignment expressions (:=)",
    ast.Match: "match statements",
    ast.Break: "break statements",  # outside a loop (desugar rewrites those in one)
    ast.Continue: "continue statements",
    ast.Expr: "expression statements",
    ast.AnnAssign: "annotated assignments",
}
# What works instead, where something does.
_SUMMED = " (only summed: sum(...), np.sum(...)); write a for loop"
# A list comprehension is built before the statement that evaluates it, where that is once.
_BUILT = " here (in `and`/`or` or a while test); write a for loop that appends"
_REWRITES: dict[type[ast.AST], str] = {
    ast.ListComp: _BUILT,
    ast.GeneratorExp: _SUMMED,
    ast.FunctionDef: " here (only in the function's own body, not in a block or another local function): move the def there",
    ast.AsyncFunctionDef: " here (only in the function's own body, not in a block or another local function): move the def there",
    ast.Lambda: ": define a local function (def) and call it",
    ast.Expr: " (only print, logging and warnings.warn calls, xs.append(v), np.add.at and random draws)",
}
if hasattr(ast, "TryStar"):
    _REFUSED[ast.TryStar] = "try statements"


# Builtins that read variables by name, out of codegen's sight: a parameter read
# through them would silently be held constant.
_REFLECTION = ("eval", "exec", "locals", "vars", "globals")


def is_docstring(node: ast.AST) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _refusals(
    function: Function,
    draws: Callable[[ast.expr], bool] = lambda call: False,
    reports: Callable[[ast.Expr], bool] = lambda statement: False,
) -> tuple[list[tuple[ast.AST, str]], bool]:
    """Every unsupported construct in `function` (not looking inside one), and
    whether it has a return statement; `xs.append(v)` statements are read;
    `draws`: whether a call statement is a random draw; `reports`: whether it is
    a print, logging or warnings.warn call."""
    defaults = [d for d in (*function.args.defaults, *function.args.kw_defaults) if d is not None]
    roots: list[ast.AST] = [*defaults, *function.body]
    plain = roots[len(defaults) + 1 :] if function.body and is_docstring(function.body[0]) else roots
    kinds = {type(node) for root in plain for node in ast.walk(root)}
    if kinds.isdisjoint(_REFUSED):  # the common case, told by one walk of Python's own
        return [], ast.Return in kinds
    found: list[tuple[ast.AST, str]] = []
    has_return = False
    pending = list(reversed(roots))
    while pending:
        node = pending.pop()
        if is_docstring(node):
            continue
        if isinstance(node, ast.Expr) and is_append(node):
            pass  # `xs.append(v)`: its value is checked like any other
        elif isinstance(node, ast.Expr) and is_add_at(node):
            pass  # np.add.at(a, index, v): read as a new value of a (the normaliser checks the call)
        elif isinstance(node, ast.Expr) and draws(node.value):
            pass  # `np.random.rand(3)` whose value nothing reads: it moves the generator on
        elif isinstance(node, ast.Expr) and reports(node):
            pass  # `print("loss", y)`: kept in the forward pass, its arguments checked like any other
        elif isinstance(node, ast.Expr) and _list_method(node) is not None:
            found.append((node, f"{_list_method(node)}(...) is not supported: build the list with append, one value at a time"))
            continue
        elif type(node) in _REFUSED:
            found.append((node, f"{_REFUSED[type(node)]} are not supported{_REWRITES.get(type(node), '')}"))
            continue
        has_return = has_return or isinstance(node, ast.Return)
        pending.extend(reversed(list(ast.iter_child_nodes(node))))
    return found, has_return


def _list_method(node: ast.Expr) -> str | None:
    """`xs.extend` for the statement `xs.extend(...)` (or insert, remove, clear)."""
    call = node.value
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)):
        return None
    return f"{call.func.value.id}.{call.func.attr}" if call.func.attr in ("extend", "insert", "remove", "clear") else None


def check_function(info: ModuleInfo, function: Function, collector: Collector) -> None:
    """Record a problem for every unsupported construct in `function`."""
    for star in (function.args.vararg, function.args.kwarg):
        if star is not None:
            line, column = _before(info, star, "*")
            collector.add(line, column, "*args and **kwargs parameters are not supported")
    if isinstance(function, ast.AsyncFunctionDef):
        line, column = info.position(function)
        collector.add(line, column, "async functions are not supported")
    if function.decorator_list:
        line, column = _before(info, function.decorator_list[0], "@")
        collector.add(line, column, "decorated functions are not supported")
    local = reports.local_names(function)
    found, has_return = _refusals(
        function, lambda call: draw_statement(call, info), lambda statement: reports.is_report(statement, info, local)
    )
    more = _reflection(info, function) + _in_place_methods(info, function) + aliasing.check_function(info, function)
    more += _unknown_owners(info, function)
    more += constants.impure_defaults(info, function)
    if more:
        found = sorted([*found, *more], key=lambda item: info.position(item[0]))
    for node, message in found:
        line, column = info.position(node)
        collector.add(line, column, message)
    if not has_return:
        line, column = _name_position(info, function)
        collector.add(line, column, f"function {function.name!r} has no return statement")


def draw_statement(value: ast.expr, info: ModuleInfo) -> bool:
    """Whether the expression statement `value` is a random draw that only moves the
    generator on (as the output writes a draw nothing reads), not a shuffle in place."""
    if not isinstance(value, ast.Call) or not resolve.is_draw(value, info, {}):
        return False
    func = value.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name not in ("shuffle", "seed")


def _reflection(info: ModuleInfo, function: Function) -> list[tuple[ast.AST, str]]:
    """Each use of a builtin that reads variables by name (`eval`, `locals()`,
    `vars()`, ...) where the function and the module leave it the builtin."""
    text = info.code(function)
    if not any(word in text for word in _REFLECTION):
        return []
    args = function.args
    bound = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
    bound |= set(info.functions) | set(info.aliases) | set(info.constants)
    names = [n for n in ast.walk(function) if isinstance(n, ast.Name) and n.id in _REFLECTION]
    bound |= {n.id for n in names if not isinstance(n.ctx, ast.Load)}
    return [
        (n, f"{n.id}() reads variables by name, which codegen cannot follow: use the names themselves")
        for n in names
        if n.id not in bound
    ]


def _unknown_owners(info: ModuleInfo, function: Function) -> list[tuple[ast.AST, str]]:
    """Each call `tf.exp(t)` whose `tf` is bound nowhere in the module (not imported,
    assigned, defined, a parameter or a builtin): read as a method of a value,
    `tf.reshape(t, ...)` would take `t` for a shape, a silent wrong gradient. (An
    imported module codegen has no rules for, such as `random`, is read that way.)"""
    known = {a.arg for a in ast.walk(info.tree) if isinstance(a, ast.arg)} | set(dir(builtins))
    for node in ast.walk(info.tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            known.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            known.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            known |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    known |= set(info.aliases) | set(info.functions) | set(info.constants)
    known |= {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    known |= {a.arg for a in ast.walk(function.args) if isinstance(a, ast.arg)}
    found: list[tuple[ast.AST, str]] = []
    for node in ast.walk(function):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr == "append" and isinstance(node.func.value, ast.Name):
            continue  # a list appended to before it is started: the lowering says how to start it
        head: ast.expr = node.func
        while isinstance(head, ast.Attribute):
            head = head.value
        if isinstance(head, ast.Name) and head.id not in known and head.id not in resolve.USUAL_MODULE_NAMES:
            label = info.code(node.func).strip()
            found.append((node, f"{label}: {head.id} is not a module codegen knows (it differentiates numpy, math and this module's functions)"))
    return found


def _in_place_methods(info: ModuleInfo, function: Function) -> list[tuple[ast.AST, str]]:
    """Each call of a method that changes its object (`x.sort()` sorts `x` and returns
    None): differentiated as its numpy function, it would be silently wrong."""
    found: list[tuple[ast.AST, str]] = []
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id in info.aliases:
                continue  # np.sort(x): a function of the module
            name = info.code(owner).strip()
            instead = operations.in_place(node.func.attr, name)
            if instead is not None:
                message = f"{name}.{node.func.attr}() changes {name} in place, which codegen does not differentiate: {instead}"
                found.append((node, message))
    return found


def _before(info: ModuleInfo, node: ast.AST, mark: str) -> tuple[int, int]:
    """Where the `*` of `*args` or the `@` of a decorator is: the parser gives the
    position of what follows it."""
    line, column = info.position(node)
    if 0 < line <= len(info.lines):
        text = info.lines[line - 1][:column].rstrip()
        if text.endswith(mark):
            return line, len(text.rstrip(mark)) if mark == "*" else len(text) - 1
    return line, column


def _name_position(info: ModuleInfo, function: Function) -> tuple[int, int]:
    """Where the function's name is written, after `def`."""
    line, column = info.position(function)
    if 0 < line <= len(info.lines):
        found = re.compile(r"(?:async\s+)?def\s+").match(info.lines[line - 1], column)
        if found:
            return line, found.end()
    return line, column
