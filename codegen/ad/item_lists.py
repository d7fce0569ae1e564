"""Parameters that may be lists of arrays: read only item by item.

`for W, b in zip(Ws, bs)` reads `Ws[i]` and nothing else of `Ws`, which may be
an array, a list of numbers, or a list of arrays of different shapes (the
layers of a network). `np.zeros_like(Ws)` holds the gradient of the first two
but cannot be built for the third; such a parameter's gradient is started by
the `_item_zeros` helper (a list of per-item zeros where the items are arrays)
and is added into item by item, which every one of those forms allows.
"""

from __future__ import annotations

import ast

from codegen import ir
from codegen.infer.bindings import number_index


def read_by_item(fn: ir.Function) -> set[str]:
    """The parameters of unknown kind read as lists would be, only ever one item
    at a time (one plain integer index) and not all as proved numbers."""
    candidates = fn.maybe_lists - fn.whole_lists - fn.stacks
    reads: dict[str, list[ir.Leaf]] = {name: [] for name in candidates if not fn.is_list(name)}
    for statement in ir.walk(fn.body):
        if isinstance(statement, (ir.Stage, ir.Append)):
            _collect(statement.value, reads)
    return {
        name for name, leaves in reads.items()
        if leaves and all(_one_item(leaf) for leaf in leaves) and not all(leaf.number for leaf in leaves)
    }  # fmt: skip


def _one_item(leaf: ir.Leaf) -> bool:
    index = leaf.index
    return index is not None and leaf.basic and not isinstance(index, ast.Tuple) and number_index(index)


def _collect(node: ir.Node, reads: dict[str, list[ir.Leaf]]) -> None:
    if isinstance(node, ir.Leaf):
        if node.var in reads:
            reads[node.var].append(node)
        return
    for arg in node.args:
        _collect(arg, reads)
