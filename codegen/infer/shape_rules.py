"""What each operation does to shapes, by the shape tag of its rule row
(`Rule.shape`): one meaning per tag, and the rank arithmetic every stage that
tracks shapes shares (the kinds stage for the user's calls; `Ranks`, `Dims`,
`ShapeKeys` and `ShapeCheck` for the lowered operations).

A new operation gets its tag in its row; a row of kind "other" without one
fails `tests/test_rules.py`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass

SHAPES: dict[str, str] = {
    "number": "a Python number, or a result of shape ()",
    "broadcast": "numpy broadcasting of the operands' shapes",
    "reduce": "operand 0 reduced over `axis=` (all axes by default), kept with `keepdims=True`",
    "same": "operand 0's shape",
    "reversed": "operand 0's dimensions in reverse order (`x.T`)",
    "same-rank": "as many dimensions as operand 0, of sizes not tracked",
    "matmul": "`x @ y`: a product of matrices or of stacks of them",
    "dot": "`np.dot(x, y)`: x's dimensions but the last, then y's but the second to last",
    "inner": "`np.inner(x, y)`: x's dimensions but the last, then y's but the last",
    "det": "operand 0 without its last two dimensions",
    "solve": "`solve(a, b)` of a matrix `a`: b's shape",
    "reshape": "the sizes of the static `shape`",
    "ravel": "one dimension",
    "diag": "`np.diag(x, k)`: a vector's square matrix, a matrix's diagonal (one dimension)",
    "unknown": "nothing the shape stages track",
}
PRODUCTS = frozenset({"matmul", "dot", "inner"})
# The tag of a row that names none, by its kind; a row of kind "other" names its own.
_OF_KIND = {"scalar": "number", "elementwise": "broadcast", "reduce": "reduce"}


def shape_tag(row: str, kind: str, tag: str) -> str:
    """The shape tag of the rule row `row`: `tag`, or its kind's where it is ""."""
    tag = tag or _OF_KIND.get(kind, "")
    if tag not in SHAPES:
        raise ValueError(f"rule {row}: no shape tag of infer.shape_rules.SHAPES: {tag!r}")
    return tag


def product_rank(left: int, right: int, stacked: bool) -> int | None:
    """The number of dimensions of `x @ y` (`stacked`), `np.dot(x, y)` or
    `np.inner(x, y)` of operands of `left` and `right` dimensions; None for `@`
    of a number, which numpy refuses."""
    if left == 0 or right == 0:
        return None if stacked else max(left, right)
    if left == 1 or right == 1:
        return max(left, right) - 1
    return max(left, right) if stacked else left + right - 2


def reshaped_rank(sizes: Sequence[ast.expr], is_size: Callable[[ast.expr], bool]) -> int | None:
    """The number of dimensions `reshape(*sizes)` gives: one per size of a tuple,
    a list or several sizes (`x.reshape((N, -1))`, `x.reshape(N * T, V)`), one for
    a lone size `is_size` proves a number (`y.reshape(N)`); a lone name may hold a
    whole shape (`x.reshape(shape)`)."""
    if len(sizes) == 1 and isinstance(sizes[0], (ast.Tuple, ast.List)):
        sizes = sizes[0].elts
    elif len(sizes) == 1:
        return 1 if is_size(sizes[0]) else None
    if not sizes or any(isinstance(size, ast.Starred) for size in sizes):
        return None
    return len(sizes)


def reduced_rank(rank: int | None, keywords: dict[str, ast.expr]) -> int | None:
    """The number of dimensions of a reduction of an operand of `rank` dimensions."""
    axis = keywords.get("axis", ast.Constant(None))
    keepdims = keywords.get("keepdims")
    if isinstance(keepdims, ast.Constant) and keepdims.value is True:
        return rank
    if isinstance(axis, ast.Constant) and axis.value is None:
        return 0
    if rank is None:
        return None
    return max(rank - (len(axis.elts) if isinstance(axis, ast.Tuple) else 1), 0)  # numpy reduces a 0-d array over axis 0


def rank(
    tag: str, ranks: list[int | None], keywords: dict[str, ast.expr], is_size: Callable[[ast.expr], bool]
) -> int | None:
    """The number of dimensions of an operation tagged `tag`, from its operands'
    (`ranks`, None where unknown) and its static arguments."""
    first = ranks[0] if ranks else None
    if tag == "number":
        return 0
    if tag == "broadcast":
        known = [r for r in ranks if r is not None]
        return max(known, default=0) if len(known) == len(ranks) else None
    if tag == "reduce":
        return reduced_rank(first, keywords)
    if tag in PRODUCTS:
        left, right = ranks[:2]
        return None if left is None or right is None else product_rank(left, right, stacked=tag == "matmul")
    if tag in ("same", "reversed", "same-rank"):
        return first
    if tag == "det":
        return None if first is None else max(first - 2, 0)
    if tag == "solve":
        return ranks[1] if first == 2 else None
    if tag == "reshape":
        shape = keywords.get("shape")
        return None if shape is None else reshaped_rank([shape], is_size)
    if tag == "ravel":
        return 1
    if tag == "diag":
        return {1: 2, 2: 1}.get(first) if first is not None else None
    return None


# Constants made with a shape (never differentiated, so no rule rows): `np.zeros((N, D))`,
# `np.zeros_like(x)`, `np.ones(x.shape)`, `np.random.rand(*x.shape)`, `np.random.randn(N, D)`,
# `np.random.normal(0, 1, size=x.shape)`: of the sizes given, or exactly x's shape.
_LIKE = frozenset({"numpy.zeros_like", "numpy.ones_like", "numpy.empty_like", "numpy.full_like"})
_OF_SHAPE = frozenset({
    "numpy.zeros", "numpy.ones", "numpy.empty", "numpy.full", "numpy.random.random", "numpy.random.random_sample",
    "numpy.random.standard_normal", "numpy.random.sample", "numpy.random.ranf",
})  # fmt: skip
_OF_SIZES = frozenset({"numpy.random.rand", "numpy.random.randn"})
# Draws whose `size=` is only the leading dimensions: one value is a vector.
_VECTOR_DRAWS = frozenset({"numpy.random.multivariate_normal", "numpy.random.multinomial", "numpy.random.dirichlet"})


@dataclass(frozen=True)
class Made:
    """The shape of a constant a call makes: exactly `like`'s array's, or the sizes
    `sizes` (a tuple or list of sizes, or one size)."""

    like: str | None = None
    sizes: ast.expr | None = None


def made(name: str | None, call: ast.Call) -> Made | None:
    """The shape the constant `call` (of the resolved function `name`) has, or None."""
    if name is None or not name.startswith("numpy."):
        return None
    if name.endswith("."):  # the resolver names a draw by its module only: numpy.random.
        func = call.func
        name += func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    keywords = {k.arg: k.value for k in call.keywords}
    if name in _LIKE:
        like = call.args[0] if call.args else keywords.get("a")
        return Made(like.id) if isinstance(like, ast.Name) and "shape" not in keywords else None
    if name in _OF_SHAPE:
        shape = call.args[0] if call.args else keywords.get("shape", keywords.get("size"))
        return None if shape is None else _sized(shape)
    if name in _OF_SIZES:
        if len(call.args) == 1 and isinstance(call.args[0], ast.Starred) and not keywords:
            return _sized(call.args[0].value)
        if call.args and not keywords and not any(isinstance(a, ast.Starred) for a in call.args):
            return Made(sizes=ast.Tuple(list(call.args), ast.Load()))
        return None
    if name.startswith("numpy.random.") and "size" in keywords and name not in _VECTOR_DRAWS:
        return _sized(keywords["size"])
    return None


def _sized(shape: ast.expr) -> Made:
    """A shape given as `x.shape` is exactly x's; otherwise its sizes."""
    if isinstance(shape, ast.Attribute) and shape.attr == "shape" and isinstance(shape.value, ast.Name):
        return Made(like=shape.value.id)
    return Made(sizes=shape)
