"""Lists built with `append`: `xs.append(v)`, `xs[i]`, and `xs.pop()` in code
run forwards only (part of normalise).

A generated backward saves each iteration's values in one list per variable
and pops them again in its reverse sweep. Forward mode over it (Hessian-vector
products) follows those lists with a tangent list each. In reverse mode a list
of differentiated values (`out = []`, then `out.append(v)` in a loop) has a list
gradient, one entry per append, which the backward pops as it undoes each append;
the list is read by element (`out[i]`) or as a whole by the calls that stack or
sum it (`np.array(out)`, `np.stack`, `np.concatenate`, `sum`, and any numpy
function, which reads it as `np.array(out)`).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from codegen import ir
from codegen.ad.rules import RULES, Rule
from codegen.ad.rules_lists import ROWS as ROWS

if TYPE_CHECKING:
    from codegen.lower.normalize import Normaliser

# `xs.pop()`: linear, its tangent is the tangent list's own pop.
POP = Rule("list.pop", ("xs",), (ast.Name("g", ast.Load()),), kind="other", shape="unknown")
# The calls reading a whole list of appended values, and their rows.
_WHOLE = {
    "numpy.array": "list.array",
    "numpy.asarray": "list.asarray",
    "numpy.stack": "list.stack",
    "numpy.concatenate": "list.concatenate",
    "sum": "list.sum",
    "math.fsum": "list.sum",
}
assert ROWS == frozenset(_WHOLE.values()) | {"numpy.list.sum"}
USES = "np.array({0}), np.stack({0}), np.concatenate({0}), sum({0}) or {0}[i]"


def appends(body: list[ast.stmt]) -> list[tuple[str, ast.expr]]:
    """(name, value) for every `name.append(value)` inside `body`."""
    found: list[tuple[str, ast.expr]] = []
    pending: list[ast.AST] = list(body)
    while pending:
        node = pending.pop()
        appended = appended_value(node)
        if appended is not None:
            found.append(appended)
        pending.extend(ast.iter_child_nodes(node))
    return found


def appended_value(node: ast.AST) -> tuple[str, ast.expr] | None:
    """(name, value) when `node` is the statement `name.append(value)`."""
    if is_append(node):
        assert isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
        func = node.value.func
        assert isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
        if len(node.value.args) == 1:
            return func.value.id, node.value.args[0]
    return None


def is_append(node: ast.AST) -> bool:
    """Whether `node` is the statement `name.append(value)`."""
    if not isinstance(node, ast.Expr) or not isinstance(node.value, ast.Call):
        return False
    func = node.value.func
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.attr == "append"


class StackLowering:
    """`append` and `pop`, lowered into the body and tables of a `Normaliser`."""

    def __init__(self, n: Normaliser) -> None:
        self.n = n  # the lowering whose env, body and tables the appends edit

    def activate_list(self, listed: str) -> None:
        """`listed` holds differentiated values: its gradient is a list of them."""
        self.n.active.add(listed)
        self.n.stacks.add(listed)
        if not self.n.forward:
            self.n.lists.add(listed)

    def append_statement(self, node: ast.Expr, origin: int) -> None:
        call = node.value
        assert isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
        assert isinstance(call.func.value, ast.Name)
        name = call.func.value.id
        listed = self.n.env.get(name)
        if listed is None:
            raise self.n.fail(call.func.value, f"append to an unknown list {name!r}: start it first ({name} = [])")
        if len(call.args) != 1 or call.keywords or isinstance(call.args[0], ast.Starred):
            raise self.n.fail(call, "append takes one value")
        if not self.n.forward and listed in self.n.param_names:
            message = f"appending to the parameter {name} would change the caller's list: append to a new list (ys = [])"
            raise self.n.fail(call, message)
        value = self.n.lower(call.args[0])
        if isinstance(value, ir.Op):
            value = self.n.staging.named(value, origin, f"{listed}_item")
        if value.var is not None and listed not in self.n.stacks:
            # Read so far, it held constants; but a read in a loop is read again in the
            # next iteration, after this append (reverse mode sees the loops' appends first).
            if (self.n.forward or self.n.loops) and listed not in self.n.active and self.n.flow.is_read(listed):
                message = f"{name} is read before a differentiated value is appended to it"
                raise self.n.fail(call, f"{message}: append to it where it is built, not in a function it is passed to")
            self.activate_list(listed)
        self.n.body.append(ir.Append(listed, value, origin))

    def whole_list(self, node: ast.Call, name: str) -> ir.Node | None:
        """`np.array(xs)`, `np.stack(xs, axis=1)`, `sum(xs)` of a list of appended
        values `xs`: the row that splits the gradient back into a list."""
        if not node.args or not self.is_stack(node.args[0]):
            return None
        row = _WHOLE.get(name)
        if row is None:
            return None
        rule = RULES[row]
        statics: dict[str, ast.expr] = {}
        keys = [k for k, _ in rule.keywords]
        label = self.n.info.code(node.func).strip()
        if row == "list.sum":
            if len(node.args) > 2 or node.keywords or len(node.args) == 2 and self.n.activity.is_active(node.args[1]):
                raise self.n.fail(node, "sum of a list built with append takes a constant start only")
            if self.n.kind(node).is_number or not self.n.arrays:
                rule = RULES["list.sum"]
            else:
                rule = RULES["numpy.list.sum"]
        else:
            for key, expr in zip(keys, node.args[1:]):
                statics[key] = self.n.calls.static(expr, label)
            for keyword in node.keywords:
                if keyword.arg not in keys:
                    raise self.n.fail(keyword, f"keyword {keyword.arg!r} of {label} is not supported")
                statics[keyword.arg] = self.n.calls.static(keyword.value, label, keyword)
        leaf = self.stack_leaf(node.args[0])
        op = ir.Op(rule, [leaf], statics, ast.Constant(None))
        try:
            ir.templates(op)
        except ValueError as exc:
            raise self.n.fail(node, f"{label}: {exc}")
        shell = ast.Call(node.func, [ast.Name("__0__", ast.Load()), *node.args[1:]], node.keywords)
        spelling = self.n.copies.to_ast(shell)
        assert isinstance(spelling, ast.Call)
        op.spelling = spelling
        return op

    def as_array(self, expr: ast.expr) -> ir.Node | None:
        """A list of appended values passed to another numpy function (`np.sum(xs)`),
        which reads it as `np.array(xs)`: that conversion, differentiated."""
        numpy = self.n.info.module_alias("numpy")
        if numpy is None or not self.is_stack(expr):
            return None
        spelling = ast.Call(ast.Attribute(ast.Name(numpy, ast.Load()), "array", ast.Load()), [ast.Name("__0__", ast.Load())], [])
        return ir.Op(RULES["list.array"], [self.stack_leaf(expr)], {}, spelling)

    def is_stack(self, expr: ast.expr) -> bool:
        """Whether `expr` names a list that differentiated values are appended to."""
        return isinstance(expr, ast.Name) and self.n.env.get(expr.id) in self.n.stacks

    def stack_leaf(self, expr: ast.expr) -> ir.Leaf:
        assert isinstance(expr, ast.Name)
        var = self.n.env[expr.id]
        return ir.Leaf(ast.Name(var, ast.Load()), var)

    def pop_call(self, node: ast.Call) -> ir.Node:
        func = node.func
        assert isinstance(func, ast.Attribute)
        listed = self.n.env.get(func.value.id) if isinstance(func.value, ast.Name) else None
        if listed is None or listed not in self.n.stacks:
            raise self.n.fail(node, "pop is only supported on a named list of differentiated values")
        if node.args or node.keywords:
            raise self.n.fail(node, "only pop() of the last element is supported")
        leaf = ir.Leaf(ast.Name(listed, ast.Load()), listed)
        spelling = ast.Call(ast.Attribute(ast.Name("__0__", ast.Load()), "pop", ast.Load()), [], [])
        return ir.Op(POP, [leaf], {}, spelling)
