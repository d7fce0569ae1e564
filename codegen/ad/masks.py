"""One gradient per mask: `np.where(c, f(x), h(x))` with both branches computed.

The rule of `np.where` gives each branch its part of the gradient, `np.where(c, g,
0.0)` and `np.where(c, 0.0, g)`, and each branch then sends its part on: a variable
read by both (leaky ReLU's `np.where(x >= 0, x, alpha * x)`) gets two gradients,
each masked. Where both branches are elementwise all the way down to whole
variables, each variable's terms are gathered from both branches first and
masked once, `dx = np.where(x >= 0, g, alpha * g)`, then summed back to the
variable's shape as the generic walk would (summing is linear, so it commutes
with the choice). An operand named by the normaliser (`e = np.exp(x)` staged,
or `alpha * x` with `alpha` differentiated) is followed into its stage where
nothing else reads it and it is bound beside the `np.where`: its own stage then
gets no gradient and is skipped, as the terms went straight to its operands.
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
    followed = _followed(d, op)
    chosen, other = _terms(d, left, gradient, followed), _terms(d, right, gradient, followed)
    if chosen is None or other is None or not set(chosen) & set(other):
        return False
    np_name = d.modules["np"]
    d.result.modules.add("np")
    for var in [*chosen, *(v for v in other if v not in chosen)]:
        branches = [_total(chosen.get(var, [])), _total(other.get(var, []))]
        where = ast.parse(f"{np_name}.where", mode="eval").body
        combined = simplify(ast.Call(where, [ir.render(condition), *branches], []))
        leaf = ir.Leaf(ast.Name(var, ast.Load()), var)
        d.contribute(leaf, d.broadcast.unbroadcast(combined, leaf, op))
    return True


def _followed(d: Differentiator, op: ir.Op) -> dict[str, ir.Op]:
    """The intermediates `_terms` may follow into their stages: bound in the block
    of the `np.where` (so before it in the same iteration), read once in the whole
    function, and neither returned nor saved in a list."""
    block = d.block_of.get(id(op))
    if block is None:
        return {}
    fn = d.fn
    return {
        s.target: s.value
        for s in block
        if isinstance(s, ir.Stage) and s.active and isinstance(s.value, ir.Op)
        and d.reads.get(s.target, 0) == 1 and s.target not in fn.outputs and s.target not in fn.stacks
    }  # fmt: skip


def _terms(d: Differentiator, node: ir.Node, gradient: ast.expr, followed: dict[str, ir.Op], out: str | None = None) -> Terms | None:
    """The gradient terms each whole variable gets from `node`, at the shape of
    `gradient` (not yet summed back); None where `node` is not elementwise all the
    way down. `out`: the name `node`'s value is bound to, if it is a stage's."""
    if isinstance(node, ir.Leaf):
        if node.var is None or node.var not in d.useful:
            return {}
        if node.index is None and node.var in followed:
            return _terms(d, followed[node.var], gradient, followed, node.var)
        return {node.var: [gradient]} if node.index is None else None
    rule = node.rule
    if rule.kind != "elementwise" or not rule.name.startswith("numpy.") or rule.uses_out and out is None:
        return None
    found: Terms = {}
    for i, arg in enumerate(node.args):
        if not rule.flows(i) or not d.reaches(arg):
            continue
        value = ast.Name(out or "__unused__", ast.Load())
        inner = _terms(d, arg, d.instantiate(node, i, gradient, value), followed)
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


def where_index(fn: ir.Function) -> tuple[dict[int, list[ir.Statement]], dict[str, int]]:
    """For `_followed`: the block holding each stage of an `np.where` (by the id of
    its value), and how often each name is read anywhere in `fn`."""
    blocks: dict[int, list[ir.Statement]] = {}
    reads: dict[str, int] = {}
    pending = [fn.body]
    while pending:
        block = pending.pop()
        for statement in block:
            read: list[ast.AST] = []
            if isinstance(statement, (ir.Stage, ir.Append)):
                if isinstance(statement.value, ir.Op) and statement.value.rule.name == "numpy.where":
                    blocks[id(statement.value)] = block
                read.append(ir.render(statement.value))
            elif isinstance(statement, ir.Plain):
                read.append(statement.code)
            elif isinstance(statement, ir.If):
                read.append(statement.test)
                pending += [statement.body, statement.orelse]
            else:
                read += [e for e in (statement.iter, statement.test) if e is not None]
                read += [ast.Name(name, ast.Load()) for name in statement.carried]  # never followed
                pending.append(statement.body)
            for tree in read:
                for node in ast.walk(tree):
                    if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Store):
                        reads[node.id] = reads.get(node.id, 0) + 1
    return blocks, reads
