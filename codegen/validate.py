"""Refuse unsupported syntax early, with a position, before any transformation."""

from __future__ import annotations

import ast

import libcst as cst

from codegen.errors import Collector
from codegen.parse import ModuleInfo
from codegen.stacks import is_append

# Node types that cannot appear anywhere inside a forward function, with the
# word used in the message.
_REFUSED: dict[type[cst.CSTNode], str] = {
    cst.Try: "try statements",
    cst.With: "with statements",
    cst.Yield: "yield (generators)",
    cst.Await: "await",
    cst.Lambda: "lambda expressions",
    cst.Global: "global statements",
    cst.Nonlocal: "nonlocal statements",
    cst.ClassDef: "class definitions",
    cst.FunctionDef: "nested function definitions",
    cst.Del: "del statements",
    cst.Raise: "raise statements",
    cst.Import: "imports inside a function",
    cst.ImportFrom: "imports inside a function",
    cst.ListComp: "list comprehensions",
    cst.GeneratorExp: "generator expressions",
    cst.SetComp: "set comprehensions",
    cst.DictComp: "dict comprehensions",
    cst.NamedExpr: "assignment expressions (:=)",
    cst.Match: "match statements",
    cst.Break: "break statements",
    cst.Continue: "continue statements",
    cst.Expr: "expression statements",
    cst.AnnAssign: "annotated assignments",
}


class _Fence(cst.CSTVisitor):
    def __init__(self, info: ModuleInfo, collector: Collector, allowed: frozenset[type], stacks: bool) -> None:
        self.info = info
        self.stacks = stacks  # forward mode: `xs.append(v)` statements are read
        self.collector = collector
        self.allowed = allowed
        self.depth = 0
        self.has_return = False

    def _refuse(self, node: cst.CSTNode, message: str) -> None:
        line, column = self.info.position(node)
        self.collector.add(line, column, message)

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.FunctionDef) and self.depth == 0:
            self.depth += 1
            return True
        if isinstance(node, cst.Expr) and _is_docstring(node):
            return False
        if isinstance(node, cst.Expr) and is_append(node):
            if self.stacks:
                return True
            self._refuse(node, "list appends are only supported in forward mode (--mode forward, --hvp)")
            return False
        if isinstance(node, cst.Return):
            self.has_return = True
        kind = type(node)
        if kind in _REFUSED and kind not in self.allowed:
            self._refuse(node, f"{_REFUSED[kind]} are not supported")
            return False
        return True


# The same constructs as Python's parser names them: a function free of all of
# them (and with a return) needs no walk of its libcst tree.
_REFUSED_SYNTAX = (
    ast.Try, ast.With, ast.AsyncWith, ast.Yield, ast.YieldFrom, ast.Await, ast.Lambda, ast.Global,
    ast.Nonlocal, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef, ast.Delete, ast.Raise,
    ast.Import, ast.ImportFrom, ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp,
    ast.NamedExpr, ast.Match, ast.Break, ast.Continue, ast.AnnAssign,
    *((ast.TryStar,) if hasattr(ast, "TryStar") else ()),
)  # fmt: skip


def _plainly_supported(function: ast.FunctionDef) -> bool:
    has_return = False
    for node in ast.walk(function):
        if node is function:
            continue
        if isinstance(node, _REFUSED_SYNTAX):
            return False
        if isinstance(node, ast.Expr) and not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            return False
        has_return = has_return or isinstance(node, ast.Return)
    return has_return


def _is_docstring(node: cst.Expr) -> bool:
    return isinstance(node.value, (cst.SimpleString, cst.ConcatenatedString))


def check_function(
    info: ModuleInfo,
    function: cst.FunctionDef,
    collector: Collector,
    allowed: frozenset[type] = frozenset(),
    stacks: bool = False,
) -> None:
    """Record a problem for every unsupported construct in `function`."""
    params = function.params
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            line, column = info.position(star)
            collector.add(line, column, "*args and **kwargs parameters are not supported")
    if function.asynchronous is not None:
        line, column = info.position(function)
        collector.add(line, column, "async functions are not supported")
    if function.decorators:
        line, column = info.position(function.decorators[0])
        collector.add(line, column, "decorated functions are not supported")
    syntax = info.syntax_of(function.name.value)
    if not allowed and syntax is not None and _plainly_supported(syntax):
        return
    fence = _Fence(info, collector, allowed, stacks)
    function.visit(fence)
    if not fence.has_return:
        line, column = info.position(function.name)
        collector.add(line, column, f"function {function.name.value!r} has no return statement")
