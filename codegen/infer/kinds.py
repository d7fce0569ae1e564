"""What every value is: a Python number, a list, an ndarray (of which rank), a
setting, or unknown, inferred from the forward function's own code.

Evidence flows both ways, as in Enzyme's type analysis. Down, from operands to
results: `math.exp(...)` is a number, `x @ w` an array, a number times a number
a number. Up, from uses to operands: the argument of a `math` function is a
number, and so is every operand of arithmetic whose result is one; `N, D =
x.shape` makes `x` a matrix; `x.T`, `x @ w` and array methods make `x` an array;
`w[0]` being a number makes `w` a sequence of numbers (a list, or a vector);
`p["eps"]` and `p.get(...)` make `p` a setting. Annotations say more; a
number as a default does not (`scale=1.0` may be passed an array). Evidence reaches a name only where the name certainly holds the value it
is about: a parameter until it is first rebound, a local bound once.

Contradicting evidence (a `math` function of a value proved to be an array) is
an error with a position. What nothing settles stays unknown; a module that
imports no numpy and does nothing only arrays do has no arrays to offer, so
there an unknown value is a number.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from codegen.emit import helpers
from codegen.infer.dims import parse_dims
from codegen.read import resolve
from codegen.read.parse import Function, ModuleInfo

NUMBER = "number"  # a Python number, or a numpy scalar: no dimensions
SEQUENCE = "sequence"  # indexed element by element: a list of numbers, or a vector
LIST = "list"  # a Python list or tuple of numbers
ARRAY = "array"
SETTING = "setting"  # a dict or object of hyper-parameters
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Kind:
    """What one value is; `rank` is an array's number of dimensions where known,
    `length` a list's where annotated."""

    what: str = UNKNOWN
    rank: int | None = None
    length: int | None = None

    def __str__(self) -> str:
        if self.what == ARRAY and self.rank is not None:
            return f"array[{self.rank}]"
        if self.what == LIST and self.length is not None:
            return f"list[{self.length}]"
        return self.what

    @property
    def is_number(self) -> bool:
        return self.what == NUMBER

    @property
    def is_sequence(self) -> bool:
        """A list, or something read element by element that no array evidence reached."""
        return self.what in (LIST, SEQUENCE)


NUMBER_KIND = Kind(NUMBER)
UNKNOWN_KIND = Kind()

# ndarray attributes and methods that a list, a tuple or a Python number lacks.
_ARRAY_ATTRIBUTES = frozenset({"T", "mT", "shape", "ndim", "size", "dtype", "flat", "real", "imag"})
_ARRAY_METHODS = frozenset(
    {
        "reshape", "sum", "mean", "max", "min", "dot", "transpose", "ravel", "flatten", "astype", "std",
        "var", "prod", "clip", "squeeze", "swapaxes", "argmax", "argmin", "any", "all", "cumsum", "fill",
        "item", "round", "nonzero", "argsort", "repeat", "take", "tolist", "cumprod",
    }
)  # fmt: skip
_SETTING_METHODS = frozenset({"get", "keys", "items", "values", "setdefault"})
# Calls whose arguments from this position on are sizes (shapes, counts, bounds).
_SIZED: dict[str, tuple[int, int | None]] = {
    "range": (0, None), "numpy.arange": (0, None), "numpy.zeros": (0, 1), "numpy.ones": (0, 1),
    "numpy.empty": (0, 1), "numpy.full": (0, 1), "numpy.eye": (0, 2), "numpy.identity": (0, 1),
    "numpy.reshape": (1, 2), "numpy.tile": (1, 2), "numpy.repeat": (1, 2),
}  # fmt: skip
_SIZED_METHODS: dict[str, tuple[int, int | None]] = {"reshape": (0, None), "repeat": (0, 1)}
_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.FloorDiv)
_ORDERINGS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


class KindError(Exception):
    """Evidence that contradicts itself, at `node`."""

    def __init__(self, node: ast.AST, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


def refine(old: Kind, new: Kind) -> Kind | None:
    """The kind both `old` and `new` describe; None when they contradict."""
    if old == new or new.what == UNKNOWN:
        return old
    if old.what == UNKNOWN:
        return new
    pair = {old.what, new.what}
    if pair == {SEQUENCE, LIST}:
        return old if old.what == LIST else new
    if pair == {SEQUENCE, ARRAY}:
        array = old if old.what == ARRAY else new
        return Kind(ARRAY, 1) if array.rank in (None, 1) else None
    if old.what == new.what:
        if _differ(old.rank, new.rank) or _differ(old.length, new.length):
            return None
        return Kind(old.what, _either(old.rank, new.rank), _either(old.length, new.length))
    if pair == {NUMBER, ARRAY}:
        array = old if old.what == ARRAY else new
        return NUMBER_KIND if array.rank in (None, 0) else None
    return None


def _differ(a: int | None, b: int | None) -> bool:
    return a is not None and b is not None and a != b


def _either(a: int | None, b: int | None) -> int | None:
    return a if a is not None else b


def join(kinds: list[Kind]) -> Kind:
    """What a name merged from several bindings is: their common kind, if any."""
    first = kinds[0] if kinds else UNKNOWN_KIND
    if all(k == first for k in kinds):
        return first
    if all(k.what == ARRAY for k in kinds):
        return Kind(ARRAY)
    return UNKNOWN_KIND


def annotation_kind(annotation: ast.expr | None) -> Kind:
    """What a parameter annotation says: `float`, `int`, `list[float]`, `np.ndarray`,
    `"N D"`, `Float[np.ndarray, "N D"]`."""
    if annotation is None:
        return UNKNOWN_KIND
    if isinstance(annotation, ast.Name) and annotation.id in ("float", "int", "bool", "complex"):
        return NUMBER_KIND
    if isinstance(annotation, ast.Name) and annotation.id in ("list", "List", "tuple", "Sequence"):
        return Kind(LIST)
    if isinstance(annotation, ast.Subscript):
        head = annotation.value
        base = head.attr if isinstance(head, ast.Attribute) else getattr(head, "id", "")
        if base in ("list", "List", "tuple", "Tuple", "Sequence"):
            return Kind(LIST)
        if base in ("dict", "Dict", "Mapping"):
            return Kind(SETTING)
        index = annotation.slice
        if isinstance(index, ast.Tuple) and len(index.elts) == 2:
            return _shape_kind(index.elts[1])
        if base in ("NDArray", "ndarray", "ArrayLike"):
            return Kind(ARRAY)
    if isinstance(annotation, ast.Attribute) and annotation.attr in ("ndarray", "NDArray"):
        return Kind(ARRAY)
    if isinstance(annotation, ast.Name) and annotation.id in ("dict", "Dict"):
        return Kind(SETTING)
    return _shape_kind(annotation)


def _shape_kind(annotation: ast.expr) -> Kind:
    if not (isinstance(annotation, ast.Constant) and isinstance(annotation.value, str)):
        return UNKNOWN_KIND
    dims = parse_dims(annotation.value)
    if dims is None:
        return UNKNOWN_KIND
    if len(dims) == 1:  # `w: "3"`: a list of three numbers, or a vector
        return Kind(SEQUENCE, length=dims[0] if isinstance(dims[0], int) else None)
    return NUMBER_KIND if not dims else Kind(ARRAY, len(dims))


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

    def every_binding(self, name: str) -> Kind:
        """What every binding of the local `name` is; nothing for a parameter, whose
        kind is that of the value passed in, not of what it is rebound to."""
        return UNKNOWN_KIND if name in self.params else self.names.get(name, UNKNOWN_KIND)

    def of(self, node: ast.AST) -> Kind:
        return self.nodes.get(id(node), UNKNOWN_KIND)

    def param(self, name: str) -> Kind:
        return self.names.get(name, UNKNOWN_KIND)

    def describe(self) -> list[str]:
        """One `name: kind` line per name whose kind is known, sorted by name."""
        return [f"{name}: {'size' if name in self.sizes else kind}" for name, kind in sorted(self.names.items())]


class _Inference:
    """Gathers evidence over one function until nothing changes."""

    def __init__(self, info: ModuleInfo, function: Function, arrays: bool, cache: _Cache) -> None:
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
        bindings = _bindings(function)
        # A parameter is itself until first rebound: evidence before that is about it.
        self.stable_until = {p: _first_rebinding(function, p) for p in self.params}
        self.definitions: dict[str, ast.expr] = {
            name: values[0] for name, values in bindings.items() if len(values) == 1 and name not in self.params
            and values[0] is not None
        }  # fmt: skip
        self.merged = {name: values for name, values in bindings.items() if name not in self.definitions}
        self.defined_in = _statement_of(function, self.definitions)
        # `for v in xs:`, v bound nowhere else: each v is an element of xs.
        self.elements = {
            name: iterable for name, iterable in _element_loops(function).items() if bindings.get(name) == [None]
        }
        self.statement_index = 0
        self.sizes: set[str] = set()  # parameters used where numpy needs an int

    # ---- evidence -----------------------------------------------------------------
    def learn(self, name: str, kind: Kind, node: ast.AST) -> None:
        if kind.what == UNKNOWN:
            return
        old = self.names.get(name, UNKNOWN_KIND)
        new = refine(old, kind)
        if new is None:
            first = self.where.get(name)
            line = f" (line {first.lineno})" if first is not None and hasattr(first, "lineno") else ""
            raise KindError(node, f"{name} is used as {_phrase(kind)} here but as {_phrase(old)} elsewhere{line}")
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
        if kind.what == UNKNOWN:
            return
        old = self.nodes.get(id(node), UNKNOWN_KIND)
        new = refine(old, kind)
        if new is None:
            raise KindError(node, f"this is used as {_phrase(kind)} but is {_phrase(old)}")
        if new != old:
            self.nodes[id(node)] = new
            self.changed = True
        name = self.about(node)
        if name is not None:
            self.learn(name, new, node)
            definition = self.definitions.get(name)
            if definition is not None:
                # Its operands are read where it is bound, which may be another statement.
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
        elif isinstance(node, ast.IfExp):
            self.expect(node.body, NUMBER_KIND)
            self.expect(node.orelse, NUMBER_KIND)
        elif isinstance(node, ast.Call) and self.callee(node) in ("abs", "float", "max", "min", "pow"):
            for arg in node.args:
                self.expect(arg, NUMBER_KIND)

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

    def callee(self, node: ast.Call) -> str:
        return resolve.call_name(node.func, self.info, {}) or ""

    # ---- the walk -----------------------------------------------------------------
    def run(self) -> Kinds:
        for param, _, annotation in _parameters(self.function):
            # A number as default proves nothing: `scale=1.0` may be passed an array.
            self.learn(param, annotation_kind(annotation), annotation or self.function)
        for _ in range(20):
            self.changed = False
            self.memo = {}
            for index, statement in enumerate(self.function.body):
                self.statement_index = index
                for node in _walk_statement(statement):
                    self.visit(node)
            self.infer_merged()
            if not self.changed:
                break
        alive: list[object] = [self.function, self.merged]
        return Kinds(dict(self.names), dict(self.nodes), self.arrays, alive, set(self.sizes), frozenset(self.params))

    def infer_merged(self) -> None:
        """A name bound several times is what all its bindings are."""
        for name, values in self.merged.items():
            if name in self.params or any(v is None for v in values):
                continue
            if name in self.names:
                continue
            # Optimistically what the bindings that do not read the name itself are;
            # kept if every binding then agrees (`total = 0.0` ... `total += v`).
            outside = [v for v in values if v is not None and not _mentions(v, name)]
            kind = join([self.forward(v) for v in outside])
            if kind.what == UNKNOWN or not outside:
                continue
            self.names[name] = kind
            self.memo = {}
            if join([self.forward(v) for v in values if v is not None]) == kind:
                self.changed = True
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
        elif isinstance(node, ast.Attribute) and node.attr in _ARRAY_ATTRIBUTES:
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
            if isinstance(target, ast.Name) and target.id in self.definitions:
                self.learn(target.id, self.forward(node.value), node)
            self.visit_unpacking(target, node.value)

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
            if func.attr in _ARRAY_METHODS:
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

    def visit_unpacking(self, target: ast.expr, value: ast.expr) -> None:
        """`N, D = x.shape`: `x` has as many dimensions as there are names."""
        if (
            isinstance(target, ast.Tuple)
            and not any(isinstance(e, ast.Starred) for e in target.elts)
            and isinstance(value, ast.Attribute)
            and value.attr == "shape"
        ):
            self.expect(value.value, Kind(ARRAY, len(target.elts)))

    # ---- down: operands to results -------------------------------------------------
    def forward(self, node: ast.expr) -> Kind:
        known = self.nodes.get(id(node))
        if known is not None and known.what != UNKNOWN:
            return known
        memo = self.memo.get(id(node))
        if memo is None:
            memo = self.memo[id(node)] = self.compute(node)
        return memo

    def compute(self, node: ast.expr) -> Kind:
        if isinstance(node, ast.Constant):
            return NUMBER_KIND if type(node.value) in (int, float, bool) else UNKNOWN_KIND
        if isinstance(node, ast.Name):
            kind = self.names.get(node.id, UNKNOWN_KIND)
            if self.about(node) is not None or node.id in self.merged:
                return kind
            return UNKNOWN_KIND
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.MatMult):
                return Kind(ARRAY)
            left, right = self.forward(node.left), self.forward(node.right)
            if left.is_number and right.is_number:
                return NUMBER_KIND
            arrays = [k for k in (left, right) if k.what == ARRAY]
            if arrays and all(k.what in (ARRAY, NUMBER) for k in (left, right)):
                ranks = [k.rank if k.what == ARRAY else 0 for k in (left, right)]
                return Kind(ARRAY, None if None in ranks else max(r for r in ranks if r is not None))
            return UNKNOWN_KIND
        if isinstance(node, ast.UnaryOp):
            return self.forward(node.operand) if not isinstance(node.op, ast.Not) else UNKNOWN_KIND
        if isinstance(node, ast.Call):
            name = self.callee(node)
            if name.startswith("math.") or name in ("len", "int", "float", "round"):
                return NUMBER_KIND
            if name in ("abs",) and node.args:
                return self.forward(node.args[0])
            if name in ("max", "min") and len(node.args) >= 2:
                return NUMBER_KIND
            if name.startswith("numpy.") and name in resolve.CONSTANT_FUNCTIONS and name not in ("numpy.shape", "numpy.ndim", "numpy.size"):
                return Kind(ARRAY) if name != "numpy.random." else UNKNOWN_KIND
            if _reduces_everything(node, name):
                return NUMBER_KIND
            return UNKNOWN_KIND
        if isinstance(node, ast.Subscript):
            value = node.value
            if isinstance(value, ast.Attribute) and value.attr == "shape":
                return NUMBER_KIND
            base = self.forward(value)
            if base.is_sequence and number_index(node.slice):
                return NUMBER_KIND
            return UNKNOWN_KIND
        if isinstance(node, ast.Attribute):
            if node.attr in ("ndim", "size"):
                return NUMBER_KIND
            if node.attr in ("T", "mT"):
                inner = self.forward(node.value)
                return inner if inner.what == ARRAY else Kind(ARRAY)
            return UNKNOWN_KIND
        if isinstance(node, ast.IfExp):
            return join([self.forward(node.body), self.forward(node.orelse)])
        return UNKNOWN_KIND


_REDUCTIONS = frozenset({"sum", "mean", "max", "min", "prod", "std", "var", "amax", "amin", "linalg.norm"})


def _reduces_everything(node: ast.Call, name: str) -> bool:
    """`np.sum(x)`, `x.mean()`: a reduction over every axis is a number."""
    if node.keywords and any(k.arg in ("axis", "keepdims", "out", "ord") for k in node.keywords):
        return False
    if name.startswith("method."):
        return name[len("method."):] in _REDUCTIONS and not node.args
    return name.startswith("numpy.") and name[len("numpy."):] in _REDUCTIONS and len(node.args) == 1


def _mentions(tree: ast.expr, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(tree))


def _phrase(kind: Kind) -> str:
    return {
        NUMBER: "a number",
        SEQUENCE: "a sequence of numbers",
        LIST: "a list",
        ARRAY: "an array" if kind.rank is None else f"an array of {kind.rank} dimensions",
        SETTING: "a dict of settings",
    }.get(kind.what, "a value of unknown kind")


def number_index(index: ast.expr) -> bool:
    """An index of plain integers (no slices, arrays or `None`), as far as the text shows."""
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    for part in parts:
        if isinstance(part, (ast.Slice, ast.List, ast.Tuple, ast.Compare)):
            return False
        if isinstance(part, ast.Constant) and not (type(part.value) is int):
            return False
        if isinstance(part, ast.Call) and not (isinstance(part.func, ast.Name) and part.func.id in ("len", "int")):
            return False
        if isinstance(part, ast.Attribute) and part.attr == "newaxis":
            return False
    return all(_int_like(p) for p in parts)


def _int_like(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return type(node.value) is int
    if isinstance(node, ast.Name):
        return True  # a counter or a size; an index array makes the result no number
    if isinstance(node, ast.UnaryOp):
        return _int_like(node.operand)
    if isinstance(node, ast.BinOp):
        return _int_like(node.left) and _int_like(node.right)
    return isinstance(node, (ast.Call, ast.Subscript, ast.Attribute))


def _parameters(function: Function) -> Iterator[tuple[str, ast.expr | None, ast.expr | None]]:
    spec = function.args
    positional = [*spec.posonlyargs, *spec.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(spec.defaults)) + list(spec.defaults)
    for arg, default in zip(positional, defaults):
        yield arg.arg, default, arg.annotation
    for arg, default in zip(spec.kwonlyargs, spec.kw_defaults):
        yield arg.arg, default, arg.annotation


def _walk_statement(statement: ast.stmt) -> Iterator[ast.AST]:
    """Every node of `statement`, nested statements included; nested functions not."""
    stack: list[ast.AST] = [statement]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)) and node is not statement:
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _bindings(function: Function) -> dict[str, list[ast.expr | None]]:
    """Each name the function binds, with the value of each binding (None where
    the value is not one expression: a loop variable, an unpacked element)."""
    found: dict[str, list[ast.expr | None]] = {}
    for statement in function.body:
        for node in _walk_statement(statement):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found.setdefault(target.id, []).append(node.value)
                    else:
                        for name in _target_names(target):
                            found.setdefault(name, []).append(None)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                found.setdefault(node.target.id, []).append(node.value)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                found.setdefault(node.target.id, []).append(ast.BinOp(ast.Name(node.target.id, ast.Load()), node.op, node.value))
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                for name in _target_names(node.target):
                    found.setdefault(name, []).append(_loop_value(node))
            elif isinstance(node, ast.NamedExpr):
                found.setdefault(node.target.id, []).append(None)
            elif isinstance(node, (ast.comprehension,)):
                for name in _target_names(node.target):
                    found.setdefault(name, []).append(None)
    return found


def _statement_of(function: Function, definitions: dict[str, ast.expr]) -> dict[str, int]:
    """The index of the top-level statement holding each definition."""
    wanted = {id(value): name for name, value in definitions.items()}
    found: dict[str, int] = {}
    for index, statement in enumerate(function.body):
        for node in _walk_statement(statement):
            if id(node) in wanted:
                found[wanted[id(node)]] = index
    return found


def _element_loops(function: Function) -> dict[str, ast.expr]:
    """Loop variables over an iterable other than `range(...)`, with the iterable."""
    found: dict[str, ast.expr] = {}
    for statement in function.body:
        for node in _walk_statement(statement):
            if isinstance(node, ast.For) and isinstance(node.target, ast.Name) and _loop_value(node) is None:
                it = node.iter
                if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id in ("reversed", "enumerate", "zip")):
                    found[node.target.id] = it
    return found


def _loop_value(node: ast.For | ast.AsyncFor) -> ast.expr | None:
    """`for i in range(n)`: the counter is a number (the call stands for its value)."""
    it = node.iter
    if isinstance(node.target, ast.Name) and isinstance(it, ast.Call) and isinstance(it.func, ast.Name):
        if it.func.id == "range":
            return ast.Constant(0)
    return None


def _target_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for e in target.elts for n in _target_names(e)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


def _first_rebinding(function: Function, name: str) -> int:
    """The index of the first top-level statement that rebinds `name`: uses in
    statements before it (and on the right of a simple one) see the parameter."""
    for index, statement in enumerate(function.body):
        for node in _walk_statement(statement):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor, ast.NamedExpr)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(name in _target_names(t) for t in targets):
                    simple = node is statement and isinstance(node, (ast.Assign, ast.AnnAssign))
                    return index if simple else index - 1
    return len(function.body)


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
            for node in _walk_statement(statement):
                if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
                    return True
                if isinstance(node, ast.Attribute) and node.attr in _ARRAY_ATTRIBUTES:
                    return True
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _ARRAY_METHODS:
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
