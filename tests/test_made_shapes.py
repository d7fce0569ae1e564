"""Shape facts of the constants a forward makes (`np.zeros((N, C, H2, W2))`,
`np.zeros_like(x)`, `np.random.rand(*x.shape)`, `np.random.randn(N, D)`, draws with
`size=x.shape`) and of arithmetic on them (`mask = (np.random.rand(*x.shape) < p) / p`):
a broadcast gradient against such a value is summed back at generation time, so no
`_unbroadcast` is left; where a shape is not known (a `p` that may be an array, a loop
that changes a carried value's shape) the helper stays. Every gradient is checked by
central differences, with the draws seeded."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from tests.support import (
    backward_body,
    check_forward_mode,
    check_gradients,
    check_split_style,
    load,
    seeded,
)

MODULE = '''\
import math

import numpy as np


def dropout(x, p=0.5):
    mask = (np.random.rand(*x.shape) < p) / p
    out = x * mask
    return out


def dropout_float(x, p: float):
    mask = (np.random.rand(*x.shape) < p) / p
    return np.sum(np.tanh(x * mask))


def dropout_any_p(x, p):
    mask = (np.random.rand(*x.shape) < p) / p
    return x * mask


def noisy(x):
    N, D = x.shape
    noise = np.random.randn(N, D)
    keep = np.random.binomial(1, 0.5, size=x.shape)
    u = np.random.uniform(-1.0, 1.0, size=x.shape)
    h = x * noise + keep * x - u * x
    return np.sum(h * h)


def likes(x, b: float):
    z = np.zeros_like(x)
    o = np.ones(x.shape)
    f = np.full(x.shape, 2.0)
    e = np.empty_like(x)
    e[...] = 1.5
    y = (x + z) * o + b * f - e * x
    return np.sum(y**2) * math.exp(b)


def max_pool(x):
    N, C, H, W = x.shape
    H2 = H // 2
    W2 = W // 2
    out = np.zeros((N, C, H2, W2))
    for i in range(H2):
        for j in range(W2):
            out[:, :, i, j] = np.max(x[:, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2], axis=(2, 3))
    return out


def filled(x):
    N, D = x.shape
    acc = np.zeros((N, D))
    for i in range(N):
        acc[i, :] = x[i, :] * 2.0
    return np.sum(np.tanh(acc) * x)


def shrinks(h):
    for k in range(1):
        m = np.ones_like(h)
        g = np.exp(h)
        h = np.sum(h, axis=0, keepdims=True)
    return np.sum(m * h + g * h)


def grows(h, w):
    for k in range(2):
        h = h + w
    return np.sum(h * w)


def column_written(v: "3", w: float):
    buf = np.zeros((3, 3))
    buf[:, 0] = v * w
    buf[1] = np.tanh(w)
    return np.sum(buf * np.arange(9.0).reshape(3, 3))
'''

HELPER = "_unbroadcast("


def _args(name: str, rng: np.random.Generator) -> list[Any]:
    x2 = rng.uniform(-1, 1, (3, 4))
    return {
        "dropout": [x2],
        "dropout_float": [x2, 0.7],
        "dropout_any_p": [x2, rng.uniform(0.3, 0.9, (3, 1))],
        "noisy": [x2],
        "likes": [x2, 0.3],
        "max_pool": [rng.permutation(2 * 3 * 4 * 6).reshape(2, 3, 4, 6) / 10.0],
        "filled": [x2],
        "shrinks": [x2],
        "grows": [rng.uniform(-1, 1, (1, 4)), rng.uniform(-1, 1, (3, 4))],
        "column_written": [rng.uniform(-1, 1, 3), 0.7],
    }[name]


@pytest.fixture(scope="module")
def generated() -> tuple[dict[str, Any], dict[str, Any], str]:
    return load(MODULE)


@pytest.mark.parametrize("name", ["dropout", "dropout_float", "noisy", "likes", "max_pool", "filled"])
def test_no_helper_where_the_made_shapes_are_known(generated: tuple[dict[str, Any], dict[str, Any], str], name: str) -> None:
    forward, backward, code = generated
    assert HELPER not in backward_body(code, name)
    check_gradients(seeded(forward[name]), seeded(backward[f"{name}_backward"]), _args(name, np.random.default_rng(0)))


@pytest.mark.parametrize("name", ["dropout_any_p", "grows"])
def test_the_helper_stays_where_a_shape_may_change(generated: tuple[dict[str, Any], dict[str, Any], str], name: str) -> None:
    # p may be an array that broadcasts the mask past x; h grows to w's shape in the
    # loop.
    forward, backward, code = generated
    assert HELPER in backward_body(code, name)
    check_gradients(seeded(forward[name]), seeded(backward[f"{name}_backward"]), _args(name, np.random.default_rng(0)))


def test_values_made_in_a_loop_do_not_share_the_shape_the_loop_leaves(
    generated: tuple[dict[str, Any], dict[str, Any], str],
) -> None:
    # m and g have h's shape at the start of the last iteration, not after it: taken
    # to share h's shape, dh came out of m's shape (a silent wrong gradient).
    forward, backward, _ = generated
    check_gradients(forward["shrinks"], backward["shrinks_backward"], _args("shrinks", np.random.default_rng(0)))


def test_max_pool_reads_the_window_of_the_upstream_gradient(generated: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    _, _, code = generated
    body = backward_body(code, "max_pool")
    assert re.search(r"dmax\w* = dout\w*\[:, :, i, j\]\n", body), body


def test_dropout_with_respect_to_x_only() -> None:
    forward, backward, code = load(MODULE, wrt=["x"])
    for name in ("dropout", "dropout_float"):
        assert HELPER not in backward_body(code, name)
        check_gradients(seeded(forward[name]), seeded(backward[f"{name}_backward"]), _args(name, np.random.default_rng(1)))


@pytest.mark.parametrize("name", ["dropout_float", "max_pool", "likes"])
def test_split_style_and_forward_mode_agree(generated: tuple[dict[str, Any], dict[str, Any], str], name: str) -> None:
    forward, backward, _ = generated
    args = _args(name, np.random.default_rng(2))
    f, f_backward = seeded(forward[name]), seeded(backward[f"{name}_backward"])
    check_split_style(MODULE, name, f, f_backward, args, seeded)
    check_forward_mode(MODULE, name, f, f_backward, args, seeded)


def test_a_value_written_into_part_of_a_made_array_sums_back_to_its_own_shape(
    generated: tuple[dict[str, Any], dict[str, Any], str],
) -> None:
    # The written part of a constant buffer (`buf[:, 0]` of np.zeros((3, 3))) was taken
    # to have the whole buffer's shape: dv came out a number (a silent wrong gradient),
    # and a number written into a row summed over an axis the row has not (AxisError).
    forward, backward, _ = generated
    check_gradients(forward["column_written"], backward["column_written_backward"], _args("column_written", np.random.default_rng(0)))
