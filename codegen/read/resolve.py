"""What a called name means: a math or numpy function, a builtin, a method, a user function."""

from __future__ import annotations

import ast
import builtins
import warnings
from collections.abc import Container

import numpy

from codegen.ad.rules import RULES
from codegen.read.parse import ModuleInfo, dotted

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
        # integer and boolean scalar types called as casts: piecewise constant
        "numpy.bool_",
        "numpy.int_",
        "numpy.intp",
        "numpy.int8",
        "numpy.int16",
        "numpy.int32",
        "numpy.int64",
        "numpy.uint8",
        "numpy.uint16",
        "numpy.uint32",
        "numpy.uint64",
        "method.argmax",
        "method.argmin",
        "method.argsort",
        "method.nonzero",
    }
)

# Names resolved by prefix (`numpy.random.rand`, `numpy.random.randn`, ...).
CONSTANT_PREFIXES = ("numpy.random.",)

# Methods that draw random numbers (numpy's Generator and RandomState, Python's
# `random` module read as a method call): never called twice for one value.
_DRAW_METHODS = frozenset(
    "beta binomial bytes chisquare choice choices dirichlet exponential expovariate gammavariate gauss "
    "geometric getrandbits gumbel hypergeometric integers laplace logistic lognormal lognormvariate "
    "multinomial multivariate_normal negative_binomial noncentral_chisquare noncentral_f normal "
    "normalvariate pareto paretovariate permutation permuted poisson rand randbytes randint randn random "
    "random_integers random_sample randrange ranf rayleigh sample shuffle standard_cauchy "
    "standard_exponential standard_gamma standard_normal standard_t triangular uniform vonmises "
    "vonmisesvariate wald weibull weibullvariate zipf".split()
)

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


def is_draw(call: ast.Call, info: ModuleInfo, env: dict[str, str]) -> bool:
    """Whether `call` draws random numbers: each evaluation gives a new value, so
    the output computes it once and names it."""
    name = call_name(call.func, info, env)
    if name is None and isinstance(call.func, ast.Name):
        return call.func.id in _random_imports(info)
    if name is None:
        return False
    if name.startswith("numpy.random."):
        return True
    return name.startswith("method.") and name[len("method.") :] in _DRAW_METHODS


# Functions of Python's `random` that return one number.
_RANDOM_NUMBERS = frozenset(
    "betavariate binomialvariate expovariate gammavariate gauss getrandbits lognormvariate normalvariate "
    "paretovariate randint random randrange triangular uniform vonmisesvariate weibullvariate".split()
)


def draws_a_number(call: ast.Call, info: ModuleInfo, env: dict[str, str]) -> bool:
    """Whether `call` is one of Python's `random` functions that return a number
    (`random.random()`, `random.gauss(0.0, 1.0)`, `uniform` imported from random)."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id not in env and func.id in _random_imports(info) and _imported_name(info, func.id) in _RANDOM_NUMBERS
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)) or func.value.id in env:
        return False
    return func.attr in _RANDOM_NUMBERS and func.value.id in _random_modules(info)


def _random_modules(info: ModuleInfo) -> set[str]:
    """The names the module binds to Python's `random` module (`import random as r`)."""
    return {
        alias.asname or alias.name
        for node in info.tree.body
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name == "random"
    }


def _imported_name(info: ModuleInfo, local: str) -> str | None:
    """The name in `random` that `from random import NAME as local` imports."""
    for node in info.tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "random":
            for alias in node.names:
                if (alias.asname or alias.name) == local:
                    return alias.name
    return None


def _random_imports(info: ModuleInfo) -> set[str]:
    """Names the module imports from `random` or `numpy.random` by `from ... import`."""
    return {
        alias.asname or alias.name
        for node in info.tree.body
        if isinstance(node, ast.ImportFrom) and node.module in ("random", "numpy.random")
        for alias in node.names
    }


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
    "numpy.double": "numpy.float64",
}
# Array methods and the numpy function each one is.
_METHODS = {
    "method.astype": "numpy.float",
    "method.flatten": "numpy.ravel",
}


def cast_kind(call: ast.Call, info: ModuleInfo, env: Container[str]) -> str:
    """What `x.astype(dtype)` does to a gradient: "float" (a cast to a floating
    dtype passes it on), "constant" (an integer or boolean result is piecewise
    constant, so its derivative is zero), or "unknown" (a dtype codegen cannot
    read statically, such as a variable)."""
    dtype: ast.expr | None = call.args[0] if call.args else None
    for keyword in call.keywords:
        if keyword.arg == "dtype":
            dtype = keyword.value
    if dtype is None:
        return "unknown"
    receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
    if isinstance(dtype, ast.Attribute) and dtype.attr == "dtype" and receiver is not None:
        if ast.dump(dtype.value) == ast.dump(receiver):
            return "float"  # `x.astype(x.dtype)`: its own dtype, the identity
    kind = _dtype_letter(dtype, info, env)
    return {"f": "float", "i": "constant", "u": "constant", "b": "constant"}.get(kind or "", "unknown")


def _dtype_letter(dtype: ast.expr, info: ModuleInfo, env: Container[str]) -> str | None:
    """numpy's kind letter (`f`, `i`, `u`, `b`, `c`, ...) of a literal dtype: a
    string, a builtin type, or a numpy scalar type under the module's import name."""
    spec: str | type | None = None
    if isinstance(dtype, ast.Constant) and isinstance(dtype.value, str):
        spec = dtype.value
    elif isinstance(dtype, ast.Name) and dtype.id not in env and dtype.id not in info.aliases:
        spec = {"int": int, "float": float, "bool": bool, "complex": complex}.get(dtype.id)
    elif isinstance(dtype, ast.Attribute):
        chain = dotted(dtype)
        head, _, rest = (chain or "").partition(".")
        if head not in env and info.aliases.get(head) == "numpy" and rest.isidentifier():
            found = getattr(numpy, rest, None)
            if isinstance(found, type) and issubclass(found, numpy.generic):
                spec = found
    if spec is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return str(numpy.dtype(spec).kind)
        except (TypeError, ValueError, Warning):
            return None


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
