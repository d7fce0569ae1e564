"""The staged, single-assignment form a forward function is normalised into.

A stage assigns one expression tree to a fresh name.  Leaves are variables or
constant expressions; inner nodes are operations with a derivative rule.  A
stage's tree is kept whole only where its derivative needs no inner value
(`w[0] * x[0] + w[1] * x[1]`); otherwise the normaliser splits it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from codegen.ad.rules import Rule
from codegen.emit.typed import Types
from codegen.infer.lattice import LIST, UNKNOWN_KIND, Kind
from codegen.naming import Names
from codegen.unparse import statement as statement_text


@dataclass
class Leaf:
    """A variable (`var` set, SSA name), a list element `var[index]`, or a constant."""

    expr: ast.expr
    var: str | None = None
    index: ast.expr | None = None
    basic: bool = True  # the index picks each element at most once
    number: bool = False  # an element proved to be a number (`w[0]` in `math.exp(w[0])`)


@dataclass
class Op:
    """An operation: `spelling` is its forward expression with `__0__`, `__1__`
    standing for the rendered arguments."""

    rule: Rule
    args: list[Node]
    keywords: dict[str, ast.expr]
    spelling: ast.expr
    # Read off the arguments once they are final, and kept (lower.nodes, ad.useful).
    active: bool | None = field(default=None, init=False, repr=False, compare=False)
    leaves: set[str] | None = field(default=None, init=False, repr=False, compare=False)


Node = Leaf | Op


def unparse(statement: ast.stmt) -> str:
    """The source of a statement built without positions (ast.unparse looks up a
    statement's line for type comments; nothing else needs them)."""
    simple = isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return))
    for node in [statement] if simple else ast.walk(statement):
        if isinstance(node, ast.stmt) and not hasattr(node, "lineno"):
            node.lineno = 0
    return statement_text(statement)


# Singletons in every tree Python's parser builds: shared, never copied.
_SHARED = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


def clone(node: Any) -> Any:
    """A deep copy of an ast tree (much faster than copy.deepcopy; no positions)."""
    return _copy(node, None, None)


def copy_with(
    node: Any, name: Callable[[ast.Name], ast.expr], call: Callable[[ast.Call], ast.expr | None]
) -> Any:
    """A deep copy of `node` in which `name` copies each Name, and `call` may
    replace a call (children in field order; a replaced call's are not visited)."""
    return _copy(node, name, call)


def _copy(
    node: Any, name: Callable[[ast.Name], ast.expr] | None, call: Callable[[ast.Call], ast.expr | None] | None
) -> Any:
    kind = node.__class__
    # The kinds generated code is made of, built directly; any other, field by field.
    if kind is ast.Name:
        return ast.Name(node.id, getattr(node, "ctx", None)) if name is None else name(node)
    if kind is ast.BinOp:
        return ast.BinOp(_copy(node.left, name, call), node.op, _copy(node.right, name, call))
    if kind is ast.Constant:
        return ast.Constant(node.value, node.kind)
    if kind is ast.Call:
        replaced = call(node) if call is not None else None
        if replaced is not None:
            return replaced
        func = _copy(node.func, name, call)
        args = [_copy(arg, name, call) for arg in node.args]
        return ast.Call(func, args, [_copy(keyword, name, call) for keyword in node.keywords])
    if kind is ast.UnaryOp:
        return ast.UnaryOp(node.op, _copy(node.operand, name, call))
    if kind is ast.Attribute:
        return ast.Attribute(_copy(node.value, name, call), node.attr, getattr(node, "ctx", None))
    if kind is ast.Subscript:
        value = _copy(node.value, name, call)
        return ast.Subscript(value, _copy(node.slice, name, call), getattr(node, "ctx", None))
    if isinstance(node, ast.AST):
        if isinstance(node, _SHARED):
            return node
        new = kind.__new__(kind)
        for key in node._fields:
            setattr(new, key, _copy(getattr(node, key, None), name, call))
        return new
    if isinstance(node, list):
        return [_copy(item, name, call) for item in node]
    return node


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


@dataclass
class Append:
    """`target.append(value)`: a list kept by code that is run forwards only
    (forward mode over a generated backward, whose loops save their values)."""

    target: str
    value: Node
    origin: int


@dataclass
class If:
    """`if test: body else: orelse`; both branches bind the same merged names."""

    test: ast.expr
    body: list[Statement]
    orelse: list[Statement]
    origin: int


@dataclass
class Loop:
    """`for var in iter:` (var an int counter) or `while test:`.

    `carried` names keep one name across iterations: the body reads them as its
    entry values and ends by copying their new values back. The differentiator
    fills `saved`: the names whose per-iteration values the backward reads,
    kept in one list each (`lists`).
    """

    var: str | None
    iter: ast.expr | None
    test: ast.expr | None
    body: list[Statement]
    carried: list[str]
    origin: int
    counter: str | None = None
    copybacks: int = 0  # the body's last statements copy the carried values back
    saved: list[str] = field(default_factory=list)
    lists: dict[str, str] = field(default_factory=dict)


Statement = Stage | Plain | Append | If | Loop


def walk(statements: list[Statement]) -> list[Statement]:
    """Every statement, nested ones included, in source order."""
    found: list[Statement] = []
    for statement in statements:
        found.append(statement)
        if isinstance(statement, If):
            found += walk(statement.body) + walk(statement.orelse)
        elif isinstance(statement, Loop):
            found += walk(statement.body)
    return found


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
    upstream: list[str]  # names of the upstream gradient parameters, one per differentiated output
    # returned as they are and never differentiated (a layer's `cache = (x, w, b)`): no upstream
    held: list[str] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)  # forward source text per origin
    comments: dict[int, str] = field(default_factory=dict)  # origin -> the author's comment on its line
    active: set[str] = field(default_factory=set)
    forced: set[str] = field(default_factory=set)  # parameters named by wrt
    # staged name -> what its value is (see `kind`): the one table consumers ask
    kinds: dict[str, Kind] = field(default_factory=dict)
    shape_keys: dict[str, str] = field(default_factory=dict)  # see shapes.ShapeKeys
    dims: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # see dims.Dims
    annotated: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # parameter -> shape its annotation declares
    docstring: str | None = None
    names: Names = field(default_factory=lambda: Names(set()))
    value_name: str | None = None  # with return_value, where the result is kept
    temps: set[str] = field(default_factory=set)  # intermediates the normaliser named
    # names bound to a random draw: every draw stays, as the generator's state moves on with it
    draws: set[str] = field(default_factory=set)
    user_names: set[str] = field(default_factory=set)  # names the function binds (parameters, locals)
    stacks: set[str] = field(default_factory=set)  # lists that differentiated values are appended to
    arrays: bool = True  # whether a value the kinds leave unknown may be an array
    maybe_lists: set[str] = field(default_factory=set)  # parameters indexed like lists, of unknown kind
    array_likes: set[str] = field(default_factory=set)  # parameters that may be lists numpy reads whole
    whole_lists: set[str] = field(default_factory=set)  # of those, the ones proved (annotated) lists
    # parameters used as labels beside np.arange(N) whose kinds do not prove them vectors
    loose_labels: set[str] = field(default_factory=set)
    by_default: list[str] = field(default_factory=list)  # parameters taken to be numbers only by their defaults

    def kind(self, name: str) -> Kind:
        """What the staged value `name` is: a number, a list, an array (of which rank)."""
        return self.kinds.get(name, UNKNOWN_KIND)

    def is_number(self, name: str) -> bool:
        """Whether `name` is proved a number (a Python number or a numpy scalar)."""
        return self.kind(name).is_number

    def is_list(self, name: str) -> bool:
        """Whether `name` is a Python list of numbers (its gradient is one too)."""
        return self.kind(name).what == LIST

    def taken_as_number(self, name: str) -> bool:
        """Whether `name` is proved a number, or taken to be one by its number
        default (`scale=1.0`, of no other evidence: the output asserts it)."""
        return self.is_number(name) or name in self.by_default

    @property
    def param_names(self) -> set[str]:
        return {p.name for p in self.params}

    @property
    def differentiated(self) -> list[str]:
        """The outputs that take an upstream gradient, in return order."""
        return [o for o in self.outputs if o not in self.held]
    types: Types | None = None  # a fully typed function's annotations (see codegen.typed)


class TakenAsNumbers:
    """The names a function takes to be numbers, as a container (for the shape tables)."""

    def __init__(self, fn: Function) -> None:
        self.fn = fn

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.fn.taken_as_number(name)


def render(node: Node) -> ast.expr:
    """The forward expression of `node`."""
    if isinstance(node, Leaf):
        return clone(node.expr)
    slots = {f"__{i}__": render(a) for i, a in enumerate(node.args)}
    return substitute(node.spelling, slots, fresh=frozenset(slots))


def substitute(template: ast.expr, mapping: dict[str, ast.expr], fresh: frozenset[str] = frozenset()) -> ast.expr:
    """`template` with names replaced; values named in `fresh` are used once uncopied.

    One pass that copies and replaces together (a NodeTransformer over a clone
    walks the tree twice); uses are met in the order a NodeTransformer meets them,
    so the first one takes the fresh value."""
    unused = set(fresh)

    def name(node: ast.Name) -> ast.expr:
        if node.id in mapping:
            if node.id in unused:
                unused.discard(node.id)  # built for this call: the first use may take it
                return mapping[node.id]
            return clone(mapping[node.id])
        return ast.Name(node.id, getattr(node, "ctx", None))

    copied = _copy(template, name, None)
    assert isinstance(copied, ast.expr)  # _copy copies any tree, typed as Any
    return copied


class Rename(ast.NodeTransformer):
    """Every use and binding of the name `old` renamed `new`."""

    def __init__(self, old: str, new: str) -> None:
        self.old = old
        self.new = new

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.Name(self.new, node.ctx) if node.id == self.old else node


def operand_names(node: Op) -> list[str]:
    """The names an operation reads, for naming its value; [] if it reads more than names."""
    names: list[str] = []
    for arg in node.args:
        if isinstance(arg, Leaf) and arg.var is not None:
            names.append(arg.var)
        elif isinstance(arg, Leaf) and isinstance(arg.expr, ast.Name):
            names.append(arg.expr.id)
        elif isinstance(arg, Leaf) and isinstance(arg.expr, ast.Constant):
            continue
        else:
            return []
    return names
