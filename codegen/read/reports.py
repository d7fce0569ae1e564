"""Statements that only report: `print(...)`, `logging.info(...)`, `logger.debug(...)`
(a module's `logger = logging.getLogger(...)`), `warnings.warn(...)`.

Their result is unused and they change no value of the function, so they are kept
where they stand in the forward pass (the forward sweep of a fused backward, the
forward function of the split style) and have no part in the gradients.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Container

from codegen.read.parse import Function, ModuleInfo

# The logging functions and Logger methods that write a record.
_LEVELS = frozenset({"debug", "info", "warning", "warn", "error", "critical", "exception", "log"})
_REPORTS = frozenset(
    {"print", "warnings.warn", *(f"logging.{level}" for level in _LEVELS), *(f"logging.Logger.{level}" for level in _LEVELS)}
)


def is_report(node: ast.AST, info: ModuleInfo, local: Container[str]) -> bool:
    """Whether `node` is the statement `print(...)`, a logging call or
    `warnings.warn(...)`, the names it calls through bound as the module binds them;
    `local`: the function's own names (a parameter or variable named `print` or
    `logger` is not the module's)."""
    if not isinstance(node, ast.Expr) or not isinstance(node.value, ast.Call):
        return False
    return meaning(node.value.func, info, local) in _REPORTS


def local_names(function: Function) -> set[str]:
    """The names `function` binds: its parameters and every name it stores."""
    local = {a.arg for a in ast.walk(function.args) if isinstance(a, ast.arg)}
    return local | {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}


def meaning(node: ast.expr, info: ModuleInfo, local: Container[str]) -> str | None:
    """`logging.info` for `logging.info`, `logging.Logger.info` for `logger.info` or
    `logging.getLogger(__name__).info`, `print` for the builtin; None otherwise."""
    if isinstance(node, ast.Attribute):
        owner = meaning(node.value, info, local)
        return None if owner is None else f"{owner}.{node.attr}"
    if isinstance(node, ast.Call):
        return "logging.Logger" if meaning(node.func, info, local) == "logging.getLogger" else None
    if not isinstance(node, ast.Name) or node.id in local or node.id in info.functions:
        return None
    bound = _module_bindings(info, node.id)
    if not bound:
        return node.id if node.id == "print" and hasattr(builtins, node.id) else None
    if len(bound) > 1:
        return None  # bound twice: which one the call reads is not known
    statement = bound[0]
    if isinstance(statement, ast.Import):
        for alias in statement.names:
            if alias.asname == node.id:
                return alias.name
            if alias.asname is None and alias.name.split(".")[0] == node.id:
                return node.id
    elif isinstance(statement, ast.ImportFrom) and not statement.level and statement.module:
        for alias in statement.names:
            if (alias.asname or alias.name) == node.id:
                return f"{statement.module}.{alias.name}"
    elif isinstance(statement, ast.Assign) and [t for t in statement.targets if isinstance(t, ast.Name)] == statement.targets:
        # `logger = logging.getLogger(__name__)`
        return meaning(statement.value, info, ()) if isinstance(statement.value, ast.Call) else None
    return None


def _module_bindings(info: ModuleInfo, name: str) -> list[ast.stmt]:
    """The top-level statements of the module that bind `name` (imports and
    assignments; any other binding statement too, so that it counts as a second)."""
    found: list[ast.stmt] = []
    for statement in info.tree.body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            if any((a.asname or a.name.split(".")[0]) == name for a in statement.names):
                found.append(statement)
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if statement.name == name:
                found.append(statement)
        elif any(isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load) for n in ast.walk(statement)):
            found.append(statement)
    return found
