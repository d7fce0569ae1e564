"""Item writes in loops cost O(T), not O(T^2): no copy of the whole array per step
where nothing else sees it (codegen/optimize/inplace.py), and the copy stays where
something does."""

from __future__ import annotations

import ast
import textwrap

import numpy as np
import pytest

from codegen.optimize.inplace import write_in_place
from tests.support import check_gradients, check_split_style, load

SEQUENCES = '''\
import math
import numpy as np


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    prev_h = h0
    for t in range(T):
        next_h = np.tanh(x[:, t, :].dot(Wx) + prev_h.dot(Wh) + b)
        h[:, t, :] = next_h
        prev_h = next_h
    return h


def running_max(x):
    N, T = x.shape
    out = np.zeros((N, T))
    for i in range(N):
        for t in range(T):
            out[i, t] = np.max(x[i, : t + 1]) * math.exp(0.1 * t)
    return out


def kept_every_step(x, w):
    T = x.shape[0]
    h = np.zeros(T)
    total = 0.0
    for t in range(T):
        h[t] = np.tanh(x[t])
        total = total + np.sum(h * w)
    return total
'''

ANNOTATED = SEQUENCES.replace("def rnn_forward(x, h0, Wx, Wh, b):", 'def rnn_forward(x: "N T D", h0: "N H", Wx: "D H", Wh: "H H", b: "H"):')


def _copies_in_loops(code: str, function: str) -> list[str]:
    tree = ast.parse(code)
    fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function)
    return [
        ast.unparse(call)
        for loop in ast.walk(fn)
        if isinstance(loop, (ast.For, ast.While))
        for call in ast.walk(loop)
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "copy"
    ]


def _rnn_args(rng: np.random.Generator) -> list[np.ndarray]:
    N, T, D, H = 2, 5, 3, 4
    return [rng.standard_normal((N, T, D)), rng.standard_normal((N, H)), rng.standard_normal((D, H)) * 0.5,
            rng.standard_normal((H, H)) * 0.5, rng.standard_normal(H)]  # fmt: skip


@pytest.mark.parametrize("source", [SEQUENCES, ANNOTATED], ids=["unannotated", "annotated"])
@pytest.mark.parametrize("style", ["fused", "split"])
def test_an_rnn_over_t_steps_copies_no_array_per_step(source: str, style: str) -> None:
    _, _, code = load(source, style=style)
    for function in ("rnn_forward_backward", "rnn_forward_forward", "running_max_backward", "running_max_forward"):
        if f"def {function}(" in code:
            assert _copies_in_loops(code, function) == [], function


@pytest.mark.parametrize("source", [SEQUENCES, ANNOTATED], ids=["unannotated", "annotated"])
def test_the_rnn_gradients_are_right_and_the_upstream_array_untouched(source: str) -> None:
    forward, backward, _ = load(source)
    args = _rnn_args(np.random.default_rng(0))
    check_gradients(forward["rnn_forward"], backward["rnn_forward_backward"], args)
    check_split_style(source, "rnn_forward", forward["rnn_forward"], backward["rnn_forward_backward"], args)
    dh = np.random.default_rng(1).standard_normal((2, 5, 4))
    before = dh.copy()
    first = backward["rnn_forward_backward"](*args, dh)
    np.testing.assert_array_equal(dh, before, err_msg="the backward wrote into the upstream gradient")
    again = backward["rnn_forward_backward"](*args, dh)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)


def test_nested_loops_and_a_value_read_at_every_step_stay_right() -> None:
    forward, backward, code = load(SEQUENCES)
    x = np.random.default_rng(2).standard_normal((3, 4))
    check_gradients(forward["running_max"], backward["running_max_backward"], [x])
    check_split_style(SEQUENCES, "running_max", forward["running_max"], backward["running_max_backward"], [x])
    # `h * w` reads h at every step, and the backward needs each step's h: copies stay.
    xs, w = np.random.default_rng(3).standard_normal(4), np.random.default_rng(4).standard_normal(4)
    check_gradients(forward["kept_every_step"], backward["kept_every_step_backward"], [xs, w])
    assert _copies_in_loops(code, "kept_every_step_backward") != []


def _rewritten(body: str, params: tuple[str, ...] = ()) -> str:
    return "\n".join(write_in_place(textwrap.dedent(body).strip().splitlines(), params))


def test_a_copy_nothing_else_sees_goes() -> None:
    assert _rewritten("a = np.zeros(3)\nb = a.copy()\nb[0] = 1.0\nreturn b") == "a = np.zeros(3)\nb = a\nb[0] = 1.0\nreturn b"


@pytest.mark.parametrize(
    "body, params",
    [
        ("b = x.copy()\nb[0] = 1.0\nreturn b", ("x",)),  # the caller's array
        ("a = np.zeros(3)\nb = a.copy()\nb[0] = 1.0\nreturn a, b", ()),  # the old value read later
        ("a = np.zeros(3)\nv = a[1:]\nb = a.copy()\nb[1] = 2.0\nreturn b, v", ()),  # a view of it
        ("a = np.zeros(3)\nb = a.copy()\nb[0] = 0.0\nc = a[0:1]\nreturn c, b", ()),  # a view taken after
        ("a = np.zeros(3)\nkept = []\nkept.append(a)\nb = a.copy()\nb[0] = 1.0\nreturn kept, b", ()),  # in a list
        ("a = np.zeros(3)\nc = a\nb = a.copy()\nb[0] = 1.0\nreturn c, b", ()),  # another name
        ("a = np.zeros(3)\nkeep(a)\nb = a.copy()\nb[0] = 1.0\nreturn b", ()),  # an unknown call has it
        ("a = w\nb = a.copy()\nb[0] = 1.0\nreturn b", ()),  # a module's array
        ("a = np.zeros(3)\nc = [a]\nb = a.copy()\nb[0] = 1.0\nreturn c, b", ()),  # held by a display
        ("a = np.zeros(3)\nc = [a] * 2\nb = a.copy()\nb[0] = 1.0\nreturn c, b", ()),  # a repeated list
        ("a = np.zeros(3)\nc = []\nc += [a]\nb = a.copy()\nb[0] = 1.0\nreturn c, b", ()),  # an extended list
        ("a = np.zeros(3)\nc = [a]\nd = c.copy()\nb = a.copy()\nb[0] = 1.0\nreturn d, b", ()),  # a list's copy
        ("a = np.zeros(3)\nc = [a]\ne = c.pop()\nb = a.copy()\nb[0] = 1.0\nreturn e, b", ()),  # taken back
        ("a = np.zeros(3)\nfor t in range(3):\n    b = a.copy()\n    b[t] = 1.0\n    s = np.sum(a)\nreturn b, s", ()),
    ],
)
def test_the_copy_stays_where_something_else_sees_the_array(body: str, params: tuple[str, ...]) -> None:
    assert ".copy()" in _rewritten(body, params)


def test_a_scatter_add_into_a_copy_nothing_else_sees_adds_in_place() -> None:
    body = "a = np.ones(3) * g\nb = a.copy()\nnp.add.at(b, i, v)\nreturn b"
    assert _rewritten(body, ("g", "i", "v")) == "a = np.ones(3) * g\nb = a\nnp.add.at(b, i, v)\nreturn b"


@pytest.mark.parametrize(
    "body, params",
    [
        ("b = x.copy()\nnp.add.at(b, i, v)\nreturn b", ("x", "i", "v")),  # the caller's array
        ("a = np.zeros(3)\nb = a.copy()\nnp.add.at(b, i, v)\nreturn a, b", ("i", "v")),  # the old value read later
        ("a = np.zeros(3)\nc = a[1:]\nb = a.copy()\nnp.add.at(b, i, v)\nreturn b, c", ("i", "v")),  # a view of it
        ("np = m\na = np.zeros(3)\nb = a.copy()\nnp.add.at(b, i, v)\nreturn b", ("m", "i", "v")),  # not numpy's
    ],
)
def test_a_scatter_add_keeps_the_copy_where_something_else_sees_the_array(body: str, params: tuple[str, ...]) -> None:
    assert ".copy()" in _rewritten(body, params)


def test_an_array_carried_into_a_loop_is_copied_once_before_it() -> None:
    body = """
    g = np.broadcast_to(g, (3, 4))
    for t in range(4):
        g_1 = g
        v = g_1[:, t]
        d = d + v
        g = g_1.copy()
        g[:, t] = 0.0
    return d
    """
    out = _rewritten(body, ("g", "d"))
    assert out.count(".copy()") == 1 and out.index("g = g.copy()") < out.index("for t")
    assert "    g = g_1\n" in out



def test_the_value_returned_beside_the_gradients_is_the_forwards() -> None:
    """With --return-value the array written in place is the output itself: it must
    come back whole, and the same gradients with it."""
    forward, backward, _ = load(SEQUENCES)
    _, with_value, _ = load(SEQUENCES, return_value=True)
    args = _rnn_args(np.random.default_rng(0))
    dh = np.random.default_rng(6).standard_normal((2, 5, 4))
    value, gradients = with_value["rnn_forward_backward"](*args, dh)
    np.testing.assert_array_equal(value, forward["rnn_forward"](*args))
    for got, want in zip(gradients, backward["rnn_forward_backward"](*args, dh)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
