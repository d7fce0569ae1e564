"""In-place updates of storage that two names share: refused with a position.

codegen reads `b += x` and `b[i] = x` as a new value of `b`. For numpy that is
only right while no other name sees the same storage: after `b = a`,
`b = a.T`, `b = a.reshape(...)`, `b = a[1:]` or `for b in a:`, an update of `b`
changes `a` as well, and a gradient computed as if it did not would be silently
wrong. So each function is read once, in order, keeping which names may share
storage (a conservative guess across branches and loops); an update in place of
a name that shares it with another name read later (or, in a function other
functions call, with a parameter the caller may read) is refused at the update.
A value known to be a Python number is never updated in place (`h += 1.0`
rebinds `h`), nor is anything in a module without numpy except list items.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field

from codegen.ad import operations
from codegen.infer import kinds, lattice
from codegen.lower.scatter import is_add_at
from codegen.read.parse import Function, ModuleInfo
from codegen.read.resolve import call_name

# Calls whose result is a Python number, never updated in place.
_NUMBER_CALLS = frozenset({"float", "int", "len", "round"})
_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}
_NUMBER_ANNOTATIONS = frozenset({"float", "int", "bool", '""', "''"})


@dataclass
class _State:
    """Which names may share storage (each name's group), and which hold numbers."""

    groups: dict[str, frozenset[str]] = field(default_factory=dict)
    numbers: set[str] = field(default_factory=set)

    def copy(self) -> _State:
        return _State(dict(self.groups), set(self.numbers))

    def key(self) -> tuple[frozenset[tuple[str, frozenset[str]]], frozenset[str]]:
        return frozenset(self.groups.items()), frozenset(self.numbers)

    def join(self, other: _State) -> None:
        """What may hold after either of two paths."""
        for name, group in other.groups.items():
            self.groups[name] = self.groups.get(name, frozenset({name})) | group
        self.numbers &= other.numbers

    def bind(self, name: str, sources: set[str], number: bool) -> None:
        """`name` is bound again: it shares the storage of `sources` (none: fresh)."""
        for member in self.groups.get(name, frozenset()):
            if member != name and member in self.groups:
                self.groups[member] = self.groups[member] - {name}
        # Not transitive: after `p = a if c else b`, p may share a's storage or b's,
        # but a and b still do not share each other's.
        group = frozenset({name}).union(*(self.groups.get(s, frozenset({s})) for s in sources))
        self.groups[name] = group
        for member in group - {name}:
            self.groups[member] = self.groups.get(member, frozenset({member})) | {name}
        self.numbers.discard(name)
        if number:
            self.numbers.add(name)


def check_function(info: ModuleInfo, function: Function) -> list[tuple[ast.AST, str]]:
    """Every in-place update in `function` that another name would see."""
    checker = _Checker(info, function, set())
    checker.block(function.body, checker.state)
    return checker.found


class _Checker:
    def __init__(self, info: ModuleInfo, function: Function, visiting: set[str]) -> None:
        self.info = info
        self.visiting = visiting | {function.name}
        self.returned: set[str] = set()  # the names a return may share storage with
        try:
            inferred = kinds.infer(info, function)
            self.numpy, proved = inferred.arrays, inferred.names  # whether a value may be an array
        except kinds.KindError:  # the normaliser reports it, with its position
            self.numpy, proved = kinds.may_hold_arrays(info, function), {}
        self.found: list[tuple[ast.AST, str]] = []
        self.reported: set[int] = set()
        # each loop's state after it, by the state it was entered with
        self.loops_done: dict[tuple[int, object], _State] = {}
        self.order = list(_statements(function.body))
        self.position = {id(s): i for i, (s, _) in enumerate(self.order)}
        # each statement's block, its place in it, and the statement that holds the block
        self.parent = {id(s): (block, i, owner) for owner, block in _blocks(function.body, None) for i, s in enumerate(block)}
        self.state = _State()
        spec = function.args
        self.params = [a.arg for a in (*spec.posonlyargs, *spec.args, *spec.kwonlyargs)]
        # A number default proves nothing in the user's code: the caller may pass an array
        # (`alpha=1.0; beta = alpha; alpha += x` then changes beta). codegen's own backward
        # is read with its upstream `dout=1.0` a number, as the in-place pass wrote it.
        defaults = dict(zip(reversed(spec.args), reversed(spec.defaults))) if info.is_generated else {}
        for arg in (*spec.posonlyargs, *spec.args, *spec.kwonlyargs):
            annotation = ast.unparse(arg.annotation) if arg.annotation is not None else ""
            default = defaults.get(arg)
            number = annotation in _NUMBER_ANNOTATIONS or proved.get(arg.arg) == lattice.NUMBER_KIND or (
                isinstance(default, ast.Constant) and type(default.value) in (int, float, bool)
            )
            self.state.bind(arg.arg, set(), number)
        # A function the module's others call is inlined: its parameters are the caller's names.
        self.shared_params = any(
            isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == function.name
            for other in info.functions.values()
            if other is not function
            for n in ast.walk(other)
        )

    # ---- the walk ---------------------------------------------------------------
    def block(self, statements: list[ast.stmt], state: _State) -> None:
        for statement in statements:
            self.statement(statement, state)

    def statement(self, node: ast.stmt, state: _State) -> None:
        if isinstance(node, ast.Assign):
            first = node.targets[0]
            self.assign(first, node.value, state, node)
            for target in node.targets[1:]:  # `a = b = v`: one object, two names
                self.assign(target, ast.Name(first.id) if isinstance(first, ast.Name) else node.value, state, node)
        elif isinstance(node, ast.AugAssign):
            target = node.target
            if isinstance(target, ast.Name):
                if not self.numpy or target.id in state.numbers:
                    state.bind(target.id, set(), target.id in state.numbers)
                else:
                    self.update(node, target.id, state)
            elif isinstance(target, ast.Subscript):
                self.item_update(node, target, state)
        elif isinstance(node, ast.Expr) and is_add_at(node):  # np.add.at(a, index, v) adds into a
            assert isinstance(node.value, ast.Call)
            if node.value.args and isinstance(node.value.args[0], ast.Name):
                self.update(node, node.value.args[0].id, state)
        elif isinstance(node, ast.Return) and node.value is not None:
            value = node.value
            parts = value.elts if isinstance(value, ast.Tuple) else [value]
            for part in parts:
                for name in self.shares(part, state):
                    self.returned |= state.groups.get(name, frozenset({name}))
        elif isinstance(node, ast.If):
            other = state.copy()
            self.block(node.body, state)
            self.block(node.orelse, other)
            state.join(other)
        elif isinstance(node, (ast.For, ast.While)):
            # What one iteration binds, the next one sees: the body is read again until
            # the state stops growing (each round only joins more in, so it stops). Not a
            # fixed number of rounds: two per loop read a body nested n deep 2 ** n times.
            # Nor is a loop read again from a state it was entered with before: every
            # round ends in one more confirming round, so an inner loop would be read
            # again for each round of each loop around it (2 ** n as well). The walk
            # depends on the state alone and reports each update once, so the earlier
            # result stands.
            key = (id(node), state.key())
            if key in self.loops_done:
                done = self.loops_done[key]
                state.groups, state.numbers = dict(done.groups), set(done.numbers)
                return
            while True:
                entry = state.copy()
                if isinstance(node, ast.For):
                    self.assign(node.target, node.iter, state, node, each=True)
                self.block(node.body, state)
                state.join(entry)
                if state == entry:
                    break
            self.loops_done[key] = state.copy()

    def assign(self, target: ast.expr, value: ast.expr, state: _State, node: ast.stmt, each: bool = False) -> None:
        if isinstance(target, ast.Name):
            number = not each and self.is_number(value, state)  # a number is never shared
            state.bind(target.id, set() if number else self.shares(value, state, each), number)
        elif isinstance(target, (ast.Tuple, ast.List)):
            values = value.elts if isinstance(value, (ast.Tuple, ast.List)) and not each else None
            for i, element in enumerate(target.elts):
                if values is not None and len(values) == len(target.elts):
                    self.assign(element, values[i], state, node)
                elif isinstance(element, ast.Name):
                    shape = isinstance(value, ast.Attribute) and value.attr == "shape"
                    state.bind(element.id, set() if shape else self.shares(value, state, True), shape)
        elif isinstance(target, ast.Subscript):
            self.item_update(node, target, state)

    def shares(self, value: ast.expr, state: _State, each: bool = False) -> set[str]:
        """The names whose storage `value` may share (its items' with `each`)."""
        if isinstance(value, ast.Name):
            return {value.id} if value.id in state.groups else set()
        if isinstance(value, ast.IfExp):
            return self.shares(value.body, state, each) | self.shares(value.orelse, state, each)
        if isinstance(value, (ast.Tuple, ast.List)) and each:
            return set().union(*(self.shares(e, state) for e in value.elts)) if value.elts else set()
        if not self.numpy:
            return set()
        if isinstance(value, ast.Attribute) and operations.view_method(value.attr):
            return self.shares(value.value, state)
        if isinstance(value, ast.Subscript) and _is_basic(value.slice):
            return self.shares(value.value, state)
        if isinstance(value, ast.Call):
            name = call_name(value.func, self.info, {})
            if name is not None and name.startswith("method."):
                assert isinstance(value.func, ast.Attribute)
                return self.shares(value.func.value, state) if operations.view_method(value.func.attr) else set()
            if name is not None and name.startswith("numpy."):
                viewed = operations.viewed_operands(name[len("numpy.") :], value.args)
                return set().union(*(self.shares(a, state) for a in viewed)) if viewed else set()
            if name is not None and name.startswith("user."):
                return self.shared_by_call(value, name[len("user.") :], state)
        return set()

    def shared_by_call(self, call: ast.Call, callee: str, state: _State) -> set[str]:
        """What a call of a module function (inlined) returns may share: the
        arguments its return shares storage with."""
        function = self.info.functions.get(callee)
        if function is None or callee in self.visiting:
            return set()
        inner = _Checker(self.info, function, self.visiting)
        inner.block(function.body, inner.state)
        spec = function.args
        names = [a.arg for a in (*spec.posonlyargs, *spec.args)]
        passed = dict(zip(names, call.args)) | {k.arg: k.value for k in call.keywords if k.arg is not None}
        return set().union(*(self.shares(v, state) for k, v in passed.items() if k in inner.returned))

    def is_number(self, value: ast.expr, state: _State) -> bool:
        if isinstance(value, ast.Constant):
            return type(value.value) in (int, float, bool)
        if isinstance(value, ast.Name):
            return value.id in state.numbers
        if isinstance(value, ast.UnaryOp):
            return self.is_number(value.operand, state)
        if isinstance(value, ast.BinOp):
            return self.is_number(value.left, state) and self.is_number(value.right, state)
        if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Attribute):
            return value.value.attr == "shape"
        if isinstance(value, ast.Call):
            name = call_name(value.func, self.info, {}) or ""
            return name in _NUMBER_CALLS or name.startswith("math.")
        return False

    # ---- updates in place -------------------------------------------------------
    def item_update(self, node: ast.stmt, target: ast.Subscript, state: _State) -> None:
        base = target.value
        while isinstance(base, ast.Subscript):
            base = base.value  # `a[0][1] = v` writes into a's storage too
        if isinstance(base, ast.Name):
            self.update(node, base.id, state)

    def update(self, node: ast.stmt, name: str, state: _State) -> None:
        """`name` is changed in place at `node`: refused if another name sees it."""
        group = state.groups.get(name, frozenset({name}))
        later = self.read_after(node)
        others = sorted(m for m in group if m != name and m in later)
        params = sorted(m for m in group if m in self.params) if self.shared_params else []
        if (others or params) and id(node) not in self.reported:
            self.reported.add(id(node))
            other = (others or params)[0]
            why = "read later" if others else "the caller's (this function is inlined where it is called)"
            fix = f"{name} = {name}.copy() first"
            if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                fix = f"{name} = {name} {_OPERATORS.get(type(node.op), '+')} ..."
            self.found.append(
                (node, f"{name} is updated in place, and {other}, {why}, shares its storage: write {fix}")
            )

    def read_after(self, node: ast.stmt) -> set[str]:
        """The names read after `node`, or anywhere in a loop around it."""
        index = self.position[id(node)]
        names: set[str] = set()
        for statement, loop in self.order[index + 1 :]:
            names |= _reads(statement)
        outer = self.order[index][1]
        if outer is None:
            return names
        # Around the loop, up to `node`: a name bound anew before `node` on every path
        # (`prev = h[t - 1] if t > 0 else h0` above `h[t] = ...`) is not read before
        # that binding, wherever it is read between the binding and `node`.
        rebound = self.rebound_before(node)
        for position in range(self.position[id(outer)], index + 1):
            statement = self.order[position][0]
            names |= {n for n in _reads(statement) if not rebound.get(n, index) < position}
        return names

    def rebound_before(self, node: ast.stmt) -> dict[str, int]:
        """The names a plain `name = ...` binds before `node` in a block around it
        inside the innermost loop around it, each with the position of that binding.
        Not beyond that loop: its own next iteration comes back to `node` without
        passing a binding outside it."""
        found: dict[str, int] = {}
        statement: ast.stmt | None = node
        while statement is not None and not isinstance(statement, (ast.For, ast.While)):
            block, i, owner = self.parent[id(statement)]
            for earlier in block[:i]:
                if isinstance(earlier, ast.Assign):
                    for target in earlier.targets:
                        if isinstance(target, ast.Name):
                            found[target.id] = max(found.get(target.id, -1), self.position[id(earlier)])
            statement = owner
        return found


def _statements(body: list[ast.stmt], loop: ast.stmt | None = None) -> Iterator[tuple[ast.stmt, ast.stmt | None]]:
    """Each statement in source order, with the outermost loop around it."""
    for statement in body:
        yield statement, loop
        inner = loop or (statement if isinstance(statement, (ast.For, ast.While)) else None)
        for field_name in ("body", "orelse"):
            nested = getattr(statement, field_name, None)
            if isinstance(nested, list) and nested and isinstance(nested[0], ast.stmt):
                yield from _statements(nested, inner)


def _blocks(body: list[ast.stmt], owner: ast.stmt | None) -> Iterator[tuple[ast.stmt | None, list[ast.stmt]]]:
    """Every block of statements, with the compound statement that holds it."""
    yield owner, body
    for statement in body:
        for field_name in ("body", "orelse"):
            nested = getattr(statement, field_name, None)
            if isinstance(nested, list) and nested and isinstance(nested[0], ast.stmt):
                yield from _blocks(nested, statement)


def _reads(statement: ast.stmt) -> set[str]:
    """The names a statement reads itself (a compound one: in its header)."""
    if isinstance(statement, (ast.If, ast.While)):
        parts: list[ast.AST] = [statement.test]
    elif isinstance(statement, ast.For):
        parts = [statement.iter]
    else:
        parts = [statement]
    return {n.id for p in parts for n in ast.walk(p) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _is_basic(index: ast.expr) -> bool:
    """An index that selects a view (slices, integers, names of integers), not a copy."""
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    return all(not isinstance(p, (ast.List, ast.ListComp, ast.Compare)) for p in parts)
