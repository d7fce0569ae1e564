"""`np.add.at(a, index, v)`: an unbuffered scatter-add, in the forward function and
in a generated backward differentiated again (part of normalise).

numpy adds every element of `v` at its position, a position named twice receiving
both (where `a[index] += v` keeps one write). It is read as a new value of `a`, a
copy with `v` added in (`a_1 = a.copy()`, then `np.add.at(a_1, index, v)`), so the
old one and the caller's array stay intact: its derivative is the identity in `a`
and a gather, `g[index]`, in `v` (a position named twice hands its gradient to
both writes); its tangent is `np.add.at` of the tangents.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from codegen import ir
from codegen.ad.rules import RULES

if TYPE_CHECKING:
    from codegen.lower.normalize import Normaliser


def is_add_at(node: ast.AST) -> bool:
    """Whether `node` is the statement `<module>.add.at(...)` (numpy's, told later)."""
    if not isinstance(node, ast.Expr) or not isinstance(node.value, ast.Call):
        return False
    func = node.value.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "at"
        and isinstance(func.value, ast.Attribute)
        and func.value.attr == "add"
    )


def statement_lines(target: str, op: ir.Op) -> list[str]:
    """The forward statements of `target = add_at(old, v)`: a copy, then the scatter."""
    old, value = (ast.unparse(ir.render(a)) for a in op.args)
    scatter = f"{ast.unparse(op.spelling)}({target}, {ast.unparse(op.keywords['index'])}, {value})"
    return [f"{target} = {old}.copy()", scatter]


def add_at_statement(n: Normaliser, node: ast.Expr, origin: int) -> None:
    """`np.add.at(a, index, v)` lowered by `n`: a new value of `a`."""
    call = node.value
    assert isinstance(call, ast.Call)
    if n.resolve(call.func) != "numpy.add.at":
        raise n.fail(call, "expression statements are not supported (only np.add.at)")
    if len(call.args) != 3 or call.keywords or any(isinstance(a, ast.Starred) for a in call.args):
        raise n.fail(call, "np.add.at takes three arguments: the array, the indices and the values")
    array, indices, values = call.args
    if not isinstance(array, ast.Name) or array.id not in n.env:
        raise n.fail(array, "np.add.at is only supported on a named array")
    name = array.id
    old = n.env[name]
    index = n.copies.to_ast(indices)  # positions: no gradient flows through them
    value = n.lower(values)
    if old not in n.active and not _active(value):
        if old in n.param_names:  # the caller's array stays intact
            n.assign(name, ir.Leaf(ast.parse(f"{old}.copy()", mode="eval").body), origin)
        scatter = ast.Call(n.copies.to_ast(call.func), [ast.Name(n.env[name], ast.Load()), index, ir.render(value)], [])
        n.body.append(ir.Plain(ast.Expr(scatter), origin))
        return
    if isinstance(value, ir.Op):
        value = n.staging.named(value, origin, f"{name}_added")
    base = ir.Leaf(ast.Name(old, ast.Load()), old if old in n.active else None)
    op = ir.Op(RULES["add.at"], [base, value], {"index": index}, n.copies.to_ast(call.func))
    new = n.staging.new_binding(name)
    n.env[name] = new
    n.staging.emit_stage(new, op, origin)


def _active(node: ir.Node) -> bool:
    """Whether a lowered value reads a differentiated variable."""
    if isinstance(node, ir.Leaf):
        return node.var is not None
    return any(_active(a) for a in node.args)
