"""Rule-table rows for joining arrays by rows and columns (np.vstack, np.hstack)
and for np.trace. Their templates are computed per call from the operands' ranks,
where the normaliser could tell them: a known rank gives the plain slice a person
writes (`g[:2]`, `g[:, 3:]`), an unknown one a form right for every rank. All are
linear, so forward mode spells them on the tangents as they are.
"""

from __future__ import annotations

import ast

from codegen.ad.rules import Unsupported, _rank, defrule
from codegen.ad.rules_arrays import _literal

Statics = dict[str, ast.expr]


def _offset(sizes: list[str]) -> str:
    """The sum of `sizes` (texts), its literal ones added up; "" for zero."""
    number = sum(int(s) for s in sizes if s.isdigit())
    terms = [s for s in sizes if not s.isdigit()] + ([str(number)] if number else [])
    return " + ".join(terms)


def _bounds(sizes: list[str], index: int) -> tuple[str, str]:
    start = _offset(sizes[:index])
    return start, _offset(sizes[: index + 1])


def _vstack(index: int, count: int, statics: Statics) -> str:
    """np.vstack: a vector (or a number) is one row, an array its rows."""
    ranks = [_rank(statics, k) for k in range(count)]
    sizes = [f"len(np.atleast_2d(x{k}))" if r is None else "1" if r <= 1 else f"len(x{k})" for k, r in enumerate(ranks)]
    start, stop = _bounds(sizes, index)
    rank = ranks[index]
    if rank is None:
        return f"np.reshape(g[{start}:{stop}], np.shape(x{index}))"
    if rank <= 1:
        row = start or "0"
        return f"g[{row}, 0]" if rank == 0 else f"g[{row}]"
    return f"g[{start}:{stop}]"


def _hstack(index: int, count: int, statics: Statics) -> str:
    """np.hstack: vectors (and numbers) joined end to end, arrays of two or more
    axes along axis 1. One known rank tells which: numbers join only vectors."""
    ranks = [_rank(statics, k) for k in range(count)]
    known = [r for r in ranks if r is not None]
    if known and min(known) <= 1:
        sizes = ["1" if r == 0 else f"len(x{k})" if r == 1 else f"np.size(x{k})" for k, r in enumerate(ranks)]
        start, stop = _bounds(sizes, index)
        if ranks[index] == 0:
            return f"g[{start or '0'}]"
        return f"g[{start}:{stop}]" if ranks[index] == 1 else f"np.reshape(g[{start}:{stop}], np.shape(x{index}))"
    if known:
        start, stop = _bounds([f"np.shape(x{k})[1]" if r is None else f"x{k}.shape[1]" for k, r in enumerate(ranks)], index)
        return f"g[:, {start}:{stop}]"
    axis = "min(np.ndim(g), 2) - 1"  # 0 for vectors, 1 for arrays: the axis they were joined along
    start, stop = _bounds([f"np.shape(np.atleast_1d(x{k}))[{axis}]" for k in range(count)], index)
    return f"np.reshape(np.take(g, range({start or '0'}, {stop}), axis={axis}), np.shape(x{index}))"


defrule("numpy.vstack", "", kind="other", variadic=True, computed=_vstack, shape="unknown")
defrule("numpy.hstack", "", kind="other", variadic=True, computed=_hstack, shape="unknown")


def _trace(index: int, count: int, statics: Statics) -> str:
    """The diagonal's elements each get the gradient; the others none."""
    for key, default in (("axis1", 0), ("axis2", 1)):
        if key in statics and _literal(statics[key]) != default:
            raise Unsupported("only axis1=0 and axis2=1 are supported: move the axes first (np.moveaxis)")
    offset = ", k=offset" if "offset" in statics else ""
    if _rank(statics, 0) == 2:
        return f"np.eye(*np.shape(x){offset}) * g"
    return f"np.expand_dims(np.eye(*np.shape(x)[:2]{offset}), tuple(range(2, np.ndim(x)))) * g"


defrule("numpy.trace", "x", keywords="offset=0 axis1=0 axis2=1", kind="other", computed=_trace, shape="unknown")
