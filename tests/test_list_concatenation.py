"""`+` and `*` of lists: concatenation and repetition where the kinds prove a
list, numpy arithmetic where they prove an array, and a refusal naming the
ambiguity where they prove neither (the reviewer's r03, r03b and r04)."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

import codegen
from tests.support import check_forward_mode, check_gradients, check_split_style, load

# The reviewer's r03: a bias input appended to a list (the notes' sigmoid neuron).
NEURON = """
{imports}

def neuron_bias({params}):
    x = x + [1.0]
    s = 0.0
    for i in range(len(w)):
        s += w[i] * x[i]
    return 1.0 / (1.0 + math.exp(-s))
"""

# (id, source, function, argument tuples)
PROGRAMS = [
    (
        "bias-input-appended-no-numpy",
        NEURON.format(imports="import math", params="w, x"),
        "neuron_bias",
        [([0.5, -1.0, 0.2], [1.0, 2.0])],
    ),
    (
        "bias-input-appended-annotated",
        NEURON.format(imports="import math\nimport numpy as np", params="w: list[float], x: list[float]"),
        "neuron_bias",
        [([0.5, -1.0, 0.2], [1.0, 2.0])],
    ),
    (
        "rotation-annotated",
        """
        import numpy as np

        def cyclic(xs: list[float]):
            ys = xs[1:] + xs[:1]
            return sum(a * b for a, b in zip(xs, ys))
        """,
        "cyclic",
        [([1.0, 2.0, 3.0],), ([0.5, -1.5, 2.0, 4.0],)],
    ),
    (
        "display-of-values-concatenated",
        """
        import math

        def f(a, b):
            v = [a, a * b] + [math.sin(b)]
            return v[0] * v[1] + v[2] * v[1]
        """,
        "f",
        [(0.7, -1.3)],
    ),
    (
        "repetition",
        """
        import math

        def f(a, b):
            v = [a, math.exp(b)] * 3
            u = 2 * [b]
            return v[0] * v[3] + v[5] * u[1] + u[0]
        """,
        "f",
        [(0.7, -1.3)],
    ),
    (
        "augmented-and-tuples",
        """
        import math

        def aug(a, b):
            v = [a, b]
            v += [a * b]
            v *= 2
            t = (a, b) + (a * a,)
            return v[0] * v[5] + math.sin(v[2]) * v[3] + t[0] * t[2] + t[1]
        """,
        "aug",
        [(0.7, -1.2)],
    ),
    (
        "slices-added-of-arrays",
        """
        import numpy as np

        def trapezoid(x, y):
            return np.sum((y[1:] + y[:-1]) / 2 * np.diff(x))

        def shifted(xs: np.ndarray):
            return np.sum((xs[1:] + xs[:1]) ** 2)

        def both(x, y):
            return trapezoid(x, y) + shifted(x)
        """,
        "both",
        [(np.array([0.0, 0.4, 1.1, 1.5]), np.array([1.0, -0.5, 2.0, 0.3]))],
    ),
    (
        "list-plus-array-is-numpy-addition",
        """
        import numpy as np

        def f(x: np.ndarray):
            return np.sum((x + [1.0, 2.0]) ** 2)
        """,
        "f",
        [(np.array([0.3, -0.4]),), (np.array([[0.3, -0.4], [1.0, 2.0]]),)],
    ),
]


def _source(text: str) -> str:
    return textwrap.dedent(text).strip() + "\n"


@pytest.mark.parametrize(("source", "name", "calls"), [p[1:] for p in PROGRAMS], ids=[p[0] for p in PROGRAMS])
def test_concatenation(source: str, name: str, calls: list[tuple[object, ...]]) -> None:
    source = _source(source)
    forward, backward, code = load(source)
    for args in calls:
        try:
            gradients = check_gradients(forward[name], backward[f"{name}_backward"], list(args))
        except AssertionError as error:
            raise AssertionError(f"{error}\n--- generated\n{code}") from None
        for param, value in zip(forward[name].__code__.co_varnames, args):
            if param in gradients:  # a list's gradient is a list of its length
                assert np.shape(gradients[param]) == np.shape(value), (param, gradients[param], code)
        check_split_style(source, name, forward[name], backward[f"{name}_backward"], list(args))
        check_forward_mode(source, name, forward[name], backward[f"{name}_backward"], list(args))


# (id, source, the message's expected text)
REFUSED = [
    (
        "display-added-to-unknown",
        "import math\nimport numpy as np\n\ndef f(w, x):\n    x = x + [1.0]\n    return w[0] * x[0] + math.exp(x[1])\n",
        r"5:9: .*x \+ \[1.0\]: a list concatenation or numpy addition.*x: list\[float\].*np.ndarray.*np.append",
    ),
    (
        "rotation-of-unknown",
        "import numpy as np\n\ndef cyclic(xs):\n    ys = xs[1:] + xs[:1]\n    return sum(a * b for a, b in zip(xs, ys))\n",
        r"4:10: .*xs\[1:\] \+ xs\[:1\]: a list concatenation or numpy addition.*xs: list\[float\]",
    ),
    (
        "display-repeated-by-unknown",
        "import numpy as np\n\ndef f(a, n):\n    v = [a, 2.0] * n\n    return np.sum(v)\n",
        r"4:9: .*\[a, 2.0\] \* n: a list repetition or numpy multiplication.*n: int.*n: np.ndarray",
    ),
]


@pytest.mark.parametrize(("source", "message"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_ambiguous_refused(source: str, message: str) -> None:
    with pytest.raises(codegen.CodegenError, match=message):
        codegen.generate(source)
