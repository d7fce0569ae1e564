"""List gradients filled element by element are written as list literals."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from codegen.optimize.literals import write
from tests.support import check_gradients, load

NEURON = [
    "# backprop dot = w[0] * x[0] + w[1] * x[1] + w[2]",
    "dw = [0.0] * len(w)",
    "dw[0] = x[0] * ddot",
    "dx = [0.0] * len(x)",
    "dx[0] = w[0] * ddot",
    "dw[1] = x[1] * ddot",
    "dx[1] = w[1] * ddot",
    "dw[2] = ddot",
    "return dw, dx",
]


def test_the_notes_neuron_gets_literals_padded_to_the_parameters_length() -> None:
    assert write(NEURON) == [
        "# backprop dot = w[0] * x[0] + w[1] * x[1] + w[2]",
        "dw = [x[0] * ddot, x[1] * ddot, ddot]",
        "if len(w) > 3:",
        "    dw += [0.0] * (len(w) - 3)",
        "dx = [w[0] * ddot, w[1] * ddot]",
        "if len(x) > 2:",
        "    dx += [0.0] * (len(x) - 2)",
        "return dw, dx",
    ]


def test_contributions_to_one_element_add_up_in_order() -> None:
    lines = ["dw = [0.0] * len(w)", "dw[0] = a", "dw[0] += b - c", "return dw"]
    assert write(lines)[0] == "dw = [a + (b - c)]"


def test_elements_never_written_are_zero() -> None:
    lines = ["dw = [0.0] * len(w)", "dw[2] = a", "return dw"]
    assert write(lines)[0] == "dw = [0.0, 0.0, a]"


def test_the_literal_goes_last_when_a_later_element_needs_a_later_value() -> None:
    lines = [
        "# backprop b = w[1] * 3",
        "dw = [0.0] * len(w)",
        "dw[1] = 3 * db",
        "# backprop a = w[0] * db",
        "da = db * 2",
        "dw[0] = db * da",
        "return dw",
    ]
    assert write(lines) == [
        "# backprop a = w[0] * db",
        "da = db * 2",
        "dw = [db * da, 3 * db]",
        "if len(w) > 2:",
        "    dw += [0.0] * (len(w) - 2)",
        "return dw",
    ]


@pytest.mark.parametrize(
    "change",
    [
        # a value read by elements before and after it is rebound: no place suits both
        lambda ls: ls[:3] + ["ddot = ddot * 2"] + ls[3:],
        lambda ls: ls[:3] + ["x[1] = 0.0"] + ls[3:],  # its input is mutated meanwhile
        lambda ls: ls[:3] + ["dw[1] = 2.0"] + ls[3:],  # one element set twice
        lambda ls: ls[:3] + ["for t in range(2):", "    q = 1"] + ls[3:],  # a block in between
        lambda ls: ls[:3] + ["foo(dz)"] + ls[3:],  # a call that may mutate
        lambda ls: [line.replace("dw[0]", "dw[-1]") for line in ls],  # counts from the end
        lambda ls: [line.replace("dw[0] = x[0] * ddot", "dw[0] = dw[1] * ddot") for line in ls],  # reads itself
        lambda ls: [line.replace("dw[0] =", "    dw[0] =") for line in ls],  # in a block
    ],
)
def test_anything_unclear_keeps_the_element_stores(change: Callable[[list[str]], list[str]]) -> None:
    lines = change([line.replace("dw[2] = ddot", "dw[2] = db") for line in NEURON])
    assert "dw = [0.0] * len(w)" in write(lines)


SOURCE = '''
import math


def neuron(w, x):
    a = w[0] * x[0]
    b = math.sin(w[2]) * a
    dot = a + b + w[1] * x[1] + w[2]
    return 1.0 / (1 + math.exp(-dot))
'''


@pytest.mark.parametrize("extra", [0, 2])
def test_the_gradient_has_the_length_of_the_list_passed(extra: int) -> None:
    fwd, bwd, code = load(SOURCE)
    assert "[0.0] * len(w)" not in code.split("if len(w)")[0]
    w, x = [0.3, -1.2, 0.7] + [5.0] * extra, [0.4, 2.0] + [1.0] * extra
    grads = check_gradients(fwd["neuron"], bwd["neuron_backward"], [w, x])
    assert len(grads["w"]) == len(w) and len(grads["x"]) == len(x)


def test_a_known_length_needs_no_padding_and_fills_the_rest_with_zeros() -> None:
    assert write(NEURON, {"w": 4, "x": 2})[1:3] == ["dw = [x[0] * ddot, x[1] * ddot, ddot, 0.0]", "dx = [w[0] * ddot, w[1] * ddot]"]


def test_annotated_lengths_give_the_notes_neuron_exactly() -> None:
    source = SOURCE.replace("def neuron(w, x):", 'def neuron(w: "4", x: "2"):')
    fwd, bwd, code = load(source)
    assert "len(" not in code.split("def neuron_backward")[1]
    grads = check_gradients(fwd["neuron"], bwd["neuron_backward"], [[0.3, -1.2, 0.7, 2.0], [0.4, 2.0]])
    assert grads["w"][3] == 0.0
