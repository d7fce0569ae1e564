"""The shape tags of the rule rows (`Rule.shape`, read through
`codegen.infer.shape_rules`): every row has one, a row of kind "other" cannot be
made without one, and what a tag says of ranks and shapes is what numpy does,
for `Ranks` and `Dims` alike."""

from __future__ import annotations

import ast
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from codegen import ir
from codegen.ad.rules import RULES, Rule, defrule
from codegen.infer import results, shape_rules
from codegen.infer.dims import Dims
from codegen.infer.shape_rules import SHAPES
from codegen.infer.shapes import SCALAR, Ranks, ShapeKeys


def _normalize(x: Any) -> Any:
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def _log_softmax(x: Any) -> Any:
    return x - np.log(np.sum(np.exp(x), axis=-1, keepdims=True))


def _staged(combine: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """A softmax whose second operand is the keepdims sum of exponentials of its first."""

    def staged(x: Any, total: Any) -> Any:
        if np.ndim(x) == 0 or np.shape(total) != np.shape(np.sum(x, axis=-1, keepdims=True)):
            raise ValueError("not a staged softmax")
        return combine(x, total)

    return staged


def _exponent_of(e: Any, s: Any) -> Any:
    """`s`, the exponent of a staged `e = np.exp(s)`: of e's shape."""
    if np.shape(e) != np.shape(s):
        raise ValueError("not the exponent")
    return s


# Row -> (what numpy computes, the static arguments of the lowered operation).
# Every row whose tag says something of its shape beyond broadcasting needs one.
CALLS: dict[str, tuple[Callable[..., Any], dict[str, str]]] = {
    "numpy.T": (lambda x: x.T, {}),
    "numpy.mT": (lambda x: x.mT, {}),
    "numpy.transpose": (np.transpose, {}),
    "numpy.transpose.axes": (lambda x: np.transpose(x, tuple(reversed(range(x.ndim)))), {}),
    "numpy.moveaxis": (lambda x: np.moveaxis(x, 0, -1), {}),
    "numpy.rollaxis": (lambda x: np.rollaxis(x, -1), {}),
    "numpy.pad": (lambda x: np.pad(x, 1), {}),
    "numpy.diff": (np.diff, {}),
    "numpy.flip": (np.flip, {}),
    "numpy.copy": (np.copy, {}),
    "numpy.float": (lambda x: x.astype(float), {}),
    "numpy.float64": (np.float64, {}),
    "numpy.diag": (np.diag, {}),
    "setitem": (lambda x, v: x, {}),
    "numpy.normalize": (_normalize, {"axis": "-1"}),
    "numpy.normalize.staged": (_staged(lambda x, s: np.exp(x) / s), {"axis": "-1"}),
    "numpy.log_softmax": (_log_softmax, {"axis": "-1"}),
    "numpy.log_softmax.staged": (_staged(lambda x, s: x - np.log(np.abs(s))), {"axis": "-1"}),
    "numpy.linalg.inv": (np.linalg.inv, {}),
    "numpy.linalg.det": (np.linalg.det, {}),
    "numpy.linalg.slogdet": (lambda x: np.linalg.slogdet(x)[1], {}),
    "numpy.linalg.solve": (np.linalg.solve, {}),
    "numpy.matmul": (np.matmul, {}),
    "numpy.dot": (np.dot, {}),
    "numpy.inner": (np.inner, {}),
    "numpy.ravel": (np.ravel, {}),
    "numpy.reshape": (lambda x: np.reshape(x, (3, -1)), {"shape": "(3, -1)"}),
    "numpy.sum": (lambda x: np.sum(x, axis=0), {"axis": "0"}),
    "numpy.mean": (lambda x: np.mean(x, axis=(0,), keepdims=True), {"axis": "(0,)", "keepdims": "True"}),
    "numpy.max": (np.max, {}),
    "numpy.sumsq": (lambda x: np.sum(x * x), {}),
    "numpy.softmax_nll": (lambda x, picked: -np.sum(picked), {}),
    "numpy.log_softmax_nll": (lambda x, picked: -np.sum(picked), {}),
    "numpy.softmax_nll.picks": (lambda x, picked: -np.sum(picked), {}),
    "numpy.log_softmax_nll.picks": (lambda x, picked: -np.sum(picked), {}),
    # p = e / sum(e) of a staged e = np.exp(s): e's shape (s is e's exponent, of its shape)
    "numpy.normalize.exp": (lambda e, s: _normalize(_exponent_of(e, s)), {"axis": "-1"}),
    "numpy.normalize.staged.exp": (
        lambda e, t, s: _staged(lambda x, total: np.exp(x) / total)(_exponent_of(e, s), t),
        {"axis": "-1"},
    ),
}
# The tag of a row that names none, by its kind: elementwise and scalar rows are many, and alike.
_OF_KIND = {"scalar": "number", "elementwise": "broadcast", "reduce": "reduce"}
OPERAND_SHAPES = [(), (1,), (3,), (3, 1), (3, 3), (2, 3, 1), (2, 3, 3), (2, 2, 3, 3)]


def test_every_row_names_a_shape_tag() -> None:
    missing = sorted(name for name, row in RULES.items() if row.shape not in SHAPES)
    assert not missing, f"rows without a shape tag of codegen.infer.shape_rules.SHAPES: {missing}"


def test_a_row_of_kind_other_without_a_shape_tag_is_refused() -> None:
    with pytest.raises(ValueError, match="no shape tag"):
        Rule("numpy.new_op", ("x",), (ast.Name("g", ast.Load()),), kind="other")
    with pytest.raises(ValueError, match="no shape tag"):
        defrule("numpy.new_op", "x", "g", kind="other")
    with pytest.raises(ValueError, match="no shape tag"):
        defrule("numpy.new_op", "x", "g", kind="other", shape="same shape")
    assert "numpy.new_op" not in RULES


def test_elementwise_rows_and_only_they_broadcast() -> None:
    """The differentiator sums an elementwise row's gradients back by broadcasting;
    the shape stages read the same fact from the tag."""
    wrong = sorted(name for name, row in RULES.items() if (row.kind == "elementwise") != (row.shape == "broadcast"))
    assert not wrong


def test_every_tag_is_some_rows() -> None:
    assert {row.shape for row in RULES.values()} == set(SHAPES)


def test_every_shaped_row_has_a_numpy_case() -> None:
    """A row whose tag claims a shape gets a case below that holds it to numpy."""
    claimed = {name for name, row in RULES.items() if row.shape not in ("unknown", _OF_KIND.get(row.kind))}
    missing = sorted(claimed - set(CALLS))
    assert not missing, f"rows with a shape tag and no case in tests/test_shape_rules.py CALLS: {missing}"
    assert all(RULES[name].shape not in ("unknown", "broadcast") for name in CALLS)


def _numpy_result(row: str, shapes: tuple[tuple[int, ...], ...]) -> Any:
    function, _ = CALLS[row]
    rng = np.random.default_rng(0)
    arrays = [np.asarray(rng.normal(size=s) + (3 * np.eye(3) if s[-2:] == (3, 3) else 0)) for s in shapes]
    try:
        return np.asarray(function(*arrays))
    except (ValueError, np.linalg.LinAlgError, IndexError):
        return None  # numpy refuses these operands: nothing to compare


def _op(row: str, count: int) -> ir.Op:
    names = [f"a{i}" for i in range(count)]
    keywords = {k: ast.parse(v, mode="eval").body for k, v in CALLS[row][1].items()}
    args: list[ir.Node] = [ir.Leaf(ast.Name(n, ast.Load()), n) for n in names]
    return ir.Op(RULES[row], args, keywords, ast.Name("__0__", ast.Load()))


@pytest.mark.parametrize("row", sorted(CALLS))
def test_tag_says_what_numpy_does(row: str) -> None:
    """Ranks (from the operands' ranks alone) and Dims (from their literal shapes)
    give numpy's rank and shape, or say nothing."""
    count = 1 if RULES[row].variadic else len(RULES[row].args)
    compared = 0
    for shapes in itertools.product(OPERAND_SHAPES, repeat=count):
        result = _numpy_result(row, shapes)
        if result is None:
            continue
        op = _op(row, count)
        ranks = Ranks(set())
        ranks.ranks.update({f"a{i}": len(s) for i, s in enumerate(shapes)})
        rank = ranks.rank(op)
        assert rank is None or rank == result.ndim, (row, shapes, rank, result.shape)
        dims = Dims(set())
        dims.shapes.update({f"a{i}": s for i, s in enumerate(shapes)})
        shape = dims.shape(op)  # a dimension it cannot tell is None
        assert shape is None or _agree(shape, result.shape), (row, shapes, shape, result.shape)
        compared += rank is not None
    assert compared, f"{row}: Ranks knew no rank for any operands numpy accepts"


@pytest.mark.parametrize("k", [-3, -1, 0, 1, 2, None])
def test_diag_with_an_offset_is_numpys(k: int | None) -> None:
    """np.diag(x, k) of vectors and of square, wide and tall matrices; an offset not
    written literally (None here: a name) leaves the sizes unknown."""
    keywords = {} if k == 0 else {"k": ast.Constant(k) if k is not None else ast.Name("k", ast.Load())}
    op = ir.Op(RULES["numpy.diag"], [ir.Leaf(ast.Name("a0", ast.Load()), "a0")], keywords, ast.Name("__0__", ast.Load()))
    for shape in [(1,), (3,), (3, 3), (2, 4), (4, 2), (1, 3), (3, 1)]:
        result = np.diag(np.ones(shape), k or 0)
        dims = Dims(set())
        dims.shapes["a0"] = shape
        found = dims.shape(op)
        assert found is not None and _agree(found, result.shape), (shape, k, found, result.shape)
        assert k is None or None not in found, (shape, k, found)
        ranks = Ranks(set())
        ranks.ranks["a0"] = len(shape)
        assert ranks.rank(op) == result.ndim


def _agree(shape: tuple[int | str | None, ...], exact: tuple[int, ...]) -> bool:
    return len(shape) == len(exact) and all(d is None or d == e for d, e in zip(shape, exact))


@pytest.mark.parametrize(("left", "right"), list(itertools.product(range(5), repeat=2)))
def test_product_rank_is_numpys(left: int, right: int) -> None:
    x, y = np.ones((2,) * left), np.ones((2,) * right)
    for stacked, product in ((True, np.matmul), (False, np.dot), (False, np.inner)):
        try:
            expected: int | None = np.ndim(product(x, y))
        except ValueError:
            expected = None
        assert shape_rules.product_rank(left, right, stacked) == expected, (product, left, right)


RESHAPES = {
    "x.reshape(N, -1)": 2,
    "x.reshape((N, T, V))": 3,
    "x.reshape([N])": 1,
    "x.reshape(N)": 1,
    "x.reshape(shape)": None,  # a name may hold a whole shape
    "x.reshape((*lead, 3))": None,
    "x.reshape(*sizes)": None,
}


@pytest.mark.parametrize("call", sorted(RESHAPES))
def test_reshaped_rank(call: str) -> None:
    node = ast.parse(call, mode="eval").body
    assert isinstance(node, ast.Call)
    assert shape_rules.reshaped_rank(node.args, lambda size: isinstance(size, ast.Name) and size.id == "N") == RESHAPES[call]


def test_same_shape_rows_share_a_shape_key() -> None:
    keys = ShapeKeys(set())
    for name, row in RULES.items():
        op = ir.Op(row, [ir.Leaf(ast.Name("x", ast.Load()), "x")] * max(len(row.args), 1), {}, ast.Name("x", ast.Load()))
        key = keys.key(op)
        if row.shape == "same":
            assert key == "x", name
        elif row.shape == "number":
            assert key == SCALAR, name


# A call and the name codegen resolves it to: whether it reduces to a number is the
# row's "reduce" tag (aliases such as amax reach numpy.max's row).
REDUCTIONS = {
    "np.sum(x)": "numpy.sum",
    "x.mean()": "method.mean",
    "np.amax(x)": "numpy.amax",
    "x.std()": "method.std",
    "np.linalg.norm(x)": "numpy.linalg.norm",
    "np.sum(x, axis=0)": "numpy.sum",
    "np.sum(x, 0)": "numpy.sum",
    "x.max(1)": "method.max",
    "np.cumsum(x)": "numpy.cumsum",
    "np.ravel(x)": "numpy.ravel",
}


@pytest.mark.parametrize("call", sorted(REDUCTIONS))
def test_reduces_everything_is_numpys(call: str) -> None:
    node = ast.parse(call, mode="eval").body
    assert isinstance(node, ast.Call)
    value = eval(call, {"np": np, "x": np.arange(6.0).reshape(2, 3) + 1})
    assert results.reduces_everything(node, REDUCTIONS[call]) == (np.ndim(value) == 0)
