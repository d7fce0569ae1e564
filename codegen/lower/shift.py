"""The maximum subtracted before a softmax carries no gradient.

`shifted = x - np.max(x, axis=k, keepdims=True)` is there for numerical safety:
softmax and log-softmax along axis k give the same result for any shift along
that axis, so the derivative through the maximum is exactly zero. Computed, it
is a sum of terms that cancel up to rounding, several passes over the array
for nothing. When every use of `shifted` that carries a gradient is such a
softmax (recognised whole, `numpy.log_softmax`, a cross-entropy of one, or
`np.exp(shifted)` used only by `numpy.normalize`) along the same axis, the
subtraction becomes `numpy.sub.shift`, whose second operand takes no gradient,
as in the hand-written derivation. A use that carries none (the sum a staged
softmax divides by, a value that reaches no output) does not count.
"""

from __future__ import annotations

import ast

from codegen import ir
from codegen.ad.rules import RULES
from codegen.lower.softmax import int_axis

_SOFTMAX = ("numpy.log_softmax", "numpy.log_softmax.staged", "numpy.normalize", "numpy.softmax_nll", "numpy.log_softmax_nll",
            "numpy.softmax_nll.picks", "numpy.log_softmax_nll.picks",
            "numpy.softmax_log_pick", "numpy.normalize.exp", "numpy.normalize.staged.exp")
_NORMALIZE = ("numpy.normalize", "numpy.normalize.staged")


def drop_shift_gradients(fn: ir.Function) -> None:
    """Rewrite, in place, the subtractions of `fn` that only shift a softmax."""
    stages = [s for s in fn.body if isinstance(s, ir.Stage)]
    nested = {s.target for s in ir.walk(fn.body) if isinstance(s, ir.Stage)} - {s.target for s in stages}
    definitions = {s.target: s for s in stages}
    uses = _uses(fn.body, _useful(fn))
    for stage in stages:
        value = stage.value
        if not (isinstance(value, ir.Op) and value.rule.name == "numpy.sub" and len(value.args) == 2):
            continue
        axis = _max_axis(value.args, definitions)
        if axis is None or stage.target in nested or stage.target in fn.outputs:
            continue
        if _only_softmax(stage.target, axis, uses, definitions, fn):
            value.rule = RULES["numpy.sub.shift"]


def _max_axis(args: list[ir.Node], definitions: dict[str, ir.Stage]) -> int | str | None:
    """k when the operands are `x` and `np.max(x, axis=k, keepdims=True)` (staged);
    "all" for `np.max(x)`, a constant shift, which no softmax along any axis sees."""
    x, m = args
    if not (isinstance(x, ir.Leaf) and isinstance(m, ir.Leaf) and x.var and m.var and x.index is None and m.index is None):
        return None
    definition = definitions.get(m.var)
    op = definition.value if definition is not None else None
    if not (isinstance(op, ir.Op) and op.rule.name == "numpy.max" and len(op.args) == 1):
        return None
    inner = op.args[0]
    keepdims, axis = op.keywords.get("keepdims"), op.keywords.get("axis")
    same = isinstance(inner, ir.Leaf) and inner.var == x.var and inner.index is None
    kept = isinstance(keepdims, ast.Constant) and keepdims.value is True
    if same and (axis is None or isinstance(axis, ast.Constant) and axis.value is None):
        return "all"
    return int_axis(axis) if same and kept else None


def _only_softmax(
    name: str, axis: int | str, uses: dict[str, list[ir.Node | None]], definitions: dict[str, ir.Stage], fn: ir.Function
) -> bool:
    found = uses.get(name, [])
    if not found:
        return False
    for user in found:
        if isinstance(user, ir.Op) and user.rule.name in _SOFTMAX and _along(user, axis):
            continue
        if not isinstance(user, ir.Op) or len(user.args) != 1:
            return False
        if user.rule.name != "numpy.exp":
            return False
        exp_stage = next((s for s in definitions.values() if s.value is user), None)
        if exp_stage is None or exp_stage.target in fn.outputs:
            return False  # np.exp(shifted) inside a larger expression, or returned
        after = uses.get(exp_stage.target, [])
        if not all(isinstance(u, ir.Op) and u.rule.name in _NORMALIZE and _along(u, axis) for u in after):
            return False
    return True


def _along(op: ir.Op, axis: int | str) -> bool:
    """Whether the softmax `op` is along `axis` (any, for a constant shift)."""
    return axis == "all" or int_axis(op.keywords.get("axis")) == axis


def _useful(fn: ir.Function) -> set[str]:
    """The variables a gradient reaches from an output (a fixpoint, for loops)."""
    useful = set(fn.outputs)
    stages = [s for s in ir.walk(fn.body) if isinstance(s, (ir.Stage, ir.Append))]
    while True:
        grown = set(useful)
        for statement in reversed(stages):  # from the outputs back: one pass without loops
            if statement.target in grown:
                grown |= _flowing(statement.value)
        if grown == useful:
            return useful
        useful = grown


def _flowing(node: ir.Node) -> set[str]:
    if isinstance(node, ir.Leaf):
        return {node.var} if node.var is not None else set()
    return {v for i, a in enumerate(node.args) if node.rule.flows(i) for v in _flowing(a)}


def _uses(body: list[ir.Statement], useful: set[str]) -> dict[str, list[ir.Node | None]]:
    """For each variable, the operations reading it as a whole operand that a gradient
    reaches (`useful` statements, operands a gradient flows into); None for a read
    anywhere else (an index, a test, plain code), which keeps it as it is."""
    found: dict[str, list[ir.Node | None]] = {}

    def visit(node: ir.Node, parent: ir.Op | None, flows: bool = True) -> None:
        if isinstance(node, ir.Leaf):
            whole = node.index is None or (parent is not None and parent.rule.name in _SOFTMAX)
            if node.var is not None and flows:
                found.setdefault(node.var, []).append(parent if whole else None)
            for name in _names(node.expr) | (_names(node.index) if node.index is not None else set()):
                if name != node.var:
                    found.setdefault(name, []).append(None)
            return
        for i, arg in enumerate(node.args):
            visit(arg, node, flows and node.rule.flows(i))
        for value in node.keywords.values():
            for name in _names(value):
                found.setdefault(name, []).append(None)

    for statement in ir.walk(body):
        if isinstance(statement, (ir.Stage, ir.Append)):
            visit(statement.value, None, statement.target in useful)
        else:
            code = getattr(statement, "code", None) or getattr(statement, "test", None) or getattr(statement, "iter", None)
            for name in _names(code) if isinstance(code, ast.AST) else ():
                found.setdefault(name, []).append(None)
            if isinstance(statement, ir.Loop):
                for name in statement.carried:
                    found.setdefault(name, []).append(None)
    return found


def _names(tree: ast.AST | None) -> set[str]:
    if tree is None or isinstance(tree, ast.Constant):
        return set()
    if isinstance(tree, ast.Name):  # most leaves: no walk
        return {tree.id}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
