"""Branches and loops in every combination, each gradient checked against central differences.

Loop counts of 0 and 1 are included everywhere: a gradient path through a loop
that silently came out zero would fail here.
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import check_gradients, load

MATH = "import math\n\n\n"
NP = "import numpy as np\n\n\n"

# (name, source, argument tuples)
PROGRAMS: list[tuple[str, str, list[tuple[Any, ...]]]] = [
    (
        "branch-in-loop",
        MATH
        + """
def f(x, n: int):
    s = 0.0
    for i in range(n):
        if i % 2 == 0:
            s = s + math.sin(x * i)
        else:
            s = s * x
    return s
""",
        [(0.7, 0), (0.7, 1), (0.7, 2), (0.7, 5)],
    ),
    (
        "loop-in-branch",
        MATH
        + """
def f(x, y, n: int):
    if x > y:
        for i in range(n):
            x = x * y + 0.1
    else:
        for i in range(n):
            y = math.tanh(y + x)
    return x + y
""",
        [(0.9, 0.4, 0), (0.9, 0.4, 3), (0.2, 0.4, 1), (0.2, 0.4, 4)],
    ),
    (
        "value-dependent-branch-in-loop",
        MATH
        + """
def f(x, n: int):
    for i in range(n):
        if x > 1.0:
            x = x * 0.5
        else:
            x = x * x + 0.7
    return x
""",
        [(0.3, 0), (0.3, 1), (0.3, 6), (1.6, 3)],
    ),
    (
        "overwritten-loop-variable",
        """
def f(x, n: int):
    s = x
    for i in range(n):
        i = i * 2
        s = s * x + i
    return s
""",
        [(0.8, 0), (0.8, 1), (0.8, 4)],
    ),
    (
        "nested-loops-with-carried-values",
        """
def f(x, y, n: int, m: int):
    a = x
    b = y
    for i in range(n):
        for j in range(m):
            a = a * 0.9 + b * 0.1
        b = b * a
    return a + b
""",
        [(0.5, 0.7, 0, 3), (0.5, 0.7, 2, 0), (0.5, 0.7, 1, 1), (0.5, 0.7, 3, 2)],
    ),
    (
        "while-with-branch",
        MATH
        + """
def f(x):
    s = x
    k = 0
    while k < 5:
        if s > 2.0:
            s = math.sqrt(s)
        else:
            s = s * 1.7 + x
        k = k + 1
    return s
""",
        [(0.3,), (3.5,)],
    ),
    (
        "while-zero-iterations",
        """
def f(x):
    s = x
    while s > 100.0:
        s = s * 0.5
    return s * 3.0
""",
        [(0.3,), (450.0,)],
    ),
    (
        "loop-over-list",
        MATH
        + """
def f(ws, x):
    out = 0.0
    for w in ws:
        out = out + math.tanh(w * x)
    return out
""",
        [([], 0.4), ([0.3], 0.4), ([0.3, -1.2, 2.0], 0.4)],
    ),
    (
        "branch-assigns-only-one-side",
        """
def f(x, y):
    z = y
    if x > 0:
        z = x * y
    return z * x
""",
        [(0.5, 1.5), (-0.5, 1.5)],
    ),
    (
        "numpy-accumulate-over-rows",
        NP
        + """
def f(X, w):
    total = np.zeros_like(w)
    for row in X:
        total = total + np.tanh(row * w)
    return np.sum(total * total)
""",
        [
            (np.zeros((0, 3)), np.array([0.1, 0.2, 0.3])),
            (np.array([[0.5, -0.2, 0.1]]), np.array([0.1, 0.2, 0.3])),
            (np.array([[0.5, -0.2, 0.1], [1.0, 0.3, -0.7]]), np.array([0.1, 0.2, 0.3])),
        ],
    ),
    (
        "conditional-expression",
        MATH
        + """
def f(x, y):
    return x * y if x > y else x - y
""",
        [(1.5, 0.4), (0.4, 1.5)],
    ),
    (
        "conditional-expression-guards-a-domain",
        MATH
        + """
def f(x):
    a = math.log(x) if x > 0 else x * x
    b = math.sqrt(x) if x > 0 else -x
    return a + b
""",
        [(-1.0,), (2.0,)],
    ),
    (
        "numpy-conditional-expression-then-broadcast",
        NP
        + """
def f(x, y, c: bool):
    return (x if c else 2.0 * x) + y
""",
        [
            (np.array([[0.5, -0.2, 0.1], [1.0, 0.3, -0.7]]), np.array([0.1, 0.2, 0.3]), True),
            (np.array([[0.5, -0.2, 0.1], [1.0, 0.3, -0.7]]), np.array([0.1, 0.2, 0.3]), False),
        ],
    ),
    (
        "carried-values-feeding-each-other",
        """
def f(z, y):
    a = z * 1.0
    b = y
    for i in range(3):
        b = a * y
        a += b
    return a, b
""",
        [(0.3, 0.7), (0.3, 0.7)],
    ),
    (
        "loop-overwrites-with-a-constant",
        """
def f(z):
    a = z
    for i in range(2):
        a = 0.5
    return a * z
""",
        [(0.3,)],
    ),
    (
        "intermediate-bound-in-one-branch-of-a-loop",
        """
def f(x, p):
    for i in range(2):
        if p > 5.0:
            x = x / (p * p)
        else:
            x, p = p, x
    return p + x
""",
        [(0.3, 0.7), (0.3, 7.0)],
    ),
    (
        "list-element-added-every-iteration",
        """
def f(p, v):
    for i in range(3):
        p += v[0] * v[1]
    return p
""",
        [(0.3, [0.7, 1.0])],
    ),
    (
        "numpy-branch-on-reduction",
        NP
        + """
def f(x):
    y = x * 2.0
    if np.sum(y) > 0:
        y = np.maximum(y, -1.0)
    else:
        y = np.exp(y)
    return np.sum(y ** 2)
""",
        [(np.array([0.5, -0.2, 0.9]),), (np.array([-0.5, -0.2, 0.1]),)],
    ),
    (
        # The carried value reaches the next iteration through an intermediate.
        "carried-value-through-an-intermediate",
        """
def f(x, n: int):
    p = 1.0
    for i in range(n):
        q = p * x
        p = q
    return p
""",
        [(1.3, 0), (1.3, 1), (0.9, 5)],
    ),
    (
        # b gets a tangent in the first iteration, a only from the second.
        "carried-value-differentiated-from-the-second-iteration",
        """
def f(x, n: int):
    a = 0.0
    b = 1.0
    for i in range(n):
        a = a + b
        b = b * x
    return a
""",
        [(0.7, 0), (0.7, 1), (0.7, 3)],
    ),
    (
        "loop-over-reversed-range",
        """
def f(x, n: int):
    s = 0.0
    for i in reversed(range(n)):
        s = s * x + i
    return s
""",
        [(0.7, 0), (0.7, 1), (0.7, 4)],
    ),
    (
        # The helper's loop rebinds v, which stands for the caller's w: w itself must
        # stay as it was for the next call (B40).
        "helper-rebinding-its-parameter-called-in-a-loop",
        MATH
        + """
def _layer(v):
    for i in range(3):
        v = math.tanh(v) * 0.9
    return v


def f(x, w):
    t = math.tanh(x)
    for j in range(2):
        t = math.tanh(t + _layer(w))
    return t + w
""",
        [(0.3, 0.1), (-0.2, 0.5)],
    ),
    (
        # The helper's parameter is the conditional's value, read twice: its gradient is
        # folded into the first contribution's name and then gets a second one.
        "conditional-passed-to-a-helper-reading-it-twice",
        MATH
        + """
def soft(u):
    return u + math.tanh(u)


def f(x, y):
    return soft(x if y > 0.0 else y * x) * y
""",
        [(0.3, 0.8), (0.3, -0.6)],
    ),
]


@pytest.mark.parametrize(("name", "source", "calls"), PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_program(name: str, source: str, calls: list[tuple[Any, ...]]) -> None:
    forward, backward, _ = load(textwrap.dedent(source))
    for args in calls:
        check_gradients(forward["f"], backward["f_backward"], list(args))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "for i in range(n):\n        if x > 1:\n            return x, x\n        x = x * 2\n",
            "every way through the function must end in a return of as many values",
        ),
        ("if x > 0:\n        if x > 1:\n            return\n        x = x * 2\n", "return needs a value"),
    ],
    ids=["returns-of-different-numbers-of-values", "return-without-a-value"],
)
def test_early_exits_are_refused_clearly(body: str, message: str) -> None:
    source = f"def f(x, n: int):\n    {body}    return x\n"
    with pytest.raises(codegen.CodegenError) as info:
        codegen.generate(source)
    assert message in str(info.value)
    assert info.value.line >= 2


def test_loop_keeps_a_value_whose_rule_reads_it() -> None:
    """`x = exp(...)` then a loop over x: exp's backward reads its own value, which
    the loop must not overwrite (found by the random programs)."""
    source = textwrap.dedent(
        """
        import math


        def f(x):
            x = math.exp(math.tanh(x))
            for i in range(2):
                x = math.tanh(x) * 0.7 + 0.1
            return x
        """
    )
    forward, backward, _ = load(source)
    for value in (0.3, -1.2):
        check_gradients(forward["f"], backward["f_backward"], [value])
