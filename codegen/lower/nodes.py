"""Small facts about the user's trees and lowered nodes, shared by the lowering's parts."""

from __future__ import annotations

import ast
from typing import TypeGuard

from codegen import ir

BINOPS: dict[type[ast.operator], tuple[str, ast.operator]] = {
    ast.Add: ("add", ast.Add()),
    ast.Sub: ("sub", ast.Sub()),
    ast.Mult: ("mul", ast.Mult()),
    ast.Div: ("div", ast.Div()),
    ast.Pow: ("pow", ast.Pow()),
    ast.MatMult: ("matmul", ast.MatMult()),
    ast.Mod: ("mod", ast.Mod()),
}
SIMPLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Expr, ast.Pass, ast.Assert)
LOAD = ast.Load()


def slot(i: int) -> ast.Name:
    return ast.Name(f"__{i}__", ast.Load())


def clone_node(node: ir.Node) -> ir.Node:
    if isinstance(node, ir.Leaf):
        return ir.Leaf(ir.clone(node.expr), node.var, ir.clone(node.index), node.basic, node.number)
    keywords = {k: ir.clone(v) for k, v in node.keywords.items()}
    return ir.Op(node.rule, [clone_node(a) for a in node.args], keywords, ir.clone(node.spelling))


def parameters(spec: ast.arguments) -> list[tuple[ast.arg, ast.expr | None, str]]:
    """Each parameter with its default and kind (posonly, positional, kwonly)."""
    positional = [*spec.posonlyargs, *spec.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(spec.defaults)) + list(spec.defaults)
    kinds = ["posonly"] * len(spec.posonlyargs) + ["positional"] * len(spec.args)
    found = list(zip(positional, defaults, kinds))
    return found + [(p, d, "kwonly") for p, d in zip(spec.kwonlyargs, spec.kw_defaults)]


def has_stars(call: ast.Call) -> bool:
    """`f(*xs)` or `f(**kw)`."""
    return any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords)


def is_number_literal(node: ast.expr | None) -> TypeGuard[ast.Constant]:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def is_active_node(node: ir.Node) -> bool:
    if isinstance(node, ir.Leaf):
        return node.var is not None
    if node.active is None:
        node.active = any(is_active_node(a) for a in node.args)  # args are staged, never made active
    return node.active
