"""The derivative rules: one table keyed by operation, one template per argument.

A template is a Python expression for the gradient flowing into one argument.
It may use the argument names of its row, `g` (the upstream gradient), `out`
(the operation's own forward value, reused instead of recomputed), the keyword
parameters the row declares, and the modules `math` and `np`, which are
respelled to the input's own import names.  `None` means "no gradient flows
here" (an index, an exponent held constant, ...).

Rows whose name starts with `numpy.` are elementwise and broadcast: the
differentiator sums each argument's gradient back to that argument's shape.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from codegen.emit import helpers
from codegen.infer.shape_rules import shape_tag

# Names a template may use besides its row's arguments and keywords.
TEMPLATE_GLOBALS = frozenset({"g", "out", "math", "np"}) | helpers.NAMES


@dataclass(frozen=True)
class Rule:
    """How to differentiate one operation.

    `args` are the operands a gradient may flow into; `statics` are further
    positional parameters that never carry one (a shape, an axis); `keywords`
    map keyword parameters to their defaults. `kind` tells the analyses how the
    output's shape relates to the operands': "scalar" (Python numbers),
    "elementwise" (numpy broadcasting), "reduce" (a reduction over `axis`), or
    "other". `shape` is the row's shape tag (`infer.shape_rules.SHAPES`), which the
    shape stages read; rows of kind "other" name theirs. `variadic` rows take
    their operands as one list (`concatenate`).
    """

    name: str
    args: tuple[str, ...]
    grads: tuple[ast.expr | None, ...]
    keywords: tuple[tuple[str, ast.expr], ...] = ()
    statics: tuple[str, ...] = ()
    kind: str = "scalar"
    variadic: bool = False
    shape: str = ""  # "" takes the tag of `kind`, which a row of kind "other" lacks
    sources: tuple[str | None, ...] = field(default=(), compare=False)
    # For rows whose templates depend on the call (concatenate, einsum):
    # (operand index, operand count, static arguments) -> template text.
    computed: Callable[[int, int, dict[str, ast.expr]], str] | None = field(default=None, compare=False)
    # Forward mode, for rows that are not linear in each operand: (operand index,
    # operand count, static arguments) -> the operand's term of the tangent, in `t`
    # (the operand's tangent); None where the row's own spelling applies to tangents.
    tangents: Callable[[int, int, dict[str, ast.expr]], str] | None = field(default=None, compare=False)
    reads_out: bool = False  # a computed template reads `out`: the value is staged
    # Operands whose gradients are written first, where another operand's gradient
    # contains theirs (solve: `db = solve(A.T, g)`, then `dA = -np.outer(db, out)`).
    first: tuple[int, ...] = ()
    # Other names numpy accepts for keywords of the row: (spelling, keyword).
    spellings: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", shape_tag(self.name, self.kind, self.shape))

    def operand_order(self, count: int) -> list[int]:
        """The order in which the gradients of a call's `count` operands are written."""
        return [*self.first, *(i for i in range(count) if i not in self.first)]

    def arg_name(self, index: int) -> str:
        return f"x{index}" if self.variadic else self.args[index]

    def flows(self, index: int) -> bool:
        """Whether a gradient can flow into operand `index`."""
        return self.computed is not None or self.grads[index] is not None

    def template(self, index: int, count: int, statics: dict[str, ast.expr]) -> ast.expr | None:
        """The gradient template of operand `index` of a call with `count` operands."""
        if self.computed is None:
            return self.grads[index]
        return ast.parse(self.computed(index, count, statics), mode="eval").body

    @property
    def broadcast(self) -> bool:
        return self.kind == "elementwise" and (len(self.args) > 1 or self.variadic)

    def names_in(self, index: int, template: ast.expr) -> frozenset[str]:
        """The names `template`, this row's template of operand `index`, uses."""
        return self._fixed_names[index] if self.computed is None else names_of(template)

    @cached_property
    def _fixed_names(self) -> tuple[frozenset[str], ...]:
        return tuple(names_of(t) if t is not None else frozenset() for t in self.grads)

    @cached_property
    def uses_out(self) -> bool:
        """Whether a gradient template reads the operation's own value `out`."""
        return self.reads_out or any("out" in names for names in self._fixed_names)


def names_of(tree: ast.AST) -> frozenset[str]:
    return frozenset(n.id for n in ast.walk(tree) if isinstance(n, ast.Name))


RULES: dict[str, Rule] = {}

class Unsupported(ValueError):
    """The call's static arguments are outside what a computed rule handles."""


# Macros a template may use; the differentiator expands them per call, knowing
# the call's static `axis` and `keepdims`:
#   keep(v)   v with the reduced axes put back (np.expand_dims) unless keepdims
#   count(x)  how many elements of x each output element reduces over
MACROS = frozenset({"keep", "count"})


def defrule(
    name: str,
    args: str,
    *templates: str | None,
    keywords: str = "",
    statics: str = "",
    kind: str | None = None,
    shape: str | None = None,
    variadic: bool = False,
    computed: Callable[[int, int, dict[str, ast.expr]], str] | None = None,
    tangents: Callable[[int, int, dict[str, ast.expr]], str] | str | None = None,
    reads_out: bool = False,
    first: tuple[int, ...] = (),
    spellings: str = "",
) -> None:
    """Register `name(args)` with one gradient template per argument.

    `keywords` is written like a signature tail: "axis=None keepdims=False".
    `tangents`: forward mode's form where the row is not linear in each operand,
    the tangent of `out` in `t`, the operand's tangent (a text, or computed per call).
    `spellings`: other names of keywords, "min=a_min max=a_max".
    """
    arg_names = tuple(args.split())
    static_names = tuple(statics.split())
    kw_pairs = tuple(
        (k, ast.parse(v, mode="eval").body) for k, _, v in (kw.partition("=") for kw in keywords.split())
    )
    if computed is not None and not templates:
        templates = tuple("g" for _ in arg_names)  # placeholders: `computed` gives the real ones
    if len(templates) != len(arg_names):
        raise ValueError(f"rule {name}: {len(arg_names)} args, {len(templates)} templates")
    allowed = TEMPLATE_GLOBALS | MACROS | set(arg_names) | set(static_names) | {k for k, _ in kw_pairs}
    parsed: list[ast.expr | None] = []
    for template in templates:
        if template is None:
            parsed.append(None)
            continue
        tree = ast.parse(template, mode="eval").body
        unknown = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - allowed
        if unknown:
            raise ValueError(f"rule {name}: template {template!r} uses {sorted(unknown)}")
        parsed.append(tree)
    if kind is None:
        kind = "elementwise" if name.startswith("numpy.") else "scalar"
    if isinstance(tangents, str):
        tangents = _fixed(tangents)
    RULES[name] = Rule(
        name, arg_names, tuple(parsed), kw_pairs, static_names, kind, variadic, shape or "", tuple(templates), computed,
        tangents, reads_out, first, tuple((k, v) for k, _, v in (pair.partition("=") for pair in spellings.split())),
    )


def _fixed(text: str) -> Callable[[int, int, dict[str, ast.expr]], str]:
    """The same tangent template for every call (and the row's one operand)."""
    return lambda index, count, statics: text


# ---- Python operators (scalars; `numpy.` twins below broadcast) ----------------
defrule("add", "x y", "g", "g")
defrule("sub", "x y", "g", "-g")
defrule("mul", "x y", "y * g", "x * g")
defrule("mul.self", "x", "2 * x * g")
defrule("div", "x y", "g / y", "-x / y ** 2 * g")
defrule("pow", "x y", "y * x ** (y - 1) * g", "out * math.log(x) * g")
defrule("neg", "x", "-g")
defrule("pos", "x", "g")

# ---- Python builtins ------------------------------------------------------------
# abs has derivative 0 at 0 (numpy's sign, autograd's convention); max/min send the
# whole gradient to the argument they return (the first one on a tie).
defrule("abs", "x", "g if x > 0 else -g if x < 0 else 0.0")
defrule("max", "x y", "g if x >= y else 0.0", "0.0 if x >= y else g")
defrule("min", "x y", "g if x <= y else 0.0", "0.0 if x <= y else g")
defrule("float", "x", "g")

# ---- math -----------------------------------------------------------------------
defrule("math.exp", "x", "out * g")
defrule("math.expm1", "x", "(out + 1) * g")
defrule("math.exp2", "x", "math.log(2) * out * g")
defrule("math.log", "x", "g / x")
defrule("math.logb", "x b", "g / (x * math.log(b))", "-out / (b * math.log(b)) * g")
defrule("math.log1p", "x", "g / (1 + x)")
defrule("math.log2", "x", "g / (x * math.log(2))")
defrule("math.log10", "x", "g / (x * math.log(10))")
defrule("math.sqrt", "x", "g / (2 * out)")
defrule("math.cbrt", "x", "g / (3 * out ** 2)")
defrule("math.pow", "x y", "y * x ** (y - 1) * g", "out * math.log(x) * g")
defrule("math.sin", "x", "math.cos(x) * g")
defrule("math.cos", "x", "-math.sin(x) * g")
defrule("math.tan", "x", "(1 + out ** 2) * g")
defrule("math.asin", "x", "g / math.sqrt(1 - x ** 2)")
defrule("math.acos", "x", "-g / math.sqrt(1 - x ** 2)")
defrule("math.atan", "x", "g / (1 + x ** 2)")
defrule("math.atan2", "y x", "x / (x ** 2 + y ** 2) * g", "-y / (x ** 2 + y ** 2) * g")
defrule("math.sinh", "x", "math.cosh(x) * g")
defrule("math.cosh", "x", "math.sinh(x) * g")
defrule("math.tanh", "x", "(1 - out ** 2) * g")
defrule("math.asinh", "x", "g / math.sqrt(x ** 2 + 1)")
defrule("math.acosh", "x", "g / math.sqrt(x ** 2 - 1)")
defrule("math.atanh", "x", "g / (1 - x ** 2)")
defrule("math.hypot", "x y", "x / out * g", "y / out * g")
defrule("math.erf", "x", "2 / math.sqrt(math.pi) * math.exp(-x ** 2) * g")
defrule("math.erfc", "x", "-2 / math.sqrt(math.pi) * math.exp(-x ** 2) * g")
defrule("math.lgamma", "x", "_digamma(x) * g")
defrule("math.gamma", "x", "out * _digamma(x) * g")
# The helper lgamma's derivative writes, met again when generated code is differentiated.
defrule("digamma", "x", "_trigamma(x) * g")
defrule("math.fabs", "x", "g if x > 0 else -g if x < 0 else 0.0")
defrule("math.degrees", "x", "180 / math.pi * g")
defrule("math.radians", "x", "math.pi / 180 * g")
defrule("math.copysign", "x y", "math.copysign(1.0, x * out) * g", None)
# The sigmoid 1 / (1 + exp(-z)), recognised by the normaliser, reuses its output.
defrule("sigmoid", "x", "(1 - out) * out * g")
defrule("mod", "x y", "g", "-(x // y) * g")

# ---- numpy: operators (broadcasting; gradients are summed back to each shape) ----
defrule("numpy.add", "x y", "g", "g")
defrule("numpy.sub", "x y", "g", "-g")
defrule("numpy.mul", "x y", "y * g", "x * g")
defrule("numpy.mul.self", "x", "2 * x * g")
defrule("numpy.div", "x y", "g / y", "-x / y ** 2 * g")
# x ** 0 is 1 also at x = 0, where y * x ** (y - 1) would be 0 * inf, and 0 ** y is 0 for
# every y > 0, where out * log(0) would be 0 * -inf (autograd's where and replace_zero)
defrule("numpy.pow", "x y", "y * x ** np.where(y, y - 1, 1) * g", "out * np.log(np.where(x == 0, 1, x)) * g")
defrule("numpy.mod", "x y", "g", "-(x // y) * g")
defrule("numpy.neg", "x", "-g")
defrule("numpy.sigmoid", "x", "(1 - out) * out * g")
defrule("numpy.pos", "x", "g")
# a + b + c as one operation: each term's gradient is the upstream one summed to
# the term's shape, with no stage for the partial sum a + b.
defrule("numpy.add.n", "", kind="elementwise", variadic=True, computed=lambda index, count, statics: "g")


def _rank(statics: dict[str, ast.expr], index: int) -> int | None:
    """The operand's number of dimensions, when the normaliser could tell."""
    value = statics.get(f"__rank{index}__")
    return value.value if isinstance(value, ast.Constant) and isinstance(value.value, int) else None


def _product(dot: bool) -> Callable[[int, int, dict[str, ast.expr]], str]:
    """Matrix products: `g @ y.T` for matrices, outer products for vectors.

    Where a rank is unknown (or an operand is a stack) a helper written into
    the output works the gradient out from the operands' ranks at run time.
    """

    def mul(a: str, b: str) -> str:
        return f"{a}.dot({b})" if dot else f"{a} @ {b}"

    def template(index: int, count: int, statics: dict[str, ast.expr]) -> str:
        rx, ry = _rank(statics, 0), _rank(statics, 1)
        if rx not in (1, 2) or ry not in (1, 2):
            helper = ("_dot_" if dot else "_matmul_") + ("dx" if index == 0 else "dy")
            return f"{helper}(g, x, y)"
        if index == 0:
            if ry == 1:
                return "g * y" if rx == 1 else "np.outer(g, y)"
            return mul("g", "y.T")
        if rx == 1:
            return "x * g" if ry == 1 else "np.outer(x, g)"
        return mul("x.T", "g")

    return template


defrule("numpy.matmul", "x y", kind="other", shape="matmul", computed=_product(dot=False))
defrule("numpy.dot", "x y", kind="other", shape="dot", computed=_product(dot=True))
# The rank-generic helpers those write, met again when generated code is
# differentiated: each is the adjoint of a product, linear in d and in the other
# operand (its own operand only gives the shape).
defrule("numpy.matmul_dx", "d x y", "np.matmul(g, y)", None, "_matmul_dy(d, g, y)", kind="other", shape="unknown")
defrule("numpy.matmul_dy", "d x y", "np.matmul(x, g)", "_matmul_dx(d, x, g)", None, kind="other", shape="unknown")
defrule("numpy.dot_dx", "d x y", "np.dot(g, y)", None, "_dot_dy(d, g, y)", kind="other", shape="unknown")
defrule("numpy.dot_dy", "d x y", "np.dot(x, g)", "_dot_dx(d, x, g)", None, kind="other", shape="unknown")
# The helper in generated code that each of those rows is.
HELPER_ROWS = {
    "_matmul_dx": "numpy.matmul_dx",
    "_matmul_dy": "numpy.matmul_dy",
    "_dot_dx": "numpy.dot_dx",
    "_dot_dy": "numpy.dot_dy",
    "_untile": "numpy.untile",  # np.tile's gradient (rules_arrays.py)
    "_put_along_axis": "numpy.put_along_axis",  # np.take_along_axis's
    "_undiag": "numpy.undiag",  # np.diag's of a matrix (rules_polys.py)
    "_spread_back": "numpy.spread_back",  # a full sum's, shapes unknown (reverse_broadcast.py)
}
defrule("numpy.outer", "x y", "np.dot(g, np.ravel(y)).reshape(np.shape(x))", "np.dot(np.transpose(g), np.ravel(x)).reshape(np.shape(y))", kind="other", shape="unknown")
def _inner(index: int, count: int, statics: dict[str, ast.expr]) -> str:
    """np.inner sums over both last axes: x's gradient contracts g with y over y's
    leading axes, y's contracts g with x over x's leading axes (an outer product
    where there are none)."""
    rx, ry = _rank(statics, 0), _rank(statics, 1)
    if rx == 1 and ry == 1:
        return "g * y" if index == 0 else "g * x"
    if index == 0:
        return {1: "np.multiply.outer(g, y)", 2: "np.dot(g, y)"}.get(ry or 0, "np.tensordot(g, y, np.ndim(y) - 1)")
    if rx == 1:
        return "np.multiply.outer(g, x)"
    if rx == 2:
        return "np.dot(np.transpose(g), x)" if ry == 2 else "np.tensordot(g, x, (0, 0))"
    return "np.tensordot(g, x, (list(range(np.ndim(x) - 1)),) * 2)"


defrule("numpy.inner", "x y", kind="other", shape="inner", computed=_inner)

# ---- numpy: elementwise functions -----------------------------------------------
# abs has derivative 0 at 0 (np.sign); maximum/minimum split the gradient
# evenly at ties, and clip sends none at its bounds (autograd's conventions).
defrule("numpy.exp", "x", "out * g")
defrule("numpy.exp2", "x", "np.log(2) * out * g")
defrule("numpy.expm1", "x", "(out + 1) * g")
defrule("numpy.log", "x", "g / x")
defrule("numpy.log1p", "x", "g / (1 + x)")
defrule("numpy.log2", "x", "g / (x * np.log(2))")
defrule("numpy.log10", "x", "g / (x * np.log(10))")
defrule("numpy.sqrt", "x", "g / (2 * out)")
defrule("numpy.cbrt", "x", "g / (3 * out ** 2)")
defrule("numpy.square", "x", "2 * x * g")
defrule("numpy.reciprocal", "x", "-(out ** 2) * g")
defrule("numpy.sin", "x", "np.cos(x) * g")
defrule("numpy.cos", "x", "-np.sin(x) * g")
defrule("numpy.tan", "x", "(1 + out ** 2) * g")
defrule("numpy.arcsin", "x", "g / np.sqrt(1 - x ** 2)")
defrule("numpy.arccos", "x", "-g / np.sqrt(1 - x ** 2)")
defrule("numpy.arctan", "x", "g / (1 + x ** 2)")
defrule("numpy.sinh", "x", "np.cosh(x) * g")
defrule("numpy.cosh", "x", "np.sinh(x) * g")
defrule("numpy.tanh", "x", "(1 - out ** 2) * g")
defrule("numpy.arcsinh", "x", "g / np.sqrt(x ** 2 + 1)")
defrule("numpy.arccosh", "x", "g / np.sqrt(x ** 2 - 1)")
defrule("numpy.arctanh", "x", "g / (1 - x ** 2)")
defrule("numpy.abs", "x", "np.sign(x) * g")
defrule("numpy.arctan2", "y x", "x / (x ** 2 + y ** 2) * g", "-y / (x ** 2 + y ** 2) * g")
defrule("numpy.hypot", "x y", "x / out * g", "y / out * g")
defrule("numpy.power", "x y", "y * x ** np.where(y, y - 1, 1) * g", "out * np.log(np.where(x == 0, 1, x)) * g")
defrule("numpy.maximum", "x y", "g * (x == out) / (1.0 + (x == y))", "g * (y == out) / (1.0 + (x == y))")
defrule("numpy.minimum", "x y", "g * (x == out) / (1.0 + (x == y))", "g * (y == out) / (1.0 + (x == y))")
# Against a constant (ReLU's np.maximum(0, z)) the gradient goes to the strictly
# larger side: none at the tie, the usual ReLU subgradient.
defrule("numpy.maximum.const", "x y", "g * (x > y)", "g * (y > x)")
defrule("numpy.minimum.const", "x y", "g * (x < y)", "g * (y < x)")
defrule("numpy.where", "c x y", None, "np.where(c, g, 0.0)", "np.where(c, 0.0, g)")
defrule("numpy.logaddexp", "x y", "np.exp(x - out) * g", "np.exp(y - out) * g")  # exp(x) / (exp(x) + exp(y)), never overflowing
defrule("numpy.logaddexp2", "x y", "np.exp2(x - out) * g", "np.exp2(y - out) * g")


def _clip(index: int, count: int, statics: dict[str, ast.expr]) -> str:
    """No gradient where the output is at a bound; a bound left out (or None) is none."""
    bounds = [key for key in ("a_min", "a_max") if not _is_none(statics.get(key))]
    tests = [f"(out != {key})" for key in bounds]
    if len(tests) > 1:
        tests = [f"({' & '.join(tests)})"]
    return f"g * {tests[0]}" if tests else "g"


def _is_none(expr: ast.expr | None) -> bool:
    return expr is None or isinstance(expr, ast.Constant) and expr.value is None


# np.clip(x, lo, hi), np.clip(x, a_min=lo), x.clip(max=hi): numpy's keywords min and max are a_min and a_max.
defrule("numpy.clip", "x", keywords="a_min=None a_max=None", computed=_clip, reads_out=True, spellings="min=a_min max=a_max")

# ---- numpy: reductions ------------------------------------------------------------
_AXIS = "axis=None keepdims=False"
defrule("numpy.sum", "x", "np.ones_like(x) * keep(g)", keywords=_AXIS, kind="reduce")
# np.sum(w * w) and np.sum(w ** 2), the L2 term, recognised whole: no w * w kept.
defrule("numpy.sumsq", "x", "2 * g * x", kind="reduce", shape="number", tangents="2 * np.sum(x * t)")  # g is a scalar: one pass over x
defrule("numpy.mean", "x", "np.ones_like(x) * keep(g) / count(x)", keywords=_AXIS, kind="reduce")
# Not out / x, which is 0 / 0 at a zero element: the product of the others,
# computed with cumulative products, is exact everywhere.
defrule(
    "numpy.prod",
    "x",
    "keep(g) * _prod_others(x, axis=axis)",
    keywords=_AXIS,
    kind="reduce",
    tangents="np.sum(t * _prod_others(x, axis=axis), axis=axis, keepdims=keepdims)",
)
# Tied maxima share the gradient (what central differences see); the share is
# worked out at the reduced shape, one division a window rather than one an element.
defrule(
    "numpy.max",
    "x",
    "(x == keep(out)) * keep(g / np.sum(x == keep(out), axis=axis, keepdims=keepdims))",
    keywords=_AXIS,
    kind="reduce",
    tangents="np.sum(t * (x == keep(out)), axis=axis, keepdims=keepdims) / np.sum(x == keep(out), axis=axis, keepdims=keepdims)",
)
defrule(
    "numpy.min",
    "x",
    "(x == keep(out)) * keep(g / np.sum(x == keep(out), axis=axis, keepdims=keepdims))",
    keywords=_AXIS,
    kind="reduce",
    tangents="np.sum(t * (x == keep(out)), axis=axis, keepdims=keepdims) / np.sum(x == keep(out), axis=axis, keepdims=keepdims)",
)
# var and std (with ddof): rules_spread.py

# The helper generated code calls (differentiating generated code again, for
# Hessian-vector products): linear in the gradient, the shape only read.
defrule("numpy.unbroadcast", "grad like", "np.broadcast_to(g, np.shape(grad))", None, kind="other", shape="unknown")
# Its sibling for a gradient standing for its broadcast to `shape` (a full sum's):
# linear in grad, its adjoint the same spreading and summing with like and grad swapped.
defrule("numpy.spread_back", "grad like shape", "_spread_back(g, grad, shape)", None, None, kind="other", shape="unknown")
def _cast(index: int, count: int, statics: dict[str, ast.expr]) -> str:
    """A conversion keeps the gradient unless it rounds to integers (or truth values)."""
    dtype = statics.get("dtype")
    if dtype is not None:
        text = ast.unparse(dtype).strip("'\"").rpartition(".")[2]
        if text.rstrip("_0123456789") in ("int", "uint", "intp", "uintp", "bool", "long", "short", "byte", "ubyte"):
            raise Unsupported(f"a conversion to {text} is not differentiable: compute it from constants instead")
    return "g"


# astype(float), astype(x.dtype, copy=False), np.asarray(x, dtype=float): no-ops for the gradient.
defrule("numpy.float", "x", statics="dtype", keywords="copy=True order='K'", kind="other", shape="same", computed=_cast)
# np.float64(x) and np.double(x): a number (or an array) as float64, the gradient unchanged.
defrule("numpy.float64", "x", "g", kind="other", shape="same")
defrule("numpy.asarray", "x", keywords="dtype=None order=None", kind="other", shape="unknown", computed=_cast)
defrule("numpy.array", "x", keywords="dtype=None copy=True order='K'", kind="other", shape="unknown", computed=_cast)


# The rows of numpy's joining, array manipulation and linear algebra (their
# templates are computed per call); imported last, as they register themselves with defrule.
from codegen.ad import (  # noqa: E402,F401
    rules_arrays,
    rules_einsum,
    rules_joins,
    rules_lists,
    rules_polys,
    rules_softmax,
    rules_spread,
)
