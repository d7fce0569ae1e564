"""A product needed only for its shape is not kept: its shape comes from its operands'."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from codegen.emit import helpers
from tests.support import check_gradients, load

SHAPES = [(), (3,), (2, 3), (4, 2, 3), (3, 5), (5, 3, 4), (1, 3), (3, 1), (2, 1, 3, 4)]


def _helper(name: str) -> Any:
    namespace: dict[str, Any] = {"np": np}
    exec(helpers.source(name, {}), namespace)
    return namespace[name]


@pytest.mark.parametrize(("helper", "product"), [("_dot_shape", np.dot), ("_matmul_shape", np.matmul)])
def test_the_shape_helpers_agree_with_numpy(helper: str, product: Any) -> None:
    shape_of = _helper(helper)
    checked = 0
    for left, right in itertools.product(SHAPES, SHAPES):
        a, b = np.ones(left), np.ones(right)
        try:
            expected = np.shape(product(a, b))
        except ValueError:
            continue
        assert shape_of(a, b) == expected, (left, right)
        checked += 1
    assert checked > 15


def test_unbroadcast_takes_a_shape_as_well_as_an_array() -> None:
    unbroadcast = _helper("_unbroadcast")
    grad = np.arange(24.0).reshape(2, 3, 4)
    for like in [np.ones((3, 1)), np.ones(4), 2.0]:
        np.testing.assert_array_equal(unbroadcast(grad, np.shape(like)), unbroadcast(grad, like))


LSTM = (Path(__file__).resolve().parents[1] / "benchmarks" / "workloads" / "lstm.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("rows", [4, 1], ids=["batch", "x-broadcast-over-the-batch"])
def test_lstm_products_stay_inline_and_gradients_are_right(rows: int) -> None:
    fwd, bwd, code = load(LSTM)
    assert "    a = x.dot(Wx) + prev_h.dot(Wh) + b\n" in code
    assert "_unbroadcast(da, _dot_shape(x, Wx))" in code
    rng = np.random.default_rng(3)
    n, d, h = 4, 3, 2
    args = [rng.standard_normal(s) for s in [(rows, d), (n, h), (n, h), (d, 4 * h), (h, 4 * h), (4 * h,)]]
    check_gradients(fwd["lstm_step"], bwd["lstm_step_backward"], args)


STACKED = '''
import numpy as np


def f(x, W, b):
    return np.sum(np.tanh(x @ W + b) ** 2)
'''


@pytest.mark.parametrize(
    ("x", "W", "b"),
    [((3, 4), (4, 5), (2, 3, 5)), ((1, 4), (4, 5), (3, 5)), ((2, 3, 4), (2, 4, 5), (5,))],
)
def test_matmul_summed_back_to_a_shape_it_never_stored(x: tuple[int, ...], W: tuple[int, ...], b: tuple[int, ...]) -> None:
    fwd, bwd, code = load(STACKED)
    assert "_matmul_shape(x, W)" in code and "x_matmul_W =" not in code
    rng = np.random.default_rng(5)
    check_gradients(fwd["f"], bwd["f_backward"], [rng.standard_normal(s) for s in (x, W, b)])


RENAMED = '''
import math
import numpy as xp


def _unbroadcast(v):
    return v


def f(A, x):
    return xp.sum(xp.tanh(A @ x)) + math.sin(2.0) * _unbroadcast(1.0)
'''


def test_helpers_take_the_modules_spelling_and_the_names_the_user_left_free() -> None:
    # The user's own `_unbroadcast` keeps its name: the helper, and every helper
    # calling it, say `_unbroadcast_1`; numpy is reached as the module spells it.
    forward, backward, code = load(RENAMED, functions=["f"])
    helper_code = code[: code.index("def f_backward")]
    assert "def _unbroadcast_1(grad, like):" in helper_code
    assert "return _unbroadcast_1(dx[..., 0, :] if xp.ndim(x) == 1 else dx, xp.shape(x))" in helper_code
    assert "_unbroadcast(" not in helper_code.replace("_unbroadcast_1(", "")
    assert "np." not in helper_code and "xp.shape(like)" in helper_code
    rng = np.random.default_rng(3)
    for shapes in [((3, 4), (4,)), ((2, 3, 4), (4, 5))]:
        A, x = (rng.standard_normal(shape) for shape in shapes)
        check_gradients(forward["f"], backward["f_backward"], [A, x])
