"""Code written the way public numpy layers, losses and benchmarks write it.

Each program is differentiated in every style: the fused backward checked
against central differences, the split forward/backward pair against the fused
one, and forward mode against reverse mode.  The constructs that stay
unsupported are refused with their position and, where one exists, the
rewrite that works.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import check_forward_mode, check_gradients, check_split_style, load
from tests.test_golden import CASES, split_case

RNG = np.random.default_rng(17)
SPD = np.array([[2.0, 0.3, -0.2], [0.1, 1.5, 0.4], [-0.3, 0.2, 1.8]])

# (id, source, function, argument tuples)
PROGRAMS: list[tuple[str, str, str, list[tuple[Any, ...]]]] = [
    (
        "unpack-array-parameter",
        """
        import numpy as np

        def branin(x):
            x1, x2 = x
            a, b, c = 1.0, 5.1 / (4 * np.pi**2), 5 / np.pi
            return a * (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * np.pi)) * np.cos(x1) + 10
        """,
        "branin",
        [(np.array([0.3, 2.1]),), (np.array([-2.0, 5.0]),)],
    ),
    (
        "unpack-list-parameter",
        """
        import math

        def rosen(x):
            x1, x2 = x
            return 100 * (x2 - x1 * x1) ** 2 + (1 - x1) ** 2 + math.exp(0.1 * x2)
        """,
        "rosen",
        [([0.3, -0.7],), ([1.1, 0.4],)],
    ),
    (
        "unpack-map-asarray",
        """
        import numpy as np

        def gaussian_loss(x, mu, sigma):
            mu, sigma = map(np.asarray, (mu, sigma))
            z = (x - mu) / sigma
            return np.sum(0.5 * z**2 + np.log(sigma))
        """,
        "gaussian_loss",
        [(RNG.normal(size=4), RNG.normal(size=4), RNG.uniform(0.5, 1.5, size=4))],
    ),
    (
        "unpack-rows",
        """
        import numpy as np

        def pairwise(P):
            a, b = P
            return np.sum((a - b) ** 2) + np.sum(np.tanh(a))
        """,
        "pairwise",
        [(RNG.normal(size=(2, 3)),)],
    ),
    (
        "local-aliases",
        """
        import numpy as np

        def mlp(x, w1, w2):
            tanh, exp = np.tanh, np.exp
            h = tanh(x @ w1)
            s = h @ w2
            e = exp(s - s.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        """,
        "mlp",
        [(RNG.normal(size=(4, 3)), RNG.normal(size=(3, 5)), RNG.normal(size=(5, 2)))],
    ),
    (
        "star-import",
        """
        from numpy import *

        def loss(w: "D", X: "N D", y):
            p = 1 / (1 + exp(-dot(X, w)))
            return -mean(y * log(p) + (1 - y) * log(1 - p)) + 0.1 * linalg.norm(w, ord=1, axis=0)
        """,
        "loss",
        [(RNG.normal(size=3), RNG.normal(size=(5, 3)), (RNG.uniform(size=5) > 0.5) * 1.0)],
    ),
    (
        "gaussian-logpdf",
        """
        import numpy as np

        def logpdf(x: "D", mu: "D", S: "D D"):
            d = x - mu
            sign, logdet = np.linalg.slogdet(S)
            return -0.5 * (logdet + d @ np.linalg.solve(S, d) + len(x) * np.log(2 * np.pi))
        """,
        "logpdf",
        [(RNG.normal(size=3), RNG.normal(size=3), SPD @ SPD.T)],
    ),
    (
        "array-manipulation",
        """
        import numpy as np

        def conv1d(x, k):
            xp = np.pad(x, (1, 1))
            cols = np.stack([xp[:-2], xp[1:-1], xp[2:]], axis=1)
            y = np.tensordot(cols, k, axes=1)
            return np.sum(np.cumsum(np.flip(y)) ** 2) + np.sum(np.diff(y) ** 2)
        """,
        "conv1d",
        [(RNG.normal(size=6), RNG.normal(size=3))],
    ),
    (
        "rastrigin-generator",
        """
        import numpy as np

        def rastrigin(x):
            return 10 * len(x) + sum(xi**2 - 10 * np.cos(2 * np.pi * xi) for xi in x)
        """,
        "rastrigin",
        [(RNG.normal(size=4),), (np.zeros(0) + 0.3,)],
    ),
    (
        "rosenbrock-list-comprehension",
        """
        def rosenbrock(x):
            return sum([100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1)])
        """,
        "rosenbrock",
        [([0.3, -0.2, 0.8],), ([1.1, 0.9],)],
    ),
    (
        "np-sum-of-comprehension-with-condition",
        """
        import numpy as np

        def f(a, w):
            s = np.sum([w[i] * a[i] ** 2 for i in range(len(a)) if i % 2 == 0])
            t = sum(np.sum(np.tanh(row) * w[:3]) for row in a.reshape(-1, 3))
            return s * t + sum([w[0], w[1] * a[0]])
        """,
        "f",
        [(RNG.normal(size=6), RNG.normal(size=6))],
    ),
    (
        "comprehension-variable-shadows",
        """
        import math

        def f(x, y):
            i = x * 2
            s = sum(math.sin(i * y) for i in [x, y, 1.5])
            return s + i
        """,
        "f",
        [(0.4, -0.7)],
    ),
    (
        "list-displays",
        """
        import numpy as np

        def f(a, b):
            coeffs = [1.0, a * a, 2.0]
            v = np.array([a, b, a * b])
            m = np.array([[a, b], [b, 2.0]])
            return coeffs[1] * v[2] + coeffs[0] * np.sum(v ** 2) + np.linalg.det(m) + coeffs[-1]
        """,
        "f",
        [(0.7, -0.4)],
    ),
    (
        "list-of-parameters",
        """
        import numpy as np

        def layer(x, W, b):
            params = [W, b]
            h = np.tanh(x @ params[0] + params[1])
            return np.sum(h * h)
        """,
        "layer",
        [(RNG.normal(size=(4, 3)), RNG.normal(size=(3, 2)), RNG.normal(size=2))],
    ),
    (
        "svm-loss-naive-continue",
        """
        import numpy as np

        def svm_loss_naive(W: "D C", X: "N D", y, reg):
            num_classes = W.shape[1]
            num_train = X.shape[0]
            loss = 0.0
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
        "svm_loss_naive",
        [(RNG.normal(size=(4, 3)) * 0.1, RNG.normal(size=(5, 4)), np.array([0, 2, 1, 2, 0]), 0.1)],
    ),
    (
        "continue-in-else-and-for-else",
        """
        import math

        def f(x, n: int):
            s = 0.0
            for i in range(n):
                if i % 3 == 0:
                    s = s + math.sin(x * i)
                else:
                    s = s * 0.5
                    continue
                s = s + x
            else:
                s = s * x
            k = 0
            while k < 2:
                s = math.tanh(s) + x
                k += 1
            else:
                s = s * 2
            return s
        """,
        "f",
        [(0.3, 0), (0.3, 1), (0.7, 5)],
    ),
    (
        "early-return",
        """
        import math

        def huber(r, delta):
            a = abs(r)
            if a <= delta:
                return 0.5 * r * r
            return delta * (a - 0.5 * delta)

        def f(x, y):
            if x > y:
                z = x * y
                return math.sin(z), z
            w = y * y
            return w + huber(x, 1.0), x
        """,
        "f",
        [(0.9, 0.2), (0.2, 0.9), (-3.0, 0.5)],
    ),
    (
        "returns-in-every-branch",
        """
        import math

        def piecewise(x, y):
            if x > y:
                return x * y
            elif x > 0:
                z = math.sin(x)
                return z * y
            else:
                if y > 0:
                    return -x
            w = y * y
            return w + x
        """,
        "piecewise",
        [(0.9, 0.2), (0.2, 0.9), (-3.0, 0.5), (-3.0, -4.0)],
    ),
]


def _source(text: str) -> str:
    return textwrap.dedent(text).strip() + "\n"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(("source", "name", "calls"), [p[1:] for p in PROGRAMS], ids=[p[0] for p in PROGRAMS])
def test_program(source: str, name: str, calls: list[tuple[Any, ...]]) -> None:
    source = _source(source)
    forward, backward, code = load(source)
    for options in ({"style": "split"}, {"mode": "forward"}):
        codegen.generate(source, **options)  # the checks below skip a refusal
    for args in calls:
        try:
            check_gradients(forward[name], backward[f"{name}_backward"], list(args))
        except AssertionError as error:
            raise AssertionError(f"{error}\n--- generated\n{code}") from None
        check_split_style(source, name, forward[name], backward[f"{name}_backward"], list(args))
        check_forward_mode(source, name, forward[name], backward[f"{name}_backward"], list(args))


# (id, source, the message's expected text)
REFUSED: list[tuple[str, str, str]] = [
    (
        "slogdet-whole",
        "import numpy as np\n\ndef f(a):\n    return np.linalg.slogdet(a) * 2\n",
        r"4:12: .*np.linalg.slogdet returns \(sign, logdet\): unpack it",
    ),
    (
        "unpack-starred",
        "import numpy as np\n\ndef f(x):\n    a, *rest = x\n    return a\n",
        r"4:\d+: .*only names can be unpacked into",
    ),
    (
        "norm-unknown-rank",
        "import numpy as np\n\ndef f(x):\n    return np.linalg.norm(x, 1)\n",
        r"4:12: .*pass axis=-1 for a vector norm",
    ),
    (
        "diff-n",
        "import numpy as np\n\ndef f(x):\n    return np.diff(x, n=2)\n",
        r"4:12: .*write np.diff\(np.diff\(x\)\)",
    ),
    (
        "returns-of-different-lengths",
        "def f(x):\n    if x > 0:\n        return x, 2 * x\n    return x\n",
        r"3:9: .*every way through the function must end in a return of as many values",
    ),
    (
        # Read as a method of a value, tf.reshape(t, ...) took t for a shape: no gradient.
        "call-of-an-unknown-module",
        "def f(t):\n    return tf.reshape(t, (-1,)) * 2.0\n",
        r"2:12: .*tf.reshape: tf is not a module codegen knows",
    ),
    (
        "list-comprehension-in-or",
        "import numpy as np\n\ndef f(x):\n    return np.array([v * 2 for v in x] or [x[0]])\n",
        r"4:21: .*list comprehensions are not supported here \(in `and`/`or` or a while test\)",
    ),
    (
        "returned-list",
        "def f(x):\n    return [x, 2 * x]\n",
        r"2:12: .*returning a list is not supported: return a tuple, or np.array",
    ),
]


@pytest.mark.parametrize(("source", "message"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_refused(source: str, message: str) -> None:
    with pytest.raises(codegen.CodegenError, match=message):
        codegen.generate(source)


# The golden cases of these constructs, in the styles test_golden does not check.
GOLDEN = [
    "numpy_arrays", "numpy_linalg", "comprehensions", "early_exits", "list_displays", "star_import_aliases",
    "appended_lists", "local_helpers",
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", GOLDEN)
def test_golden_case_in_split_style_and_forward_mode(case: str) -> None:
    source, _ = split_case(CASES / f"{case}.py")
    forward, backward, _ = load(source)
    for options in ({"style": "split"}, {"mode": "forward"}):
        codegen.generate(source, **options)  # the checks below skip a refusal
    for call in re.findall(r"^# check: (.+)$", source, flags=re.MULTILINE):
        name, _, rest = call.partition("(")
        args = list(eval(f"({rest[:-1]},)", {"np": np, "rng": np.random.default_rng(0)}))
        check_split_style(source, name, forward[name], backward[f"{name}_backward"], args)
        check_forward_mode(source, name, forward[name], backward[f"{name}_backward"], args)


def test_kinks_of_norms_and_sort() -> None:
    """At the exact kinks: ord=1 has np.sign's derivative (0 at 0), ord=inf shares the
    gradient among the elements of largest magnitude, and np.sort gives each of tied
    elements the place a stable sort gives it."""
    source = _source(
        """
        import numpy as np

        def l1(x):
            return np.linalg.norm(x, ord=1, axis=0)

        def linf(x):
            return np.linalg.norm(x, ord=np.inf, axis=0)

        def sorted_weights(x, w):
            return np.sum(np.sort(x) * w)
        """
    )
    _, backward, _ = load(source)
    np.testing.assert_array_equal(backward["l1_backward"](np.array([0.5, 0.0, -2.0])), [1.0, 0.0, -1.0])
    np.testing.assert_array_equal(backward["linf_backward"](np.array([1.0, -1.0, 0.5])), [0.5, -0.5, 0.0])
    dx, dw = backward["sorted_weights_backward"](np.array([0.3, 0.3, 0.1]), np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(dx, [2.0, 3.0, 1.0])
    np.testing.assert_array_equal(dw, [0.1, 0.3, 0.3])


# The constructs of Tangent's test functions (its tests/functions.py) for these
# items, in our own words: list displays summed and indexed, a list comprehension,
# tuple packing and unpacking of a parameter, nested helper functions.
PEER = """
import numpy as np


def summed_display(a):
    items = [2, a * a, 1]
    return np.sum(items)


def display_of_elements(v):
    items = [v[0] * v[1] * v[2], 3, 1]
    return np.sum(items)


def indexed_display(a):
    items = [2.0, a, 4.0]
    return items[1] * items[2]


def summed_comprehension(v):
    return np.sum([e * 2 for e in v])


def unpacked_parameter(triple):
    p, q, r = triple
    return p * q - r


def packed_then_indexed(p, q, r, k: int):
    packed = p, q, r
    return packed[k]


def first_of_unpacked(triple):
    p, q, r = triple
    return q


def nested_helper(x):
    def inner(y):
        return y * y

    return inner(x) * x


def closure_helper(a, b):
    def scaled(y):
        return y * b

    return scaled(a) + scaled(a * a)
"""
_VECTOR = np.array([0.3, 0.5, -0.7])
PEER_CALLS: dict[str, list[Any]] = {
    "summed_display": [0.7],
    "display_of_elements": [_VECTOR],
    "indexed_display": [0.7],
    "summed_comprehension": [_VECTOR],
    "unpacked_parameter": [_VECTOR],
    "packed_then_indexed": [0.3, 0.5, -0.7, 1],
    "first_of_unpacked": [_VECTOR],
    "nested_helper": [0.7],
    "closure_helper": [0.7, -1.3],
}


@pytest.mark.parametrize("name", list(PEER_CALLS))
def test_peer_suite_construct(name: str) -> None:
    forward, backward, _ = load(PEER)
    args = [a.copy() if isinstance(a, np.ndarray) else a for a in PEER_CALLS[name]]
    check_gradients(forward[name], backward[f"{name}_backward"], args)
    check_split_style(PEER, name, forward[name], backward[f"{name}_backward"], args)
    check_forward_mode(PEER, name, forward[name], backward[f"{name}_backward"], args)
