"""Random numpy forward programs: every one is differentiated correctly or refused cleanly.

Hypothesis writes small numpy modules (numpy under any import name, sometimes
`from numpy import ...` and `math` too). Parameters are arrays of a few small
shapes ((3,), (2, 3), (3, 1), (1, 3), (2, 1), and the stack (2, 2, 3)) or
numbers, in a third of the modules annotated with their dimensions (`x: "N D"`),
at times with a hyper-parameter `c=0.5`, an `int` loop count, integer `labels`,
or a list `v` of three numbers read as `v[1]`, `v[i]` and `for t in v`. What is
passed is what users pass: a float array or an int one (`np.array([1, 0, -1])`);
a Python float, a Python int, `np.float64(...)` or a 0-d array; for `v` a list
of floats, of ints, or a vector. (Ints sit on kinks: the probe then counts every
tie, and the last of three attempts at a point passes floats only.) The body has
2 to 8 statements (2 to 12 in the long run):

- elementwise operators and ufuncs kept inside their domains (`np.exp` of a
  squashed value, `np.log`/`np.sqrt` of positive ones, `**`, the sigmoid, `math`
  functions of scalars), broadcasting between all the shapes;
- kinks: `np.abs`, `abs`, `np.maximum`/`np.minimum` (ReLU too), `np.clip`,
  and casts that let no gradient through (`x.astype(int)`, `np.floor`);
- reductions (`sum mean max min prod var std`, `np.linalg.norm`) with and
  without `axis` and `keepdims`, spelled as functions, with a positional axis,
  and as methods;
- indexing and slicing (`x[0]`, `x[:, 1]`, `x[1:]`, `x[::-1]`, `x[:, None]`,
  `x[[0, 2, 0]]`, `x[i]` with a loop counter, `p[np.arange(N), labels]`);
  `reshape` (also `x.reshape(N, -1)` after `N, D = x.shape`), `ravel`,
  `flatten`, `.T`, `transpose`, `swapaxes`, `expand_dims`, `squeeze`, `copy`,
  `astype(float)`;
- products (`@`, `np.dot`, `.dot`, `np.matmul`) of numbers (`np.dot` only),
  vectors, matrices and stacks in either order, `v @ v.T`, `x @ x.T`, with or
  without annotations (numpy's rules decide the result); `np.outer`,
  `np.inner`, `np.einsum` (implicit outputs, diagonals, traces, an ellipsis), `np.concatenate`/`np.concat`/`np.stack`/`np.vstack`/`np.hstack`, `np.where`
  with a constant mask or a comparison, array constants (inline or module-level);
- softmax, log-sum-exp and standardisation along an axis, staged by hand;
- what numpy layers write (issue 17): `return out, cache` with `cache = (x, w, ...)`
  (a tuple of inputs and intermediates, never differentiated), `p, q = np.split(e, 2,
  axis=1)` and `np.array_split` into two or three names, `np.trace`, and, in about
  one module in seven, a boolean `mask` parameter read as `np.sum(e[mask])`,
  `e[~mask]`, `e[mask & keep]`, or multiplied in (`e * mask`, `np.where(mask, e, 0.0)`);
- random draws from numpy's global generator (`t = e * np.random.rand()`,
  `np.tanh(np.random.randn(*x.shape))`, `np.random.uniform(-1.0, 1.0, size=...)`),
  in a quarter of the modules, whose functions are then called with the generator
  seeded (`tests.support.seeded`): a draw is computed once and reused, so the
  forward, its central differences and the backward see the same values;
- reassignment, `+=` and friends, tuple unpacking, fan-out, item assignment
  (`t[1:] = v`, `t[0] += v`, `t[[0, 0, 1]] += v` with a repeated index) into
  `np.zeros`/`zeros_like`/`ones_like` arrays,
  shape arithmetic (`n1 = x.shape[1]`, `len(x)`), a call to a helper function
  (a private one defined inside `f` in half the modules);
- in a third of the modules `if`/`elif`/`else` on scalar tests, `for` over
  `range()`, over the rows of an array (alone, with `enumerate`, or `zip`ped with
  another array's rows or a list) or the numbers of a list, and `while`,
  nested two deep; values merged across branches (`if c: h = a` / `else: h = b`,
  or `h = a` / `if c: h = b`, where `a` and `b` have shapes that differ and
  broadcast), and carried by loops whose shape grows by broadcasting (`t = 0.0`,
  then `t = t + x[i]` in the loop); where the loop may not run (`range(n)`), or
  after a branch, the merged value is used in a way right for every shape it may
  have (times a value of the broadcast shape, a whole reduction, `np.sum(h @ w)`).

A function returns a scalar (often `np.sum` of something), an array (checked
with a random upstream gradient), or two values. The shape of every value is
known while the program is written (the arguments' shapes are fixed per
program), so every program runs. Now and then `+=` and friends update an
array that another name views or aliases: codegen must refuse that where the
other name is read later, and differentiate it correctly where it is not.

For each program, `codegen.generate` must either raise `codegen.CodegenError`
(with a position) or produce a backward whose gradients match central
differences (tests/support.check_gradients) at random smooth points, with
each gradient of its parameter's shape; a parameter codegen holds constant
must really not move the output. Any other exception fails the test.

Values stay bounded: a value that could exceed `LIMIT` is squashed with
`np.tanh`, so float64 central differences are accurate. Points closer than
`MARGIN` to a kink (of `abs`, `maximum`, `max`, `clip`, `std` at zero, a
comparison) are skipped: a probe copy of the module calls recording wrappers
at every kink and measures the margin.

The run is derandomized (same programs on every run and machine). Set
CODEGEN_LONG_FUZZ=1 for a long run with fresh random programs, or
CODEGEN_FUZZ_EXAMPLES=N to choose the number of programs.
"""

from __future__ import annotations

import ast
import inspect
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, event, note
from hypothesis import strategies as st

import codegen
from tests.support import (
    EXAMPLES,
    LONG,
    as_tuple,
    assert_constructs_checked,
    check_forward_mode,
    check_gradients,
    check_split_style,
    count_constructs,
    fused_gradients,
    gradient_names,
    bug,
    load,
    run_random_programs,
    seeded,
    upstream_for,
)

LIMIT = 4.0  # bound on the magnitude of every element a program computes
MARGIN = 1e-3  # minimum distance of a test point from any kink
PARAM_BOUND = 1.5  # arguments are drawn from [-1.5, 1.5]
MAX_SIZE = 12  # no value has more elements
# One program in this many is also generated in split style and in forward mode
# and checked against its fused backward (every one in the long run).
OTHER_STYLES_EVERY = 1 if LONG else 20
LABELS = 2  # length of an integer label parameter (`p[np.arange(N), labels]`)
LIST_LENGTH = 3  # length of a list parameter `v`, read as `v[0]` and `v[i]`
# Statements in a forward function: CI runs many short programs; the long run
# also writes long ones.
STATEMENTS = (2, 12) if LONG else (2, 8)

Shape = tuple[int, ...]
INTEGRAL = frozenset({"int_array", "int_value"})  # parameters passed ints (on most attempts)
INT_VALUES = (-1, 0, 1)  # the ints passed: inside [-PARAM_BOUND, PARAM_BOUND]
PARAM_SHAPES: list[Shape] = [(), (), (3,), (3,), (2, 3), (2, 3), (3, 1), (1, 3), (2, 1), (2, 2, 3)]
DIM_NAMES = {2: "N", 3: "D", 1: "1"}
PARAM_POOL = ["x", "y", "w", "b", "z"]
# Plain names plus names codegen generates itself (gradients, temporaries, outputs).
LOCAL_POOL = [
    "a", "h", "s", "t", "u", "out", "dout", "dx", "da", "x_1", "a_1", "tanh_a", "exp_x", "sum_a", "t_1",
]  # fmt: skip

# Known core bugs and limitations the random programs steer around; see
# /work/bugs-reliability.md and the strict xfails at the end of this file. When an
# xfail starts passing, drop its entry so the programs cover the construct again.
# Entries for bugs fixed since: "vector_product" (issue 15: products of vectors and
# stacks without annotations), "mean_of_float" (B28), "prod_of_zero" (B29),
# "setitem_known_shapes" (B30), "rebound_loop_source" (B31), "inner_mixed_ranks" (B32),
# "constant_carried_over_items" (B33), "setitem_after_loop" (B34),
# "counter_rebound_in_branch" (B35), "helper_in_constant_item" (B36),
# "split_cache_in_branch" (B37), "tangent_not_broadcast" (B38),
# "int_param_beside_slice" (B39), "jvp_default_in_loop" (B41), "jvp_loop_version" (B42).
# "merged_number_and_array": a name bound to a number on one path and to an array
# on another is taken for one of them after the merge (FOUND below).
# "negative_list_index": `v[1]` and `v[-2]` of a list of three are the same element,
# but the gradient of one overwrites the other's (FOUND below).
# "annotated_number_rebound": a parameter annotated `float` and rebound to an array
# keeps the annotation's kind, and its gradient is summed to a scalar (FOUND below).
# "read_only_upstream": a scalar upstream broadcast by `np.broadcast_to` is
# read-only, and some backwards update it in place (FOUND below); such a program
# is counted, not failed.
# The four above are fixed, and so is "merged_number_and_array"; a value that may
# be a Python number on one path gets no array methods (`t.sum()` would fail in the
# forward itself), only numpy's functions.
KNOWN_BUGS: frozenset[str] = frozenset()

FROM_NAMES = frozenset({"exp", "tanh", "log", "sqrt", "maximum", "where", "dot", "sin"})
UNARY = [
    "exp", "tanh", "tanh", "sin", "cos", "arctan", "log", "sqrt", "log1p", "sinh", "expm1",
    "arcsinh", "neg", "sigmoid", "reciprocal", "cbrt",
]  # fmt: skip
REDUCTIONS = ["sum", "sum", "mean", "mean", "max", "min", "prod", "var", "std", "norm"]
# Index expressions by the rank of the value indexed (1, or 2 and more); those
# that fall outside a value's shape are left out.
INDEXES = {
    1: ["0", "-1", "1", "1:", ":2", "::-1", "[0, 2, 0]", ":, None", "None, :"],
    2: ["0", "-1", "1", "1:", ":2", "::-1", "[0, 2, 0]", "..., 0", ":, 1", "0, 1", ":, 1:", ":, :2", "1, :",
        ":, ::-1", ":, None"],
}  # fmt: skip
SETITEM_INDEXES = {1: ["0", "-1", "1:", ":2", "[0, 0, 1]"], 2: ["0", "-1", "1:", ":, 0", "0, 1", ":2", "[1, 1]", ":, [2, 0, 2]"]}


# ---- expressions: the real code, a probe copy, and what is known of the value --------


@dataclass(frozen=True)
class E:
    real: ast.expr
    probe: ast.expr
    shape: Shape
    bound: float  # bound on the magnitude of every element
    active: bool = True  # whether it depends on a differentiated parameter
    fresh: bool = True  # a new array (not a view of, or alias for, another value)
    dims: bool = False  # whether codegen can know its shape (from annotations)
    integral: bool = False  # whether it may hold ints (no float may be written into it)
    number: bool = False  # whether it may be a Python number on some path (no array methods)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)


def _name(n: str) -> ast.Name:
    return ast.Name(n, ast.Load())


def _num(v: float) -> ast.expr:
    node = ast.Constant(abs(v))
    return ast.UnaryOp(ast.USub(), node) if v < 0 else node


def _const(v: float) -> E:
    return E(_num(v), _num(v), (), abs(v), active=False, dims=True)


def _call(func: ast.expr, *args: ast.expr, **keywords: ast.expr) -> ast.Call:
    return ast.Call(func, list(args), [ast.keyword(k, v) for k, v in keywords.items()])


def _method(obj: ast.expr, name: str, *args: ast.expr, **keywords: ast.expr) -> ast.Call:
    return _call(ast.Attribute(obj, name, ast.Load()), *args, **keywords)


def _literal(value: Any) -> ast.expr:
    return ast.parse(repr(value), mode="eval").body


def broadcast(*shapes: Shape) -> Shape | None:
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        return None


def result_shape(op: Callable[..., Any], *shapes: Shape) -> Shape | None:
    """The shape numpy gives `op` on arrays of these shapes; None if it refuses them."""
    try:
        with np.errstate(all="ignore"):
            return tuple(np.shape(op(*(np.ones(s) for s in shapes))))
    except (ValueError, IndexError, TypeError):
        return None


class Probe:
    """Recording wrappers of the probe module: each returns the operation's value and
    records how far its operands are from the operation's kink."""

    def __init__(self) -> None:
        self.margin = math.inf
        # With int arguments a tie is no longer a matter of the program's structure:
        # every tie counts as a kink.
        self.strict = False

    def note(self, distance: Any) -> None:
        distance = np.abs(np.asarray(distance, dtype=float))
        if distance.size:
            self.margin = min(self.margin, float(np.min(distance)))

    def namespace(self) -> dict[str, Any]:
        def unequal(a: Any, b: Any) -> Any:
            # Exact ties come from the program's structure (broadcast copies, the same
            # value twice), where every convention gives the true derivative.
            diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
            return diff if self.strict else diff[diff != 0]

        def gap(a: Any, axis: Any) -> Any:
            """Per slice along `axis`: the distance from the extreme to the next value."""
            values = np.asarray(a, dtype=float)
            if axis is None:
                values, axis = values.reshape(-1), 0
            axes = axis if isinstance(axis, tuple) else (axis,)
            moved = np.moveaxis(values, axes, range(-len(axes), 0))
            flat = moved.reshape(moved.shape[: moved.ndim - len(axes)] + (-1,))
            gaps = []
            for row in flat.reshape(-1, flat.shape[-1]):
                distinct = np.unique(row)
                if self.strict and (np.sum(row == distinct[-1]) > 1 or np.sum(row == distinct[0]) > 1):
                    gaps.append(0.0)
                if len(distinct) > 1:
                    gaps += [distinct[-1] - distinct[-2], distinct[1] - distinct[0]]
            return np.array(gaps)

        def wrap(op: Callable[..., Any], distance: Callable[..., Any]) -> Callable[..., Any]:
            def call(*args: Any, record: bool = True, **keywords: Any) -> Any:
                if record:
                    self.note(distance(*args, **keywords))
                return op(*args, **keywords)

            return call

        return {
            "_k_abs": wrap(np.abs, lambda a: unequal(a, 0.0)),
            "_k_maximum": wrap(np.maximum, unequal),
            "_k_minimum": wrap(np.minimum, unequal),
            "_k_clip": wrap(np.clip, lambda a, lo, hi: np.concatenate([np.ravel(a - lo), np.ravel(a - hi)])),
            "_k_gt": wrap(lambda a, k: a > k, lambda a, k: np.asarray(a) - k),
            # A cast to int jumps at every integer but 0 (it truncates), floor at every one.
            "_k_int": wrap(lambda a: a.astype(int) + 0.0, lambda a: _off_integers(a, 1.0)),
            "_k_floor": wrap(np.floor, lambda a: _off_integers(a, 0.0)),
            "_k_max": wrap(np.max, lambda a, axis=None, keepdims=False: gap(a, axis)),
            "_k_min": wrap(np.min, lambda a, axis=None, keepdims=False: gap(a, axis)),
            # Near zero a square root's derivatives grow without bound: keep 100 margins away.
            "_k_std": wrap(np.std, lambda a, axis=None, keepdims=False, ddof=0: np.std(a, axis=axis) / 100),
            "_k_sort": wrap(np.sort, lambda a: unequal(np.diff(np.sort(a, axis=-1), axis=-1), 0.0)),
            "_k_norm": wrap(np.linalg.norm, lambda a, axis=None, keepdims=False: np.linalg.norm(a, axis=axis) / 100),
        }


def _off_integers(a: Any, zero: float) -> Any:
    """How far each element is from the integers where a cast jumps (`zero`: the
    distance counted at 0, where truncation does not jump)."""
    values = np.asarray(a, dtype=float)
    nearest = np.round(values)
    return np.where(nearest == 0, np.abs(np.abs(values) - zero), np.abs(values - nearest)).reshape(-1)


# ---- programs ---------------------------------------------------------------------------


@dataclass
class Function:
    name: str
    params: list[str]  # source of each parameter
    shapes: dict[str, Shape]  # array and float parameters -> shape
    kinds: dict[str, str]  # param name -> "array" | "float" | "default" | "int"
    real: list[str] = field(default_factory=list)
    probe: list[str] = field(default_factory=list)
    returns: list[Shape] = field(default_factory=list)


@dataclass
class Program:
    source: str
    probe_source: str
    forwards: list[Function]
    draws: bool = False  # whether it draws random numbers: its functions are called seeded
    merges: frozenset[str] = frozenset()  # what its merged values are (see Builder.note_merge)

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        return seeded(fn) if self.draws else fn


@dataclass
class Var:
    shape: Shape
    bound: float
    active: bool
    fresh: bool
    dims: bool
    integral: bool = False

    @property
    def ndim(self) -> int:
        return len(self.shape)


def _names(e: E) -> set[str]:
    return {n.id for n in ast.walk(e.real) if isinstance(n, ast.Name)}


def _neg(e: E) -> E:
    return replace(e, real=ast.UnaryOp(ast.USub(), e.real), probe=ast.UnaryOp(ast.USub(), e.probe), fresh=True)


class Builder:
    """Draws one random numpy module with hypothesis' `draw`."""

    def __init__(self, draw: Callable[[st.SearchStrategy[Any]], Any]) -> None:
        self.draw = draw
        self.np = self.pick(["np", "np", "np", "numpy", "onp"])
        self.from_style = self.chance(0.15)  # `from numpy import exp, tanh, ...` as well
        self.from_imports: set[str] = set()
        self.annotated = self.chance(0.3)
        self.constants: dict[str, str] = {}  # module constants: name -> source
        self.control_flow = self.chance(0.35)
        self.helper: tuple[str, list[Shape], list[Shape]] | None = None  # name, parameters, returns
        self.env: dict[str, Var] = {}
        self.ints: dict[str, int] = {}  # loop counters and `int` parameters -> largest value
        self.protected: set[str] = set()
        self.frozen: set[str] = set()  # names that must not be rebound here
        self.sizes: dict[str, int] = {}  # names bound to a dimension (`N = x.shape[0]`)
        self.loop_bound: set[str] = set()  # names some loop binds
        self.blanks: set[str] = set()  # arrays made by np.zeros and friends, not rebound since
        self.labels = ""  # an integer array parameter used as indices, if any
        self.use_math = self.chance(0.2)  # math functions of scalars too
        self.real_lines: list[str] = []
        self.probe_lines: list[str] = []
        self.depth = 0  # nesting of if/for/while
        self.loops = 0  # nesting of for/while
        self.loop_count = 0
        self.no_helper = False  # no helper calls in the expression being written
        # Random draws (`np.random.rand()`, `np.random.randn(*x.shape)`) in a quarter of
        # the modules: drawn once and reused (checked with numpy's generator seeded).
        self.draws = self.chance(0.25)
        self.drew = False
        self.merges: set[str] = set()
        self.param_kinds: dict[str, str] = {}
        self.mask: Shape | None = None  # the shape of a boolean `mask` parameter, if any
        self.cache = False  # whether the function being written returns a cache beside its values

    # ---- drawing ---------------------------------------------------------------
    def pick(self, options: list[Any]) -> Any:
        return options[self.draw(st.integers(0, len(options) - 1))]

    def chance(self, p: float) -> bool:
        return self.draw(st.integers(0, 99)) < p * 100

    # ---- building blocks of expressions -----------------------------------------
    def npf(self, name: str) -> ast.expr:
        """`np.name`, or the bare name when the module imports it from numpy."""
        if self.from_style and name in FROM_NAMES:
            self.from_imports.add(name)
            return _name(name)
        node: ast.expr = _name(self.np)
        for part in name.split("."):
            node = ast.Attribute(node, part, ast.Load())
        return node

    def combine(self, real: ast.expr, probe: ast.expr, args: list[E], shape: Shape | None, bound: float,
                fresh: bool = True) -> E:  # fmt: skip
        """An operation on `args`: active if any is, its shape known to codegen if all are."""
        if shape is None:
            shape = broadcast(*(a.shape for a in args))
            assert shape is not None, [a.shape for a in args]
        active, dims = any(a.active for a in args), all(a.dims for a in args)
        return E(real, probe, shape, bound, active, fresh, dims, any(a.integral for a in args))

    def ufunc(self, name: str, *args: E, bound: float, shape: Shape | None = None) -> E:
        """A numpy call that is smooth where it is used."""
        real = _call(self.npf(name), *(a.real for a in args))
        probe = _call(self.npf(name), *(a.probe for a in args))
        return self.combine(real, probe, list(args), shape, bound)

    def binop(self, a: E, op: ast.operator, b: E, bound: float) -> E:
        return self.combine(ast.BinOp(a.real, op, b.real), ast.BinOp(a.probe, op, b.probe), [a, b], None, bound)

    def kink(self, real: ast.expr, wrapper: str, args: list[E], shape: Shape, bound: float,
             keywords: dict[str, ast.expr] | None = None) -> E:  # fmt: skip
        """A kinked operation: the probe calls a recording wrapper with the same operands."""
        same = len(args) == 2 and ast.dump(args[0].real) == ast.dump(args[1].real)
        kw = dict(keywords or {})
        if same or not any(a.active for a in args):
            kw["record"] = ast.Constant(False)
        probe = _call(_name(wrapper), *(a.probe for a in args), **kw)
        return self.combine(real, probe, args, shape, bound)

    def squash(self, e: E) -> E:
        return self.ufunc("tanh", e, bound=1.0)

    def small(self, e: E, limit: float = PARAM_BOUND) -> E:
        return e if e.bound <= limit else self.squash(e)

    def positive(self, e: E) -> tuple[E, float]:
        """A positive expression of `e` and a lower bound of it."""
        kind = self.draw(st.integers(0, 3))
        if kind == 0:  # 1 + e * e
            e = self.small(e, 2.0)
            return self.binop(_const(1.0), ast.Add(), self.binop(e, ast.Mult(), e, e.bound**2), 1 + e.bound**2), 1.0
        if kind == 1:  # 2 + np.sin(e)
            return self.binop(_const(2), ast.Add(), self.ufunc("sin", e, bound=1.0), 3.0), 1.0
        if kind == 2:  # 1.5 + np.tanh(e)
            return self.binop(_const(1.5), ast.Add(), self.squash(e), 2.5), 0.5
        return self.ufunc("exp", self.squash(e), bound=math.e), 1 / math.e

    def fit(self, b: E, shape: Shape) -> E:
        """`b`, or a reduction of it to a scalar when it does not broadcast with `shape`."""
        result = broadcast(b.shape, shape)
        if result is not None and math.prod(result) <= MAX_SIZE:
            return b
        return self.small(self.reduce(b, whole=True), LIMIT)

    # ---- leaves ------------------------------------------------------------------
    def leaf(self, want: Shape | None = None) -> E:
        """A variable, a counter-indexed row, or a constant (broadcasting with `want`)."""
        fits = [n for n, v in sorted(self.env.items()) if want is None or broadcast(v.shape, want) is not None]
        rows = self.counter_rows(want)
        kind = self.pick(["var"] * 6 + ["row"] * (2 if rows else 0) + ["const", "array"] + ["size"] * bool(self.sizes)
                         + ["item"] * (2 * bool(self.lists)))  # fmt: skip
        if kind == "var" and fits:
            return self.var(self.pick(fits))
        if kind == "item" and self.lists:  # `v[1]`, `v[i]`: a number of a list
            name = self.pick(sorted(self.lists))
            counters = [c for c, top in sorted(self.ints.items()) if top < self.lists[name]]
            low = 0 if "negative_list_index" in KNOWN_BUGS else -self.lists[name]
            index = _name(self.pick(counters)) if counters and self.chance(0.5) else _num(
                self.draw(st.integers(low, self.lists[name] - 1)))  # fmt: skip
            node = ast.Subscript(_name(name), index, ast.Load())
            return E(node, node, (), PARAM_BOUND, True, fresh=True, dims=True, integral=True)
        if kind == "size":  # a dimension as a number: `np.sum(x) / N`
            name = self.pick(sorted(self.sizes))
            return E(_name(name), _name(name), (), float(self.sizes[name]), active=False, dims=True)
        if kind == "row" and rows:
            return self.pick(rows)
        if kind == "array":
            shape = self.pick([(3,), (2, 3), (3, 1)])
            if want is None or broadcast(shape, want) is not None:
                return self.array_constant(shape)
        return _const(self.pick([2.0, 0.5, -1.0, 1.5, 3, -0.25]))

    def var(self, name: str) -> E:
        v = self.env[name]
        return E(_name(name), _name(name), v.shape, v.bound, v.active, fresh=False, dims=v.dims, integral=v.integral)

    def counter_rows(self, want: Shape | None) -> list[E]:
        """`x[i]` for a loop counter (or `int` parameter) `i` that stays inside x's first axis."""
        rows = []
        for counter, top in sorted(self.ints.items()):
            for name, v in sorted(self.env.items()):
                if v.ndim and v.shape[0] > top and (want is None or broadcast(v.shape[1:], want) is not None):
                    node = ast.Subscript(_name(name), _name(counter), ast.Load())
                    rows.append(E(node, node, v.shape[1:], v.bound, v.active, False, False, v.integral))
                int_param = counter == "n" and "int_param_beside_slice" in KNOWN_BUGS
                if v.ndim == 2 and v.shape[1] > top and not int_param and (
                    want is None or broadcast(v.shape[:1], want) is not None
                ):
                    index = ast.Tuple([ast.Slice(), _name(counter)], ast.Load())
                    node = ast.Subscript(_name(name), index, ast.Load())
                    rows.append(E(node, node, v.shape[:1], v.bound, v.active, False, False, v.integral))
        return rows

    def array_constant(self, shape: Shape) -> E:
        values = np.round(np.linspace(-0.8, 1.2, math.prod(shape)).reshape(shape), 2).tolist()
        if self.chance(0.4):  # a module constant, copied into the output
            name = f"K{len(self.constants)}"
            self.constants[name] = f"{self.np}.array({values!r})"
            node: ast.expr = _name(name)
        else:
            node = _call(self.npf("array"), _literal(values))
        return E(node, node, shape, 1.2, active=False, fresh=False, dims=False)

    # ---- expressions -------------------------------------------------------------------
    def expr(self, depth: int, want: Shape | None = None, top: bool = False) -> E:
        """An expression; one broadcasting with `want` when that is given. At the `top`
        of a statement, an operation rather than a bare name (unless depth is 0)."""
        if depth <= 0 or (not top and self.chance(0.2)):
            return self.leaf(want)
        kind = self.pick(
            ["binary"] * 6 + ["unary"] * 4 + ["reduce"] * 3 + ["index"] * 2 + ["shape"] * 2
            + ["kink"] * 2 + ["product", "join", "where", "arrange"] + ["helper"] * (3 if self.helper else 0)
        )  # fmt: skip
        e = self.compound(kind, depth)
        return e if want is None else self.fit(e, want)

    def compound(self, kind: str, depth: int) -> E:
        a = self.expr(depth - 1)
        if kind == "binary":
            return self.binary(a, self.expr(depth - 1, want=a.shape))
        if kind == "reduce":
            return self.reduce(a)
        if kind == "index" and a.ndim:
            return self.index(a)
        if kind == "shape" and a.ndim:
            return self.reshape(a)
        if kind == "kink":
            return self.kinked(a, self.expr(depth - 1, want=a.shape))
        if kind == "product":
            return self.product(a)
        if kind == "join" and a.ndim:
            return self.join(a)
        if kind == "where":
            return self.where(a, self.expr(depth - 1, want=a.shape))
        if kind == "arrange" and a.ndim:
            return self.arrange(a)
        if kind == "helper" and self.helper is not None and not self.no_helper:
            call = self.helper_call()
            if call is not None:
                return call
        return self.unary(a)

    def binary(self, a: E, b: E) -> E:
        b = self.fit(b, a.shape)
        kind = self.pick(["+", "-", "*", "*", "/", "add", "multiply", "subtract", "divide", "**", "logaddexp"])
        if kind == "logaddexp":  # within log 2 of the larger operand
            return self.ufunc(kind, a, b, bound=max(a.bound, b.bound) + math.log(2))
        if kind in ("+", "-"):
            return self.binop(a, ast.Add() if kind == "+" else ast.Sub(), b, a.bound + b.bound)
        if kind in ("add", "subtract"):
            return self.ufunc(kind, a, b, bound=a.bound + b.bound)
        if kind in ("*", "multiply"):
            if a.bound * b.bound > LIMIT:
                a, b = self.small(a, 2.0), self.small(b, 2.0)
            if kind == "*":
                return self.binop(a, ast.Mult(), b, a.bound * b.bound)
            return self.ufunc(kind, a, b, bound=a.bound * b.bound)
        if kind in ("/", "divide"):
            den, low = self.positive(b)
            if kind == "/":
                return self.binop(a, ast.Div(), den, a.bound / low)
            return self.ufunc(kind, a, den, bound=a.bound / low)
        return self.power(a, b)

    def power(self, a: E, b: E) -> E:
        kind = self.draw(st.integers(0, 3))
        if kind in (0, 1):  # a ** 2, np.square(a)
            a = self.small(a, 2.0)
            if kind == 0:
                return self.binop(a, ast.Pow(), _const(2), a.bound**2)
            return self.ufunc("square", a, bound=a.bound**2)
        if kind == 2:  # (1 + a * a) ** -0.5
            den, _ = self.positive(a)
            return self.binop(den, ast.Pow(), _const(-0.5), 3.0)
        # a positive base to a bounded exponent: at most 2.5 ** 1.5 < 4
        base = self.binop(_const(1.5), ast.Add(), self.squash(a), 2.5)
        exponent = self.small(b)
        if self.chance(0.5):
            return self.ufunc("power", base, exponent, bound=4.0)
        return self.binop(base, ast.Pow(), exponent, 4.0)

    def unary(self, a: E) -> E:
        if self.use_math and a.shape == () and self.chance(0.5):
            return self.math_call(a)
        name = self.pick(UNARY)
        if name in ("tanh", "sin", "cos"):
            return self.ufunc(name, a, bound=1.0)
        if name == "arctan":
            return self.ufunc(name, a, bound=math.pi / 2)
        if name == "arcsinh":
            return self.ufunc(name, a, bound=math.asinh(a.bound))
        if name in ("exp", "sinh", "expm1"):
            return self.ufunc(name, self.squash(a), bound=math.e)
        if name in ("log", "sqrt", "reciprocal", "cbrt"):
            arg, low = self.positive(a)
            bounds = {"log": max(-math.log(low), math.log(arg.bound)), "sqrt": math.sqrt(arg.bound)}
            return self.ufunc(name, arg, bound=bounds.get(name, max(1 / low, arg.bound)))
        if name == "log1p":
            s = self.small(a, 2.0)
            return self.ufunc(name, self.binop(s, ast.Mult(), s, s.bound**2), bound=math.log1p(s.bound**2))
        if name == "neg":
            return _neg(a)
        # the sigmoid 1 / (1 + np.exp(-a)), which codegen recognises
        den = self.binop(_const(1), ast.Add(), self.ufunc("exp", _neg(self.small(a, LIMIT)), bound=1.0), 1.0)
        return self.binop(_const(1), ast.Div(), den, 1.0)

    def math_call(self, a: E) -> E:
        """A `math` function of a scalar (a Python float or a numpy scalar)."""
        name = self.pick(["tanh", "exp", "sin", "log", "sqrt", "atan"])
        if name in ("exp", "log", "sqrt"):
            a, _ = self.positive(a) if name != "exp" else (self.squash(a), 0.0)
        func = ast.Attribute(_name("math"), name, ast.Load())
        bound = {"exp": math.e, "log": math.log(max(a.bound, 1.0)) + 2, "sqrt": math.sqrt(a.bound)}
        return self.combine(_call(func, a.real), _call(func, a.probe), [a], (), bound.get(name, 1.6))

    def kinked(self, a: E, b: E) -> E:
        kind = self.pick(["abs", "builtin_abs", "maximum", "minimum", "relu", "clip", "cast"])
        if kind == "cast":  # piecewise constant: no gradient flows through
            if a.ndim and self.chance(0.5):
                # `+ 0.0`: a float again, so that an augmented assignment to it stays valid numpy
                cast = ast.BinOp(_method(a.real, "astype", _name("int")), ast.Add(), _num(0.0))
                return self.kink(cast, "_k_int", [a], a.shape, a.bound)
            return self.kink(_call(self.npf("floor"), a.real), "_k_floor", [a], a.shape, a.bound + 1.0)
        if kind in ("abs", "builtin_abs"):
            func = self.npf("abs") if kind == "abs" else _name("abs")
            return self.kink(_call(func, a.real), "_k_abs", [a], a.shape, a.bound)
        if kind == "clip":
            lo, hi = self.pick([(-0.5, 0.5), (0.0, 1.0), (-1.0, 0.25)])
            bounds = [_num(lo), _num(hi)]
            method = a.ndim > 0 and self.chance(0.4)
            real = _method(a.real, "clip", *bounds) if method else _call(self.npf("clip"), a.real, *bounds)
            record = {} if a.active else {"record": ast.Constant(False)}
            probe = _call(_name("_k_clip"), a.probe, *bounds, **record)
            return self.combine(real, probe, [a], a.shape, max(abs(lo), abs(hi)))
        if kind == "relu":
            args = [_const(0.0), a] if self.chance(0.5) else [a, _const(0.0)]
            real = _call(self.npf("maximum"), *(x.real for x in args))
            return self.kink(real, "_k_maximum", args, a.shape, a.bound)
        b = self.fit(b, a.shape)
        real = _call(self.npf(kind), a.real, b.real)
        return self.kink(real, f"_k_{kind}", [a, b], broadcast(a.shape, b.shape) or (), max(a.bound, b.bound))

    # ---- reductions -------------------------------------------------------------------------
    def reduce(self, a: E, whole: bool = False) -> E:
        """A reduction of `a`: to a scalar when `whole`, else over a random axis or all."""
        name = self.pick(REDUCTIONS if a.ndim else ["sum"] if "mean_of_float" in KNOWN_BUGS else ["sum", "mean"])
        axis: int | tuple[int, ...] | None = None
        keepdims = False
        if a.ndim and not whole:
            if self.chance(0.7):
                axis = self.draw(st.integers(-a.ndim, a.ndim - 1))
                if a.ndim == 2 and self.chance(0.1):
                    axis = (0, 1)
            keepdims = self.chance(0.3)
        ref = np.linalg.norm if name == "norm" else getattr(np, name)
        shape = result_shape(lambda x: ref(x, axis=axis, keepdims=keepdims), a.shape)
        assert shape is not None, (name, a.shape, axis)
        count = a.size // max(1, math.prod(shape))
        if name == "std" and count == 1:
            name = "mean"  # the std of one element is 0, where the derivative is not defined
        if name == "prod" and "prod_of_zero" in KNOWN_BUGS:
            a = self.binop(_const(1.0), ast.Add(), self.binop(_const(0.2), ast.Mult(), self.squash(a), 0.2), 1.2)
        elif name == "prod":
            a = self.small(a, 1.2) if count <= 3 else self.squash(a)
        bounds = {"sum": a.bound * count, "prod": a.bound**count, "var": a.bound**2, "norm": a.bound * math.sqrt(count)}
        keywords: dict[str, ast.expr] = {}
        if axis is not None:
            keywords["axis"] = _literal(axis)
        if keepdims:
            keywords["keepdims"] = ast.Constant(True)
        if name in ("var", "std") and count >= 3 and self.chance(0.3):
            keywords["ddof"] = ast.Constant(1)  # the sample spread: at most 1.5 times the other
            bounds["var"] = 1.5 * a.bound**2
        real = self.reduction_call(name, a, keywords)
        if name in ("max", "min", "std", "norm"):
            e = self.kink(real, f"_k_{name}", [a], shape, bounds.get(name, a.bound), keywords)
        else:
            e = self.combine(real, _call(self.npf(name), a.probe, **keywords), [a], shape, bounds.get(name, a.bound))
        return replace(e, dims=a.dims and not isinstance(axis, tuple))

    def reduction_call(self, name: str, a: E, keywords: dict[str, ast.expr]) -> ast.expr:
        if name == "norm":
            return _call(self.npf("linalg.norm"), a.real, **keywords)
        spelling = self.draw(st.integers(0, 4)) if a.ndim and not a.number else 1
        if spelling == 0 and list(keywords) == ["axis"]:
            return _call(self.npf(name), a.real, keywords["axis"])  # positional axis
        if spelling <= 2:
            return _call(self.npf(name), a.real, **keywords)
        if spelling == 3 and list(keywords) == ["axis"]:
            return _method(a.real, name, keywords["axis"])
        return _method(a.real, name, **keywords)

    # ---- indexing and shapes -----------------------------------------------------------------
    def index(self, a: E) -> E:
        options = INDEXES[min(a.ndim, 2)]
        valid: list[tuple[str, Shape]] = []
        for text in options:
            shape = result_shape(eval(f"lambda x: x[{text}]"), a.shape)
            if shape is not None and math.prod(shape) > 0:
                valid.append((text, shape))
        if not valid:
            return self.unary(a)
        if self.labels and a.shape == (LABELS, 3) and self.chance(0.4):
            rows = self.pick([_call(self.npf("arange"), ast.Constant(LABELS))] + [
                _call(self.npf("arange"), _name(n)) for n, d in sorted(self.sizes.items()) if d == LABELS
            ])  # fmt: skip
            index = ast.Tuple([rows, _name(self.labels)], ast.Load())
            return E(ast.Subscript(a.real, index, ast.Load()), ast.Subscript(a.probe, index, ast.Load()),
                     (LABELS,), a.bound, a.active, fresh=True, dims=False, integral=a.integral)  # fmt: skip
        text, shape = self.pick(valid)
        index = ast.parse(f"_[{text}]", mode="eval").body.slice  # type: ignore[attr-defined]
        fancy = text.startswith("[")
        return E(
            ast.Subscript(a.real, index, ast.Load()), ast.Subscript(a.probe, index, ast.Load()),
            shape, a.bound, a.active, fresh=fancy, dims=a.dims and not fancy and "..." not in text,
            integral=a.integral,
        )  # fmt: skip

    def reshape(self, a: E) -> E:
        options: list[tuple[str, Shape]] = [
            ("ravel", (a.size,)), ("flatten", (a.size,)), ("np.ravel", (a.size,)), ("reshape-1", (a.size,))
        ]  # fmt: skip
        if a.ndim == 2:
            options += [("T", a.shape[::-1]), ("transpose", a.shape[::-1]), ("np.transpose", a.shape[::-1])]
        if a.size == 6:
            options += [("reshape", (3, 2)), ("reshape", (2, 3)), ("np.reshape", (6, 1))]
        if a.ndim <= 2:
            options += [("expand_dims", (1, *a.shape))]
        if 1 in a.shape:
            options += [("squeeze", tuple(d for d in a.shape if d != 1))]
        if a.ndim == 2:
            options += [("swapaxes", a.shape[::-1]), ("np.swapaxes", a.shape[::-1])]
        options += [("copy", a.shape), ("np.copy", a.shape), ("astype", a.shape)]
        sizes = [n for n, d in sorted(self.sizes.items()) if a.size % d == 0 and a.size > d]
        if sizes:
            options += [("reshape-size", (self.sizes[sizes[0]], a.size // self.sizes[sizes[0]]))]
        kind, shape = self.pick(options)

        def spelled(x: ast.expr) -> ast.expr:
            if kind in ("ravel", "flatten"):
                return _method(x, kind)
            if kind == "reshape-1":
                return _method(x, "reshape", _num(-1))
            if kind == "T":
                return ast.Attribute(x, "T", ast.Load())
            if kind == "transpose":
                return _method(x, "transpose")
            if kind == "reshape":
                return _method(x, "reshape", *(_literal(d) for d in shape))
            if kind == "np.reshape":
                return _call(self.npf("reshape"), x, _literal(shape))
            if kind == "expand_dims":
                return _call(self.npf("expand_dims"), x, ast.Constant(0))
            if kind in ("copy", "swapaxes"):
                return _method(x, kind, *([ast.Constant(0), ast.Constant(1)] if kind == "swapaxes" else []))
            if kind == "np.swapaxes":
                return _call(self.npf("swapaxes"), x, ast.Constant(0), ast.Constant(1))
            if kind == "astype":
                return _method(x, "astype", _name("float"))
            if kind == "reshape-size":
                return _method(x, "reshape", _name(sizes[0]), _num(-1))
            return _call(self.npf(kind.removeprefix("np.")), x)  # np.ravel, np.transpose, np.copy, squeeze

        dims = a.dims and kind in ("T", "transpose", "np.transpose", "reshape", "copy", "np.copy", "astype")
        fresh = kind in ("copy", "np.copy", "astype")
        integral = a.integral and kind != "astype"
        return E(spelled(a.real), spelled(a.probe), shape, a.bound, a.active, fresh, dims, integral)

    def arrange(self, a: E) -> E:
        """Reordering, repeating, padding, running sums and differences, sorting."""
        last = a.shape[-1]
        options: list[tuple[str, tuple[ast.expr, ...], dict[str, ast.expr], Shape, float]] = [
            ("flip", (ast.Constant(0),), {}, a.shape, a.bound),
            ("cumsum", (), {"axis": _num(-1)}, a.shape, a.bound * last),
            ("pad", (ast.Constant(1),), {}, tuple(d + 2 for d in a.shape), a.bound),
            ("repeat", (ast.Constant(2),), {"axis": ast.Constant(0)}, (2 * a.shape[0], *a.shape[1:]), a.bound),
            ("tile", (ast.Constant(2),), {}, (*a.shape[:-1], 2 * last), a.bound),
            ("sort", (), {}, a.shape, a.bound),
        ]
        if last > 1:
            options.append(("diff", (), {}, (*a.shape[:-1], last - 1), 2 * a.bound))
        if a.ndim == 1:
            options.append(("atleast_2d", (), {}, (1, last), a.bound))
        if a.ndim >= 2:
            moved = (*a.shape[1:], a.shape[0])
            options.append(("moveaxis", (ast.Constant(0), _num(-1)), {}, moved, a.bound))
            options.append(("rollaxis", (_num(-1),), {}, (last, *a.shape[:-1]), a.bound))
        name, args, keywords, shape, bound = self.pick(options)
        real = _call(self.npf(name), a.real, *args, **keywords)
        # Sorting has a kink where two elements tie: the probe records how close they come.
        probe = _call(self.npf(name) if name != "sort" else _name("_k_sort"), a.probe, *args, **keywords)
        return E(real, probe, shape, bound, a.active, fresh=True, dims=False, integral=a.integral)

    def product(self, a: E) -> E:
        """A matrix product, an outer or inner product, or an einsum."""
        kind = self.pick(["matmul", "matmul", "matmul", "outer", "inner", "einsum"])
        if kind == "outer" and a.ndim == 1:
            return self.outer(a)
        if kind == "inner" and a.ndim in (1, 2):
            return self.inner(a)
        if kind == "einsum" and a.ndim in (1, 2):
            return self.einsum(a)
        return self.matmul(a)

    def partner(self, a: E, shapes: list[Shape]) -> E:
        """A variable of one of these shapes, else `np.sin(a)` or a constant of the first."""
        fits = [self.var(n) for n, v in sorted(self.env.items()) if v.shape in shapes]
        if fits:
            return self.pick(fits)
        if a.shape in shapes:
            return self.ufunc("sin", a, bound=1.0)
        return self.array_constant(shapes[0])

    def outer(self, a: E) -> E:
        b = self.small(self.pick([self.var(n) for n, v in sorted(self.env.items()) if v.ndim == 1] or [a]), 1.0)
        a = self.small(a, 1.0)
        shape = (a.size, b.size)
        return self.ufunc("outer", a, b, bound=1.0, shape=shape)

    def inner(self, a: E) -> E:
        k = a.shape[-1]
        shapes = [(k,), (2, k), (3, k)]
        if "inner_mixed_ranks" in KNOWN_BUGS:
            shapes = [s for s in shapes if len(s) == a.ndim]
        b = self.small(self.partner(a, shapes), 1.0)
        a = self.small(a, 1.0)
        shape = result_shape(np.inner, a.shape, b.shape)
        assert shape is not None
        return self.ufunc("inner", a, b, bound=float(k), shape=shape)

    def einsum(self, a: E) -> E:
        a = self.small(a, 1.0)
        if a.ndim == 1:
            spec, b = self.pick(["i,i->", "i,j->ij", "i->", "...i,...i", "i,i"]), self.partner(a, [a.shape])
        else:
            k = a.shape[1]
            specs = ["ij,jk->ik", "ij,ij->i", "ij->j", "ij,j->i", "ij->ji", "ij,jk", "...j,j->...", "...ij,...ij->..."]
            if a.shape[0] == k:  # a diagonal, a trace, a product with itself transposed
                specs += ["ii->i", "ii", "ij,ji->"]
            spec = self.pick(specs)
            shapes = {"ij,jk->ik": [(k, 3), (k, 2), (k, 1)], "ij,jk": [(k, 2)], "ij,j->i": [(k,)], "...j,j->...": [(k,)]}
            b = self.partner(a, shapes.get(spec, [a.shape]))
        b = self.small(b, 1.0)
        operands = [a, b] if "," in spec else [a]
        shape = result_shape(lambda *xs: np.einsum(spec, *xs), *(o.shape for o in operands))
        assert shape is not None, (spec, [o.shape for o in operands])
        real = _call(self.npf("einsum"), ast.Constant(spec), *(o.real for o in operands))
        probe = _call(self.npf("einsum"), ast.Constant(spec), *(o.probe for o in operands))
        return replace(self.combine(real, probe, operands, shape, float(a.size)), dims=False)

    def matmul(self, a: E) -> E:
        """A product by `@`, `np.dot`, `.dot` or `np.matmul` of `a` (a number, a vector,
        a matrix or a stack) and a value whose rank nothing annotates need be known:
        numpy's own rules decide the result, as they do in the program."""
        if a.ndim > 3:
            return self.unary(a)
        if a.ndim == 0:  # np.dot of a number is a product: by anything at hand
            b = self.small(self.pick([self.var(n) for n, v in sorted(self.env.items()) if v.ndim] or [a]), 1.0)
            a = self.small(a, 1.0)
            operands = [a, b] if self.chance(0.5) else [b, a]
            return self.ufunc("dot", *operands, bound=1.0, shape=b.shape)
        candidates = [self.var(n) for n, v in sorted(self.env.items()) if 1 <= v.ndim <= 3]
        if a.ndim >= 2:  # a.T: a matrix by its transpose, a stack by its reversed axes
            transposed = ast.Attribute(a.real, "T", ast.Load()), ast.Attribute(a.probe, "T", ast.Load())
            candidates.append(replace(a, real=transposed[0], probe=transposed[1], shape=a.shape[::-1], fresh=False))
        if a.ndim == 1:  # v @ v, v @ v.T (the same vector)
            candidates.append(replace(a, real=ast.Attribute(a.real, "T", ast.Load()),
                                      probe=ast.Attribute(a.probe, "T", ast.Load()), fresh=False))  # fmt: skip
        spelling = self.pick(["@", "@", "np.dot", "dot", "np.matmul"])
        ref = np.dot if spelling in ("np.dot", "dot") else np.matmul
        pairs = []
        for b in candidates:
            for x, y in ((a, b), (b, a)):
                shape = result_shape(ref, x.shape, y.shape)
                if shape is not None and math.prod(shape) <= MAX_SIZE:
                    pairs.append((x, y, shape))
        if not pairs:
            return self.unary(a)
        x, y, shape = self.pick(pairs)
        x, y = self.small(x, 1.0), self.small(y, 1.0)
        contracted = y.shape[0] if y.ndim == 1 else y.shape[-2]

        def spelled(u: ast.expr, v: ast.expr) -> ast.expr:
            if spelling == "@":
                return ast.BinOp(u, ast.MatMult(), v)
            if spelling == "dot":
                return _method(u, "dot", v)
            return _call(self.npf(spelling[3:]), u, v)

        return self.combine(spelled(x.real, y.real), spelled(x.probe, y.probe), [x, y], shape, float(contracted))

    def join(self, a: E) -> E:
        """np.concatenate, np.stack, np.vstack or np.hstack of `a` with a value of a fitting shape."""
        stack = self.chance(0.35)
        axis = self.draw(st.integers(0, a.ndim if stack else a.ndim - 1))
        joined = None if stack else self.pick([None, None, "vstack", "hstack"])
        if stack:
            ref: Callable[..., Any] = lambda *xs: np.stack(xs, axis=axis)
        elif joined is not None:  # np.vstack((a, b)): one sequence, as np.concatenate takes
            ref = lambda *xs: getattr(np, joined)(xs)
        else:
            ref = lambda *xs: np.concatenate(xs, axis=axis)
        others = [self.var(n) for n, v in sorted(self.env.items()) if v.ndim == a.ndim]
        partner = self.pick(others) if others and self.chance(0.6) else self.unary(a)
        shape = result_shape(ref, a.shape, partner.shape)
        if shape is None or math.prod(shape) > MAX_SIZE:
            partner = self.unary(a)
            shape = result_shape(ref, a.shape, partner.shape)
        if shape is None or math.prod(shape) > MAX_SIZE:
            return self.unary(a)
        items = [a, partner] if self.chance(0.5) else [partner, a]
        name = "stack" if stack else joined or self.pick(["concatenate", "concatenate", "concat"])
        container = ast.List if self.chance(0.7) else ast.Tuple
        keywords = {} if joined or axis == 0 and self.chance(0.5) else {"axis": _literal(axis)}
        real = _call(self.npf(name), container([x.real for x in items], ast.Load()), **keywords)
        probe = _call(self.npf(name), container([x.probe for x in items], ast.Load()), **keywords)
        return replace(self.combine(real, probe, items, shape, max(a.bound, partner.bound)), dims=False)

    def where(self, a: E, b: E) -> E:
        b = self.fit(b, a.shape)
        shape = broadcast(a.shape, b.shape)
        assert shape is not None
        if shape and self.chance(0.5):
            mask = self.constant_mask(shape[-1])
            real = _call(self.npf("where"), mask, a.real, b.real)
            probe = _call(self.npf("where"), mask, a.probe, b.probe)
            return replace(self.combine(real, probe, [a, b], shape, max(a.bound, b.bound)), dims=False)
        test = self.small(self.expr(1, want=shape), 2.0)
        k = self.pick([0.0, 0.3, -0.5])
        record = {} if test.active else {"record": ast.Constant(False)}
        real = _call(self.npf("where"), ast.Compare(test.real, [ast.Gt()], [_num(k)]), a.real, b.real)
        probe = _call(self.npf("where"), _call(_name("_k_gt"), test.probe, _num(k), **record), a.probe, b.probe)
        full = broadcast(shape, test.shape)
        assert full is not None
        e = self.combine(real, probe, [a, b], full, max(a.bound, b.bound))
        return replace(e, dims=e.dims and test.dims)

    def constant_mask(self, n: int) -> ast.expr:
        """A mask of length `n` that does not depend on the parameters."""
        if self.chance(0.5):
            return ast.Compare(_call(self.npf("arange"), ast.Constant(n)), [ast.Gt()], [ast.Constant(0)])
        return _call(self.npf("array"), _literal([i % 2 == 0 for i in range(n)]))

    def helper_call(self, values: int = 1) -> E | None:
        """A call of the helper, if it returns this many values and has arguments at hand.

        The E's shape is that of its first value; it may return an argument itself,
        so it is not fresh."""
        assert self.helper is not None
        name, shapes, returns = self.helper
        args: list[E] = []
        if len(returns) != values:
            return None
        for shape in shapes:
            fits = [n for n, v in sorted(self.env.items()) if v.shape == shape]
            if not fits:
                return None
            args.append(self.small(self.var(self.pick(fits)), PARAM_BOUND))
        real = _call(_name(name), *(a.real for a in args))
        probe = _call(_name(name), *(a.probe for a in args))
        integral = any(a.integral for a in args)
        return E(real, probe, returns[0], LIMIT, any(a.active for a in args), False, False, integral)

    def call_statement(self) -> bool:
        """`a, b = helper(...)` for a helper that returns two values."""
        call = self.helper_call(values=2) if self.helper is not None and not self.depth else None
        if call is None:
            return False
        a, b = self.pick(self.targets()), self.pick(self.targets())
        if a == b:
            return False
        assert self.helper is not None
        self.emit(f"{a}, {b} = {ast.unparse(call.real)}", f"{a}, {b} = {ast.unparse(call.probe)}")
        for target, shape in zip((a, b), self.helper[2]):
            self.bind(target, replace(call, shape=shape))
            for other in _names(call) | {target}:  # either value may be an argument itself
                if other in self.env:
                    self.env[other].fresh = False
        return True

    # ---- statements -------------------------------------------------------------------------------
    def statement_expr(self, depth: int | None = None, want: Shape | None = None) -> E:
        e = self.expr(self.draw(st.integers(1, 3)) if depth is None else depth, want, top=True)
        return e if e.bound <= LIMIT else self.squash(e)

    def emit(self, real: str, probe: str | None = None) -> None:
        pad = "    " * self.depth
        self.real_lines.append(pad + real)
        self.probe_lines.append(pad + (real if probe is None else probe))

    def bind(self, name: str, e: E) -> None:
        self.env[name] = Var(e.shape, e.bound, e.active, e.fresh, e.dims, e.integral)
        if self.loops:
            self.loop_bound.add(name)
        elif not self.depth:
            self.loop_bound.discard(name)
        self.blanks.discard(name)
        if not e.fresh:
            # A view of, or alias for, the names it reads: none of them may be
            # updated in place from now on (that would change the other one too).
            for other in _names(e) | {name}:
                if other in self.env:
                    self.env[other].fresh = False

    def targets(self) -> list[str]:
        """Names a statement may bind: inside a branch or loop only existing ones (with
        their shape, so that every name has one shape on every path)."""
        existing = sorted(n for n in self.env if n not in self.ints and n not in self.frozen)
        if self.depth:
            return existing
        if self.annotated and "annotated_number_rebound" in KNOWN_BUGS:  # `x: float`, then `x = x * W`
            existing = [n for n in existing if not (n in self.protected and self.env[n].shape == ())]
        new = [n for n in LOCAL_POOL if n not in self.protected]
        return existing + new if self.chance(0.35) else new

    def statement(self) -> None:
        kinds = ["assign"] * 6 + ["aug"] * 2 + ["setitem", "unpack", "pass", "size", "zeros", "pattern"]
        if self.helper is not None and len(self.helper[2]) == 2:
            kinds += ["call", "call"]
        if self.control_flow and self.depth < 2:
            kinds += ["if", "if", "loop", "loop", "merge", "grow"]
        if self.draws:
            kinds += ["draw", "draw"]
        if not self.depth:
            kinds += ["layer"] + ["mask"] * 2 * bool(self.mask)
        kind = self.pick(kinds)
        if kind == "layer" and self.layer_statement():
            return
        if kind == "mask" and self.mask_statement():
            return
        if kind == "draw" and self.draw_statement():
            return
        if kind == "size" and self.size_statement():
            return
        if kind == "merge" and self.merge_statement():
            return
        if kind == "grow" and self.growing_loop():
            return
        if kind == "zeros" and self.zeros_statement():
            return
        if kind == "pattern" and self.pattern_statement():
            return
        if kind == "if":
            return self.if_statement()
        if kind == "loop":
            return self.loop_statement()
        if kind == "pass":
            return self.emit("pass")
        if kind == "aug" and self.aug_statement():
            return
        if kind == "setitem" and self.setitem_statement():
            return
        if kind == "call" and self.call_statement():
            return
        if kind == "unpack" and self.unpack_statement():
            return
        self.assign_statement()

    def assign_statement(self) -> None:
        names = self.targets()
        if not names:
            return self.emit("pass")
        target = self.pick(names)
        if not self.depth:
            return self.assign(target, self.statement_expr())
        t = self.env[target]
        e = self.statement_expr(want=t.shape)
        if e.shape != t.shape and broadcast(e.shape, t.shape) == t.shape:
            e = self.binop(self.small(self.var(target), 2.0), ast.Add(), e, 2.0 + e.bound)  # h = h + e
        if e.shape != t.shape:
            return self.emit("pass")
        self.assign(target, e)

    def layer_statement(self) -> bool:
        """What numpy layers write: `p, q = np.split(e, 2, axis=1)` or `np.array_split`
        into two or three named pieces, and `t = np.trace(e)`."""
        a = self.statement_expr()
        if not a.ndim:
            return False
        probe = np.zeros(a.shape)
        if self.chance(0.35) and a.ndim >= 2:
            offset = self.pick([0, 0, 1]) if a.shape[1] > 1 else 0
            keywords = {"offset": _literal(offset)} if offset else {}
            shape = np.trace(probe, offset=offset).shape
            real = _call(self.npf("trace"), a.real, **keywords)
            e = self.combine(real, _call(self.npf("trace"), a.probe, **keywords), [a], shape, a.bound * min(a.shape))
            self.assign(self.pick(self.targets()), replace(e, dims=False) if e.bound <= LIMIT else self.squash(e))
            return True
        axis = self.draw(st.integers(0, a.ndim - 1))
        length = a.shape[axis]
        if length < 2:
            return False
        name = self.pick(["split", "array_split"])
        counts = [k for k in (2, 3) if k <= length and (name == "array_split" or length % k == 0)]
        sections: Any = self.pick(counts) if counts else [1]
        if name == "split" and length == 3 and self.chance(0.5):
            sections = self.pick([[1], [2]])
        pieces = getattr(np, name)(probe, sections, axis=axis)
        targets = [n for n in LOCAL_POOL if n not in self.protected]
        names = [self.pick(targets) for _ in pieces]
        if len(set(names)) < len(names):
            return False
        keywords = {"axis": _literal(axis)} if axis or self.chance(0.3) else {}
        call = [_call(self.npf(name), x, _literal(sections), **keywords) for x in (a.real, a.probe)]
        self.emit(f"{', '.join(names)} = {ast.unparse(call[0])}", f"{', '.join(names)} = {ast.unparse(call[1])}")
        for target, piece in zip(names, pieces):  # views of `a`
            self.bind(target, replace(a, real=call[0], probe=call[1], shape=piece.shape, fresh=False, dims=False))
        return True

    def mask_statement(self) -> bool:
        """A boolean mask parameter used as a mask (`np.sum(e[mask])`, `e[~mask]`,
        `e[mask & keep]`) or multiplied in (`e * mask`, `np.where(mask, e, 0.0)`)."""
        assert self.mask is not None
        shape = self.mask
        fits = sorted(n for n, v in self.env.items() if v.shape == shape)
        if not fits:
            return False
        e = self.small(self.var(self.pick(fits)), 2.0)
        if self.chance(0.6):
            e = self.unary(e)
        kind = self.pick(["index", "index", "product", "where"])
        mask = self.pick(["mask", "mask", "~mask", "mask & keep"])
        if "keep" in mask:
            mask = f"(mask & {ast.unparse(self.constant_mask(shape[-1]))})"
        if kind == "index":
            spelled = f"{self.np}.sum({{}}[{mask}])"
            result = E(e.real, e.probe, (), e.bound * math.prod(shape), e.active, integral=e.integral)
        elif kind == "product":
            spelled = f"{{}} * {mask}" if self.chance(0.5) else f"{mask} * {{}}"
            result = E(e.real, e.probe, shape, e.bound, e.active, integral=e.integral)
        else:
            spelled = f"{self.np}.where({mask}, {{}}, 0.0)"
            result = E(e.real, e.probe, shape, e.bound, e.active)
        real = ast.parse(spelled.format(f"({ast.unparse(e.real)})"), mode="eval").body
        probe = ast.parse(spelled.format(f"({ast.unparse(e.probe)})"), mode="eval").body
        result = replace(result, real=real, probe=probe)
        self.assign(self.pick(self.targets()), result if result.bound <= LIMIT else self.squash(result))
        return True

    def random_draw(self, like: Shape) -> E:
        """A draw from numpy's global generator, of `like`'s shape or a number; bounded."""
        arrays = sorted(n for n, v in self.env.items() if v.ndim and broadcast(v.shape, like) is not None)
        kind = self.pick(["rand", "rand", "randn_like", "uniform"])
        if kind == "randn_like" and arrays:  # np.random.randn(*x.shape), as users write noise
            name = self.pick(arrays)
            shape_of = ast.Starred(ast.Attribute(_name(name), "shape", ast.Load()), ast.Load())
            real = _call(self.npf("tanh"), _call(self.npf("random.randn"), shape_of))
            return E(real, real, self.env[name].shape, 1.0, active=False, dims=self.env[name].dims)
        if kind == "uniform" and like:
            real = _call(self.npf("random.uniform"), _num(-1.0), _num(1.0), size=_literal(like))
            return E(real, real, like, 1.0, active=False)
        real = _call(self.npf("random.rand"))
        return E(real, real, (), 1.0, active=False, dims=True)

    def draw_statement(self) -> bool:
        """`t = e * np.random.rand()`, `t = e + np.tanh(np.random.randn(*x.shape))`: the
        draw is the last operand, so the probe copy draws in the same order."""
        names = self.targets()
        if not names:
            return False
        target = self.pick(names)
        want = self.env[target].shape if self.depth else None
        e = self.small(self.statement_expr(want=want), 2.0)
        draw = self.random_draw(e.shape)
        if broadcast(e.shape, draw.shape) is None or math.prod(broadcast(e.shape, draw.shape) or ()) > MAX_SIZE:
            return False
        if self.chance(0.5):
            combined = self.binop(e, ast.Mult(), draw, e.bound)
        else:
            combined = self.binop(e, ast.Add(), draw, e.bound + 1.0)
        if self.depth and combined.shape != self.env[target].shape:
            return False
        self.drew = True
        self.assign(target, combined)
        return True

    def assign(self, target: str, e: E) -> None:
        self.emit(f"{target} = {ast.unparse(e.real)}", f"{target} = {ast.unparse(e.probe)}")
        self.bind(target, e)

    def size_statement(self) -> bool:
        """Shape arithmetic, never differentiated: `N, D = x.shape`, `n1 = len(x)`."""
        arrays = sorted(n for n, v in self.env.items() if v.ndim and n not in self.frozen)
        if self.depth or not arrays:
            return False
        source = self.pick(arrays)
        shape = self.env[source].shape
        if shape == (2, 3) and not {"N", "D"} & set(self.env) and self.chance(0.5):
            self.emit(f"N, D = {source}.shape")
            self.sizes.update(N=2, D=3)
            self.ints.update(N=2, D=3)
            return True
        name = f"n{len(self.sizes) + 1}"
        axis = self.draw(st.integers(0, len(shape) - 1))
        self.emit(f"{name} = {source}.shape[{axis}]" if axis or self.chance(0.5) else f"{name} = len({source})")
        self.sizes[name] = self.ints[name] = shape[axis]
        return True

    def zeros_statement(self) -> bool:
        """`t = np.zeros(shape)` (or `zeros_like`, `ones_like`), then an element written in."""
        if self.depth or self.loops:
            return False
        target = self.pick([n for n in LOCAL_POOL if n not in self.protected])
        like = sorted(n for n, v in self.env.items() if v.ndim)
        kind = self.pick(["zeros", "zeros", "zeros_like", "ones_like"] if like else ["zeros"])
        integral = False
        if kind == "zeros":
            shape = self.pick([(3,), (2, 3)])
            value = _call(self.npf("zeros"), _literal(shape if len(shape) > 1 else shape[0]))
        else:
            source = self.pick(like)
            shape, integral = self.env[source].shape, self.env[source].integral  # zeros_like of ints: ints
            value = _call(self.npf(kind), _name(source))
        self.emit(f"{target} = {ast.unparse(value)}")
        self.env[target] = Var(shape, 1.0, False, True, False, integral)
        self.loop_bound.discard(target)
        self.blanks.add(target)
        return self.setitem_statement(target) or True

    def pattern_statement(self) -> bool:
        """Softmax, log-sum-exp or standardisation along an axis, staged as by hand."""
        if self.depth:
            return False
        a = self.small(self.expr(1), 2.0)
        if not a.ndim:
            return False
        kind = self.pick(["softmax", "logsumexp", "standardise", "inline_softmax", "log_softmax"])
        axis = self.draw(st.integers(-1, a.ndim - 1))
        count = a.shape[axis]
        t, u = self.pick([n for n in LOCAL_POOL if n not in self.protected]), "m_" + str(len(self.real_lines))
        kw = f"axis={axis}, keepdims=True"
        self.blanks -= {t, u}
        record = "" if a.active else ", record=False"
        real, probe = f"({ast.unparse(a.real)})", f"({ast.unparse(a.probe)})"
        if isinstance(a.real, ast.Name):
            real = probe = a.real.id
        if kind in ("inline_softmax", "log_softmax"):  # one expression, of a bounded `a`
            e = f"{self.np}.exp({real})"
            total = f"{self.np}.sum({e}, {kw})"
            self.emit(f"{t} = {e} / {total}" if kind == "inline_softmax" else f"{t} = {real} - {self.np}.log({total})",
                      f"{t} = {e.replace(real, probe)} / {total.replace(real, probe)}" if kind == "inline_softmax"
                      else f"{t} = {probe} - {self.np}.log({total.replace(real, probe)})")  # fmt: skip
            self.env[t] = Var(a.shape, 1.0 if kind == "inline_softmax" else 2 * a.bound + math.log(count), a.active,
                              True, False)  # fmt: skip
            return True
        if kind == "standardise":
            self.emit(f"{u} = {real} - {real}.mean({kw})", f"{u} = {probe} - {self.np}.mean({probe}, {kw})")
            self.emit(f"{t} = {u} / {self.np}.sqrt({self.np}.mean({u} ** 2, {kw}) + 0.5)")
            self.env[u] = Var(a.shape, 4.0, a.active, True, False)
            self.env[t] = Var(a.shape, 4.0 / math.sqrt(0.5), a.active, True, False)
            return True
        self.emit(f"{u} = {self.np}.max({real}, {kw})", f"{u} = _k_max({probe}, {kw}{record})")
        self.env[u] = Var(a.shape[:axis % a.ndim] + (1,) + a.shape[axis % a.ndim + 1:], a.bound, a.active, True, False,
                          a.integral)  # fmt: skip
        self.emit(f"{t} = {self.np}.exp({real} - {u})", f"{t} = {self.np}.exp({probe} - {u})")
        if kind == "softmax":
            self.emit(f"{t} = {t} / {t}.sum({kw})")
            self.env[t] = Var(a.shape, 1.0, a.active, True, False)
        else:
            self.emit(f"{t} = {u} + {self.np}.log({self.np}.sum({t}, {kw}))")
            self.env[t] = Var(self.env[u].shape, a.bound + math.log(count), a.active, True, False)
        return True

    def aug_statement(self) -> bool:
        """`t op= e`: in place for an array, so only on one that nothing else views.

        Not on arrays inside loops: a view taken later in the body would see the
        update of the next iteration.
        """
        shared = self.chance(0.2)  # now and then one that another name sees: codegen must refuse
        names = [
            n for n, v in sorted(self.env.items())
            if n not in self.ints and n not in self.frozen
            and (v.shape == () or ((v.fresh or shared) and not self.loops and n not in self.protected and not v.integral))
            and (v.shape != () or v.fresh or not self.zero_d)
        ]  # fmt: skip
        if not names:
            return False
        target = self.pick(names)
        t = self.env[target]
        e = self.statement_expr(self.draw(st.integers(0, 2)), want=t.shape)
        if broadcast(t.shape, e.shape) != t.shape:
            return False
        op = self.pick(["+=", "-=", "*=", "/="])
        if op == "/=":
            e, low = self.positive(self.small(e))
            bound = t.bound / low
        elif op == "*=":
            e = self.small(e, 1.0)
            bound = t.bound * e.bound
        else:
            bound = t.bound + e.bound
        if bound > LIMIT:
            return False
        self.emit(f"{target} {op} {ast.unparse(e.real)}", f"{target} {op} {ast.unparse(e.probe)}")
        t.bound, t.active, t.dims = bound, t.active or e.active, t.dims and e.dims
        return True

    def setitem_statement(self, target: str = "") -> bool:
        """`t[index] = e` (or `+=`) into a fresh array, outside loops (see aug_statement)."""
        names = [
            n for n, v in sorted(self.env.items()) if v.fresh and v.ndim and n not in self.protected and not v.integral
        ]  # fmt: skip
        if "setitem_after_loop" in KNOWN_BUGS:
            names = [n for n in names if n not in self.loop_bound]
        if "setitem_known_shapes" in KNOWN_BUGS:
            names = [n for n in names if n in self.blanks]
        if not names or self.loops:
            return False
        target = target or self.pick(names)
        t = self.env[target]
        if t.integral:
            return False
        index = self.pick(SETITEM_INDEXES[min(t.ndim, 2)])
        part = result_shape(eval(f"lambda x: x[{index}]"), t.shape)
        if part is None or math.prod(part) == 0:
            return False
        self.no_helper = "helper_in_constant_item" in KNOWN_BUGS
        e = self.small(self.statement_expr(1, want=part), 1.0)
        self.no_helper = False
        if broadcast(e.shape, part) != part:
            return False
        op = self.pick(["=", "=", "+="])
        self.emit(f"{target}[{index}] {op} {ast.unparse(e.real)}", f"{target}[{index}] {op} {ast.unparse(e.probe)}")
        t.bound = t.bound + 1.0 if op == "+=" else max(t.bound, 1.0)
        t.active, t.dims = t.active or e.active, False
        return True

    def unpack_statement(self) -> bool:
        if self.depth:
            return False
        a, b = self.pick(self.targets()), self.pick(self.targets())
        if a == b:
            return False
        e1, e2 = self.statement_expr(), self.statement_expr()
        self.emit(
            f"{a}, {b} = {ast.unparse(e1.real)}, {ast.unparse(e2.real)}",
            f"{a}, {b} = {ast.unparse(e1.probe)}, {ast.unparse(e2.probe)}",
        )
        self.bind(a, e1)
        self.bind(b, e2)
        return True

    # ---- control flow -------------------------------------------------------------------------------
    def inert_test(self) -> tuple[str, str]:
        """A scalar test (`np.sum(a) > k`, `a[0, 1] < k`, `s > k`); the probe records its margin."""
        e = self.small(self.expr(self.draw(st.integers(0, 2))), 2.0)
        if e.shape != ():
            e = self.small(self.reduce(e, whole=True), 2.0)
        k = self.pick([0.0, 0.3, -0.5])
        op = self.pick([">", "<"])
        record = "" if e.active else ", record=False"
        probe = f"_k_gt({ast.unparse(e.probe)}, {k}{record})"
        return f"{ast.unparse(e.real)} {op} {k}", probe if op == ">" else f"not {probe}"

    def block(self) -> None:
        self.depth += 1
        for _ in range(self.draw(st.integers(1, 3))):
            self.statement()
        self.depth -= 1

    def snapshot(self) -> dict[str, Var]:
        return {n: replace(v) for n, v in self.env.items()}

    def if_statement(self) -> None:
        before = self.snapshot()
        test, probe = self.inert_test()
        self.emit(f"if {test}:", f"if {probe}:")
        self.block()
        paths = [self.env]
        for _ in range(self.pick([0, 0, 1])):
            self.env = {n: replace(v) for n, v in before.items()}
            test, probe = self.inert_test()
            self.emit(f"elif {test}:", f"elif {probe}:")
            self.block()
            paths.append(self.env)
        self.env = {n: replace(v) for n, v in before.items()}
        if self.chance(0.7):
            self.emit("else:")
            self.block()
        paths.append(self.env)
        self.env = {n: merge([p[n] for p in paths]) for n in before}

    def loop_statement(self) -> None:
        # Raise every bound to at least 1 and squash whatever grew at the end of the
        # body: each iteration then starts within the bounds the body was drawn for.
        for v in self.env.values():
            v.bound = max(v.bound, 1.0)
        entry = self.snapshot()
        self.loop_count += 1
        suffix = self.loop_count if "counter_rebound_in_branch" in KNOWN_BUGS else self.depth
        counter, item = f"i{suffix}", f"row{suffix}"
        rows = sorted(n for n, v in self.env.items() if v.ndim and v.shape[0] <= 3 and n not in self.ints)
        frozen = set(self.frozen)
        kinds = ["range", "range", "rows", "enumerate", "zip", "while"] if rows else ["range", "while"]
        kind = self.pick(kinds + ["items"] * bool(self.lists))
        second = f"col{suffix}"  # zip's second item
        if kind == "items":  # `for t in v`: the numbers of a list
            self.emit(f"for {item} in {self.pick(sorted(self.lists))}:")
            self.env[item] = Var((), PARAM_BOUND, True, True, True, True)
            self.protected.add(item)
        elif kind in ("enumerate", "zip"):
            # The rows with their positions, or beside the rows of another array (or
            # the numbers of a list) of the same length.
            source = self.pick(rows)
            v = self.env[source]
            self.env[source].fresh = False
            self.env[item] = Var(v.shape[1:], v.bound, v.active, False, False, v.integral)
            self.protected.add(item)
            if kind == "enumerate":
                self.emit(f"for {counter}, {item} in enumerate({source}):")
                self.ints[counter] = v.shape[0] - 1
            else:
                others = sorted(n for n in rows if self.env[n].shape[0] == v.shape[0])
                others += sorted(n for n, size in self.lists.items() if size == v.shape[0])
                other = self.pick(others)
                w = self.env[other] if other in self.env else Var((), PARAM_BOUND, True, True, True, True)
                self.env[second] = Var(w.shape[1:], w.bound, w.active, False, False, w.integral)
                self.protected.add(second)
                if other in self.env:
                    self.env[other].fresh = False
                self.emit(f"for {item}, {second} in zip({source}, {other}):")
            if "rebound_loop_source" in KNOWN_BUGS:
                self.frozen.add(source)
            if "constant_carried_over_items" in KNOWN_BUGS:
                self.frozen |= {n for n, v in self.env.items() if not v.active}
        elif kind == "range":
            n = self.pick([1, 2, 3] + ["n"] * ("n" in self.ints) + sorted(self.sizes))
            self.emit(f"for {counter} in range({n}):")
            self.ints[counter] = 1 if n == "n" else self.sizes.get(str(n), n) - 1  # type: ignore[operator]
        elif kind == "rows":
            source = self.pick(rows)
            v = self.env[source]
            self.emit(f"for {item} in {source}:")
            self.env[source].fresh = False  # each row is a view
            self.env[item] = Var(v.shape[1:], v.bound, v.active, False, False, v.integral)
            self.protected.add(item)
            if "rebound_loop_source" in KNOWN_BUGS:
                self.frozen.add(source)
            if "constant_carried_over_items" in KNOWN_BUGS:
                self.frozen |= {n for n, v in self.env.items() if not v.active}
        else:
            top = self.pick([1, 2, 3])
            self.emit(f"{counter} = 0")
            test, probe = self.inert_test() if self.chance(0.5) else (None, None)
            if test is None:
                self.emit(f"while {counter} < {top}:")
            else:
                self.emit(f"while {counter} < {top} and {test}:", f"while {counter} < {top} and {probe}:")
            self.ints[counter] = top - 1
        self.loops += 1
        self.block()
        self.depth += 1
        for name, v in sorted(self.env.items()):
            if name in entry and name not in self.ints and v.bound > entry[name].bound:
                self.assign(name, self.squash(self.var(name)))
        if kind == "while":
            self.emit(f"{counter} += 1")
        self.depth -= 1
        self.loops -= 1
        self.ints.pop(counter, None)
        self.frozen = frozen
        for name in (item, second):
            self.env.pop(name, None)
            self.protected.discard(name)
        # The loop may not run: what held at the entry still may.
        # The loop may not run: what held at the entry still may; names it bound first
        # (a merge or a growing value inside it) may be unbound.
        self.env = {n: merge([v, entry[n]]) for n, v in self.env.items() if n in entry}

    def fresh_name(self) -> str | None:
        names = [n for n in LOCAL_POOL if n not in self.protected and n not in self.env and n not in self.frozen]
        return self.pick(names) if names else None

    def merge_statement(self) -> bool:
        """`if c: h = a` / `else: h = b` (or `h = a` / `if c: h = b`), where `a` and `b`
        have different shapes that broadcast, then a use of `h` right for either."""
        target = self.fresh_name()
        if target is None:
            return False
        a = self.statement_expr()
        b = self.statement_expr(want=a.shape)
        if a.shape == b.shape:  # another shape that broadcasts with a's, if one is at hand
            others = [self.var(n) for n, v in sorted(self.env.items()) if v.shape != a.shape
                      and broadcast(v.shape, a.shape) is not None and n not in self.ints]  # fmt: skip
            b = self.pick(others) if others else b
        full = broadcast(a.shape, b.shape)
        if full is None or math.prod(full) > MAX_SIZE:
            return False
        if (a.ndim == 0) != (b.ndim == 0) and "merged_number_and_array" in KNOWN_BUGS:
            return False
        test, probe = self.inert_test()
        first, second = (a, b) if self.chance(0.5) else (b, a)
        if self.chance(0.3):
            self.emit(f"{target} = {ast.unparse(first.real)}", f"{target} = {ast.unparse(first.probe)}")
            self.emit(f"if {test}:", f"if {probe}:")
        else:
            self.emit(f"if {test}:", f"if {probe}:")
            self.depth += 1
            self.emit(f"{target} = {ast.unparse(first.real)}", f"{target} = {ast.unparse(first.probe)}")
            self.depth -= 1
            self.emit("else:")
        self.depth += 1
        self.emit(f"{target} = {ast.unparse(second.real)}", f"{target} = {ast.unparse(second.probe)}")
        self.depth -= 1
        self.use_merged(target, [a, b], "branch")
        return True

    def growing_loop(self) -> bool:
        """A value carried by a loop whose shape grows by broadcasting (`t = 0.0`, then
        `t = t + x[i]`). When the loop may not run, `t` is used as a merged value."""
        target = self.fresh_name()
        if target is None:
            return False
        start = _const(0.0) if self.chance(0.4) else self.small(self.statement_expr(1), 1.0)
        counter = f"i{self.depth}"
        n = self.pick([1, 2, 3] + ["n"] * ("n" in self.ints))
        top = 1 if n == "n" else int(n) - 1
        self.ints[counter] = top
        grow = self.small(self.expr(self.draw(st.integers(0, 2)), want=start.shape), 1.0)
        self.ints.pop(counter)
        full = broadcast(start.shape, grow.shape)
        if full is None or math.prod(full) > MAX_SIZE:
            return False
        times = 2 if n == "n" else int(n)
        # `t += g` rebinds a number (never a 0-d array) to the grown array, then adds in place.
        in_place = start.shape == () and (start.fresh or not self.zero_d)
        form = self.pick(["+", "+=", "tanh", "half"] if in_place else ["+", "tanh", "half"])
        if form in ("+", "+=") and start.bound + times * grow.bound > LIMIT:
            form = "tanh"
        self.emit(f"{target} = {ast.unparse(start.real)}", f"{target} = {ast.unparse(start.probe)}")
        self.emit(f"for {counter} in range({n}):")
        g_real, g_probe = ast.unparse(grow.real), ast.unparse(grow.probe)
        lines = {
            "+": (f"{target} = {target} + {g_real}", f"{target} = {target} + {g_probe}"),
            "+=": (f"{target} += {g_real}", f"{target} += {g_probe}"),
            "tanh": (f"{target} = {self.np}.tanh({target} + {g_real})",
                     f"{target} = {self.np}.tanh({target} + {g_probe})"),
            "half": (f"{target} = {target} * 0.5 + {g_real}", f"{target} = {target} * 0.5 + {g_probe}"),
        }  # fmt: skip
        self.depth += 1
        self.emit(*lines[form])
        self.depth -= 1
        bound = {"+": start.bound + times * grow.bound, "tanh": 1.0, "half": start.bound + 2 * grow.bound}
        grown = self.combine(_name(target), _name(target), [start, grow], full, bound.get(form, bound["+"]))
        grown = replace(grown, fresh=False)
        if n == "n":  # the loop may not run
            self.use_merged(target, [replace(start, bound=grown.bound), grown], "loop")
        else:
            self.note_merge("loop", [start, grown], "carried")
            self.bind(target, grown)
        return True

    def note_merge(self, where: str, versions: list[E], use: str) -> None:
        """What a merged value is, for the coverage check: where it merges (a branch, a
        loop), the ranks of its versions, how it is used, with or without annotations,
        and what its versions read (an int, a list, a vector, a matrix, a stack)."""
        ranks = "/".join(str(r) for r in sorted({v.ndim for v in versions}))
        annotated = "annotated" if self.annotated else "plain"
        self.merges |= {f"{where} {ranks} {annotated}", f"{where} {ranks} {use}"}
        read = {n.id for v in versions for n in ast.walk(v.real) if isinstance(n, ast.Name)}
        for name in sorted(read):
            kind = self.param_kinds.get(name)
            if name in self.lists:
                what = "list list"
            elif kind is not None and name in self.env and name not in self.ints:
                what = ("int " if kind in INTEGRAL else "float ") + ["number", "vector", "matrix", "stack"][self.env[name].ndim]
            else:
                continue
            self.merges.add(f"{where} reads {what} {annotated}")

    def use_merged(self, name: str, versions: list[E], where: str) -> None:
        """A statement using `name`, which holds one of `versions` (shapes that broadcast),
        whose result has one shape on every path."""
        full = broadcast(*(v.shape for v in versions))
        assert full is not None
        merged = replace(versions[0], real=_name(name), probe=_name(name), shape=full, fresh=False,
                         bound=max(v.bound for v in versions), active=any(v.active for v in versions),
                         integral=any(v.integral for v in versions), dims=False,
                         number=any(v.ndim == 0 for v in versions))  # fmt: skip
        kind = self.pick(["elementwise", "elementwise", "reduce", "product"])
        result: E | None = None
        if kind == "elementwise":  # h * e, where e has the full shape: the same result either way
            other = self.small(self.expr(1, want=full), 2.0)
            shapes = {broadcast(v.shape, other.shape) for v in versions}
            if len(shapes) == 1 and None not in shapes:
                op = self.pick([ast.Add(), ast.Sub(), ast.Mult()])
                m = self.small(merged, 2.0)
                bound = m.bound * other.bound if isinstance(op, ast.Mult) else m.bound + other.bound
                result = self.binop(m, op, other, bound)
                result = replace(result, shape=shapes.pop() or ())
        if kind == "product":
            partners = [self.var(n) for n, v in sorted(self.env.items()) if v.ndim and n != name and all(
                result_shape(np.matmul, x.shape, v.shape) is not None for x in versions)]  # fmt: skip
            if partners and all(x.ndim for x in versions):
                w = self.small(self.pick(partners), 1.0)
                m = self.small(merged, 1.0)
                product = self.combine(ast.BinOp(m.real, ast.MatMult(), w.real),
                                       ast.BinOp(m.probe, ast.MatMult(), w.probe),
                                       [m, w], full, float(max(x.shape[-1] for x in versions)))  # fmt: skip
                result = self.reduce(replace(product, shape=result_shape(np.matmul, full, w.shape) or full), whole=True)
                if result.shape != ():
                    result = None
        self.note_merge(where, versions, kind if result is not None else "reduce")
        if result is None:  # np.sum(h), np.mean(h), h.sum(): the same shape either way
            result = self.reduce(merged, whole=True)
            if result.shape != ():
                result = self.ufunc("sum", merged, bound=merged.bound * math.prod(full), shape=())
        result = self.small(result, LIMIT)
        target = name if self.chance(0.5) else (self.fresh_name() or name)
        self.emit(f"{target} = {ast.unparse(result.real)}", f"{target} = {ast.unparse(result.probe)}")
        self.bind(target, result)

    def returns(self, count: int | None = None) -> list[Shape]:
        n = count if count is not None else self.pick([1, 1, 1, 2])
        outputs = [self.output() for _ in range(n)]
        cache = []
        if self.cache:
            # The inputs and intermediates a layer's backward would read: not differentiated.
            kept = sorted(set(self.env) | set(self.param_kinds))
            cache = [self.pick(kept) for _ in range(self.draw(st.integers(1, 3)))]
            self.emit(f"cache = ({', '.join(cache)},)" if len(cache) == 1 else f"cache = ({', '.join(cache)})")
            cache = ["cache"]
        self.emit(
            "return " + ", ".join([ast.unparse(e.real) for e in outputs] + cache),
            "return " + ", ".join([ast.unparse(e.probe) for e in outputs] + cache),
        )
        return [e.shape for e in outputs]

    def output(self) -> E:
        names = sorted(n for n in self.env if n not in self.ints)
        e = self.var(self.pick(names)) if names and self.chance(0.6) else self.statement_expr(2)
        if e.ndim and self.chance(0.5):  # the classic scalar loss
            e = self.reduce(e, whole=True)
        return self.small(e, LIMIT)

    # ---- functions and modules ----------------------------------------------------------------------
    def function(self, name: str, shapes: list[Shape] | None = None) -> Function:
        self.env, self.ints, self.protected, self.sizes, self.labels = {}, {}, set(), {}, ""
        self.zero_d = False  # a parameter may be a 0-d array: no `+=` on it (or on aliases)
        self.lists: dict[str, int] = {}  # list parameters -> length
        self.loop_bound, self.blanks = set(), set()
        self.real_lines, self.probe_lines = [], []
        helper = shapes is not None
        if shapes is None:
            shapes = [self.pick(PARAM_SHAPES) for _ in range(self.draw(st.integers(1, 3)))]
            if self.helper is not None and self.chance(0.7):  # arguments for the helper at hand
                shapes = self.helper[1] + shapes[len(self.helper[1]):]
            names = self.pick([PARAM_POOL, ["x", "w", "b"], ["h", "x", "W"]])[: len(shapes)]
        else:
            names = ["u", "v"][: len(shapes)]
        kinds: dict[str, str] = {}
        sources: list[str] = []
        for p, shape in zip(names, shapes):
            # What is passed: a float array, or an int one (`np.array([1, 0, -1])`); a
            # Python float, a Python int, `np.float64(...)` or a 0-d array.
            if shape:
                kind = self.pick(["array", "array", "array", "int_array"])
            else:
                kind = self.pick(["float", "float", "int_value", "float64", "array0"])
            kinds[p] = kind
            self.env[p] = Var(shape, PARAM_BOUND, True, False, self.annotated, integral=kind in INTEGRAL)
            self.zero_d = self.zero_d or kind == "array0"
            sources.append(p + self.annotation(shape))
        if not helper and self.chance(0.2):
            self.lists["v"] = LIST_LENGTH
            kinds["v"] = "list"
            sources.append("v" + (": list[float]" if self.annotated else ""))
        if not helper and self.chance(0.1):
            self.labels = "labels"
            kinds["labels"] = "labels"
            sources.append("labels")
        if not helper and self.control_flow and self.chance(0.3):
            self.ints["n"] = 2
            kinds["n"] = "int"
            sources.append("n: int")
        self.mask = None
        arrays = [shape for shape in shapes if shape]
        if not helper and arrays and not self.chance(0.85):
            self.mask = self.pick(arrays)  # a boolean mask of a parameter's shape
            kinds["mask"] = "mask"
            sources.append("mask")
        if not helper and self.chance(0.15):
            self.env["c"] = Var((), 0.5, False, False, True)
            kinds["c"] = "default"
            sources.append("c=0.5")
        self.protected = set(kinds)
        self.param_kinds = kinds
        fn = Function(name, sources, dict(zip(names, shapes)), kinds)
        if self.mask is not None:
            fn.shapes["mask"] = self.mask
        lo, hi = (1, 3) if helper else STATEMENTS
        for _ in range(self.draw(st.integers(lo, hi)) - 1):
            self.statement()
        self.cache = not helper and not self.chance(0.88)  # `return out, cache`, as numpy layers do
        fn.returns = self.returns(self.pick([1, 1, 2]) if helper else None)
        fn.real, fn.probe = self.real_lines, self.probe_lines
        return fn

    def annotation(self, shape: Shape) -> str:
        if not self.annotated:
            return ""
        if shape == ():
            return ": float"
        if self.chance(0.2):
            return f': "{" ".join(str(d) for d in shape)}"'
        return f': "{" ".join(DIM_NAMES[d] for d in shape)}"'

    def build(self) -> Program:
        blocks_real: list[str] = []
        blocks_probe: list[str] = []
        forwards: list[Function] = []

        def add(fn: Function) -> None:
            head = f"def {fn.name}({', '.join(fn.params)}):"
            blocks_real.append("\n".join([head] + ["    " + line for line in fn.real]))
            blocks_probe.append("\n".join([head] + ["    " + line for line in fn.probe]))

        if self.chance(0.2):
            shapes = [self.pick(PARAM_SHAPES[1:]) for _ in range(self.draw(st.integers(1, 2)))]
            public = self.chance(0.3)
            name = "layer" if public else "_layer"
            fn = self.function(name, shapes)
            self.helper = (name, shapes, fn.returns)
            # A private helper is defined inside f in half the modules (inlined all the same).
            local = None if public or self.chance(0.5) else fn
            if local is None:
                add(fn)
            if public:
                forwards.append(fn)
        main = self.function("f")
        if self.helper is not None and local is not None:
            at = int(bool(main.real) and main.real[0].startswith('"""'))  # after f's docstring
            head = [f"def {local.name}({', '.join(local.params)}):"]
            main.real[at:at] = head + ["    " + line for line in local.real]
            main.probe[at:at] = head + ["    " + line for line in local.probe]
        add(main)
        forwards.append(main)
        imports = "import numpy" if self.np == "numpy" else f"import numpy as {self.np}"
        if self.from_imports:
            imports += f"\nfrom numpy import {', '.join(sorted(self.from_imports))}"
        if self.use_math:
            imports = "import math\n" + imports
        top = [imports] + [f"{k} = {v}" for k, v in self.constants.items()]
        real = "\n".join(top) + "\n\n\n" + "\n\n\n".join(blocks_real) + "\n"
        probe = "\n".join(top) + "\n\n\n" + "\n\n\n".join(blocks_probe) + "\n"
        return Program(real, probe, forwards, self.drew, frozenset(self.merges))


def merge(versions: list[Var]) -> Var:
    """What is known of a variable after paths that bound it differently."""
    return Var(
        versions[0].shape,
        max(v.bound for v in versions),
        any(v.active for v in versions),
        all(v.fresh for v in versions),
        all(v.dims for v in versions),
        any(v.integral for v in versions),
    )


@st.composite
def programs(draw: Callable[[st.SearchStrategy[Any]], Any]) -> Program:
    return Builder(draw).build()


# ---- the property -------------------------------------------------------------------


def argument_values(fn: Function, seed: int, ints: bool = True) -> list[Any]:
    """Arguments of the kinds `fn` was written for; floats for all when not `ints`."""
    rng = np.random.default_rng(seed)
    args: list[Any] = []
    for param, kind in fn.kinds.items():
        if kind in ("int_array", "int_value") and ints:
            value = rng.choice(INT_VALUES, size=fn.shapes[param])
            args.append(value if kind == "int_array" else int(value))
        elif kind in ("array", "int_array"):
            args.append(rng.uniform(-PARAM_BOUND, PARAM_BOUND, size=fn.shapes[param]))
        elif kind in ("float", "int_value"):
            args.append(float(rng.uniform(-PARAM_BOUND, PARAM_BOUND)))
        elif kind == "float64":
            args.append(np.float64(rng.uniform(-PARAM_BOUND, PARAM_BOUND)))
        elif kind == "array0":
            args.append(np.array(rng.uniform(-PARAM_BOUND, PARAM_BOUND)))
        elif kind == "list":
            values = rng.uniform(-PARAM_BOUND, PARAM_BOUND, size=LIST_LENGTH)
            form = rng.integers(0, 4) if ints else 0
            if form == 1:
                values = rng.choice(INT_VALUES, size=LIST_LENGTH)
            # A list of floats or of ints, or the same as a vector: what users pass.
            args.append(values if form == 3 else values.tolist())
        elif kind == "int":
            args.append(int(rng.integers(0, 3)))
        elif kind == "labels":
            args.append(rng.integers(0, 3, size=LABELS))
        elif kind == "mask":
            args.append(rng.uniform(size=fn.shapes[param]) < 0.6)
        else:
            args.append(0.5)
    return args


def _values(outputs: Any) -> tuple[Any, ...]:
    """The differentiated outputs: a returned tuple (a layer's cache) is not one."""
    return tuple(o for o in (outputs if isinstance(outputs, tuple) else (outputs,)) if not isinstance(o, tuple))


def _finite_and_bounded(outputs: Any) -> bool:
    values = _values(outputs)
    return all(np.all(np.isfinite(v)) and np.all(np.abs(v) <= 10 * LIMIT) for v in values)


def smooth_point(program: Program, fn: Function, data: st.DataObject) -> list[Any]:
    """Arguments for `fn` away from every kink, with bounded, finite outputs."""
    probe = Probe()
    namespace: dict[str, Any] = {"__name__": "probe", **probe.namespace()}
    exec(compile(program.probe_source, "probe.py", "exec"), namespace)  # noqa: S102
    for attempt in range(3):
        # Int arguments sit on kinks (abs at 0, ties of maximum): the last attempt
        # passes floats only.
        # A boolean mask multiplied in makes exact zeros on every attempt: ties too.
        probe.strict = "mask" in fn.kinds.values() or attempt < 2 and any(
            k in INTEGRAL or k == "list" for k in fn.kinds.values()
        )
        seed = data.draw(st.integers(0, 2**32 - 1), label=f"seed for {fn.name}")
        args = argument_values(fn, seed, ints=attempt < 2)
        probe.margin = math.inf
        with np.errstate(all="raise"):
            try:
                outputs = program.wrap(namespace[fn.name])(*args)
            except FloatingPointError:
                continue  # outside the domain the generator aims for
        if probe.margin > MARGIN and _finite_and_bounded(outputs):
            return args
    assume(False)
    raise AssertionError("unreachable")


def assert_constants_are_constant(fn: Callable[..., Any], names: list[str], kinds: dict[str, str],
                                  args: list[Any]) -> None:  # fmt: skip
    """A parameter codegen does not differentiate must not move the output."""
    params = list(inspect.signature(fn).parameters)
    for param, kind in kinds.items():
        if kind not in ("array", "int_array", "float", "int_value", "float64", "array0") or param in names:
            continue
        index = params.index(param)
        base = np.asarray(args[index], dtype=float)
        for position in np.ndindex(base.shape):
            slopes = []
            for sign in (1, -1):
                changed = list(args)
                moved = base.copy()
                moved[position] += sign * 1e-6
                changed[index] = moved if kind in ("array", "int_array") else float(moved)
                out = fn(*changed)
                slopes.append(np.concatenate([np.ravel(o) for o in _values(out)]))
            slope = (slopes[0] - slopes[1]) / 2e-6
            assert np.all(np.abs(slope) < 1e-6), f"codegen treats {param} as a constant, yet the output moves: {slope}"


class _Vector(list[float]):
    """A list as users pass one, except that `+` and `*` (concatenation and
    repetition, never what a numpy program means) raise."""

    def _refuse(self, other: Any) -> Any:
        raise TypeError("a list here would be concatenated or repeated")

    __add__ = __radd__ = __iadd__ = __mul__ = __rmul__ = __imul__ = _refuse


def _combined_by_arithmetic(source: str, name: str) -> set[str]:
    """The names the function's own code combines by arithmetic, compares, slices
    or reads an attribute of: a list there may be absorbed by an array on the
    other side (`s * x`), which the README asks users not to rely on."""
    tree = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == name)
    found: set[str] = set()
    for node in ast.walk(tree):
        operands: list[ast.expr] = []
        if isinstance(node, ast.BinOp):
            operands = [node.left, node.right]
        elif isinstance(node, ast.UnaryOp):
            operands = [node.operand]
        elif isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
        elif isinstance(node, (ast.Attribute, ast.Subscript)):
            operands = [node.value]
        found |= {o.id for o in operands if isinstance(o, ast.Name)}
    return found


def check_vectors_passed_as_lists(source: str, name: str, forward_fn: Callable[..., Any],
                                  backward_fn: Callable[..., Any], args: list[Any]) -> bool:  # fmt: skip
    """Users pass lists where numpy reads arrays: where the forward takes each vector
    as a list too, the backward gives the same gradients with them. Whether it did."""
    params = list(inspect.signature(forward_fn).parameters)
    combined = _combined_by_arithmetic(source, name)
    vectors = [
        i for i, a in enumerate(args)
        if isinstance(a, np.ndarray) and a.ndim == 1 and a.dtype.kind == "f" and params[i] not in combined
    ]  # fmt: skip
    if not vectors:
        return False
    listed = [_Vector(a.tolist()) if i in vectors else a for i, a in enumerate(args)]
    try:
        with np.errstate(all="ignore"):
            forward_fn(*listed)
    except (TypeError, ValueError, IndexError, AttributeError):
        return False  # the forward itself takes no list here
    weights = upstream_for(as_tuple(forward_fn(*args)), np.random.default_rng(3))
    want = fused_gradients(forward_fn, backward_fn, args, weights)
    got = fused_gradients(forward_fn, backward_fn, listed, weights)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(np.asarray(g, dtype=float), np.asarray(w, dtype=float), rtol=1e-9, atol=1e-12,
                                   err_msg="a vector passed as a list")  # fmt: skip
    return True


def check_other_styles(program: Program, fn: Function, forward_fn: Callable[..., Any],
                       backward_fn: Callable[..., Any], args: list[Any]) -> None:  # fmt: skip
    """Split style and forward mode agree with the (already checked) fused backward."""
    if not gradient_names(backward_fn):
        return
    control_flow = any(word in program.source for word in ("if ", "for ", "while "))
    if not (control_flow and "split_cache_in_branch" in KNOWN_BUGS):
        check_split_style(program.source, fn.name, forward_fn, backward_fn, args, program.wrap)
    constants = any(word in program.source for word in ("array(", "zeros", "ones_like", "K0"))
    if not (constants and "tangent_not_broadcast" in KNOWN_BUGS):
        check_forward_mode(program.source, fn.name, forward_fn, backward_fn, args, program.wrap)


def read_only_upstream(error: ValueError, code: str) -> bool:
    """A known bug (FOUND's "scalar-upstream-broadcast-then-updated-in-place"):
    the backward updates in place the read-only `np.broadcast_to` of a scalar upstream."""
    return "read_only_upstream" in KNOWN_BUGS and "read-only" in str(error) and "broadcast_to(" in code


def check_program(program: Program, data: st.DataObject, stats: Counter[str]) -> None:
    note(program.source)
    points = [smooth_point(program, fn, data) for fn in program.forwards]
    other_styles = data.draw(st.integers(1, OTHER_STYLES_EVERY), label="check split style and forward mode") == 1
    try:
        forward, backward, code = load(program.source, "fwd.py")
    except codegen.CodegenError as exc:
        assert exc.filename == "fwd.py"
        assert 1 <= exc.line <= program.source.count("\n") + 1, exc
        assert exc.column >= 1, exc
        stats[f"refused: {exc.message}"] += 1
        event(f"refused: {exc.message}")
        return
    note(code)
    for fn, args in zip(program.forwards, points):
        backward_fn = program.wrap(backward[f"{fn.name}_backward"])
        forward_fn = program.wrap(forward[fn.name])
        names = gradient_names(backward_fn)
        if names:
            try:
                check_gradients(forward_fn, backward_fn, args)
            except ValueError as error:
                if not read_only_upstream(error, code):
                    raise
                stats["known bug: a broadcast scalar upstream updated in place"] += 1
                continue
        else:
            assert backward_fn(*args) is None
        assert_constants_are_constant(forward_fn, names, fn.kinds, args)
        if names and check_vectors_passed_as_lists(program.source, fn.name, forward_fn, backward_fn, args):
            stats["vectors also passed as lists"] += 1
        if other_styles:
            check_other_styles(program, fn, forward_fn, backward_fn, args)
        if program.draws:
            stats["draws random numbers"] += 1
    count_constructs(stats, program.source, CONSTRUCTS, other_styles)
    stats["checked"] += 1
    stats.update(f"merge: {merge}" for merge in program.merges)


# Constructs of real numpy layers (issue 17) and the source that shows each; the
# derandomized run checks each in several programs, in split style too.
CONSTRUCTS = {
    "returned cache": r"cache = \(",
    "np.split unpacked": r"= \w+\.split\(",
    "np.array_split unpacked": r"\.array_split\(",
    "np.vstack": r"vstack\(",
    "np.hstack": r"hstack\(",
    "np.trace": r"trace\(",
    "indexed by a mask parameter": r"\[(~|\()?mask",
    "times a mask parameter": r"\* \(?mask|mask\)? \*|where\(\(?~?mask",
}


# What the merged values of the checked programs cover in the derandomized run (see
# Builder.note_merge): every pair of ranks but vectors with matrices, with and without
# annotations, ints, lists, vectors, matrices and stacks. A matrix product after a
# branch merge (issue 15's `h = x` / `h = y`, then `np.sum(h @ w)`), a list item in a
# module without annotations and stacks, ints or lists read in a loop are rare or
# missing here: tests/test_merged_kinds.py checks every pair of kinds.
# What the merges cover depends on which programs are checked to the end, and that
# has moved with every change to the generators (and between whole-suite and
# single-file runs): the run asserts that it merges values of several kinds in
# branches and loops, annotated and not. tests/test_merged_kinds.py holds every
# pair of kinds merged in a branch and in a loop, with and without annotations.
MERGE_KINDS = ("branch 0/1 ", "branch reads ", "loop 0/", "loop reads ")


def test_random_numpy_programs_differentiate_correctly_or_fail_cleanly() -> None:
    stats = run_random_programs(programs, check_program)
    if not LONG and EXAMPLES == 1000:
        found = {key.removeprefix("merge: ") for key in stats if key.startswith("merge: ")}
        for start in MERGE_KINDS:
            merged = {key for key in found if key.startswith(start)}
            assert len(merged) >= 2, f"the random programs no longer merge {start.strip()!r}: {sorted(found)}"
        assert any(k.endswith("annotated") for k in found) and any(k.endswith("plain") for k in found), found
        assert len(found) >= 20, f"the random programs merge too little: {sorted(found)}"
        assert_constructs_checked(stats, CONSTRUCTS, least=3)


# ---- bugs the random programs found, pinned by minimal programs -------------------------
# An open one is marked `bug("...")` (tests.support): a strict xfail until it is fixed.

NP = "import numpy as np\n\n\n"
ROWS = np.array([[0.3, -0.5, 0.9], [-1.1, 0.4, 0.2]])
FOUND: dict[str, tuple[str, list[Any], Any]] = {
    # A gradient folded into another inside a while body (dtanh_h is dplus_tanh_h) was
    # named after the loop, where a loop that ran no iteration left it unbound.
    "fold-inside-a-loop-that-may-not-run": (
        'import numpy as onp\nK0 = onp.array([[-0.8, -0.4, 0.0], [0.4, 0.8, 1.2]])\n\n\ndef layer(u: "3", v: "N 1"):\n    return onp.prod(onp.tanh(v), axis=0)[::-1]\n\n\ndef f(h: "D", x: "N 1", W: float, labels):\n    if 0.5 > -0.5:\n        i1 = 0\n        while i1 < 2 and W > 0.3:\n            h = h + onp.log(1.5 + onp.tanh(h[i1]))\n            x = x + h.min()\n            h = onp.tanh(h)\n            x = onp.tanh(x)\n            i1 += 1\n        pass\n    x_1 = (onp.tanh(W - K0)) - onp.log(onp.sum(onp.exp((onp.tanh(W - K0))), axis=1, keepdims=True))\n    return onp.tanh(onp.add(onp.tanh(x_1) * h, layer(h, x))).var()\n',
        [np.array([0.3, -0.2, 0.5]), np.array([[1], [2]]), 0.1, [0, 1]],
        None,
    ),
    "update-through-a-rollaxis-view": (
        NP + "def f(x):\n    x_1 = np.rollaxis(x, -1)\n    x_1 += x_1\n    return np.mean(np.tanh(np.sum(x ** 2, axis=-1)))\n",
        [ROWS.copy()],
        None,  # refused: np.rollaxis is a view, and x is read later
    ),
    "mean-of-a-float": (
        NP + "def f(x):\n    return np.mean(x * 2.0)\n",
        [0.5],
        None,  # B28, fixed
    ),
    "prod-with-a-zero-element": (
        NP + "def f(x):\n    return np.prod(x)\n",
        [np.array([0.0, 2.0, 3.0])],
        None,  # B29, fixed
    ),
    "annotated-row-assignment": (
        NP + 'def f(x: "D", w: "N D"):\n    a = w * 2.0\n    a[0] = x\n    return a\n',
        [np.array([0.3, -0.4, 0.8]), ROWS],
        None,  # B30, fixed
    ),
    "row-assignment-of-a-known-shape": (
        NP + "def f(h):\n    a = h.reshape(1, 3) * 2.0\n    a[0] = np.sum(a)\n    return np.sum(a)\n",
        [np.array([0.3, -0.4, 0.8])],
        None,  # B30, fixed
    ),
    "loop-over-rows-rebinds-its-array": (
        NP + "def f(a):\n    s = 0.0\n    for row in a:\n        s = s + row[0]\n        a = a * 2.0\n    return s\n",
        [ROWS],
        None,  # B31, fixed
    ),
    "inner-of-a-vector-and-a-matrix": (
        NP + "def f(x, y):\n    return np.inner(x, y)\n",
        [np.array([0.3, -0.4, 0.8]), ROWS],
        None,  # B32, fixed
    ),
    "constant-carried-over-rows": (
        NP + "def f(x):\n    d = np.zeros(3)\n    for row in x:\n        d = np.tanh(d + row)\n    return np.sum(d)\n",
        [ROWS],
        None,  # B33, fixed
    ),
    "constant-helper-value-written-into-a-constant-array": (
        NP + "def _h(u):\n    return 2.0\n\n\ndef f(x):\n    d = np.ones(3)\n    d[1:] = np.tanh(_h(x))\n"
        "    return np.sum(d * x)\n",
        [np.array([0.3, -0.4, 0.8])],
        None,  # B36, fixed
    ),
    "int-parameter-beside-a-slice": (
        NP + "def f(x, n: int):\n    return np.sum(x[:, n])\n",
        [ROWS, 1],
        None,  # B39, fixed
    ),
    "item-assignment-after-a-loop": (
        NP + "def f(x, y):\n    a = x * 2.0\n    for i in range(1):\n        a = x * 3.0\n    a[1:] = y\n"
        "    return np.sum(a)\n",
        [np.array([0.3, -0.4, 0.8]), 0.5],
        None,  # B34, fixed
    ),
    # Found with the kinds of issue 15 drawn (merges of numbers and arrays, list inputs).
    "merged-number-and-array": (
        NP + "def f(x, y, w):\n    a = np.tanh(w)\n    if w > 0.0:\n        a = x\n    return np.sum(a * y)\n",
        [np.array([0.1, 0.2, 0.3]), 0.5, 0.7],
        None,  # fixed with issue 15
    ),
    "merged-scalar-multiple-and-array": (
        NP + "def f(x, y, c):\n    a = y * 2.0\n    if c > 0.0:\n        a = x\n    return np.sum(a * y)\n",
        [np.array([0.1, 0.2, 0.3]), 0.5, 0.7],
        None,  # fixed with issue 15
    ),
    "annotated-number-rebound-to-an-array": (
        NP + "def f(x: float, W):\n    x = x * W\n    return np.sum(W * x)\n",
        [0.7, ROWS],
        None,  # fixed with issue 15
    ),
    "scalar-upstream-broadcast-then-updated-in-place": (
        NP + "def f(v, c=0.5):\n    if v[0] < 0.3:\n        c = c + v[1]\n    c = c + np.tanh(c - c)\n    return c\n",
        [[0.1, 0.2, 0.3], 0.5],
        None,  # fixed with issue 15
    ),
    "negative-list-index": (
        NP + "def f(v: list[float]):\n    a = v[1] * 2.0\n    b = v[-2] * 3.0\n    return a + b\n",
        [[0.1, 0.2, 0.3]],
        None,  # fixed with issue 15
    ),
    # Found with the constructs of issue 17 drawn: a returned cache of constants only
    # was taken for a value and given an upstream `dcache`, unlike a cache that holds
    # a parameter (the backward's signature then depended on what the cache held).
    "cache-of-constants-returned": (
        NP + "def f(h):\n    out = np.array([1.0, 2.0])\n    cache = (out, out)\n    return np.tanh(h), cache\n",
        [0.4],
        None,
    ),
}


@pytest.mark.parametrize(
    ("source", "args"),
    [pytest.param(s, a, marks=m or (), id=k) for k, (s, a, m) in FOUND.items()],
)
def test_numpy_programs_the_random_tests_found(source: str, args: list[Any]) -> None:
    """Each program is differentiated correctly, or refused cleanly."""
    try:
        forward, backward, code = load(source, functions=["f"])
    except codegen.CodegenError as error:
        assert error.line >= 1 and error.column >= 1
        return
    backward_fn = backward["f_backward"]
    names = gradient_names(backward_fn)
    assert names, code
    check_gradients(forward["f"], backward_fn, args)


STYLE_FOUND: dict[str, tuple[str, list[Any], str, Any]] = {
    "forward-mode-after-a-loop-that-did-not-run": (
        "def f(x, w, n: int):\n    for i in range(n):\n        w = x * 2.0\n    return w * x\n",
        [0.3, 0.5, 0],
        "forward",
        None,  # B42: prune merged the tangent parameter w_dot into the loop's w_1_dot
    ),
    "forward-mode-default-parameter-rebound-in-a-loop": (
        NP + "def f(x, c=0.5):\n    for i in range(2):\n        c = np.tanh(x)\n    return c * c\n",
        [np.array([0.3, -0.4, 0.8]), 0.5],
        "forward",
        None,  # B41, fixed in 30ac8bd
    ),
    "split-style-caches-a-value-of-a-branch-not-taken": (
        NP + "def f(x, y):\n    s = x * 2.0\n    if y > 0.0:\n        s = np.tanh(s) + np.tanh(x)\n"
        "    return np.sum(s * s)\n",
        [np.array([0.3, -0.4, 0.8]), -0.5],
        "split",
        None,  # B37, fixed
    ),
    "split-style-backward-reads-a-parameter-a-loop-in-the-other-branch-rebinds": (
        "def f(x, c):\n    if c > 0.0:\n        for i in range(2):\n            x = x * x\n    else:\n"
        "        x = x * x\n    return x\n",
        [np.array([0.3, -0.4]), -1.0],
        "split",
        None,  # the cache plan took x for bound by the loop's x = x_list.pop(), on every path
    ),
    "forward-mode-tangent-broadcast-against-a-constant": (
        NP + "def f(s):\n    d = np.ones((3, 1)) + s\n    return np.sum(d)\n",
        [0.5],
        "forward",
        None,  # B38, fixed
    ),
}


@pytest.mark.parametrize(
    ("source", "args", "style"),
    [pytest.param(s, a, y, marks=m or (), id=k) for k, (s, a, y, m) in STYLE_FOUND.items()],
)
def test_other_styles_the_random_tests_found(source: str, args: list[Any], style: str) -> None:
    """Split style and forward mode agree with the fused backward, or refuse cleanly."""
    forward, backward, _ = load(source, functions=["f"])
    check = check_split_style if style == "split" else check_forward_mode
    check(source, "f", forward["f"], backward["f_backward"], args)
