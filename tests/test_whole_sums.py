"""`sum(v)` of a whole local list or array, and lists concatenated from displays,
as users write them: Python's sum adds up the items of a list and the rows of an
array (`np.sum(v, axis=0)`). Every gradient is checked against central
differences, with Python ints, floats, lists and numpy arrays passed in, in the
fused, split and forward-mode outputs."""

from __future__ import annotations

import re
import textwrap
from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import check_every_style, load, refusal

SOURCE = textwrap.dedent(
    """
    import math

    import numpy as np


    def sum_local(x):
        v = x * 2.0
        return sum(v)


    def sum_rows(m):
        r = np.tanh(m) * 1.5
        s = sum(r)
        return np.sum(s * s)


    def sum_of_difference(x, y):
        d = x - y
        return sum(d) * math.exp(0.5)


    def sum_parts(a, b):
        parts = [a * 2.0] + [b * b]
        return sum(parts)


    def sum_display_and_items(a, b):
        parts = [a, a * b]
        return sum(parts) + parts[0] * parts[1]


    def concatenated_twice(x):
        a = [x * 2.0, x]
        b = a + [x * x]
        c = a + [x]
        return b[0] + c[1] + sum(b) * sum(c)


    def joined_names(a, b):
        p = [a * a]
        q = [b, a * b]
        parts = p + q
        return sum(parts) * parts[2]


    def extended(v: list):
        w = v + [v[0] * 2.0]
        return sum(w) * v[1]


    def concatenated_then_items(v: list):
        w = v + [v[0] * 2.0]
        return w[0] * w[3] * v[1]


    def sliced(v):
        w = v[1:]
        return sum(w * w)
    """
).lstrip()

R = np.random.default_rng(11)
CALLS: list[tuple[str, tuple[Any, ...]]] = [
    ("sum_local", (R.normal(size=4),)),
    ("sum_local", (R.normal(size=(3, 2)),)),
    ("sum_local", (np.array([1, 2, 3]),)),
    ("sum_rows", (R.normal(size=(4, 3)),)),
    ("sum_rows", (R.normal(size=5),)),
    ("sum_of_difference", (R.normal(size=3), R.normal(size=3))),
    ("sum_of_difference", (R.normal(size=(2, 3)), 0.5)),
    ("sum_parts", (0.7, -1.3)),
    ("sum_parts", (2, 3)),
    ("sum_parts", (R.normal(size=3), R.normal(size=3))),
    ("sum_parts", (R.normal(size=(2, 3)), 0.4)),
    ("sum_display_and_items", (0.3, 1.7)),
    ("sum_display_and_items", (R.normal(size=3), R.normal(size=3))),
    ("concatenated_twice", (0.6,)),
    ("concatenated_twice", (2,)),
    ("concatenated_twice", (R.normal(size=2),)),
    ("joined_names", (0.5, -0.8)),
    ("joined_names", (R.normal(size=3), R.normal(size=3))),
    ("extended", ([0.5, 1.5, -2.0],)),
    ("extended", ([1, 2, 3, 4],)),
    # dv[0] was assigned after the concatenation had added into it: a silent wrong gradient
    ("concatenated_then_items", ([0.5, 1.5, -2.0],)),
    ("concatenated_then_items", ([1, 2, 3],)),
    ("sliced", (R.normal(size=4),)),
    ("sliced", (R.normal(size=(3, 2)),)),
]


@pytest.mark.parametrize(("name", "args"), CALLS, ids=[f"{name}-{i}" for i, (name, _) in enumerate(CALLS)])
def test_gradient(name: str, args: tuple[Any, ...]) -> None:
    check_every_style(SOURCE, name, args)


# Hessian-vector products read `list(dc[: len(a)])` of a concatenation in the backward,
# which forward mode refuses (as on main for `x + [v]` of a list parameter).
@pytest.mark.parametrize("name", ["sum_local", "sum_rows", "sum_of_difference", "sum_display_and_items", "sliced"])
def test_hessian_vector_products_generate(name: str) -> None:
    assert f"def {name}_hvp(" in codegen.generate(SOURCE, functions=[name], mode="hvp")


def test_an_array_is_summed_over_its_first_axis_and_a_list_by_its_items() -> None:
    code = codegen.generate(SOURCE, functions=["sum_local", "sum_parts"])
    assert "out = np.sum(v, axis=0)" in code
    assert "parts = parts_list + [b * b]" in code and "out = sum(parts)" in code


def test_a_gradient_of_a_whole_list_added_twice_adds_entry_by_entry() -> None:
    """`da = list(dc[: len(a)])`, then the second gradient of the whole list: `+=`
    extended the list, and da[0] kept only the first (a silent wrong gradient)."""
    _, backward, code = load(SOURCE, functions=["concatenated_twice"])
    assert "da += list(" not in code
    x = 0.6
    # f = 2x + x + (3x + x**2) * 4x
    want = 3.0 + (3.0 + 2 * x) * 4 * x + (3 * x + x * x) * 4
    assert backward["concatenated_twice_backward"](x) == pytest.approx(want, rel=1e-12)


REFUSED = [
    ("repeated-by-an-int", "import numpy as np\n\n\ndef f(x, n: int):\n    a = x * n\n    return sum(a)\n",
     r"6:12: .*sum\(a\) of a whole value that the kinds prove neither a list nor an array .*np.sum\(a, axis=0\)"),
    ("a-number", "import numpy as np\n\n\ndef f(x: float):\n    a = x * 2.0\n    return sum(a)\n",
     r"6:12: .*sum\(a\): a is a number, which sum cannot iterate"),
    ("no-numpy", "def f(x):\n    a = x * 2.0\n    return sum(a)\n", r"3:12: .*sum\(a\)"),
]


@pytest.mark.parametrize(("source", "message"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_refused(source: str, message: str) -> None:
    assert re.search(message, refusal(source))
