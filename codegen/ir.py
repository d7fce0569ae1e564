"""The staged, single-assignment form a forward function is normalised into.

A stage assigns one expression tree to a fresh name.  Leaves are variables or
constant expressions; inner nodes are operations with a derivative rule.  A
stage's tree is kept whole only where its derivative needs no inner value
(`w[0] * x[0] + w[1] * x[1]`); otherwise the normaliser splits it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from codegen.naming import Names
from codegen.rules import Rule


@dataclass
class Leaf:
    """A variable (`var` set, SSA name), a list element `var[index]`, or a constant."""

    expr: ast.expr
    var: str | None = None
    index: ast.expr | None = None
    basic: bool = True  # the index picks each element at most once


@dataclass
class Op:
    """An operation: `spelling` is its forward expression with `__0__`, `__1__`
    standing for the rendered arguments."""

    rule: Rule
    args: list[Node]
    keywords: dict[str, ast.expr]
    spelling: ast.expr


Node = Leaf | Op


def templates(op: Op) -> list[ast.expr | None]:
    """The gradient template of each operand of `op`."""
    return [op.rule.template(i, len(op.args), op.keywords) for i in range(len(op.args))]


@dataclass
class Stage:
    """`target = value`; `origin` is the forward source line it comes from."""

    target: str
    value: Node
    origin: int
    active: bool = True


@dataclass
class Plain:
    """A forward statement that is never differentiated (shape arithmetic, constants)."""

    code: ast.stmt
    origin: int


Statement = Stage | Plain


@dataclass
class Param:
    name: str
    code: str  # the parameter as written, default and annotation included
    differentiable: bool
    reason: str = ""  # why it is held constant
    is_list: bool = False
    kind: str = "positional"  # or "posonly", "kwonly"


@dataclass
class Function:
    """A normalised forward function."""

    name: str
    params: list[Param]
    body: list[Statement]
    outputs: list[str]  # SSA names of the returned values
    upstream: list[str]  # names of the upstream gradient parameters
    origins: list[str] = field(default_factory=list)  # forward source text per origin
    active: set[str] = field(default_factory=set)
    forced: set[str] = field(default_factory=set)  # parameters named by wrt
    lists: set[str] = field(default_factory=set)  # parameters indexed as Python lists
    scalars: set[str] = field(default_factory=set)  # names known to hold Python numbers
    docstring: str | None = None
    names: Names = field(default_factory=lambda: Names(set()))
