"""Gradients exactly at kinks follow the conventions documented in codegen/ad/rules.py.

- `abs(x)` and `math.fabs(x)`: derivative 0 at 0 (numpy's `sign`, autograd's choice),
  also at -0.0; +-1 everywhere else, however close to 0.
- `max(a, b)` / `min(a, b)`: the whole upstream gradient goes to the argument the
  call returns, the first one on a tie; the other gets exactly 0.
- `a if cond else b`: the gradient follows the branch the forward pass took.

Central differences cannot check these points (they average both sides), so the
values are compared exactly. Away from the kinks they are checked against
central differences like everything else.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.support import check_gradients, load

G = 2.5  # an upstream gradient that is not 1, so "the whole gradient" is visible


def backward_of(source: str, name: str = "f") -> Any:
    forward, backward, _ = load(source)
    return forward[name], backward[f"{name}_backward"]


ABS_SPELLINGS = {
    "abs": "def f(x):\n    return abs(x)\n",
    "math.fabs": "import math\n\n\ndef f(x):\n    return math.fabs(x)\n",
    "from-math-fabs": "from math import fabs\n\n\ndef f(x):\n    return fabs(x)\n",
    "abs-in-numpy-module": "import numpy as np\n\n\ndef f(x):\n    return abs(x)\n",
}


@pytest.mark.parametrize("source", ABS_SPELLINGS.values(), ids=ABS_SPELLINGS.keys())
def test_abs_at_zero_is_zero(source: str) -> None:
    forward, backward = backward_of(source)
    for zero in (0.0, -0.0):
        assert forward(zero) == 0.0
        assert backward(zero, G) == 0.0
        assert backward(zero) == 0.0


@pytest.mark.parametrize("source", ABS_SPELLINGS.values(), ids=ABS_SPELLINGS.keys())
def test_abs_beside_zero_is_the_sign(source: str) -> None:
    _, backward = backward_of(source)
    for x, sign in [(1e-300, 1.0), (-1e-300, -1.0), (5e-324, 1.0), (-5e-324, -1.0), (3.0, 1.0), (-3.0, -1.0)]:
        assert backward(x, G) == sign * G, x


def test_abs_of_a_difference_at_a_tie() -> None:
    _, backward = backward_of("def f(x, y):\n    return abs(x - y) * 3.0\n")
    assert backward(0.7, 0.7, G) == (0.0, 0.0)
    assert backward(0.8, 0.7, G) == (3.0 * G, -3.0 * G)


@pytest.mark.parametrize(
    ("name", "winner_first"),
    [("max", lambda x, y: x >= y), ("min", lambda x, y: x <= y)],
)
def test_max_min_send_the_whole_gradient_to_the_returned_argument(name: str, winner_first: Any) -> None:
    forward, backward = backward_of(f"def f(x, y):\n    return {name}(x, y)\n")
    for x, y in [(0.7, 0.7), (0.0, -0.0), (-0.0, 0.0), (1.0, 1.0), (0.7, 0.2), (0.2, 0.7), (-1.0, 1.0)]:
        dx, dy = backward(x, y, G)
        if winner_first(x, y):
            assert (dx, dy) == (G, 0.0), (x, y)
        else:
            assert (dx, dy) == (0.0, G), (x, y)
        assert forward(x, y) == (x if winner_first(x, y) else y)


@pytest.mark.parametrize("name", ["max", "min"])
def test_tie_goes_to_the_first_argument_whatever_its_name(name: str) -> None:
    _, backward = backward_of(f"def f(x, y):\n    return {name}(y, x)\n")
    assert backward(0.5, 0.5, G) == (0.0, G)  # y is first


@pytest.mark.parametrize("name", ["max", "min"])
def test_same_argument_twice(name: str) -> None:
    _, backward = backward_of(f"def f(x):\n    return {name}(x, x)\n")
    assert backward(0.5, G) == G


@pytest.mark.parametrize(
    ("source", "at_zero", "below", "above"),
    [
        ("def f(x):\n    return max(x, 0.0)\n", G, 0.0, G),  # relu: x is first, so it gets the tie
        ("def f(x):\n    return max(0.0, x)\n", 0.0, 0.0, G),  # the constant is first
        ("def f(x):\n    return min(x, 0)\n", G, G, 0.0),
        ("def f(x):\n    return max(x, 0.0) * 3.0\n", 3.0 * G, 0.0, 3.0 * G),
    ],
    ids=["relu-x-first", "relu-zero-first", "min-int-constant", "scaled-relu"],
)
def test_relu_written_with_max(source: str, at_zero: float, below: float, above: float) -> None:
    _, backward = backward_of(source)
    assert backward(0.0, G) == at_zero
    assert backward(-0.5, G) == below
    assert backward(0.5, G) == above


def test_kink_inside_a_chain_uses_the_staged_values() -> None:
    # b ties with a exactly only because both are computed from x the same way.
    source = "def f(x, y):\n    a = x * 2.0\n    b = x + x\n    c = max(a, b)\n    return c * y\n"
    _, backward = backward_of(source)
    dx, dy = backward(0.3, 1.5, G)
    assert dy == 0.6 * G
    assert dx == pytest.approx(2.0 * 1.5 * G, rel=1e-15)


def test_conditional_expression_follows_the_branch_taken() -> None:
    _, backward = backward_of("def f(x, y):\n    return x * 3.0 if x > y else y * 5.0\n")
    assert backward(0.5, 0.5, G) == (0.0, 5.0 * G)  # x > y is False at the tie
    assert backward(0.6, 0.5, G) == (3.0 * G, 0.0)


@pytest.mark.parametrize(
    ("source", "args"),
    [
        ("def f(x):\n    return abs(x)\n", [0.3]),
        ("def f(x):\n    return abs(x)\n", [-0.3]),
        ("import math\n\n\ndef f(x):\n    return math.fabs(x) * x\n", [-0.4]),
        ("def f(x, y):\n    return max(x, y) - min(x, y) * 2.0\n", [0.3, -0.2]),
        ("def f(x, y):\n    return max(x, y) - min(x, y) * 2.0\n", [-0.3, 0.2]),
    ],
)
def test_away_from_kinks_gradients_match_central_differences(source: str, args: list[float]) -> None:
    forward, backward = backward_of(source)
    check_gradients(forward, backward, args)


REDUCED_MAX = {
    "axis-1": "import numpy as np\n\n\ndef f(x, w):\n    m = np.max(x, axis=1)\n    return np.sum(m * w)\n",
    "keepdims": "import numpy as np\n\n\ndef f(x, w):\n    m = np.max(x, axis=1, keepdims=True)\n    return np.sum(m[:, 0] * w)\n",
    "min": "import numpy as np\n\n\ndef f(x, w):\n    m = -np.min(-x, axis=1)\n    return np.sum(m * w)\n",
}


@pytest.mark.parametrize("source", REDUCED_MAX.values(), ids=REDUCED_MAX.keys())
def test_tied_maxima_along_an_axis_share_the_gradient(source: str) -> None:
    forward, backward = backward_of(source)
    x = np.array([[1.0, 3.0, 3.0, 3.0], [2.0, 0.5, 2.0, -1.0], [4.0, 1.0, 0.0, 2.0]])
    w = np.array([3.0, 2.0, 5.0])
    dx, _ = backward(x, w)
    # Row 0: three maxima share w[0] = 3; row 1: two share w[1] = 2; row 2: one takes 5.
    assert np.array_equal(dx, [[0.0, 1.0, 1.0, 1.0], [1.0, 0.0, 1.0, 0.0], [5.0, 0.0, 0.0, 0.0]])
    away = x + np.arange(12).reshape(3, 4) * 1e-3  # no ties: central differences agree
    check_gradients(forward, backward, [away, w])


def test_tied_maxima_of_a_pooling_loop_share_the_gradient() -> None:
    source = (
        "import numpy as np\n\n\n"
        "def pool(x):\n"
        "    N, C, H, W = x.shape\n"
        "    out = np.zeros((N, C, H // 2, W // 2))\n"
        "    for i in range(H // 2):\n"
        "        for j in range(W // 2):\n"
        "            window = x[:, :, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2]\n"
        "            out[:, :, i, j] = np.max(window, axis=(2, 3))\n"
        "    return out\n"
    )
    _, backward = backward_of(source, "pool")
    x = np.zeros((1, 1, 2, 4))
    x[0, 0, :, 2:] = [[1.0, 0.5], [1.0, 1.0]]  # the first window: four zeros; the second: three ones
    dout = np.array([[[[2.0, 6.0]]]])
    want = np.zeros((1, 1, 2, 4))
    want[0, 0, :, :2] = 0.5
    want[0, 0, :, 2:] = [[2.0, 0.0], [2.0, 2.0]]
    assert np.array_equal(backward(x, dout), want)
