"""np.tensordot with literal axes where both operands' ranks are known (from
`N, C, H, W = x.shape`): each gradient is one tensordot over the free axes, in the
operand order that leaves the axes where they belong (`np.tensordot(g, window,
axes=([0], [0]))`, as the author of a naive convolution writes it), transposed only
where neither order does, and no np.moveaxis. One module as users write it (both
imports, several functions), every gradient against central differences.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from tests.support import backward_body as _body
from tests.support import check_gradients, check_split_style, load

RNG = np.random.default_rng(3)

MODULE = textwrap.dedent(
    """
    import math

    import numpy as np


    def window_product(x, w, b):
        N, C, H, W = x.shape
        F, _, HH, WW = w.shape
        return np.tensordot(x, w, axes=([1, 2, 3], [1, 2, 3])) + b


    def crossed(x, y):
        A, B, C = x.shape
        D, E, F = y.shape
        return np.sin(np.tensordot(x, y, axes=([2, 0], [0, 1])))


    def negative_axes(x, y):
        A, B = x.shape
        C, D, E = y.shape
        return np.tensordot(x, y, axes=([-1], [1])) * math.e


    def middle(x, y):
        A, B, C = x.shape
        D, E = y.shape
        return np.tanh(np.tensordot(x, y, axes=([1], [1])))
    """
)

CASES = {
    "window_product": [RNG.standard_normal((2, 3, 4, 4)), RNG.standard_normal((5, 3, 4, 4)), RNG.standard_normal(5)],
    "crossed": [RNG.standard_normal((2, 3, 4)), RNG.standard_normal((4, 2, 5))],
    "negative_axes": [RNG.standard_normal((2, 3)), RNG.standard_normal((4, 3, 5))],
    "middle": [RNG.standard_normal((2, 3, 4)), RNG.standard_normal((5, 3))],
}


@pytest.fixture(scope="module")
def generated() -> tuple[dict[str, object], dict[str, object], str]:
    return load(MODULE, "tensordots.py")


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_match_central_differences(generated: tuple[dict, dict, str], name: str) -> None:
    forward, backward, _ = generated
    check_gradients(forward[name], backward[f"{name}_backward"], CASES[name])


@pytest.mark.parametrize("name", sorted(CASES))
def test_split_style_agrees(generated: tuple[dict, dict, str], name: str) -> None:
    forward, backward, _ = generated
    check_split_style(MODULE, name, forward[name], backward[f"{name}_backward"], CASES[name])


@pytest.mark.parametrize("name", sorted(CASES))
def test_no_moveaxis(generated: tuple[dict, dict, str], name: str) -> None:
    assert "moveaxis" not in _body(generated[2], name)


def test_the_convolution_s_window_as_the_author_writes_it(generated: tuple[dict, dict, str]) -> None:
    body = _body(generated[2], "window_product")
    assert "dx = np.tensordot(dtensordot_x_w, w, axes=([1], [0]))" in body
    assert "dw = np.tensordot(dtensordot_x_w, x, axes=([0], [0]))" in body
    assert "transpose" not in body
