"""`v[:, np.newaxis]` (or `v[None]`, `v[:, None, :]`) is all of `v` with axes added:
its gradient is the view's reshaped back to `v`'s shape, with no array of zeros
and no store into a part of it. One module as users write it (both imports,
several functions), checked against central differences in fused and split style.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from tests.support import backward_body as _body
from tests.support import check_gradients, check_split_style, load

RNG = np.random.default_rng(13)

MODULE = textwrap.dedent(
    """
    import math

    import numpy as np


    def svm_loss(x, y):
        N = x.shape[0]
        correct_class_scores = x[np.arange(N), y]
        margins = np.maximum(0, x - correct_class_scores[:, np.newaxis] + 1.0)
        margins[np.arange(N), y] = 0
        loss = np.sum(margins) / N
        return loss


    def outer_rows(a, b):
        return np.sum(np.tanh(a[:, None, :] * b[None]))


    def twice(v, w):
        c = v[:, np.newaxis] * w
        return np.sum(c * v[:, np.newaxis]) * math.pi
    """
)

CASES = {
    "svm_loss": [RNG.standard_normal((6, 4)), np.array([0, 3, 1, 2, 2, 0])],
    "outer_rows": [RNG.standard_normal((3, 4)), RNG.standard_normal((2, 4))],
    "twice": [RNG.standard_normal(3), RNG.standard_normal((3, 5))],
}


@pytest.fixture(scope="module")
def generated() -> tuple[dict[str, object], dict[str, object], str]:
    return load(MODULE, "views.py")


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_match_central_differences(generated: tuple[dict, dict, str], name: str) -> None:
    forward, backward, _ = generated
    check_gradients(forward[name], backward[f"{name}_backward"], CASES[name])


@pytest.mark.parametrize("name", sorted(CASES))
def test_split_style_agrees(generated: tuple[dict, dict, str], name: str) -> None:
    forward, backward, _ = generated
    check_split_style(MODULE, name, forward[name], backward[f"{name}_backward"], CASES[name])


@pytest.mark.parametrize("name", sorted(CASES))
def test_reshaped_back(generated: tuple[dict, dict, str], name: str) -> None:
    body = _body(generated[2], name)
    assert "np.reshape(" in body
    assert "np.newaxis] +=" not in body and "None] +=" not in body and ":] +=" not in body


def test_svm_keeps_no_zeros(generated: tuple[dict, dict, str]) -> None:
    assert "zeros_like(correct_class_scores" not in _body(generated[2], "svm_loss")
