"""Rule-table rows for Python lists built with `append` (`xs = []`, then
`xs.append(v)` in a loop) and read as a whole: stacked into an array or summed.

The gradient of such a list is a Python list with one gradient per element, in
the order of the appends (the backward pops it as it undoes them), so each row's
template splits the gradient of the whole back into a list. Each row is linear
and spelled the same on tangent lists, which forward mode uses as they are (a
sum's tangent leaves out its constant start).
"""

from __future__ import annotations

import ast

from codegen.ad.rules import Unsupported, _cast, defrule

Statics = dict[str, ast.expr]
# The rows below: the calls reading a whole list of appended values.
ROWS = frozenset({"list.array", "list.asarray", "list.stack", "list.concatenate", "list.sum", "numpy.list.sum"})


def _literal_axis(statics: Statics) -> int:
    axis = statics.get("axis", ast.Constant(0))
    try:
        value = ast.literal_eval(axis)
    except ValueError:
        value = None
    if type(value) is not int:
        raise Unsupported("the axis must be a literal integer")
    return value


def _array(index: int, count: int, statics: Statics) -> str:
    """`np.array(xs)`: the rows of the gradient, one per element."""
    return f"list({_cast(index, count, statics)})"


def _stack(index: int, count: int, statics: Statics) -> str:
    axis = _literal_axis(statics)
    return "list(g)" if axis == 0 else f"list(np.moveaxis(g, {axis}, 0))"


def _concatenate(index: int, count: int, statics: Statics) -> str:
    """`np.concatenate(xs, axis)`: the gradient cut where each element ends."""
    axis = _literal_axis(statics)
    if axis == 0:
        return "np.split(g, np.cumsum([len(part) for part in xs])[:-1])"
    return f"np.split(g, np.cumsum([np.shape(part)[{axis}] for part in xs])[:-1], axis={axis})"


defrule("list.array", "xs", keywords="dtype=None copy=True order='K'", kind="other", shape="unknown", computed=_array)
defrule("list.asarray", "xs", keywords="dtype=None order=None", kind="other", shape="unknown", computed=_array)
defrule("list.stack", "xs", keywords="axis=0", kind="other", shape="unknown", computed=_stack)
defrule("list.concatenate", "xs", keywords="axis=0", kind="other", shape="unknown", computed=_concatenate)
# `sum(xs)`, `math.fsum(xs)`: every element gets the whole gradient, summed back to
# its shape where an element may be an array smaller than the sum.
# A constant start (`sum(xs, 0.5)`) has no tangent: forward mode sums the tangents alone.
defrule("list.sum", "xs", kind="other", shape="unknown", computed=lambda index, count, statics: "[g] * len(xs)", tangents="sum(t)")
defrule(
    "numpy.list.sum", "xs", kind="other", shape="unknown", computed=lambda index, count, statics: "[_unbroadcast(g, item) for item in xs]",
    tangents="sum(t)",
)
# `a + b` of two lists, concatenated: the gradient is cut where `a` ends.
defrule(
    "list.concat", "x y", kind="other", shape="unknown",
    computed=lambda index, count, statics: "list(g[: len(x)])" if index == 0 else "list(g[len(x) :])",
)  # fmt: skip
# `a * n` of a list and an int, repeated: each entry of `a` gets the sum of its n copies' entries.
defrule(
    "list.repeat", "x n", "g", None, kind="other", shape="unknown",
    computed=lambda index, count, statics: "[sum(g[k :: len(x)]) for k in range(len(x))]", tangents="list(t) * n",
)  # fmt: skip
