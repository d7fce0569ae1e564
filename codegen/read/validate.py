"""Refuse unsupported syntax early, with a position, before any transformation."""

from __future__ import annotations

import ast
import re

from codegen.ad import operations
from codegen.errors import Collector
from codegen.infer import aliasing
from codegen.lower.scatter import is_add_at
from codegen.lower.stacks import is_append
from codegen.read import constants
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
    ast.Break: "break statements",
    ast.Continue: "continue statements",
    ast.Expr: "expression statements",
    ast.AnnAssign: "annotated assignments",
}
# What works instead, where something does.
_SUMMED = " (only summed: sum(...), np.sum(...)); write a for loop"
_REWRITES: dict[type[ast.AST], str] = {
    ast.ListComp: _SUMMED,
    ast.GeneratorExp: _SUMMED,
    ast.Continue: " here (only as the last statement of an if in the loop body): put what follows in an else",
    ast.Break: ": loop with while, on the condition the break tests",
}
if hasattr(ast, "TryStar"):
    _REFUSED[ast.TryStar] = "try statements"


# Builtins that read variables by name, out of codegen's sight: a parameter read
# through them would silently be held constant.
_REFLECTION = ("eval", "exec", "locals", "vars", "globals")


def is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _refusals(function: Function, stacks: bool) -> tuple[list[tuple[ast.AST, str]], bool]:
    """Every unsupported construct in `function` (not looking inside one), and
    whether it has a return statement. `stacks` (forward mode): `xs.append(v)`
    statements are read."""
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
        if is_docstring(node):  # type: ignore[arg-type]
            continue
        if isinstance(node, ast.Expr) and is_append(node):
            if not stacks:
                found.append((node, "list appends are only supported in forward mode (--mode forward, --hvp)"))
                continue
        elif isinstance(node, ast.Expr) and is_add_at(node):
            pass  # np.add.at(a, index, v): read as a new value of a (the normaliser checks the call)
        elif type(node) in _REFUSED:
            found.append((node, f"{_REFUSED[type(node)]} are not supported{_REWRITES.get(type(node), '')}"))
            continue
        has_return = has_return or isinstance(node, ast.Return)
        pending.extend(reversed(list(ast.iter_child_nodes(node))))
    return found, has_return


def check_function(info: ModuleInfo, function: Function, collector: Collector, stacks: bool = False) -> None:
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
    found, has_return = _refusals(function, stacks)
    more = _reflection(info, function) + _in_place_methods(info, function) + aliasing.check_function(info, function)
    more += constants.impure_defaults(info, function)
    if more:
        found = sorted([*found, *more], key=lambda item: info.position(item[0]))
    for node, message in found:
        line, column = info.position(node)
        collector.add(line, column, message)
    if not has_return:
        line, column = _name_position(info, function)
        collector.add(line, column, f"function {function.name!r} has no return statement")


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
