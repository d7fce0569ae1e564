"""Helper functions defined inside a forward function, made module functions.

`def _fn(a, n): ...` at the top level of a forward function's body becomes a
function of the module, which codegen inlines at each call as it does the
module's own helpers. The values it reads from the function around it (a
closure: `w` in `def _fn(a): return a * w`) become keyword parameters, passed
at each call (`_fn(x, w=w)`): a closure reads them when it is called, and so
does the call. Done on the parsed module, before anything else reads it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from codegen.naming import identifiers

Function = ast.FunctionDef | ast.AsyncFunctionDef
Report = Callable[[ast.AST, str], None]  # a problem at a node


def lift(module: ast.Module, functions: dict[str, Function], report: Report) -> set[str]:
    """Move the local functions of each of `functions` (the module's) into it, each
    keeping its name unless the module uses that name elsewhere; returns the names
    they are given."""
    lifted: set[str] = set()
    names = [(statement, identifiers(statement)) for statement in module.body]
    for outer in list(functions.values()):
        elsewhere = set(functions).union(*(found for statement, found in names if statement is not outer))
        found = _lift_from(outer, elsewhere, report)
        for name, function in found.items():
            functions[name] = function
            lifted.add(name)
    return lifted


def _lift_from(outer: Function, taken: set[str], report: Report) -> dict[str, Function]:
    local = {s.name: s for s in outer.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
    if not local:
        return {}
    bound = _bound(outer) | {a.arg for a in _arguments(outer.args)}
    renamed: dict[str, str] = {}
    for name in local:
        new = name if name not in taken else f"{outer.name}_{name.lstrip('_')}"
        while new in taken:
            new += "_"
        renamed[name] = new
        taken = taken | {new}
    # What each reads of the function around it, including what the local functions it calls read.
    free = {name: _free(function, bound - set(local)) for name, function in local.items()}
    while True:
        grown = {
            name: free[name].union(*(free[c] for c in _called(function, local) if c != name))
            for name, function in local.items()
        }
        if grown == free:
            break
        free = grown
    for name, function in local.items():
        for default in [*function.args.defaults, *(d for d in function.args.kw_defaults if d is not None)]:
            if _loads(default) & bound:
                report(default, f"a default of the local function {name} reads a local variable: pass it at each call")
    outer.body = [s for s in outer.body if not (isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name in local)]
    for root in [outer, *local.values()]:
        _Calls(local, renamed, free, report, root).visit(root)
    result: dict[str, Function] = {}
    for name, function in local.items():
        for variable in sorted(free[name]):
            function.args.kwonlyargs.append(ast.copy_location(ast.arg(variable), function))
            function.args.kw_defaults.append(None)
        function.name = renamed[name]
        result[renamed[name]] = function
    return result


class _Calls(ast.NodeTransformer):
    """Calls of the local functions renamed, their free variables passed by keyword;
    any other use of their names refused."""

    def __init__(
        self, local: dict[str, Function], renamed: dict[str, str], free: dict[str, set[str]], report: Report,
        root: Function,
    ) -> None:  # fmt: skip
        self.local, self.renamed, self.free, self.report, self.root = local, renamed, free, report, root

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        if node is not self.root:
            return node  # a function defined inside a local one: refused where it is validated
        self.generic_visit(node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        func = node.func
        if not (isinstance(func, ast.Name) and func.id in self.local):
            self.generic_visit(node)
        else:
            node.args = [self.visit(arg) for arg in node.args]
            node.keywords = [self.visit(keyword) for keyword in node.keywords]
            name = func.id
            passed = {k.arg for k in node.keywords}
            for variable in sorted(self.free[name] - passed):
                node.keywords.append(ast.copy_location(ast.keyword(variable, ast.copy_location(ast.Name(variable, ast.Load()), node)), node))
            node.func = ast.copy_location(ast.Name(self.renamed[name], ast.Load()), func)
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.local and isinstance(node.ctx, ast.Load):
            message = f"the local function {node.id} is used as a value: only calls to it are supported (call it)"
            self.report(node, message)
        return node


def _arguments(spec: ast.arguments) -> list[ast.arg]:
    stars = [a for a in (spec.vararg, spec.kwarg) if a is not None]
    return [*spec.posonlyargs, *spec.args, *spec.kwonlyargs, *stars]


def _inside(function: Function) -> list[ast.AST]:
    """The nodes of `function`'s body, not looking into functions defined in it."""
    found: list[ast.AST] = []
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop()
        found.append(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        pending.extend(ast.iter_child_nodes(node))
    return found


def _bound(function: Function) -> set[str]:
    """The names `function`'s body binds (its local defs included)."""
    names = {n.id for n in _inside(function) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    return names | {n.name for n in _inside(function) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _loads(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _free(function: Function, outer: set[str]) -> set[str]:
    """The names of the function around it (`outer`) that `function` reads."""
    own = _bound(function) | {a.arg for a in _arguments(function.args)}
    read = {n.id for n in _inside(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return (read - own) & outer


def _called(function: Function, local: dict[str, Function]) -> set[str]:
    return {
        n.func.id for n in _inside(function) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in local
    }
