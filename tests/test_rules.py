"""One numerical test per row of the derivative-rule table, and more per tricky row.

`CASES` holds, for every row of `codegen.ad.rules.RULES`, forward snippets that reach
it, each with arguments inside the function's domain and away from kinks.
Each case is generated, executed, and its gradients compared with central
differences (`tests.support.check_gradients`).  A row added to the table
without a case here fails `test_every_rule_has_a_case`, so every new rule gets
its numerical test.

A case's arguments are data: a float is passed as is, `U(shape, lo, hi)` is a
uniform random array (seeded by the argument's position, so two arguments of
the same shape differ), a list is passed as a fresh list.
"""

from __future__ import annotations

import inspect
import math
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import codegen
from codegen import CodegenError, ir, pipeline
from codegen.ad.rules import RULES
from codegen.lower.normalize import normalise
from tests.support import check_gradients, gradient_names, load

# Rows no forward source can reach directly.  Each entry needs a comment saying
# why; an entry that also has a case fails `test_unreachable_is_unreachable`.
# `test_unreachable_row_in_generated_code` reaches each by differentiating a
# generated backward again (GENERATED).
UNREACHABLE: dict[str, str] = {
    # Met only when codegen's own output is differentiated again (the helper it
    # writes).
    "numpy.unbroadcast": "only in generated code",
    "numpy.spread_back": "only in generated code",
    # The helper lgamma's and gamma's derivatives write: likewise.
    "digamma": "only in generated code",
    # The rank-generic product helpers (products whose ranks are unknown): likewise.
    "numpy.matmul_dx": "only in generated code",
    "numpy.matmul_dy": "only in generated code",
    "numpy.dot_dx": "only in generated code",
    "numpy.dot_dy": "only in generated code",
    # The helpers np.tile's and np.take_along_axis's gradients call: likewise.
    "numpy.untile": "only in generated code",
    "numpy.put_along_axis": "only in generated code",
    # The helper np.diag's gradient of a matrix (or of an operand of unknown rank) calls.
    "numpy.undiag": "only in generated code",
}
# Rows users reach, with templates met only in generated code: tensordot's for an axis
# count written as an expression (its gradients contract `np.ndim(y) - 2` axes).
AGAIN: dict[str, str] = {"numpy.tensordot": "axes an int expression"}

NP = "import numpy as np"
MATH = "import math"


@dataclass(frozen=True)
class U:
    """A uniform random array of `shape` in [lo, hi)."""

    shape: tuple[int, ...]
    lo: float = -1.0
    hi: float = 1.0


@dataclass(frozen=True)
class Case:
    rule: str
    label: str
    source: str
    args: tuple[Any, ...]
    bug: str | None = None  # a known bug: the case is a strict xfail until it is fixed
    may_refuse: bool = False  # a clear CodegenError is an acceptable answer too
    held: tuple[str, ...] = ()  # parameters that rightly get no gradient

    @property
    def id(self) -> str:
        return f"{self.rule}[{self.label}]" if self.label else self.rule

    def arguments(self) -> list[Any]:
        out: list[Any] = []
        for i, spec in enumerate(self.args):
            if isinstance(spec, U):
                out.append(np.random.default_rng(i + 1).uniform(spec.lo, spec.hi, size=spec.shape))
            elif isinstance(spec, list):
                out.append(list(spec))
            elif isinstance(spec, np.ndarray):
                out.append(spec.copy())
            else:
                out.append(float(spec))
        return out


# Known bugs (strict xfails: a fix makes them fail until the mark is dropped).

CASES: list[Case] = []
_PARAMS = ("x", "y", "z", "w")


def case(
    rule: str,
    label: str,
    body: str,
    *args: Any,
    params: str | None = None,
    imports: str = NP,
    bug: str | None = None,
    may_refuse: bool = False,
    held: str = "",
) -> None:
    """Add a case: `def f(params): body` under `imports`; params default to x, y, ..."""
    names = params if params is not None else ", ".join(_PARAMS[: len(args)])
    code = textwrap.indent(textwrap.dedent(body).strip(), "    ")
    source = f"{imports}\n\n\ndef f({names}):\n{code}\n"
    CASES.append(Case(rule, label, source, tuple(args), bug, may_refuse, tuple(held.split())))


# ---- Python operators on floats ------------------------------------------------
case("add", "", "return x + y", 0.7, -1.3, imports=MATH)
case("add", "const", "return 2.0 + x", 0.7, imports=MATH)
case("sub", "", "return x - y", 0.7, -1.3, imports=MATH)
case("sub", "const-left", "return 2.0 - x", 0.7, imports=MATH)
case("mul", "", "return x * y", 0.7, -1.3, imports=MATH)
case("mul", "const", "return x * 3.0", 0.7, imports=MATH)
case("mul.self", "", "return x * x", -0.7, imports=MATH)
case("mul.self", "augmented", "x *= x\nreturn x", 1.3, imports=MATH)
case("div", "", "return x / y", 0.7, -1.3, imports=MATH)
case("div", "const-numerator", "return 2.0 / x", 0.7, imports=MATH)
case("pow", "", "return x ** y", 1.7, 0.6, imports=MATH)
case("pow", "const-exponent", "return x ** 3", -1.3, imports=MATH)
case("pow", "const-base", "return 2.0 ** x", 0.7, imports=MATH)
case("pow", "builtin", "return pow(x, y)", 1.7, 0.6, imports=MATH)
case("neg", "", "return -x", 0.7, imports=MATH)
case("neg", "of-product", "return -(x * y)", 0.7, 1.1, imports=MATH)
case("pos", "", "return +x", 0.7, imports=MATH)
case("pos", "alias", "y = x\nreturn y", 0.7, imports=MATH)
case("mod", "", "return x % y", 5.3, 2.1, imports=MATH)
case("sigmoid", "math", "return 1 / (1 + math.exp(-z))", 0.3, params="z", imports=MATH)
case("sigmoid", "math,product", "return 1.0 / (1.0 + math.exp(-w * x))", 0.8, -0.6, params="w, x", imports=MATH)
case("numpy.sigmoid", "", "return 1 / (1 + np.exp(-z))", U((4,)), params="z")
# In a numpy module the operator rows have array twins, which broadcast afterwards.
case("numpy.neg", "then-broadcast", "return -x + y", U((2, 3)), U((3,)))
case("numpy.neg", "inside-elementwise", "return np.exp(-x) * y", U((2, 3)), U((2, 3)))
case("numpy.pos", "then-broadcast", "return +x + y", U((2, 3)), U((3,)))
case("numpy.pos", "alias,then-broadcast", "z = x\nreturn z + y", U((2, 3)), U((3,)))
case("numpy.sigmoid", "then-broadcast", "return 1 / (1 + np.exp(-z)) + y", U((2, 3)), U((3,)), params="z, y")
case("numpy.sigmoid", "exp-first", "return 1.0 / (np.exp(-z) + 1.0)", U((2, 3)), params="z")
case("numpy.normalize", "", "return e / np.sum(e, axis=1, keepdims=True)", U((2, 3), 0.5, 1.5), params="e")
case("numpy.normalize", "all", "return e / np.sum(e)", U((4,), 0.5, 1.5), params="e")
case("numpy.normalize.exp", "softmax", "e = np.exp(x)\nreturn e / np.sum(e, axis=0, keepdims=True)", U((3, 2)))
case("numpy.log_softmax", "", "return x - np.log(np.sum(np.exp(x), axis=1, keepdims=True))", U((2, 3)))
case("numpy.log_softmax", "all", "return x - np.log(np.sum(np.exp(x)))", U((4,)))
case("numpy.log_softmax", "last-axis", "return x - np.log(np.sum(np.exp(x), axis=-1, keepdims=True))", U((2, 3, 2)))
case("numpy.normalize.exp", "last-axis", "e = np.exp(x)\nreturn e / np.sum(e, axis=-1, keepdims=True)", U((2, 3)))
# The same over statements, in place too (codegen/lower/softmax.py), and their cross-entropies.
case("numpy.normalize.staged", "", "t = e.sum(axis=1, keepdims=True)\nreturn e / t", U((2, 3), 0.5, 1.5), params="e")
case("numpy.normalize.staged.exp", "in-place", "p = np.exp(x)\np /= p.sum(axis=0, keepdims=True)\nreturn p", U((3, 2)))
case("numpy.normalize.staged", "sum-read-again", "t = np.sum(e, axis=1, keepdims=True)\np = e / t\nreturn p + t", U((2, 3), 0.5, 1.5), params="e")
case("numpy.normalize.staged.exp", "two-exps", "return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)", U((2, 3)))
case("numpy.log_softmax.staged", "", "z = np.sum(np.exp(x), axis=1, keepdims=True)\nreturn x - np.log(z)", U((2, 3)))
case("numpy.log_softmax.staged", "sum-read-again", "z = np.sum(np.exp(x), axis=-1, keepdims=True)\nlp = x - np.log(z)\nreturn lp * z", U((2, 3)))
_PICKED = "N = x.shape[0]\n"
case("numpy.softmax_nll", "", _PICKED + "p = np.exp(x)\np /= np.sum(p, axis=1, keepdims=True)\nreturn -np.sum(np.log(p[np.arange(N), y]))", U((3, 4)), [0, 3, 1], held="y", params='x, y: "N"')
case("numpy.softmax_nll", "3d", _PICKED + "e = np.exp(x)\np = e / np.sum(e, axis=1, keepdims=True)\nreturn -np.sum(np.log(p[np.arange(N), y])) * 2.0", U((3, 4, 2)), [0, 3, 1], held="y", params='x, y: "N"')
case("numpy.softmax_log_pick", "", _PICKED + "e = np.exp(x)\np = e / np.sum(e, axis=1, keepdims=True)\nreturn np.sum(np.log(p[np.arange(N), y]) * np.array([1.0, -2.0, 0.5]))", U((3, 4)), [0, 3, 1], held="y", params='x, y: "N"')
case("numpy.softmax_log_pick", "3d", _PICKED + "e = np.exp(x)\np = e / np.sum(e, axis=1, keepdims=True)\nreturn np.sum(np.log(p[np.arange(N), y]) * np.array([1.0, -2.0]))", U((3, 4, 2)), [0, 3, 1], held="y", params='x, y: "N"')
case("numpy.log_softmax_nll", "", _PICKED + "lp = x - np.log(np.sum(np.exp(x), axis=1, keepdims=True))\nreturn -np.sum(lp[range(N), y]) / N", U((3, 4)), [0, 3, 1], held="y", params='x, y: "N"')
case("numpy.log_softmax_nll", "mean", "lp = x - np.log(np.sum(np.exp(x), axis=1, keepdims=True))\nreturn -np.mean(lp[np.arange(len(x)), y])", U((3, 4)), [2, 2, 0], held="y", params='x, y: "N"')
case("numpy.log_softmax_nll", "probs-read-again", "n = len(x)\nz = np.sum(np.exp(x), axis=1, keepdims=True)\nlp = x - np.log(z)\nreturn -np.sum(lp[np.arange(n), y]) + np.sum(lp * lp)", U((3, 4)), np.array([2, 0, 1]), held="y", params='x, y: "N"')
# Cross-entropies whose labels the kinds leave unproved vectors: a column, or a list.
case("numpy.softmax_nll.picks", "column", _PICKED + "p = np.exp(x)\np /= np.sum(p, axis=1, keepdims=True)\nreturn -np.sum(np.log(p[np.arange(N), y]))", U((3, 4)), np.array([[0], [3], [1]]), held="y")
case("numpy.softmax_nll.picks", "list", _PICKED + "p = np.exp(x)\np /= np.sum(p, axis=1, keepdims=True)\nreturn -np.sum(np.log(p[np.arange(N), y]))", U((3, 4)), [0, 3, 3], held="y")
case("numpy.log_softmax_nll.picks", "column", _PICKED + "lp = x - np.log(np.sum(np.exp(x), axis=1, keepdims=True))\nreturn -np.sum(lp[np.arange(N), y]) / N", U((3, 4)), np.array([[2], [0], [2]]), held="y")
case("numpy.log_softmax_nll.picks", "list", _PICKED + "lp = x - np.log(np.sum(np.exp(x), axis=1, keepdims=True))\nreturn -np.sum(lp[np.arange(N), y]) / N", U((3, 4)), [2, 0, 1], held="y")
# One class: every probability is 1 and the gradient 0; the rows are counted by the only column.
case("numpy.softmax_nll.picks", "one-class", _PICKED + "p = np.exp(x)\np /= np.sum(p, axis=1, keepdims=True)\nreturn -np.sum(np.log(p[np.arange(N), y]))", U((3, 1)), [0, 0, 0], held="y")
case("numpy.log_softmax_nll.picks", "one-class", _PICKED + "lp = x - np.log(np.sum(np.exp(x), axis=1, keepdims=True))\nreturn -np.sum(lp[np.arange(N), y]) / N", U((3, 1)), [0, 0, 0], held="y")
case("numpy.add.n", "", "return x + y + z", U((2, 3)), U((3,)), U((2, 1)))
case("numpy.add.n", "four-with-a-constant", "return x.dot(y) + 1.0 + z + x[:, :1]", U((2, 3)), U((3, 2)), U((2,)))
case("numpy.add.n", "grouped", "return (x + y) + z * 2", U((3,)), U((2, 3)), U((1, 3)))
_SHIFT = "s = x - np.max(x, axis=1, keepdims=True)\n"
case("numpy.sub.shift", "log-softmax", _SHIFT + "return s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))", U((2, 3)))
case("numpy.sub.shift", "softmax", _SHIFT + "e = np.exp(s)\nreturn e / np.sum(e, axis=1, keepdims=True)", U((2, 3)))
case("numpy.sub.shift", "constant-shift", "s = x - np.max(x)\nz = np.sum(np.exp(s), axis=0, keepdims=True)\nreturn s - np.log(z)", U((2, 3)))
# The maximum keeps its gradient where the shift is not only a softmax's.
case("numpy.sub", "shift-also-returned", _SHIFT + "e = np.exp(s)\nreturn e / np.sum(e, axis=1, keepdims=True) + s", U((2, 3)))
case(
    "numpy.sub",
    "shift-along-another-axis",
    "s = x - np.max(x, axis=0, keepdims=True)\nreturn s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))",
    U((2, 3)),
)
case("numpy.sub", "shift-then-exp-used", _SHIFT + "e = np.exp(s)\nreturn e / np.sum(e, axis=1, keepdims=True) * e", U((2, 3)))

# ---- builtins -----------------------------------------------------------------
case("abs", "positive", "return abs(x)", 0.7, imports=MATH)
case("abs", "negative", "return abs(x)", -0.7, imports=MATH)
case("max", "first", "return max(x, y)", 0.9, 0.2, imports=MATH)
case("max", "second", "return max(x, y)", 0.2, 0.9, imports=MATH)
case("max", "const", "return max(x, 0.0)", 0.9, imports=MATH)
case("min", "first", "return min(x, y)", 0.2, 0.9, imports=MATH)
case("min", "second", "return min(x, y)", 0.9, 0.2, imports=MATH)
case("float", "", "return float(x) * y", 0.7, 1.3, imports=MATH)

# ---- math -----------------------------------------------------------------------
# (row, argument values): each inside the domain, away from kinks.
_MATH: list[tuple[str, tuple[float, ...]]] = [
    ("exp", (0.3,)),
    ("expm1", (0.3,)),
    ("exp2", (0.7,)),
    ("log", (1.7,)),
    ("log1p", (0.4,)),
    ("log2", (1.7,)),
    ("log10", (1.7,)),
    ("sqrt", (1.7,)),
    ("cbrt", (1.7,)),
    ("cbrt", (-2.3,)),
    ("pow", (1.7, 2.3)),
    ("sin", (0.4,)),
    ("cos", (0.4,)),
    ("tan", (0.4,)),
    ("asin", (0.3,)),
    ("acos", (0.3,)),
    ("atan", (0.7,)),
    ("atan2", (0.7, -1.2)),
    ("sinh", (0.4,)),
    ("cosh", (0.4,)),
    ("tanh", (0.4,)),
    ("asinh", (0.6,)),
    ("acosh", (1.7,)),
    ("atanh", (0.3,)),
    ("hypot", (0.7, -1.2)),
    ("erf", (0.4,)),
    ("erfc", (0.4,)),
    ("lgamma", (2.7,)),
    ("lgamma", (0.4,)),
    ("gamma", (2.7,)),
    ("gamma", (-1.5,)),
    ("fabs", (-0.7,)),
    ("fabs", (0.7,)),
    ("degrees", (0.7,)),
    ("radians", (40.0,)),
    ("copysign", (0.7, -1.0)),
    ("copysign", (-0.7, 2.0)),
]
_seen: set[str] = set()
for _name, _values in _MATH:
    _label = "" if _name not in _seen else f"x={_values[0]}"
    _seen.add(_name)
    _call = f"math.{_name}({', '.join(_PARAMS[: len(_values)])})"
    _held = "y" if _name == "copysign" else ""  # only the sign of y matters
    case(f"math.{_name}", _label, f"return {_call}", *_values, imports=MATH, held=_held)
case("math.logb", "", "return math.log(x, y)", 1.7, 3.0, imports=MATH)
case("math.logb", "const-base", "return math.log(x, 2)", 1.7, imports=MATH)
case("math.sqrt", "star-import", "return sqrt(x * x + y) * pi + fabs(x)", 0.7, 1.3, imports="from math import *")
case("math.exp", "local-alias", "exp = math.exp\nreturn exp(x * y)", 0.7, 1.3, imports=MATH)
case("math.exp", "from-import", "return exp(x)", 0.3, imports="from math import exp")

# ---- numpy operators, with broadcasting --------------------------------------------
# (label, shape of x, shape of y): () is a Python float.
_BROADCAST = [
    ("same", (2, 3), (2, 3)),
    ("(3,4)+(4,)", (3, 4), (4,)),
    ("(3,1)+(1,4)", (3, 1), (1, 4)),
    ("(3,4)+float", (3, 4), ()),
    ("float+(3,4)", (), (3, 4)),
    ("(2,3,4)+(3,1)", (2, 3, 4), (3, 1)),
    ("(1,3)+(3,)", (1, 3), (3,)),
    ("(2,1,3)+(1,4,3)", (2, 1, 3), (1, 4, 3)),
    ("(1,1)+(2,3)", (1, 1), (2, 3)),
]


def _spec(shape: tuple[int, ...], lo: float, hi: float) -> Any:
    return 0.5 * (lo + hi) + 0.1 if shape == () else U(shape, lo, hi)


for _row, _op, _lo, _hi in [
    ("numpy.add", "+", -1.0, 1.0),
    ("numpy.sub", "-", -1.0, 1.0),
    ("numpy.mul", "*", -1.0, 1.0),
    ("numpy.div", "/", 0.5, 1.5),
]:
    for _label, _xs, _ys in _BROADCAST:
        case(_row, _label.replace("+", _op), f"return x {_op} y", _spec(_xs, _lo, _hi), _spec(_ys, _lo, _hi))
case("numpy.add", "const", "return x + 1.0", U((2, 3)))
case("numpy.add", "np.add", "return np.add(x, y)", U((2, 3)), U((3,)))
case("numpy.add", "augmented", "z = 2.0 * x\nz += y\nreturn z", U((2, 3)), U((2, 3)))
case("numpy.add", "fan-out", "return x + x * y", U((2, 3)), U((3,)))
case("numpy.sub", "keepdims-reduction", "return x - np.max(x, axis=1, keepdims=True)", U((2, 3)))
case("numpy.sub", "np.subtract", "return np.subtract(x, y)", U((2, 3)), U((2, 1)))
case("numpy.sub", "augmented", "z = 2.0 * x\nz -= y\nreturn z", U((2, 3)), U((3,)))
case("numpy.mul", "np.multiply", "return np.multiply(x, y)", U((2, 3)), U((3,)))
case("numpy.mul", "const", "return 3.0 * x", U((2, 3)))
# A gather with a repeated index: both reads of x[0] add into dx[0] (np.add.at).
case("numpy.mul", "repeated-gather", "return x[[0, 0, 2]] * y", U((3,)), U((3,)))
case("numpy.div", "np.divide", "return np.divide(x, y)", U((2, 3)), U((3,), 0.5, 1.5))
case("numpy.div", "const-numerator", "return 2.0 / x", U((2, 3), 0.5, 1.5))
case("numpy.div", "by-reduction", "return x / np.sum(x, axis=0)", U((2, 3), 0.5, 1.5))
case("numpy.mul.self", "", "return x * x", U((2, 3)))
case("numpy.pow", "", "return x ** y", U((2, 3), 0.5, 1.5), U((2, 3)))
case("numpy.pow", "broadcast", "return x ** y", U((2, 3), 0.5, 1.5), U((3,)))
case("numpy.pow", "const-exponent", "return x ** 3", U((2, 3)))
case("numpy.pow", "const-base", "return 2.0 ** x", U((2, 3)))
case("numpy.pow", "float-base", "return y ** x", U((2, 3)), 1.7)
# x ** 0 at x = 0: the gradient is 0, not 0 * 0 ** -1 (a silent NaN in polynomial features)
case("numpy.pow", "zero-base-zero-exponent", "return x ** np.arange(3.0)", np.array([0.0, 0.5, 2.0]))
case("numpy.power", "zero-base-zero-exponent", "return np.power(x, np.arange(3.0))", np.array([0.0, 0.5, 2.0]))
# 0 ** y is 0 for every y > 0: its gradient for y is 0, not 0 * log(0) (NaN)
case("numpy.pow", "zero-base,exponent", "return np.abs(x) ** y", np.array([0.0, 0.5, -1.5]), U((3,), 1.5, 2.5))
case("numpy.power", "zero-base,exponent", "return np.power(np.abs(x), y)", np.array([0.0, 0.5, -1.5]), U((3,), 1.5, 2.5))
case("numpy.mod", "", "return x % y", np.array([5.3, 7.1, 3.5]), np.array([2.0, 3.0, 1.5]))
case("numpy.mod", "const", "return x % 2.0", np.array([5.3, 7.1, 3.5]))
case("numpy.mod", "np.mod", "return np.mod(x, y)", np.array([5.3, 7.1, 3.5]), np.array([2.0, 3.0, 1.5]))
case("numpy.neg", "unary-minus", "return -x", U((2, 3)))
case("numpy.neg", "np.negative", "return np.negative(x)", U((2, 3)))
case("numpy.pos", "", "return +x", U((2, 3)))

# ---- numpy products -------------------------------------------------------------------
case("numpy.matmul", "2d@2d", "return x @ y", U((2, 3)), U((3, 4)))
case("numpy.matmul", "np.matmul", "return np.matmul(x, y)", U((2, 3)), U((3, 4)))
case("numpy.matmul", "2d@1d", "return x @ y", U((2, 3)), U((3,)))
case("numpy.matmul", "1d@2d", "return x @ y", U((3,)), U((3, 4)))
case("numpy.matmul", "1d@1d", "return x @ y", U((3,)), U((3,)))
case("numpy.matmul", "3d@2d", "return x @ y", U((2, 2, 3)), U((3, 4)))
case("numpy.matmul", "batched", "return x @ y", U((2, 2, 3)), U((2, 3, 4)))
case("numpy.matmul", "annotated,2d@1d", "return x @ y", U((2, 3)), U((3,)), params='x: "N D", y: "D"')
case("numpy.matmul", "annotated,1d@2d", "return x @ y", U((3,)), U((3, 4)), params='x: "D", y: "D M"')
case("numpy.matmul", "annotated,1d@1d", "return x @ y", U((3,)), U((3,)), params='x: "D", y: "D"')
case("numpy.matmul", "annotated,2d@2d", "return x @ y", U((2, 3)), U((3, 4)), params='x: "N D", y: "D M"')
case("numpy.matmul", "shape-unpacked", "N, D = x.shape\nM = y.shape[1]\nreturn x @ y", U((2, 3)), U((3, 4)))
case("numpy.dot", "annotated,2d.1d", "return np.dot(x, y)", U((2, 3)), U((3,)), params='x: "N D", y: "D"')
case("numpy.matmul", "chain", "return x @ y @ z", U((2, 3)), U((3, 4)), U((4, 2)))
case("numpy.dot", "2d.2d", "return np.dot(x, y)", U((2, 3)), U((3, 4)))
case("numpy.dot", "method", "return x.dot(y)", U((2, 3)), U((3, 4)))
case("numpy.dot", "2d.1d", "return np.dot(x, y)", U((2, 3)), U((3,)))
case("numpy.dot", "1d.1d", "return np.dot(x, y)", U((3,)), U((3,)))
# Ranks unknown: vectors, matrices and stacks of any mix (a helper in the output).
case("numpy.matmul", "2d@3d", "return x @ y", U((2, 3)), U((2, 3, 4)))
case("numpy.matmul", "1d@3d", "return x @ y", U((3,)), U((2, 3, 4)))
case("numpy.matmul", "3d@1d", "return x @ y", U((2, 2, 3)), U((3,)))
case("numpy.matmul", "broadcast-stacks", "return x @ y", U((1, 2, 3)), U((2, 3, 4)))
case("numpy.matmul", "annotated,3d@2d", "return x @ y", U((2, 2, 3)), U((3, 4)), params='x: "B N D", y: "D M"')
case("numpy.dot", "1d.2d", "return np.dot(x, y)", U((3,)), U((3, 4)))
case("numpy.dot", "3d.2d", "return np.dot(x, y)", U((2, 2, 3)), U((3, 4)))
case("numpy.dot", "2d.3d", "return np.dot(x, y)", U((2, 3)), U((2, 3, 4)))
case("numpy.dot", "3d.1d", "return np.dot(x, y)", U((2, 2, 3)), U((3,)))
case("numpy.dot", "scalar.1d", "return np.dot(x, y)", 0.7, U((3,)))
case("numpy.dot", "vector-method-in-a-row-loop", "t = 0.0\nfor i in range(2):\n    t = t + np.sum(np.tanh(x[i].dot(y)))\nreturn t", U((2, 3)), U((3, 4)))
case("numpy.outer", "", "return np.outer(x, y)", U((3,)), U((4,)))
case("numpy.outer", "2d-operands", "return np.outer(x, y)", U((2, 2)), U((3,)))
case("numpy.outer", "2d-second-operand", "return np.outer(x, y)", U((3,)), U((2, 2)))
case("numpy.inner", "", "return np.inner(x, y)", U((3,)), U((3,)))
case("numpy.inner", "2d-operands", "return np.inner(x, y)", U((2, 3)), U((4, 3)))
case("numpy.inner", "vector-matrix", "return np.inner(x, y)", U((3,)), U((2, 3)))
case("numpy.inner", "matrix-vector", "return np.inner(x, y)", U((2, 3)), U((3,)))
case("numpy.inner", "square-mixed", "return np.inner(x, y)", U((3,)), U((3, 3)))
case("numpy.inner", "3d-matrix", "return np.inner(x, y)", U((2, 2, 3)), U((4, 3)))
case("numpy.inner", "annotated-vector-matrix", "return np.inner(x, y)", U((3,)), U((2, 3)), params='x: "K", y: "M K"')
case("numpy.inner", "annotated-matrix-vector", "return np.inner(x, y)", U((2, 3)), U((3,)), params='x: "N K", y: "K"')
case("numpy.inner", "annotated-matrices", "return np.inner(x, y)", U((2, 3)), U((4, 3)), params='x: "N K", y: "M K"')

# ---- numpy elementwise functions ----------------------------------------------------
_POS = (0.5, 2.0)
_UNIT = (-0.8, 0.8)
_ELEMENTWISE: list[tuple[str, tuple[float, float]]] = [
    ("exp", (-1.0, 1.0)),
    ("exp2", (-1.0, 1.0)),
    ("expm1", (-1.0, 1.0)),
    ("log", _POS),
    ("log1p", _POS),
    ("log2", _POS),
    ("log10", _POS),
    ("sqrt", _POS),
    ("cbrt", (-2.0, 2.0)),
    ("square", (-1.0, 1.0)),
    ("reciprocal", _POS),
    ("sin", (-1.0, 1.0)),
    ("cos", (-1.0, 1.0)),
    ("tan", (-1.0, 1.0)),
    ("arcsin", _UNIT),
    ("arccos", _UNIT),
    ("arctan", (-2.0, 2.0)),
    ("sinh", (-1.0, 1.0)),
    ("cosh", (-1.0, 1.0)),
    ("tanh", (-1.0, 1.0)),
    ("arcsinh", (-2.0, 2.0)),
    ("arccosh", (1.2, 3.0)),
    ("arctanh", _UNIT),
    ("abs", (-1.0, 1.0)),
]
for _name, (_lo, _hi) in _ELEMENTWISE:
    case(f"numpy.{_name}", "", f"return np.{_name}(x)", U((2, 3), _lo, _hi))
case("numpy.exp", "import-numpy", "return numpy.exp(x)", U((3,)), imports="import numpy")
case("numpy.exp", "from-import", "return exp(x)", U((3,)), imports="from numpy import exp")
case("numpy.exp", "star-import", "return exp(x) * pi + sum(tanh(x))", U((3,)), imports="from numpy import *")
case("numpy.tanh", "local-alias", "tanh = np.tanh\nreturn tanh(x) * y", U((3,)), U((3,)))
case("numpy.sqrt", "local-aliases", "sqrt, tanh = np.sqrt, np.tanh\nreturn sqrt(tanh(x) + 2.0)", U((3,)))
case("numpy.cos", "local-alias-rebound", "f = np.sin\nf = np.cos\nreturn f(x)", U((3,)))
case("numpy.exp", "of-sum", "return np.exp(x + y)", U((2, 3)), U((3,)))
case("numpy.log", "of-product", "return np.log(x * y)", U((2, 3), *_POS), U((3,), *_POS))
case("numpy.sqrt", "scalar-param", "return np.sqrt(x)", 1.7)
case("numpy.arcsin", "np.asin", "return np.asin(x)", U((3,), *_UNIT))
case("numpy.arccos", "np.acos", "return np.acos(x)", U((3,), *_UNIT))
case("numpy.arctan", "np.atan", "return np.atan(x)", U((3,)))
case("numpy.abs", "builtin", "return abs(x)", U((2, 3)))
case("numpy.abs", "np.absolute", "return np.absolute(x)", U((2, 3)))
case("numpy.arctan2", "", "return np.arctan2(y, x)", U((2, 3)), U((2, 3)), params="y, x")
case("numpy.arctan2", "broadcast", "return np.arctan2(y, x)", U((2, 3)), U((3,), 0.5, 1.5), params="y, x")
case("numpy.arctan2", "np.atan2", "return np.atan2(y, x)", U((3,)), U((3,)), params="y, x")
case("numpy.hypot", "", "return np.hypot(x, y)", U((2, 3)), U((2, 3)))
case("numpy.hypot", "broadcast", "return np.hypot(x, y)", U((2, 3)), U((2, 1)))
case("numpy.power", "", "return np.power(x, y)", U((2, 3), *_POS), U((2, 3)))
case("numpy.power", "const-exponent", "return np.power(x, 3)", U((2, 3)))
case("numpy.power", "scalar-exponent-param", "return np.power(x, p)", U((2, 3), *_POS), 1.7, params="x, p")
case("numpy.power", "np.pow", "return np.pow(x, y)", U((3,), *_POS), U((3,)))
case("numpy.maximum", "", "return np.maximum(x, y)", U((2, 3)), U((2, 3)))
case("numpy.maximum", "broadcast", "return np.maximum(x, y)", U((2, 3)), U((3,)))
case("numpy.minimum", "", "return np.minimum(x, y)", U((2, 3)), U((2, 3)))
case("numpy.minimum", "broadcast", "return np.minimum(x, y)", U((2, 3)), U((2, 1)))
case("numpy.maximum", "scalar-param", "return np.maximum(x, s)", U((2, 3)), 0.1, params="x, s")
# At a tie central differences give half the gradient to each side: the even split.
_TIED = (np.array([0.3, -0.5, 0.8]), np.array([0.3, 0.1, 0.8]))
case("numpy.maximum", "ties", "return np.maximum(x, y)", *_TIED)
case("numpy.minimum", "ties", "return np.minimum(x, y)", *_TIED)
case("numpy.maximum.const", "relu", "return np.maximum(0, x)", U((2, 3)))
case("numpy.maximum.const", "const-second", "return np.maximum(x, 0.25)", U((2, 3)))
case("numpy.maximum.const", "of-affine", "return np.maximum(x @ y + z, 0.0)", U((2, 3)), U((3, 4)), U((4,)))
case("numpy.minimum.const", "", "return np.minimum(x, 0.25)", U((2, 3)))
case("numpy.minimum.const", "const-first", "return np.minimum(1.0, 2.0 * x)", U((2, 3)))
case("numpy.where", "", "return np.where(x > y, x, y)", U((2, 3)), U((2, 3)))
case("numpy.where", "const-branch", "return np.where(x > 0, x, 0.0)", U((2, 3)))
case("numpy.where", "scalar-param", "return np.where(x > 0, x, s)", U((2, 3)), 0.3, params="x, s")
case("numpy.where", "broadcast", "return np.where(x > 0, x * y, y)", U((2, 3)), U((3,)))
case("numpy.clip", "", "return np.clip(x, -0.5, 0.5)", U((2, 3)))
case("numpy.clip", "method", "return x.clip(-0.5, 0.5)", U((2, 3)))
case("numpy.clip", "hi=None", "return np.clip(x, -0.5, None)", U((2, 3)))
case("numpy.clip", "keywords", "return np.clip(x, a_min=-0.5, a_max=0.5)", U((2, 3)))
case("numpy.clip", "of-expression", "return np.clip(x * y, -0.2, 0.3)", U((2, 3)), U((3,)))
# numpy's keywords min and max, and a bound left out or None, by the same row.
case("numpy.clip", "method-min", "return x.clip(min=-0.2) * y", U((2, 3)), U((2, 3)))
case("numpy.clip", "method-max", "return x.clip(max=0.3) * y", U((2, 3)), U((2, 3)))
case("numpy.clip", "method-min-max", "return x.clip(min=-0.2, max=0.3) * y", U((2, 3)), U((2, 3)))
case("numpy.clip", "lo=None", "return np.clip(x, None, 0.3) * y", U((2, 3)), U((2, 3)))
case("numpy.clip", "np-max-keyword", "return np.clip(x, max=0.3) * y", U((2, 3)), U((2, 3)))
case("numpy.clip", "list", "return np.sum(np.clip(w, -0.5, None) ** 2)", [0.3, -0.8, 1.1], params="w")
# Stable forms exp(a - out), exp2(a - out): large operands neither overflow nor lose the gradient.
case("numpy.logaddexp", "", "return np.logaddexp(x, y)", U((2, 3)), U((2, 3)))
case("numpy.logaddexp", "broadcast", "return np.logaddexp(x, y)", U((2, 3)), U((3,)))
case("numpy.logaddexp", "scalar-param", "return np.logaddexp(x, s)", U((2, 3)), 0.4, params="x, s")
case("numpy.logaddexp", "large", "return np.logaddexp(x, y)", U((3,), 700.0, 710.0), U((3,), 700.0, 710.0))
case("numpy.logaddexp", "numbers", "return np.logaddexp(x, y) * 2.0", 0.3, -1.2)
case("numpy.logaddexp", "list", "return np.sum(np.logaddexp(w, x))", [0.3, -0.8, 1.1], U((2, 3)), params="w, x")
case("numpy.logaddexp2", "", "return np.logaddexp2(x, y)", U((2, 3)), U((2, 3)))
case("numpy.logaddexp2", "broadcast", "return np.logaddexp2(x, y)", U((2, 1)), U((2, 3)))
case("numpy.logaddexp2", "large", "return np.logaddexp2(x, y)", U((3,), 1000.0, 1010.0), U((3,), 1000.0, 1010.0))

# ---- numpy reductions -----------------------------------------------------------------
# (label, call with FN for the function name, shape of x); "method" rows use x.FN(...).
_REDUCE = [
    ("", "np.FN(x)", (2, 3)),
    ("axis=0", "np.FN(x, axis=0)", (2, 3)),
    ("axis=1", "np.FN(x, axis=1)", (2, 3)),
    ("axis=-1", "np.FN(x, axis=-1)", (2, 3)),
    ("axis=(0,1)", "np.FN(x, axis=(0, 1))", (2, 3)),
    ("axis=(0,2),3d", "np.FN(x, axis=(0, 2))", (2, 3, 2)),
    ("axis=1,3d", "np.FN(x, axis=1)", (2, 3, 2)),
    ("axis=1,keepdims", "np.FN(x, axis=1, keepdims=True)", (2, 3)),
    ("axis=0,keepdims=False", "np.FN(x, axis=0, keepdims=False)", (2, 3)),
    ("keepdims", "np.FN(x, keepdims=True)", (2, 3)),
    ("axis=(0,2),keepdims", "np.FN(x, axis=(0, 2), keepdims=True)", (2, 3, 2)),
    ("positional-axis", "np.FN(x, 1)", (2, 3)),
    ("1d", "np.FN(x)", (4,)),
    ("method", "x.FN()", (2, 3)),
    ("method,axis=1", "x.FN(axis=1)", (2, 3)),
    ("method,axis=0,keepdims", "x.FN(axis=0, keepdims=True)", (2, 3)),
    ("method,positional-axis", "x.FN(-1)", (2, 3)),
]
for _name in ("sum", "mean", "prod", "max", "min", "var", "std"):
    _lo, _hi = (0.5, 1.5) if _name == "prod" else (-1.0, 1.0)
    for _label, _call, _shape in _REDUCE:
        case(f"numpy.{_name}", _label, f"return {_call.replace('FN', _name)}", U(_shape, _lo, _hi))
case("numpy.sum", "of-expression", "return np.sum(x * y, axis=1)", U((2, 3)), U((3,)))
case("numpy.sum", "of-sum", "return np.sum(np.sum(x, axis=0))", U((2, 3)))
case("numpy.mean", "from-import", "return mean(x, axis=0)", U((2, 3)), imports="from numpy import mean")
case("numpy.sum", "axis-variable", "a = 1\nreturn np.sum(x, axis=a)", U((2, 3)))
case("numpy.mean", "axis-variable", "a = 1\nreturn np.mean(x, axis=a)", U((2, 3)))
case("numpy.mean", "axis-variable,keepdims", "a = 0\nreturn np.mean(x, axis=a, keepdims=True)", U((2, 3)))
case("numpy.prod", "a-zero-element", "return np.prod(x)", np.array([0.0, 2.0, 3.0]))
case("numpy.prod", "zeros-along-an-axis", "return np.prod(x * 1.0, axis=1)", np.array([[0.0, 2.0, 3.0], [1.5, 0.0, 0.0]]))
case(
    "numpy.prod",
    "from-import",
    "return prod(x, axis=1)",
    U((2, 3), 0.5, 1.5),
    imports="from numpy import prod",
)
# Tied maxima share the gradient evenly (central differences agree: half each).
case("numpy.max", "ties", "return np.max(x)", np.array([0.3, 0.8, 0.8]))
case("numpy.max", "ties,axis=1", "return np.max(x, axis=1)", np.array([[0.3, 0.8, 0.8], [0.5, 0.1, 0.5]]))
case("numpy.min", "ties", "return np.min(x)", np.array([0.3, 0.3, 0.8]))
case("numpy.min", "ties,axis=0", "return np.min(x, axis=0)", np.array([[0.3, 0.8, 0.1], [0.3, 0.1, 0.5]]))
case("numpy.max", "np.amax", "return np.amax(x, axis=1)", U((2, 3)))
case("numpy.min", "np.amin", "return np.amin(x, axis=0)", U((2, 3)))
case("numpy.std", "standardise", "return (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)", U((2, 3)))
# ddof: the squares divided by count - ddof (sample variance), with axis and keepdims.
case("numpy.std", "ddof=1", "return np.std(x, ddof=1)", U((5,)))
case("numpy.std", "ddof=1,axis=0", "return np.std(x, axis=0, ddof=1) * y", U((4, 3)), U((3,)))
case("numpy.std", "ddof,keepdims", "return (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True, ddof=1)", U((2, 4)))
case("numpy.std", "ddof=0", "return x.std(axis=-1, ddof=0)", U((2, 3)))
case("numpy.var", "ddof=1", "return x.var(ddof=1)", U((2, 3)))
case("numpy.var", "ddof=2,axis=1,keepdims", "return np.var(x, axis=1, keepdims=True, ddof=2) * x", U((2, 4)))
case("numpy.var", "ddof=1,axis=None", "return np.var(x, axis=None, ddof=1) + np.sum(y * x)", U((3, 2)), U((3, 2)))
for _label, _call, _shape in [
    ("", "np.linalg.norm(x)", (4,)),
    ("2d", "np.linalg.norm(x)", (2, 3)),
    ("axis=0", "np.linalg.norm(x, axis=0)", (2, 3)),
    ("axis=1", "np.linalg.norm(x, axis=1)", (2, 3)),
    ("axis=-1,keepdims", "np.linalg.norm(x, axis=-1, keepdims=True)", (2, 3)),
    ("keepdims", "np.linalg.norm(x, keepdims=True)", (2, 3)),
    ("axis=(0,1)", "np.linalg.norm(x, axis=(0, 1))", (2, 3)),
]:
    case("numpy.linalg.norm", _label, f"return {_call}", U(_shape))
case(
    "numpy.linalg.norm",
    "from-import",
    "return norm(x, axis=1)",
    U((2, 3)),
    imports="from numpy.linalg import norm",
)
case("numpy.linalg.norm", "positional-ord", "return np.linalg.norm(x, 1)", U((4,)), may_refuse=True)
case(
    "numpy.linalg.norm",
    "positional-ord,axis",
    "return np.linalg.norm(x, 2, 1)",
    U((2, 3)),
    may_refuse=True,
)

case("numpy.sumsq", "product", "return np.sum(x * x)", U((2, 3)))
case("numpy.sumsq", "power", "return np.sum(x ** 2) * y", U((3,)), 0.7)
case("numpy.sumsq", "method", "return (x * x).sum() + (y ** 2).sum()", U((2, 2)), U((3,)))

case("numpy.mT", "", "return x.mT * y", U((2, 3)), U((3, 2)))
case("numpy.mT", "stack", "return np.sum(x.mT * y)", U((2, 2, 3)), U((3, 2)))

# ---- numpy shapes ---------------------------------------------------------------------
case("numpy.reshape", "", "return np.reshape(x, (3, 2))", U((2, 3)))
case("numpy.reshape", "method", "return x.reshape(3, 2)", U((2, 3)))
case("numpy.reshape", "method,tuple", "return x.reshape((3, 2))", U((2, 3)))
case("numpy.reshape", "method,-1", "return x.reshape(-1)", U((2, 3)))
case("numpy.reshape", "shape-arithmetic", "n = x.shape[0]\nreturn x.reshape(n, -1) * y", U((2, 3, 2)), U((6,)))
case("numpy.reshape", "keyword", "return np.reshape(x, shape=(3, 2))", U((2, 3)))
case("numpy.ravel", "", "return np.ravel(x)", U((2, 3)))
case("numpy.ravel", "method", "return x.ravel()", U((2, 3)))
case("numpy.ravel", "flatten", "return x.flatten()", U((2, 3)))
case("numpy.squeeze", "", "return np.squeeze(x)", U((1, 3, 1)))
case("numpy.squeeze", "axis=0", "return np.squeeze(x, axis=0)", U((1, 3, 1)))
case("numpy.squeeze", "method", "return x.squeeze()", U((1, 3)))
case("numpy.squeeze", "method,positional-axis", "return x.squeeze(2)", U((1, 3, 1)))
case("numpy.expand_dims", "", "return np.expand_dims(x, 0)", U((2, 3)))
case("numpy.expand_dims", "axis=-1", "return np.expand_dims(x, axis=-1)", U((2, 3)))
case("numpy.expand_dims", "broadcast-after", "return np.expand_dims(x, 1) * y", U((2, 3)), U((4, 3)))
case("numpy.transpose", "", "return np.transpose(x)", U((2, 3)))
case("numpy.transpose", "3d", "return np.transpose(x)", U((2, 3, 4)))
case("numpy.transpose", "method", "return x.transpose()", U((2, 3)))
case("numpy.transpose.axes", "", "return np.transpose(x, (2, 0, 1))", U((2, 3, 4)))
case("numpy.transpose.axes", "method", "return x.transpose(2, 0, 1)", U((2, 3, 4)))
case("numpy.transpose.axes", "method,tuple", "return x.transpose((1, 2, 0))", U((2, 3, 4)))
case("numpy.transpose.axes", "keyword", "return np.transpose(x, axes=(2, 0, 1))", U((2, 3, 4)))
case("numpy.T", "", "return x.T", U((2, 3)))
case("numpy.T", "3d", "return x.T", U((2, 3, 4)))
case("numpy.T", "in-product", "return x.T @ y", U((3, 2)), U((3, 4)))
case("numpy.swapaxes", "", "return np.swapaxes(x, 0, 2)", U((2, 3, 4)))
case("numpy.swapaxes", "method", "return x.swapaxes(0, 1)", U((2, 3)))
case("numpy.swapaxes", "keywords", "return np.swapaxes(x, axis1=1, axis2=0)", U((2, 3)))
case("numpy.copy", "", "return np.copy(x)", U((2, 3)))
case("numpy.broadcast_to", "", "return np.broadcast_to(x, (2, 3)) * y", U((3,)), U((2, 3)))
case("numpy.tolist", "", "return np.sum(np.array(x.tolist()) ** 2)", U((2, 3)))
case("numpy.tolist", "indexed", "t = x.tolist()\nreturn t[0] * t[2]", U((3,)))
case("numpy.copy", "method", "return x.copy() * y", U((2, 3)), U((2, 3)))
case("numpy.float", "astype", "return x.astype(float)", U((2, 3)))
case("numpy.float64", "", "y = np.float64(x) * 2.0\nreturn y * y", 0.7)
case("numpy.float64", "np.double", "return np.sin(np.double(x)) * y", 0.7, U((3,)))
case("numpy.float64", "of-array", "return np.float64(x) * y", U((2, 3)), U((2, 3)))
case("float", "numpy-imported", "return float(x) ** 3", 0.7, imports=f"{MATH}\n{NP}")
# np.diag both ways: a vector's matrix, a matrix's diagonal, with the offset k, of
# square and non-square matrices (whose gradient is of their shape, not np.diag's square).
case("numpy.diag", "vector", "return np.diag(x) @ y", U((3,)), U((3, 2)))
case("numpy.diag", "vector-k", "return np.diag(x, 1) * y", U((2,)), U((3, 3)))
case("numpy.diag", "vector-k=-2", "return np.diag(x, k=-2) * y", U((2,)), U((4, 4)))
case("numpy.diag", "annotated-vector", "return np.diag(x) * y", U((3,)), U((3, 3)), params='x: "N", y')
case("numpy.diag", "matrix", "return np.diag(x) * y", U((3, 3)), U((3,)))
case("numpy.diag", "matrix-k", "return np.diag(x, k=1) * y", U((3, 3)), U((2,)))
case("numpy.diag", "matrix-k=-1", "return np.diag(x, -1) * y", U((3, 3)), U((2,)))
case("numpy.diag", "wide", "return np.diag(x) * y", U((2, 4)), U((2,)))
case("numpy.diag", "tall", "return np.diag(x) * y", U((4, 2)), U((2,)))
case("numpy.diag", "wide-k", "return np.diag(x, k=1) * y", U((2, 4)), U((2,)))
case("numpy.diag", "tall-k", "return np.diag(x, k=1) * y", U((4, 2)), U((1,)))
case("numpy.diag", "tall-k=-1", "return np.diag(x, k=-1) * y", U((4, 2)), U((2,)))
case("numpy.diag", "annotated-matrix", "return np.diag(x) * y", U((2, 4)), U((2,)), params='x: "N M", y')
case("numpy.diag", "list", "return np.sum(np.diag(w) ** 2)", [0.3, -0.8, 1.1], params="w")
# np.polyval(p, x): p a vector or a list, x a number or an array of any rank.
case("numpy.polyval", "", "return np.polyval(x, y)", U((3,)), U((4,)))
case("numpy.polyval", "number", "return np.polyval(x, y)", U((4,)), 0.7)
case("numpy.polyval", "matrix", "return np.polyval(x, y)", U((3,)), U((2, 3)))
case("numpy.polyval", "constant", "return np.polyval(x, y)", U((1,)), U((3,)))
case("numpy.polyval", "list", "return np.polyval(w, y)", [0.3, -0.8, 1.1], U((3,)), params="w, y")
case("numpy.polyval", "literal-list", "return np.polyval([1.0, x, 2.0], y)", 0.3, U((3,)))
case("numpy.polyval", "at-zero", "return np.polyval(x, y)", U((3,)), np.array([0.0, 0.5]))
case("numpy.vander", "", "return np.vander(x, 3) * y", U((4,)), U((4, 3)))
case("numpy.vander", "at-zero", "return np.vander(x, 4) * y", np.array([0.0, 0.7]), U((2, 4)))
case("numpy.vander", "N=1", "return np.vander(x, 1) * y + x[:, None]", U((3,)), U((3, 1)))
case("numpy.polyder", "", "return np.polyder(x) * y", U((4,)), U((3,)))
case("numpy.polyder", "constant", "return np.sum(np.polyder(x)) + np.sum(x)", U((1,)))
case("numpy.asarray", "", "return np.asarray(x) * y", U((2, 3)), U((2, 3)))
case("numpy.array", "", "return np.array(x) * y", U((2, 3)), U((2, 3)))
case(
    "numpy.asarray",
    "of-list",
    "return np.sum(np.asarray(w) ** 2)",
    [0.3, -0.8, 1.1],
    params="w: list",
)
case("numpy.asarray", "of-unannotated-list", "return np.sum(np.asarray(w) ** 2)", [0.3, -0.8, 1.1], params="w")
case("numpy.asarray", "of-an-array-unannotated", "return np.sum(np.asarray(w) ** 2)", U((3,)), params="w")
case(
    "numpy.array",
    "of-list",
    "return np.sum(np.array(w) ** 2)",
    [0.3, -0.8, 1.1],
    params="w: list",
)


# ---- numpy: joining and contracting -------------------------------------------------
case("numpy.concatenate", "", "return np.concatenate([x, y])", U((2,)), U((3,)))
case("numpy.concatenate", "axis=1", "return np.concatenate([x, y], axis=1)", U((2, 3)), U((2, 1)))
case("numpy.concatenate", "axis=-1,3d", "return np.concatenate([x, y], axis=-1)", U((2, 2, 3)), U((2, 2, 1)))
# Three along the last axis, each longer than the axis before it: a slice bound
# read from the wrong operand or axis shows (a stop past the end would not).
case("numpy.concatenate", "axis=-1,three", "return np.concatenate([x, y, z], axis=-1)", U((2, 1, 2)), U((2, 1, 3)), U((2, 1, 4)))
case("numpy.concatenate", "positional-axis", "return np.concatenate([x, y], 0)", U((1, 3)), U((2, 3)))
case("numpy.concatenate", "tuple,three", "return np.concatenate((x, y, z))", U((2,)), U((1,)), U((3,)))
case("numpy.concatenate", "same-twice", "return np.concatenate([x, x * y])", U((2,)), U((2,)))
case("numpy.concatenate", "with-constant", "return np.concatenate([x, np.ones(2)]) * y", U((3,)), U((5,)))
case("numpy.concatenate", "np.concat", "return np.concat([x, y], axis=1)", U((2, 1)), U((2, 2)))
case("numpy.stack", "", "return np.stack([x, y])", U((3,)), U((3,)))
case("numpy.stack", "axis=1", "return np.stack([x, y], axis=1)", U((2, 3)), U((2, 3)))
case("numpy.stack", "axis=-1,three", "return np.stack((x, y, z), axis=-1)", U((2,)), U((2,)), U((2,)))
case("numpy.stack", "of-expressions", "return np.stack([x * y, np.exp(x)])", U((3,)), U((3,)))
# vstack: a vector is a row, a matrix its rows; hstack: vectors end to end, matrices
# along axis 1. Ranks known (annotated) or not, numbers among vectors too.
case("numpy.vstack", "vectors", "return np.vstack([x, y])", U((3,)), U((3,)))
case("numpy.vstack", "matrices", "return np.vstack((x, y * y))", U((2, 3)), U((1, 3)))
case("numpy.vstack", "mixed", "return np.vstack([x, y, np.exp(z)])", U((2, 3)), U((3,)), U((3, 3)))
case("numpy.vstack", "annotated", "return np.vstack([x, y, x * 2])", U((2, 3)), U((3,)), params='x: "N D", y: "D"')
case("numpy.vstack", "annotated-3d", "return np.vstack([x, y])", U((1, 2, 2)), U((2, 2, 2)), params='x: "A B C", y: "E B C"')
case("numpy.hstack", "vectors", "return np.hstack([x, y])", U((2,)), U((3,)))
case("numpy.hstack", "matrices", "return np.hstack((x, np.sin(y)))", U((2, 3)), U((2, 1)))
case("numpy.hstack", "with-number", "return np.hstack([x, 1.0, y * 2])", U((2,)), U((3,)))
case("numpy.hstack", "annotated", "return np.hstack([x, y])", U((2, 2)), U((2, 3)), params='x: "N A", y: "N B"')
case("numpy.hstack", "annotated-vectors", "return np.hstack([x, y, x])", U((2,)), U((3,)), params='x: "A", y: "B"')
case("numpy.hstack", "number-first", "return np.hstack([2.0, x]) * y", U((3,)), U((4,)))
# Operands whose shapes tell the forms apart: numbers, unannotated or not (a slice of one
# is not a number), stacks of three axes (joined along axis 1, not the last), every
# operand of a different length, and a number after a slice (where its end matters).
case("numpy.vstack", "numbers", "return np.vstack([x, y, z])", 0.3, -0.5, 1.2)
case("numpy.vstack", "annotated,four", "return np.vstack([x, y, z, y])", U((2, 3)), U((3,)), U((3, 3)), params='x: "N D", y: "D", z: "M D"')
case("numpy.hstack", "numbers", "return np.hstack([x, y])", 0.3, -0.5)
case("numpy.hstack", "3d", "return np.hstack([x, np.exp(y)])", U((2, 2, 3)), U((2, 1, 3)))
case("numpy.hstack", "number-first,scalar", "return np.hstack([2.0, x, y]) * z", 0.6, -0.3, U((3,)), params="x, y: float, z")
case("numpy.hstack", "annotated-number-first", "return np.hstack([x, y])", 0.4, U((3,)), params="x: float, y")
case("numpy.hstack", "annotated-number-second", "return np.hstack([x, y, z, w])", 0.2, -0.7, 1.1, 0.4, params="x, y: float, z, w: float")
case("numpy.hstack", "annotated-vectors,three", "return np.hstack([x, y, z])", U((2,)), U((3,)), U((4,)), params='x: "A", y: "B", z: "C"')
case("numpy.einsum", "ij,jk->ik", 'return np.einsum("ij,jk->ik", x, y)', U((2, 3)), U((3, 4)))
case("numpy.einsum", "implicit-output", 'return np.einsum("ij,jk", x, y)', U((2, 3)), U((3, 4)))
case("numpy.einsum", "i,i->", 'return np.einsum("i,i->", x, y)', U((3,)), U((3,)))
case("numpy.einsum", "ij->", 'return np.einsum("ij->", x)', U((2, 3)))
case("numpy.einsum", "ij->i", 'return np.einsum("ij->i", x)', U((2, 3)))
case("numpy.einsum", "ij->ji", 'return np.einsum("ij->ji", x)', U((2, 3)))
case("numpy.einsum", "i,j->ij", 'return np.einsum("i,j->ij", x, y)', U((2,)), U((3,)))
case("numpy.einsum", "bij,bjk->bik", 'return np.einsum("bij,bjk->bik", x, y)', U((2, 2, 3)), U((2, 3, 2)))
case("numpy.einsum", "ij,j->i", 'return np.einsum("ij,j->i", x, y)', U((2, 3)), U((3,)))
case("numpy.einsum", "ij,ij,j->i", 'return np.einsum("ij,ij,j->i", x, y, z)', U((2, 3)), U((2, 3)), U((3,)))
case("numpy.einsum", "spaces", 'return np.einsum("ij, jk -> ik", x, y)', U((2, 3)), U((3, 2)))
case("numpy.einsum", "ii->trace", 'return np.einsum("ii->", x)', U((3, 3)))
case("numpy.einsum", "ii-implicit", 'return np.einsum("ii", x)', U((3, 3)))
case("numpy.einsum", "ii->i", 'return np.einsum("ii->i", x) * y', U((3, 3)), U((3,)))
case("numpy.einsum", "iij,j->i", 'return np.einsum("iij,j->i", x, y)', U((3, 3, 2)), U((2,)))
case("numpy.einsum", "jij->ji", 'return np.einsum("jij->ji", x)', U((2, 3, 2)))
case("numpy.einsum", "repeated-operand", 'return np.einsum("ij,ij->", x, x)', U((2, 3)))
# Two operands that may broadcast along a shared label (one operand, above, cannot).
case("numpy.einsum", "ij,ij->", 'return np.einsum("ij,ij->", x, y)', U((2, 3)), U((2, 3)))
case("numpy.einsum", "ij,ij->,broadcast", 'return np.einsum("ij,ij->", x, y)', U((2, 1)), U((2, 3)))
case("numpy.einsum", "repeated-operand,ij,jk", 'return np.einsum("ij,jk->ik", x, x)', U((3, 3)))
case("numpy.einsum", "...ij,...jk->...ik", 'return np.einsum("...ij,...jk->...ik", x, y)', U((2, 2, 3)), U((3, 2)))
case("numpy.einsum", "...ij,...jk,broadcast", 'return np.einsum("...ij,...jk->...ik", x, y)', U((4, 1, 2, 3)), U((2, 3, 2)))
case("numpy.einsum", "...-implicit", 'return np.einsum("...ij,...j", x, y)', U((2, 2, 3)), U((4, 1, 3)))
case("numpy.einsum", "i...j,j->...", 'return np.einsum("i...j,j->...", x, y)', U((2, 4, 3)), U((3,)))
case("numpy.einsum", "i...,...->i...,broadcast", 'return np.einsum("i...,...->i...", x, y)', U((2, 3)), U((4, 1)))
case("numpy.einsum", "...-dropped", 'return np.einsum("...ij->ij", x)', U((2, 3)))
case("numpy.einsum", "optimize", 'return np.einsum("ij,jk,kl->il", x, y, z, optimize=True)', U((2, 3)), U((3, 4)), U((4, 2)))
# A label of size 1 in one operand broadcast against the other's: each operand's gradient
# summed back along it (`_unbroadcast`), the operand of size 1 in turn the first and the second.
_SIZE_ONE = [
    ("i,i->", (1,), (3,)),
    ("i,i->", (3,), (1,)),
    ("ij,ij->", (1, 3), (2, 1)),
    ("ij,j->i", (2, 1), (3,)),
    ("ij,j->i", (2, 3), (1,)),
    ("ij,jk->ik", (2, 3), (1, 2)),
    ("ij,jk->ik", (2, 1), (3, 2)),
    ("bij,bjk->bik", (2, 2, 1), (1, 3, 2)),
    ("iij,j->i", (2, 2, 1), (3,)),
    ("iij,j->i", (2, 2, 3), (1,)),
    ("i...j,j->...", (2, 3, 1), (2,)),
]
for _spec_text, _xs, _ys in _SIZE_ONE:
    case("numpy.einsum", f"{_spec_text},size-1{_xs}", f'return np.einsum("{_spec_text}", x, y)', U(_xs), U(_ys))
case("numpy.einsum", "ij,ij,j->i,size-1", 'return np.einsum("ij,ij,j->i", x, y, z)', U((2, 1)), U((1, 3)), U((1,)))
case("numpy.einsum", "ij,jk,kl->il,size-1", 'return np.einsum("ij,jk,kl->il", x, y, z, optimize=True)', U((2, 3)), U((1, 4)), U((1, 2)))

# ---- numpy: reordering, repeating, padding, running sums -------------------------------
case("numpy.flip", "", "return np.flip(x) * y", U((2, 3)), U((2, 3)))
case("numpy.flip", "axis=1", "return np.flip(x, axis=1) * y", U((2, 3)), U((2, 3)))
case("numpy.flip", "positional-axis", "return np.flip(x, 0) * y", U((2, 3)), U((2, 3)))
case("numpy.moveaxis", "", "return np.moveaxis(x, 0, -1) * y", U((2, 3, 4)), U((3, 4, 2)))
case("numpy.moveaxis", "lists", "return np.moveaxis(x, [0, 1], [2, 0]) * y", U((2, 3, 4)), U((3, 4, 2)))
case("numpy.rollaxis", "", "return np.rollaxis(x, 2) * y", U((2, 3, 4)), U((4, 2, 3)))
case("numpy.rollaxis", "negative-axis", "return np.rollaxis(x, -1) * y", U((2, 3, 4)), U((4, 2, 3)))
case("numpy.rollaxis", "start", "return np.rollaxis(x, 0, 3) * y", U((2, 3, 4)), U((3, 4, 2)))
case("numpy.rollaxis", "start-before", "return np.rollaxis(x, 2, 1) * y", U((2, 3, 4)), U((2, 4, 3)))
case("numpy.rollaxis", "negative-axis,start", "return np.rollaxis(x, -1, 1) * y", U((2, 3, 4)), U((2, 4, 3)))
# The same rollaxis on fewer dimensions: the start is then at or past the axis.
case("numpy.rollaxis", "negative-axis,start,2d", "return np.rollaxis(x, -1, 1) * y", U((2, 3)), U((2, 3)))
case("numpy.rollaxis", "negative-axis,start,1d", "return np.rollaxis(x, -1, 1) * y", U((3,)), U((3,)))
case("numpy.rollaxis", "start-after", "return np.rollaxis(x, -3, 2) * y", U((2, 3, 4)), U((3, 2, 4)))
# Five axes: the start (2) is then at or before the axis (-3 is 2), the other branch.
case("numpy.rollaxis", "start-after,5d", "return np.rollaxis(x, -3, 2) * y", U((1, 2, 2, 2, 1)), U((1, 2, 2, 2, 1)))
for _k, _shape, _out in ((1, (), (1,)), (2, (3,), (1, 3)), (3, (2, 3), (2, 3, 1))):
    _x = 0.7 if _shape == () else U(_shape)
    case(f"numpy.atleast_{_k}d", "", f"return np.sum(np.atleast_{_k}d(x) * y)", _x, U(_out))
    case(f"numpy.atleast_{_k}d", "already", f"return np.atleast_{_k}d(x) * y", U((2,) * _k), U((2,) * _k))
case("numpy.tile", "", "return np.tile(x, 3) * y", U((2,)), U((6,)))
case("numpy.tile", "2d-reps", "return np.tile(x, (2, 1)) * y", U((3,)), U((2, 3)))
case("numpy.tile", "matrix", "return np.tile(x, (2, 3)) * y", U((2, 2)), U((4, 6)))
case("numpy.tile", "fewer-reps", "return np.tile(x, 2) * y", U((2, 3)), U((2, 6)))
case("numpy.repeat", "", "return np.repeat(x, 3) * y", U((2, 2)), U((12,)))
case("numpy.repeat", "axis=0", "return np.repeat(x, 2, axis=0) * y", U((2, 3)), U((4, 3)))
case("numpy.repeat", "axis=1", "return np.repeat(x, 2, axis=1) * y", U((2, 3)), U((2, 6)))
case("numpy.repeat", "axis=-1", "return np.repeat(x, 2, axis=-1) * y", U((2, 3)), U((2, 6)))
case("numpy.repeat", "axis=-2,3d", "return np.repeat(x, 2, axis=-2) * y", U((2, 3, 2)), U((2, 6, 2)))
case("numpy.repeat", "axis=1,3d", "return np.repeat(x, 2, axis=1) * y", U((2, 2, 3)), U((2, 4, 3)))
case("numpy.repeat", "method", "return x.repeat(2, axis=0) * y", U((2, 3)), U((4, 3)))
case("numpy.repeat", "list-of-repeats", "return np.repeat(x, [1, 2]) * y", U((2,)), U((3,)), may_refuse=True)
case("numpy.pad", "", "return np.pad(x, 1) * y", U((2, 3)), U((4, 5)))
case("numpy.pad", "pair", "return np.pad(x, (1, 2)) * y", U((2, 3)), U((5, 6)))
case("numpy.pad", "per-axis", "return np.pad(x, ((1, 0), (0, 2))) * y", U((2, 3)), U((3, 5)))
case("numpy.pad", "per-axis,list", "return np.pad(x, [(0, 0), (2, 2)]) * y", U((2, 3)), U((2, 7)))
case("numpy.pad", "constant", 'return np.pad(x, 1, mode="constant", constant_values=0.5) * y', U((3,)), U((5,)))
case("numpy.pad", "width-variable", "p = 2\nreturn np.pad(x, p) * y", U((3,)), U((7,)))
case("numpy.pad", "width-variable,2d", "p = 2\nreturn np.pad(x, p) * y", U((2, 3)), U((6, 7)))
case("numpy.pad", "width-expression,2d", "p = 1\nreturn np.pad(x, p + 1) * y", U((2, 3)), U((6, 7)))
case("numpy.pad", "zero-width-variable", "p = 0\nreturn np.pad(x, p) * y", U((3,)), U((3,)))
case("numpy.pad", "per-axis,variables", "p = 1\nq = 2\nreturn np.pad(x, ((0, 0), (p, q))) * y", U((2, 3)), U((2, 6)))
case("numpy.pad", "per-axis,zero-variable", "p = 0\nreturn np.pad(x, ((p, p), (1, p))) * y", U((2, 3)), U((2, 4)))
case("numpy.pad", "per-axis,single", "p = 1\nreturn np.pad(x, ((p,), (2,))) * y", U((2, 3)), U((4, 7)))
case("numpy.pad", "edge", 'return np.pad(x, 1, mode="edge") * y', U((3,)), U((5,)), may_refuse=True)
case("numpy.cumsum", "", "return np.cumsum(x) * y", U((2, 3)), U((6,)))
case("numpy.cumsum", "axis=0", "return np.cumsum(x, axis=0) * y", U((3, 2)), U((3, 2)))
case("numpy.cumsum", "axis=-1", "return np.cumsum(x, axis=-1) * y", U((3, 2)), U((3, 2)))
case("numpy.cumsum", "method", "return x.cumsum(1) * y", U((3, 2)), U((3, 2)))
case("numpy.diff", "", "return np.diff(x) * y", U((4,)), U((3,)))
case("numpy.trace", "", "return np.trace(x)", U((3, 3)))
case("numpy.trace", "product", "return np.trace(x @ y)", U((2, 3)), U((3, 2)))
case("numpy.trace", "annotated", "return np.trace(x) * np.trace(x.T @ x)", U((3, 3)), params='x: "N N"')
case("numpy.trace", "offset", "return np.trace(x, offset=1) + np.trace(x, -1)", U((3, 4)))
case("numpy.trace", "method", "return x.trace() ** 2", U((2, 2)))
case("numpy.trace", "stack", "return np.trace(x) * y", U((2, 2, 3)), U((3,)))
case("numpy.trace", "stack,offset", "return np.trace(x, offset=1) * y", U((2, 3, 4)), U((4,)))
case("numpy.diff", "axis=0", "return np.diff(x, axis=0) * y", U((4, 3)), U((3, 3)))
case("numpy.diff", "2d", "return np.diff(x) * y", U((2, 4)), U((2, 3)))
case("numpy.diff", "n=2", "return np.diff(x, n=2) * y", U((4,)), U((2,)), may_refuse=True)
case("numpy.diff", "prepend", "return np.diff(x, prepend=0.5) * y", U((4,)), U((4,)))
case("numpy.diff", "append,axis=0", "return np.diff(x, axis=0, append=1) * y", U((3, 2)), U((3, 2)))
case("numpy.diff", "both-ends", "return np.diff(x, prepend=0, append=0) * y", U((3,)), U((4,)))
case("numpy.take_along_axis", "", "return np.take_along_axis(x, np.argsort(y, axis=1), axis=1) * y", U((2, 3)), U((2, 3)))
case("numpy.take_along_axis", "labels", "return np.take_along_axis(x, np.array([[0], [2]]), 1)", U((2, 3)))
case("numpy.take_along_axis", "repeated", "return np.take_along_axis(x, np.array([[0, 0, 1]]), axis=1)", U((2, 3)))
case("numpy.take_along_axis", "axis=None", "return np.take_along_axis(x, np.array([3, 0, 3]), axis=None)", U((2, 3)))
case("numpy.sort", "", "return np.sort(x) * y", U((2, 4)), U((2, 4)))
case("numpy.sort", "axis=0", "return np.sort(x, axis=0) * y", U((3, 2)), U((3, 2)))
case("numpy.sort", "axis=None", "return np.sort(x, axis=None) * y", U((3, 2)), U((6,)))
case("numpy.tensordot", "", "return np.tensordot(x, y)", U((2, 3, 4)), U((3, 4, 2)))
case("numpy.tensordot", "axes=1", "return np.tensordot(x, y, axes=1)", U((2, 3)), U((3, 4)))
# Operands of other ranks: each template's axis lists depend on them.
case("numpy.tensordot", "4d-by-3d", "return np.tensordot(x, y)", U((2, 2, 3, 4)), U((3, 4, 2)))
case("numpy.tensordot", "2d-by-3d", "return np.tensordot(x, y)", U((3, 4)), U((3, 4, 2)))
case("numpy.tensordot", "3d-by-2d", "return np.tensordot(x, y)", U((2, 3, 4)), U((3, 4)))
case("numpy.tensordot", "axes=1,3d", "return np.tensordot(x, y, axes=1)", U((2, 3, 4)), U((4, 2, 3)))
case("numpy.tensordot", "axes=3", "return np.tensordot(x, y, axes=3)", U((2, 2, 3, 4)), U((2, 3, 4, 3)))
case("numpy.tensordot", "axes=0", "return np.tensordot(x, y, 0)", U((2,)), U((3,)))
case("numpy.tensordot", "pair", "return np.tensordot(x, y, axes=([1, 0], [0, 2]))", U((2, 3, 4)), U((3, 4, 2)))
case("numpy.tensordot", "pair-of-ints", "return np.tensordot(x, y, axes=(0, 1))", U((3, 2)), U((4, 3)))
# Contracted axes in the middle: the moves are no longer the identity.
case("numpy.tensordot", "pair,middle", "return np.tensordot(x, y, axes=([1, 2], [0, 1]))", U((2, 3, 4, 2)), U((3, 4, 2)))
case("numpy.tensordot", "pair-of-ints,3d", "return np.tensordot(x, y, axes=(0, 1))", U((3, 2)), U((4, 3, 2)))
# The axis count a generated backward names (tests/cases/numpy_arrays.py's contract).
case("numpy.tensordot", "named-count", "ndim_y_minus_2 = np.ndim(y) - 2\nreturn np.tensordot(x, y, ndim_y_minus_2)", U((2, 4, 3)), U((3, 4, 2)))
case("numpy.tensordot", "named-count,x", "ndim_x_minus_2 = np.ndim(x) - 2\nreturn np.tensordot(x, y, ndim_x_minus_2)", U((2, 4, 3)), U((3, 4, 2)))
case("numpy.tensordot", "negative", "return np.tensordot(x, y, axes=([-1], [0])) * z", U((2, 3)), U((3, 4)), U((2, 4)))

# ---- numpy.linalg ---------------------------------------------------------------------
_SPD = np.array([[2.0, 0.3, -0.2], [0.1, 1.5, 0.4], [-0.3, 0.2, 1.8]])
case("numpy.linalg.det", "", "return np.linalg.det(x)", _SPD)
case("numpy.linalg.det", "annotated", "return np.linalg.det(x) ** 2", _SPD, params='x: "N N"')
case("numpy.linalg.det", "stack", "return np.linalg.det(x) * y", np.stack([_SPD, _SPD.T]), U((2,)))
case("numpy.linalg.det", "from-import", "return det(x)", _SPD, imports="from numpy.linalg import det")
case("numpy.linalg.inv", "", "return np.linalg.inv(x) * y", _SPD, U((3, 3)))
case("numpy.linalg.inv", "annotated", "return np.linalg.inv(x) @ y", _SPD, U((3,)), params='x: "N N", y: "N"')
case("numpy.linalg.solve", "vector", "return np.linalg.solve(x, y)", _SPD, U((3,)))
case("numpy.linalg.solve", "matrix", "return np.linalg.solve(x, y)", _SPD, U((3, 2)))
case("numpy.linalg.solve", "annotated", "return np.linalg.solve(x, y)", _SPD, U((3,)), params='x: "N N", y: "N"')
case("numpy.linalg.solve", "annotated-matrix", "return np.linalg.solve(x, y)", _SPD, U((3, 2)), params='x: "N N", y: "N K"')
# Only the matrix annotated: the rank of y is known at run time alone.
case("numpy.linalg.solve", "matrix-annotated", "return np.linalg.solve(x, y)", _SPD, U((3,)), params='x: "N N", y')
case("numpy.linalg.solve", "matrix-annotated,matrix", "return np.linalg.solve(x, y)", _SPD, U((3, 2)), params='x: "N N", y')
case("numpy.linalg.slogdet", "", "sign, logdet = np.linalg.slogdet(x)\nreturn sign * logdet", _SPD)
case("numpy.linalg.slogdet", "indexed", "return np.linalg.slogdet(x)[1] * y", _SPD, 0.7)
case("numpy.linalg.slogdet", "negative-det", "s, l = np.linalg.slogdet(x)\nreturn l", -_SPD)
case("numpy.linalg.slogdet", "annotated", "s, l = np.linalg.slogdet(x)\nreturn l", _SPD, params='x: "N N"')
case("numpy.linalg.slogdet", "stack", "s, l = np.linalg.slogdet(x)\nreturn l * y", np.stack([_SPD, -_SPD.T]), U((2,)))
for _label, _call, _shape in [
    ("ord=1,axis=0", "np.linalg.norm(x, ord=1, axis=0)", (2, 3)),
    ("ord=1,vector", "np.linalg.norm(x, 1)", (4,)),
    ("ord=inf,axis=1", "np.linalg.norm(x, ord=np.inf, axis=1)", (2, 3)),
    ("ord=-inf,axis=1", "np.linalg.norm(x, ord=-np.inf, axis=1)", (2, 3)),
    ("ord=inf,vector", "np.linalg.norm(x, np.inf)", (4,)),
    ("ord=2,axis=-1", "np.linalg.norm(x, 2, -1)", (2, 3)),
    ("ord=3,axis=1,keepdims", "np.linalg.norm(x, ord=3, axis=1, keepdims=True)", (2, 3)),
    ("ord=3,axis=1", "np.linalg.norm(x, ord=3, axis=1)", (2, 3)),
    ("ord=0.5,vector", "np.linalg.norm(x, ord=0.5)", (4,)),
    ("fro", 'np.linalg.norm(x, "fro")', (2, 3)),
    ("fro,axes", 'np.linalg.norm(x, ord="fro", axis=(1, 2))', (2, 2, 3)),
]:
    _params_text = 'x: "N"' if _shape == (4,) else 'x: "N M"' if len(_shape) == 2 and "fro" in _label else None
    case("numpy.linalg.norm", _label, f"return {_call}", U(_shape), params=_params_text)
# Ties for the largest magnitude: the gradient shared among them (central differences agree).
_TIED = np.array([[0.5, -0.5, 0.2], [0.1, 0.7, -0.7]])
case("numpy.linalg.norm", "ord=inf,axis=1,ties", "return np.linalg.norm(x, ord=np.inf, axis=1)", _TIED)
# 'fro' proves a matrix: no annotation needed
case("numpy.linalg.norm", "fro,unknown-rank", 'return np.linalg.norm(x, "fro") * y', U((2, 3)), U((3,)))
case("numpy.linalg.norm", "ord=1,unknown-rank", "return np.linalg.norm(x, ord=1)", U((4,)), may_refuse=True)
case("numpy.linalg.norm", "ord=2,matrix", "return np.linalg.norm(x, ord=2)", U((2, 3)), params='x: "N M"', may_refuse=True)
case("numpy.float", "astype-dtype,copy=False", "return x.astype(x.dtype, copy=False) * y", U((2, 3)), U((2, 3)))
case("numpy.float", "astype-np.float64", "return x.astype(np.float64) * y", U((2, 3)), U((2, 3)))
case("numpy.mul", "astype-int-has-no-gradient", "return x.astype(int) * y", U((2, 3)), U((2, 3)), held="x")
case("numpy.asarray", "dtype", "return np.asarray(x, dtype=float) * y", U((2, 3)), U((2, 3)))
case("numpy.array", "dtype,copy", "return np.array(x, dtype=np.float64, copy=True) * y", U((2, 3)), U((2, 3)))

# ---- list displays ---------------------------------------------------------------------
case("list", "", "b = [1, x * x, 2]\nreturn b[1] * b[0] + math.sin(b[1])", 0.7, imports=MATH)
case("list", "numpy", "v = [1.0, x, 3.0]\nreturn v[1] * v[2] + y", 0.7, 0.3)
case("list", "np.array", "v = np.array([1.0, x, x * y])\nreturn np.sum(v ** 2)", 0.7, 0.3)
case("list", "tuple", "t = (x, 2.0 * y)\nreturn t[0] * t[1]", 0.7, 0.3, imports=MATH)
case("list", "of-arrays", "v = [x, 2.0 * x]\nreturn np.sum(v[0] * v[1])", U((3,)))
case("list", "negative-index", "b = [x, x * y, 3.0]\nreturn b[-2] * b[-1] + b[0]", 0.7, 0.3, imports=MATH)
case("list", "nested,det", "return np.linalg.det(np.array([[x, y], [y, 2.0]]))", 0.7, 0.3)
# Read whole and by element: the two gradients add entry by entry (`+=` would extend the list).
case("list", "whole-and-element", "v = [1.0, x, 3.0]\nreturn np.sum(np.array(v) ** 2) + v[1] * 2", 0.7)
case("list", "in-loop", "b = [x, x * y]\ns = 0.0\nfor i in range(2):\n    s = s + b[i] ** 2\nreturn s", 0.7, 0.3, imports=MATH)
# Lists built with append, read as a whole: the gradient split back into a list.
_APPENDED = "v = []\nfor i in range(3):\n    v.append({value})\n"
case("list.array", "", _APPENDED.format(value="x * (i + 1.0)") + "return np.sum(np.array(v) ** 2)", U((2,)))
case("list.array", "of-numbers", _APPENDED.format(value="x * y[i]") + "return np.sum(np.tanh(np.array(v)))", 0.7, [0.3, -0.4, 1.1])
case("list.asarray", "", _APPENDED.format(value="np.sin(x * i)") + "return np.sum(np.asarray(v) * y)", U((2,)), U((3, 2)))
case("list.stack", "", _APPENDED.format(value="x * y[i]") + "return np.sum(np.stack(v) ** 3)", U((2, 2)), U((3,)))
case("list.stack", "axis=1", _APPENDED.format(value="np.tanh(x * i)") + "return np.sum(np.stack(v, axis=1) * y)", U((2,)), U((2, 3)))
case("list.stack", "axis=-1", _APPENDED.format(value="x * i") + "return np.sum(np.stack(v, axis=-1) ** 2 * y)", U((2, 2)), U((2, 2, 3)))
case("list.concatenate", "", _APPENDED.format(value="x[i:] * y") + "return np.sum(np.concatenate(v) ** 2)", U((4,)), U((1,)))
case("list.concatenate", "axis=1", _APPENDED.format(value="np.exp(x * i)") + "return np.sum(np.concatenate(v, axis=1) ** 2)", U((2, 2)))
# `a + b` of two lists and `a * n` of a list: concatenation and repetition.
case("list.concat", "", "z = x + y\nreturn z[0] * z[3] + math.sin(z[1]) * z[2]", [0.7, -0.3], [0.4, 1.1], imports=MATH, params="x: list[float], y: list[float]")
# Read as an array: the gradient arrives as one, and each part goes back as a list.
case("list.concat", "as-array", "z = x + y\nreturn np.sum(np.array(z) ** 2)", [0.7, -0.3], [0.4, 1.1, 2.0], params="x: list[float], y: list[float]")
case("list.concat", "rotate", "z = x[1:] + x[:1]\nreturn z[0] * z[1] + z[2] * 3.0", [0.7, -0.3, 1.2], imports=MATH, params="x: list[float]")
case("list.repeat", "", "z = x * 3\ns = 0.0\nfor i in range(len(z)):\n    s = s + z[i] * (i + 1.0)\nreturn s", [0.7, -0.3], imports=MATH, params="x: list[float]")
case("list.sum", "", _APPENDED.format(value="math.sin(x * i) * y") + "return sum(v) * y", 0.7, -1.3, imports=MATH)
case("list.sum", "fsum", _APPENDED.format(value="x ** i") + "return math.fsum(v) + v[0] * v[2]", 0.7, imports=MATH)
case("numpy.list.sum", "", _APPENDED.format(value="x * i") + "return np.sum(sum(v) ** 2)", U((3,)))
case("numpy.list.sum", "broadcast", _APPENDED.format(value="x * y[i]") + "return np.sum(sum(v, 0.5) ** 2)", U((2,)), U((3, 1)))
# Elements of different shapes: each one's gradient summed back to its own shape.
case("numpy.list.sum", "shapes", _APPENDED.format(value="x * i if i < 2 else y") + "return np.sum(np.tanh(sum(v)))", U((3,)), U((2, 3)))
case("add", "sum-of-a-list", "return sum([x, y * x, 1.0])", 0.7, 0.3, imports=MATH)

# ---- item assignment into a fresh array ---------------------------------------------
# (the forward must not write into its argument: the check compares arguments after)
case("setitem", "", "z = 2.0 * x\nz[0] = y\nreturn z", U((3,)), 0.7)
case("setitem", "row", "z = 2.0 * x\nz[1] = y\nreturn z", U((2, 3)), U((3,)))
case("setitem", "row,broadcast-value", "z = 2.0 * x\nz[1] = y\nreturn z", U((2, 3)), 0.7)
case("setitem", "column-slice", "z = x * y\nz[:, 1] = np.exp(y[:, 0])\nreturn z", U((2, 3)), U((2, 3)))
case("setitem", "into-zeros", "z = np.zeros((2, 3))\nz[0] = x\nreturn z * y", U((3,)), U((2, 3)))
case("setitem", "two-writes", "z = np.zeros(3)\nz[0] = x * 2.0\nz[2] = y\nreturn np.sum(z ** 2 + z)", 0.4, -0.9)
case("setitem", "augmented", "z = 2.0 * x\nz[1] += y\nreturn z", U((3,)), 0.7)
case("setitem", "augmented,slice", "z = 2.0 * x\nz[:2] *= y\nreturn z", U((3,)), U((2,)))
case("setitem", "read-after", "z = 2.0 * x\nz[0] = y\nreturn z * x", U((3,)), 0.7)
case("setitem", "repeated-index", "z = 2.0 * x\nz[[0, 2, 0]] = y * y\nreturn z * x", U((3,)), U((3,)))
case("add.at", "repeated-index", "z = 2.0 * x\nnp.add.at(z, [0, 2, 0], y * y)\nreturn z * x", U((3,)), U((3,)))
case("add.at", "into-zeros,broadcast-value", "z = np.zeros(4)\nnp.add.at(z, [1, 1, 3], y)\nreturn z * x", U((4,)), 0.7)
case("add.at", "rows", "z = np.zeros((3, 2))\nnp.add.at(z, [2, 0, 2], x)\nreturn np.sin(z) * y", U((3, 2)), U((3, 2)))
case("add.at", "pairs", "z = x.copy()\nnp.add.at(z, ([0, 0, 1], [1, 1, 0]), y)\nreturn z * z", U((2, 2)), U((3,)))
case("add.at", "slice", "z = np.zeros(3)\nnp.add.at(z, slice(0, 2), y)\nreturn z * x", U((3,)), U((2,)))


# ---- rows met only in generated code ---------------------------------------------------
# For each row of UNREACHABLE, a forward whose generated backward calls the helper
# the row is: the backward, differentiated again, is checked like any function.
_PRODUCT = (U((2, 2, 3)), U((3, 4)))  # a stack times a matrix: the rank-generic helpers
_BY_VECTOR = (U((2, 2, 3)), U((3,)))  # a stack times a vector
_BY_STACK = (U((2, 3)), U((2, 2, 3, 2)))  # a matrix times a stack of stacks
# (row, label, imports, body, arguments)
GENERATED: list[tuple[str, str, str, str, tuple[Any, ...]]] = [
    ("numpy.unbroadcast", "", NP, "return np.sum(np.tanh(x + y))", (U((2, 3)), U((3,)))),
    # The broadcast gradient transposed: no later operation broadcasts it again.
    ("numpy.unbroadcast", "transposed", NP, "return np.sum(np.tanh((np.ones((2, 3)) + x).T) * y)", (U((3,)), U((3, 2)))),
    # A full sum of operands of unrelated shapes: the upstream number spread to each.
    ("numpy.spread_back", "", NP, "return np.sum(np.tanh(x) * y)", (U((2, 3)), U((3,)))),
    ("numpy.spread_back", "column", NP, "return np.sum(x - np.sin(y))", (U((2, 1)), U((2, 3)))),
    ("digamma", "", MATH, "return math.lgamma(x) * y", (2.7, 0.4)),
    ("numpy.matmul_dx", "", NP, "return np.sum(np.tanh(x @ y))", _PRODUCT),
    ("numpy.matmul_dy", "", NP, "return np.sum(np.tanh(x @ y))", _PRODUCT),
    ("numpy.matmul_dx", "by-vector", NP, "return np.sum(np.tanh(x @ y))", _BY_VECTOR),
    ("numpy.matmul_dy", "by-vector", NP, "return np.sum(np.tanh(x @ y))", _BY_VECTOR),
    ("numpy.dot_dx", "", NP, "return np.sum(np.tanh(np.dot(x, y)))", _PRODUCT),
    ("numpy.dot_dy", "", NP, "return np.sum(np.tanh(np.dot(x, y)))", _PRODUCT),
    ("numpy.dot_dx", "by-vector", NP, "return np.sum(np.tanh(np.dot(x, y)))", _BY_VECTOR),
    ("numpy.dot_dy", "by-vector", NP, "return np.sum(np.tanh(np.dot(x, y)))", _BY_VECTOR),
    # y a stack: the helpers' tensordot axes counted from np.ndim(y) - 2 are then not empty.
    ("numpy.dot_dx", "by-stack", NP, "return np.sum(np.tanh(np.dot(x, y)))", _BY_STACK),
    ("numpy.dot_dy", "by-stack", NP, "return np.sum(np.tanh(np.dot(x, y)))", _BY_STACK),
    ("numpy.matmul_dx", "by-stack", NP, "return np.sum(np.tanh(x @ y))", _BY_STACK),
    ("numpy.matmul_dy", "by-stack", NP, "return np.sum(np.tanh(x @ y))", _BY_STACK),
    ("numpy.untile", "", NP, "return np.sum(np.tanh(np.tile(x, (2, 1)) * y))", (U((3,)), U((2, 3)))),
    # Tiles along the last axis: a gradient left untiled no longer broadcasts to the tiled shape.
    ("numpy.untile", "last-axis", NP, "return np.sum(np.tanh(np.tile(x, 2)) * y)", (U((3,)), U((6,)))),
    # Each form of axes: the gradients' tensordots contract `np.ndim(y) - n` axes, whose
    # own gradients (differentiated again) take the expression templates.
    ("numpy.tensordot", "", NP, "return np.sum(np.tanh(np.tensordot(x, y)))", (U((2, 3, 4)), U((3, 4, 2)))),
    ("numpy.tensordot", "4d-by-3d", NP, "return np.sum(np.tanh(np.tensordot(x, y)) * z)", (U((2, 2, 3, 4)), U((3, 4, 2)), U((2, 2, 2)))),
    ("numpy.tensordot", "axes=1", NP, "return np.sum(np.tanh(np.tensordot(x, y, axes=1)))", (U((2, 3, 4)), U((4, 2, 3)))),
    ("numpy.tensordot", "axes=3", NP, "return np.sum(np.tanh(np.tensordot(x, y, 3)))", (U((2, 2, 3, 4)), U((2, 3, 4, 3)))),
    ("numpy.tensordot", "axes=0", NP, "return np.sum(np.tanh(np.tensordot(x, y, 0)) * z)", (U((2,)), U((3,)), U((2, 3)))),
    (
        "numpy.tensordot",
        "pair",
        NP,
        "return np.sum(np.tanh(np.tensordot(x, y, axes=([1, 0], [0, 2]))))",
        (U((2, 3, 4)), U((3, 4, 2))),
    ),
    ("numpy.undiag", "", NP, "return np.sum(np.tanh(np.diag(x)) * y)", (U((3, 3)), U((3,)))),
    ("numpy.undiag", "wide-k", NP, "return np.sum(np.tanh(np.diag(x, k=1)) * y)", (U((2, 4)), U((2,)))),
    ("numpy.undiag", "tall-k", NP, "return np.sum(np.tanh(np.diag(x, -1)) * y)", (U((4, 2)), U((2,)))),
    ("numpy.undiag", "vector", NP, "return np.sum(np.tanh(np.diag(x, 1)) * y)", (U((2,)), U((3, 3)))),
    (
        "numpy.put_along_axis",
        "",
        NP,
        "return np.sum(np.tanh(np.take_along_axis(x, np.array([[1, 0], [2, 2]]), axis=1)) * y)",
        (U((2, 3)), U((2, 2))),
    ),
]


# ---- the tests ----------------------------------------------------------------------
def rows_reached(functions: list[ir.Function]) -> set[str]:
    """The names of the rule-table rows that normalised functions use."""

    def walk(node: ir.Node) -> Iterator[str]:
        if isinstance(node, ir.Op):
            yield node.rule.name
            for arg in node.args:
                yield from walk(arg)

    return {name for fn in functions for s in ir.walk(fn.body) if isinstance(s, ir.Stage) for name in walk(s.value)}


@pytest.fixture
def normalised(monkeypatch: pytest.MonkeyPatch) -> list[ir.Function]:
    """Records the functions `codegen.generate` normalises, and skips black: the
    golden tests check formatting, and black would triple this file's run time."""
    seen: list[ir.Function] = []

    def record(*args: Any, **kwargs: Any) -> ir.Function:
        fn = normalise(*args, **kwargs)
        seen.append(fn)
        return fn

    monkeypatch.setattr(pipeline, "normalise", record)
    monkeypatch.setattr(pipeline.fmt, "format_code", lambda code, **options: code)
    return seen


def newer_than_python(c: Case) -> list[Any]:
    """A skip where this Python's math lacks the case's function (exp2, cbrt: 3.11)."""
    module, _, name = c.rule.partition(".")
    if module == "math" and not hasattr(math, name) and f"math.{name}(" in c.source:
        return [pytest.mark.skip(reason=f"math.{name} is newer than this Python")]
    return []


def _params() -> list[Any]:
    params = []
    for c in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=f"bug: {c.bug}")] if c.bug else []
        params.append(pytest.param(c, id=c.id, marks=marks + newer_than_python(c)))
    return params


def test_every_rule_has_a_case() -> None:
    """A row added to RULES without a case here fails: every rule gets a numerical test."""
    covered = {c.rule for c in CASES} | set(UNREACHABLE)
    missing = sorted(set(RULES) - covered)
    assert not missing, f"rows of codegen.ad.rules.RULES without a case in tests/test_rules.py: {missing}"


def test_every_case_names_a_rule() -> None:
    unknown = sorted({c.rule for c in CASES} - set(RULES))
    assert not unknown, f"cases for rows that are not in RULES: {unknown}"
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_unreachable_is_unreachable() -> None:
    assert not {c.rule for c in CASES} & set(UNREACHABLE), "a case reaches a row listed as unreachable"


@pytest.mark.parametrize("c", _params())
def test_rule_gradient(c: Case, normalised: list[ir.Function]) -> None:
    try:
        forward, backward, code = load(c.source)
    except CodegenError:
        if c.may_refuse:
            return
        raise
    reached = rows_reached(normalised)
    assert c.rule in reached, f"the case reaches {sorted(reached)}, not {c.rule}:\n{c.source}"
    differentiable = [p for p in inspect.signature(forward["f"]).parameters if p not in c.held]
    assert gradient_names(backward["f_backward"]) == differentiable
    arguments = c.arguments()
    try:
        gradients = check_gradients(forward["f"], backward["f_backward"], arguments)
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- forward\n{c.source}--- generated\n{code}") from None
    for name, value in zip(inspect.signature(forward["f"]).parameters, arguments):
        if isinstance(value, np.ndarray) and name in gradients:
            # A list of the right length would pass the numbers: an array's gradient is an array.
            assert isinstance(gradients[name], np.ndarray), f"d{name} is a {type(gradients[name]).__name__}"


@pytest.mark.parametrize("generated", GENERATED, ids=[f"{g[0]}[{g[1]}]" if g[1] else g[0] for g in GENERATED])
def test_unreachable_row_in_generated_code(generated: tuple[Any, ...], normalised: list[ir.Function]) -> None:
    """The gradients of a generated backward (reverse over reverse), which reaches its row."""
    row, _, imports, body, args = generated
    names = ", ".join(_PARAMS[: len(args)])
    source = f"{imports}\n\n\ndef f({names}):\n    {body}\n"
    _, backward, code = load(source)
    again = codegen.generate(code, filename="fwd_backward.py", allow_generated=True)
    second: dict[str, Any] = {}
    exec(compile(again, "fwd_backward_backward.py", "exec"), second)  # noqa: S102
    assert row in rows_reached(normalised), sorted(rows_reached(normalised))
    inputs = Case(row, "generated", source, args).arguments()
    try:
        check_gradients(backward["f_backward"], second["f_backward_backward"], inputs)
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- backward\n{code}--- its backward\n{again}") from None


def test_generated_covers_unreachable() -> None:
    assert {g[0] for g in GENERATED} == set(UNREACHABLE) | set(AGAIN)
