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
from codegen.infer import results, uses
from codegen.infer.bindings import (
    CarriedRead,
    added_operands,
    carried_reads,
    element_loops,
    first_rebindings,
    mentions,
    name_bindings,
    number_index,
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
    UNKNOWN,
    UNKNOWN_KIND,
    Kind,
    annotation_kind,
    join,
    phrase,
    refine,
)
from codegen.read import resolve
from codegen.read.parse import Function, ModuleInfo


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
    masks: set[str] = field(default_factory=set)  # parameters used as truth values or indices: held constant

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


class Inference:
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
        # A display (`xs = []`, `xs = [0.5]`) is a list of numbers while its items and
        # what is appended to it are numbers (not after `xs.append(np.tanh(x))`), and
        # nothing writes into it or aliases it.
        self.appended = read_as_items(
            function, {name for name, value in self.definitions.items() if isinstance(value, (ast.List, ast.Tuple))}
        )
        self.displays = {name for name, values in self.appended.items() if not values}
        self.added = added_operands(function)  # see uses.visit: `xs[1:] + xs[:1]`
        self.statement_index = 0
        self.sizes: set[str] = set()  # parameters used where numpy needs an int
        self.masks: set[str] = set()  # parameters used where numpy needs booleans or ints
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
        if isinstance(node, ast.BinOp) and isinstance(node.op, results.ARITHMETIC):
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
        elif kind.is_number and isinstance(read.binding.op, results.ARITHMETIC):
            self.expect(read.binding.value, NUMBER_KIND)  # a number only from numbers


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


    def callee(self, node: ast.Call) -> str:
        return self.callee_of(node.func)

    def callee_of(self, name: ast.expr) -> str:
        """What a name or attribute of the module means: `math.exp`, `numpy.pi`, `user.f`."""
        return resolve.call_name(name, self.info, {}) or ""


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
                    uses.visit(self, node)
            self.infer_merged()
            if not self.changed:
                break
        alive: list[object] = [self.function, self.merged]
        return Kinds(
            dict(self.names), dict(self.nodes), self.arrays, alive, set(self.sizes), frozenset(self.params), dict(self.rebound),
            masks=set(self.masks),
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
            kind = Kind(LIST) if kind.what == LIST else kind  # rebound, a list may change its length (`v += [a]`)
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
                self.returned[function.name] = Inference(self.info, function, self.arrays, self.cache, self.returned).run()
            except KindError:
                pass  # reported where the callee itself is differentiated
        found = self.returned[function.name]
        return (returns[0].value, found) if found is not None else None

    def parameter_kinds(self, function: Function) -> dict[str, Kind]:
        """What a callee's own code says of its parameters."""
        return _parameter_kinds(self.info, function, self.arrays, self.cache)

    # ---- down: operands to results -------------------------------------------------
    def forward(self, node: ast.expr) -> Kind:
        """What `node` is: what its operands make it, refined by what is known of it
        (an array from `x @ w`, of rank 1 once `w`'s rank is known)."""
        memo = self.memo.get(id(node))
        if memo is None:
            known = self.nodes.get(id(node), UNKNOWN_KIND)
            memo = self.memo[id(node)] = refine(known, results.compute(self, node)) or known
        return memo


_Cache = dict[str, dict[str, Kind]]


def _parameter_kinds(info: ModuleInfo, function: Function, arrays: bool, cache: _Cache) -> dict[str, Kind]:
    """What `function`'s own code says of its parameters (a callee's, for its callers)."""
    if function.name not in cache:
        cache[function.name] = {}  # a recursive call sees no evidence yet
        try:
            cache[function.name] = Inference(info, function, arrays, cache).run().names
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
    found = Inference(info, function, may_hold_arrays(info, function), {}).run()
    info.inferred[id(function)] = (function, found)
    return found


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
