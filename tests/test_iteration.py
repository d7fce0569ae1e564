"""Loops over zip(...), enumerate(...) and tuples (codegen/read/iteration.py), as
people write them: rewritten as index loops, differentiated in every mode."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import check_forward_mode, check_gradients, check_split_style, load

SOURCE = '''import math
import numpy as np


def weighted(xs, ws):
    s = 0.0
    for x, w in zip(xs, ws):
        s += x * w
    return s


def ranked(xs):
    s = 0.0
    for i, x in enumerate(xs):
        s += (i + 1) * math.sin(x)
    return s


def started(xs):
    s = 0.0
    for k, x in enumerate(xs, 1):
        s += k * x * x
    return s


def started_by_keyword(xs, w):
    total = 0.0
    for i, x in enumerate(xs, start=1):
        total += i * x * w
    return total


def pairs(ps):
    s = 0.0
    for a, b in ps:
        s += a * b
    return s


def generator(xs, ws):
    return sum(x * w for x, w in zip(xs, ws))


def rows(X, y):
    total = 0.0
    for row, label in zip(X, y):
        total += np.sum(np.tanh(row)) * label
    return total


def nested(xs, ws, c):
    s = 0.0
    for i, (x, w) in enumerate(zip(xs, ws)):
        s += c[i] * x * w
    return s


def shortest(xs, ws):
    s = 0.0
    for x, w in zip(xs, ws):
        s += x * math.exp(w)
    return s


def rebound_enumerate(W):
    for i, row in enumerate(W):
        W = W + np.tanh(row) * (i + 1)
    return np.sum(W ** 2)


def rebound_zip(xs, ws):
    for x, w in zip(xs, ws * 2):
        ws = np.tanh(ws) + x * w
    return np.sum(ws ** 2)
'''

RNG = np.random.default_rng(0)
CASES: dict[str, list[list[Any]]] = {
    "weighted": [[[1, 2, 3], [0.5, -1.0, 2.0]], [RNG.normal(size=3), RNG.normal(size=3)], [RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))]],
    "ranked": [[[0.1, 0.2, 0.3]], [np.array([0.5, -0.5])]],
    "started": [[[1, 2]], [RNG.normal(size=4)]],
    "started_by_keyword": [[[1, 2, 3], 2], [RNG.normal(size=4), 0.5]],
    "pairs": [[RNG.normal(size=(3, 2))]],
    "generator": [[[1.0, 2.0], [3.0, 4.0]], [RNG.normal(size=3), RNG.normal(size=3)]],
    "rows": [[RNG.normal(size=(3, 4)), RNG.normal(size=3)]],
    "nested": [[[1.0, 2.0], [0.5, 0.25], [2.0, -1.0]]],
    "shortest": [[[1.0, 2.0, 3.0], [0.5, 0.25]], [[0.5], [0.1, 0.2, 0.3]]],
    # Found by the random numpy programs: the loop iterates over what its iterable
    # was when the loop began, not over the name rebound in its body.
    "rebound_enumerate": [[RNG.normal(size=(3, 3))], [RNG.normal(size=(2, 2))]],
    "rebound_zip": [[[0.5, -0.3], RNG.normal(size=2)]],
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_loops_over_zip_and_enumerate(name: str) -> None:
    forward, backward, code = load(SOURCE)
    for args in CASES[name]:
        check_gradients(forward[name], backward[f"{name}_backward"], args)
        if name != "pairs":
            check_split_style(SOURCE, name, forward[name], backward[f"{name}_backward"], args)
            check_forward_mode(SOURCE, name, forward[name], backward[f"{name}_backward"], args)


def test_the_rewritten_loop_reads_as_an_index_loop() -> None:
    _, _, code = load(SOURCE)
    assert "for i in range(min(len(xs), len(ws))):\n        x = xs[i]\n        w = ws[i]" in code
    assert "# backprop for x, w in zip(xs, ws):" in code
    ranked = code.split("def ranked_backward", 1)[1].split("\ndef ", 1)[0]
    assert "for i in range(len(xs)):" in ranked  # enumerate's own index is the loop's


def test_a_zip_the_module_rebinds_is_not_rewritten() -> None:
    source = "def zip(a, b):\n    return a\n\n\ndef f(xs, ws):\n    s = 0.0\n    for x, w in zip(xs, ws):\n        s += x * w\n    return s\n"
    with pytest.raises(codegen.CodegenError, match="cannot differentiate this indexing"):  # the user's zip, called
        codegen.generate(source, functions=["f"])
