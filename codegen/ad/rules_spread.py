"""Rule-table rows for var and std, the spread of values about their mean: the
squares' sum divided by the count, less `ddof` where it is given (`ddof=1`, the
sample variance). The templates are chosen per call: without ddof they are the
plain forms (divided by count(x), the tangent a mean)."""

from __future__ import annotations

import ast
from collections.abc import Callable

from codegen.ad.rules import defrule

_CENTRED = "(x - np.mean(x, axis=axis, keepdims=True))"


def _spread(statics: dict[str, ast.expr]) -> str:
    """What var and std divide the squares by: count(x), less ddof where it is given."""
    ddof = statics.get("ddof")
    given = ddof is not None and not (isinstance(ddof, ast.Constant) and ddof.value == 0)
    return "(count(x) - ddof)" if given else "count(x)"


def _var(index: int, count: int, statics: dict[str, ast.expr]) -> str:
    return f"2 * {_CENTRED} * keep(g) / {_spread(statics)}"


def _std(index: int, count: int, statics: dict[str, ast.expr]) -> str:
    return f"{_CENTRED} * keep(g) / ({_spread(statics)} * keep(out))"


def _spread_tangent(term: str, after: str) -> Callable[[int, int, dict[str, ast.expr]], str]:
    """var's or std's tangent: the mean of `term` (in t) over the axis, `after` applied;
    its sum over count - ddof where ddof is given."""

    def tangent(index: int, count: int, statics: dict[str, ast.expr]) -> str:
        spread = _spread(statics)
        if spread == "count(x)":
            return f"np.mean({term}, axis=axis, keepdims=keepdims){after}"
        return f"np.sum({term}, axis=axis, keepdims=keepdims) / {spread}{after}"

    return tangent


_SPREAD = "axis=None keepdims=False ddof=0"
defrule("numpy.var", "x", keywords=_SPREAD, kind="reduce", computed=_var, tangents=_spread_tangent(f"2 * {_CENTRED} * t", ""))
defrule(
    "numpy.std", "x", keywords=_SPREAD, kind="reduce", computed=_std, tangents=_spread_tangent(f"{_CENTRED} * t", " / out"),
    reads_out=True,
)
