"""The kind of every staged value, read once off the lowering's facts when it ends:
the one table (`ir.Function.kinds`) that later stages ask what a value is."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from codegen import ir
from codegen.infer.lattice import ARRAY, LIST, NUMBER_KIND, Kind, refine
from codegen.infer.shapes import SCALAR

if TYPE_CHECKING:
    from codegen.lower.normalize import Normaliser


def staged_kinds(n: Normaliser, params: list[ir.Param]) -> dict[str, Kind]:
    """A parameter starts from what the kinds stage says of it; then a list (a list
    parameter, a display, a name indexed as a list) is a list, a number (proved, or
    of a number's shape) a number, and an array of known rank an array."""
    found: dict[str, Kind] = {}
    inferred = n.kinds_of(n.function)
    for param in params:
        kind = inferred.param(param.name)
        if kind.what != "unknown":
            found[param.name] = kind
    numbers = {name for name, key in n.shapes.keys.items() if key == SCALAR} | (n.numbers - set(n.by_default))
    lists = {p.name for p in params if p.is_list} | n.displays | n.lists
    for name, shape in n.dims.shapes.items():
        if shape and name not in lists and name not in n.maybe_lists:
            _settle(found, name, Kind(ARRAY, len(shape)))
    for name, rank in n.ranks.ranks.items():
        if rank and name not in lists and name not in n.maybe_lists:
            _settle(found, name, Kind(ARRAY, rank))
    for name in numbers - lists:
        found[name] = NUMBER_KIND
    for name in lists:
        old = found.get(name)
        found[name] = old if old is not None and old.what == LIST else Kind(LIST)
    return found


def _settle(found: dict[str, Kind], name: str, kind: Kind) -> None:
    """`kind` where it agrees with what is known of `name`; the lowering's fact where not."""
    old = found.get(name)
    found[name] = kind if old is None else refine(old, kind) or kind


def describe(fn: ir.Function) -> list[str]:
    """One `name: kind` line per value the staged form binds, sorted."""
    names = {p.name for p in fn.params}
    for statement in ir.walk(fn.body):
        if isinstance(statement, ir.Stage):
            names.add(statement.target)
        elif isinstance(statement, ir.Plain):
            names |= {n.id for n in ast.walk(statement.code) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        elif isinstance(statement, ir.Loop):
            names |= {n for n in (statement.var, statement.counter) if n is not None}
    return [f"{name}: {_phrase(fn, name)}" for name in sorted(names)]


def _phrase(fn: ir.Function, name: str) -> str:
    if name in fn.by_default and not fn.is_number(name):
        return "number, by its default"
    return str(fn.kind(name))
