"""Lists built with `append` and local helper functions, as people write them.

A list of values appended in a loop (`out = []`, `out.append(v)`) and then
stacked, summed or indexed is differentiated in reverse mode, fused and split,
and in forward mode: its gradient is a list (`dout`), one entry per append,
popped as the backward undoes each append. Every gradient is checked against
central differences; the constructs still refused name themselves, their
position and the rewrite that works.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import check_forward_mode, check_gradients, check_split_style, load

RNG = np.random.default_rng(17)

LISTS = '''
import math
import numpy as np


def conv1d_loss(x, w, k):
    out = []
    for i in range(len(x) - k + 1):
        out.append(np.sum(x[i:i + k] * w))
    return np.sum(np.array(out) ** 2)


def rnn_states(x, W, h0, T):
    hs = []
    h = h0
    for t in range(T):
        h = np.tanh(W @ h + x[t])
        hs.append(h)
    H = np.stack(hs)
    return np.sum(H * H) + np.sum(hs[0] * hs[-1])


def columns(x, w, n):
    cols = []
    for j in range(n):
        cols.append(x * w[j])
    return np.sum(np.stack(cols, axis=1) ** 3)


def pieces(x, w):
    parts = []
    for i in range(3):
        parts.append(np.tanh(x[i:] * w))
    return np.sum(np.concatenate(parts) ** 2)


def scalar_terms(a, b, n):
    terms = []
    for i in range(n):
        terms.append(math.sin(a * i) * b)
    return sum(terms) + terms[0] * terms[-1]


def numpy_of_list(x, n):
    res = []
    for i in range(n):
        res.append(x * (i + 1.0))
    return np.sum(res) + np.mean(np.tanh(res))


def integrate(x0, k, steps):
    xs = [x0]
    for s in range(steps):
        xs.append(xs[-1] + 0.1 * math.sin(k * xs[-1]))
    return xs[-1] ** 2 + sum(xs)


def leaky(x, w):
    kept = []
    for i in range(len(x)):
        v = x[i] * w
        if v > 0:
            kept.append(v)
        else:
            kept.append(0.1 * v)
    return np.sum(np.array(kept) ** 2)


def outer_rows(x, w):
    rows = []
    for i in range(len(x)):
        row = []
        for j in range(len(w)):
            row.append(x[i] * w[j])
        rows.append(np.array(row))
    return np.sum(np.tanh(np.array(rows)))


def _window(x, w, i, k):
    return np.sum(x[i:i + k] * w)


def conv_with_helper(x, w, k):
    out = []
    for i in range(len(x) - k + 1):
        out.append(_window(x, w, i, k))
    return np.sum(np.array(out) ** 2)


def running(x, n):
    acc = []
    total = 0.0
    for i in range(n):
        total = total + x[i] * x[i]
        acc.append(total)
    for r in acc:
        total = total + math.sqrt(r + 1.0)
    return total + acc[1] * acc[n - 1]
'''

# (function, argument tuples)
LIST_CALLS: list[tuple[str, list[tuple[Any, ...]]]] = [
    ("conv1d_loss", [(RNG.normal(size=7), RNG.normal(size=3), 3), (RNG.normal(size=4), RNG.normal(size=1), 1)]),
    ("rnn_states", [(RNG.normal(size=(4, 3)), 0.5 * RNG.normal(size=(3, 3)), RNG.normal(size=3), 4)]),
    ("columns", [(RNG.normal(size=4), RNG.normal(size=3), 3)]),
    ("pieces", [(RNG.normal(size=5), RNG.normal(size=5)[:1])]),
    ("scalar_terms", [(0.7, -1.3, 4), (0.2, 0.9, 1)]),
    ("numpy_of_list", [(RNG.normal(size=3), 3)]),
    ("integrate", [(0.4, 1.7, 5), (-0.3, 0.8, 1)]),
    ("leaky", [([0.3, -0.7, 1.2, 0.5], 0.8), (RNG.normal(size=5), -0.6)]),
    ("outer_rows", [(RNG.normal(size=3), RNG.normal(size=4)), ([0.3, -0.2], [1.1, 0.4, -0.5])]),
    ("conv_with_helper", [(RNG.normal(size=6), RNG.normal(size=2), 2)]),
    ("running", [([0.3, -0.7, 1.2, 0.5], 4), (RNG.normal(size=3), 3)]),
]


def _copy(args: tuple[Any, ...]) -> list[Any]:
    return [a.copy() if isinstance(a, np.ndarray) else list(a) if isinstance(a, list) else a for a in args]


@pytest.mark.parametrize(("name", "calls"), LIST_CALLS, ids=[c[0] for c in LIST_CALLS])
def test_appended_lists_in_every_style(name: str, calls: list[tuple[Any, ...]]) -> None:
    source = textwrap.dedent(LISTS)
    forward, backward, code = load(source)
    for options in ({"style": "split"}, {"mode": "forward"}):
        codegen.generate(source, functions=[name], **options)  # neither refuses
    for args in calls:
        try:
            check_gradients(forward[name], backward[f"{name}_backward"], _copy(args))
        except AssertionError as error:
            raise AssertionError(f"{error}\n--- generated\n{code}") from None
        check_split_style(source, name, forward[name], backward[f"{name}_backward"], _copy(args))
        check_forward_mode(source, name, forward[name], backward[f"{name}_backward"], _copy(args))
