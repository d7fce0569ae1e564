"""A subtraction's gradient summed back to a broadcast operand negates the sum, not
the whole gradient before it (`dmu = -np.sum(dxc, axis=1, keepdims=True)`): a sum is
linear, and the sum is the smaller array. Unannotated, the helper `_unbroadcast`
is negated the same way. One module as users write it, every gradient checked
against central differences in fused and split style."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from tests.support import backward_body, check_gradients, check_split_style, load

MODULE = textwrap.dedent(
    """
    import math

    import numpy as np


    def centred(x: "N D"):
        mu = np.mean(x, axis=1, keepdims=True)
        xc = x - mu
        return np.sum(xc * xc * np.arange(x.shape[1]))


    def margins(x, y):
        N = x.shape[0]
        picked = x[np.arange(N), y]
        m = np.maximum(0, x - picked[:, np.newaxis] + 1.0)
        return np.sum(m * m) / N


    def minus_row(a, b):
        return np.sum(np.tanh(a - b) * math.sqrt(2.0))
    """
)

RNG = np.random.default_rng(3)
CASES = {
    "centred": [RNG.standard_normal((4, 5))],
    "margins": [RNG.standard_normal((4, 6)), [1, 0, 5, 2]],
    "minus_row": [RNG.standard_normal((3, 4)), RNG.standard_normal(4)],
}


@pytest.fixture(scope="module")
def generated() -> tuple[dict, dict, str]:
    return load(MODULE)


@pytest.mark.parametrize("name", CASES)
def test_gradients_match_central_differences(generated: tuple[dict, dict, str], name: str) -> None:
    forward, backward, _ = generated
    check_gradients(forward[name], backward[f"{name}_backward"], CASES[name])


@pytest.mark.parametrize("name", CASES)
def test_split_style_agrees(generated: tuple[dict, dict, str], name: str) -> None:
    forward, backward, _ = generated
    check_split_style(MODULE, name, forward[name], backward[f"{name}_backward"], CASES[name])


@pytest.mark.parametrize(
    ("name", "summed"),
    [("centred", "-np.sum(dxc, axis=1, keepdims=True)"), ("minus_row", "-_unbroadcast(")],
)
def test_the_sum_is_negated_not_the_gradient(generated: tuple[dict, dict, str], name: str, summed: str) -> None:
    body = backward_body(generated[2], name)
    assert summed in body
    assert "np.sum(-" not in body and "_unbroadcast(-" not in body


def test_a_boolean_mask_over_a_parameter_is_negated_after_the_quotient() -> None:
    """`np.sum((x > 0) / p)`: the gradient for p was `-(x > 0) / p**2 * g`, and numpy
    refuses `-` of a boolean array (found by a review as a user); the quotient is
    negated instead."""
    source = "import numpy as np\n\n\ndef frac_positive(x, p):\n    return np.sum((x > 0) / p)\n"
    forward, backward, code = load(source)
    assert "-(x > 0)" not in code
    args = [np.array([1.0, -1.0, 2.0, 0.5]), 0.5]
    check_gradients(forward["frac_positive"], backward["frac_positive_backward"], args)
    check_split_style(source, "frac_positive", forward["frac_positive"], backward["frac_positive_backward"], args)
