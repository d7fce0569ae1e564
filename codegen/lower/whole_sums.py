"""`sum(v)` of a whole local value (part of normalise): Python's sum adds up what
iterating `v` gives, the items of a list, the elements of a vector, the rows of a
matrix.

Of a list of differentiated values (`parts = [a, b]`, `parts = [a] + [b]`, a list
the kinds prove one) it is the list row: every item gets the whole gradient. Of an
array it is `np.sum(v, axis=0)`. `v` is an array where the kinds prove it one, or
where the operation that made it cannot make a list (`x * 2.0`, `np.tanh(x)`,
`x - y`: Python's list operators are `+` and `*` by an int alone) and sum cannot
iterate a number. Anything else is refused, saying which kind is missing. (A
parameter is Python's loop over it, written before lowering: read.desugar.)
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from codegen import ir
from codegen.ad.rules import RULES
from codegen.infer import lattice
from codegen.lower.nodes import slot
from codegen.lower.stacks import ROWS as LIST_ROWS

if TYPE_CHECKING:
    from codegen.lower.normalize import Normaliser

# Operations that never give a list, whatever their operands are.
_NUMERIC = frozenset({"sub", "div", "neg", "pow", "mod", "abs", "sigmoid", "mul.self", "float"})


def lower_sum(n: Normaliser, node: ast.Call, operand: ast.expr, label: str) -> ir.Node:
    """`sum(v)` (or `math.fsum(v)`) of the whole local `v`, lowered by `n`."""
    written = n.info.code(operand).strip()
    kind = n.kind(operand)
    if n.containers.is_list(operand) or kind.what == lattice.LIST:
        rule = RULES["list.sum" if n.kind(node).is_number or not n.arrays else "numpy.list.sum"]
        spelling = n.copies.to_ast(ast.Call(node.func, [slot(0)], []))
        return ir.Op(rule, [n.lower(operand)], {}, spelling)
    if kind.is_number:
        raise n.fail(node, f"{label}({written}): {written} is a number, which {label} cannot iterate")
    lowered = n.lower(operand)
    numpy = n.info.module_alias("numpy")
    if kind.what != lattice.ARRAY and not _never_a_list(n, lowered, set()) or numpy is None:
        raise n.fail(
            node,
            f"{label}({written}) of a whole value that the kinds prove neither a list nor an array (a list sums "
            f"its items, an array its rows): annotate what it is made from (x: np.ndarray or x: list[float]), "
            f"write np.sum({written}, axis=0) for an array, or a for loop",
        )
    call = ast.Call(ast.Attribute(ast.Name(numpy, ast.Load()), "sum", ast.Load()), [slot(0)], [])
    call.keywords = [ast.keyword("axis", ast.Constant(0))]
    return n.checked(node, ir.Op(RULES["numpy.sum"], [lowered], {"axis": ast.Constant(0)}, call))


def _never_a_list(n: Normaliser, node: ir.Node, seen: set[str]) -> bool:
    """Whether the lowered `node` is a number or an array whatever the parameters
    are: made by an operation Python's lists do not have."""
    if isinstance(node, ir.Leaf):
        if node.var is None:
            value = node.expr.value if isinstance(node.expr, ast.Constant) else None
            return type(value) is float
        if node.index is not None or node.var in seen:
            return False
        seen.add(node.var)
        if node.var in n.param_names:
            return n.kinds_of(n.function).param(node.var).what == lattice.ARRAY
        stage = _stage_of(n, node.var)
        return stage is not None and _never_a_list(n, stage.value, seen)
    name = node.rule.name
    if name in LIST_ROWS or name.startswith(("list", "user.")):
        return False
    if name.removeprefix("numpy.") in ("add", "mul", "pos"):
        # list + array and list * array are numpy's; list + number fails; list * int repeats
        return any(_never_a_list(n, a, seen) for a in node.args)
    return name in _NUMERIC or name.startswith(("math.", "numpy."))


def _stage_of(n: Normaliser, var: str) -> ir.Stage | None:
    """The stage that binds `var`, in the block being lowered or one around it."""
    for block in (n.body, *reversed(n.blocks)):
        for statement in block:
            if isinstance(statement, ir.Stage) and statement.target == var:
                return statement
    return None
