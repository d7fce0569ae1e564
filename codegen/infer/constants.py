"""Shape facts of values never differentiated: constants the user makes
(`np.zeros((N, C, H2, W2))`, `np.zeros_like(x)`, `np.random.rand(*x.shape)`)
and arithmetic on them (`mask = (np.random.rand(*x.shape) < p) / p`).

One walk over the constant's expression gives each table its fact: the shape key
(`ShapeKeys`), the number of dimensions (`Ranks`) and the symbolic shape (`Dims`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from codegen.infer import dims as dims_module
from codegen.infer.dims import Dims, Shape
from codegen.infer.shape_rules import made, reshaped_rank
from codegen.infer.shapes import SCALAR, Ranks, ShapeKeys
from codegen.read.resolve import is_number

T = TypeVar("T")
Resolver = Callable[[ast.expr], "str | None"]

# Operators that broadcast their operands as numpy does (`@` does not; `//` and
# `%` of arrays do).
_BROADCASTING = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.BitAnd, ast.BitOr, ast.BitXor)


@dataclass(frozen=True)
class _Table(Generic[T]):
    """How one table reads a constant: its fact of a number, of an array's name, of
    the sizes a constant is made with, and of operands broadcast together."""

    number: T
    named: Callable[[str], T | None]
    sized: Callable[[ast.expr], T | None]
    broadcast: Callable[[list[T]], T | None]


@dataclass(frozen=True)
class _Reader:
    numbers: set[str]
    resolve: Resolver
    is_array: Callable[[str], bool]

    def fact(self, expr: ast.expr, table: _Table[T]) -> T | None:
        """`table`'s fact of `expr`; None unless every name it reads is a number or
        an array (`xs * 2` of a list is no broadcast)."""
        if is_number(expr, self.numbers):
            return table.number
        if isinstance(expr, ast.Name):
            return table.named(expr.id) if self.is_array(expr.id) else None
        if isinstance(expr, ast.Call):
            shape = made(self.resolve(expr.func), expr)
            if shape is None:
                return None
            return table.named(shape.like) if shape.like is not None else table.sized(shape.sizes) if shape.sizes else None
        operands: list[ast.expr]
        if isinstance(expr, ast.Compare):
            operands = [expr.left, *expr.comparators]
        elif isinstance(expr, ast.BinOp) and isinstance(expr.op, _BROADCASTING):
            operands = [expr.left, expr.right]
        elif isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.USub, ast.UAdd, ast.Invert)):
            operands = [expr.operand]
        else:
            return None
        facts = [self.fact(operand, table) for operand in operands]
        known = [f for f in facts if f is not None]
        return table.broadcast(known) if len(known) == len(facts) else None


def _keys_broadcast(keys: list[str]) -> str | None:
    distinct = set(keys) - {SCALAR}
    return SCALAR if not distinct else distinct.pop() if len(distinct) == 1 else None


def record(
    target: str, expr: ast.expr, tables: tuple[ShapeKeys, Ranks, Dims], resolve: Resolver, is_array: Callable[[str], bool]
) -> bool:
    """Record what the constant `expr` (written with the output's names), bound to
    `target`, tells each table; whether it is an array of a shape they know."""
    keys, ranks, dims = tables
    reader = _Reader(keys.numbers, resolve, is_array)
    key = reader.fact(expr, _Table(SCALAR, lambda name: keys.keys.get(name, name), lambda sizes: None, _keys_broadcast))
    if key == SCALAR:
        return False  # arithmetic of numbers: the numbers table's to say
    shape = reader.fact(expr, _Table[Shape]((), dims.shapes.get, dims.reshaped, dims_module.broadcast))

    def sized(sizes: ast.expr) -> int | None:
        return reshaped_rank([sizes], lambda size: is_number(size, keys.numbers))

    rank = len(shape) if shape is not None else reader.fact(expr, _Table(0, ranks.ranks.get, sized, max))
    if key is not None:
        keys.keys[target] = key
    if rank is not None:
        ranks.ranks[target] = rank
    if shape is not None:
        dims.shapes[target] = shape
    return key is not None or rank is not None
