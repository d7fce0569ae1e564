"""Names the user's code rebinds that the output relies on: refused with a position.

The generated code calls builtins itself (`range`, `len`, `reversed`, ...),
reaches numpy and math by the input's import names, and defines functions
named after the forward ones (`f_backward`). A user's local of such a name is
renamed by the normaliser; a parameter, a top-level constant the output copies,
or a rebinding of an import cannot be renamed without changing what the user
wrote, so it is refused here, where it is written.
"""

from __future__ import annotations

import ast

from codegen.errors import Collector
from codegen.naming import CALLED_BUILTINS
from codegen.read.parse import ModuleInfo


def check_module(info: ModuleInfo, collector: Collector) -> None:
    """Record a problem for each math or numpy import name the module binds again
    afterwards (`np = 3` after `import numpy as np`): the functions read that name
    as the module, and Python as the new value."""
    imported: dict[str, str] = {}
    for statement in info.tree.body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            for alias in statement.names:
                local = alias.asname or alias.name.split(".")[0]
                if local in info.aliases:
                    imported[local] = info.aliases[local]
            continue
        for name in _top_level_bindings(statement):
            if name in imported:
                line, column = info.position(statement)
                collector.add(
                    line, column, f"{name} is bound again after it was imported as {imported.pop(name)}: rename one"
                )


def check_output(info: ModuleInfo, code: str, forwards: list[str], collector: Collector) -> None:
    """Record a problem for each parameter or copied constant that rebinds a name
    the generated `code` calls or defines."""
    params = {a.arg: a for name in forwards for a in _arguments(info.functions[name].args)}
    constants = {n for s in info.tree.body if isinstance(s, (ast.Assign, ast.AnnAssign)) for n in _top_level_bindings(s)}
    suffixed = {n for n in constants if "_" in n and n.rsplit("_", 1)[0] in info.functions}
    if not (set(params) | constants) & CALLED_BUILTINS and not suffixed:
        return  # the common case, told without reading the output
    tree = ast.parse(code)
    defined = {s.name for s in tree.body if isinstance(s, ast.FunctionDef)}
    copied = {n for s in tree.body if isinstance(s, (ast.Assign, ast.AnnAssign)) for n in _top_level_bindings(s)}
    called = {
        n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    } & CALLED_BUILTINS
    for function in (s for s in tree.body if isinstance(s, ast.FunctionDef)):
        own = {n.func.id for n in ast.walk(function) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        for arg in _arguments(function.args):
            if arg.arg in own & CALLED_BUILTINS and arg.arg in params:
                line, column = info.position(params[arg.arg])
                collector.add(
                    line, column, f"parameter {arg.arg} hides the builtin {arg.arg}(), which the generated code calls: "
                    "rename the parameter"
                )
    for name in sorted(copied & (defined | called)):
        statement = [s for s in info.tree.body if name in _top_level_bindings(s)][-1]
        line, column = info.position(statement)
        what = f"the generated function {name}" if name in defined else f"the builtin {name}(), which it calls"
        collector.add(line, column, f"the output copies the top-level {name}, which would hide {what}: rename it")


def _arguments(spec: ast.arguments) -> list[ast.arg]:
    return [*spec.posonlyargs, *spec.args, *spec.kwonlyargs]


def _top_level_bindings(statement: ast.stmt) -> list[str]:
    """The names a top-level statement other than an import binds."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [statement.name]
    targets: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
        targets = [statement.target]
    elif isinstance(statement, (ast.For, ast.AsyncFor)):
        targets = [statement.target]
    return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
