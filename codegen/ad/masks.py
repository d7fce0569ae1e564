"""One gradient per mask: `np.where(c, f(x), h(x))` with both branches computed.

The rule of `np.where` gives each branch its part of the gradient, `np.where(c, g,
0.0)` and `np.where(c, 0.0, g)`, and each branch then sends its part on: a variable
read by both (leaky ReLU's `np.where(x >= 0, x, alpha * x)`) gets two gradients,
each masked. Where both branches are elementwise all the way down to whole
variables, each variable's terms are gathered from both branches first and
masked once, `dx = np.where(x >= 0, g, alpha * g)`, then summed back to the
variable's shape as the generic walk would (summing is linear, so it commutes
with the choice).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from codegen import ir
from codegen.optimize.simplify import simplify

if TYPE_CHECKING:
    from codegen.ad.differentiate import Differentiator

Terms = dict[str, list[ast.expr]]


def masked_once(d: Differentiator, op: ir.Op, gradient: ast.expr) -> bool:
    """Backpropagate `gradient` through `np.where(c, a, b)` with each variable's
    gradient masked once; False (nothing written) where the branches share none."""
    if len(op.args) != 3:
        return False
    condition, left, right = op.args
    chosen, other = _terms(d, left, gradient), _terms(d, right, gradient)
    if chosen is None or other is None or not set(chosen) & set(other):
        return False
    np_name = d.modules["np"]
    d.result.modules.add("np")
    for var in [*chosen, *(v for v in other if v not in chosen)]:
        branches = [_total(chosen.get(var, [])), _total(other.get(var, []))]
        where = ast.parse(f"{np_name}.where", mode="eval").body
        combined = simplify(ast.Call(where, [ir.render(condition), *branches], []))
        leaf = ir.Leaf(ast.Name(var, ast.Load()), var)
        d.contribute(leaf, d.unbroadcast(combined, leaf, op))
    return True


def _terms(d: Differentiator, node: ir.Node, gradient: ast.expr) -> Terms | None:
    """The gradient terms each whole variable gets from `node`, at the shape of
    `gradient` (not yet summed back); None where `node` is not elementwise all the
    way down."""
    if isinstance(node, ir.Leaf):
        if node.var is None or node.var not in d.useful:
            return {}
        return {node.var: [gradient]} if node.index is None else None
    rule = node.rule
    if rule.kind != "elementwise" or not rule.name.startswith("numpy.") or rule.uses_out:
        return None
    found: Terms = {}
    for i, arg in enumerate(node.args):
        if not rule.flows(i) or not d.reaches(arg):
            continue
        inner = _terms(d, arg, d.instantiate(node, i, gradient, ast.Name("__unused__", ast.Load())))
        if inner is None:
            return None
        for var, terms in inner.items():
            found.setdefault(var, []).extend(terms)
    return found


def _total(terms: list[ast.expr]) -> ast.expr:
    if not terms:
        return ast.Constant(0.0)
    total = terms[0]
    for term in terms[1:]:
        total = ast.BinOp(total, ast.Add(), term)
    return total
