"""A sum's or a mean's gradient is the upstream one broadcast back: written as that
value, with no `np.ones_like(x) * g`, where what reads it broadcasts it anyway.

Where it is added to a gradient that already has the operand's shape (`dx = dx +
dmu / N`), and where the operand's stage is elementwise in values of its shape
(`dxmu_pow = dvar / N` read by `2 * xmu * dxmu_pow`), the array of ones is left out;
where it would start a gradient of a smaller shape it stays. One module as users
write it (both imports, several functions, ints and lists passed in), every
gradient checked against central differences, in fused and split style.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from tests.support import check_gradients, check_split_style, load

RNG = np.random.default_rng(7)

MODULE = textwrap.dedent(
    """
    import math

    import numpy as np


    def batchnorm(x, gamma, beta, eps=1e-5):
        mu = np.mean(x, axis=0)
        xmu = x - mu
        var = np.mean(xmu**2, axis=0)
        std = np.sqrt(var + eps)
        xhat = xmu / std
        return gamma * xhat + beta


    def layernorm(x, gamma, beta, eps=1e-5):
        mu = np.mean(x, axis=1, keepdims=True)
        xmu = x - mu
        var = np.mean(xmu**2, axis=1, keepdims=True)
        std = np.sqrt(var + eps)
        return gamma * (xmu / std) + beta


    def shifted_total(x):
        # the reduction's gradient reaches x through `- 3.0` alone: it must get x's shape
        z = x - 3.0
        return np.sum(z, axis=0)


    def tanh_mean(x):
        u = np.tanh(x)
        v = u + 1.0
        return np.mean(v, axis=(0, 1)) * math.pi


    def centred_square(x, w):
        total = np.sum(x)
        c = x - np.mean(x, axis=1, keepdims=True)
        s = c * c
        return np.sum(s * w) + total


    def over_steps(h, n):
        total = 0.0
        for t in range(n):
            e = np.exp(h * t)
            total = total + np.mean(e, axis=0)
        return np.sum(total)


    def of_list(xs):
        return np.sum(xs) * np.mean(xs)
    """
)

NAMES = ["batchnorm", "layernorm", "shifted_total", "tanh_mean", "centred_square", "over_steps", "of_list"]


def _args(name: str) -> list[object]:
    x = RNG.standard_normal((4, 5)) * 2 + 1
    return {
        "batchnorm": [x, RNG.standard_normal(5), RNG.standard_normal(5), 1e-5],
        "layernorm": [x, RNG.standard_normal(5), RNG.standard_normal(5), 1e-5],
        "shifted_total": [x],
        "tanh_mean": [RNG.standard_normal((2, 3, 4))],
        "centred_square": [x, RNG.standard_normal((4, 5))],
        "over_steps": [RNG.standard_normal((3, 2)) * 0.3, 3],
        "of_list": [np.array([1, -2, 3])],  # ints; a list read only by numpy gets an array back (README)
    }[name]


@pytest.fixture(scope="module")
def generated() -> tuple[dict[str, object], dict[str, object], str]:
    return load(MODULE, "reductions.py")


@pytest.mark.parametrize("name", NAMES)
def test_gradients_match_central_differences(generated: tuple[dict, dict, str], name: str) -> None:
    forward, backward, _ = generated
    check_gradients(forward[name], backward[f"{name}_backward"], _args(name))


@pytest.mark.parametrize("name", NAMES)
def test_split_style_agrees(generated: tuple[dict, dict, str], name: str) -> None:
    forward, backward, _ = generated
    check_split_style(MODULE, name, forward[name], backward[f"{name}_backward"], _args(name))


def _body(code: str, name: str) -> str:
    start = code.index(f"def {name}_backward(")
    end = code.find("\ndef ", start + 1)
    return code[start : end if end != -1 else len(code)]


@pytest.mark.parametrize("name", ["batchnorm", "layernorm"])
def test_normalisation_layers_use_the_broadcast_directly(generated: tuple[dict, dict, str], name: str) -> None:
    body = _body(generated[2], name)
    assert "ones_like" not in body
    assert "2 * xmu * dxmu_pow" in body  # the mean's gradient read as it broadcasts


def test_a_gradient_started_by_the_broadcast_keeps_its_shape(generated: tuple[dict, dict, str]) -> None:
    # `dx = dz` would be the mean's (5,) value for x of shape (4, 5): the ones stay.
    body = _body(generated[2], "shifted_total")
    assert "ones_like" in body
    backward = generated[1]
    x = RNG.standard_normal((4, 5))
    assert np.shape(backward["shifted_total_backward"](x, np.ones(5))) == (4, 5)


def test_added_to_a_whole_gradient_no_ones(generated: tuple[dict, dict, str]) -> None:
    body = _body(generated[2], "centred_square")
    assert "ones_like(x)" not in body
