"""`break`, `continue` and `return` anywhere in loops and branches (issue 17).

Each program's gradients are checked against central differences on inputs that
leave at different iterations (and never), in fused style; split style and
forward mode are checked against the fused backward.
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import check_forward_mode, check_gradients, check_split_style, load
from tests.test_hvp import check_hvp

HEAD = "import math\n\nimport numpy as np\n\n\n"

# (name, source, the function, argument tuples)
PROGRAMS: list[tuple[str, str, list[tuple[Any, ...]]]] = [
    (
        "for-break",
        """
def f(x, n: int):
    for i in range(n):
        x = math.sin(x) + 0.5 * x + 0.4
        if x > 1.0:
            break
        x = x * 1.1
    return x * x
""",
        # the break taken at the first iteration, a later one, never; no iteration
        [(1.5, 4), (0.1, 6), (-2.0, 2), (0.3, 0), (0.2, 1)],
    ),
    (
        "while-break-on-a-count",
        """
def f(x, tol):
    err = x
    it = 0
    while err > tol:
        err = err * 0.5 + 0.01 * math.sin(err)
        it += 1
        if it > 3:
            break
    return err
""",
        [(2.0, 1e-3), (2.0, 0.6), (2.0, 1.5), (0.1, 0.5)],
    ),
    (
        "return-in-for",
        """
def f(x, n: int):
    for i in range(n):
        x = x * 1.5
        if x > 2.0:
            return x * x
    return x + 1.0
""",
        [(3.0, 3), (1.0, 3), (0.5, 3), (0.1, 2), (1.0, 0)],
    ),
    (
        "continue-before-more-of-the-iteration",
        """
def f(x, n: int):
    for i in range(n):
        if x > 1:
            if x > 2:
                continue
            x = x + 1
        x = x * 2
    return x
""",
        [(0.3, 3), (1.5, 2), (2.5, 2), (0.7, 4)],
    ),
    (
        "loop-variable-read-after-a-break",
        """
def f(x, n: int):
    for i in range(n):
        x = x * 1.3
        if x > 3.0:
            break
    return x * i
""",
        [(1.0, 8), (2.5, 8), (0.1, 3)],
    ),
    (
        "for-else-with-break",
        """
def f(x, n: int):
    for i in range(n):
        x = x * 0.9 + 0.3
        if x > 1.0:
            break
    else:
        x = x * 3.0
    return x
""",
        [(0.95, 3), (0.5, 2), (0.2, 0), (1.2, 2)],
    ),
    (
        "return-in-a-nested-branch",
        """
def f(x):
    if x > 0:
        if x > 1:
            return x * x
        x = x * 2
    return x + math.exp(x)
""",
        [(1.5,), (0.5,), (-0.5,)],
    ),
    (
        "return-from-an-inner-loop",
        """
def f(x, n: int):
    s = 0.0
    for i in range(n):
        for j in range(n):
            s = s + x * (i + 1) + j
            if s > 5.0:
                return s * x
        s = s * 0.5
    return s
""",
        [(0.2, 3), (1.0, 3), (0.9, 4), (0.01, 2)],
    ),
    (
        "two-returns-of-two-values-in-a-while",
        """
def f(x, y):
    k = 0
    while k < 6:
        x = x * y
        k += 1
        if x > 4.0:
            return x, y * k
        if x < -4.0:
            return -x, y
    return x + y, x * y
""",
        [(1.0, 1.5), (-1.0, 1.5), (0.5, 0.9), (1.0, 3.0)],
    ),
    (
        "continue-in-a-while",
        """
def f(x, n: int):
    i = 0
    while i < n:
        i += 1
        if i % 2 == 0:
            continue
        x = math.tanh(x) * 1.2 + 0.1
    return x
""",
        [(0.4, 0), (0.4, 1), (0.4, 5)],
    ),
    (
        "break-and-continue-in-one-loop",
        """
def f(x, n: int):
    s = 0.0
    for i in range(n):
        if i == 1:
            continue
        s = s + x * i
        if s > 2.0:
            break
        s = s * x
    return s
""",
        [(0.55, 5), (0.45, 5), (1.5, 5), (3.0, 4), (0.2, 2)],
    ),
    (
        "numpy-gradient-descent-stopping-at-a-tolerance",
        """
def f(w, X, y, steps: int):
    loss = 0.0
    for it in range(steps):
        r = X @ w - y
        loss = np.sum(r * r)
        if loss < 0.5:
            break
        w = w - 0.05 * (X.T @ r)
    return loss + np.sum(w * w)
""",
        [
            (np.array([0.1, -0.2]), np.array([[1.0, 0.5], [0.3, 1.2], [0.2, 0.1]]), np.array([1.0, 0.3, -0.5]), s)
            for s in (0, 1, 3, 30)
        ],
    ),
    (
        "svm-loss-with-continue",
        """
def f(W, X, y, reg):
    loss = 0.0
    num_classes = W.shape[1]
    num_train = X.shape[0]
    for i in range(num_train):
        scores = X[i].dot(W)
        correct_class_score = scores[y[i]]
        for j in range(num_classes):
            if j == y[i]:
                continue
            margin = scores[j] - correct_class_score + 1
            if margin > 0:
                loss += margin
    loss /= num_train
    loss += reg * np.sum(W * W)
    return loss
""",
        [
            (
                np.random.default_rng(0).normal(size=(4, 3)),
                np.random.default_rng(1).normal(size=(5, 4)),
                [0, 2, 1, 1, 0],
                0.1,
            )
        ],
    ),
    (
        # A helper's `while True:` left by a return and by a break, inlined.
        "while-true-with-a-return-and-a-break-in-a-helper",
        """
def _settle(v, tol):
    k = 0
    while True:
        v = 0.5 * v + 0.1 * np.tanh(v)
        k += 1
        if np.sum(v * v) < tol:
            return v * 2.0
        if k >= 5:
            break
    return v


def f(x, tol):
    return np.sum(_settle(x, tol) * x)
""",
        [(np.array([0.3, -0.2]), 0.01), (np.array([0.3, -0.2]), 1e-6), (np.array([0.01, 0.02]), 0.01)],
    ),
    (
        "break-in-a-loop-over-rows",
        """
def f(x, X):
    \"\"\"Rows until the sum is large.\"\"\"
    s = 0.0
    for row in X:
        s = s + np.sum(row * x)
        if s > 1.0:
            break
    return s * s
""",
        [(np.array([0.5, 0.4]), np.array([[1.0, 0.2], [0.9, 0.8], [0.3, 0.1]])), (np.array([0.1, 0.1]), np.ones((3, 2)))],
    ),
    (
        "a-break-then-an-early-return-at-the-top-level",
        """
def f(x, n: int):
    for i in range(n):
        if x > 1.0:
            break
        x = x * 1.7
    if x > 1.5:
        return x * x
    return -x
""",
        [(0.3, 4), (0.8, 4), (1.2, 2), (0.2, 1)],
    ),
    (
        "name-first-bound-in-the-loop-read-after-a-break",
        """
def f(x, n: int):
    for i in range(n):
        y = x * (i + 1)
        if y > 2.0:
            break
        x = x + 0.25
    return y * x
""",
        [(0.5, 6), (3.0, 3), (0.1, 2)],
    ),
]


@pytest.mark.parametrize(("name", "source", "calls"), PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_gradients(name: str, source: str, calls: list[tuple[Any, ...]]) -> None:
    forward, backward, _ = load(HEAD + textwrap.dedent(source))
    for args in calls:
        check_gradients(forward["f"], backward["f_backward"], list(args))


@pytest.mark.parametrize(("name", "source", "calls"), PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_split_style_and_forward_mode(name: str, source: str, calls: list[tuple[Any, ...]]) -> None:
    text = HEAD + textwrap.dedent(source)
    forward, backward, _ = load(text)
    codegen.generate(text, style="split")  # not refused
    codegen.generate(text, mode="forward")
    for args in calls:
        check_split_style(text, "f", forward["f"], backward["f_backward"], list(args))
        check_forward_mode(text, "f", forward["f"], backward["f_backward"], list(args))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(("name", "source", "calls"), PROGRAMS[:6], ids=[p[0] for p in PROGRAMS[:6]])
def test_hessian_vector_products(name: str, source: str, calls: list[tuple[Any, ...]]) -> None:
    check_hvp(HEAD + textwrap.dedent(source), "f", calls)


def test_the_rewrite_reads_as_the_user_wrote_it() -> None:
    code = codegen.generate(HEAD + textwrap.dedent(PROGRAMS[1][1]))
    assert "while not stopped and err > tol:" in code
    code = codegen.generate(HEAD + textwrap.dedent(PROGRAMS[0][1]))
    assert "if not stopped:" in code


def test_a_name_bound_in_one_branch_in_a_loop_gets_its_gradient() -> None:
    """Read after the loop, it is the value of the last iteration that bound it; its
    gradient was once dropped (held constant), then added in every such iteration."""
    source = textwrap.dedent(
        """
        def f(x, n: int):
            for i in range(n):
                if x * i < 3.0:
                    y = x * i
            return y
        """
    )
    forward, backward, _ = load(source)
    for args in [(0.7, 3), (0.7, 8), (1.0, 2)]:
        check_gradients(forward["f"], backward["f_backward"], list(args))


def test_a_way_through_without_a_return_is_refused() -> None:
    source = "def f(x):\n    for i in range(3):\n        if x > 1.0:\n            return x\n        x = x * 2.0\n"
    with pytest.raises(codegen.CodegenError) as info:
        codegen.generate(source)
    assert "every way through the function must end in a return" in str(info.value)
    assert (info.value.line, info.value.column) == (4, 13)


def test_a_name_bound_in_one_branch_then_by_a_loop_that_breaks() -> None:
    """`i` is bound before the loop on one path only; the loop rebinds it (read after
    the loop, it is bound inside the guard) and copied its entry value, unbound on
    the other path (found by the random programs)."""
    source = textwrap.dedent(
        """
        def f(x, y):
            if x > 0.5:
                i = 0
                while i < 2:
                    x = x * 0.5
                    i += 1
            for i in range(3):
                y = y * x + 0.1
                if y > 1.0:
                    break
            return y * i
        """
    )
    forward, backward, _ = load(source)
    for args in [(0.3, 0.2), (0.9, 0.2), (0.3, 4.0), (0.9, 3.0)]:
        check_gradients(forward["f"], backward["f_backward"], list(args))
        check_split_style(source, "f", forward["f"], backward["f_backward"], list(args))
        check_forward_mode(source, "f", forward["f"], backward["f_backward"], list(args))
