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
from dataclasses import dataclass, field

from codegen import helpers

# Names a template may use besides its row's arguments and keywords.
TEMPLATE_GLOBALS = frozenset({"g", "out", "math", "np"}) | helpers.NAMES


@dataclass(frozen=True)
class Rule:
    """How to differentiate one operation."""

    name: str
    args: tuple[str, ...]
    grads: tuple[ast.expr | None, ...]
    keywords: tuple[str, ...] = ()
    broadcast: bool = False
    sources: tuple[str | None, ...] = field(default=(), compare=False)

    def uses_out(self) -> bool:
        return any(_mentions(t, "out") for t in self.grads if t is not None)

    def uses_arg(self, index: int) -> bool:
        """True when some other argument's template reads argument `index`'s value."""
        name = self.args[index]
        return any(
            t is not None and _mentions(t, name)
            for i, t in enumerate(self.grads)
            if i != index
        ) or (self.grads[index] is not None and _mentions(self.grads[index], name))


def _mentions(tree: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(tree))


RULES: dict[str, Rule] = {}


def defrule(name: str, args: str, *templates: str | None, keywords: str = "") -> None:
    """Register `name(args)` with one gradient template per argument."""
    arg_names = tuple(args.split())
    kw_names = tuple(keywords.split())
    if len(templates) != len(arg_names):
        raise ValueError(f"rule {name}: {len(arg_names)} args, {len(templates)} templates")
    allowed = TEMPLATE_GLOBALS | set(arg_names) | set(kw_names)
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
    RULES[name] = Rule(
        name,
        arg_names,
        tuple(parsed),
        kw_names,
        broadcast=name.startswith("numpy."),
        sources=tuple(templates),
    )


# ---- Python operators (scalars; `numpy.` twins below broadcast) ----------------
defrule("add", "x y", "g", "g")
defrule("sub", "x y", "g", "-g")
defrule("mul", "x y", "y * g", "x * g")
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
defrule("math.fabs", "x", "g if x > 0 else -g if x < 0 else 0.0")
defrule("math.degrees", "x", "180 / math.pi * g")
defrule("math.radians", "x", "math.pi / 180 * g")
defrule("math.copysign", "x y", "math.copysign(1.0, x * out) * g", None)
# The sigmoid 1 / (1 + exp(-z)), recognised by the normaliser, reuses its output.
defrule("sigmoid", "x", "(1 - out) * out * g")
defrule("mod", "x y", "g", "-(x // y) * g")
# `x if c else y`: the gradient follows the branch the forward pass took.
defrule("ifexp", "c x y", None, "g if c else 0.0", "0.0 if c else g")
