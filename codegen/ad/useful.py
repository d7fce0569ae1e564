"""Which active variables are useful: on a differentiable path to an output."""

from __future__ import annotations

from codegen import ir


def useful_variables(fn: ir.Function) -> set[str]:
    """Active variables on a differentiable path to an output (a fixpoint, for loops)."""
    useful = {o for o in fn.differentiated if o in fn.active}
    stages = [s for s in ir.walk(fn.body) if isinstance(s, (ir.Stage, ir.Append))]
    while True:
        grown = set(useful)
        for statement in reversed(stages):
            if statement.target in grown:
                grown |= active_leaves(statement.value)
        if grown == useful:
            return useful
        useful = grown


def active_leaves(node: ir.Node) -> set[str]:
    """The variables `node` reads through differentiable operations."""
    if isinstance(node, ir.Leaf):
        return {node.var} if node.var is not None else set()
    if node.leaves is not None:
        return node.leaves
    found: set[str] = set()
    for i, arg in enumerate(node.args):
        if node.rule.flows(i):
            found |= active_leaves(arg)
    node.leaves = found  # the tree no longer changes
    return found
