"""What every value is: a Python number, a list, an ndarray (of which rank), a
setting, or unknown, inferred from the forward function's own code.

Evidence flows both ways, as in Enzyme's type analysis. Down, from operands to
results: `math.exp(...)` is a number, `x @ w` an array, a number times a number
a number. Up, from uses to operands: the argument of a `math` function is a
number, and so is every operand of arithmetic whose result is one; `N, D =
x.shape` makes `x` a matrix; `x.T`, `x @ w` and array methods make `x` an array;
`w[0]` being a number makes `w` a sequence of numbers (a list, or a vector);
`p["eps"]` and `p.get(...)` make `p` a setting. Annotations say more; a
number as a default does not (`scale=1.0` may be passed an array: the lowering
of the differentiated function takes such a parameter, of no other evidence, to
be a number, and the output asserts it). Evidence reaches a name only where the name certainly holds the value it
is about: a parameter until it is first rebound, a local bound once.

Contradicting evidence (a `math` function of a value proved to be an array) is
an error with a position. What nothing settles stays unknown; a module that
imports no numpy and does nothing only arrays do has no arrays to offer, so
there an unknown value is a number.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from codegen.ad import operations
from codegen.ad.rules import RULES
from codegen.emit import helpers
from codegen.infer.bindings import (
    CarriedRead,
    carried_reads,
    element_loops,
    first_rebindings,
    mentions,
    module_values,
    name_bindings,
    number_index,
    pairs,
    parameters,
    read_as_items,
    statement_of,
    walk_statement,
)
from codegen.infer.lattice import (
    ARRAY,
    LIST,
    NUMBER,
    NUMBER_KIND,
    SEQUENCE,
    SETTING,
    UNKNOWN,
    UNKNOWN_KIND,
    Kind,
    annotation_kind,
    arithmetic,
    element_of,
    join,
    phrase,
    product,
    refine,
)
from codegen.read import resolve
from codegen.read.parse import Function, ModuleInfo

_SETTING_METHODS = frozenset({"get", "keys", "items", "values", "setdefault"})


# Calls whose arguments from this position on are sizes (shapes, counts, bounds).
_SIZED: dict[str, tuple[int, int | None]] = {
    "range": (0, None), "numpy.arange": (0, None), "numpy.zeros": (0, 1), "numpy.ones": (0, 1),
    "numpy.empty": (0, 1), "numpy.full": (0, 1), "numpy.eye": (0, 2), "numpy.identity": (0, 1),
    "numpy.reshape": (1, 2), "numpy.tile": (1, 2), "numpy.repeat": (1, 2),
}  # fmt: skip


_SIZED_METHODS: dict[str, tuple[int, int | None]] = {"reshape": (0, None), "repeat": (0, 1)}


# Names of math and numpy that are numbers (`math.pi`, `np.inf`, `from math import e`).
_NUMBER_CONSTANTS = frozenset(
    f"{module}.{name}" for module in ("math", "numpy") for name in ("pi", "e", "tau", "inf", "nan", "euler_gamma")
)


_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.FloorDiv)


_ORDERINGS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


class KindError(Exception):
    """Evidence that contradicts itself, at `node`."""

    def __init__(self, node: ast.AST, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


@dataclass
class Kinds:
    """The kinds of one function's parameters and locals, and of its expressions
    (keyed by the id of the node Python's parser built)."""

    names: dict[str, Kind]
    nodes: dict[int, Kind]
    arrays: bool  # whether a value nothing settles may be an array
    alive: list[object]  # the nodes `nodes` is keyed by, kept so that no id is reused
    sizes: set[str]  # parameters used as sizes (shapes, counts, range bounds): ints, held constant
    params: frozenset[str] = frozenset()
    rebound: dict[str, Kind] = field(default_factory=dict)  # parameters: the value passed in and every rebinding

    def every_binding(self, name: str) -> Kind:
        """What every binding of `name` is; for a parameter, the value passed in
        and everything it is rebound to (its own kind says only what is passed in)."""
        if name in self.params:
            return self.rebound.get(name, UNKNOWN_KIND)
        return self.names.get(name, UNKNOWN_KIND)

    def of(self, node: ast.AST) -> Kind:
        return self.nodes.get(id(node), UNKNOWN_KIND)

    def param(self, name: str) -> Kind:
        return self.names.get(name, UNKNOWN_KIND)

    def describe(self) -> list[str]:
        """One `name: kind` line per name whose kind is known, sorted by name."""
        lines = []
        for name, kind in sorted(self.names.items()):
            line = f"{name}: {'size' if name in self.sizes else kind}"
            if name in self.rebound:
                line += f", every binding: {self.rebound[name]}"
            lines.append(line)
        return lines


class _Inference:
    """Gathers evidence over one function until nothing changes."""

    def __init__(
        self, info: ModuleInfo, function: Function, arrays: bool, cache: _Cache, returned: dict[str, Kinds | None] | None = None
    ) -> None:
        self.info = info
        self.cache = cache
        self.memo: dict[int, Kind] = {}
        self.function = function
        self.arrays = arrays
        self.names: dict[str, Kind] = {}
        self.nodes: dict[int, Kind] = {}
        self.where: dict[str, ast.AST] = {}  # name -> the node that first settled its kind
        self.changed = False
        self.params = [a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)]
        bindings = name_bindings(function)
        # A parameter is itself until first rebound: evidence before that is about it.
        self.stable_until = first_rebindings(function, self.params)
        self.carried = carried_reads(function, set(self.params))
        self.told: dict[str, Kind] = {}  # a definition -> the kind its value was last expected to have
        self.returned: dict[str, Kinds | None] = {} if returned is None else returned  # see one_return
        self.definitions: dict[str, ast.expr] = {
            name: values[0] for name, values in bindings.items() if len(values) == 1 and name not in self.params
            and values[0] is not None
        }  # fmt: skip
        self.merged = {name: values for name, values in bindings.items() if name not in self.definitions}
        self.unpacks = _unpacked_calls(function)
        self.defined_in = statement_of(function, self.definitions)
        # `for v in xs:`, v bound nowhere else: each v is an element of xs.
        self.elements = {
            name: iterable for name, iterable in element_loops(function).items() if bindings.get(name) == [None]
        }
        # A display of numbers is a list of numbers while nothing appends to it, writes
        # into it or aliases it (`xs = [0.5]`, then `xs.append(np.tanh(x))`).
        self.displays = read_as_items(
            function, {name for name, value in self.definitions.items() if isinstance(value, (ast.List, ast.Tuple))}
        )
        self.statement_index = 0
        self.sizes: set[str] = set()  # parameters used where numpy needs an int
        self.module_seen: set[str] = set()
        self.rebound: dict[str, Kind] = {}  # a rebound parameter: what every binding of it is
        self.module_values: dict[str, ast.expr] | None = None
        self.top: ast.stmt | None = None  # the top-level statement being visited

    # ---- evidence -----------------------------------------------------------------
    def learn(self, name: str, kind: Kind, node: ast.AST) -> None:
        if kind.what == UNKNOWN:
            return
        old = self.names.get(name, UNKNOWN_KIND)
        new = refine(old, kind)
        if new is None:
            first = self.where.get(name)
            line = f" (line {first.lineno})" if first is not None and hasattr(first, "lineno") else ""
            raise KindError(node, f"{name} is used as {phrase(kind)} here but as {phrase(old)} elsewhere{line}")
        if new != old:
            self.names[name] = new
            self.where.setdefault(name, node)
            self.changed = True

    def about(self, node: ast.expr) -> str | None:
        """The name whose value `node` certainly is at this point, if any."""
        if not isinstance(node, ast.Name):
            return None
        name = node.id
        if name in self.definitions or name in self.elements:
            return name
        if name in self.stable_until and self.statement_index <= self.stable_until[name]:
            return name
        return None

    def expect(self, node: ast.expr, kind: Kind) -> None:
        """`node` is known to evaluate to a value of `kind`: tell its operands."""
        if kind.what == UNKNOWN or kind.what == ARRAY and isinstance(node, (ast.List, ast.Tuple)):
            return  # numpy reads a display (`[a, b] @ w`) as an array: it stays a list
        old = self.nodes.get(id(node), UNKNOWN_KIND)
        new = refine(old, kind)
        if new is None:
            raise KindError(node, f"this is used as {phrase(kind)} but is {phrase(old)}")
        if new != old:
            self.nodes[id(node)] = new
            self.changed = True
        name = self.about(node)
        if name is None and id(node) in self.carried and new != old:
            self.expect_carried(self.carried[id(node)], new, node)
            return
        if name is not None:
            self.learn(name, new, node)
            definition = self.definitions.get(name)
            if definition is not None and self.told.get(name) != self.names[name]:
                # Its operands are read where it is bound, which may be another statement;
                # told once per kind (a chain of definitions is walked once, not per read).
                self.told[name] = self.names[name]
                here, self.statement_index = self.statement_index, self.defined_in.get(name, self.statement_index)
                try:
                    self.expect(definition, self.names[name])
                finally:
                    self.statement_index = here
            if name in self.elements and new.is_number:
                self.expect(self.elements[name], Kind(SEQUENCE))
            return
        if new.what != NUMBER:
            return  # only a number says what its operands are
        if isinstance(node, ast.BinOp) and isinstance(node.op, _ARITHMETIC):
            self.expect(node.left, NUMBER_KIND)  # broadcasting: a number only from numbers
            self.expect(node.right, NUMBER_KIND)
        elif isinstance(node, ast.UnaryOp):
            self.expect(node.operand, NUMBER_KIND)
        elif isinstance(node, ast.Subscript) and number_index(node.slice):
            self.expect_indexed(node.value, node.slice)
            item = self.display_item(node)
            if item is not None:
                self.expect(item, NUMBER_KIND)
        elif isinstance(node, ast.IfExp):
            self.expect(node.body, NUMBER_KIND)
            self.expect(node.orelse, NUMBER_KIND)
        elif isinstance(node, ast.Call) and self.callee(node) in ("abs", "float", "max", "min", "pow"):
            for arg in node.args:
                self.expect(arg, NUMBER_KIND)

    def expect_carried(self, read: CarriedRead, kind: Kind, node: ast.expr) -> None:
        """A parameter read in a loop that rebinds it once (`theta = theta + omega *
        dt`): what the read sees is the value passed in (on the first iteration, if
        the read comes before the rebinding) or the rebinding's."""
        if read.before:
            self.learn(read.name, kind, node)
        if isinstance(read.binding, ast.Assign):
            self.expect(read.binding.value, kind)
        elif kind.is_number and isinstance(read.binding.op, _ARITHMETIC):
            self.expect(read.binding.value, NUMBER_KIND)  # a number only from numbers

    def expect_size(self, node: ast.expr) -> None:
        """`node` is used where numpy needs an int (a shape, a count, a bound): the
        parameters it is made of are sizes, never differentiated."""
        if isinstance(node, (ast.Tuple, ast.List)):
            for element in node.elts:
                self.expect_size(element)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv)):
            self.expect_size(node.left)
            self.expect_size(node.right)
        elif isinstance(node, ast.Name) and node.id in self.params and self.about(node) is not None:
            self.expect(node, NUMBER_KIND)
            if node.id not in self.sizes:
                self.sizes.add(node.id)
                self.changed = True

    def expect_indexed(self, value: ast.expr, index: ast.expr) -> None:
        """`value[index]` is a number: `value` is a sequence (or an array of as many
        dimensions as the index has integers)."""
        count = len(index.elts) if isinstance(index, ast.Tuple) else 1
        self.expect(value, Kind(SEQUENCE) if count == 1 else Kind(ARRAY, count))

    def display_item(self, node: ast.Subscript) -> ast.expr | None:
        """The item `[a, b][1]` or `v[1]` (of `v = [a, b]`, bound once) reads."""
        display = node.value
        if isinstance(display, ast.Name) and display.id in self.displays:
            display = self.definitions[display.id]
        index = node.slice.value if isinstance(node.slice, ast.Constant) else None
        if not isinstance(display, (ast.List, ast.Tuple)) or any(isinstance(e, ast.Starred) for e in display.elts):
            return None
        if type(index) is not int or not -len(display.elts) <= index < len(display.elts):
            return None
        return display.elts[index]

    def indexed(self, rank: int, index: ast.expr) -> Kind:
        """`x[i]`, `x[:, j]`, `x[1:]` of an array of `rank` dimensions: each index
        proved a number takes one away, each slice keeps one; anything else (an index
        array, `None`, `...`) says nothing."""
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        if len(parts) > rank:
            return UNKNOWN_KIND
        taken = 0
        for part in parts:
            if isinstance(part, ast.Slice):
                continue
            if not self.forward(part).is_number or not number_index(part):
                return UNKNOWN_KIND
            taken += 1
        return NUMBER_KIND if taken == rank else Kind(ARRAY, rank - taken)

    def callee(self, node: ast.Call) -> str:
        return self.callee_of(node.func)

    def callee_of(self, name: ast.expr) -> str:
        """What a name or attribute of the module means: `math.exp`, `numpy.pi`, `user.f`."""
        return resolve.call_name(name, self.info, {}) or ""

    def module_kind(self, node: ast.Name) -> Kind:
        """A name the function does not bind: a number of math or numpy, or a
        constant of the module, bound once at its top level."""
        if self.callee_of(node) in _NUMBER_CONSTANTS:
            return NUMBER_KIND
        if self.module_values is None:
            self.module_values = module_values(self.info)
        value = self.module_values.get(node.id)
        if value is None or node.id in self.module_seen:
            return UNKNOWN_KIND
        self.module_seen.add(node.id)  # `A = B`, `B = A`: no kind, not a loop
        try:
            return _module_value_kind(value, self)
        finally:
            self.module_seen.discard(node.id)

    # ---- the walk -----------------------------------------------------------------
    def run(self) -> Kinds:
        for param, _, annotation in parameters(self.function):
            # A number as default proves nothing: `scale=1.0` may be passed an array.
            self.learn(param, annotation_kind(annotation), annotation or self.function)
        walked = [(statement, list(walk_statement(statement))) for statement in self.function.body]  # once, not per round
        for _ in range(20):
            self.changed = False
            self.memo = {}
            for index, (statement, nodes) in enumerate(walked):
                self.statement_index = index
                self.top = statement
                for node in nodes:
                    self.visit(node)
            self.infer_merged()
            if not self.changed:
                break
        alive: list[object] = [self.function, self.merged]
        return Kinds(
            dict(self.names), dict(self.nodes), self.arrays, alive, set(self.sizes), frozenset(self.params), dict(self.rebound)
        )

    def infer_merged(self) -> None:
        """A name bound several times is what all its bindings are."""
        for name, values in self.merged.items():
            if name in self.params or name in self.names:
                continue
            unpacked = self.unpacked_kinds(name, values)
            if unpacked is None:
                continue
            # Optimistically what the bindings that do not read the name itself are;
            # kept if every binding then agrees (`total = 0.0` ... `total += v`).
            outside = [v for v in values if v is not None and not mentions(v, name)]
            kind = join([self.forward(v) for v in outside] + unpacked)
            if kind.what == UNKNOWN or not (outside or unpacked):
                continue
            self.names[name] = kind
            self.memo = {}
            if join([self.forward(v) for v in values if v is not None] + unpacked) == kind:
                self.changed = True
            else:
                del self.names[name]
            self.memo = {}
        # Rebound parameters, and names bound to each other (`a, b = b, a`, `x = a ** k`,
        # `a = x`), which one at a time never settle: one optimistic trial for all.
        locals_ = {
            n: vs for n, vs in self.merged.items()
            if n not in self.params and n not in self.names and self.unpacked_kinds(n, vs) is not None
        }  # fmt: skip
        if self.unsettled_params() or len(locals_) > 1:
            self.infer_together(locals_)

    def unpacked_kinds(self, name: str, values: list[ast.expr | None]) -> list[Kind] | None:
        """The kinds of `name`'s bindings that are no one expression, where each unpacks
        what a module function returns at its one return (`x, a = h(x)` with `return u,
        u`); None when another is (a loop variable, an unpacked array)."""
        calls = self.unpacks.get(name, [])
        if sum(v is None for v in values) != len(calls):
            return None
        kinds: list[Kind] = []
        for call, i, arity in calls:
            found = self.one_return(self.callee(call))
            if found is None or not isinstance(found[0], ast.Tuple) or len(found[0].elts) != arity:
                return None
            kinds.append(found[1].of(found[0].elts[i]))
        return kinds

    def unsettled_params(self) -> dict[str, list[ast.expr | None]]:
        """The rebound parameters of a known passed-in kind whose every binding is
        not yet settled (and every binding of which is one expression, or unpacks
        what a module function returns)."""
        return {
            n: vs for n, vs in self.merged.items()
            if n in self.params and n not in self.rebound and n in self.names and self.names[n].what != UNKNOWN
            and self.unpacked_kinds(n, vs) is not None
        }  # fmt: skip

    def infer_together(self, locals_: dict[str, list[ast.expr | None]]) -> None:
        """The unsettled rebound parameters and `locals_`, settled at once, as they
        may be bound to each other (`x, p = p, x`). Optimistic: a parameter is what
        is passed in (its every binding then joins that and every rebinding), a local
        what its bindings of a known kind are; all are kept if every binding of each
        then agrees, else those that disagree are dropped and the rest tried again."""
        params = self.unsettled_params()
        trial: dict[str, Kind] = {}
        for name in params:
            trial[name] = self.rebound[name] = self.names[name]
        for _ in range(len(locals_)):
            grew = False
            for name, values in locals_.items():
                if name in trial:
                    continue
                self.memo = {}
                unpacked = self.unpacked_kinds(name, values) or []
                known = [k for k in [*(self.forward(v) for v in values if v is not None), *unpacked] if k.what != UNKNOWN]
                if known and join(known).what != UNKNOWN:
                    trial[name] = self.names[name] = join(known)
                    grew = True
            if not grew:
                break
        while trial:
            self.memo = {}
            failed = []
            for name, kind in trial.items():
                passed = [self.names[name]] if name in params else []
                passed += self.unpacked_kinds(name, self.merged[name]) or []
                if join(passed + [self.forward(v) for v in self.merged[name] if v is not None]) != kind:
                    failed.append(name)
            if not failed:
                self.changed = True
                break
            for name in failed:
                del trial[name]
                if name in params:
                    del self.rebound[name]
                else:
                    del self.names[name]
        self.memo = {}

    def visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.expr):
            kind = self.forward(node)
            if kind.what != UNKNOWN:
                self.expect(node, kind)
        if isinstance(node, ast.Call):
            self.visit_call(node)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            self.expect(node.left, Kind(ARRAY))
            self.expect(node.right, Kind(ARRAY))
        elif isinstance(node, ast.Attribute) and node.attr in operations.ARRAY_ATTRIBUTES:
            if not (isinstance(node.value, ast.Name) and node.value.id in self.info.aliases):
                self.expect(node.value, Kind(ARRAY))
        elif isinstance(node, ast.Subscript):
            key = node.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                self.expect(node.value, Kind(SETTING))
            elif isinstance(key, (ast.Tuple, ast.Slice)) and self.arrays:
                self.expect(node.value, Kind(ARRAY))  # a list takes neither `x[i, j]` nor `x[None, :]`; a slice is read as an array's
        elif isinstance(node, (ast.If, ast.While)):
            self.expect_compared(node.test)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            for name, value in pairs(target, node.value):
                if name in self.definitions and (name in self.displays or not isinstance(value, (ast.List, ast.Tuple))):
                    self.learn(name, self.forward(value), node)
            self.visit_unpacking(target, node.value)
            self.visit_returned(target, node.value)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            before = self.before_update(node)
            kind = Kind(ARRAY) if isinstance(node.op, ast.MatMult) else arithmetic(before, self.forward(node.value))
            self.expect_statement(node, kind)
        elif isinstance(node, ast.For) and isinstance(node.target, ast.Name):
            name = node.target.id
            if name in self.elements:
                self.learn(name, element_of(self.forward(node.iter)), node)
            elif name in self.definitions:  # a counter over range(...)
                self.learn(name, self.forward(self.definitions[name]), node)

    def before_update(self, node: ast.AugAssign) -> Kind:
        """What the name an augmented assignment updates holds before it: a
        parameter at its first rebinding, or what every binding of a local is."""
        assert isinstance(node.target, ast.Name)
        name = node.target.id
        if name in self.params:
            first = node is self.top and self.statement_index == self.stable_until[name] + 1
            return self.names.get(name, UNKNOWN_KIND) if first else UNKNOWN_KIND
        return self.names.get(name, UNKNOWN_KIND) if name in self.merged else UNKNOWN_KIND

    def expect_statement(self, node: ast.stmt, kind: Kind) -> None:
        """The value an (augmented) assignment binds is of `kind`."""
        old = self.nodes.get(id(node), UNKNOWN_KIND)
        new = refine(old, kind)
        if new is not None and new != old:
            self.nodes[id(node)] = new
            self.changed = True

    def visit_call(self, node: ast.Call) -> None:
        func = node.func
        name = self.callee(node)
        sized = _SIZED_METHODS.get(name[len("method."):]) if name.startswith("method.") else _SIZED.get(name)
        if sized is not None:
            arguments = node.args[sized[0] : sized[1]] + [k.value for k in node.keywords if k.arg in ("shape", "newshape")]
            for argument in arguments:
                self.expect_size(argument)
        if name.startswith("math.") and name not in resolve.CONSTANT_FUNCTIONS:
            for arg in node.args:
                self.expect(arg, NUMBER_KIND)
        elif name.startswith("method.") and isinstance(func, ast.Attribute):
            if operations.proves_array(func.attr):
                self.expect(func.value, Kind(ARRAY))
            elif func.attr in _SETTING_METHODS:
                self.expect(func.value, Kind(SETTING))
        elif name == "float" and len(node.args) == 1:
            self.expect(node.args[0], NUMBER_KIND)
        elif name in ("max", "min") and len(node.args) >= 2:
            for arg in node.args:  # comparing them: an array's truth is ambiguous
                self.expect(arg, NUMBER_KIND)
        elif name.startswith("user.") and not isinstance(func, ast.Attribute):
            self.visit_user_call(node, name[len("user."):])

    def visit_user_call(self, node: ast.Call, callee: str) -> None:
        """The arguments are what the callee's own code says its parameters are."""
        function = self.info.functions.get(callee)
        if function is None or callee == self.function.name or callee in self.info.primitives:
            return
        if self.info.is_generated and callee in helpers.NAMES:
            return  # our own helper, met again: a rule, not a function to read
        kinds = _parameter_kinds(self.info, function, self.arrays, self.cache)
        params = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
        for param, arg in zip(params, node.args):
            self.expect(arg, kinds.get(param, UNKNOWN_KIND))
        for keyword in node.keywords:
            if keyword.arg is not None:
                self.expect(keyword.value, kinds.get(keyword.arg, UNKNOWN_KIND))

    def expect_compared(self, test: ast.expr) -> None:
        """`if a < b:` orders numbers (an array's truth value is ambiguous); `==` also
        compares shapes and strings, so it says nothing."""
        if isinstance(test, ast.BoolOp):
            for value in test.values:
                self.expect_compared(value)
        elif isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            self.expect_compared(test.operand)
        elif isinstance(test, ast.Compare) and all(isinstance(o, _ORDERINGS) for o in test.ops):
            operands = (test.left, *test.comparators)
            if not any(isinstance(o, ast.Constant) and isinstance(o.value, str) for o in operands):
                for operand in operands:
                    self.expect(operand, NUMBER_KIND)

    def visit_returned(self, target: ast.expr, value: ast.expr) -> None:
        """`a, c = h(3.0)` of a module function whose one return is a tuple (`return
        u, u`): each name bound only here is what the callee's code says it returns."""
        if not (isinstance(target, ast.Tuple) and isinstance(value, ast.Call)):
            return
        found = self.one_return(self.callee(value))
        if found is None or not isinstance(found[0], ast.Tuple) or len(found[0].elts) != len(target.elts):
            return
        for element, returned in zip(target.elts, found[0].elts):
            if isinstance(element, ast.Name) and self.merged.get(element.id) == [None]:
                self.learn(element.id, found[1].of(returned), value)

    def returned_kind(self, callee: str) -> Kind:
        """A call of a module function whose one return is one value: that value's kind."""
        found = None if callee.removeprefix("user.") in self.info.primitives else self.one_return(callee)
        if found is None or isinstance(found[0], ast.Tuple):
            return UNKNOWN_KIND
        return found[1].of(found[0])

    def one_return(self, callee: str) -> tuple[ast.expr, Kinds] | None:
        """The value a called module function (`user.h`) returns at its one return
        statement, and what its own code says of its values (inferred once; the
        inferences of callees share them, so that a recursion through them ends)."""
        function = self.info.functions.get(callee.removeprefix("user."))
        if not callee.startswith("user.") or function is None or function is self.function:
            return None
        returns = [n for n in walk_statement(function) if isinstance(n, ast.Return)]
        if len(returns) != 1 or returns[0].value is None:
            return None
        if function.name not in self.returned:
            self.returned[function.name] = None  # a recursive call sees nothing yet
            try:
                self.returned[function.name] = _Inference(self.info, function, self.arrays, self.cache, self.returned).run()
            except KindError:
                pass  # reported where the callee itself is differentiated
        found = self.returned[function.name]
        return (returns[0].value, found) if found is not None else None

    def visit_unpacking(self, target: ast.expr, value: ast.expr) -> None:
        """`N, D = x.shape`: `x` has as many dimensions as there are names, each a number."""
        if (
            isinstance(target, ast.Tuple)
            and not any(isinstance(e, ast.Starred) for e in target.elts)
            and isinstance(value, ast.Attribute)
            and value.attr == "shape"
        ):
            self.expect(value.value, Kind(ARRAY, len(target.elts)))
            for size in target.elts:
                if isinstance(size, ast.Name) and self.merged.get(size.id) == [None]:  # bound here only
                    self.learn(size.id, NUMBER_KIND, value)

    # ---- down: operands to results -------------------------------------------------
    def forward(self, node: ast.expr) -> Kind:
        """What `node` is: what its operands make it, refined by what is known of it
        (an array from `x @ w`, of rank 1 once `w`'s rank is known)."""
        memo = self.memo.get(id(node))
        if memo is None:
            known = self.nodes.get(id(node), UNKNOWN_KIND)
            memo = self.memo[id(node)] = refine(known, self.compute(node)) or known
        return memo

    def compute(self, node: ast.expr) -> Kind:
        if isinstance(node, ast.Constant):
            return NUMBER_KIND if type(node.value) in (int, float, bool) else UNKNOWN_KIND
        if isinstance(node, ast.Name):
            kind = self.names.get(node.id, UNKNOWN_KIND)
            if self.about(node) is not None:
                return kind
            if node.id in self.params:  # rebound: what the parameter and every rebinding are
                return self.rebound.get(node.id, UNKNOWN_KIND)
            if node.id in self.merged:
                return kind
            if node.id in self.params or node.id in self.definitions or node.id in self.elements:
                return UNKNOWN_KIND
            return self.module_kind(node)
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.MatMult):
                return product(self.forward(node.left), self.forward(node.right), stacked=True)
            return arithmetic(self.forward(node.left), self.forward(node.right))
        if isinstance(node, ast.Compare):
            return arithmetic(*(self.forward(o) for o in (node.left, *node.comparators)))
        if isinstance(node, ast.UnaryOp):
            return self.forward(node.operand) if not isinstance(node.op, ast.Not) else UNKNOWN_KIND
        if isinstance(node, ast.Call):
            name = self.callee(node)
            if name.startswith("math.") or name in ("len", "int", "float", "round"):
                return NUMBER_KIND
            if resolve.draws_a_number(node, self.info, {}):
                return NUMBER_KIND
            if name in ("abs",) and node.args:
                return self.forward(node.args[0])
            if name == "pow" and len(node.args) == 2:
                return arithmetic(*(self.forward(a) for a in node.args))
            if name in ("max", "min") and len(node.args) >= 2:
                return NUMBER_KIND
            if name.startswith("numpy.") and name in resolve.CONSTANT_FUNCTIONS and name not in ("numpy.shape", "numpy.ndim", "numpy.size"):
                return Kind(ARRAY) if name != "numpy.random." else UNKNOWN_KIND
            if _reduces_everything(node, name):
                return NUMBER_KIND
            if name.startswith("user.") and not isinstance(node.func, ast.Attribute):
                return self.returned_kind(name)
            if name in ("numpy.ravel", "method.ravel", "method.flatten") and len(node.args) == int(name == "numpy.ravel"):
                return Kind(ARRAY, 1)
            if name in ("numpy.reshape", "method.reshape"):
                return Kind(ARRAY, self.reshaped_rank(node.args[name == "numpy.reshape" :]))
            row = RULES.get(name)
            if row is not None and row.kind == "elementwise" and node.args and not node.keywords:
                return arithmetic(*(self.forward(a) for a in node.args))
            if name in ("numpy.dot", "numpy.matmul") and len(node.args) == 2 and not node.keywords:
                return product(*(self.forward(a) for a in node.args), stacked=name == "numpy.matmul")
            if name == "method.dot" and isinstance(node.func, ast.Attribute) and len(node.args) == 1:
                return product(self.forward(node.func.value), self.forward(node.args[0]), stacked=False)
            return UNKNOWN_KIND
        if isinstance(node, ast.Subscript):
            value = node.value
            if isinstance(value, ast.Attribute) and value.attr == "shape":
                return NUMBER_KIND
            if isinstance(value, (ast.List, ast.Tuple)) and value.elts and number_index(node.slice):
                return join([self.forward(e) for e in value.elts])  # `[z, z][1]`: one of its items
            base = self.forward(value)
            if base.is_sequence and number_index(node.slice):
                return NUMBER_KIND
            if base.what == ARRAY and base.rank is not None:
                return self.indexed(base.rank, node.slice)
            return UNKNOWN_KIND
        if isinstance(node, ast.Attribute):
            if node.attr in ("ndim", "size") or self.callee_of(node) in _NUMBER_CONSTANTS:
                return NUMBER_KIND
            if node.attr in ("T", "mT"):
                inner = self.forward(node.value)
                return inner if inner.what == ARRAY else Kind(ARRAY)
            return UNKNOWN_KIND
        if isinstance(node, ast.IfExp):
            return join([self.forward(node.body), self.forward(node.orelse)])
        if isinstance(node, (ast.List, ast.Tuple)) and node.elts and all(self.forward(e).is_number for e in node.elts):
            return Kind(LIST, length=len(node.elts))  # a display of numbers
        return UNKNOWN_KIND


    def reshaped_rank(self, sizes: list[ast.expr]) -> int | None:
        """The number of dimensions `reshape(*sizes)` gives, when each size is a number
        (`x.reshape(N * T, V)`, `x.reshape((N, -1))`, `y.reshape(N)`)."""
        if len(sizes) == 1 and isinstance(sizes[0], (ast.Tuple, ast.List)):
            sizes = sizes[0].elts
        elif len(sizes) == 1 and any(isinstance(n, ast.Name) and n.id in self.params for n in ast.walk(sizes[0])):
            return None  # a parameter used as a size may be a whole shape: `x.reshape(shape)`
        if not sizes or any(isinstance(size, ast.Starred) or not self.forward(size).is_number for size in sizes):
            return None
        return len(sizes)


def _unpacked_calls(function: Function) -> dict[str, list[tuple[ast.Call, int, int]]]:
    """The names bound by unpacking a call, `a, b = h(x)`: each with the call, its
    position and the number of names."""
    found: dict[str, list[tuple[ast.Call, int, int]]] = {}
    for statement in function.body:
        for node in walk_statement(statement):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                for target in node.targets:
                    if isinstance(target, ast.Tuple) and not any(isinstance(e, ast.Starred) for e in target.elts):
                        for i, element in enumerate(target.elts):
                            if isinstance(element, ast.Name):
                                found.setdefault(element.id, []).append((node.value, i, len(target.elts)))
    return found


def _module_value_kind(value: ast.expr, inference: _Inference) -> Kind:
    """The kind of a module constant's value: numbers and arithmetic of them, the
    math and numpy numbers, calls of math functions, other such constants."""
    if isinstance(value, ast.Constant):
        return NUMBER_KIND if type(value.value) in (int, float) else UNKNOWN_KIND
    if isinstance(value, ast.Name):
        return inference.module_kind(value)
    if isinstance(value, ast.Attribute):
        return NUMBER_KIND if inference.callee_of(value) in _NUMBER_CONSTANTS else UNKNOWN_KIND
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, (ast.USub, ast.UAdd)):
        return _module_value_kind(value.operand, inference)
    if isinstance(value, ast.BinOp) and isinstance(value.op, _ARITHMETIC):
        left, right = (_module_value_kind(v, inference) for v in (value.left, value.right))
        return NUMBER_KIND if left.is_number and right.is_number else UNKNOWN_KIND
    if isinstance(value, ast.Call) and inference.callee(value).startswith("math."):
        if all(_module_value_kind(a, inference).is_number for a in value.args):
            return NUMBER_KIND
    return UNKNOWN_KIND




def _reduces_everything(node: ast.Call, name: str) -> bool:
    """`np.sum(x)`, `x.mean()`: a reduction over every axis is a number."""
    if node.keywords and any(k.arg in ("axis", "keepdims", "out", "ord") for k in node.keywords):
        return False
    if name.startswith("method."):
        return operations.reduces(name[len("method."):]) and not node.args
    return name.startswith("numpy.") and operations.reduces(name[len("numpy."):]) and len(node.args) == 1


_Cache = dict[str, dict[str, Kind]]


def _parameter_kinds(info: ModuleInfo, function: Function, arrays: bool, cache: _Cache) -> dict[str, Kind]:
    """What `function`'s own code says of its parameters (a callee's, for its callers)."""
    if function.name not in cache:
        cache[function.name] = {}  # a recursive call sees no evidence yet
        try:
            cache[function.name] = _Inference(info, function, arrays, cache).run().names
        except KindError:
            pass  # reported where the callee itself is differentiated
    return cache[function.name]


def may_hold_arrays(info: ModuleInfo, function: Function) -> bool:
    """Whether a value nothing settles may be an array: the module imports numpy,
    or the function (or a function it calls) does something only arrays do."""
    if info.uses_numpy:
        return True
    seen: set[str] = set()
    todo = [function]
    while todo:
        current = todo.pop()
        for statement in current.body:
            for node in walk_statement(statement):
                if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
                    return True
                if isinstance(node, ast.Attribute) and node.attr in operations.ARRAY_ATTRIBUTES:
                    return True
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and operations.proves_array(node.func.attr):
                    return True
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                    callee = info.functions.get(node.func.id)
                    if callee is not None and node.func.id not in seen:
                        seen.add(node.func.id)
                        todo.append(callee)
    return False


def infer(info: ModuleInfo, function: Function) -> Kinds:
    """The kinds of `function`'s values, inferred once per module and function;
    raises KindError on contradicting evidence."""
    cached = info.inferred.get(id(function))
    if cached is not None and cached[0] is function:
        return cached[1]
    found = _Inference(info, function, may_hold_arrays(info, function), {}).run()
    info.inferred[id(function)] = (function, found)
    return found
