"""Broadcasting in the backward (part of differentiate).

A gradient that broadcasting grew is summed back to its operand's shape
(`unbroadcast`), or, where the inner operation is elementwise, at that
operation's own operands (`sums_at_operands`). A reduction's gradient
`np.ones_like(v) * e` is left narrow, `e`, where every gradient it reaches
broadcasts to its shape just the same (`narrowed`).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from codegen import ir
from codegen.ad.gradient_forms import _arithmetic_names
from codegen.infer.shapes import SCALAR, shape_helper
from codegen.ir import render
from codegen.naming import temp_name

if TYPE_CHECKING:
    from codegen.ad.differentiate import Differentiator


class Broadcasting:
    """Summing back and narrow gradients, for the output and state of a `Differentiator`."""

    def __init__(self, d: Differentiator) -> None:
        self.d = d
        # The stage whose narrow gradient (`narrowed`) is being sent to its operands.
        self.spread_to: ast.expr | None = None
        # gradient -> (block, line, e) of its `dv = np.ones_like(v) * e`, a reduction's
        # gradient, while nothing else has touched it (see `narrowed`).
        self.ones: dict[str, tuple[list[str], str, ast.expr]] = {}

    def fills(self, var: str, gradient: ast.expr) -> bool:
        """Whether `gradient`, elementwise in what it reads, reads a value of `var`'s
        shape outside any call: its value has that shape, whatever the rest's."""
        key = self.d.shapes.keys.get(var, var)
        if key == SCALAR:
            return True
        stack: list[ast.expr] = [gradient]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.BinOp):
                stack += [node.left, node.right]
            elif isinstance(node, ast.UnaryOp):
                stack.append(node.operand)
            elif (
                isinstance(node, ast.Name) and node.id not in self.d.grad_vars
                and self.d.shapes.keys.get(node.id, node.id) == key
            ):  # fmt: skip
                return True
        return False

    def narrowed(self, name: str, statement: ir.Stage) -> bool:
        """A reduction's gradient `dv = np.ones_like(v) * e` written as `dv = e` where
        the stage of v is elementwise in operands of v's shape: every operand's
        gradient broadcasts to its shape just the same, and is widened only where
        it starts a gradient (`fills`)."""
        record = self.ones.pop(name, None)
        if record is None or record[0] is not self.d.out[-1] or not self.keeps_narrow(statement.value):
            return False
        block, line, spread = record
        at = next((i for i in reversed(range(len(block))) if block[i] is line), None)
        if at is None:
            return False
        block[at] = ir.unparse(ast.Assign([ast.Name(name, ast.Store())], spread))
        return True

    def keeps_narrow(self, node: ir.Node, shaped: ir.Node | None = None) -> bool:
        """Whether a gradient that broadcasts to `node`'s shape (`shaped`'s, where a
        broadcasting parent sums back at `node`'s operands) can flow through `node`
        as it is: an elementwise numpy operation whose differentiable operands have
        its shape, or a shape unknown here (`spread_back` sums them back), down to
        names that are no lists."""
        if not isinstance(node, ir.Op) or node.rule.kind != "elementwise" or not node.rule.name.startswith("numpy."):
            return False
        if node.rule.name == "numpy.where":
            return False  # masked once (masks.py), with its own shapes
        shaped = shaped or node
        for i, arg in enumerate(node.args):
            if not node.rule.flows(i) or not self.d.reaches(arg):
                continue
            how = self.d.shapes.summing(arg, shaped) if node.rule.broadcast else None
            if how not in (None, "helper"):
                return False
            if isinstance(arg, ir.Leaf):
                if arg.var is None or arg.index is not None or self.d.listed(arg.var, self.d.names.grad(arg.var)):
                    return False
            elif not self.keeps_narrow(arg, shaped if how == "helper" else None) and (
                how is None or self.sums_at_operands(arg, shaped)
            ):
                return False  # a "helper" operand not summed at its operands is spread whole
        return True

    def spread_back(self, gradient: ast.expr, arg: ir.Node) -> ast.expr:
        """`gradient`, standing for its broadcast to the shape of the stage being
        reversed (`narrowed`), summed back to `arg`'s shape, which is unknown here."""
        assert self.spread_to is not None
        self.d.result.helpers.add("_spread_back")
        self.d.result.summed_at_run_time = True
        return ast.Call(ast.Name(self.d.modules["_spread_back"], ast.Load()), [gradient, render(arg), ir.clone(self.spread_to)], [])

    def spread_shape(self, statement: ir.Stage) -> ast.expr:
        """The shape of `statement`'s value: from its operands' where it is elementwise
        in whole names (the value itself then need not be kept), else its own."""
        np_name = self.d.modules["np"]

        def shape_of(name: str) -> ast.expr:
            return ast.Call(ast.Attribute(ast.Name(np_name, ast.Load()), "shape", ast.Load()), [ast.Name(name, ast.Load())], [])

        names: list[str] = []
        stack: list[ir.Node] = [statement.value]
        while stack:
            node = stack.pop()
            if isinstance(node, ir.Leaf):
                read = _arithmetic_names(node.expr) if node.var is None else [node.var] if node.index is None else None
                if read is None or any(self.d.listed(n, self.d.names.grad(n)) for n in read):
                    return shape_of(statement.target)
                names += [n for n in read if n not in names]
            elif node.rule.kind == "elementwise" and node.rule.name.startswith("numpy.") and node.rule.name != "numpy.where":
                stack += reversed(node.args)
            else:
                return shape_of(statement.target)
        if len(names) == 1:
            return shape_of(names[0])
        broadcast = ast.Attribute(ast.Name(np_name, ast.Load()), "broadcast_shapes", ast.Load())
        return ast.Call(broadcast, [shape_of(n) for n in names], [])

    def unbroadcast(self, gradient: ast.expr, arg: ir.Node, op: ir.Node) -> ast.expr:
        """`gradient` summed back to `arg`'s shape, where broadcasting may have grown it."""
        how = self.d.shapes.summing(arg, op)
        if how is None:
            return gradient
        if isinstance(gradient, ast.UnaryOp) and isinstance(gradient.op, ast.USub):
            # A sum is linear: the sum is negated, not the whole gradient before it.
            return ast.UnaryOp(ast.USub(), self.unbroadcast(gradient.operand, arg, op))
        np_name = self.d.modules["np"]
        self.d.result.modules.add("np")
        total = ast.parse(f"{np_name}.sum", mode="eval").body
        if how == "all":
            return ast.Call(total, [gradient], [])
        if how.startswith("dims:"):
            lead, kept = (ast.literal_eval(part) for part in how[len("dims:"):].split("|"))
            if lead:
                axis = lead[0] if len(lead) == 1 else tuple(lead)
                gradient = ast.Call(total, [gradient], [ast.keyword("axis", ast.Constant(axis))])
            if kept:
                axis = kept[0] if len(kept) == 1 else tuple(kept)
                keywords = [ast.keyword("axis", ast.Constant(axis)), ast.keyword("keepdims", ast.Constant(True))]
                gradient = ast.Call(ir.clone(total), [gradient], keywords)
            return gradient
        if how.startswith("axis:"):
            axis = ast.parse(how[len("axis:"):], mode="eval").body
            keywords = [ast.keyword("axis", axis), ast.keyword("keepdims", ast.Constant(True))]
            return ast.Call(total, [gradient], keywords)
        self.d.result.helpers.add("_unbroadcast")
        self.d.result.summed_at_run_time = True
        like = render(arg)
        helper = shape_helper(arg)
        if isinstance(arg, ir.Op) and helper is not None:
            self.d.result.helpers.add(helper)
            like = ast.Call(ast.Name(self.d.modules[helper], ast.Load()), [render(a) for a in arg.args], [])
        return ast.Call(ast.Name(self.d.modules["_unbroadcast"], ast.Load()), [gradient, like], [])

    def named_if_shared(self, arg: ir.Node, gradient: ast.expr) -> ast.expr:
        """A product left inline (kept only for its shape, now computed from its
        operands') passes its summed gradient to both operands: name it once."""
        if not (isinstance(arg, ir.Op) and shape_helper(arg) is not None and isinstance(gradient, ast.Call)):
            return gradient
        if sum(1 for j, a in enumerate(arg.args) if arg.rule.flows(j) and self.d.reaches(a)) < 2:
            return gradient
        name = self.d.names.fresh("d" + temp_name(arg.rule.name, ir.operand_names(arg), "product"))
        self.d.emit(ast.Assign([ast.Name(name, ast.Store())], gradient))
        return ast.Name(name, ast.Load())

    def sums_at_operands(self, arg: ir.Node, shaped: ir.Node) -> bool:
        """Whether `arg`, an elementwise operation left inline, takes the gradient
        of `shaped`'s shape and sums it back at its own operands instead."""
        return (
            isinstance(arg, ir.Op)
            and arg.rule.broadcast
            and not arg.rule.uses_out
            and self.d.shapes.summing(arg, shaped) == "helper"
        )
