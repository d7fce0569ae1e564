"""`np.add.at(a, index, v)`: in the forward function, and in a generated backward
(fancy indexing with repeated indices) that forward mode and `--hvp` read again.
Every position named twice receives both values; checked against central
differences in reverse mode (fused and split), forward mode and HVP."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import check_gradients, check_split_style, load
from tests.test_forward_mode import check_jvp
from tests.test_hvp import check_hvp

SOURCE = '''\
import math

import numpy as np


def histogram(x, v, idx):
    counts = np.zeros(4)
    np.add.at(counts, idx, v * x[:3])
    return np.sum(counts**2) + np.sum(counts * x)


def embedding(W, tokens, h):
    out = np.zeros_like(W)
    np.add.at(out, tokens, np.tanh(W[tokens]) * h)
    return np.sum(out * W)


def in_a_loop(x, T: int):
    acc = np.zeros(3)
    for t in range(T):
        np.add.at(acc, [0, 0, 2], x * math.exp(-t))
    return np.sum(np.sin(acc))


def through_a_helper(x, y):
    return scatter(x, y) * 2.0


def scatter(x, y):
    z = np.zeros(3)
    np.add.at(z, ([0, 0, 1],), np.sin(y) * x)
    return np.sum(z**3)


def gathered(x, idx):
    return np.sum(x[idx] ** 3) + np.sum(np.sin(x[[0, 0, 2]]) * x[:3])


def loss(scores, y):
    N = scores.shape[0]
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(log_p[np.arange(N), y]) / N + np.sum(scores[[0, 0], [1, 1]] ** 2)
'''


def _calls() -> dict[str, tuple[Any, ...]]:
    rng = np.random.default_rng(21)
    return {
        "histogram": (rng.uniform(-1, 1, 4), rng.uniform(-1, 1, 3), np.array([0, 0, 2])),
        "embedding": (rng.uniform(-1, 1, (4, 2)), np.array([1, 3, 1, 1]), rng.uniform(-1, 1, (4, 2))),
        "in_a_loop": (rng.uniform(-1, 1, 3), 3),
        "through_a_helper": (rng.uniform(-1, 1, 3), rng.uniform(-1, 1, 3)),
        "gathered": (rng.uniform(-1, 1, 4), np.array([1, 1, 3])),
        "loss": (rng.uniform(-1, 1, (3, 4)), np.array([0, 2, 2])),
    }


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", sorted(_calls()))
def test_add_at_in_every_mode(name: str) -> None:
    args = _calls()[name]
    forward, backward, _ = load(SOURCE)
    check_gradients(forward[name], backward[f"{name}_backward"], list(args))
    check_split_style(SOURCE, name, forward[name], backward[f"{name}_backward"], list(args))
    check_jvp(SOURCE, name, [args])
    check_hvp(SOURCE, name, [args])


def test_the_hvp_scatters_the_tangents_of_a_fancy_index_read() -> None:
    code = codegen.generate(SOURCE, mode="hvp", functions=["gathered"])
    assert re.search(r"np\.add\.at\(dx_\w*dot, idx, ", code), code


def test_forward_mode_adds_both_tangents_at_a_position_named_twice() -> None:
    source = "import numpy as np\n\n\ndef f(v):\n    z = np.zeros(2)\n    np.add.at(z, [0, 0], v)\n    return z\n"
    namespace: dict[str, Any] = {}
    exec(compile(codegen.generate(source, mode="forward"), "jvp", "exec"), namespace)
    value, tangent = namespace["f_jvp"](np.array([1.0, 2.0]), np.array([10.0, 20.0]))
    np.testing.assert_array_equal(value, [3.0, 0.0])
    np.testing.assert_array_equal(tangent, [30.0, 0.0])


def test_the_caller_s_array_is_never_changed() -> None:
    # f adds v into the caller's own x; its derivative is at x as passed in
    source = "import numpy as np\n\n\ndef f(x, v):\n    np.add.at(x, [0, 0], v)\n    return np.sum(x**2)\n"
    _, backward, _ = load(source)
    x, v = np.array([0.5, -1.0, 2.0]), np.array([0.3, 0.4])
    before = x.copy()
    dx, dv = backward["f_backward"](x, v)
    np.testing.assert_array_equal(x, before)
    after = before + np.array([0.7, 0.0, 0.0])
    np.testing.assert_allclose(dx, 2 * after)
    np.testing.assert_allclose(dv, [2 * after[0], 2 * after[0]])


def test_add_at_into_storage_another_name_reads_is_refused() -> None:
    source = "import numpy as np\n\n\ndef f(x):\n    a = np.zeros(3)\n    b = a\n    np.add.at(b, [0, 0], x)\n    return np.sum(a * x)\n"
    with pytest.raises(codegen.CodegenError, match="b is updated in place, and a, read later, shares its storage") as caught:
        codegen.generate(source)
    assert (caught.value.line, caught.value.column) == (7, 5)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("np.subtract.at(z, [0], x)", "expression statements are not supported"),
        ("np.add.at(z, [0])", "three arguments"),
        ("np.add.at(z[0:1], [0], x)", "named array"),
    ],
)
def test_other_scatters_are_refused_with_a_position(call: str, message: str) -> None:
    source = f"import numpy as np\n\n\ndef f(x):\n    z = np.zeros(3)\n    {call}\n    return np.sum(z * x)\n"
    with pytest.raises(codegen.CodegenError, match=message) as caught:
        codegen.generate(source)
    assert caught.value.line == 6
