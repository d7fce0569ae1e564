"""Staging: splitting a lowered expression into named intermediates where its
derivative needs an inner value (or where a gradient would be computed twice),
and the SSA names each binding gets."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, overload

from codegen import ir
from codegen.infer.shapes import SCALAR, shape_helper
from codegen.lower.nodes import is_active_node
from codegen.naming import CALLED_BUILTINS, temp_name

if TYPE_CHECKING:
    from codegen.lower.normalize import Normaliser


class Staging:
    """Stages and fresh names, written into the body and tables of a `Normaliser`."""

    def __init__(self, n: Normaliser) -> None:
        self.n = n  # the lowering whose body, names and tables the stages go into

    @overload
    def stage_children(self, node: ir.Op, origin: int) -> ir.Op: ...
    @overload
    def stage_children(self, node: ir.Node, origin: int) -> ir.Node: ...
    def stage_children(self, node: ir.Node, origin: int) -> ir.Node:
        """Split off every child whose value the derivative of `node` needs."""
        if isinstance(node, ir.Leaf):
            return node
        node.args = [self.stage_children(a, origin) for a in node.args]
        for i, arg in enumerate(node.args):
            if isinstance(arg, ir.Op) and self.must_stage(node, i):
                target = self.new_temp(temp_name(arg.rule.name, ir.operand_names(arg), self.n.hint, self.n.forward))
                self.emit_stage(target, arg, origin)
                node.args[i] = ir.Leaf(ast.Name(target, ast.Load()), target)
        return node

    def named(self, value: ir.Op, origin: int, base: str | None = None, hint: str | None = None) -> ir.Leaf:
        """`value` staged as a new intermediate, read by its name: named `base`, or after
        its operation and operands (and `hint`, the target's name, else the lowering's)."""
        value = self.stage_children(value, origin)
        if base is None:
            base = temp_name(value.rule.name, ir.operand_names(value), hint or self.n.hint, self.n.forward)
        temp = self.new_temp(base)
        self.emit_stage(temp, value, origin)
        return ir.Leaf(ast.Name(temp, ast.Load()), temp)

    def must_stage(self, op: ir.Op, i: int) -> bool:
        parent = op.rule
        args = op.args
        child = args[i]
        assert isinstance(child, ir.Op)
        if child.rule.uses_out:
            return True
        if self.n.forward and child.rule.name.startswith("user."):
            return True  # foo_jvp gives the value and its tangent together: a stage of its own
        if parent.broadcast and is_active_node(child) and self.n.shapes.summing(child, op) == "helper":
            # The gradient is summed back to the child's shape; a product's follows from its
            # operands', and an elementwise child sums it back at its own operands instead.
            if shape_helper(child) is None and not child.rule.broadcast:
                return True
        name = parent.arg_name(i)
        parent_templates = ir.templates(op)
        needed = any(
            name in parent.names_in(j, t) for j, t in enumerate(parent_templates) if t is not None and is_active_node(args[j])
        )
        if needed and not (_is_cheap(child) and not self.n.may_be_array(child.args)):
            return True
        # A compound gradient flowing into several arguments would be computed twice.
        fan_out = sum(1 for j, a in enumerate(child.args) if child.rule.flows(j) and is_active_node(a))
        return fan_out > 1 and not _is_plain_gradient(parent_templates[i])

    def emit_stage(self, target: str, value: ir.Node, origin: int) -> None:
        self.n.body.append(ir.Stage(target, value, origin))
        self.n.active.add(target)
        self.n.shapes.record(target, value)
        self.n.ranks.record(target, value)
        self.n.dims.record(target, value)
        self.n.check.record(target, value)

    def new_temp(self, base: str) -> str:
        """A name for an intermediate the normaliser introduces (never the user's)."""
        name = self.new_binding(self.n.names.fresh(base))
        self.n.temps.add(name)
        return name

    def new_binding(self, name: str) -> str:
        """An SSA name for a new binding of `name`: each SSA name is bound once."""
        target = name if name not in self.n.bound and name not in CALLED_BUILTINS else self.n.names.fresh(name)
        self.n.bound.add(target)
        self.n.names.taken.add(target)
        if self.n.proved_number(name):
            self.n.numbers.add(target)
            self.n.shapes.keys[target] = SCALAR
        return target


def _is_plain_gradient(template: ast.expr | None) -> bool:
    """`g` or `-g`: passing it on costs nothing."""
    if isinstance(template, ast.UnaryOp) and isinstance(template.op, ast.USub):
        template = template.operand
    return isinstance(template, ast.Name) and template.id == "g"


def _is_cheap(node: ir.Op) -> bool:
    """A product or negation of leaves: cheaper to repeat than to name."""
    return node.rule.name in ("mul", "neg", "numpy.mul", "numpy.neg") and all(isinstance(a, ir.Leaf) for a in node.args)
