"""What numpy's functions and ndarray's methods are, besides their derivatives
(the rows of `rules.py`): one entry per name, asked by every stage that needs
to know whether a call proves an array, shares its operand's storage, is cheap
enough to recompute, or returns a new array (what it does to shapes, a
reduction's among them, is its row's shape tag).

Tags: `method` an ndarray method that lists, tuples and Python numbers lack (so
calling it proves an array); `any` a method other objects have too (`copy`);
`function` a numpy function; `attribute` an ndarray attribute; `view` the
result may share the operand's storage; `recompute` a view cheap enough that
the backward recomputes it instead of caching it (`x.reshape(N, -1)` again, as
hand-written code does); `fresh` always a new array (`+=` on it changes
nothing else); `pure` a method with no side effect; `inplace` a method that
changes its object (`x.sort()` sorts `x` and returns None), refused where it is
called.
"""

from __future__ import annotations

import ast

_TABLE: dict[str, str] = {
    "reshape": "method function view recompute pure",
    "transpose": "method function view recompute pure",
    "swapaxes": "method function view recompute pure",
    "squeeze": "method function view recompute pure",
    "expand_dims": "function view recompute",
    "ravel": "method function view pure",
    "view": "method view",
    "T": "attribute view",
    "mT": "attribute view",
    "real": "attribute function view",
    "imag": "attribute function view",
    "asarray": "function view",
    "float64": "function view",  # np.float64 of a float64 array is that array
    "polyder": "function view",  # np.polyder(p, 0) is p
    "moveaxis": "function view",
    "rollaxis": "function view",
    "flip": "function view",
    "fliplr": "function view",
    "flipud": "function view",
    "rot90": "function view",
    "atleast_1d": "function view",
    "atleast_2d": "function view",
    "atleast_3d": "function view",
    "broadcast_to": "function view",
    "diagonal": "function view",
    "split": "function view",
    "array_split": "function view",
    "sum": "method function pure fresh",
    "mean": "method function pure fresh",
    "max": "method function pure",
    "min": "method function pure",
    "prod": "method function pure",
    "std": "method function pure",
    "var": "method function pure",
    "amax": "function",
    "amin": "function",
    "linalg.norm": "function",
    "dot": "method function pure fresh",
    "copy": "any function pure fresh",
    "astype": "method pure",
    "clip": "method function pure",
    "cumsum": "method function pure",
    "flatten": "method pure",
    "conj": "method function pure",
    "all": "method function pure",
    "any": "method function pure",
    "argmax": "method function pure",
    "argmin": "method function pure",
    "cumprod": "method function",
    "item": "method",
    "round": "method function",
    "nonzero": "method function",
    "argsort": "method function",
    "repeat": "method function",
    "take": "method function",
    "tolist": "method",
    "sort": "any inplace",
    "partition": "method inplace",
    "fill": "method inplace",
    "put": "method inplace",
    "resize": "method inplace",
    "itemset": "method inplace",
    "setfield": "method inplace",
    "reverse": "any inplace",
    "matmul": "function fresh",
    "outer": "function fresh",
    "tensordot": "function fresh",
    "vstack": "function fresh",
    "hstack": "function fresh",
    "trace": "method function pure",
    "einsum": "function view",  # one operand: `np.einsum("ij->ji", x)` is a view of x
    "where": "function fresh",
    "maximum": "function fresh",
    "minimum": "function fresh",
    "zeros_like": "function fresh",
    "ones_like": "function fresh",
    "zeros": "function fresh",
    "exp": "function fresh",
    "log": "function fresh",
    "sqrt": "function fresh",
    "sign": "function fresh",
    "cos": "function fresh",
    "sin": "function fresh",
    "tanh": "function fresh",
}
_TAGS: dict[str, frozenset[str]] = {name: frozenset(tags.split()) for name, tags in _TABLE.items()}
# ndarray attributes that lists, tuples and Python numbers lack, besides the views above.
ARRAY_ATTRIBUTES = frozenset({"shape", "ndim", "size", "dtype", "flat"} | {n for n, t in _TAGS.items() if "attribute" in t})


def _has(name: str, *tags: str) -> bool:
    found = _TAGS.get(name, frozenset())
    return all(tag in found for tag in tags)


def proves_array(method: str) -> bool:
    """`x.<method>(...)` makes `x` an array."""
    return _has(method, "method")


def view_method(name: str) -> bool:
    """`x.<name>(...)` or `x.<name>` may share `x`'s storage."""
    return _has(name, "view") and (_has(name, "method") or _has(name, "attribute"))


def view_function(name: str) -> bool:
    """`np.<name>(x, ...)` may share `x`'s storage."""
    return _has(name, "view", "function")


def viewed_operands(name: str, args: list[ast.expr]) -> list[ast.expr]:
    """The positional arguments of `np.<name>(*args)` whose storage the result
    may share: the array operand; none for a function that is no view. An einsum
    is a view only of a lone operand (`np.einsum("ij->ji", x)`, or the sublist
    form `np.einsum(x, [0, 1], [1, 0])`); of two or more it is a new array."""
    if not view_function(name) or not args:
        return []
    if name != "einsum":
        return args[:1]
    subscripts = args[0]
    if isinstance(subscripts, ast.Constant) and isinstance(subscripts.value, str):
        return args[1:] if len(args) == 2 else []
    return args[:1] if len(args) <= 3 else []


def recomputed_view(method: str) -> bool:
    """`x.<method>(...)` of static arguments: recomputed in the backward, not cached."""
    return _has(method, "recompute")


def fresh(name: str) -> bool:
    """A call of the function or method `name` certainly returns a new array."""
    return _has(name, "fresh")


def pure_method(method: str) -> bool:
    """`x.<method>(...)` has no side effect: computing it once is the same as twice."""
    return _has(method, "pure")


# What to write instead of an in-place method, where numpy has a function for it.
_INSTEAD = {"sort": "{0} = np.sort({0})", "partition": "{0} = np.partition({0}, kth)", "fill": "{0} = np.full_like({0}, value)"}


def in_place(method: str, owner: str) -> str | None:
    """For a method that changes its object `owner`, what to write instead; None
    for the rest."""
    if not _has(method, "inplace"):
        return None
    return "write " + _INSTEAD[method].format(owner) if method in _INSTEAD else "compute a new value and name it"


def known(name: str) -> bool:
    """Whether the table has an entry for `name`."""
    return name in _TAGS
