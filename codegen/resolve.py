"""What a called name means: a math or numpy function, a builtin, a method, a user function."""

from __future__ import annotations

import ast
import builtins
from collections.abc import Container

from codegen.parse import ModuleInfo, dotted
from codegen.rules import RULES

# Attributes that describe an array's layout, never its values.
SHAPE_ATTRIBUTES = frozenset({"shape", "ndim", "size", "dtype"})

# Functions whose result never carries a gradient (indices, shapes, flags, fresh arrays).
CONSTANT_FUNCTIONS = frozenset(
    {
        "len",
        "range",
        "codegen.shape",  # _dot_shape, _matmul_shape in generated code
        "int",
        "round",
        "bool",
        "isinstance",
        "math.floor",
        "math.ceil",
        "math.trunc",
        "math.isclose",
        "math.isfinite",
        "math.isnan",
        "math.isinf",
        "numpy.random.",
        "numpy.arange",
        "numpy.argmax",
        "numpy.argmin",
        "numpy.argsort",
        "numpy.zeros",
        "numpy.ones",
        "numpy.empty",
        "numpy.full",
        "numpy.zeros_like",
        "numpy.ones_like",
        "numpy.empty_like",
        "numpy.eye",
        "numpy.identity",
        "numpy.shape",
        "numpy.ndim",
        "numpy.size",
        "numpy.sign",
        "numpy.floor",
        "numpy.ceil",
        "numpy.round",
        "numpy.isnan",
        "numpy.isfinite",
        "numpy.array_equal",
        "numpy.allclose",
        "numpy.linspace",
        "method.argmax",
        "method.argmin",
        "method.argsort",
        "method.nonzero",
    }
)

# Names resolved by prefix (`numpy.random.rand`, `numpy.random.randn`, ...).
CONSTANT_PREFIXES = ("numpy.random.",)

# Builtins with a rule, by their plain name.
_BUILTIN_RULES = {"abs": "abs", "min": "min", "max": "max", "pow": "pow", "float": "float"}


def call_name(func: ast.expr, info: ModuleInfo, env: dict[str, str]) -> str | None:
    """The canonical name of the callee: `math.exp`, `numpy.sum`, `method.sum`,
    `user.helper`, a builtin's name, or None when it is unknown."""
    if isinstance(func, ast.Name):
        name = func.id
        if name in env:
            return None
        if name in info.aliases:
            return info.aliases[name]
        if name in info.functions:
            return f"user.{name}"
        if hasattr(builtins, name):
            return name
        return None
    if isinstance(func, ast.Attribute):
        chain = dotted(func)
        if chain is not None:
            head, _, rest = chain.partition(".")
            if head not in env and head in info.aliases:
                full = f"{info.aliases[head]}.{rest}"
                return "numpy.random." if full.startswith(CONSTANT_PREFIXES) else full
        return f"method.{func.attr}"
    return None


# The names a forward pass usually reaches a module with derivative rules by.
USUAL_MODULE_NAMES = {"math": "math", "np": "numpy", "numpy": "numpy"}


def unimported_module(func: ast.expr, info: ModuleInfo, env: Container[str]) -> str | None:
    """`math` for a call of `math.exp` where the module never imports math (nor binds
    the name otherwise): read as a method of some value `math`, the call would
    mislead; `numpy` for `np.sum` or `numpy.sum` likewise."""
    chain = dotted(func)
    if chain is None or "." not in chain:
        return None
    head = chain.split(".", 1)[0]
    if head in env or head in info.aliases or head in info.functions or head in info.constants:
        return None
    return USUAL_MODULE_NAMES.get(head)


def rule_for(name: str, nargs: int, numpy: bool) -> str | None:
    """The rule-table row for a call of `name` with `nargs` differentiable operands."""
    if name == "math.log" and nargs == 2:
        return "math.logb"
    if name in _BUILTIN_RULES:
        plain = _BUILTIN_RULES[name]
        return f"numpy.{plain}" if numpy and f"numpy.{plain}" in RULES and plain == "abs" else plain
    if name.startswith("method."):
        name = _METHODS.get(name, f"numpy.{name[len('method.'):]}")
    name = _ALIASES.get(name, name)
    if name == "numpy.transpose" and nargs > 1:
        return "numpy.transpose.axes"
    return name if name in RULES else None


# numpy functions that are another row under a second name.
_ALIASES = {
    "numpy.add": "numpy.add",
    "numpy.subtract": "numpy.sub",
    "numpy.multiply": "numpy.mul",
    "numpy.divide": "numpy.div",
    "numpy.true_divide": "numpy.div",
    "numpy.negative": "numpy.neg",
    "numpy.absolute": "numpy.abs",
    "numpy.amax": "numpy.max",
    "numpy.amin": "numpy.min",
    "numpy.concat": "numpy.concatenate",
    "numpy.arccos": "numpy.arccos",
    "numpy.acos": "numpy.arccos",
    "numpy.asin": "numpy.arcsin",
    "numpy.atan": "numpy.arctan",
    "numpy.atan2": "numpy.arctan2",
    "numpy.pow": "numpy.power",
    "numpy.permute_dims": "numpy.transpose",
}
# Array methods and the numpy function each one is.
_METHODS = {
    "method.astype": "numpy.float",
    "method.flatten": "numpy.ravel",
}


def is_number(expr: ast.expr, numbers: Container[str]) -> bool:
    """Whether `expr` certainly evaluates to a Python number: literals, sizes,
    names in `numbers`, and arithmetic of those."""
    if isinstance(expr, ast.Constant):
        return type(expr.value) in (int, float)
    if isinstance(expr, ast.Name):
        return expr.id in numbers
    if isinstance(expr, ast.UnaryOp):
        return is_number(expr.operand, numbers)
    if isinstance(expr, ast.BinOp):
        return is_number(expr.left, numbers) and is_number(expr.right, numbers)
    if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Attribute):
        return expr.value.attr == "shape"
    if isinstance(expr, ast.Attribute):
        return expr.attr in ("ndim", "size")
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
        return expr.func.id in ("len", "int", "float")
    return False
